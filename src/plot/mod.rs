//! Pictures of a solution (PNG, and GIF for 2D evolutions) of the K-population system of
//! MATH.md §1: the densities m^k, the value functions u^k and the optimal feedback
//! α^k = −∂p H^k(x, ∇u^k, m), drawn with `plotters` into an RGB buffer and the DejaVu fonts
//! embedded in the binary (no system fonts are needed).
//!
//! - 1D: an x–t heatmap of m^k and of u^k per population, each with a colour bar; one panel per
//!   population of m^k at a few times, with a time legend;
//! - 2D: small multiples (one panel per population and time) of m^k on one colour scale per
//!   population in absolute density units, the same for u^k with the velocity field α^k as
//!   arrows, and an animated GIF of the densities whose colours are the PNG's;
//! - always: the convergence history on a log scale and the mass of each population over time;
//! - [`rl`]: the pictures of `mfg validate` (a policy's densities and mean velocity against the
//!   PDE's, exploitability curves).
//!
//! Every 2D panel keeps the domain's aspect ratio (the plotting rectangle is fitted into its cell,
//! letterboxed). Each drawing function returns a [`Figure`] that says where it put the panels,
//! colour bars and legends and which ranges the bars show, so that callers and tests can check
//! the picture against the data.
//!
//! Everything here is a pure function of the grids, the population names and a [`Solution`]
//! (plus the controls α^k, which need the Hamiltonians and are therefore handed in): a solution
//! read back from a file plots exactly like one fresh from the solver.

mod axes;
mod canvas;
pub mod colours;
mod field2d;
mod heatmap;
mod layout;
mod lines;
mod quiver;
pub mod rl;
mod stationary;

pub use axes::{format_time, tick_labels, ticks};
pub use colours::{colour, ColourMap, Scale, PALETTE};
pub use field2d::{animation_2d, animation_levels, snapshots_2d, velocity_2d};
pub use heatmap::heatmap_1d;
pub use lines::{convergence, mass, profiles_1d};
pub use stationary::{render_stationary, stationary_1d, stationary_2d, StationaryView};

use crate::field::Field;
use crate::grid::{Grid, TimeGrid};
use crate::solve::Solution;
use std::path::{Path, PathBuf};

/// Errors of the plotting layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A drawing operation failed (a backend or encoder error).
    #[error("{}: cannot draw: {message}", path.display())]
    Draw {
        /// The picture being drawn.
        path: PathBuf,
        /// What the backend or encoder said.
        message: String,
    },
    /// The output directory or a picture file cannot be created.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file being written.
        path: PathBuf,
        #[source]
        /// The operating-system error.
        source: std::io::Error,
    },
    /// A picture could not be written, flushed or moved into place (a full disk…).
    #[error(transparent)]
    File(#[from] crate::files::Error),
    /// The data hold a NaN or an infinity (a diverged run): colour scales and axes cannot be
    /// drawn from them.
    #[error(
        "cannot draw {field} of {population}: it holds a non-finite value ({value}){}; the run \
         diverged (see its termination with `mfg inspect`)",
        level.map(|n| format!(" at time level {n}")).unwrap_or_default()
    )]
    NotFinite {
        /// The population.
        population: String,
        /// `m`, `u` or a control.
        field: String,
        /// The first level holding the value (None for a stationary result, which has one).
        level: Option<usize>,
        /// The value, e.g. `NaN`.
        value: f64,
    },
    /// The options do not make sense (size too small, time outside [0, T]…).
    #[error("invalid plot option {field}: {reason}")]
    Invalid {
        /// The option.
        field: String,
        /// Why it is refused.
        reason: String,
    },
}

/// Result alias of this module.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Sizes and times of the pictures.
#[derive(Debug, Clone, PartialEq)]
pub struct PlotOptions {
    /// Size of every picture in pixels (width, height).
    pub size: (u32, u32),
    /// Times of the snapshots (nearest time level); `None`: 0, T/3, 2T/3, T.
    pub times: Option<Vec<f64>>,
    /// At most this many frames in a GIF (levels are subsampled evenly).
    pub max_frames: usize,
    /// Delay between GIF frames, in milliseconds.
    pub frame_delay_ms: u32,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            size: (800, 600),
            times: None,
            max_frames: 60,
            frame_delay_ms: 100,
        }
    }
}

/// Smallest accepted picture size.
pub const MIN_SIZE: (u32, u32) = (240, 180);

/// What a picture shows: the grids, the population names and a solution.
#[derive(Debug, Clone, Copy)]
pub struct View<'a> {
    /// The spatial grid.
    pub grid: &'a Grid,
    /// The time grid.
    pub time: &'a TimeGrid,
    /// Population names, in order.
    pub names: &'a [String],
    /// The solution drawn.
    pub solution: &'a Solution,
    /// The optimal feedback α^k per population and axis (`Solution::controls`), if known: the
    /// 2D velocity picture draws it as arrows. `None` (e.g. a file without a stored
    /// configuration) draws u^k alone and says so.
    pub controls: Option<&'a [Vec<Field>]>,
    /// Each population's state space (`Population::live`: false at obstacles and outside its
    /// region), if known: the 2D panels draw removed nodes in light grey.
    pub live: Option<&'a [Vec<bool>]>,
    /// Each population's exit nodes (`Population::exits`), if any: the 2D panels draw them in
    /// [`colours::exit`] black.
    pub exits: Option<&'a [Vec<bool>]>,
}

/// The solution as the pictures show it: on exit nodes m^k holds the mass that has left
/// through them, not agents, so it is drawn as 0 there (`exits[k]` per population; the
/// solution itself when there is no exit).
pub fn displayed<'s>(
    solution: &'s Solution,
    exits: Option<&[Vec<bool>]>,
) -> std::borrow::Cow<'s, Solution> {
    let Some(exits) = exits.filter(|e| e.iter().any(|k| k.contains(&true))) else {
        return std::borrow::Cow::Borrowed(solution);
    };
    let mut shown = solution.clone();
    for (m, exit) in shown.iterate.m.iter_mut().zip(exits) {
        for n in 0..m.levels() {
            for (v, e) in m.level_mut(n).iter_mut().zip(exit) {
                if *e {
                    *v = 0.0;
                }
            }
        }
    }
    std::borrow::Cow::Owned(shown)
}

/// Which field a picture shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// The density m^k.
    Density,
    /// The value function u^k.
    Value,
}

impl Quantity {
    fn file_tag(self) -> &'static str {
        match self {
            Quantity::Density => "m",
            Quantity::Value => "u",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Quantity::Density => "density m",
            Quantity::Value => "value function u",
        }
    }

    /// The colour map of the quantity: viridis for m ≥ 0, magma for u (distinct, so that a
    /// reader never mistakes one for the other; both perceptually uniform).
    pub fn map(self) -> ColourMap {
        match self {
            Quantity::Density => ColourMap::Viridis,
            Quantity::Value => ColourMap::Magma,
        }
    }

    fn fields(self, solution: &Solution) -> &[Field] {
        match self {
            Quantity::Density => &solution.iterate.m,
            Quantity::Value => &solution.iterate.u,
        }
    }
}

/// A rectangle of pixels: columns `x..x + w`, rows `y..y + h` (y grows downwards).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    /// Left edge, in pixels.
    pub x: i32,
    /// Top edge, in pixels.
    pub y: i32,
    /// Width, in pixels.
    pub w: u32,
    /// Height, in pixels.
    pub h: u32,
}

impl Rect {
    /// A rectangle from its top-left corner and size.
    pub fn new(x: i32, y: i32, w: u32, h: u32) -> Self {
        Rect { x, y, w, h }
    }

    /// One past the last column.
    pub fn right(&self) -> i32 {
        self.x + self.w as i32
    }

    /// One past the last row.
    pub fn bottom(&self) -> i32 {
        self.y + self.h as i32
    }

    /// Whether the two rectangles share a pixel.
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x < o.right() && o.x < self.right() && self.y < o.bottom() && o.y < self.bottom()
    }

    /// Whether `o` lies inside `self`.
    pub fn contains(&self, o: &Rect) -> bool {
        o.x >= self.x && o.y >= self.y && o.right() <= self.right() && o.bottom() <= self.bottom()
    }
}

/// One plotting rectangle of a picture.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// The population shown, if the panel shows one.
    pub population: Option<usize>,
    /// The time level shown, if the panel shows one level.
    pub level: Option<usize>,
    /// The plotting rectangle (inside the black frame, which runs one pixel outside it).
    pub rect: Rect,
    /// The title drawn above the panel.
    pub title: String,
}

/// A colour bar: the colour scale of one population's field.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Index of the population drawn.
    pub population: usize,
    /// What is drawn.
    pub quantity: Quantity,
    /// The values at the bottom and the top of the bar (the data's min and max).
    pub range: (f64, f64),
    /// The coloured strip (inside its frame): its top row shows `range.1`, its bottom row
    /// `range.0`.
    pub rect: Rect,
    /// The tick labels written beside it.
    pub ticks: Vec<String>,
}

/// Where a picture put things, and what its colour bars and arrows mean.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figure {
    /// Size of the picture (width, height).
    pub size: (u32, u32),
    /// Where each panel went.
    pub panels: Vec<Panel>,
    /// Where each colour bar went, with its range.
    pub bars: Vec<Bar>,
    /// Legend boxes (never inside a panel).
    pub legends: Vec<Rect>,
    /// Velocity pictures: per population, the speed |α| of an arrow one lattice step long.
    pub arrow_scales: Vec<f64>,
}

/// A snapshot: the time level drawn and the time that was asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Snapshot {
    /// The time level drawn.
    pub level: usize,
    /// The time asked for.
    pub requested: f64,
}

impl Snapshot {
    /// "t = 0.49", or "t = 0.49 (nearest level to 0.5)" when the requested time is not a level.
    pub fn describe(&self, time: &TimeGrid) -> (String, Option<String>) {
        let t = time.t(self.level);
        let main = format!("t = {}", format_time(t, time));
        let exact = (t - self.requested).abs() <= 1e-9 * time.horizon.max(1.0);
        let asked = match format!("{}", self.requested) {
            short if short.len() <= 6 => short,
            _ => axes::significant(self.requested, 4),
        };
        let note = (!exact).then(|| format!("(nearest level to {asked})"));
        (main, note)
    }
}

/// Registers the embedded DejaVu fonts with plotters (once per process).
pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped inside the `dejavu` crate.
        let f = axes::FONT;
        use plotters::style::FontStyle;
        let _ = plotters::style::register_font(f, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(f, FontStyle::Bold, dejavu::sans::bold());
        let _ = plotters::style::register_font(f, FontStyle::Italic, dejavu::sans::oblique());
    });
}

fn draw_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Refuses data holding NaN or ±∞ before anything is drawn or created.
fn check_finite(view: &View<'_>) -> Result<()> {
    let it = &view.solution.iterate;
    for (k, name) in view.names.iter().enumerate() {
        let mut fields = vec![("m".to_string(), &it.m[k]), ("u".to_string(), &it.u[k])];
        if let Some(c) = view.controls {
            for (a, f) in c[k].iter().enumerate() {
                fields.push((format!("alpha_{}", ["x", "y"][a]), f));
            }
        }
        for (field, f) in fields {
            if let Some((level, value)) = (0..f.levels())
                .find_map(|n| f.level(n).iter().find(|v| !v.is_finite()).map(|&v| (n, v)))
            {
                return Err(Error::NotFinite {
                    population: name.clone(),
                    field,
                    level: Some(level),
                    value,
                });
            }
        }
    }
    Ok(())
}

fn check_size(size: (u32, u32)) -> Result<()> {
    if size.0 < MIN_SIZE.0 || size.1 < MIN_SIZE.1 || size.0 > 8000 || size.1 > 8000 {
        return Err(Error::Invalid {
            field: "size".into(),
            reason: format!(
                "{}x{}: width and height must lie in {}..=8000 and {}..=8000",
                size.0, size.1, MIN_SIZE.0, MIN_SIZE.1
            ),
        });
    }
    Ok(())
}

/// The snapshots for the requested times (default: the levels nearest to 0, T/3, 2T/3, T): the
/// nearest level to each, a level asked for twice drawn once.
pub fn snapshot_levels(time: &TimeGrid, times: Option<&[f64]>) -> Result<Vec<Snapshot>> {
    let level = |t: f64| ((t / time.dt()).round() as usize).min(time.nt);
    let default: Vec<f64> = [0.0, 1.0 / 3.0, 2.0 / 3.0, 1.0]
        .iter()
        .map(|f| time.t(level(f * time.horizon)))
        .collect();
    let times = times.unwrap_or(&default);
    if times.is_empty() {
        return Err(Error::Invalid {
            field: "times".into(),
            reason: "at least one time is needed".into(),
        });
    }
    let mut out: Vec<Snapshot> = Vec::new();
    for &t in times {
        if !(t.is_finite() && t >= 0.0 && t <= time.horizon * (1.0 + 1e-12)) {
            return Err(Error::Invalid {
                field: "times".into(),
                reason: format!("{t} lies outside [0, {}]", time.horizon),
            });
        }
        let level = level(t);
        if !out.iter().any(|s| s.level == level) {
            out.push(Snapshot {
                level,
                requested: t,
            });
        }
    }
    Ok(out)
}

/// Draws every picture that fits the solution's dimension into `dir` (created if needed) and
/// returns the paths written.
pub fn render_all(view: &View<'_>, dir: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>> {
    check_size(options.size)?;
    check_finite(view)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let snaps = snapshot_levels(view.time, options.times.as_deref())?;
    let mut out = Vec::new();
    if view.grid.dim() == 1 {
        for k in 0..view.names.len() {
            for q in [Quantity::Density, Quantity::Value] {
                let p = dir.join(format!("{}_{}.png", view.names[k], q.file_tag()));
                heatmap_1d(view, k, q, &p, options.size)?;
                out.push(p);
            }
        }
        let p = dir.join("snapshots.png");
        profiles_1d(view, &snaps, &p, options.size)?;
        out.push(p);
    } else {
        let p = dir.join("snapshots.png");
        snapshots_2d(view, &snaps, &p, options.size)?;
        out.push(p);
        let p = dir.join("velocity.png");
        velocity_2d(view, &snaps, &p, options.size)?;
        out.push(p);
        let p = dir.join("evolution.gif");
        animation_2d(view, &p, options)?;
        out.push(p);
    }
    let p = dir.join("convergence.png");
    convergence(&view.solution.history, &p, options.size)?;
    out.push(p);
    let p = dir.join("mass.png");
    mass(view, &p, options.size)?;
    out.push(p);
    Ok(out)
}

/// Smallest and largest finite value (a constant field gets a small symmetric pad, so that a
/// scale never has zero width).
fn min_max(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo <= 1e-12 * hi.abs().max(lo.abs()).max(1e-300) {
        let pad = (hi.abs() * 1e-3).max(1e-12);
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

/// The colour scale of population k's field: its min and max over every time level, so that
/// all panels and frames of one population share it.
pub fn scale_of(view: &View<'_>, k: usize, quantity: Quantity) -> Scale {
    let (lo, hi) = min_max(quantity.fields(view.solution)[k].as_slice().iter().copied());
    Scale::new(lo, hi, quantity.map())
}

/// Node index of the point (x, y) on `grid` (the cell that contains it).
fn node_at(grid: &Grid, x: f64, y: f64) -> usize {
    let idx = |a: usize, v: f64| -> usize {
        let ax = grid.axes()[a];
        (((v - ax.min) / ax.h()).floor().max(0.0) as usize).min(ax.n - 1)
    };
    let ix = idx(0, x);
    if grid.dim() == 1 {
        ix
    } else {
        ix + grid.axes()[0].n * idx(1, y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_levels_round_and_check() {
        let t = TimeGrid::new(1.0, 10).unwrap();
        let levels = |s: Vec<Snapshot>| s.iter().map(|s| s.level).collect::<Vec<_>>();
        assert_eq!(
            levels(snapshot_levels(&t, None).unwrap()),
            vec![0, 3, 7, 10]
        );
        let s = snapshot_levels(&t, Some(&[0.26, 0.3])).unwrap();
        assert_eq!(levels(s.clone()), vec![3]);
        assert_eq!(s[0].requested, 0.26);
        assert!(snapshot_levels(&t, Some(&[1.5])).is_err());
        assert!(snapshot_levels(&t, Some(&[])).is_err());
    }

    #[test]
    fn titles_say_which_level_is_drawn() {
        let t = TimeGrid::new(1.5, 40).unwrap();
        let s = snapshot_levels(&t, Some(&[0.5, 0.75])).unwrap();
        assert_eq!(
            s[0].describe(&t),
            (
                "t = 0.49".to_string(),
                Some("(nearest level to 0.5)".into())
            )
        );
        assert_eq!(s[1].describe(&t), ("t = 0.75".to_string(), None));
        let s = snapshot_levels(&t, Some(&[1.0 / 3.0])).unwrap();
        assert_eq!(s[0].describe(&t).1.unwrap(), "(nearest level to 0.3333)");
        // The default times are levels: no note.
        let s = snapshot_levels(&t, None).unwrap();
        assert!(s.iter().all(|s| s.describe(&t).1.is_none()));
    }

    #[test]
    fn rectangles() {
        let a = Rect::new(0, 0, 10, 10);
        assert!(a.overlaps(&Rect::new(9, 9, 5, 5)));
        assert!(!a.overlaps(&Rect::new(10, 0, 5, 5)));
        assert!(a.contains(&Rect::new(2, 2, 8, 8)));
        assert!(!a.contains(&Rect::new(2, 2, 9, 8)));
    }
}
