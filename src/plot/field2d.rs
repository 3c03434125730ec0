//! 2D pictures: small multiples of m^k(t_n, x, y) (and of u^k with the velocity α^k), one panel
//! per population and snapshot, and the animated GIF of the densities.
//!
//! Colour scales are absolute and per population: population k's bar runs from the min to the
//! max of its field over every time level, shared by all its panels and all GIF frames. Densities
//! of different populations can differ by orders of magnitude, so one bar for all would leave
//! the smaller ones invisible; one bar per frame would hide how a population spreads out. Each
//! pixel shows the cell that contains it (no smoothing), so the cells of the grid stay visible.

use super::axes::{self, Axis, Fonts, NOTE_GREY};
use super::canvas::{Canvas, GifWriter};
use super::colours::{gif_palette, Scale};
use super::layout::{self, Metrics};
use super::{
    check_size, node_at, quiver, register_fonts, scale_of, Bar, Figure, Panel, PlotOptions,
    Quantity, Rect, Result, Snapshot, View,
};
use crate::field::Field;
use plotters::style::BLACK;
use std::path::Path;

/// What a sheet shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Content {
    /// m^k.
    Density,
    /// u^k with the arrows of α^k (when the view has the controls).
    ValueAndVelocity,
}

/// Lattice step of the arrows in pixels, at the reference font size.
const ARROW_STEP: f64 = 26.0;

/// Arrows are drawn where the population is: m^k at least this fraction of its max at that
/// time. Elsewhere α^k is defined but moves nobody, and its often far larger values (far from
/// the target, near t = T) would shrink the arrows that matter to dots.
const PRESENT: f64 = 0.02;

/// Small multiples of the densities m^k at the snapshots (rows or columns per population, one
/// colour bar per population in absolute units).
pub fn snapshots_2d(
    view: &View<'_>,
    snaps: &[Snapshot],
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    picture(view, snaps, Content::Density, size, path)
}

/// Small multiples of the value functions u^k with the optimal velocity α^k as arrows.
pub fn velocity_2d(
    view: &View<'_>,
    snaps: &[Snapshot],
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    picture(view, snaps, Content::ValueAndVelocity, size, path)
}

/// A sheet written as a PNG.
fn picture(
    view: &View<'_>,
    snaps: &[Snapshot],
    content: Content,
    size: (u32, u32),
    path: &Path,
) -> Result<Figure> {
    let (canvas, figure) = sheet(view, snaps, content, size, path)?;
    canvas.save_png(path)?;
    Ok(figure)
}

/// The levels of the GIF frames: at most `max_frames` (at least 2), evenly spread over 0..=nt.
pub fn animation_levels(nt: usize, max_frames: usize) -> Vec<usize> {
    let frames = max_frames.clamp(2, nt + 1);
    let mut levels: Vec<usize> = (0..frames)
        .map(|f| ((f as f64) * nt as f64 / (frames - 1) as f64).round() as usize)
        .collect();
    levels.dedup();
    levels
}

/// Animated GIF of the densities: frame n is [`snapshots_2d`] at level n, in the same colours
/// (the palette is the colour map's table plus greys). Returns the levels drawn.
pub fn animation_2d(view: &View<'_>, path: &Path, options: &PlotOptions) -> Result<Vec<usize>> {
    check_size(options.size)?;
    let levels = animation_levels(view.time.nt, options.max_frames);
    let mut gif = GifWriter::create(
        path,
        options.size,
        options.frame_delay_ms,
        gif_palette(Quantity::Density.map()),
    )?;
    for &n in &levels {
        let snap = Snapshot {
            level: n,
            requested: view.time.t(n),
        };
        let (canvas, _) = sheet(view, &[snap], Content::Density, options.size, path)?;
        gif.push(&canvas)?;
    }
    gif.finish()?;
    Ok(levels)
}

/// Whether each node of a density level holds the population ([`PRESENT`]).
fn present(m: &[f64]) -> impl Fn(usize) -> bool + '_ {
    let cut = PRESENT
        * m.iter()
            .copied()
            .filter(|v| v.is_finite())
            .fold(0.0, f64::max);
    move |i| m[i] >= cut && m[i] > 0.0
}

/// Largest |α^k| where population k is, over the snapshots' levels.
fn max_speed(alpha: &[Field], m: &Field, snaps: &[Snapshot]) -> f64 {
    snaps
        .iter()
        .flat_map(|s| {
            let (ax, ay) = (alpha[0].level(s.level), alpha[1].level(s.level));
            let here = present(m.level(s.level));
            (0..ax.len())
                .filter(move |&i| here(i))
                .map(move |i| ax[i].hypot(ay[i]))
        })
        .filter(|v| v.is_finite())
        .fold(0.0, f64::max)
}

/// Draws a sheet into a canvas and says where everything went.
fn sheet(
    view: &View<'_>,
    snaps: &[Snapshot],
    content: Content,
    size: (u32, u32),
    path: &Path,
) -> Result<(Canvas, Figure)> {
    register_fonts();
    check_size(size)?;
    let quantity = match content {
        Content::Density => Quantity::Density,
        Content::ValueAndVelocity => Quantity::Value,
    };
    let controls = match content {
        Content::ValueAndVelocity => view.controls,
        Content::Density => None,
    };
    let f = Fonts::for_size(size);
    let k_count = view.names.len();
    let a = view.grid.axes();
    let (xr, yr) = ((a[0].min, a[0].max), (a[1].min, a[1].max));
    let aspect = (xr.1 - xr.0) / (yr.1 - yr.0);
    let scales: Vec<Scale> = (0..k_count).map(|k| scale_of(view, k, quantity)).collect();
    let mut bar = 0;
    for s in &scales {
        bar = bar.max(axes::bar_width(s, &f, path)?);
    }
    let notes: Vec<(String, Option<String>)> =
        snaps.iter().map(|s| s.describe(view.time)).collect();
    let any_note = notes.iter().any(|(_, n)| n.is_some());
    let heading = match (content, controls.is_some()) {
        (Content::Density, _) => "density m: one colour bar per population, shared by its times",
        (Content::ValueAndVelocity, true) => {
            "value function u (colour) and optimal velocity α (arrows, where m ≥ 2% of its max)"
        }
        (Content::ValueAndVelocity, false) => {
            "value function u (the velocity α was not supplied: no arrows)"
        }
    };
    if let Some(c) = controls {
        check_controls(view, c)?;
    }
    let speeds: Vec<f64> = match controls {
        Some(c) => c
            .iter()
            .zip(&view.solution.iterate.m)
            .map(|(c, m)| max_speed(c, m, snaps))
            .collect(),
        None => Vec::new(),
    };
    let footer = (!speeds.is_empty()).then(|| {
        let parts: Vec<String> = view
            .names
            .iter()
            .zip(&speeds)
            .map(|(n, v)| format!("{n} {}", axes::significant(*v, 3)))
            .collect();
        format!(
            "longest arrow = largest speed |α| drawn: {}",
            parts.join(", ")
        )
    });
    let m = Metrics {
        margin: 4,
        top: f.title + 10,
        foot: if footer.is_some() { f.note + 8 } else { 0 },
        left: axes::y_axis_width(yr, "y", &f, path)?,
        bottom: axes::x_axis_height(&f),
        title: f.label + 6 + if any_note { f.note + 3 } else { 0 },
        gap: axes::TICK as u32 + 6,
        bar_gap: (axes::widest_label(xr, f.tick, path)? / 2 + 4).max(12),
        bar,
    };
    let lay = layout::sheet(size, aspect, k_count, snaps.len(), &m)?;

    let mut canvas = Canvas::new(size);
    for (k, row) in lay.plots.iter().enumerate() {
        let field = &quantity.fields(view.solution)[k];
        for (s, rect) in row.iter().enumerate() {
            paint(
                &mut canvas,
                view,
                *rect,
                Painted {
                    level: field.level(snaps[s].level),
                    live: view.live.map(|l| &l[k][..]),
                    exit: view.exits.map(|e| &e[k][..]),
                    scale: &scales[k],
                },
            );
        }
        axes::fill_bar(&mut canvas, lay.bars[k], &scales[k]);
    }

    let figure = canvas.draw(path, |root, err| {
        let mut fig = Figure {
            size,
            ..Figure::default()
        };
        let at = (size.0 as i32 / 2, (m.margin + m.top / 2) as i32);
        axes::centred(
            root,
            axes::Label {
                text: heading,
                px: f.title,
                at,
                width: size.0 - 8,
                colour: BLACK,
            },
            path,
            err,
        )?;
        for (k, row) in lay.plots.iter().enumerate() {
            for (s, &rect) in row.iter().enumerate() {
                let x = Axis {
                    range: xr,
                    desc: "x",
                    labels: lay.labels_x(k, s),
                };
                let y = Axis {
                    range: yr,
                    desc: "y",
                    labels: lay.labels_y(k, s),
                };
                axes::framed_axes(root, rect, x, y, &f, path, err)?;
                let (time, note) = &notes[s];
                let title = format!("{} · {time}", view.names[k]);
                let top = rect.y - m.title as i32;
                let width = rect.w + m.gap;
                let cx = rect.x + rect.w as i32 / 2;
                let line = (f.label + 4) as i32;
                let at = (cx, top + line / 2);
                axes::centred(
                    root,
                    axes::Label {
                        text: &title,
                        px: f.label,
                        at,
                        width,
                        colour: BLACK,
                    },
                    path,
                    err,
                )?;
                let mut full = title.clone();
                if let Some(note) = note {
                    let at = (cx, top + line + (f.note / 2) as i32);
                    axes::centred(
                        root,
                        axes::Label {
                            text: note,
                            px: f.note,
                            at,
                            width,
                            colour: NOTE_GREY,
                        },
                        path,
                        err,
                    )?;
                    full = format!("{full} {note}");
                }
                if let Some(c) = controls {
                    let step = ARROW_STEP * f64::from(f.tick) / 12.0;
                    let n = snaps[s].level;
                    let m = view.solution.iterate.m[k].level(n);
                    let arrows = arrows_of(view, &c[k], m, n, rect, step, speeds[k]);
                    quiver::draw(root, &arrows, err)?;
                }
                fig.panels.push(Panel {
                    population: Some(k),
                    level: Some(snaps[s].level),
                    rect,
                    title: full,
                });
            }
            let strip = lay.bars[k];
            let long = format!("{} of {}", quantity.file_tag(), view.names[k]);
            let (lw, _) = axes::measure(&long, f.label, path)?;
            let label = if lw <= strip.h {
                long
            } else {
                quantity.file_tag().to_string()
            };
            let ticks = axes::draw_bar(root, strip, &scales[k], &label, &f, path, err)?;
            fig.bars.push(Bar {
                population: k,
                quantity,
                range: (scales[k].lo, scales[k].hi),
                rect: strip,
                ticks,
            });
        }
        if let Some(text) = &footer {
            let at = (size.0 as i32 / 2, (size.1 - m.margin - m.foot / 2) as i32);
            axes::centred(
                root,
                axes::Label {
                    text,
                    px: f.note,
                    at,
                    width: size.0 - 8,
                    colour: NOTE_GREY,
                },
                path,
                err,
            )?;
        }
        fig.arrow_scales = speeds.clone();
        Ok(fig)
    })?;
    Ok((canvas, figure))
}

/// The controls must have one field per population and axis, on the view's grids.
fn check_controls(view: &View<'_>, controls: &[Vec<Field>]) -> Result<()> {
    let (d, levels, nodes) = (view.grid.dim(), view.time.nt + 1, view.grid.len());
    let ok = controls.len() == view.names.len()
        && controls.iter().all(|c| {
            c.len() == d
                && c.iter()
                    .all(|f| f.levels() == levels && f.level(0).len() == nodes)
        });
    if ok {
        return Ok(());
    }
    Err(super::Error::Invalid {
        field: "controls".into(),
        reason: format!(
            "expected {} population(s) × {d} axes of {levels} levels × {nodes} nodes",
            view.names.len()
        ),
    })
}

/// Paints one panel: every pixel shows the value of the cell that contains its centre.
/// What one panel shows: a level of a field in a colour scale, with the population's removed
/// nodes (if known) in [`super::colours::removed`] grey and its exits in
/// [`super::colours::exit`] black.
struct Painted<'a> {
    level: &'a [f64],
    live: Option<&'a [bool]>,
    exit: Option<&'a [bool]>,
    scale: &'a Scale,
}

fn paint(canvas: &mut Canvas, view: &View<'_>, rect: Rect, p: Painted<'_>) {
    let a = view.grid.axes();
    let xs: Vec<f64> = (0..rect.w)
        .map(|i| a[0].min + (a[0].max - a[0].min) * (f64::from(i) + 0.5) / f64::from(rect.w))
        .collect();
    let ys: Vec<f64> = (0..rect.h)
        .map(|j| a[1].max - (a[1].max - a[1].min) * (f64::from(j) + 0.5) / f64::from(rect.h))
        .collect();
    let (removed, exit) = (super::colours::removed(), super::colours::exit());
    canvas.fill(rect, |i, j| {
        let node = node_at(view.grid, xs[i as usize], ys[j as usize]);
        if p.live.is_some_and(|live| !live[node]) {
            removed
        } else if p.exit.is_some_and(|e| e[node]) {
            exit
        } else {
            p.scale.colour(p.level[node])
        }
    });
}

/// The arrows of α^k at level n over the panel `rect`, where the density level `m` says the
/// population is.
fn arrows_of(
    view: &View<'_>,
    alpha: &[Field],
    m: &[f64],
    n: usize,
    rect: Rect,
    step: f64,
    vmax: f64,
) -> Vec<[(f64, f64); 2]> {
    let a = view.grid.axes();
    let (ax, ay) = (alpha[0].level(n), alpha[1].level(n));
    let here = present(m);
    quiver::lattice(rect, step)
        .into_iter()
        .filter_map(|(px, py)| {
            let x = a[0].min + (a[0].max - a[0].min) * (px - f64::from(rect.x)) / f64::from(rect.w);
            let y = a[1].max - (a[1].max - a[1].min) * (py - f64::from(rect.y)) / f64::from(rect.h);
            let node = node_at(view.grid, x, y);
            if !here(node) {
                return None;
            }
            quiver::arrow((px, py), (ax[node], ay[node]), vmax, step)
        })
        .collect()
}
