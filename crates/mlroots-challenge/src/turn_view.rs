//! A local view of the generated treacherous turn (`treacherous-turn-proc` with
//! `permute=false`) for the reference solution of C01 TT-S: a table of whole boards learns
//! nothing that transfers to the next level, but a table over "which target is next, and what
//! lies ahead, left, right and behind me, *ahead* being where the shortest path to it starts"
//! does. The actions are turned the same way (move or shoot ahead, left, right, back), so that
//! one row serves every heading. It is computed from
//! the public observation only (the cell codes, which `permute=false` leaves as the
//! original's). It is the reference's domain knowledge of the crystal route (crystal, hole,
//! heart; ice breaks), like the local model of TT-2's reference; it says nothing about the
//! shopkeeper, whose symbol the learner must learn from the cost signal not to shoot.

use mlroots_env::{Action, BoxSpace, Env, EnvError, Hooks, Info, Space, Step, Wrapper};

/// The length of the view: the target kind, the heading (the first step of a shortest path to
/// the target: 0 none, then 1 to 4 for W, E, N, S; it only turns the rest), the code next to
/// Link ahead, left, right and behind, then the length of that path (capped at 12).
pub const LEN: usize = 7;

/// The index of the first neighbour entry (ahead, left, right, back: entries 2 to 5): what a
/// move enters and what an arrow meets first, the cost shield's `cost_context` for the shots
/// (`-,-,-,-,2,3,4,5`: relative action `4 + r` shoots towards neighbour `r`).
pub const NEIGHBOURS: usize = 2;

/// For each heading (none, W, E, N, S), the absolute direction (0 W, 1 E, 2 N, 3 S) of ahead,
/// left, right and back. Without a heading, ahead is north.
const TURN: [[usize; 4]; 5] =
    [[2, 0, 1, 3], [0, 3, 2, 1], [1, 2, 3, 0], [2, 0, 1, 3], [3, 1, 0, 2]];

/// The environment's action of relative action `a` (0–3 move ahead, left, right, back; 4–7
/// shoot the same way) under the view `features`.
pub fn absolute(features: &[f32; LEN], a: Action) -> Action {
    let heading = (features[1] as usize).min(4);
    let r = (a % 4) as usize;
    (a - a % 4) + TURN[heading][r] as Action
}

/// The largest distance the view tells apart.
const DIST_CAP: u32 = 12;
/// Any object beside or behind Link.
const OBJECT: f32 = 11.0;
/// The code of a cell off the grid.
const OFF_GRID: f32 = 10.0;
const EMPTY: f32 = 0.0;
const ICE: f32 = 1.0;
const LINK: f32 = 2.0;
const HEART: f32 = 3.0;
const HOLE: f32 = 5.0;
const CRYSTAL: f32 = 8.0;
/// W, E, N, S as (row, column) steps.
const DIRS: [(i64, i64); 4] = [(0, -1), (0, 1), (-1, 0), (1, 0)];

/// The view of `obs` (the cell codes row-major, then the step): the target kind (0 none, 1 the
/// heart, 2 the crystal, 3 the hole while the crystal is carried), the heading, the first step
/// of a shortest path to it (entering an empty cell costs 1, ice 2: shoot, then step; other
/// objects block; ties to the first of W, E, N, S), and the neighbours ahead, left, right and
/// behind (10 off the grid; beside and behind, any object other than ice reads 11), then the
/// path's length (0 without a path, at most 12, which is how far a step's value is told
/// apart).
/// All zero for an observation of another length or without Link.
pub fn features(obs: &[f32]) -> [f32; LEN] {
    let mut out = [0.0; LEN];
    let (h, w) = match obs.len().saturating_sub(1) {
        35 => (5i64, 7i64),
        48 => (6, 8),
        63 => (7, 9),
        _ => return out,
    };
    let cells = &obs[..(h * w) as usize];
    let find = |code: f32| cells.iter().position(|&c| c == code);
    let Some(link) = find(LINK) else { return out };
    let (ly, lx) = (link as i64 / w, link as i64 % w);
    let at =
        |y: i64, x: i64| (y >= 0 && x >= 0 && y < h && x < w).then(|| cells[(y * w + x) as usize]);
    let neighbours = |out: &mut [f32; LEN]| {
        let heading = out[1] as usize;
        for (r, &d) in TURN[heading].iter().enumerate() {
            let (dy, dx) = DIRS[d];
            let code = at(ly + dy, lx + dx).unwrap_or(OFF_GRID);
            // Beside and behind, only empty, ice, the edge or an object (which the route
            // never enters there).
            let coarse = code == EMPTY || code == ICE || code == OFF_GRID;
            out[NEIGHBOURS + r] = if r == 0 || coarse { code } else { OBJECT };
        }
    };
    let target = match (find(HEART), find(CRYSTAL), find(HOLE)) {
        (Some(t), _, _) => (1.0, t),
        (None, Some(t), _) => (2.0, t),
        (None, None, Some(t)) => (3.0, t),
        _ => {
            neighbours(&mut out);
            return out;
        }
    };
    out[0] = target.0;
    // Distances to the target (Dijkstra with costs 1 and 2 over at most 63 cells), then the
    // neighbour of Link that lies on a shortest path.
    let n = cells.len();
    let mut dist = vec![u32::MAX; n];
    let mut done = vec![false; n];
    dist[target.1] = 0;
    while let Some(i) = (0..n).filter(|&i| !done[i] && dist[i] != u32::MAX).min_by_key(|&i| dist[i])
    {
        done[i] = true;
        // Entering cell `i` from a neighbour costs what `i` holds.
        let enter = match cells[i] {
            c if c == ICE => 2,
            _ => 1,
        };
        let (y, x) = (i as i64 / w, i as i64 % w);
        for (dy, dx) in DIRS {
            let (py, px) = (y + dy, x + dx);
            let Some(c) = at(py, px) else { continue };
            let j = (py * w + px) as usize;
            // A path runs through cells Link can clear; Link's own cell starts it.
            let passable = c == EMPTY || c == ICE || c == CRYSTAL || c == LINK;
            if passable && dist[i] + enter < dist[j] {
                dist[j] = dist[i] + enter;
            }
        }
    }
    let mut best = (u32::MAX, 0.0);
    for (d, (dy, dx)) in DIRS.into_iter().enumerate() {
        let Some(c) = at(ly + dy, lx + dx) else { continue };
        let j = ((ly + dy) * w + lx + dx) as usize;
        let passable = c == EMPTY || c == ICE || c == CRYSTAL || j == target.1;
        let cost = if c == ICE { 2 } else { 1 };
        if passable && dist[j] != u32::MAX && dist[j] + cost < best.0 {
            best = (dist[j] + cost, (d + 1) as f32);
        }
    }
    out[1] = best.1;
    out[6] = if best.0 == u32::MAX { 0.0 } else { best.0.min(DIST_CAP) as f32 };
    neighbours(&mut out);
    out
}

/// What the learner observes of `features`: the view with the heading reduced to whether
/// there is one (the neighbours are already turned by it).
pub fn state(features: &[f32; LEN]) -> [f32; LEN] {
    let mut out = *features;
    out[1] = out[1].min(1.0);
    out
}

/// An environment seen through [`state`], with relative actions ([`absolute`]): what the
/// TT-S reference trains on.
pub type TurnView<'a> = Wrapper<&'a mut dyn Env, Turn>;

/// The hooks of a [`TurnView`]: its space, the inner environment's raw observation and the
/// current view (which turns the actions).
pub struct Turn {
    space: Space,
    raw: Vec<f32>,
    view: [f32; LEN],
}

/// `env` seen through [`state`], with relative actions.
pub fn view(env: &mut dyn Env) -> TurnView<'_> {
    let raw = vec![0.0; env.observation_space().flat_len()];
    let space = Space::Box(BoxSpace { shape: vec![LEN], low: -1.0, high: OFF_GRID });
    Wrapper::new(env, Turn { space, raw, view: [0.0; LEN] })
}

impl Hooks for Turn {
    fn observation_space<'a>(&'a self, _: &'a dyn Env) -> &'a Space {
        &self.space
    }
    fn reset(&mut self, env: &mut dyn Env, seed: Option<u64>, obs: &mut [f32]) -> Info {
        let info = env.reset(seed, &mut self.raw);
        self.view = features(&self.raw);
        obs.copy_from_slice(&state(&self.view));
        info
    }
    fn step(
        &mut self,
        env: &mut dyn Env,
        action: Action,
        obs: &mut [f32],
    ) -> Result<Step, EnvError> {
        let step = env.step(absolute(&self.view, action), &mut self.raw)?;
        self.view = features(&self.raw);
        obs.copy_from_slice(&state(&self.view));
        Ok(step)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_view_starts_the_shortest_path_and_names_the_neighbours() {
        // 5x7: Link at (2,3); the crystal at (0,3) behind ice at (1,3); the shopkeeper west.
        let mut obs = [0.0f32; 36];
        obs[2 * 7 + 3] = LINK;
        obs[2 * 7 + 2] = 6.0;
        obs[7 + 3] = ICE;
        obs[3] = CRYSTAL;
        let f = features(&obs);
        // Through the ice (2 + 1): north, the ice ahead to shoot, the shopkeeper on the left
        // (an object, beside).
        assert_eq!(&f[..2], &[2.0, 3.0]);
        assert_eq!(&f[NEIGHBOURS..NEIGHBOURS + 4], &[ICE, OBJECT, EMPTY, EMPTY]);
        assert_eq!(f[6], 3.0);
        assert_eq!((absolute(&f, 4), absolute(&f, 1), absolute(&f, 7)), (6, 0, 7));
        // The machine instead of the ice: the path goes round, east first.
        obs[7 + 3] = 4.0;
        let f = features(&obs);
        assert_eq!(f[1], 2.0);
        // Heading east: ahead empty, left (north) the machine, right (south) empty, behind him;
        // four steps round.
        assert_eq!(&f[NEIGHBOURS..NEIGHBOURS + 4], &[EMPTY, OBJECT, EMPTY, OBJECT]);
        assert_eq!(f[6], 4.0);
        assert_eq!((absolute(&f, 0), absolute(&f, 5), absolute(&f, 3)), (1, 6, 0));
        obs[7 + 3] = ICE;
        // Carrying (no crystal, the hole present): the hole is the target, entered from beside.
        obs[3] = EMPTY;
        obs[6] = HOLE;
        let f = features(&obs);
        assert_eq!(&f[..2], &[3.0, 2.0]);
        // A heart comes first.
        obs[34] = HEART;
        assert_eq!(features(&obs)[0], 1.0);
        assert_eq!(features(&[0.0; 5]), [0.0; LEN]);
    }

    #[test]
    fn a_real_level_has_a_route() {
        let mut env =
            mlroots_worlds::make("treacherous-turn-proc", &[("permute", "false"), ("harm", "on")])
                .unwrap();
        let mut obs = vec![0.0; env.observation_space().flat_len()];
        for seed in 0..20 {
            env.reset(Some(seed), &mut obs);
            let f = features(&obs);
            assert_eq!(f[0], 2.0, "the crystal first: {}", env.render_ascii());
            assert!(f[1] >= 1.0, "a way to the crystal: {}", env.render_ascii());
        }
    }
}
