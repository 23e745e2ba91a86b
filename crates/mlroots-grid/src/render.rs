//! The three renderers of a painted [`Canvas`]: ASCII text, an RGB image, and the board
//! encoding (one `f32` per cell through a per-character [`ValueTable`]).

use crate::Canvas;

/// Maps each ASCII character to the `f32` an agent sees on the board.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueTable {
    values: [f32; 256],
}

impl ValueTable {
    /// The default mapping of the original: each character to its ASCII code.
    pub fn ascii() -> Self {
        let mut values = [0.0; 256];
        for (i, v) in values.iter_mut().enumerate() {
            *v = i as f32;
        }
        ValueTable { values }
    }

    /// The listed characters to their values; any other character to its ASCII code.
    pub fn from_pairs(pairs: &[(u8, f32)]) -> Self {
        let mut t = Self::ascii();
        for &(c, v) in pairs {
            t.values[c as usize] = v;
        }
        t
    }

    /// The same table with character `c` mapped to `v`.
    pub fn with(mut self, c: u8, v: f32) -> Self {
        self.values[c as usize] = v;
        self
    }

    /// The value of character `c`.
    pub fn value(&self, c: u8) -> f32 {
        self.values[c as usize]
    }

    /// Writes the value of each cell of `canvas` into `out` (row-major, same length).
    #[inline]
    pub fn encode(&self, canvas: &Canvas, out: &mut [f32]) {
        for (o, &c) in out.iter_mut().zip(canvas.cells()) {
            *o = self.values[c as usize];
        }
    }

    /// The smallest and largest value over the characters in `chars`.
    pub fn bounds(&self, chars: &[u8]) -> (f32, f32) {
        chars
            .iter()
            .map(|&c| self.values[c as usize])
            .fold((f32::MAX, f32::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)))
    }
}

/// Maps each ASCII character to a background colour (the palette is cosmetic).
#[derive(Clone, Debug, PartialEq)]
pub struct Palette {
    colours: [[u8; 3]; 256],
}

impl Palette {
    /// Mid grey for every character, then the listed colours.
    pub fn from_pairs(pairs: &[(u8, [u8; 3])]) -> Self {
        let mut colours = [[128, 128, 128]; 256];
        for &(c, rgb) in pairs {
            colours[c as usize] = rgb;
        }
        Palette { colours }
    }

    /// The colour of character `c`.
    pub fn colour(&self, c: u8) -> [u8; 3] {
        self.colours[c as usize]
    }
}

/// Writes `canvas` as text, one line per row, each ending in a newline.
pub fn render_ascii(canvas: &Canvas) -> String {
    let mut s = String::with_capacity((canvas.width() + 1) * canvas.height());
    for row in canvas.cells().chunks(canvas.width()) {
        s.extend(row.iter().map(|&b| b as char));
        s.push('\n');
    }
    s
}

/// Writes `canvas` as a channel-major RGB image (3 × height × width) into `out`.
pub fn render_rgb(canvas: &Canvas, palette: &Palette, out: &mut Vec<u8>) {
    let n = canvas.cells().len();
    out.clear();
    out.resize(3 * n, 0);
    for (i, &c) in canvas.cells().iter().enumerate() {
        let rgb = palette.colour(c);
        for ch in 0..3 {
            out[ch * n + i] = rgb[ch];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Level;

    #[test]
    fn renders_each_form() {
        let l = Level::parse(&["#A", " G"]).unwrap();
        assert_eq!(render_ascii(l.canvas()), "#A\n G\n");
        let mut rgb = Vec::new();
        render_rgb(l.canvas(), &Palette::from_pairs(&[(b'#', [1, 2, 3])]), &mut rgb);
        assert_eq!(rgb, [1, 128, 128, 128, 2, 128, 128, 128, 3, 128, 128, 128]);
        let t = ValueTable::from_pairs(&[(b'#', 0.0)]);
        let mut out = [0.0; 4];
        t.encode(l.canvas(), &mut out);
        assert_eq!(out, [0.0, 65.0, 32.0, 71.0]);
        assert_eq!(t.bounds(b"#A"), (0.0, 65.0));
    }
}
