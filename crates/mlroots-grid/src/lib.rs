//! The grid engine the gridworlds are built on, after pycolab: levels written as ASCII art,
//! typed cells, masks ("drapes"), Sokoban pushes, and three renderers (ASCII, RGB, and the
//! board encoding through a per-character [`ValueTable`]).
//!
//! ASCII is only at the edges: a [`Level`] is parsed once, turned into a typed [`Grid`] of an
//! environment's own cell enum (see [`Cell`]), and each frame is painted into a [`Canvas`]
//! (a grid of ASCII bytes) in the environment's paint order, then encoded into the caller's
//! observation buffer. The update order of an environment's objects is the order of the calls
//! in its `step`; the paint order is the order of its `paint`: two separate functions.
//!
//! ```
//! use mlroots_grid::{Level, Pos, ValueTable};
//! let level = Level::parse(&["###", "#A#", "###"]).unwrap();
//! assert_eq!(level.find(b'A'), Some(Pos::new(1, 1)));
//! let values = ValueTable::from_pairs(&[(b'#', 0.0), (b'A', 2.0)]);
//! let mut board = [0.0f32; 9];
//! values.encode(level.canvas(), &mut board);
//! assert_eq!(board[4], 2.0);
//! ```

mod grid;
mod level;
mod pos;
mod push;
mod render;

pub use grid::{Canvas, Grid, Mask};
pub use level::{Cell, Level, LevelError};
pub use pos::{Dir, Pos};
pub use push::push;
pub use render::{Palette, ValueTable, render_ascii, render_rgb};
