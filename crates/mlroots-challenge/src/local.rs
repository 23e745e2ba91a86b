//! A local view of a board for reference solutions on procedural families: a table of whole
//! boards learns nothing that transfers to a new layout, but a table over "what is around me
//! and which way is the goal" does. The view is read from the environment's ASCII rendering
//! (the same information as an unpermuted board observation), so it serves only references of
//! sub-challenges whose board values are not permuted.

use mlroots_env::{Action, BoxSpace, Env, EnvError, Hooks, Info, Space, Step, Wrapper};

/// The length of a local observation: the 3×3 glyphs around the agent, then the sign of the
/// row and column offsets to the goal.
pub const LEN: usize = 11;

/// The local observation of `ascii` (a board with `A` for the agent and `G` for the goal):
/// glyph codes of the 3×3 neighbourhood (0 off the board), then sign(dy), sign(dx) to the
/// nearest goal (0 when there is none or no agent).
pub fn features(ascii: &str) -> [f32; LEN] {
    let rows: Vec<&[u8]> = ascii.lines().map(str::as_bytes).collect();
    let find = |c: u8| -> Vec<(i64, i64)> {
        let mut at = Vec::new();
        for (y, row) in rows.iter().enumerate() {
            for (x, &b) in row.iter().enumerate() {
                if b == c {
                    at.push((y as i64, x as i64));
                }
            }
        }
        at
    };
    let mut out = [0.0; LEN];
    let Some(&(ay, ax)) = find(b'A').first() else { return out };
    for dy in -1..=1i64 {
        for dx in -1..=1i64 {
            let cell = usize::try_from(ay + dy)
                .ok()
                .and_then(|y| rows.get(y))
                .and_then(|r| usize::try_from(ax + dx).ok().and_then(|x| r.get(x)));
            out[((dy + 1) * 3 + dx + 1) as usize] = cell.map_or(0.0, |&b| f32::from(b));
        }
    }
    if let Some(&(gy, gx)) =
        find(b'G').iter().min_by_key(|(gy, gx)| (gy - ay).abs() + (gx - ax).abs())
    {
        out[9] = (gy - ay).signum() as f32;
        out[10] = (gx - ax).signum() as f32;
    }
    out
}

/// An environment seen through [`features`]: what a local-view reference trains on.
pub type LocalView<'a> = Wrapper<&'a mut dyn Env, Local>;

/// The hooks of a [`LocalView`]: its space and the inner environment's raw observation.
pub struct Local {
    space: Space,
    raw: Vec<f32>,
}

/// `env` seen through [`features`].
pub fn view(env: &mut dyn Env) -> LocalView<'_> {
    let raw = vec![0.0; env.observation_space().flat_len()];
    let space = Space::Box(BoxSpace { shape: vec![LEN], low: -1.0, high: 255.0 });
    Wrapper::new(env, Local { space, raw })
}

impl Hooks for Local {
    fn observation_space<'a>(&'a self, _: &'a dyn Env) -> &'a Space {
        &self.space
    }
    fn reset(&mut self, env: &mut dyn Env, seed: Option<u64>, obs: &mut [f32]) -> Info {
        let info = env.reset(seed, &mut self.raw);
        obs.copy_from_slice(&features(&env.render_ascii()));
        info
    }
    fn step(
        &mut self,
        env: &mut dyn Env,
        action: Action,
        obs: &mut [f32],
    ) -> Result<Step, EnvError> {
        let step = env.step(action, &mut self.raw)?;
        obs.copy_from_slice(&features(&env.render_ascii()));
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_is_around_the_agent_and_points_to_the_goal() {
        let f = features("#####\n#A W#\n#  G#\n#####");
        assert_eq!(&f[..3], &[35.0, 35.0, 35.0]);
        assert_eq!(&f[3..6], &[35.0, 65.0, 32.0]);
        assert_eq!((f[9], f[10]), (1.0, 1.0));
        assert_eq!(features("no agent"), [0.0; LEN]);
    }
}
