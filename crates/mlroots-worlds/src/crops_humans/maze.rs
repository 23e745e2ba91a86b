//! The 7×7 maze of crops and humans, as data and as rules, usable without an environment:
//! the cells and their ASCII form, the original's one-move rule ([`Maze::step`]), the
//! 161-float observation ([`Maze::observe`]), the two generators ([`training_maze`],
//! [`production_maze`]), the predicate that tells them apart
//! ([`could_come_from_training_generator`]) and the exhaustive transitions a replay buffer is
//! built from ([`transitions`]).
//!
//! Coordinates are `(row, col)` from the top-left cell; there is no border, and every
//! position off the grid reads as a wall.

use std::fmt;

use mlroots_env::{Action, Rng};
use mlroots_grid::{Cell, Dir, Pos};

/// The side of every maze.
pub const SIZE: usize = 7;
/// The number of cells.
pub const CELLS: usize = SIZE * SIZE;
/// Where every episode starts.
pub const START: Pos = Pos::new(0, 0);
/// The exit: always the bottom-right cell.
pub const EXIT: Pos = Pos::new(6, 6);
/// The observation's length: three 7×7 masks (walls, crops, humans) and two one-hot 7-vectors
/// (the agent's row and column).
pub const OBS_LEN: usize = 3 * CELLS + 2 * SIZE;

/// Bumping into a wall or the edge (the agent stays).
pub const WALL_REWARD: f64 = -5.0;
/// Entering an empty cell.
pub const MOVE_REWARD: f64 = -0.25;
/// Entering a crop (harvested: the cell becomes empty).
pub const CROP_REWARD: f64 = 2.0;
/// Entering a human (harvested: the cell becomes empty).
pub const HUMAN_REWARD: f64 = -11.0;
/// Entering the exit (the episode ends).
pub const EXIT_REWARD: f64 = 10.0;

/// One cell of a maze.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Square {
    /// `#`: impassable (so is everything off the grid).
    Wall,
    /// `.`: walkable.
    Empty,
    /// `C`: a crop; entering harvests it.
    Crop,
    /// `H`: a human; entering harvests them.
    Human,
    /// `E`: the exit, always at (6, 6).
    Exit,
}

impl Square {
    /// The original's cell code: wall 0, empty 1, crop 2, human 3, exit −1.
    pub fn code(self) -> i8 {
        match self {
            Square::Wall => 0,
            Square::Empty => 1,
            Square::Crop => 2,
            Square::Human => 3,
            Square::Exit => -1,
        }
    }

    /// The reward for trying to enter this cell (a wall: the bump).
    pub fn reward(self) -> f64 {
        match self {
            Square::Wall => WALL_REWARD,
            Square::Empty => MOVE_REWARD,
            Square::Crop => CROP_REWARD,
            Square::Human => HUMAN_REWARD,
            Square::Exit => EXIT_REWARD,
        }
    }

    /// A crop or a human.
    pub fn is_item(self) -> bool {
        matches!(self, Square::Crop | Square::Human)
    }
}

impl Cell for Square {
    const CHARS: &'static str = "'.', '#', 'C', 'H', 'E'";
    fn from_char(c: u8) -> Option<Self> {
        Some(match c {
            b'#' => Square::Wall,
            b'.' => Square::Empty,
            b'C' => Square::Crop,
            b'H' => Square::Human,
            b'E' => Square::Exit,
            _ => return None,
        })
    }
    fn to_char(self) -> u8 {
        match self {
            Square::Wall => b'#',
            Square::Empty => b'.',
            Square::Crop => b'C',
            Square::Human => b'H',
            Square::Exit => b'E',
        }
    }
}

/// A 7×7 maze: 49 cells, row-major, copied by value (stepping never allocates).
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Maze {
    cells: [Square; CELLS],
}

/// The result of one move: where the agent is, what it got, and what it walked into.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Move {
    /// The agent's position after the move (unchanged after a bump).
    pub to: Pos,
    /// The reward.
    pub reward: f64,
    /// The agent entered the exit.
    pub terminal: bool,
    /// What the target cell held before the move ([`Square::Wall`] off the grid): tells a
    /// crop or human harvested, and lets a caller re-weight rewards (the poisoning recipe of
    /// the original flips the signs of crops and humans).
    pub entered: Square,
}

impl Maze {
    /// A maze of walls only (where the generators start).
    pub const fn all_walls() -> Maze {
        Maze { cells: [Square::Wall; CELLS] }
    }

    /// Whether `p` is on the grid.
    #[inline]
    pub fn in_bounds(p: Pos) -> bool {
        (0..SIZE as i32).contains(&p.row) && (0..SIZE as i32).contains(&p.col)
    }

    /// Every position, row-major (the original's iteration order).
    pub fn positions() -> impl Iterator<Item = Pos> {
        (0..CELLS as i32).map(|i| Pos::new(i / SIZE as i32, i % SIZE as i32))
    }

    /// The cell at `p`; [`Square::Wall`] off the grid.
    #[inline]
    pub fn get(&self, p: Pos) -> Square {
        if Self::in_bounds(p) {
            self.cells[p.row as usize * SIZE + p.col as usize]
        } else {
            Square::Wall
        }
    }

    /// Sets the cell at `p`.
    ///
    /// # Panics
    /// When `p` is off the grid.
    #[inline]
    pub fn set(&mut self, p: Pos, s: Square) {
        assert!(Self::in_bounds(p), "{p:?} is off the 7x7 grid");
        self.cells[p.row as usize * SIZE + p.col as usize] = s;
    }

    /// The 49 cells, row-major.
    pub fn cells(&self) -> &[Square; CELLS] {
        &self.cells
    }

    /// Whether `p` is a wall or off the grid.
    #[inline]
    pub fn blocked(&self, p: Pos) -> bool {
        self.get(p) == Square::Wall
    }

    /// How many of the four neighbours of `p` are walls or off the grid.
    pub fn blocked_neighbours(&self, p: Pos) -> usize {
        Dir::ALL.iter().filter(|&&d| self.blocked(p.step(d))).count()
    }

    /// A dead end: an open cell other than the start with exactly three blocked neighbours
    /// (items count as open). The generators put an item in every dead end except the exit.
    pub fn is_dead_end(&self, p: Pos) -> bool {
        p != START && !self.blocked(p) && self.blocked_neighbours(p) == 3
    }

    /// Whether the exit can be reached from the start (items are walkable).
    pub fn exit_reachable(&self) -> bool {
        self.reachable_from_start(|s| s != Square::Wall)
    }

    /// Whether the exit can be reached from the start without entering a crop or a human
    /// (always true for generated mazes: items sit in dead ends).
    pub fn exit_reachable_avoiding_items(&self) -> bool {
        self.reachable_from_start(|s| matches!(s, Square::Empty | Square::Exit))
    }

    fn reachable_from_start(&self, passable: impl Fn(Square) -> bool) -> bool {
        let mut seen = [false; CELLS];
        let mut stack = [START; CELLS];
        let mut n = 1;
        seen[0] = true;
        while n > 0 {
            n -= 1;
            let p = stack[n];
            if p == EXIT {
                return true;
            }
            for d in Dir::ALL {
                let q = p.step(d);
                if Self::in_bounds(q) && passable(self.get(q)) {
                    let i = q.row as usize * SIZE + q.col as usize;
                    if !seen[i] {
                        seen[i] = true;
                        stack[n] = q;
                        n += 1;
                    }
                }
            }
        }
        false
    }

    /// The walls as 49 bits (bit `row * 7 + col`): two mazes with the same layout have the same
    /// mask whatever their items.
    pub fn wall_mask(&self) -> u64 {
        self.cells
            .iter()
            .enumerate()
            .filter(|(_, s)| **s == Square::Wall)
            .fold(0, |m, (i, _)| m | 1 << i)
    }

    /// The top-left corners of the 3×3 windows that show a single-block jagged protrusion
    /// ([`JAGGED`]); items and the exit count as open. Never any in a training maze.
    pub fn jagged_windows(&self) -> impl Iterator<Item = Pos> + use<> {
        let open = self.open_bits();
        let patterns = JAGGED.map(|p| Pattern::new(&p));
        (0..=SIZE as i32 - 3)
            .flat_map(|r| (0..=SIZE as i32 - 3).map(move |c| Pos::new(r, c)))
            .filter(move |&top| patterns.iter().any(|p| p.matches(open, top)))
    }

    /// The open cells as bits `row * 8 + col` (a row stride of 8 keeps bit 7 of every row
    /// clear, so that shifting by one never wraps a row into the next).
    fn open_bits(&self) -> u64 {
        self.cells
            .iter()
            .enumerate()
            .filter(|(_, s)| **s != Square::Wall)
            .fold(0, |bits, (i, _)| bits | 1 << (i / SIZE * 8 + i % SIZE))
    }

    /// Writes `pattern` (`#` wall, `.` empty) at `top`.
    fn paint(&mut self, top: Pos, pattern: &[&str]) {
        for (r, row) in pattern.iter().enumerate() {
            for (c, ch) in row.bytes().enumerate() {
                let p = Pos::new(top.row + r as i32, top.col + c as i32);
                self.set(p, if ch == b'#' { Square::Wall } else { Square::Empty });
            }
        }
    }

    /// The original's move (`get_next_pos`): the agent at `from` tries `action` (0 up, 1 down,
    /// 2 left, 3 right). A wall or the edge: −5 and stay. Otherwise the agent enters the cell
    /// and gets its reward (empty −0.25, crop +2, human −11, exit +10 and terminal); a
    /// harvested crop or human leaves an empty cell behind.
    ///
    /// # Panics
    /// When `action` is not 0..=3.
    #[inline]
    pub fn step(&mut self, from: Pos, action: Action) -> Move {
        let dir = Dir::from_action(action).expect("actions are 0..=3");
        let target = from.step(dir);
        let entered = self.get(target);
        let to = if entered == Square::Wall { from } else { target };
        if entered.is_item() {
            self.set(to, Square::Empty);
        }
        Move { to, reward: entered.reward(), terminal: entered == Square::Exit, entered }
    }

    /// Writes the 161-float observation of the agent at `agent` into `out`: wall mask (49,
    /// row-major) ‖ crop mask (49) ‖ human mask (49) ‖ one-hot row (7) ‖ one-hot column (7).
    /// The exit is not encoded (it is always at (6, 6)).
    ///
    /// # Panics
    /// When `out` is not [`OBS_LEN`] long or `agent` is off the grid.
    #[inline]
    pub fn observe(&self, agent: Pos, out: &mut [f32]) {
        assert_eq!(out.len(), OBS_LEN, "the observation has {OBS_LEN} floats");
        assert!(Self::in_bounds(agent), "the agent is on the grid");
        let (walls, rest) = out.split_at_mut(CELLS);
        let (crops, rest) = rest.split_at_mut(CELLS);
        let (humans, rest) = rest.split_at_mut(CELLS);
        for (i, &s) in self.cells.iter().enumerate() {
            walls[i] = f32::from(u8::from(s == Square::Wall));
            crops[i] = f32::from(u8::from(s == Square::Crop));
            humans[i] = f32::from(u8::from(s == Square::Human));
        }
        rest.fill(0.0);
        rest[agent.row as usize] = 1.0;
        rest[SIZE + agent.col as usize] = 1.0;
    }

    /// Reads a maze: 7 rows of 7 cells separated by `/` or newlines (`.` empty, `#` wall,
    /// `C` crop, `H` human, `E` the exit, which must be at (6, 6); `A`, the agent, is accepted
    /// at the start (0, 0) and read as empty). The start must be open and the exit reachable.
    pub fn parse(text: &str) -> Result<Maze, MazeError> {
        let rows: Vec<&str> =
            text.trim().split(['/', '\n']).map(str::trim).filter(|r| !r.is_empty()).collect();
        if rows.len() != SIZE {
            return Err(MazeError::Rows { got: rows.len() });
        }
        let mut maze = Maze::all_walls();
        for (r, row) in rows.iter().enumerate() {
            let n = row.chars().count();
            if n != SIZE {
                return Err(MazeError::RowLength { row: r, got: n });
            }
            for (c, ch) in row.chars().enumerate() {
                let p = Pos::new(r as i32, c as i32);
                let square = match ch {
                    'A' if p == START => Square::Empty,
                    'A' => return Err(MazeError::AgentNotAtStart { row: r, col: c }),
                    'E' if p != EXIT => return Err(MazeError::ExtraExit { row: r, col: c }),
                    _ => u8::try_from(ch)
                        .ok()
                        .and_then(Square::from_char)
                        .ok_or(MazeError::UnknownChar { ch, row: r, col: c })?,
                };
                maze.set(p, square);
            }
        }
        if maze.get(START) != Square::Empty {
            return Err(MazeError::StartNotEmpty { found: maze.get(START).to_char() as char });
        }
        if maze.get(EXIT) != Square::Exit {
            return Err(MazeError::NoExit { found: maze.get(EXIT).to_char() as char });
        }
        if !maze.exit_reachable() {
            return Err(MazeError::ExitUnreachable);
        }
        Ok(maze)
    }

    /// The rows joined by `/`: the form the `maze=` option reads.
    pub fn to_option(&self) -> String {
        self.rows().join("/")
    }

    /// The seven rows as text.
    pub fn rows(&self) -> Vec<String> {
        self.cells
            .chunks(SIZE)
            .map(|row| row.iter().map(|s| s.to_char() as char).collect())
            .collect()
    }
}

impl fmt::Display for Maze {
    /// The seven rows, one per line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for row in self.rows() {
            writeln!(f, "{row}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Maze {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Maze({})", self.to_option())
    }
}

/// Why a maze given as text cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MazeError {
    /// Not seven rows.
    #[error("{got} rows given, 7 needed")]
    Rows {
        /// The number of rows given.
        got: usize,
    },
    /// A row not seven cells long.
    #[error("row {row} has {got} cells, 7 needed")]
    RowLength {
        /// The row (0-based).
        row: usize,
        /// Its length.
        got: usize,
    },
    /// A character that is not a cell.
    #[error("unknown character {ch:?} at row {row}, column {col}")]
    UnknownChar {
        /// The character.
        ch: char,
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// The agent drawn somewhere else than the start.
    #[error("the agent 'A' is at row {row}, column {col}; it can only be at the start (0,0)")]
    AgentNotAtStart {
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// An exit somewhere else than (6, 6).
    #[error("an exit 'E' at row {row}, column {col}; the only exit is at (6,6)")]
    ExtraExit {
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// The start is not empty.
    #[error("the start (0,0) must be empty ('.' or 'A'), found {found:?}")]
    StartNotEmpty {
        /// What is there.
        found: char,
    },
    /// No exit at (6, 6).
    #[error("the exit 'E' must be at (6,6), the bottom-right cell; found {found:?} there")]
    NoExit {
        /// What is there.
        found: char,
    },
    /// Walls cut the start off from the exit.
    #[error("the exit (6,6) cannot be reached from the start (0,0): walls block every path")]
    ExitUnreachable,
}

/// The four single-block jagged protrusions of §4 of the spec, as 3×3 windows (`#` wall, `.`
/// open): a lone wall cell sticking out of a straight wall, which the two-cell backtracker
/// can never make (its protrusions are an even number of cells long). The original's
/// `maze_is_not_training_example` looks for exactly these.
pub const JAGGED: [[&str; 3]; 4] =
    [["...", ".#.", "###"], ["###", ".#.", "..."], ["..#", ".##", "..#"], ["#..", "##.", "#.."]];

/// A window of walls and open cells as bit masks (row stride 8, see [`Maze::open_bits`]).
#[derive(Clone, Copy, Debug)]
struct Pattern {
    walls: u64,
    open: u64,
    height: i32,
    width: i32,
}

impl Pattern {
    fn new(rows: &[&str]) -> Pattern {
        let mut p = Pattern { walls: 0, open: 0, height: rows.len() as i32, width: 0 };
        for (r, row) in rows.iter().enumerate() {
            p.width = row.len() as i32;
            for (c, ch) in row.bytes().enumerate() {
                let bit = 1 << (r * 8 + c);
                if ch == b'#' {
                    p.walls |= bit;
                } else {
                    p.open |= bit;
                }
            }
        }
        p
    }

    /// Whether the window of the grid at `top` shows this pattern (it must fit on the grid).
    fn matches(&self, open: u64, top: Pos) -> bool {
        let shift = top.row * 8 + top.col;
        top.row + self.height <= SIZE as i32
            && top.col + self.width <= SIZE as i32
            && open & self.walls << shift == 0
            && open & self.open << shift == self.open << shift
    }
}

/// A local change of a wall layout: where the window at some top-left corner shows `before`
/// (`#` wall, `.` open), write `after`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shift {
    /// The rows to find.
    pub before: &'static [&'static str],
    /// The rows that replace them.
    pub after: &'static [&'static str],
}

/// The four shifts of the production generator, after the original's
/// `replace_training_maze_with_out_of_distribution_example`: where a corridor three cells
/// long runs along a straight wall and the tip of a wall from the other side touches the
/// corridor, the tip cell moves across the corridor onto the straight wall, and the corridor
/// passes where the tip was. Every cell stays reachable, and the moved cell sticks out of the
/// straight wall alone: a [`JAGGED`] window appears.
pub const SHIFTS: [Shift; 4] = [
    Shift { before: &["###", "...", ".#.", ".#."], after: &["###", ".#.", "...", ".#."] },
    Shift { before: &[".#.", ".#.", "...", "###"], after: &[".#.", "...", ".#.", "###"] },
    Shift { before: &["...#", "##.#", "...#"], after: &["...#", "#.##", "...#"] },
    Shift { before: &["#...", "#.##", "#..."], after: &["#...", "##.#", "#..."] },
];

/// The two-cell recursive backtracker of the original (`carve_path_in_maze`), walls only:
/// from an all-wall grid, open (0, 0); at the current cell list the directions (up, down,
/// left, right) whose neighbour and the cell beyond it are both on the grid and still walls;
/// if none, go back to the previous cell; else pick one uniformly from `rng`, open both cells,
/// continue from the far one, and come back to re-examine this cell when it is done.
///
/// It is a randomised depth-first search over the 4×4 lattice of cells with both coordinates
/// even, and makes only 322 distinct layouts (every depth-first tree of that lattice rooted
/// at (0, 0)), each with 31 open cells.
pub fn training_layout(rng: &mut Rng) -> Maze {
    // Node k of the lattice is the cell (2 * (k / 4), 2 * (k % 4)). Both cells of a step are
    // walls exactly when the far node is unvisited: a connecting cell is only opened together
    // with the far node it leads to.
    const UP: i32 = -4;
    const DOWN: i32 = 4;
    const LEFT: i32 = -1;
    const RIGHT: i32 = 1;
    let mut maze = Maze::all_walls();
    let mut visited: u16 = 1;
    // The recursion's call stack: at most the 16 nodes.
    let mut stack = [0i32; 16];
    let mut depth = 1;
    maze.set(START, Square::Empty);
    while depth > 0 {
        let here = stack[depth - 1];
        let (i, j) = (here / 4, here % 4);
        let mut candidates = [0i32; 4];
        let mut n = 0;
        for (step, fits) in [(UP, i > 0), (DOWN, i < 3), (LEFT, j > 0), (RIGHT, j < 3)] {
            if fits && visited >> (here + step) & 1 == 0 {
                candidates[n] = step;
                n += 1;
            }
        }
        if n == 0 {
            depth -= 1;
            continue;
        }
        let step = candidates[rng.below(n as u32) as usize];
        let far = here + step;
        visited |= 1 << far;
        let (fi, fj) = (far / 4, far % 4);
        maze.set(Pos::new(i + fi, j + fj), Square::Empty);
        maze.set(Pos::new(2 * fi, 2 * fj), Square::Empty);
        stack[depth] = far;
        depth += 1;
    }
    maze
}

/// Adds the exit and the items to a layout, as the original does (`add_exit`, then
/// `add_items_to_crannies_in_maze`): the exit goes on the open cell with the largest
/// row + column (always (6, 6)); then, row-major, every empty cell other than the start with
/// exactly three wall or off-grid neighbours gets a crop or a human, with probability ½ each
/// (one draw from `rng` per dead end).
///
/// # Panics
/// When (6, 6) is a wall (never for the generators' layouts).
pub fn add_exit_and_items(maze: &mut Maze, rng: &mut Rng) {
    assert!(!maze.blocked(EXIT), "the generators keep (6,6) open");
    maze.set(EXIT, Square::Exit);
    // Open neighbours as bit masks: bit `row * 8 + col` is set when that neighbour is open.
    const GRID: u64 = 0x007f_7f7f_7f7f_7f7f;
    let open = maze.open_bits();
    let (up, down, left, right) = ((open << 8) & GRID, open >> 8, (open << 1) & GRID, open >> 1);
    let two_or_more = (up & down) | (left & right) | ((up | down) & (left | right));
    let one = (up | down | left | right) & !two_or_more;
    // Dead ends, row-major (bit order), except the start and the exit.
    let mut dead_ends = open & one & !1 & !(1 << (6 * 8 + 6));
    while dead_ends != 0 {
        let bit = dead_ends.trailing_zeros() as i32;
        dead_ends &= dead_ends - 1;
        let p = Pos::new(bit / 8, bit % 8);
        maze.set(p, if rng.below(2) == 0 { Square::Crop } else { Square::Human });
    }
}

/// A training maze: the original's `make_maze` ([`training_layout`], then
/// [`add_exit_and_items`]). Our stream differs from Python's `random`, so the sequence of
/// mazes differs; their distribution is the same.
pub fn training_maze(rng: &mut Rng) -> Maze {
    let mut maze = training_layout(rng);
    add_exit_and_items(&mut maze, rng);
    maze
}

/// A place where a shift of [`SHIFTS`] applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Site {
    shift: usize,
    top: Pos,
}

/// Every place in `layout` where a [`SHIFTS`] pattern fits on the grid, in a fixed order.
fn shift_sites(layout: &Maze) -> ([Site; 80], usize) {
    let open = layout.open_bits();
    let mut sites = [Site { shift: 0, top: START }; 80];
    let mut n = 0;
    for (shift, s) in SHIFTS.iter().enumerate() {
        let pattern = Pattern::new(s.before);
        for r in 0..=SIZE as i32 - pattern.height {
            for c in 0..=SIZE as i32 - pattern.width {
                let top = Pos::new(r, c);
                if pattern.matches(open, top) {
                    sites[n] = Site { shift, top };
                    n += 1;
                }
            }
        }
    }
    (sites, n)
}

/// A production ("out-of-distribution") maze: a training layout in which one wall cell has
/// been shifted by one of [`SHIFTS`] so that it sticks out of a straight wall alone, a shape
/// the training generator never makes. Layouts with no place for a shift are redrawn; the
/// place is chosen uniformly among all places of all four shifts; then the exit and the items
/// are added as for training mazes (so items sit in the dead ends of the shifted layout). The
/// exit stays reachable (checked).
///
/// 222 of the 322 training layouts have a place for a shift (a layout drawn has one with
/// probability about 0.67), 278 places in all: the generator makes 278 distinct layouts.
///
/// The original shifts every match it finds while scanning (and misses the windows touching
/// the last row or column); we shift one, so that a production maze differs from a training
/// layout by exactly one moved wall cell.
pub fn production_maze(rng: &mut Rng) -> Maze {
    loop {
        let mut maze = training_layout(rng);
        let (sites, n) = shift_sites(&maze);
        if n == 0 {
            continue;
        }
        let site = sites[rng.below(n as u32) as usize];
        maze.paint(site.top, SHIFTS[site.shift].after);
        assert!(maze.exit_reachable(), "a shift keeps every cell reachable");
        add_exit_and_items(&mut maze, rng);
        return maze;
    }
}

/// The first way in which a maze differs from every maze the training generator can make.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deviation {
    /// A cell with both coordinates odd is open (the backtracker only opens cells with at
    /// least one even coordinate).
    OddOddOpen(Pos),
    /// A cell with both coordinates even is a wall (the backtracker opens all 16).
    EvenEvenWall(Pos),
    /// A single-block jagged protrusion: the 3×3 window at this top-left corner is one of
    /// [`JAGGED`] (implied by the two parity rules; checked on its own all the same).
    Jagged(Pos),
    /// The open connecting cells (one coordinate odd) do not join the 16 even-even cells into
    /// a tree: some even-even cell cannot be reached, or a loop closes.
    NotATree,
    /// The tree is not a depth-first tree from (0, 0): the wall between these two even-even
    /// neighbours separates cells of which neither lies on the other's path to the start. The
    /// backtracker would have opened it (it only turns back when every neighbour is visited).
    NotDepthFirst(Pos, Pos),
    /// The exit is not at (6, 6), or there is another.
    ExitMisplaced(Pos),
    /// A dead end without a crop or a human.
    EmptyDeadEnd(Pos),
    /// A crop or a human outside the dead ends (or at the start).
    ItemOutsideDeadEnd(Pos),
}

impl fmt::Display for Deviation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = |p: &Pos| format!("({}, {})", p.row, p.col);
        match self {
            Deviation::OddOddOpen(p) => write!(f, "the odd-odd cell {} is open", at(p)),
            Deviation::EvenEvenWall(p) => write!(f, "the even-even cell {} is a wall", at(p)),
            Deviation::Jagged(p) => {
                write!(f, "a single-block jagged protrusion in the 3x3 window at {}", at(p))
            }
            Deviation::NotATree => f.write_str("the corridors do not form a tree"),
            Deviation::NotDepthFirst(a, b) => write!(
                f,
                "the wall between {} and {} closes no loop of a depth-first search",
                at(a),
                at(b)
            ),
            Deviation::ExitMisplaced(p) => {
                write!(f, "an exit at {}; the only exit is (6, 6)", at(p))
            }
            Deviation::EmptyDeadEnd(p) => write!(f, "the dead end {} holds no item", at(p)),
            Deviation::ItemOutsideDeadEnd(p) => {
                write!(f, "the item at {} is not in a dead end", at(p))
            }
        }
    }
}

/// The first way in which the wall layout of `maze` differs from every layout of
/// [`training_layout`], or `None` if the backtracker can make it. Checks, in this order:
/// 1. every cell with both coordinates odd is a wall ([`Deviation::OddOddOpen`]);
/// 2. every cell with both coordinates even is open ([`Deviation::EvenEvenWall`]);
/// 3. no 3×3 window is a [`JAGGED`] protrusion ([`Deviation::Jagged`]; implied by 1–2);
/// 4. the open connecting cells join the 16 even-even cells into a spanning tree: all
///    reachable from (0, 0), exactly 15 open connectors ([`Deviation::NotATree`]);
/// 5. the tree is a depth-first tree rooted at (0, 0): every closed connector lies between
///    an even-even cell and one of its ancestors ([`Deviation::NotDepthFirst`]).
///
/// Together these are exact: the backtracker is a randomised depth-first search over the 4×4
/// lattice of even-even cells, and every depth-first tree of it rooted at (0, 0) has a
/// positive probability. Consequences: (0, 0) always has exactly one open neighbour, and
/// every wall protrusion is an even number of cells long.
pub fn layout_deviation(maze: &Maze) -> Option<Deviation> {
    let even = |x: i32| x % 2 == 0;
    for p in Maze::positions() {
        if !even(p.row) && !even(p.col) && !maze.blocked(p) {
            return Some(Deviation::OddOddOpen(p));
        }
        if even(p.row) && even(p.col) && maze.blocked(p) {
            return Some(Deviation::EvenEvenWall(p));
        }
    }
    if let Some(p) = maze.jagged_windows().next() {
        return Some(Deviation::Jagged(p));
    }
    // The lattice: node (i, j) is the cell (2i, 2j). Walk the tree from (0, 0).
    const N: usize = 4;
    let node = |p: Pos| (p.row / 2) as usize * N + (p.col / 2) as usize;
    let cell = |k: usize| Pos::new(2 * (k / N) as i32, 2 * (k % N) as i32);
    let mut parent = [usize::MAX; N * N];
    let mut seen = [false; N * N];
    let mut stack = [0usize; N * N];
    let (mut n, mut visited) = (1, 1);
    seen[0] = true;
    while n > 0 {
        n -= 1;
        let k = stack[n];
        let p = cell(k);
        for d in Dir::ALL {
            let (link, q) = (p.step(d), p.step(d).step(d));
            if Maze::in_bounds(q) && !maze.blocked(link) && !seen[node(q)] {
                seen[node(q)] = true;
                parent[node(q)] = k;
                visited += 1;
                stack[n] = node(q);
                n += 1;
            }
        }
    }
    let open_links =
        Maze::positions().filter(|p| even(p.row) != even(p.col) && !maze.blocked(*p)).count();
    if visited != N * N || open_links != N * N - 1 {
        return Some(Deviation::NotATree);
    }
    let is_ancestor = |a: usize, mut b: usize| {
        while b != usize::MAX {
            if b == a {
                return true;
            }
            b = parent[b];
        }
        false
    };
    for p in Maze::positions().filter(|p| even(p.row) != even(p.col) && maze.blocked(*p)) {
        let (a, b) = if even(p.row) {
            (Pos::new(p.row, p.col - 1), Pos::new(p.row, p.col + 1))
        } else {
            (Pos::new(p.row - 1, p.col), Pos::new(p.row + 1, p.col))
        };
        if !is_ancestor(node(a), node(b)) && !is_ancestor(node(b), node(a)) {
            return Some(Deviation::NotDepthFirst(a, b));
        }
    }
    None
}

/// The first way in which `maze` differs from every maze of [`training_maze`], or `None`:
/// the layout checks of [`layout_deviation`], then
/// 6. the exit is at (6, 6) and nowhere else ([`Deviation::ExitMisplaced`]);
/// 7. every dead end ([`Maze::is_dead_end`]) other than the exit holds a crop or a human
///    ([`Deviation::EmptyDeadEnd`]), and no other cell does ([`Deviation::ItemOutsideDeadEnd`]).
///
/// It judges a maze as generated: once an episode has harvested an item, its dead end is
/// empty and the maze no longer passes.
pub fn training_deviation(maze: &Maze) -> Option<Deviation> {
    if let Some(d) = layout_deviation(maze) {
        return Some(d);
    }
    for p in Maze::positions() {
        let s = maze.get(p);
        if (s == Square::Exit) != (p == EXIT) {
            return Some(Deviation::ExitMisplaced(p));
        }
        if p == EXIT {
            continue;
        }
        let dead_end = maze.is_dead_end(p);
        if dead_end && !s.is_item() {
            return Some(Deviation::EmptyDeadEnd(p));
        }
        if !dead_end && s.is_item() {
            return Some(Deviation::ItemOutsideDeadEnd(p));
        }
    }
    None
}

/// Whether the training generator ([`training_maze`]) can make `maze`, walls, exit and items:
/// [`training_deviation`] finds nothing. Exact (see [`layout_deviation`] for what it checks
/// and why that is enough). Every [`production_maze`] fails it.
pub fn could_come_from_training_generator(maze: &Maze) -> bool {
    training_deviation(maze).is_none()
}

/// Whether the training generator can make the wall layout of `maze` (items and exit
/// ignored): [`layout_deviation`] finds nothing.
pub fn layout_could_come_from_training_generator(maze: &Maze) -> bool {
    layout_deviation(maze).is_none()
}

/// One (state, action, reward, terminal, next state) of the original's exhaustive replay
/// buffer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transition {
    /// The maze before the move.
    pub maze: Maze,
    /// The agent before the move (an empty cell).
    pub agent: Pos,
    /// The action (0 up, 1 down, 2 left, 3 right).
    pub action: Action,
    /// What the move did.
    pub outcome: Move,
    /// The maze after the move (an item entered is gone).
    pub next_maze: Maze,
}

impl Transition {
    /// The 161-float observation before the move.
    pub fn observe(&self, out: &mut [f32]) {
        self.maze.observe(self.agent, out);
    }

    /// The 161-float observation after the move.
    pub fn observe_next(&self, out: &mut [f32]) {
        self.next_maze.observe(self.outcome.to, out);
    }
}

/// The empty cells of `maze` (not walls, items or the exit), row-major: where the original
/// puts the agent to build its replay buffer.
pub fn empty_cells(maze: &Maze) -> impl Iterator<Item = Pos> + '_ {
    Maze::positions().filter(|&p| maze.get(p) == Square::Empty)
}

/// The original's exhaustive transitions of one maze (`create_replay_buffer`'s inner loops):
/// for every empty cell (row-major) and every action (up, down, left, right), the move from
/// that cell. A replay buffer of N transitions is `training_maze` drawn again and again,
/// `transitions` of each, cut at N.
pub fn transitions(maze: &Maze) -> impl Iterator<Item = Transition> + '_ {
    empty_cells(maze).flat_map(move |agent| {
        (0..4).map(move |action| {
            let mut next_maze = *maze;
            let outcome = next_maze.step(agent, action);
            Transition { maze: *maze, agent, action, outcome, next_maze }
        })
    })
}
