//! Pictures of a stationary solution (docs/geometry.md, "Stationary problems"): the fields
//! m^k(x) and u^k(x) of every population, without time, and λ^k in the titles.
//!
//! - 1D: `stationary.png`, one row per population, m^k on the left and u^k on the right, each
//!   with its own absolute y scale;
//! - 2D: `stationary_m.png` and `stationary_u.png`, one panel per population with its own colour
//!   bar in absolute units (viridis for m, magma for u, as for finite horizons), nodes outside
//!   the population's state space in light grey;
//! - `convergence.png`, the history of the relaxation, as for a finite horizon.

use super::axes::{self, Axis, Fonts};
use super::canvas::Canvas;
use super::colours::{colour, removed, Scale};
use super::lines::{chart, convergence, linear_y, title_strip, Chart, Series};
use super::{
    check_size, min_max, node_at, register_fonts, Bar, Error, Figure, Panel, PlotOptions, Quantity,
    Rect, Result,
};
use crate::grid::Grid;
use crate::solve::stationary::StationarySolution;
use plotters::style::BLACK;
use std::path::{Path, PathBuf};

/// What the stationary pictures show.
#[derive(Debug, Clone, Copy)]
pub struct StationaryView<'a> {
    /// The spatial grid.
    pub grid: &'a Grid,
    /// Population names, in order.
    pub names: &'a [String],
    /// The solution drawn.
    pub solution: &'a StationarySolution,
    /// Each population's state space, if known (2D: removed nodes drawn grey).
    pub live: Option<&'a [Vec<bool>]>,
}

impl StationaryView<'_> {
    fn field(&self, k: usize, q: Quantity) -> &[f64] {
        match q {
            Quantity::Density => &self.solution.m[k],
            Quantity::Value => &self.solution.u[k],
        }
    }

    fn is_live(&self, k: usize, i: usize) -> bool {
        self.live.is_none_or(|l| l[k][i])
    }

    /// min..max of the field over the population's state space.
    fn range(&self, k: usize, q: Quantity) -> (f64, f64) {
        let f = self.field(k, q);
        min_max((0..f.len()).filter(|&i| self.is_live(k, i)).map(|i| f[i]))
    }

    fn title(&self, k: usize, q: Quantity) -> String {
        let lambda = self.solution.lambda[k];
        let what = match q {
            Quantity::Density => "m",
            Quantity::Value => "u",
        };
        if q == Quantity::Value && lambda != 0.0 {
            format!(
                "{what} of {} (λ = {})",
                self.names[k],
                axes::significant(lambda, 5)
            )
        } else {
            format!("{what} of {}", self.names[k])
        }
    }
}

/// Draws every stationary picture into `dir` (created if needed); returns the files written.
pub fn render_stationary(
    view: &StationaryView<'_>,
    dir: &Path,
    options: &PlotOptions,
) -> Result<Vec<PathBuf>> {
    check_size(options.size)?;
    for (k, name) in view.names.iter().enumerate() {
        for (field, q) in [("m", Quantity::Density), ("u", Quantity::Value)] {
            if let Some(&v) = view.field(k, q).iter().find(|v| !v.is_finite()) {
                return Err(Error::NotFinite {
                    population: name.clone(),
                    field: field.into(),
                    level: None,
                    value: v,
                });
            }
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    if view.grid.dim() == 1 {
        let p = dir.join("stationary.png");
        stationary_1d(view, &p, options.size)?;
        out.push(p);
    } else {
        for q in [Quantity::Density, Quantity::Value] {
            let p = dir.join(format!("stationary_{}.png", q.file_tag()));
            stationary_2d(view, q, &p, options.size)?;
            out.push(p);
        }
    }
    let p = dir.join("convergence.png");
    convergence(&view.solution.history, &p, options.size)?;
    out.push(p);
    Ok(out)
}

/// 1D: one row per population, m^k(x) left and u^k(x) right.
pub fn stationary_1d(view: &StationaryView<'_>, path: &Path, size: (u32, u32)) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    let f = Fonts::for_size(size);
    let ax = view.grid.axes()[0];
    let x = ax.nodes();
    let k_count = view.names.len();
    let mut canvas = Canvas::new(size);
    let figure = canvas.draw(path, |root, err| {
        let top = title_strip(&f);
        axes::centred(
            root,
            axes::Label {
                text: "stationary solution: density m (left) and value function u (right)",
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
        let cell_h = (size.1 - top - 4) / k_count as u32;
        let cell_w = size.0 / 2;
        for k in 0..k_count {
            for (c, q) in [Quantity::Density, Quantity::Value].into_iter().enumerate() {
                let title = view.title(k, q);
                let x0 = (c as u32 * cell_w) as i32;
                let y0 = (top + k as u32 * cell_h) as i32;
                let label_h = f.label + 6;
                axes::centred(
                    root,
                    axes::Label {
                        text: &title,
                        px: f.label,
                        at: (x0 + cell_w as i32 / 2, y0 + label_h as i32 / 2),
                        width: cell_w - 8,
                        colour: BLACK,
                    },
                    path,
                    err,
                )?;
                let area = Rect::new(x0, y0 + label_h as i32, cell_w, cell_h - label_h);
                let values = view.field(k, q);
                let points = x.iter().copied().zip(values.iter().copied()).collect();
                let series = [Series {
                    points,
                    colour: colour(k),
                    width: 2,
                }];
                let rect = chart(
                    root,
                    area,
                    Chart {
                        x: Axis {
                            range: (ax.min, ax.max),
                            desc: "x",
                            labels: k + 1 == k_count,
                        },
                        y: linear_y(view.range(k, q), q.file_tag(), area.h),
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
                    title,
                });
            }
        }
        Ok(fig)
    })?;
    canvas.save_png(path)?;
    Ok(figure)
}

/// 2D: one heatmap of m^k or u^k per population, side by side, each with its colour bar.
pub fn stationary_2d(
    view: &StationaryView<'_>,
    q: Quantity,
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    let f = Fonts::for_size(size);
    let a = view.grid.axes();
    let (xr, yr) = ((a[0].min, a[0].max), (a[1].min, a[1].max));
    let aspect = (xr.1 - xr.0) / (yr.1 - yr.0);
    let k_count = view.names.len();
    let scales: Vec<Scale> = (0..k_count)
        .map(|k| {
            let (lo, hi) = view.range(k, q);
            Scale::new(lo, hi, q.map())
        })
        .collect();
    let top = title_strip(&f) + f.label + 8;
    let (margin, bottom) = (6, axes::x_axis_height(&f));
    let left = axes::y_axis_width(yr, "y", &f, path)?;
    let bar_gap = (axes::widest_label(xr, f.tick, path)? / 2 + 4).max(12);
    let cell_w = size.0 / k_count as u32;
    let mut plots = Vec::with_capacity(k_count);
    for (k, s) in scales.iter().enumerate() {
        let right = bar_gap + axes::bar_width(s, &f, path)?;
        let (w_max, h_max) = (
            cell_w.saturating_sub(2 * margin + left + right),
            size.1.saturating_sub(2 * margin + top + bottom),
        );
        // Keep the domain's aspect ratio: fit the rectangle into its cell.
        let (w, h) = if f64::from(w_max) / f64::from(h_max.max(1)) > aspect {
            ((f64::from(h_max) * aspect) as u32, h_max)
        } else {
            (w_max, (f64::from(w_max) / aspect) as u32)
        };
        if w < 8 || h < 8 {
            return Err(Error::Invalid {
                field: "size".into(),
                reason: format!("{}x{} leaves no room for {k_count} panels", size.0, size.1),
            });
        }
        let x = k as u32 * cell_w + margin + left;
        let plot = Rect::new(x as i32, (margin + top) as i32, w, h);
        let strip = Rect::new(plot.right() + bar_gap as i32, plot.y, axes::BAR_STRIP, h);
        plots.push((plot, strip));
    }
    let mut canvas = Canvas::new(size);
    for (k, (plot, strip)) in plots.iter().enumerate() {
        let values = view.field(k, q);
        let (w, h) = (plot.w, plot.h);
        canvas.fill(*plot, |i, j| {
            let x = xr.0 + (xr.1 - xr.0) * (f64::from(i) + 0.5) / f64::from(w);
            let y = yr.1 - (yr.1 - yr.0) * (f64::from(j) + 0.5) / f64::from(h);
            let n = node_at(view.grid, x, y);
            if view.is_live(k, n) {
                scales[k].colour(values[n])
            } else {
                removed()
            }
        });
        axes::fill_bar(&mut canvas, *strip, &scales[k]);
    }
    let heading = match q {
        Quantity::Density => "stationary density m, one colour bar per population",
        Quantity::Value => "stationary value function u, one colour bar per population",
    };
    let figure = canvas.draw(path, |root, err| {
        axes::centred(
            root,
            axes::Label {
                text: heading,
                px: f.title,
                at: (size.0 as i32 / 2, (title_strip(&f) / 2 + 2) as i32),
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
        for (k, (plot, strip)) in plots.iter().enumerate() {
            let title = view.title(k, q);
            axes::centred(
                root,
                axes::Label {
                    text: &title,
                    px: f.label,
                    at: (
                        plot.x + plot.w as i32 / 2,
                        plot.y - (f.label as i32) / 2 - 4,
                    ),
                    width: cell_w - 8,
                    colour: BLACK,
                },
                path,
                err,
            )?;
            let (xa, ya) = (
                Axis {
                    range: xr,
                    desc: "x",
                    labels: true,
                },
                Axis {
                    range: yr,
                    desc: "y",
                    labels: true,
                },
            );
            axes::framed_axes(root, *plot, xa, ya, &f, path, err)?;
            let ticks = axes::draw_bar(root, *strip, &scales[k], q.file_tag(), &f, path, err)?;
            fig.panels.push(Panel {
                population: Some(k),
                level: None,
                rect: *plot,
                title,
            });
            fig.bars.push(Bar {
                population: k,
                quantity: q,
                range: (scales[k].lo, scales[k].hi),
                rect: *strip,
                ticks,
            });
        }
        Ok(fig)
    })?;
    canvas.save_png(path)?;
    Ok(figure)
}
