//! Server-rendered SVG line charts (the replay's return curve, the challenge page's learning
//! curves): plain markup inlined in the page, so they show without JavaScript, with a
//! `<title>` and `<desc>` for screen readers. Everything written into the markup goes
//! through [`esc`]; callers pass `|safe` in the template only for what these functions return.

use std::fmt::Write;

/// `s` escaped for XML text and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for people: whole numbers without decimals, others with at most two.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "?".into();
    }
    if (v - v.round()).abs() < 1e-9 {
        return format!("{:.0}", v.round() + 0.0);
    }
    let s = format!("{v:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Thins `pts` to at most `max` points by averaging consecutive buckets (x and y), so a
/// chart of 20 000 episodes stays a few kilobytes.
pub fn thin(pts: &[(f64, f64)], max: usize) -> Vec<(f64, f64)> {
    if pts.len() <= max || max == 0 {
        return pts.to_vec();
    }
    let per = pts.len().div_ceil(max);
    pts.chunks(per)
        .map(|c| {
            let n = c.len() as f64;
            (c.iter().map(|p| p.0).sum::<f64>() / n, c.iter().map(|p| p.1).sum::<f64>() / n)
        })
        .collect()
}

/// The trailing moving average of `ys` over `window` values.
pub fn moving_average(ys: &[f64], window: usize) -> Vec<f64> {
    let w = window.max(1);
    let mut out = Vec::with_capacity(ys.len());
    let mut acc = 0.0;
    for (i, y) in ys.iter().enumerate() {
        acc += y;
        if i >= w {
            acc -= ys[i - w];
        }
        out.push(acc / (i + 1).min(w) as f64);
    }
    out
}

/// A chart's plot area: data ranges mapped to pixels, with room for the axis labels.
pub struct Chart {
    id: String,
    width: f64,
    height: f64,
    x: (f64, f64),
    y: (f64, f64),
    out: String,
}

const LEFT: f64 = 48.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 10.0;
const BOTTOM: f64 = 30.0;

impl Chart {
    /// A `width`×`height` chart over x in `x` and y in `y` (each widened when empty), with
    /// element ids prefixed by `id`, its accessible `title` and `desc`, and the axis labels.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &str,
        width: f64,
        height: f64,
        x: (f64, f64),
        y: (f64, f64),
        title: &str,
        desc: &str,
        labels: (&str, &str),
    ) -> Chart {
        let widen =
            |(lo, hi): (f64, f64)| if hi - lo > 1e-9 { (lo, hi) } else { (lo - 1.0, lo + 1.0) };
        let mut c =
            Chart { id: esc(id), width, height, x: widen(x), y: widen(y), out: String::new() };
        let _ = write!(
            c.out,
            "<svg class=\"chart\" id=\"{id}\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
             height=\"{height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">\
             <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
            esc(title),
            esc(desc),
            id = c.id,
        );
        let (x0, x1, y0, y1) = (LEFT, width - RIGHT, TOP, height - BOTTOM);
        let _ = write!(
            c.out,
            "<rect x=\"{x0}\" y=\"{y0}\" width=\"{}\" height=\"{}\" fill=\"#f4f5f7\" stroke=\"#999\"/>",
            x1 - x0,
            y1 - y0
        );
        // Tick labels: the ends of each range, and zero when it lies inside.
        let (ylo, yhi) = c.y;
        let mut yt = vec![ylo, yhi];
        if ylo < 0.0 && yhi > 0.0 {
            let zy = c.py(0.0);
            // Its label only where it does not overlap an end's.
            if (zy - c.py(ylo)).abs() > 12.0 && (zy - c.py(yhi)).abs() > 12.0 {
                yt.push(0.0);
            }
            let _ = write!(
                c.out,
                "<line x1=\"{x0}\" x2=\"{x1}\" y1=\"{zy:.1}\" y2=\"{zy:.1}\" stroke=\"#bbb\" \
                 stroke-dasharray=\"3 3\"/>"
            );
        }
        for v in yt {
            let _ = write!(
                c.out,
                "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">{}</text>",
                x0 - 4.0,
                c.py(v) + 4.0,
                num(v)
            );
        }
        for (v, anchor) in [(c.x.0, "start"), (c.x.1, "end")] {
            let _ = write!(
                c.out,
                "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"{anchor}\" font-size=\"11\" fill=\"#333\">{}</text>",
                c.px(v),
                y1 + 13.0,
                num(v)
            );
        }
        let _ = write!(
            c.out,
            "<text x=\"{:.1}\" y=\"{}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">{}</text>\
             <text x=\"12\" y=\"{:.1}\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\" \
             transform=\"rotate(-90 12 {:.1})\">{}</text>",
            (x0 + x1) / 2.0,
            height - 4.0,
            esc(labels.0),
            (y0 + y1) / 2.0,
            (y0 + y1) / 2.0,
            esc(labels.1)
        );
        c
    }

    /// The pixel column of data x.
    pub fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (self.width - LEFT - RIGHT)
    }

    /// The pixel row of data y.
    pub fn py(&self, y: f64) -> f64 {
        self.height - BOTTOM - (y - self.y.0) / (self.y.1 - self.y.0) * (self.height - TOP - BOTTOM)
    }

    /// A polyline through `pts` (data coordinates) of colour `stroke` and width `width`.
    pub fn line(&mut self, pts: &[(f64, f64)], class: &str, stroke: &str, width: f64) {
        if pts.is_empty() {
            return;
        }
        let coords: Vec<String> =
            pts.iter().map(|&(x, y)| format!("{:.1},{:.1}", self.px(x), self.py(y))).collect();
        let _ = write!(
            self.out,
            "<polyline class=\"{}\" points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"{width}\" \
             stroke-linejoin=\"round\"/>",
            esc(class),
            coords.join(" "),
            esc(stroke)
        );
    }

    /// A marker at data `(x, y)` with a tooltip `label`, linked to `href` (`data-step` set to
    /// `step`, so a script can seek instead of following the link).
    pub fn marker(&mut self, x: f64, y: f64, label: &str, href: &str, step: usize) {
        let _ = write!(
            self.out,
            "<a href=\"{}\" data-step=\"{step}\" class=\"marker\"><circle cx=\"{:.1}\" cy=\"{:.1}\" \
             r=\"5\" fill=\"#d0312d\" stroke=\"#fff\" stroke-width=\"1.5\"><title>{}</title></circle></a>",
            esc(href),
            self.px(x),
            self.py(y),
            esc(label)
        );
    }

    /// A vertical cursor at data x `at`, with id `{id}-cursor` and the data a script needs
    /// to move it to x = k: `data-x0` (the pixel of x = 0) and `data-dx` (pixels per unit).
    pub fn cursor(&mut self, at: f64) {
        let x = self.px(at);
        let dx = self.px(1.0) - self.px(0.0);
        let _ = write!(
            self.out,
            "<line id=\"{}-cursor\" class=\"cursor\" x1=\"{x:.1}\" x2=\"{x:.1}\" y1=\"{TOP}\" y2=\"{}\" \
             stroke=\"#e08a00\" stroke-width=\"2\" data-x0=\"{:.3}\" data-dx=\"{dx:.5}\"/>",
            self.id,
            self.height - BOTTOM,
            self.px(0.0)
        );
    }

    /// The finished markup.
    pub fn finish(mut self) -> String {
        self.out.push_str("</svg>");
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_escaping_thinning_and_averages() {
        assert_eq!(num(37.5), "37.5");
        assert_eq!(num(-2.0), "-2");
        assert_eq!(num(1.0 / 3.0), "0.33");
        assert_eq!(num(-0.0), "0");
        assert_eq!(esc("<a href=\"x\">&'"), "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
        let pts: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, i as f64)).collect();
        let t = thin(&pts, 100);
        assert_eq!(t.len(), 100);
        assert_eq!(t[0], (4.5, 4.5));
        assert_eq!(thin(&pts[..10], 100).len(), 10);
        assert_eq!(moving_average(&[2.0, 4.0, 6.0, 8.0], 2), vec![2.0, 3.0, 5.0, 7.0]);
    }

    #[test]
    fn a_chart_has_its_title_desc_lines_and_markers_inside_the_plot() {
        let mut c = Chart::new(
            "c",
            400.0,
            150.0,
            (0.0, 10.0),
            (-5.0, 5.0),
            "T <1>",
            "D",
            ("step", "return"),
        );
        c.line(&[(0.0, -5.0), (10.0, 5.0)], "raw", "#000", 1.0);
        c.marker(5.0, 0.0, "step 5: x", "/r?e=0&step=5", 5);
        c.cursor(2.0);
        let s = c.finish();
        assert!(s.starts_with("<svg") && s.ends_with("</svg>"));
        assert!(s.contains("<title id=\"c-title\">T &lt;1&gt;</title>"));
        assert!(s.contains("<desc id=\"c-desc\">D</desc>"));
        assert!(s.contains("points=\"48.0,120.0 390.0,10.0\""), "{s}");
        assert!(s.contains("href=\"/r?e=0&amp;step=5\" data-step=\"5\""));
        assert!(s.contains("<title>step 5: x</title>"));
        assert!(s.contains("id=\"c-cursor\""));
        assert!(s.contains(">-5</text>") && s.contains(">0</text>"), "zero tick inside the range");
        let near = Chart::new("n", 400.0, 150.0, (1.0, 3.0), (-2.0, 47.0), "", "", ("", ""));
        assert!(!near.finish().contains(">0</text>"), "no zero label crowding the -2 label");
    }
}
