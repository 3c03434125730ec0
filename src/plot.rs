//! Pictures of a solution (PNG, and GIF for 2D evolutions), drawn with `plotters` and the DejaVu
//! fonts embedded in the binary (no system fonts are needed).
//!
//! - 1D: an x–t heatmap of m and of u per population, with a colour bar; the densities of all
//!   populations at a few times;
//! - 2D: snapshots at chosen times with all populations overlaid in distinct colours, and an
//!   animated GIF of the evolution;
//! - always: the convergence history on a log scale and the mass of each population over time.
//!
//! Everything here is a pure function of the grids, the population names and a [`Solution`]: a
//! solution read back from a file plots exactly like one fresh from the solver.

use crate::field::Field;
use crate::grid::{Grid, TimeGrid};
use crate::solve::{Solution, StepStats};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Errors of the plotting layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A drawing operation failed (a backend or encoder error).
    #[error("{}: cannot draw: {message}", path.display())]
    Draw { path: PathBuf, message: String },
    /// The output directory cannot be created.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The options do not make sense (size too small, time outside [0, T]…).
    #[error("invalid plot option {field}: {reason}")]
    Invalid { field: String, reason: String },
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
    pub grid: &'a Grid,
    pub time: &'a TimeGrid,
    pub names: &'a [String],
    pub solution: &'a Solution,
}

/// Distinct colours for populations (the "tab10" palette).
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Colour of population k.
pub fn colour(k: usize) -> RGBColor {
    PALETTE[k % PALETTE.len()]
}

const FONT: &str = "sans-serif";

/// Registers the embedded DejaVu fonts with plotters (once per process).
pub fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid TrueType font shipped inside the `dejavu` crate.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
        let _ = plotters::style::register_font(FONT, FontStyle::Italic, dejavu::sans::oblique());
    });
}

fn draw_err<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
    move |e| Error::Draw {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Draws the series legend of a line chart (upper right) and writes the picture.
fn finish_with_legend<'a, CT>(
    chart: &mut ChartContext<'a, BitMapBackend<'a>, CT>,
    root: &DrawingArea<BitMapBackend<'a>, Shift>,
    path: &Path,
) -> Result<()>
where
    CT: CoordTranslate,
{
    let err = draw_err(path);
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font((FONT, 14))
        .border_style(BLACK)
        .background_style(WHITE.mix(0.85))
        .draw()
        .map_err(&err)?;
    root.present().map_err(&err)?;
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

/// The time levels of the snapshots: the nearest level to each requested time.
pub fn snapshot_levels(time: &TimeGrid, times: Option<&[f64]>) -> Result<Vec<usize>> {
    let default = [
        0.0,
        time.horizon / 3.0,
        2.0 * time.horizon / 3.0,
        time.horizon,
    ];
    let times = times.unwrap_or(&default);
    if times.is_empty() {
        return Err(Error::Invalid {
            field: "times".into(),
            reason: "at least one time is needed".into(),
        });
    }
    let mut levels = Vec::new();
    for &t in times {
        if !(t.is_finite() && t >= 0.0 && t <= time.horizon * (1.0 + 1e-12)) {
            return Err(Error::Invalid {
                field: "times".into(),
                reason: format!("{t} lies outside [0, {}]", time.horizon),
            });
        }
        let n = ((t / time.dt()).round() as usize).min(time.nt);
        if !levels.contains(&n) {
            levels.push(n);
        }
    }
    Ok(levels)
}

/// Draws every picture that fits the solution's dimension into `dir` (created if needed) and
/// returns the paths written.
pub fn render_all(view: &View<'_>, dir: &Path, options: &PlotOptions) -> Result<Vec<PathBuf>> {
    check_size(options.size)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let levels = snapshot_levels(view.time, options.times.as_deref())?;
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
        profiles_1d(view, &levels, &p, options.size)?;
        out.push(p);
    } else {
        let p = dir.join("snapshots.png");
        snapshots_2d(view, &levels, &p, options.size)?;
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

/// Which field a heatmap shows.
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
}

fn min_max(values: &[f64]) -> (f64, f64) {
    let (lo, hi) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
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

/// Tick label with a precision that fits the span of the axis.
fn tick(v: f64, span: f64) -> String {
    let scale = v.abs().max(span.abs());
    if scale != 0.0 && !(1e-3..1e5).contains(&scale) {
        return format!("{v:.2e}");
    }
    let digits = if span > 0.0 {
        (2.0 - span.log10().floor()).clamp(0.0, 8.0) as usize
    } else {
        3
    };
    format!("{v:.digits$}")
}

fn viridis(v: f64, lo: f64, hi: f64) -> RGBColor {
    let s = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
    ViridisRGB::get_color(s.clamp(0.0, 1.0) as f32)
}

/// Node index of the point (x, y) on `grid` (nearest cell).
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

/// x–t heatmap of m^k or u^k (1D) with a colour bar.
pub fn heatmap_1d(
    view: &View<'_>,
    k: usize,
    quantity: Quantity,
    path: &Path,
    size: (u32, u32),
) -> Result<()> {
    register_fonts();
    check_size(size)?;
    let err = draw_err(path);
    let field: &Field = match quantity {
        Quantity::Density => &view.solution.iterate.m[k],
        Quantity::Value => &view.solution.iterate.u[k],
    };
    let (lo, hi) = min_max(field.as_slice());
    let ax = view.grid.axes()[0];
    let (t_end, dt, nt) = (view.time.horizon, view.time.dt(), view.time.nt);

    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let bar_width = (size.0 / 7).clamp(90, 140);
    let (main, bar) = root.split_horizontally(size.0 - bar_width);
    let mut chart = ChartBuilder::on(&main)
        .caption(
            format!("{} — {}", quantity.label(), view.names[k]),
            (FONT, 20),
        )
        .margin(10)
        .x_label_area_size(40)
        .y_label_area_size(55)
        .build_cartesian_2d(ax.min..ax.max, 0.0..t_end)
        .map_err(&err)?;
    {
        let area = chart.plotting_area().strip_coord_spec();
        let (w, h) = area.dim_in_pixel();
        for j in 0..h {
            // Top row is t = T.
            let t = t_end * (1.0 - (f64::from(j) + 0.5) / f64::from(h));
            let n = ((t / dt).round() as usize).min(nt);
            let level = field.level(n);
            for i in 0..w {
                let x = ax.min + (ax.max - ax.min) * (f64::from(i) + 0.5) / f64::from(w);
                let c = viridis(level[node_at(view.grid, x, 0.0)], lo, hi);
                area.draw_pixel((i as i32, j as i32), &c).map_err(&err)?;
            }
        }
    }
    let span_x = ax.max - ax.min;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x")
        .y_desc("t")
        .x_label_formatter(&|v| tick(*v, span_x))
        .y_label_formatter(&|v| tick(*v, t_end))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(&err)?;
    colour_bar(&bar, lo, hi, &err)?;
    bar.draw(&Text::new(
        quantity.file_tag(),
        (bar_width as i32 / 2, 14),
        (FONT, 16).into_font(),
    ))
    .map_err(&err)?;
    root.present().map_err(&err)?;
    Ok(())
}

fn colour_bar<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    lo: f64,
    hi: f64,
    err: &dyn Fn(DrawingAreaErrorKind<DB::ErrorType>) -> Error,
) -> Result<()> {
    let mut chart = ChartBuilder::on(area)
        .margin_top(40)
        .margin_bottom(50)
        .margin_right(20)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..1.0, lo..hi)
        .map_err(err)?;
    {
        let a = chart.plotting_area().strip_coord_spec();
        let (w, h) = a.dim_in_pixel();
        for j in 0..h {
            let v = hi - (hi - lo) * (f64::from(j) + 0.5) / f64::from(h);
            let c = viridis(v, lo, hi);
            for i in 0..w {
                a.draw_pixel((i as i32, j as i32), &c).map_err(err)?;
            }
        }
    }
    let span = hi - lo;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(6)
        .y_label_formatter(&|v| tick(*v, span))
        .label_style((FONT, 13))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// Densities of all populations at the given levels (1D): one colour per population, lighter
/// for earlier times.
pub fn profiles_1d(view: &View<'_>, levels: &[usize], path: &Path, size: (u32, u32)) -> Result<()> {
    register_fonts();
    check_size(size)?;
    let err = draw_err(path);
    let ax = view.grid.axes()[0];
    let x = ax.nodes();
    let m = &view.solution.iterate.m;
    let hi = m
        .iter()
        .flat_map(|f| levels.iter().flat_map(move |&n| f.level(n).iter().copied()))
        .fold(0.0, f64::max)
        .max(1e-12);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let times: Vec<String> = levels
        .iter()
        .map(|&n| tick(view.time.t(n), view.time.horizon))
        .collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(format!("densities at t = {}", times.join(", ")), (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(ax.min..ax.max, 0.0..hi * 1.05)
        .map_err(&err)?;
    let span_x = ax.max - ax.min;
    chart
        .configure_mesh()
        .x_desc("x")
        .y_desc("m")
        .x_label_formatter(&|v| tick(*v, span_x))
        .y_label_formatter(&|v| tick(*v, hi))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .light_line_style(WHITE.mix(0.0))
        .draw()
        .map_err(&err)?;
    for (k, name) in view.names.iter().enumerate() {
        let base = colour(k);
        for (j, &n) in levels.iter().enumerate() {
            // Earlier times lighter: mix towards white.
            let w = 0.25 + 0.75 * (j as f64 + 1.0) / levels.len() as f64;
            let c = RGBColor(mix(base.0, w), mix(base.1, w), mix(base.2, w));
            let series = LineSeries::new(
                x.iter().copied().zip(m[k].level(n).iter().copied()),
                c.stroke_width(2),
            );
            let s = chart.draw_series(series).map_err(&err)?;
            if j + 1 == levels.len() {
                s.label(name.as_str()).legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 20, y)], base.stroke_width(3))
                });
            }
        }
    }
    finish_with_legend(&mut chart, &root, path)
}

/// Channel value mixed with white: w = 1 keeps the colour, w = 0 gives white.
fn mix(c: u8, w: f64) -> u8 {
    (255.0 - (255.0 - f64::from(c)) * w).round() as u8
}

/// Per-population maxima of m over all levels (the fixed colour scale of 2D pictures).
fn density_maxima(view: &View<'_>) -> Vec<f64> {
    view.solution
        .iterate
        .m
        .iter()
        .map(|f| f.as_slice().iter().copied().fold(0.0, f64::max).max(1e-300))
        .collect()
}

/// Draws the overlay of all densities at level n into `area` (2D): each population tints white
/// towards its colour by (m / max m)^½, like transparent inks laid over each other.
fn overlay_2d<DB: DrawingBackend>(
    view: &View<'_>,
    n: usize,
    maxima: &[f64],
    area: &DrawingArea<DB, Shift>,
    caption_size: u32,
    err: &dyn Fn(DrawingAreaErrorKind<DB::ErrorType>) -> Error,
) -> Result<()> {
    let axes = view.grid.axes();
    let (ax, ay) = (axes[0], axes[1]);
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("t = {}", tick(view.time.t(n), view.time.horizon)),
            (FONT, caption_size),
        )
        .margin(8)
        .x_label_area_size(32)
        .y_label_area_size(45)
        .build_cartesian_2d(ax.min..ax.max, ay.min..ay.max)
        .map_err(err)?;
    {
        let a = chart.plotting_area().strip_coord_spec();
        let (w, h) = a.dim_in_pixel();
        let levels: Vec<&[f64]> = view.solution.iterate.m.iter().map(|f| f.level(n)).collect();
        let cols: Vec<[f64; 3]> = (0..levels.len())
            .map(|k| {
                let c = colour(k);
                [f64::from(c.0), f64::from(c.1), f64::from(c.2)]
            })
            .collect();
        for j in 0..h {
            let y = ay.max - (ay.max - ay.min) * (f64::from(j) + 0.5) / f64::from(h);
            for i in 0..w {
                let x = ax.min + (ax.max - ax.min) * (f64::from(i) + 0.5) / f64::from(w);
                let node = node_at(view.grid, x, y);
                let mut rgb = [1.0f64; 3];
                for (k, level) in levels.iter().enumerate() {
                    let a = (level[node] / maxima[k]).clamp(0.0, 1.0).sqrt();
                    for (c, col) in rgb.iter_mut().zip(cols[k]) {
                        *c *= 1.0 - a * (1.0 - col / 255.0);
                    }
                }
                let px = RGBColor(
                    (rgb[0] * 255.0).round() as u8,
                    (rgb[1] * 255.0).round() as u8,
                    (rgb[2] * 255.0).round() as u8,
                );
                a.draw_pixel((i as i32, j as i32), &px).map_err(err)?;
            }
        }
    }
    let (sx, sy) = (ax.max - ax.min, ay.max - ay.min);
    chart
        .configure_mesh()
        .disable_mesh()
        .x_desc("x")
        .y_desc("y")
        .x_labels(7)
        .y_labels(if area.dim_in_pixel().1 < 250 { 3 } else { 6 })
        .x_label_formatter(&|v| tick(*v, sx))
        .y_label_formatter(&|v| tick(*v, sy))
        .label_style((FONT, 12))
        .axis_desc_style((FONT, 14))
        .draw()
        .map_err(err)?;
    Ok(())
}

/// A strip with one coloured square and name per population.
fn legend<DB: DrawingBackend>(
    view: &View<'_>,
    area: &DrawingArea<DB, Shift>,
    note: &str,
    err: &dyn Fn(DrawingAreaErrorKind<DB::ErrorType>) -> Error,
) -> Result<()> {
    let (_, h) = area.dim_in_pixel();
    let y = (h as i32 - 14) / 2;
    let mut x = 12;
    let style = TextStyle::from((FONT, 15).into_font()).color(&BLACK);
    for (k, name) in view.names.iter().enumerate() {
        area.draw(&Rectangle::new(
            [(x, y), (x + 14, y + 14)],
            colour(k).filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(name.clone(), (x + 20, y - 1), style.clone()))
            .map_err(err)?;
        let (tw, _) = area.estimate_text_size(name, &style).map_err(err)?;
        x += 20 + tw as i32 + 24;
    }
    let small = TextStyle::from((FONT, 12).into_font()).color(&RGBColor(90, 90, 90));
    area.draw(&Text::new(note.to_string(), (x + 6, y + 1), small))
        .map_err(err)?;
    Ok(())
}

const OVERLAY_NOTE: &str = "colour intensity ~ sqrt(m / max m) per population";

/// Snapshots of all populations at the given levels (2D), one panel per time.
pub fn snapshots_2d(
    view: &View<'_>,
    levels: &[usize],
    path: &Path,
    size: (u32, u32),
) -> Result<()> {
    register_fonts();
    check_size(size)?;
    let err = draw_err(path);
    let maxima = density_maxima(view);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let (top, bottom) = root.split_vertically(size.1.saturating_sub(32));
    let axes = view.grid.axes();
    let aspect = (axes[0].max - axes[0].min) / (axes[1].max - axes[1].min);
    let cols = if aspect >= 2.0 || levels.len() == 1 {
        1
    } else {
        2
    };
    let rows = levels.len().div_ceil(cols);
    let panels = top.split_evenly((rows, cols));
    for (panel, &n) in panels.iter().zip(levels) {
        overlay_2d(view, n, &maxima, panel, 15, &err)?;
    }
    legend(view, &bottom, OVERLAY_NOTE, &err)?;
    root.present().map_err(&err)?;
    Ok(())
}

/// Animated GIF of the densities of all populations over time (2D).
pub fn animation_2d(view: &View<'_>, path: &Path, options: &PlotOptions) -> Result<()> {
    register_fonts();
    check_size(options.size)?;
    let err = draw_err(path);
    let maxima = density_maxima(view);
    let nt = view.time.nt;
    let frames = options.max_frames.clamp(2, nt + 1);
    let mut levels: Vec<usize> = (0..frames)
        .map(|f| ((f as f64) * nt as f64 / (frames - 1) as f64).round() as usize)
        .collect();
    levels.dedup();
    let root = BitMapBackend::gif(path, options.size, options.frame_delay_ms)
        .map_err(draw_err(path))?
        .into_drawing_area();
    for &n in &levels {
        root.fill(&WHITE).map_err(&err)?;
        let (top, bottom) = root.split_vertically(options.size.1.saturating_sub(32));
        overlay_2d(view, n, &maxima, &top, 20, &err)?;
        legend(view, &bottom, OVERLAY_NOTE, &err)?;
        root.present().map_err(&err)?;
    }
    Ok(())
}

/// Convergence history on a log scale: residual, ‖Δu‖∞ and ‖Δm‖₁ per iteration.
pub fn convergence(history: &[StepStats], path: &Path, size: (u32, u32)) -> Result<()> {
    register_fonts();
    check_size(size)?;
    let err = draw_err(path);
    type Pick = fn(&StepStats) -> f64;
    let series: [(&str, Pick, RGBColor); 3] = [
        ("residual", |s| s.residual, colour(0)),
        ("max |Δu|", |s| s.delta_u, colour(1)),
        ("max ‖Δm‖₁", |s| s.delta_m, colour(2)),
    ];
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for s in history {
        for (_, f, _) in &series {
            let v = f(s);
            if positive(v) {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (1e-16, 1.0);
    }
    if hi <= lo * 10.0 {
        hi = lo * 10.0;
    }
    let (lo, hi) = (lo / 2.0, hi * 2.0);
    let last = history.last().map_or(1, |s| s.iteration).max(2) as f64;
    let first = history.first().map_or(1, |s| s.iteration) as f64;
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("convergence ({} iterations)", history.len()),
            (FONT, 20),
        )
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(first.min(last - 1.0)..last, (lo..hi).log_scale())
        .map_err(&err)?;
    chart
        .configure_mesh()
        .x_desc("iteration")
        .y_desc("size (log scale)")
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0e}"))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(&err)?;
    for (name, f, c) in series {
        let points: Vec<(f64, f64)> = history
            .iter()
            .map(|s| (s.iteration as f64, f(s)))
            .filter(|(_, v)| positive(*v))
            .collect();
        chart
            .draw_series(LineSeries::new(points, c.stroke_width(2)))
            .map_err(&err)?
            .label(name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    }
    finish_with_legend(&mut chart, &root, path)
}

/// Mass Σ_i m_i h^d of every population over time.
pub fn mass(view: &View<'_>, path: &Path, size: (u32, u32)) -> Result<()> {
    register_fonts();
    check_size(size)?;
    let err = draw_err(path);
    let t = view.time.levels();
    let masses: Vec<Vec<f64>> = view
        .solution
        .iterate
        .m
        .iter()
        .map(|f| {
            (0..f.levels())
                .map(|n| view.grid.integrate(f.level(n)))
                .collect()
        })
        .collect();
    let all: Vec<f64> = masses.iter().flatten().copied().collect();
    let (lo, hi) = min_max(&all);
    let pad = 0.1 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let root = BitMapBackend::new(path, size).into_drawing_area();
    root.fill(&WHITE).map_err(&err)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("mass per population  Σ m h^d", (FONT, 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(90)
        .build_cartesian_2d(0.0..view.time.horizon, lo..hi)
        .map_err(&err)?;
    let span = hi - lo;
    let horizon = view.time.horizon;
    chart
        .configure_mesh()
        .x_desc("t")
        .y_desc("mass")
        .x_label_formatter(&|v| tick(*v, horizon))
        .y_label_formatter(&|v| tick(*v, span))
        .label_style((FONT, 14))
        .axis_desc_style((FONT, 16))
        .draw()
        .map_err(&err)?;
    let count = view.names.len() as u32;
    for (k, name) in view.names.iter().enumerate() {
        let c = colour(k);
        // Earlier populations drawn thicker, so that equal masses stay visible.
        let width = 2 + 2 * (count - 1 - k as u32).min(4);
        chart
            .draw_series(LineSeries::new(
                t.iter().copied().zip(masses[k].iter().copied()),
                c.stroke_width(width),
            ))
            .map_err(&err)?
            .label(name.as_str())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(3)));
    }
    finish_with_legend(&mut chart, &root, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_fit_the_span() {
        assert_eq!(tick(0.5, 1.0), "0.50");
        assert_eq!(tick(1.25, 0.1), "1.250");
        assert_eq!(tick(1e-6, 1e-6), "1.00e-6");
    }

    #[test]
    fn snapshot_levels_round_and_check() {
        let t = TimeGrid::new(1.0, 10).unwrap();
        assert_eq!(snapshot_levels(&t, None).unwrap(), vec![0, 3, 7, 10]);
        assert_eq!(snapshot_levels(&t, Some(&[0.26, 0.3])).unwrap(), vec![3]);
        assert!(snapshot_levels(&t, Some(&[1.5])).is_err());
    }
}
