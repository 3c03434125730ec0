//! 1D pictures of a whole space-time field: the x–t heatmap of m^k(t, x) or u^k(t, x) with its
//! colour bar (absolute units, the field's min to max).
//!
//! Row j of the plotting rectangle shows the time level nearest to its centre, column i the
//! cell that contains its centre.

use super::axes::{self, Axis, Fonts};
use super::canvas::Canvas;
use super::colours::Scale;
use super::{
    check_size, node_at, register_fonts, scale_of, Bar, Error, Figure, Panel, Quantity, Rect,
    Result, View,
};
use crate::field::Field;
use crate::grid::{Grid, TimeGrid};
use plotters::style::BLACK;
use std::path::Path;

/// x–t heatmap of m^k or u^k (1D) with a colour bar.
pub fn heatmap_1d(
    view: &View<'_>,
    k: usize,
    quantity: Quantity,
    path: &Path,
    size: (u32, u32),
) -> Result<Figure> {
    register_fonts();
    check_size(size)?;
    if k >= view.names.len() {
        return Err(Error::Invalid {
            field: "population".into(),
            reason: format!("{k}: there are {} populations", view.names.len()),
        });
    }
    let f = Fonts::for_size(size);
    let field = &quantity.fields(view.solution)[k];
    let scale = scale_of(view, k, quantity);
    let ax = view.grid.axes()[0];
    let (xr, tr) = ((ax.min, ax.max), (0.0, view.time.horizon));

    let margin = 6;
    let top = f.title + 14;
    let left = axes::y_axis_width(tr, "t", &f, path)?;
    let bottom = axes::x_axis_height(&f);
    // Half an x label may stick out right of the plot, then comes the bar.
    let bar_gap = (axes::widest_label(xr, f.tick, path)? / 2 + 4).max(16);
    let right = bar_gap + axes::bar_width(&scale, &f, path)?;
    let (w, h) = (
        size.0.saturating_sub(2 * margin + left + right),
        size.1.saturating_sub(2 * margin + top + bottom),
    );
    if w < 8 || h < 8 {
        return Err(Error::Invalid {
            field: "size".into(),
            reason: format!("{}x{} leaves no room for the heatmap", size.0, size.1),
        });
    }
    let plot = Rect::new((margin + left) as i32, (margin + top) as i32, w, h);
    let strip = Rect::new(plot.right() + bar_gap as i32, plot.y, axes::BAR_STRIP, h);

    let mut canvas = Canvas::new(size);
    paint_xt(&mut canvas, plot, view.grid, view.time, field, &scale);
    axes::fill_bar(&mut canvas, strip, &scale);

    let title = format!("{} of {}", quantity.label(), view.names[k]);
    let figure = canvas.draw(path, |root, err| {
        let at = (size.0 as i32 / 2, (margin + top / 2) as i32);
        axes::centred(
            root,
            axes::Label {
                text: &title,
                px: f.title,
                at,
                width: size.0 - 8,
                colour: BLACK,
            },
            path,
            err,
        )?;
        let x = Axis {
            range: xr,
            desc: "x",
            labels: true,
        };
        let t = Axis {
            range: tr,
            desc: "t",
            labels: true,
        };
        axes::framed_axes(root, plot, x, t, &f, path, err)?;
        let ticks = axes::draw_bar(root, strip, &scale, quantity.file_tag(), &f, path, err)?;
        Ok(Figure {
            size,
            panels: vec![Panel {
                population: Some(k),
                level: None,
                rect: plot,
                title: title.clone(),
            }],
            bars: vec![Bar {
                population: k,
                quantity,
                range: (scale.lo, scale.hi),
                rect: strip,
                ticks,
            }],
            ..Figure::default()
        })
    })?;
    canvas.save_png(path)?;
    Ok(figure)
}

/// Paints the x–t field `field` (levels of `time`, nodes of the 1D `grid`) into `plot`: row j
/// shows the level nearest its centre (the top row is t = T), column i the cell containing its
/// centre.
pub(super) fn paint_xt(
    canvas: &mut Canvas,
    plot: Rect,
    grid: &Grid,
    time: &TimeGrid,
    field: &Field,
    scale: &Scale,
) {
    let ax = grid.axes()[0];
    let (w, h) = (plot.w, plot.h);
    let nodes: Vec<usize> = (0..w)
        .map(|i| {
            let x = ax.min + (ax.max - ax.min) * (f64::from(i) + 0.5) / f64::from(w);
            node_at(grid, x, 0.0)
        })
        .collect();
    let levels: Vec<usize> = (0..h)
        .map(|j| {
            let t = time.horizon * (1.0 - (f64::from(j) + 0.5) / f64::from(h));
            ((t / time.dt()).round() as usize).min(time.nt)
        })
        .collect();
    canvas.fill(plot, |i, j| {
        scale.colour(field.level(levels[j as usize])[nodes[i as usize]])
    });
}
