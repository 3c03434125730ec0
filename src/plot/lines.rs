//! Line charts: the 1D densities m^k(t_n, ·) at the snapshot times (one panel per population),
//! the convergence history of the outer iteration and the mass Σ_i m^k_i h^d over time.
//!
//! Legends sit in a strip between a chart's title and its plotting rectangle, never over the
//! curves.

use super::axes::{self, Axis, Entry, Fonts};
use super::canvas::{Area, AreaError, Canvas};
use super::colours::{colour, lighten};
use super::{
    check_size, min_max, register_fonts, Error, Figure, Panel, Rect, Result, Snapshot, View,
};
use crate::solve::StepStats;
use plotters::coord::ranged1d::{AsRangedCoord, Ranged, ValueFormatter};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
use std::path::Path;

/// One curve.
pub(super) struct Series {
    pub points: Vec<(f64, f64)>,
    pub colour: RGBColor,
    pub width: u32,
}

/// The y axis of a chart: its coordinate, its description and the labels it can show (for the
/// width of its label area).
pub(super) struct YAxis<'a, Y> {
    coord: Y,
    desc: &'a str,
    labels: Vec<String>,
    format: Box<dyn Fn(&f64) -> String>,
    count: usize,
}

/// Labels of `range` as [`axes::ticks`] with `n` points gives them: plotters asks for the same
/// key points, and gets labels of one shared precision.
fn linear_format(range: (f64, f64), n: usize) -> impl Fn(&f64) -> String {
    let values = axes::ticks(range.0, range.1, n);
    let labels = axes::tick_labels(&values);
    move |v: &f64| {
        let i = values
            .iter()
            .enumerate()
            .min_by(|a, b| (a.1 - v).abs().total_cmp(&(b.1 - v).abs()))
            .map_or(0, |(i, _)| i);
        labels.get(i).cloned().unwrap_or_default()
    }
}

/// What a chart shows: `series` over `x` × `y`.
pub(super) struct Chart<'a, Y> {
    pub x: Axis<'a>,
    pub y: YAxis<'a, Y>,
    pub series: &'a [Series],
}

/// Draws `chart` into `area`; returns the plotting rectangle.
pub(super) fn chart<Y>(
    root: &Area<'_>,
    area: Rect,
    chart: Chart<'_, Y>,
    f: &Fonts,
    path: &Path,
    err: &dyn Fn(AreaError) -> Error,
) -> Result<Rect>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let Chart { x, y, series } = chart;
    let mut widest = 0;
    for l in &y.labels {
        widest = widest.max(axes::measure(l, f.tick, path)?.0);
    }
    let left = widest + 2 * axes::TICK as u32 + f.label + 12;
    let bottom = if x.labels {
        axes::x_axis_height(f) + 4
    } else {
        axes::TICK as u32 + f.tick + 8
    };
    let right = axes::widest_label(x.range, f.tick, path)? / 2 + 6;
    let plot_w = area.w.saturating_sub(left + right);
    let nx = (plot_w / 70).clamp(2, 10) as usize;
    let fx = linear_format(x.range, nx);
    let sub = root.clone().shrink((area.x, area.y), (area.w, area.h));
    let mut c = ChartBuilder::on(&sub)
        .margin_right(right)
        .margin_left(6)
        .margin_top(4)
        .x_label_area_size(bottom)
        .y_label_area_size(left)
        .build_cartesian_2d(x.range.0..x.range.1, y.coord)
        .map_err(err)?;
    let mut mesh = c.configure_mesh();
    mesh.x_labels(nx)
        .y_labels(y.count)
        .x_label_formatter(&fx)
        .y_label_formatter(&*y.format)
        .y_desc(y.desc)
        .label_style((axes::FONT, f.tick))
        .axis_desc_style((axes::FONT, f.label))
        .bold_line_style(BLACK.mix(0.12))
        .light_line_style(TRANSPARENT);
    if x.labels {
        mesh.x_desc(x.desc);
    }
    mesh.draw().map_err(err)?;
    for s in series {
        c.draw_series(LineSeries::new(
            s.points.iter().copied(),
            s.colour.stroke_width(s.width),
        ))
        .map_err(err)?;
    }
    let (xs, ys) = c.plotting_area().get_pixel_range();
    Ok(Rect::new(
        xs.start,
        ys.start,
        (xs.end - xs.start) as u32,
        (ys.end - ys.start) as u32,
    ))
}

/// A linear y axis over `range` for a chart `height` pixels tall.
pub(super) fn linear_y(
    range: (f64, f64),
    desc: &str,
    height: u32,
) -> YAxis<'_, std::ops::Range<f64>> {
    let count = (height / 40).clamp(2, 8) as usize;
    YAxis {
        coord: range.0..range.1,
        desc,
        labels: axes::tick_labels(&axes::ticks(range.0, range.1, count)),
        format: Box::new(linear_format(range, count)),
        count,
    }
}

/// The rows of a figure under its title: the title strip's height.
pub(super) fn title_strip(f: &Fonts) -> u32 {
    f.title + 14
}

/// A picture of one chart: its title, a legend strip below it, then the chart that `draw`
/// puts into the area left (returning its plotting rectangle); written to `path`.
fn single_chart(
    size: (u32, u32),
    path: &Path,
    title: &str,
    entries: &[Entry],
    f: &Fonts,
    draw: impl FnOnce(&Area<'_>, Rect, &dyn Fn(AreaError) -> Error) -> Result<Rect>,
) -> Result<Figure> {
    let mut canvas = Canvas::new(size);
    let figure = canvas.draw(path, |root, err| {
        let t = title_strip(f);
        let at = (size.0 as i32 / 2, t as i32 / 2 + 2);
        axes::centred(
            root,
            axes::Label {
                text: title,
                px: f.title,
                at,
                width: size.0 - 8,
                colour: BLACK,
            },
            path,
            err,
        )?;
        let strip = Rect::new(60, t as i32, size.0.saturating_sub(80), 0);
        let h = axes::legend_height(entries, strip.w, f.note + 1, path)?;
        let legend = axes::draw_legend(root, Rect { h, ..strip }, entries, f.note + 1, path, err)?;
        let below = t + h + 4;
        let area = Rect::new(0, below as i32, size.0, size.1.saturating_sub(below + 4));
        let rect = draw(root, area, err)?;
        Ok(Figure {
            size,
            panels: vec![Panel {
                population: None,
                level: None,
                rect,
                title: title.to_string(),
            }],
            legends: vec![legend],
            ..Figure::default()
        })
    })?;
    canvas.save_png(path)?;
    Ok(figure)
}

/// Densities m^k of the populations at the snapshots (1D): one panel per population, each
/// with its own absolute y scale and a time legend (lighter = earlier).
pub fn profiles_1d(
    view: &View<'_>,
    snaps: &[Snapshot],
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    if snaps.is_empty() {
        return Err(Error::Invalid {
            field: "times".into(),
            reason: "at least one time is needed".into(),
        });
    }
    let f = Fonts::for_size(size);
    let ax = view.grid.axes()[0];
    let x = ax.nodes();
    let m = &view.solution.iterate.m;
    let k_count = view.names.len();
    let shade = |j: usize| {
        if snaps.len() == 1 {
            1.0
        } else {
            0.3 + 0.7 * j as f64 / (snaps.len() - 1) as f64
        }
    };
    let labels: Vec<String> = snaps
        .iter()
        .map(|s| match s.describe(view.time) {
            (t, Some(note)) => format!("{t} {note}"),
            (t, None) => t,
        })
        .collect();
    let mut canvas = Canvas::new(size);
    let figure = canvas.draw(path, |root, err| {
        let top = title_strip(&f);
        let title = "density m at the snapshot times, one panel per population (lighter = earlier)";
        axes::centred(
            root,
            axes::Label {
                text: title,
                px: f.title,
                at: (size.0 as i32 / 2, top as i32 / 2 + 2),
                width: size.0 - 8,
                colour: BLACK,
            },
            path,
            err,
        )?;
        let mut fig = Figure {
            size,
            ..Figure::default()
        };
        let cell = (size.1 - top - 4) / k_count as u32;
        for (k, name) in view.names.iter().enumerate() {
            let y0 = (top + k as u32 * cell) as i32;
            let base = colour(k);
            let entries: Vec<Entry> = labels
                .iter()
                .enumerate()
                .map(|(j, l)| Entry {
                    label: l.clone(),
                    colour: lighten(base, shade(j)),
                })
                .collect();
            // Name, then the legend strip, then the chart.
            let (nw, _) = axes::measure(name, f.label, path)?;
            let name_style = axes::anchored(f.label, HPos::Left, VPos::Top).color(&base);
            root.draw_text(name, &name_style, (8, y0 + 2))
                .map_err(err)?;
            let strip = Rect::new(
                8 + nw as i32 + 16,
                y0 + 2,
                size.0.saturating_sub(nw + 40),
                0,
            );
            let h = axes::legend_height(&entries, strip.w, f.note, path)?;
            let legend = axes::draw_legend(root, Rect { h, ..strip }, &entries, f.note, path, err)?;
            let chart_top = y0 + (h.max(f.label + 4) + 4) as i32;
            let area = Rect::new(
                0,
                chart_top,
                size.0,
                (y0 + cell as i32 - chart_top).max(1) as u32,
            );
            let hi = snaps
                .iter()
                .flat_map(|s| m[k].level(s.level).iter().copied())
                .filter(|v| v.is_finite())
                .fold(0.0, f64::max)
                .max(1e-12)
                * 1.05;
            let series: Vec<Series> = snaps
                .iter()
                .enumerate()
                .map(|(j, s)| Series {
                    points: x
                        .iter()
                        .copied()
                        .zip(m[k].level(s.level).iter().copied())
                        .collect(),
                    colour: lighten(base, shade(j)),
                    width: 2,
                })
                .collect();
            let y = linear_y((0.0, hi), "m", area.h);
            let xa = Axis {
                range: (ax.min, ax.max),
                desc: "x",
                labels: k + 1 == k_count,
            };
            let rect = chart(
                root,
                area,
                Chart {
                    x: xa,
                    y,
                    series: &series,
                },
                &f,
                path,
                err,
            )?;
            fig.panels.push(Panel {
                population: Some(k),
                level: None,
                rect,
                title: name.clone(),
            });
            fig.legends.push(legend);
        }
        Ok(fig)
    })?;
    canvas.save_png(path)?;
    Ok(figure)
}

/// Convergence history on a log scale: residual, ‖Δu‖∞ and ‖Δm‖₁ per iteration.
pub fn convergence(history: &[StepStats], path: &Path, size: (u32, u32)) -> Result<Figure> {
    type Pick = fn(&StepStats) -> f64;
    let picks: [(&str, Pick, RGBColor); 3] = [
        ("residual", |s| s.residual, colour(0)),
        ("max |Δu|", |s| s.delta_u, colour(1)),
        ("max ‖Δm‖₁", |s| s.delta_m, colour(2)),
    ];
    let curves: Vec<Curve> = picks
        .iter()
        .map(|(n, p, c)| Curve {
            label: n.to_string(),
            points: history.iter().map(|s| (s.iteration as f64, p(s))).collect(),
            colour: *c,
            width: 2,
        })
        .collect();
    let title = format!("convergence ({} iterations)", history.len());
    log_chart(&curves, &title, "iteration", "size (log scale)", path, size)
}

/// A named curve of [`log_chart`].
pub(super) struct Curve {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    pub colour: RGBColor,
    pub width: u32,
}

/// Curves on a log y scale with a legend, over an x axis of iterations starting at the first
/// point; values that are not positive and finite are left out.
pub(super) fn log_chart(
    curves: &[Curve],
    title: &str,
    x_desc: &str,
    y_desc: &str,
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    let f = Fonts::for_size(size);
    let positive = |v: f64| v.is_finite() && v > 0.0;
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    let (mut first, mut last) = (f64::INFINITY, f64::NEG_INFINITY);
    for &(x, v) in curves.iter().flat_map(|c| &c.points) {
        first = first.min(x);
        last = last.max(x);
        if positive(v) {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if !lo.is_finite() {
        (lo, hi) = (1e-16, 1.0);
    }
    if hi <= lo * 10.0 {
        hi = lo * 10.0;
    }
    let (lo, hi) = (lo / 2.0, hi * 2.0);
    if !first.is_finite() {
        (first, last) = (1.0, 2.0);
    }
    let last = last.max(2.0);
    let series: Vec<Series> = curves
        .iter()
        .map(|c| Series {
            points: c
                .points
                .iter()
                .copied()
                .filter(|(_, v)| positive(*v))
                .collect(),
            colour: c.colour,
            width: c.width,
        })
        .collect();
    let entries: Vec<Entry> = curves
        .iter()
        .map(|c| Entry {
            label: c.label.clone(),
            colour: c.colour,
        })
        .collect();
    let decades: Vec<String> = (lo.log10().floor() as i32..=hi.log10().ceil() as i32)
        .map(|e| format!("{:.0e}", 10f64.powi(e)))
        .collect();
    single_chart(size, path, title, &entries, &f, |root, area, err| {
        let y = YAxis {
            coord: (lo..hi).log_scale(),
            desc: y_desc,
            labels: decades,
            format: Box::new(|v: &f64| format!("{v:.0e}")),
            count: (area.h / 40).clamp(2, 12) as usize,
        };
        let x = Axis {
            range: (first.min(last - 1.0), last),
            desc: x_desc,
            labels: true,
        };
        chart(
            root,
            area,
            Chart {
                x,
                y,
                series: &series,
            },
            &f,
            path,
            err,
        )
    })
}

/// Mass Σ_i m_i h^d of every population over time.
pub fn mass(view: &View<'_>, path: &Path, size: (u32, u32)) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    let f = Fonts::for_size(size);
    let t = view.time.levels();
    let masses: Vec<Vec<f64>> = view
        .solution
        .iterate
        .m
        .iter()
        .map(|m| {
            (0..m.levels())
                .map(|n| view.grid.integrate(m.level(n)))
                .collect()
        })
        .collect();
    let (lo, hi) = min_max(masses.iter().flatten().copied());
    let pad = 0.1 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let count = view.names.len() as u32;
    let series: Vec<Series> = masses
        .iter()
        .enumerate()
        .map(|(k, m)| Series {
            points: t.iter().copied().zip(m.iter().copied()).collect(),
            colour: colour(k),
            // Earlier populations drawn thicker, so that equal masses stay visible.
            width: 2 + 2 * (count - 1 - k as u32).min(4),
        })
        .collect();
    let entries: Vec<Entry> = view
        .names
        .iter()
        .enumerate()
        .map(|(k, n)| Entry {
            label: n.clone(),
            colour: colour(k),
        })
        .collect();
    let title = "mass per population  Σ m h^d";
    single_chart(size, path, title, &entries, &f, |root, area, err| {
        let y = linear_y((lo, hi), "mass", area.h);
        let x = Axis {
            range: (0.0, view.time.horizon),
            desc: "t",
            labels: true,
        };
        chart(
            root,
            area,
            Chart {
                x,
                y,
                series: &series,
            },
            &f,
            path,
            err,
        )
    })
}
