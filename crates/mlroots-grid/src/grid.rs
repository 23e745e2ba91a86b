//! Rectangular grids of cells: the typed static layout, masks, and the ASCII canvas.

use crate::Pos;

/// A rectangular grid of `T`, stored row-major.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grid<T> {
    height: usize,
    width: usize,
    cells: Vec<T>,
}

/// A grid of ASCII bytes: one painted frame.
pub type Canvas = Grid<u8>;

/// A boolean layer over the grid (pycolab's "drape" curtain).
pub type Mask = Grid<bool>;

impl<T: Copy> Grid<T> {
    /// A `height × width` grid filled with `fill`.
    pub fn new(height: usize, width: usize, fill: T) -> Self {
        Grid { height, width, cells: vec![fill; height * width] }
    }

    /// A grid from row-major cells. `cells.len()` must be `height * width`.
    pub fn from_cells(height: usize, width: usize, cells: Vec<T>) -> Self {
        assert_eq!(cells.len(), height * width, "grid cells do not fill {height}x{width}");
        Grid { height, width, cells }
    }

    /// Number of rows.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Whether `p` lies inside the grid.
    #[inline]
    pub fn in_bounds(&self, p: Pos) -> bool {
        p.row >= 0 && p.col >= 0 && (p.row as usize) < self.height && (p.col as usize) < self.width
    }

    /// The row-major index of `p` (which must be inside).
    #[inline]
    pub fn index(&self, p: Pos) -> usize {
        debug_assert!(self.in_bounds(p), "{p:?} outside {}x{}", self.height, self.width);
        p.row as usize * self.width + p.col as usize
    }

    /// The cell at `p` (which must be inside).
    #[inline]
    pub fn get(&self, p: Pos) -> T {
        self.cells[self.index(p)]
    }

    /// The cell at `p`, or `None` outside the grid.
    #[inline]
    pub fn try_get(&self, p: Pos) -> Option<T> {
        self.in_bounds(p).then(|| self.get(p))
    }

    /// Sets the cell at `p` (which must be inside).
    #[inline]
    pub fn set(&mut self, p: Pos, v: T) {
        let i = self.index(p);
        self.cells[i] = v;
    }

    /// Sets every cell of row `row`.
    pub fn fill_row(&mut self, row: usize, v: T) {
        let w = self.width;
        self.cells[row * w..(row + 1) * w].fill(v);
    }

    /// The cells, row-major.
    pub fn cells(&self) -> &[T] {
        &self.cells
    }

    /// The cells, row-major, mutable.
    pub fn cells_mut(&mut self) -> &mut [T] {
        &mut self.cells
    }

    /// Copies every cell of `other` (same dimensions) into `self`, allocating nothing.
    #[inline]
    pub fn copy_from(&mut self, other: &Grid<T>) {
        self.cells.copy_from_slice(&other.cells);
    }

    /// Every position, row-major.
    pub fn positions(&self) -> impl Iterator<Item = Pos> + use<T> {
        let w = self.width as i32;
        (0..(self.height * self.width) as i32).map(move |i| Pos::new(i / w, i % w))
    }

    /// Positions whose cell satisfies `pred`, row-major.
    pub fn positions_where(&self, pred: impl Fn(T) -> bool) -> Vec<Pos> {
        self.positions().filter(|&p| pred(self.get(p))).collect()
    }

    /// A grid of the same shape with `f` applied to each cell.
    pub fn map<U: Copy>(&self, f: impl Fn(T) -> U) -> Grid<U> {
        Grid {
            height: self.height,
            width: self.width,
            cells: self.cells.iter().map(|&c| f(c)).collect(),
        }
    }
}
