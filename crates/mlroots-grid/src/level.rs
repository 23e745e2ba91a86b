//! Levels as ASCII art, parsed once into typed grids.

use crate::{Canvas, Grid, Pos};

/// A malformed level or an unknown character; says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LevelError {
    /// No rows, or an empty row.
    #[error("a level needs at least one non-empty row")]
    Empty,
    /// Rows of different lengths.
    #[error("row {row} has {got} characters but row 0 has {want}; levels must be rectangular")]
    Ragged {
        /// The offending row.
        row: usize,
        /// Its length.
        got: usize,
        /// The first row's length.
        want: usize,
    },
    /// A character outside printable ASCII, or one the cell type does not know.
    #[error("unknown character {ch:?} at row {row}, column {col}; allowed: {allowed}")]
    UnknownChar {
        /// The character.
        ch: char,
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
        /// The characters that are accepted.
        allowed: String,
    },
}

/// A cell kind an environment declares for its static layout, with its ASCII form.
pub trait Cell: Copy {
    /// Every character this cell type accepts, for error messages.
    const CHARS: &'static str;
    /// The cell a character stands for, or `None` if unknown.
    fn from_char(c: u8) -> Option<Self>;
    /// The character drawn for this cell.
    fn to_char(self) -> u8;
}

/// A level: rectangular ASCII art.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Level {
    canvas: Canvas,
}

impl Level {
    /// Parses rows of ASCII art. Rows must be non-empty, of equal length, printable ASCII.
    pub fn parse<S: AsRef<str>>(rows: &[S]) -> Result<Level, LevelError> {
        let want = rows.first().map(|r| r.as_ref().len()).unwrap_or(0);
        if want == 0 {
            return Err(LevelError::Empty);
        }
        let mut cells = Vec::with_capacity(want * rows.len());
        for (row, r) in rows.iter().enumerate() {
            let r = r.as_ref();
            if r.chars().count() != want || r.len() != want {
                return Err(LevelError::Ragged { row, got: r.chars().count(), want });
            }
            for (col, b) in r.bytes().enumerate() {
                if !(b' '..=b'~').contains(&b) {
                    return Err(LevelError::UnknownChar {
                        ch: b as char,
                        row,
                        col,
                        allowed: "printable ASCII".into(),
                    });
                }
                cells.push(b);
            }
        }
        Ok(Level { canvas: Grid::from_cells(rows.len(), want, cells) })
    }

    /// The level's characters.
    pub fn canvas(&self) -> &Canvas {
        &self.canvas
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.canvas.height()
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.canvas.width()
    }

    /// The character at `p`.
    pub fn at(&self, p: Pos) -> u8 {
        self.canvas.get(p)
    }

    /// The first position (row-major) of `ch`.
    pub fn find(&self, ch: u8) -> Option<Pos> {
        self.canvas.positions().find(|&p| self.canvas.get(p) == ch)
    }

    /// Every position of `ch`, row-major.
    pub fn find_all(&self, ch: u8) -> Vec<Pos> {
        self.canvas.positions_where(|c| c == ch)
    }

    /// The level as a typed grid, after replacing each character listed in `under` by the
    /// character beneath it (sprites stand on floor: `under = &[(b'A', b' ')]`).
    pub fn typed<C: Cell>(&self, under: &[(u8, u8)]) -> Result<Grid<C>, LevelError> {
        let mut cells = Vec::with_capacity(self.canvas.cells().len());
        for p in self.canvas.positions() {
            let mut ch = self.canvas.get(p);
            if let Some(&(_, below)) = under.iter().find(|(c, _)| *c == ch) {
                ch = below;
            }
            cells.push(C::from_char(ch).ok_or_else(|| LevelError::UnknownChar {
                ch: ch as char,
                row: p.row as usize,
                col: p.col as usize,
                allowed: C::CHARS.into(),
            })?);
        }
        Ok(Grid::from_cells(self.height(), self.width(), cells))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    enum T {
        Wall,
        Floor,
    }
    impl Cell for T {
        const CHARS: &'static str = "'#', ' '";
        fn from_char(c: u8) -> Option<Self> {
            match c {
                b'#' => Some(T::Wall),
                b' ' => Some(T::Floor),
                _ => None,
            }
        }
        fn to_char(self) -> u8 {
            match self {
                T::Wall => b'#',
                T::Floor => b' ',
            }
        }
    }

    #[test]
    fn parse_errors_say_where() {
        assert_eq!(Level::parse::<&str>(&[]), Err(LevelError::Empty));
        assert_eq!(
            Level::parse(&["###", "##"]),
            Err(LevelError::Ragged { row: 1, got: 2, want: 3 })
        );
        let l = Level::parse(&["###", "#A?"]).unwrap();
        let e = l.typed::<T>(&[(b'A', b' ')]).unwrap_err();
        assert_eq!(e.to_string(), "unknown character '?' at row 1, column 2; allowed: '#', ' '");
        let l = Level::parse(&["###", "#A#"]).unwrap();
        let g = l.typed::<T>(&[(b'A', b' ')]).unwrap();
        assert_eq!(g.get(Pos::new(1, 1)), T::Floor);
        assert_eq!(g.get(Pos::new(0, 1)).to_char(), b'#');
    }
}
