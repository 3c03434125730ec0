//! Pictures of a validation (`mfg validate`, [`crate::rl::validate`]): on a 1D grid, per
//! population, the x–t heatmaps of the policy's density μ^π_t / h next to the PDE's m*(t, x)
//! and their difference, and the same for the policy's mean velocity ᾱ^π_t(x) = Σ_a π_t(a|x) a
//! against α*(t, x); in 2D, the densities of the policy and of the PDE at a few game times
//! (the 2D panels of [`super::snapshots_2d`]); always, the exploitability curves of the algorithm run and of the
//! equilibrium run on a log scale.
//!
//! The densities are in the PDE's units (probabilities per node over the cell volume h^d), so
//! that the two panels of a population share one colour scale; differences and velocities use a
//! diverging scale symmetric about 0.

use super::axes::{self, Axis, Fonts};
use super::canvas::Canvas;
use super::colours::{colour, ColourMap, Scale};
use super::heatmap::paint_xt;
use super::lines::{log_chart, Curve};
use super::{check_size, min_max, register_fonts, Error, Figure, Panel, Rect, Result};
use crate::field::Field;
use crate::grid::{Grid, TimeGrid};
use crate::problem::Problem;
use crate::rl::validate::Validation;
use plotters::style::BLACK;
use std::path::{Path, PathBuf};

/// One x–t panel: a field on the levels of `time`, its colour scale and the bar's label.
struct XtPanel {
    title: String,
    field: Field,
    scale: Scale,
    bar: &'static str,
}

/// A symmetric diverging scale covering `values`.
fn symmetric(values: impl IntoIterator<Item = f64>) -> Scale {
    let a = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0f64, |a, v| a.max(v.abs()));
    let a = if a > 0.0 { a } else { 1.0 };
    Scale::new(-a, a, ColourMap::Diverging)
}

/// Three x–t heatmaps side by side (the policy's field, the PDE's, their difference), each with
/// its colour bar; returns where the panels went.
fn triptych(
    grid: &Grid,
    time: &TimeGrid,
    title: &str,
    panels: &[XtPanel; 3],
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    let f = Fonts::for_size(size);
    let ax = grid.axes()[0];
    let (xr, tr) = ((ax.min, ax.max), (0.0, time.horizon));
    let margin = 6;
    let top = f.title + f.label + 22;
    let left = axes::y_axis_width(tr, "t", &f, path)?;
    let bottom = axes::x_axis_height(&f);
    let bar_gap = (axes::widest_label(xr, f.tick, path)? / 2 + 4).max(10);
    let gap = 14;
    let mut bars = 0;
    let mut widths = Vec::with_capacity(3);
    for p in panels {
        let w = axes::bar_width(&p.scale, &f, path)?;
        widths.push(w);
        bars += bar_gap + w;
    }
    let used = 2 * margin + left + bars + 2 * gap;
    let w = size.0.saturating_sub(used) / 3;
    let h = size.1.saturating_sub(2 * margin + top + bottom);
    if w < 8 || h < 8 {
        return Err(Error::Invalid {
            field: "size".into(),
            reason: format!("{}x{} leaves no room for three heatmaps", size.0, size.1),
        });
    }
    let mut canvas = Canvas::new(size);
    let mut rects = Vec::with_capacity(3);
    let mut x = (margin + left) as i32;
    for (p, bw) in panels.iter().zip(&widths) {
        let plot = Rect::new(x, (margin + top) as i32, w, h);
        let strip = Rect::new(plot.right() + bar_gap as i32, plot.y, axes::BAR_STRIP, h);
        paint_xt(&mut canvas, plot, grid, time, &p.field, &p.scale);
        axes::fill_bar(&mut canvas, strip, &p.scale);
        rects.push((plot, strip));
        x = plot.right() + (bar_gap + bw + gap) as i32;
    }
    let figure = canvas.draw(path, |root, err| {
        let at = (size.0 as i32 / 2, (margin + f.title / 2 + 2) as i32);
        let label = axes::Label {
            text: title,
            px: f.title,
            at,
            width: size.0 - 8,
            colour: BLACK,
        };
        axes::centred(root, label, path, err)?;
        let mut out = Vec::with_capacity(3);
        for (i, (p, (plot, strip))) in panels.iter().zip(&rects).enumerate() {
            let label = axes::Label {
                text: &p.title,
                px: f.label,
                at: (
                    plot.x + plot.w as i32 / 2,
                    plot.y - (f.label / 2 + 6) as i32,
                ),
                width: plot.w + strip.w,
                colour: BLACK,
            };
            axes::centred(root, label, path, err)?;
            let xa = Axis {
                range: xr,
                desc: "x",
                labels: true,
            };
            let ta = Axis {
                range: tr,
                desc: "t",
                labels: i == 0,
            };
            axes::framed_axes(root, *plot, xa, ta, &f, path, err)?;
            axes::draw_bar(root, *strip, &p.scale, p.bar, &f, path, err)?;
            out.push(Panel {
                population: None,
                level: None,
                rect: *plot,
                title: p.title.clone(),
            });
        }
        Ok(Figure {
            size,
            panels: out,
            ..Figure::default()
        })
    })?;
    canvas.save_png(path)?;
    Ok(figure)
}

/// Policy field, PDE field and their difference as the panels of a [`triptych`].
fn compare(
    policy: Field,
    pde: Field,
    what: &str,
    tag: &'static str,
    sequential: Option<ColourMap>,
) -> [XtPanel; 3] {
    let values = || policy.as_slice().iter().chain(pde.as_slice()).copied();
    let scale = match sequential {
        Some(map) => {
            let (lo, hi) = min_max(values());
            Scale::new(lo, hi, map)
        }
        None => symmetric(values()),
    };
    let diff: Vec<f64> = policy
        .as_slice()
        .iter()
        .zip(pde.as_slice())
        .map(|(a, b)| a - b)
        .collect();
    let nodes = policy.nodes();
    [
        XtPanel {
            title: format!("{what}: policy"),
            field: policy,
            scale,
            bar: tag,
        },
        XtPanel {
            title: format!("{what}: PDE"),
            field: pde,
            scale,
            bar: tag,
        },
        XtPanel {
            title: "policy − PDE".into(),
            scale: symmetric(diff.iter().copied()),
            field: Field::from_vec(nodes, diff),
            bar: "difference",
        },
    ]
}

/// The exploitability curves of `v` (the algorithm run, total and per population, and the
/// equilibrium run); `None` when neither ran.
pub fn exploitability_curve(
    v: &Validation,
    path: &Path,
    size: (u32, u32),
) -> Result<Option<Figure>> {
    let mut curves = Vec::new();
    let pts = |f: &dyn Fn(&crate::rl::validate::CurvePoint) -> f64,
               c: &[crate::rl::validate::CurvePoint]| {
        c.iter()
            .map(|p| (p.iteration as f64, f(p)))
            .collect::<Vec<_>>()
    };
    if !v.curve.is_empty() {
        curves.push(Curve {
            label: "policy run: Σ_k".into(),
            points: pts(&|p| p.exploitability, &v.curve),
            colour: colour(0),
            width: 2,
        });
        if v.names.len() > 1 {
            for (k, name) in v.names.iter().enumerate() {
                curves.push(Curve {
                    label: name.clone(),
                    points: pts(&|p| p.per_population[k], &v.curve),
                    colour: colour(k + 1),
                    width: 1,
                });
            }
        }
    }
    if let Some(e) = &v.equilibrium {
        curves.push(Curve {
            label: "equilibrium run: Σ_k".into(),
            points: pts(&|p| p.exploitability, &e.curve),
            colour: colour(v.names.len() + 1),
            width: 2,
        });
    }
    if curves.is_empty() {
        return Ok(None);
    }
    let title = format!(
        "exploitability (final {:.3e}, relative {:.3e})",
        v.exploitability, v.relative_exploitability
    );
    log_chart(
        &curves,
        &title,
        "iteration",
        "exploitability (log scale)",
        path,
        size,
    )
    .map(Some)
}

/// 2D: the densities of the policy and of the PDE at 0, T/3, 2T/3, T (the nearest game
/// times), one row or column per population and source, drawn by the 2D panels of
/// [`super::snapshots_2d`] (each row with its own colour scale, in the PDE's units μ/h²).
fn densities_2d(
    grid: &Grid,
    time: &TimeGrid,
    v: &Validation,
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    let cell = grid.cell_volume();
    let density = |d: &[f64]| Field::from_vec(grid.len(), d.iter().map(|x| x / cell).collect());
    let (mut names, mut m) = (Vec::new(), Vec::new());
    for (k, name) in v.names.iter().enumerate() {
        names.push(format!("{name} (policy)"));
        m.push(density(v.flow.population(k)));
        names.push(format!("{name} (PDE)"));
        m.push(density(v.pde_flow.population(k)));
    }
    let solution = crate::solve::Solution {
        iterate: crate::solve::Iterate {
            u: m.iter()
                .map(|f| Field::filled(f.levels(), grid.len(), 0.0))
                .collect(),
            m,
        },
        history: Vec::new(),
        termination: crate::solve::Termination::Converged,
        detail: None,
        method: v.source.clone(),
        events: Vec::new(),
    };
    let view = super::View {
        grid,
        time,
        names: &names,
        solution: &solution,
        controls: None,
        live: None,
        exits: None,
    };
    let snaps = super::snapshot_levels(time, None)?;
    super::snapshots_2d(&view, &snaps, path, size)
}

/// Draws every picture of `v` (a validation of `problem`) into `dir` (created if needed) and
/// returns the paths written.
pub fn render_validation(
    problem: &Problem,
    v: &Validation,
    dir: &Path,
    size: (u32, u32),
) -> Result<Vec<PathBuf>> {
    check_size(size)?;
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let grid = problem.grid();
    let (n, dt) = (v.game.steps, v.game.dt);
    let invalid = |e: crate::error::Error| Error::Invalid {
        field: "time".into(),
        reason: e.to_string(),
    };
    let flow_time = TimeGrid::new(n as f64 * dt, n).map_err(invalid)?;
    let mut out = Vec::new();
    if grid.dim() == 1 {
        let nodes = grid.len();
        let cell = grid.cell_volume();
        let density = |d: &[f64]| Field::from_vec(nodes, d.iter().map(|x| x / cell).collect());
        // ᾱ is given on the N decision steps: their times are 0..(N−1)Δt.
        let step_time = TimeGrid::new((n.max(2) - 1) as f64 * dt, n.max(2) - 1).map_err(invalid)?;
        for (k, name) in v.names.iter().enumerate() {
            let panels = compare(
                density(v.flow.population(k)),
                density(v.pde_flow.population(k)),
                "density",
                "m",
                Some(ColourMap::Viridis),
            );
            let p = dir.join(format!("{name}_density.png"));
            let title = format!("density of {name}: policy vs PDE (m = μ/h)");
            triptych(grid, &flow_time, &title, &panels, &p, size)?;
            out.push(p);
            if n >= 2 {
                let panels = compare(
                    Field::from_vec(nodes, v.mean_velocity[k].clone()),
                    Field::from_vec(nodes, v.pde_velocity[k].clone()),
                    "velocity",
                    "α",
                    None,
                );
                let p = dir.join(format!("{name}_velocity.png"));
                let title = format!("mean velocity of {name}: policy Σ_a π(a|x) a vs PDE α*");
                triptych(grid, &step_time, &title, &panels, &p, size)?;
                out.push(p);
            }
        }
    }
    if grid.dim() == 2 {
        let p = dir.join("densities.png");
        densities_2d(grid, &flow_time, v, &p, size)?;
        out.push(p);
    }
    let p = dir.join("exploitability.png");
    if exploitability_curve(v, &p, size)?.is_some() {
        out.push(p);
    }
    Ok(out)
}
