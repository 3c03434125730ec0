//! Shared helpers of the picture tests: solved runs built from TOML text (no `[solver]` section:
//! the default settings), and readers of the pictures (frames, colours, blank borders).
//!
//! The view of a run is built from the file it was saved to, as `mfg plot` does: the tests
//! then draw what a user gets, and need nothing of the `Problem` beyond solving and its controls.
#![allow(dead_code)]

use image::RgbImage;
use mfg::config::Config;
use mfg::plot::{Rect, View};
use mfg::Field;
use std::path::{Path, PathBuf};

/// A solved run, saved and read back.
pub struct Run {
    pub dir: tempfile::TempDir,
    pub file: PathBuf,
    pub saved: mfg::io::Saved,
    pub names: Vec<String>,
    pub controls: Vec<Vec<Field>>,
    pub text: String,
}

impl Run {
    /// Solves the configuration `text` with the default solver settings.
    pub fn solve(text: &str) -> Run {
        let cfg = Config::from_toml_str(text).unwrap();
        let (problem, settings) = cfg.build().unwrap();
        let solution = mfg::solve(&problem, &settings).unwrap();
        assert_eq!(
            solution.termination,
            mfg::Termination::Converged,
            "the test problem should converge with the default settings"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("run.h5");
        mfg::io::write(
            &file,
            &problem,
            &mfg::io::Run::finished(&solution),
            Some(&cfg),
            &mfg::io::WriteOptions::default(),
        )
        .unwrap();
        let saved = mfg::io::read(&file).unwrap();
        let names = saved.header.names();
        let controls = (0..names.len())
            .map(|k| solution.controls(&problem, k))
            .collect();
        Run {
            dir,
            file,
            saved,
            names,
            controls,
            text: text.to_string(),
        }
    }

    pub fn view(&self) -> View<'_> {
        View {
            grid: &self.saved.header.grid,
            time: self.saved.header.time.as_ref().unwrap(),
            names: &self.names,
            solution: &self.saved.solution,
            controls: Some(&self.controls),
            live: None,
            exits: None,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// Three populations on [0, 2] × [0, 1] (aspect 2), starting as blobs at (0.4, 0.3),
/// (1.0, 0.7) and (1.6, 0.3); the third is spread wider, so its densities are lower.
pub const THREE_2D: &str = r#"
[grid]
x = { min = 0.0, max = 2.0, n = 20, boundary = "reflecting" }
y = { min = 0.0, max = 1.0, n = 10, boundary = "reflecting" }

[time]
horizon = 0.5
steps = 5

[[population]]
name = "a"
sigma = 0.2
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = [0.4, 0.3], std = [0.1, 0.1] }
terminal = "(x - 1.0)^2"

[[population]]
name = "b"
sigma = 0.2
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = [1.0, 0.7], std = [0.1, 0.1] }
terminal = "(y - 0.3)^2"

[[population]]
name = "c"
sigma = 0.2
hamiltonian = { kind = "quadratic", cost = 2.0 }
initial = { profile = "gaussian", mean = [1.6, 0.3], std = [0.2, 0.15] }
terminal = "(x - 1.0)^2"

[coupling]
linear = [[0.1, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 0.1]]
"#;

/// Initial centres of [`THREE_2D`]'s populations.
pub const THREE_2D_CENTRES: [(f64, f64); 3] = [(0.4, 0.3), (1.0, 0.7), (1.6, 0.3)];

/// One population on a box `[0, lx] × [0, ly]` of `nx × ny` cells.
pub fn one_2d(lx: f64, ly: f64, nx: usize, ny: usize) -> String {
    format!(
        r#"
[grid]
x = {{ min = 0.0, max = {lx}, n = {nx}, boundary = "reflecting" }}
y = {{ min = 0.0, max = {ly}, n = {ny}, boundary = "reflecting" }}

[time]
horizon = 0.2
steps = 3

[[population]]
name = "solo"
sigma = 0.3
hamiltonian = {{ kind = "quadratic", cost = 1.0 }}
initial = {{ profile = "gaussian", mean = [{mx}, {my}], std = [{sx}, {sy}] }}

[coupling]
linear = [[0.1]]
"#,
        mx = lx / 2.0,
        my = ly / 2.0,
        sx = lx / 6.0,
        sy = ly / 6.0,
    )
}

/// Three populations on a line.
pub const THREE_1D: &str = r#"
[grid]
x = { min = -1.0, max = 1.0, n = 41, boundary = "reflecting" }

[time]
horizon = 1.0
steps = 12

[[population]]
name = "left"
sigma = 0.3
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = -0.5, std = 0.15 }
terminal = "(x - 0.5)^2"

[[population]]
name = "middle"
sigma = 0.2
hamiltonian = { kind = "quadratic", cost = 2.0 }
initial = { profile = "gaussian", mean = 0.0, std = 0.1 }

[[population]]
name = "right"
sigma = 0.3
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = 0.5, std = 0.15 }
terminal = "(x + 0.5)^2"

[coupling]
log = [0.05, 0.05, 0.05]
"#;

pub fn open(path: &Path) -> RgbImage {
    image::open(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .to_rgb8()
}

/// Black 1-pixel rectangles drawn in the picture (frames of panels and colour bars), as their
/// interiors, found from the pixels alone.
pub fn frames(img: &RgbImage) -> Vec<Rect> {
    let (w, h) = img.dimensions();
    let black = |x: u32, y: u32| img.get_pixel(x, y).0 == [0, 0, 0];
    // Horizontal black runs of at least 8 pixels, per row.
    let mut runs: Vec<(u32, u32, u32)> = Vec::new();
    for y in 0..h {
        let mut x = 0;
        while x < w {
            if black(x, y) {
                let start = x;
                while x < w && black(x, y) {
                    x += 1;
                }
                if x - start >= 8 {
                    runs.push((start, x - 1, y));
                }
            } else {
                x += 1;
            }
        }
    }
    let mut out = Vec::new();
    for (i, &(x0, x1, y0)) in runs.iter().enumerate() {
        for &(a0, a1, y1) in &runs[i + 1..] {
            if a0 != x0 || a1 != x1 || y1 < y0 + 3 {
                continue;
            }
            if (y0..=y1).all(|y| black(x0, y) && black(x1, y)) {
                out.push(Rect::new(
                    x0 as i32 + 1,
                    y0 as i32 + 1,
                    x1 - x0 - 1,
                    y1 - y0 - 1,
                ));
                break;
            }
        }
    }
    out
}

/// The RGB of a table entry.
pub fn rgb(c: plotters::style::RGBColor) -> [u8; 3] {
    [c.0, c.1, c.2]
}

/// Index of `p` in the colour table, if it is an entry.
pub fn entry(table: &[plotters::style::RGBColor], p: [u8; 3]) -> Option<usize> {
    table.iter().position(|c| rgb(*c) == p)
}

/// Whether nothing is drawn within `band` pixels of the picture's edges (so nothing is cut off).
pub fn blank_border(img: &RgbImage, band: u32) -> bool {
    let (w, h) = img.dimensions();
    img.enumerate_pixels()
        .filter(|(x, y, _)| *x < band || *y < band || *x >= w - band || *y >= h - band)
        .all(|(_, _, p)| p.0 == [255, 255, 255])
}
