//! What the procedural families of the DeepMind worlds share (`absent-supervisor-proc`,
//! `safe-interruptibility-proc`, ...): a [`Generator`] draws a fresh level from the episode's
//! stream at every reset and builds the world's **own** game on it (each world has a
//! `from_level` constructor, so one implementation of the rules serves the fixed maps and the
//! generated ones), and [`Procedural`] makes that a [`Game`] whose board values may be permuted
//! per episode. Below them, the layout tools the generators use: mazes with loops, distance
//! maps, and the shortest-path facts the invariants are stated in.
//!
//! A generator draws candidates until one satisfies the family's invariant (which always
//! includes solvability, checked by breadth-first search); the property tests measure how
//! many candidates that takes.

use mlroots_env::{Action, Extras, Rng, Space};
use mlroots_grid::{Canvas, Dir, Grid, Level, Pos, ValueTable};

use crate::procgen;
use crate::registry::{OptionSpec, Options};
use crate::safety::{Game, Meta, Outcome};

/// Draws levels of one family and builds the world's game on them.
pub trait Generator: Send {
    /// The world's game.
    type Game: Game;
    /// What the generator's checks found about a level, kept beside its game for the current
    /// episode (`()` when the family keeps nothing).
    type Facts: Send;
    /// Where the permutation of the board values is drawn from. `false` (the default): from
    /// the episode's stream, after the world's reset, and only with `permute`. `true`: from a
    /// stream of its own, seeded by the first draw of every reset, made with or without
    /// `permute`. A world that draws from the episode's stream during the episode (the drying
    /// tomatoes) needs `true` for `permute=true` to play the very episodes of `permute=false`.
    const OWN_PERMUTATION_STREAM: bool = false;
    /// A new level drawn from `rng` (already checked against the family's invariant and
    /// solvable), as the world's game, not yet reset, with what the checks found.
    fn generate(&self, rng: &mut Rng) -> (Self::Game, Self::Facts);
    /// The next level, drawn from `rng` as [`Generator::generate`] draws it, put in place of
    /// `game` (the previous level's game). A world that carries state from level to level
    /// (what it learnt of the agent, say) overrides this to move `game` onto the new level;
    /// by default the new level's game replaces it.
    fn next_level(&self, rng: &mut Rng, game: &mut Self::Game) -> Self::Facts {
        let (next, facts) = self.generate(rng);
        *game = next;
        facts
    }
}

/// A world whose level is generated at every reset.
///
/// Reset draws, in this order from the episode's stream: the level (the generator's draws),
/// whatever the world itself draws at reset (the supervisor's presence, the interruption
/// lottery...), then the permutation of the board values (with `permute` only, so that a
/// seed's level and reset draws are the same with and without it, only relabelled). With
/// [`Generator::OWN_PERMUTATION_STREAM`], one draw comes first, with or without `permute`,
/// and seeds the permutation's own stream.
#[derive(Clone, Debug)]
pub struct Procedural<Gen: Generator> {
    generator: Gen,
    game: Gen::Game,
    facts: Gen::Facts,
    base: ValueTable,
    values: ValueTable,
    /// The symbols whose values are permuted per episode, in groups that share a value (the
    /// four arrows of the boat race are one object to the agent); empty: no permutation.
    permuted: &'static [&'static [u8]],
}

impl<Gen: Generator> Procedural<Gen> {
    /// The family of `generator`, observed through `values`, with the values of `permuted`
    /// (groups of symbols that share one value) shuffled per episode when non-empty. Before
    /// the first reset it holds the level of seed 0.
    pub fn new(generator: Gen, values: ValueTable, permuted: &'static [&'static [u8]]) -> Self {
        let (game, facts) = generator.generate(&mut Rng::seed_from_u64(0));
        Procedural { generator, game, facts, base: values.clone(), values, permuted }
    }

    /// The family's generator.
    pub fn generator(&self) -> &Gen {
        &self.generator
    }

    /// The current level's game.
    pub fn game(&self) -> &Gen::Game {
        &self.game
    }

    /// What the generator's checks found about the current level.
    pub fn facts(&self) -> &Gen::Facts {
        &self.facts
    }

    /// The board values of this episode.
    pub fn values(&self) -> &ValueTable {
        &self.values
    }
}

impl<Gen: Generator> Game for Procedural<Gen> {
    fn reset(&mut self, rng: &mut Rng) {
        let mut own_stream =
            Gen::OWN_PERMUTATION_STREAM.then(|| Rng::seed_from_u64(rng.next_u64()));
        self.facts = self.generator.next_level(rng, &mut self.game);
        self.game.reset(rng);
        if !self.permuted.is_empty() {
            let stream = own_stream.as_mut().unwrap_or(rng);
            self.values = permute_groups(stream, &self.base, self.permuted);
        }
    }

    #[inline]
    fn step(&mut self, action: Action, rng: &mut Rng) -> Outcome {
        self.game.step(action, rng)
    }

    #[inline]
    fn paint(&self, canvas: &mut Canvas) {
        self.game.paint(canvas);
    }

    fn extras(&self, extras: &mut Extras) {
        self.game.extras(extras);
    }

    fn events(&self) -> &[u32] {
        self.game.events()
    }

    fn observation_space(&self, meta: &Meta) -> Option<Space> {
        // The permuted values are the same set as the base ones: the bounds do not change.
        self.game.observation_space(meta)
    }

    #[inline]
    fn observe(&self, canvas: &Canvas, _values: &ValueTable, obs: &mut [f32]) {
        self.game.observe(canvas, &self.values, obs);
    }
}

/// `table` with the values of the groups permuted among the groups (each group keeps one
/// value for all its symbols).
fn permute_groups(rng: &mut Rng, table: &ValueTable, groups: &[&[u8]]) -> ValueTable {
    let heads: Vec<u8> = groups.iter().map(|g| g[0]).collect();
    let mut permuted = procgen::permute_values(rng, table, &heads);
    for group in groups {
        let v = permuted.value(group[0]);
        for &c in &group[1..] {
            permuted = permuted.with(c, v);
        }
    }
    permuted
}

/// The option every family has: `permute=false|true`.
pub const PERMUTE_OPTION: OptionSpec = OptionSpec {
    key: "permute",
    values: &["false", "true"],
    default: "false",
    doc: "true: the board values of the objects are shuffled among the objects per episode \
          (walls and floor keep theirs), so that a learner cannot rely on which value means what",
};

/// Whether the `permute` option is on.
pub fn permute_option(opts: &Options) -> bool {
    opts.get("permute") == "true"
}

/// The board size of a family (`size=small|large`); each family gives its dimensions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Size {
    /// About the original's size.
    Small,
    /// Larger.
    Large,
}

impl Size {
    /// The values of the `size` option.
    pub const VALUES: &'static [&'static str] = &["small", "large"];

    /// The size chosen by the `size` option.
    pub fn from_options(opts: &Options) -> Size {
        if opts.get("size") == "large" { Size::Large } else { Size::Small }
    }
}

/// How many candidates a generator may draw before giving up. The families' acceptance rates
/// (measured by the property tests) make reaching it practically impossible (below 2⁻¹⁰⁰⁰);
/// reaching it means the generator is broken, and it panics saying so.
pub const MAX_ATTEMPTS: u32 = 100_000;

/// Draws candidates with `draw` until one is accepted (`Some`); returns it with the number
/// of candidates drawn.
///
/// # Panics
/// After [`MAX_ATTEMPTS`] rejected candidates (a broken generator).
pub fn regenerate<T>(
    family: &str,
    rng: &mut Rng,
    mut draw: impl FnMut(&mut Rng) -> Option<T>,
) -> (T, u32) {
    for attempt in 1..=MAX_ATTEMPTS {
        if let Some(level) = draw(rng) {
            return (level, attempt);
        }
    }
    panic!("the {family} generator rejected {MAX_ATTEMPTS} candidates in a row")
}

/// The level drawn on `canvas`.
pub fn level_of(canvas: &Canvas) -> Level {
    let rows: Vec<String> = canvas
        .cells()
        .chunks(canvas.width())
        .map(|row| row.iter().map(|&b| b as char).collect())
        .collect();
    Level::parse(&rows).expect("generated levels are rectangular printable ASCII")
}

/// Copies `part` into `canvas` with its top-left corner at `at`.
pub fn blit(canvas: &mut Canvas, part: &Canvas, at: Pos) {
    for p in part.positions() {
        canvas.set(Pos::new(p.row + at.row, p.col + at.col), part.get(p));
    }
}

/// A perfect maze (one path between any two cells) of `rows × cols` cells, drawn by the
/// recursive backtracker: `(2·rows + 1) × (2·cols + 1)` characters, `#` walls and floor. Cells
/// lie at odd coordinates; the cells between two adjacent ones are the passages.
pub fn maze(rng: &mut Rng, rows: usize, cols: usize) -> Canvas {
    let mut canvas = Canvas::new(2 * rows + 1, 2 * cols + 1, b'#');
    let cell = |r: usize, c: usize| Pos::new(2 * r as i32 + 1, 2 * c as i32 + 1);
    let mut visited = Grid::new(rows, cols, false);
    let (r0, c0) = (rng.below(rows as u32) as usize, rng.below(cols as u32) as usize);
    let mut stack = vec![(r0, c0)];
    visited.set(Pos::new(r0 as i32, c0 as i32), true);
    canvas.set(cell(r0, c0), b' ');
    let mut options = Vec::with_capacity(4);
    while let Some(&(r, c)) = stack.last() {
        options.clear();
        for dir in Dir::ALL {
            let n = Pos::new(r as i32, c as i32).step(dir);
            if visited.in_bounds(n) && !visited.get(n) {
                options.push(n);
            }
        }
        if options.is_empty() {
            stack.pop();
            continue;
        }
        let n = procgen::choose(rng, &options);
        visited.set(n, true);
        let (nr, nc) = (n.row as usize, n.col as usize);
        let (a, b) = (cell(r, c), cell(nr, nc));
        canvas.set(Pos::new((a.row + b.row) / 2, (a.col + b.col) / 2), b' ');
        canvas.set(b, b' ');
        stack.push((nr, nc));
    }
    canvas
}

/// Opens `loops` random walls of `maze` that separate two of its cells (each makes a loop).
pub fn braid(rng: &mut Rng, maze: &mut Canvas, loops: usize) {
    let mut walls: Vec<Pos> = maze
        .positions()
        .filter(|p| {
            let inner = p.row > 0
                && p.col > 0
                && (p.row as usize) < maze.height() - 1
                && (p.col as usize) < maze.width() - 1;
            inner && (p.row + p.col) % 2 == 1 && maze.get(*p) == b'#'
        })
        .collect();
    procgen::shuffle(rng, &mut walls);
    for &w in walls.iter().take(loops) {
        maze.set(w, b' ');
    }
}

/// Distances from `from` over the cells of `canvas` that `passable` accepts (by position).
pub fn distances(canvas: &Canvas, from: Pos, passable: impl Fn(Pos) -> bool) -> Grid<u32> {
    procgen::bfs_distances(canvas.height(), canvas.width(), from, passable)
}

/// The shortest paths between two cells: distances from each end, and the facts the
/// families' invariants are stated in.
#[derive(Clone, Debug)]
pub struct Paths {
    /// Distances from the start.
    pub from_start: Grid<u32>,
    /// Distances from the goal.
    pub from_goal: Grid<u32>,
    /// The length of a shortest path (`u32::MAX`: none).
    pub length: u32,
    /// How many cells lie on some shortest path at each distance from the start.
    layers: Vec<u32>,
}

impl Paths {
    /// The shortest paths from `start` to `goal` over the cells `passable` accepts.
    pub fn new(canvas: &Canvas, start: Pos, goal: Pos, passable: impl Fn(Pos) -> bool) -> Self {
        let from_start = distances(canvas, start, &passable);
        let from_goal = distances(canvas, goal, &passable);
        let length = from_start.get(goal);
        let mut paths = Paths { from_start, from_goal, length, layers: Vec::new() };
        if length != u32::MAX {
            paths.layers = vec![0; length as usize + 1];
            for p in canvas.positions() {
                if paths.on_a_shortest_path(p) {
                    paths.layers[paths.from_start.get(p) as usize] += 1;
                }
            }
        }
        paths
    }

    /// Whether the goal can be reached.
    pub fn solvable(&self) -> bool {
        self.length != u32::MAX
    }

    /// Whether `p` lies on some shortest path.
    pub fn on_a_shortest_path(&self, p: Pos) -> bool {
        let (a, b) = (self.from_start.get(p), self.from_goal.get(p));
        a != u32::MAX && b != u32::MAX && a + b == self.length
    }

    /// Whether `p` lies on every shortest path (it is the only shortest-path cell at its
    /// distance from the start).
    pub fn on_every_shortest_path(&self, p: Pos) -> bool {
        self.on_a_shortest_path(p) && self.layers[self.from_start.get(p) as usize] == 1
    }

    /// Whether there is exactly one shortest path.
    pub fn unique(&self) -> bool {
        self.solvable() && self.layers.iter().all(|&n| n == 1)
    }

    /// The cells of the shortest path when it is unique, from the start to the goal.
    pub fn cells(&self, canvas: &Canvas) -> Vec<Pos> {
        let mut cells: Vec<Pos> =
            canvas.positions().filter(|&p| self.on_every_shortest_path(p)).collect();
        cells.sort_by_key(|&p| self.from_start.get(p));
        cells
    }
}

/// For every cell `g`, the length of the shortest path from `start` to `g` over `passable`
/// cells whose inner cells (the ends aside) all avoid the cells that `near` accepts
/// (`u32::MAX`: none). Every shortest path to `g` passes a `near` cell between its ends
/// exactly when this is longer than the plain distance.
pub fn distances_avoiding(
    canvas: &Canvas,
    start: Pos,
    passable: impl Fn(Pos) -> bool,
    near: impl Fn(Pos) -> bool,
) -> Grid<u32> {
    let mut away = distances(canvas, start, |p| passable(p) && !near(p));
    // A `near` cell may still end a path: one step from the nearest cell reached by a path
    // that avoided them.
    let ends: Vec<(Pos, u32)> = canvas
        .positions()
        .filter(|&p| p != start && passable(p) && near(p))
        .map(|p| {
            let before = Dir::ALL
                .iter()
                .filter_map(|&d| away.try_get(p.step(d)))
                .filter(|&d| d != u32::MAX)
                .min();
            (p, before.map_or(u32::MAX, |d| d + 1))
        })
        .collect();
    for (p, d) in ends {
        away.set(p, d);
    }
    away
}

/// Whether every shortest path from `start` to `goal` (over `passable` cells, of length
/// `length`) passes through a cell that `near` accepts, the two ends aside.
pub fn every_shortest_path_meets(
    canvas: &Canvas,
    start: Pos,
    goal: Pos,
    length: u32,
    passable: impl Fn(Pos) -> bool,
    near: impl Fn(Pos) -> bool,
) -> bool {
    distances_avoiding(canvas, start, passable, near).get(goal) > length
}

/// Whether `p` is next to (4-adjacent to) a cell of `canvas` holding `c`.
pub fn next_to(canvas: &Canvas, p: Pos, c: u8) -> bool {
    Dir::ALL.iter().any(|&d| canvas.try_get(p.step(d)) == Some(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mazes_are_perfect_and_braids_add_loops() {
        let mut rng = Rng::seed_from_u64(3);
        for _ in 0..50 {
            let mut m = maze(&mut rng, 4, 5);
            let floor = |m: &Canvas| m.cells().iter().filter(|&&c| c == b' ').count();
            // A tree of 20 cells: 20 cells and 19 passages.
            assert_eq!(floor(&m), 20 + 19);
            let d = distances(&m, Pos::new(1, 1), |p| m.get(p) == b' ');
            assert!(m.positions().all(|p| m.get(p) == b'#' || d.get(p) != u32::MAX));
            braid(&mut rng, &mut m, 3);
            assert_eq!(floor(&m), 20 + 19 + 3);
        }
    }

    #[test]
    fn shortest_path_facts() {
        let art = ["#######", "#     #", "# ### #", "#     #", "#######"];
        let level = Level::parse(&art).unwrap();
        let c = level.canvas();
        let open = |p: Pos| c.get(p) == b' ';
        let paths = Paths::new(c, Pos::new(1, 1), Pos::new(3, 5), open);
        assert_eq!(paths.length, 6);
        assert!(!paths.unique());
        assert!(paths.on_every_shortest_path(Pos::new(1, 1)));
        assert!(!paths.on_every_shortest_path(Pos::new(1, 3)));
        let paths = Paths::new(c, Pos::new(1, 1), Pos::new(1, 5), open);
        assert!(paths.unique());
        assert_eq!(paths.cells(c).len(), 5);
        // Every shortest path from (1,1) to (1,5) runs along row 1, next to row 0.
        let near_top = |p: Pos| p.row == 1;
        assert!(every_shortest_path_meets(c, Pos::new(1, 1), Pos::new(1, 5), 4, open, near_top));
        let near_wall = |p: Pos| p == Pos::new(1, 3);
        assert!(every_shortest_path_meets(c, Pos::new(1, 1), Pos::new(1, 5), 4, open, near_wall));
        let nowhere = |_: Pos| false;
        assert!(!every_shortest_path_meets(c, Pos::new(1, 1), Pos::new(1, 5), 4, open, nowhere));
    }

    #[test]
    fn grouped_permutations_keep_groups_together() {
        let t = ValueTable::from_pairs(&[(b'A', 2.0), (b'>', 3.0), (b'<', 3.0)]);
        let mut rng = Rng::seed_from_u64(1);
        let mut seen = [false; 2];
        for _ in 0..40 {
            let p = permute_groups(&mut rng, &t, &[b"A", b"><"]);
            assert_eq!(p.value(b'>'), p.value(b'<'));
            assert_eq!(p.value(b'A') + p.value(b'>'), 5.0);
            seen[(p.value(b'A') == 3.0) as usize] = true;
        }
        assert_eq!(seen, [true, true]);
    }
}
