//! Positions and the four directions of movement.

/// A cell position `(row, col)`, zero-based from the top-left character of the ASCII art,
/// border included. Signed so that a step off the grid is representable (and then refused).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Pos {
    /// The row, from the top.
    pub row: i32,
    /// The column, from the left.
    pub col: i32,
}

impl Pos {
    /// The position `(row, col)`.
    pub const fn new(row: i32, col: i32) -> Self {
        Pos { row, col }
    }

    /// The neighbouring position in direction `d`.
    #[inline]
    pub fn step(self, d: Dir) -> Pos {
        let (dr, dc) = d.delta();
        Pos { row: self.row + dr, col: self.col + dc }
    }

    /// Manhattan distance.
    pub fn manhattan(self, other: Pos) -> i32 {
        (self.row - other.row).abs() + (self.col - other.col).abs()
    }
}

/// A direction of movement. Its discriminant is the gridworlds' action number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    /// Row − 1 (action 0).
    Up = 0,
    /// Row + 1 (action 1).
    Down = 1,
    /// Column − 1 (action 2).
    Left = 2,
    /// Column + 1 (action 3).
    Right = 3,
}

impl Dir {
    /// All four, in action order.
    pub const ALL: [Dir; 4] = [Dir::Up, Dir::Down, Dir::Left, Dir::Right];

    /// `(d_row, d_col)`.
    #[inline]
    pub fn delta(self) -> (i32, i32) {
        match self {
            Dir::Up => (-1, 0),
            Dir::Down => (1, 0),
            Dir::Left => (0, -1),
            Dir::Right => (0, 1),
        }
    }

    /// The direction of gridworld action `a` (0 up, 1 down, 2 left, 3 right), if it is one.
    #[inline]
    pub fn from_action(a: u32) -> Option<Dir> {
        match a {
            0 => Some(Dir::Up),
            1 => Some(Dir::Down),
            2 => Some(Dir::Left),
            3 => Some(Dir::Right),
            _ => None,
        }
    }

    /// The opposite direction.
    pub fn opposite(self) -> Dir {
        match self {
            Dir::Up => Dir::Down,
            Dir::Down => Dir::Up,
            Dir::Left => Dir::Right,
            Dir::Right => Dir::Left,
        }
    }
}
