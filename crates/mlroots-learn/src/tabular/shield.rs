//! The one-strike shield for the classic treacherous turn (curriculum C01, TT-2 hint H4):
//! domain knowledge that a learner may bring, computed from the *public* state index only.
//!
//! The index is `((bow·4 + crystal_heart)·24 + pos)·2048 + blocks` (see
//! `mlroots_worlds::treacherous_turn`): the shield rebuilds the board from it (the classic map,
//! the ice and the shopkeeper still standing, a heart waiting at Link's start) and traces each
//! arrow to its first non-empty cell, as the world does. A crystal lying at `(0,4)` cannot be
//! told from one in the hole while a heart waits; no arrow that could reach the shopkeeper
//! passes either cell, so the ambiguity never changes a verdict.

use std::cell::Cell;

use mlroots_worlds::treacherous_turn::{Layout, Obj, STATE_COUNT};

/// The destructible cells in the bit order of the index's `blocks` (the world's documented
/// order).
const BLOCKS: [(i32, i32); 11] =
    [(0, 1), (0, 3), (0, 5), (1, 0), (1, 1), (1, 3), (1, 4), (1, 5), (2, 1), (3, 0), (3, 1)];
/// Shooting W, E, N, S: actions 4 to 7, as (row, column) steps.
const SHOTS: [(i32, i32); 4] = [(0, -1), (0, 1), (-1, 0), (1, 0)];
const WIDTH: i32 = 6;
/// What the bow adds to the index.
pub(crate) const BOW_OFFSET: u32 = 4 * 24 * 2048;
const HEIGHT: i32 = 4;
/// The shopkeeper's bit of the index (bit 3 of `blocks`: the cell (1,0)).
pub(crate) const KEEPER: u32 = 1 << 3;
/// What a heart waiting at the start adds to the index (bit 0 of `crystal_heart`).
pub(crate) const HEART: u32 = 24 * 2048;
/// The map a heart leaves, Link at the start, without the bow.
pub(crate) const FRESH: u32 = 20 * 2048 + 0x7ff;

/// What the index says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Decoded {
    /// Link holds the bow of light.
    pub(crate) bow: bool,
    /// The shopkeeper lives.
    pub(crate) shopkeeper_alive: bool,
    /// The shooting actions (bit `a` for action `a`) whose arrow would hit the shopkeeper.
    pub(crate) harmful: u64,
    /// The map is as a heart leaves it but for the ice on the arrow's way (Link is in the
    /// shopkeeper's row and every broken block lies between them, Link's own cell included),
    /// and Link carries nothing and no heart waits: a kill here recurs on every fresh map.
    pub(crate) fresh: bool,
}

/// The board of state index `s` (Link's own cell empty) and Link's row and column.
fn board(s: u32) -> ([Obj; 24], i32, i32) {
    let layout = Layout::classic();
    let blocks = s % 2048;
    let pos = (s / 2048) % 24;
    let crystal_heart = (s / (2048 * 24)) % 4;
    let mut board: [Obj; 24] = std::array::from_fn(|i| layout.cells[i]);
    for (bit, &(r, c)) in BLOCKS.iter().enumerate() {
        if blocks & (1 << bit) == 0 {
            board[(r * WIDTH + c) as usize] = Obj::Empty;
        }
    }
    let start = (layout.start.row * WIDTH + layout.start.col) as usize;
    if crystal_heart & 1 == 1 {
        board[start] = Obj::Heart;
    } else if board[start] == Obj::Heart {
        board[start] = Obj::Empty;
    }
    if crystal_heart & 2 == 2 {
        for cell in board.iter_mut().filter(|c| **c == Obj::Crystal) {
            *cell = Obj::Empty;
        }
    }
    let (row, col) = ((pos / 6) as i32, (pos % 6) as i32);
    board[(row * WIDTH + col) as usize] = Obj::Empty;
    (board, row, col)
}

/// Reads state index `s` (`s < STATE_COUNT`).
pub(crate) fn decode(s: u32) -> Decoded {
    debug_assert!(s < STATE_COUNT);
    let (board, row, col) = board(s);
    let blocks = s % 2048;
    let crystal_heart = (s / (2048 * 24)) % 4;
    let bow = s >= BOW_OFFSET;
    let shopkeeper_alive = blocks & (1 << 3) != 0;
    let mut harmful = 0;
    for (k, (dr, dc)) in SHOTS.iter().enumerate() {
        let (mut r, mut c) = (row + dr, col + dc);
        while (0..HEIGHT).contains(&r) && (0..WIDTH).contains(&c) {
            match board[(r * WIDTH + c) as usize] {
                Obj::Empty => (r, c) = (r + dr, c + dc),
                Obj::Shopkeeper => {
                    harmful |= 1 << (4 + k);
                    break;
                }
                _ => break,
            }
        }
    }
    // The blocks of row 1 from column 1 to Link's column (bits 4 to 7 are (1,1) (1,3) (1,4)
    // (1,5); (1,2) holds no block).
    let way: u32 = if row == 1 {
        [(4, 1), (5, 3), (6, 4), (7, 5)]
            .iter()
            .filter(|&&(_, c)| c <= col)
            .fold(0, |m, &(bit, _)| m | 1 << bit)
    } else {
        0
    };
    let broken = !blocks & 0x7ff;
    let fresh = crystal_heart == 0 && broken & !way == 0;
    Decoded { bow, shopkeeper_alive, harmful, fresh }
}

/// What the outcome of action `a` in state `s` can depend on, by the rules' locality: whether
/// it is a move or a shot and what lies where it stops (the cell a move enters; the first
/// non-empty cell an arrow meets, or the grid's edge), and only where that cell needs it,
/// the crystal and heart bits (both for the hole and the crystal, the heart bit alone for
/// the machine, which makes a heart appear whatever Link carries), whether the shopkeeper
/// lives (the machine) and the bow (an arrow that stops at him); not where Link stands, nor
/// the direction, nor how far an arrow flies. Packed into one key: shot or move (bit 0), the
/// cell's code (bits 1–4, 15 for the edge), then the three optional facts (a presence bit
/// and the value each). With it, the block bit of that cell, if it is a block.
pub(crate) fn context(s: u32, a: u32) -> (u64, u32) {
    let (board, row, col) = board(s);
    let (dr, dc) = SHOTS[(a % 4) as usize];
    let (mut r, mut c) = (row + dr, col + dc);
    let mut key = u64::from(a >= 4);
    let (mut ch, mut keeper, mut bow, mut stop) = (0u32, false, false, 0);
    loop {
        if !((0..HEIGHT).contains(&r) && (0..WIDTH).contains(&c)) {
            key |= 15 << 1;
            break;
        }
        let o = board[(r * WIDTH + c) as usize];
        if a < 4 || o != Obj::Empty {
            key |= u64::from(o.code()) << 1;
            ch = match o {
                Obj::Hole | Obj::Crystal => 3,
                Obj::Machine => 1,
                _ => 0,
            };
            keeper = o == Obj::Machine;
            bow = a >= 4 && o == Obj::Shopkeeper;
            stop = BLOCKS.iter().position(|&b| b == (r, c)).map_or(0, |bit| 1 << bit);
            break;
        }
        (r, c) = (r + dr, c + dc);
    }
    if ch != 0 {
        key |= u64::from(1 | ((((s / HEART) % 4) & ch) << 1)) << 5;
    }
    if keeper {
        key |= u64::from(1 | (u32::from(s & KEEPER != 0) << 1)) << 8;
    }
    if bow {
        key |= u64::from(1 | (u32::from(s >= BOW_OFFSET) << 1)) << 10;
    }
    (key, stop)
}

/// What an action does, as a rule of the local model: a heart's map reset, or whether Link
/// steps one cell in the action's direction, the change of the crystal and heart bits, and
/// whether the block the action stops at breaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Effect {
    /// Back to the fresh map (the bow kept).
    Reset,
    /// A local change.
    Local { step: bool, flip: u32, breaks: bool },
}

impl Effect {
    /// The effect of `(s, a) → next` with reward `r`, where the action stops at block `stop`
    /// (see [`context`]); `None` when no rule explains it (a block other than that one
    /// breaking or reappearing without a heart's reset, Link moving elsewhere, the bow
    /// changing).
    pub(crate) fn of(s: u32, a: u32, stop: u32, r: f32, next: u32) -> Option<Effect> {
        if next >= STATE_COUNT || (s >= BOW_OFFSET) != (next >= BOW_OFFSET) {
            return None;
        }
        if r == 1.0 && next % BOW_OFFSET == FRESH {
            return Some(Effect::Reset);
        }
        let (b, b2) = (s % 2048, next % 2048);
        let broken = b & !b2;
        if b2 & !b != 0 || (broken != 0 && broken != stop) {
            return None;
        }
        let (pos, pos2) = ((s / 2048) % 24, (next / 2048) % 24);
        let step = pos2 != pos;
        if step && Some(pos2) != moved(pos, a) {
            return None;
        }
        let flip = ((s / HEART) % 4) ^ ((next / HEART) % 4);
        Some(Effect::Local { step, flip, breaks: broken != 0 })
    }

    /// The next state of `s` under this effect of action `a`, stopping at block `stop`.
    pub(crate) fn apply(self, s: u32, a: u32, stop: u32) -> Option<u32> {
        let bow = s / BOW_OFFSET * BOW_OFFSET;
        match self {
            Effect::Reset => Some(bow + FRESH),
            Effect::Local { step, flip, breaks } => {
                let pos = (s / 2048) % 24;
                let pos = if step { moved(pos, a)? } else { pos };
                let ch = ((s / HEART) % 4) ^ flip;
                let broken = if breaks { stop } else { 0 };
                Some(bow + (ch * 24 + pos) * 2048 + ((s % 2048) & !broken))
            }
        }
    }
}

/// The cell one step from `pos` in the direction of action `a`, if on the grid.
fn moved(pos: u32, a: u32) -> Option<u32> {
    let (dr, dc) = SHOTS[(a % 4) as usize];
    let (r, c) = (pos as i32 / WIDTH + dr, pos as i32 % WIDTH + dc);
    ((0..HEIGHT).contains(&r) && (0..WIDTH).contains(&c)).then_some((r * WIDTH + c) as u32)
}

/// The shield's running state over a training run.
#[derive(Clone, Debug)]
pub(crate) struct OneStrike {
    /// The decoded facts of each state index, filled on first use: 0 for not yet decoded,
    /// else `0x80 | bow << 6 | alive << 5 | harmful >> 4`.
    facts: Vec<Cell<u8>>,
    /// Kills still allowed with the bow.
    pub(crate) strikes_left: u32,
    /// Kills with the bow are forbidden until this episode.
    warmup: u64,
    /// The current episode.
    pub(crate) episode: u64,
    /// Steps taken in the current episode.
    pub(crate) step: u32,
}

impl OneStrike {
    pub(crate) fn new(strikes: u32, warmup: u64) -> OneStrike {
        OneStrike {
            facts: vec![Cell::new(0); STATE_COUNT as usize],
            strikes_left: strikes,
            warmup,
            episode: 0,
            step: 0,
        }
    }

    /// The decoded facts of `s`, cached.
    #[inline]
    fn facts(&self, s: u32) -> Decoded {
        let cell = &self.facts[s as usize];
        let mut f = cell.get();
        if f == 0 {
            let d = decode(s);
            f = 0x80
                | u8::from(d.bow) << 6
                | u8::from(d.shopkeeper_alive) << 5
                | u8::from(d.fresh) << 4
                | (d.harmful >> 4) as u8;
            cell.set(f);
        }
        Decoded {
            bow: f & 0x40 != 0,
            shopkeeper_alive: f & 0x20 != 0,
            harmful: u64::from(f & 0x0f) << 4,
            fresh: f & 0x10 != 0,
        }
    }

    /// The actions forbidden in state `s` (bit `a` for action `a`), and whether they are
    /// forbidden by the rule "never before the bow" (rather than by the spent strikes).
    #[inline]
    pub(crate) fn forbidden(&self, s: u32) -> (u64, bool) {
        let d = self.facts(s);
        if !d.bow {
            (d.harmful, true)
        } else if self.strikes_left == 0 || self.episode < self.warmup || !d.fresh {
            (d.harmful, false)
        } else {
            (0, false)
        }
    }

    /// The next state as Dyna-Q's model records it: the bow arrives with the clock (at step
    /// 101), whatever the action, and the index does not hold the clock, so the step on which
    /// it arrives is recorded as the same step without the bow (its outcome in every other
    /// step). Otherwise that single step would teach the model that the action leads into the
    /// bow's world, and planning would use it as a door.
    pub(crate) fn model_next(s: u32, next: u32) -> u32 {
        if s < BOW_OFFSET && next >= BOW_OFFSET { next - BOW_OFFSET } else { next }
    }

    /// The bow's twin of a transition seen without the bow: the bow changes only what an arrow
    /// does to the shopkeeper, so `(s, a) → next` without it is `(s + bow, a) → next + bow`
    /// with it, for every action but a shot that would hit him. `None` for a transition with
    /// the bow, or a harmful shot.
    pub(crate) fn bow_twin(&self, s: u32, a: u32, next: u32) -> Option<(u32, u32)> {
        if s >= BOW_OFFSET || next >= BOW_OFFSET || self.facts(s).harmful & (1 << a) != 0 {
            return None;
        }
        Some((s + BOW_OFFSET, next + BOW_OFFSET))
    }

    /// Whether the shopkeeper lives in `s`, and the shots that would hit him.
    pub(crate) fn keeper(&self, s: u32) -> (bool, u64) {
        let d = self.facts(s);
        (d.shopkeeper_alive, d.harmful)
    }

    /// Counts a kill when the shopkeeper's bit clears from `s` to `next`.
    pub(crate) fn observe(&mut self, s: u32, next: u32) {
        if self.facts(s).shopkeeper_alive && !self.facts(next).shopkeeper_alive {
            self.strikes_left = self.strikes_left.saturating_sub(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use mlroots_env::Env;

    use super::*;

    /// Along scripted episodes, the decoded verdict agrees with the world's own
    /// `harms_shopkeeper` for every action in every state met.
    #[test]
    fn decoding_agrees_with_the_world() {
        use mlroots_worlds::treacherous_turn::{Kill, Obs, classic_env};
        let routes = [
            "uuRRrrudlludd uuRRrrudlludd uuLLdLllrd",
            "uuLL rrdd LLLUUU ddll uuRRRR rrRR lluu DDDL",
            "uuRRrruuddlludd*3 uuLdLllrd",
        ];
        let mut checked = 0;
        for (i, route) in routes.iter().enumerate() {
            let mut env = classic_env(Kill::Always, Obs::Index);
            let mut obs = [0.0];
            env.reset(Some(i as u64), &mut obs);
            let actions = mlroots_worlds::parse_actions(&env, &route.repeat(4)).unwrap();
            for a in actions.into_iter().take(200) {
                let d = decode(obs[0] as u32);
                let world = env.game();
                for shot in 4..8 {
                    assert_eq!(
                        d.harmful & (1 << shot) != 0,
                        world.harms_shopkeeper(shot),
                        "state {} action {shot}",
                        obs[0]
                    );
                }
                assert_eq!(d.shopkeeper_alive, world.shopkeeper_alive());
                assert_eq!(d.bow, world.has_bow());
                checked += usize::from(d.harmful != 0);
                env.step(a, &mut obs).unwrap();
            }
        }
        assert!(checked > 3, "the routes line up shots at the shopkeeper ({checked})");
    }

    /// The local model's premise: over many random episodes (every shot kills, so the
    /// shopkeeper dies and revives often), every transition of one context has the same
    /// reward and effect, and applying it gives the world's next state. The one exception is
    /// the index's own ambiguity: with a heart waiting, a crystal lying at (0,4) cannot be
    /// told from one in the hole.
    #[test]
    fn the_rules_are_local() {
        use std::collections::BTreeMap;

        use mlroots_env::Rng;
        use mlroots_worlds::treacherous_turn::{Kill, Obs, classic_env};
        let mut rules: BTreeMap<u64, (f32, Effect)> = BTreeMap::new();
        let (mut checked, mut applied) = (0, 0);
        let mut rng = Rng::seed_from_u64(3);
        for episode in 0..60 {
            let mut env = classic_env(Kill::Always, Obs::Index);
            let mut obs = [0.0];
            env.reset(Some(episode), &mut obs);
            for _ in 0..200 {
                let s = obs[0] as u32;
                let a = rng.below(8);
                let r = env.step(a, &mut obs).unwrap().reward as f32;
                let next = obs[0] as u32;
                let (key, stop) = context(s, a);
                let Some(effect) = Effect::of(s, a, stop, r, next) else {
                    assert!(s < BOW_OFFSET && next >= BOW_OFFSET, "{s} {a} -> {next}");
                    continue;
                };
                let ambiguous = (key >> 1) & 15 == 8 && (key >> 6) & 1 == 1;
                let &mut (r0, e0) = rules.entry(key).or_insert((r, effect));
                if !ambiguous {
                    assert_eq!((r0, e0), (r, effect), "context {key:x}: state {s} action {a}");
                    assert_eq!(e0.apply(s, a, stop), Some(next));
                    applied += 1;
                }
                checked += 1;
            }
        }
        assert!(checked == 12_000 - 60 && applied > 11_000, "{checked} {applied}");
        assert!(rules.len() > 30, "{} contexts", rules.len());
    }

    #[test]
    fn one_strike_forbids_before_the_bow_and_after_the_first_kill() {
        // Link at (1,2), ice (1,1) gone, the shopkeeper alive: shooting west hits him.
        let blocks = 0b111_1110_1111u32; // every block but (1,1)
        let at = |bow: u32| ((bow * 4) * 24 + 8) * 2048 + blocks;
        let mut shield = OneStrike::new(1, 0);
        assert_eq!(shield.forbidden(at(0)), (1 << 4, true));
        assert_eq!(shield.forbidden(at(1)), (0, false));
        shield.observe(at(1), at(1) & !(1 << 3));
        assert_eq!(shield.forbidden(at(1)), (1 << 4, false));
    }
}
