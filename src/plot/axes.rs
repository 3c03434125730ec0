//! Text, ticks, axes, colour bars and legends shared by every picture.
//!
//! Tick values are plotters' "nice" key points (steps 1, 2 or 5 × 10^e); labels of one axis share
//! one number of decimals. Every label is measured before the layout is fixed, so nothing is
//! clipped at an area's edge.

use super::canvas::{Area, AreaError, Canvas};
use super::colours::Scale;
use super::{draw_err, Error, Rect, Result};
use crate::grid::TimeGrid;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::path::Path;

/// The font family registered by [`super::register_fonts`].
pub(super) const FONT: &str = "sans-serif";

/// Grey of secondary text (notes, units).
pub(super) const NOTE_GREY: RGBColor = RGBColor(90, 90, 90);

/// Font sizes in pixels, grown or shrunk with the picture (reference: 800 × 600).
#[derive(Debug, Clone, Copy)]
pub(super) struct Fonts {
    pub title: u32,
    pub label: u32,
    pub tick: u32,
    pub note: u32,
}

impl Fonts {
    pub fn for_size(size: (u32, u32)) -> Self {
        let s = (f64::from(size.0) / 800.0)
            .min(f64::from(size.1) / 600.0)
            .clamp(0.85, 2.0);
        let px = |base: f64| (base * s).round() as u32;
        Fonts {
            title: px(16.0),
            label: px(14.0),
            tick: px(12.0),
            note: px(11.0),
        }
    }
}

/// A text style of `px` pixels, black unless recoloured.
pub(super) fn text(px: u32) -> TextStyle<'static> {
    TextStyle::from((FONT, px).into_font()).color(&BLACK)
}

/// Text style anchored at `h`, `v`.
pub(super) fn anchored(px: u32, h: HPos, v: VPos) -> TextStyle<'static> {
    text(px).pos(Pos::new(h, v))
}

/// Width and height of `s` at `px` pixels.
pub(super) fn measure(s: &str, px: u32, path: &Path) -> Result<(u32, u32)> {
    (FONT, px).into_font().box_size(s).map_err(draw_err(path))
}

/// The largest font size ≤ `px` (down to 7) at which `s` fits in `width` pixels.
pub(super) fn fit_font(s: &str, px: u32, width: u32, path: &Path) -> Result<u32> {
    let mut px = px;
    while px > 7 && measure(s, px, path)?.0 > width {
        px -= 1;
    }
    Ok(px)
}

/// A line of text to centre: `text` at `px` pixels on `at`, shrunk (down to 7 px) to fit
/// `width`.
pub(super) struct Label<'a> {
    pub text: &'a str,
    pub px: u32,
    pub at: (i32, i32),
    pub width: u32,
    pub colour: RGBColor,
}

/// Writes `label` centred on its point, shrunk to fit its width.
pub(super) fn centred(
    root: &Area<'_>,
    label: Label<'_>,
    path: &Path,
    err: &dyn Fn(AreaError) -> Error,
) -> Result<()> {
    let px = fit_font(label.text, label.px, label.width, path)?;
    let style = anchored(px, HPos::Center, VPos::Center).color(&label.colour);
    root.draw_text(label.text, &style, label.at).map_err(err)
}

/// Up to `max` nice tick values inside [lo, hi].
pub fn ticks(lo: f64, hi: f64, max: usize) -> Vec<f64> {
    let r: RangedCoordf64 = (lo..hi).into();
    r.key_points(max.max(2))
}

/// Labels of tick values with one shared precision, fitted to their spacing: `0.0, 0.5, 1.0`,
/// `0, 2, 4`, `1.0e-4, 1.5e-4`; never a trailing '.' and never "-0".
pub fn tick_labels(values: &[f64]) -> Vec<String> {
    let step = values
        .windows(2)
        .map(|w| (w[1] - w[0]).abs())
        .fold(f64::INFINITY, f64::min);
    let big = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let step = if step.is_finite() && step > 0.0 {
        step
    } else {
        big.max(1.0)
    };
    let decimals = |s: f64| (-(s.log10()) - 1e-9).ceil().clamp(0.0, 12.0) as usize;
    let sci = big >= 1e5 || (big > 0.0 && big < 1e-3);
    values
        .iter()
        .map(|&v| {
            let v = if v.abs() < step * 1e-9 { 0.0 } else { v };
            if sci {
                let e = big.log10().floor();
                let d = decimals(step / 10f64.powf(e)).min(6);
                format!("{v:.d$e}")
            } else {
                let d = decimals(step);
                format!("{v:.d$}")
            }
        })
        .collect()
}

/// v with `digits` significant digits (scientific outside 1e-3..1e5).
pub(super) fn significant(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let e = v.abs().log10().floor();
    if !(-3.0..5.0).contains(&e) {
        let d = digits.saturating_sub(1);
        return format!("{v:.d$e}");
    }
    let d = (digits as f64 - 1.0 - e).max(0.0) as usize;
    format!("{v:.d$}")
}

/// A time level for titles: enough decimals to tell neighbouring levels apart, and at least two
/// significant digits of the horizon.
pub fn format_time(t: f64, time: &TimeGrid) -> String {
    let by_horizon = (1.0 - time.horizon.log10().floor()).max(0.0);
    let by_step = (-(time.dt().log10()) - 1e-9).ceil().max(0.0);
    let d = by_horizon.max(by_step).min(6.0) as usize;
    format!("{t:.d$}")
}

/// One axis of a framed panel.
#[derive(Debug, Clone, Copy)]
pub(super) struct Axis<'a> {
    pub range: (f64, f64),
    pub desc: &'a str,
    /// Whether the tick labels and the description are written (false: tick marks only, for
    /// the inner panels of small multiples).
    pub labels: bool,
}

/// Ticks for an axis `length` pixels long whose labels, laid side by side (`along` true) or
/// stacked, do not overlap.
pub(super) fn axis_ticks(
    range: (f64, f64),
    length: u32,
    along: bool,
    px: u32,
    path: &Path,
) -> Result<(Vec<f64>, Vec<String>)> {
    let spacing = if along { 55 } else { 2 * px + px / 4 };
    let mut n = (length / spacing).clamp(2, 10) as usize;
    loop {
        let v = ticks(range.0, range.1, n);
        let l = tick_labels(&v);
        let need: u32 = if along {
            let mut s = 0;
            for label in &l {
                s += measure(label, px, path)?.0 + px;
            }
            s
        } else {
            l.len() as u32 * (px + px / 2)
        };
        if need <= length || n == 2 {
            return Ok((v, l));
        }
        n -= 1;
    }
}

/// Widest tick label any tick count can produce for `range`.
pub(super) fn widest_label(range: (f64, f64), px: u32, path: &Path) -> Result<u32> {
    let mut w = 0;
    for n in 2..=10 {
        for l in tick_labels(&ticks(range.0, range.1, n)) {
            w = w.max(measure(&l, px, path)?.0);
        }
    }
    Ok(w)
}

/// Tick mark length and the gap between a mark and its label.
pub(super) const TICK: i32 = 4;
const GAP: i32 = 3;

/// Pixels the labels of a y axis take left of the frame.
pub(super) fn y_axis_width(range: (f64, f64), desc: &str, f: &Fonts, path: &Path) -> Result<u32> {
    let labels = widest_label(range, f.tick, path)?;
    let desc = measure(desc, f.label, path)?.0;
    Ok(1 + TICK as u32 + GAP as u32 + labels + 2 * GAP as u32 + desc + GAP as u32)
}

/// Pixels the labels of an x axis take below the frame.
pub(super) fn x_axis_height(f: &Fonts) -> u32 {
    1 + TICK as u32 + GAP as u32 + f.tick + GAP as u32 + f.label + GAP as u32
}

/// Pixel column of v in a rectangle whose `w` columns cover `range` (column i covers
/// [i, i + 1) · L / w of it): the pixel that contains v, the range's ends on the outer columns.
fn px_along(v: f64, range: (f64, f64), start: i32, w: u32) -> i32 {
    let s = (v - range.0) / (range.1 - range.0);
    start + ((s * f64::from(w)).floor() as i32).clamp(0, w as i32 - 1)
}

/// The black frame one pixel outside `rect`.
pub(super) fn frame(root: &Area<'_>, rect: Rect, err: &dyn Fn(AreaError) -> Error) -> Result<()> {
    root.draw(&Rectangle::new(
        [(rect.x - 1, rect.y - 1), (rect.right(), rect.bottom())],
        BLACK.stroke_width(1),
    ))
    .map_err(err)
}

/// Frame, tick marks and (where asked) tick labels and descriptions around a plotting
/// rectangle whose pixels cover `x.range` × `y.range` (y upwards).
pub(super) fn framed_axes(
    root: &Area<'_>,
    rect: Rect,
    x: Axis<'_>,
    y: Axis<'_>,
    f: &Fonts,
    path: &Path,
    err: &dyn Fn(AreaError) -> Error,
) -> Result<()> {
    frame(root, rect, err)?;
    let line = |a: (i32, i32), b: (i32, i32)| {
        root.draw(&PathElement::new(vec![a, b], BLACK.stroke_width(1)))
            .map_err(err)
    };
    let (xv, xl) = axis_ticks(x.range, rect.w, true, f.tick, path)?;
    let y0 = rect.bottom();
    for (v, l) in xv.iter().zip(&xl) {
        let px = px_along(*v, x.range, rect.x, rect.w);
        line((px, y0), (px, y0 + TICK))?;
        if x.labels {
            let s = anchored(f.tick, HPos::Center, VPos::Top);
            root.draw_text(l, &s, (px, y0 + TICK + GAP)).map_err(err)?;
        }
    }
    if x.labels {
        let s = anchored(f.label, HPos::Center, VPos::Top);
        let at = (
            rect.x + rect.w as i32 / 2,
            y0 + TICK + 2 * GAP + f.tick as i32,
        );
        root.draw_text(x.desc, &s, at).map_err(err)?;
    }
    let (yv, yl) = axis_ticks(y.range, rect.h, false, f.tick, path)?;
    let x0 = rect.x - 1;
    let mut widest = 0;
    for (v, l) in yv.iter().zip(&yl) {
        // Rows count downwards: flip the range.
        let py = rect.bottom() - 1 - px_along(*v, y.range, 0, rect.h);
        line((x0 - TICK, py), (x0, py))?;
        if y.labels {
            let s = anchored(f.tick, HPos::Right, VPos::Center);
            root.draw_text(l, &s, (x0 - TICK - GAP, py)).map_err(err)?;
            widest = widest.max(measure(l, f.tick, path)?.0 as i32);
        }
    }
    if y.labels {
        let s = anchored(f.label, HPos::Right, VPos::Center);
        let at = (x0 - TICK - 3 * GAP - widest, rect.y + rect.h as i32 / 2);
        root.draw_text(y.desc, &s, at).map_err(err)?;
    }
    Ok(())
}

/// Width of the colour strip of a bar.
pub(super) const BAR_STRIP: u32 = 14;

/// Pixels a colour bar takes: strip, ticks, labels and its rotated label.
pub(super) fn bar_width(scale: &Scale, f: &Fonts, path: &Path) -> Result<u32> {
    let labels = widest_label((scale.lo, scale.hi), f.tick, path)?;
    Ok(BAR_STRIP + 2 + TICK as u32 + GAP as u32 + labels + 2 * GAP as u32 + f.label + GAP as u32)
}

/// Paints the colour strip of a bar: the top row is `scale.hi`, the bottom row `scale.lo`.
pub(super) fn fill_bar(canvas: &mut Canvas, strip: Rect, scale: &Scale) {
    let rows = f64::from(strip.h.max(2) - 1);
    canvas.fill(strip, |_, j| {
        scale.colour(scale.hi - (scale.hi - scale.lo) * f64::from(j) / rows)
    });
}

/// Frame, ticks, tick labels and the rotated `label` of a bar painted by [`fill_bar`]; returns
/// the tick labels.
pub(super) fn draw_bar(
    root: &Area<'_>,
    strip: Rect,
    scale: &Scale,
    label: &str,
    f: &Fonts,
    path: &Path,
    err: &dyn Fn(AreaError) -> Error,
) -> Result<Vec<String>> {
    frame(root, strip, err)?;
    let (v, l) = axis_ticks((scale.lo, scale.hi), strip.h, false, f.tick, path)?;
    let x0 = strip.right();
    let rows = f64::from(strip.h.max(2) - 1);
    let mut widest = 0;
    for (v, l) in v.iter().zip(&l) {
        let py = strip.y + ((scale.hi - v) / (scale.hi - scale.lo) * rows).round() as i32;
        root.draw(&PathElement::new(
            vec![(x0, py), (x0 + TICK, py)],
            BLACK.stroke_width(1),
        ))
        .map_err(err)?;
        let s = anchored(f.tick, HPos::Left, VPos::Center);
        root.draw_text(l, &s, (x0 + TICK + GAP, py)).map_err(err)?;
        widest = widest.max(measure(l, f.tick, path)?.0 as i32);
    }
    let (lw, _) = measure(label, f.label, path)?;
    if lw <= strip.h {
        let s = anchored(f.label, HPos::Center, VPos::Center).transform(FontTransform::Rotate270);
        let at = (
            x0 + TICK + 3 * GAP + widest + f.label as i32 / 2,
            strip.y + strip.h as i32 / 2,
        );
        root.draw_text(label, &s, at).map_err(err)?;
    }
    Ok(l)
}

/// One legend entry: a line sample in `colour` and its label.
#[derive(Debug, Clone)]
pub(super) struct Entry {
    pub label: String,
    pub colour: RGBColor,
}

const SAMPLE: i32 = 22;

/// Top-left offsets of the entries laid out in rows `width` pixels wide, and the height used.
fn legend_layout(
    entries: &[Entry],
    width: u32,
    px: u32,
    path: &Path,
) -> Result<(Vec<(i32, i32)>, u32)> {
    let row = px as i32 + 6;
    let (mut x, mut y) = (0i32, 0i32);
    let mut at = Vec::new();
    for e in entries {
        let w = SAMPLE + 5 + measure(&e.label, px, path)?.0 as i32;
        if x > 0 && x + w > width as i32 {
            x = 0;
            y += row;
        }
        at.push((x, y));
        x += w + 14;
    }
    Ok((at, (y + row) as u32))
}

/// Height of a legend strip `width` pixels wide.
pub(super) fn legend_height(entries: &[Entry], width: u32, px: u32, path: &Path) -> Result<u32> {
    Ok(legend_layout(entries, width, px, path)?.1)
}

/// Draws the entries in rows from the top-left of `area` (a strip outside every plotting
/// rectangle); returns the box they take.
pub(super) fn draw_legend(
    root: &Area<'_>,
    area: Rect,
    entries: &[Entry],
    px: u32,
    path: &Path,
    err: &dyn Fn(AreaError) -> Error,
) -> Result<Rect> {
    let (at, h) = legend_layout(entries, area.w, px, path)?;
    let mut right = area.x;
    for (e, (dx, dy)) in entries.iter().zip(at) {
        let (x, y) = (area.x + dx, area.y + dy + px as i32 / 2 + 3);
        root.draw(&PathElement::new(
            vec![(x, y), (x + SAMPLE, y)],
            e.colour.stroke_width(3),
        ))
        .map_err(err)?;
        let s = anchored(px, HPos::Left, VPos::Center);
        root.draw_text(&e.label, &s, (x + SAMPLE + 5, y))
            .map_err(err)?;
        right = right.max(x + SAMPLE + 5 + measure(&e.label, px, path)?.0 as i32);
    }
    Ok(Rect::new(area.x, area.y, (right - area.x) as u32, h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_share_a_precision_without_trailing_points() {
        assert_eq!(
            tick_labels(&[0.0, 0.5, 1.0, 1.5]),
            ["0.0", "0.5", "1.0", "1.5"]
        );
        assert_eq!(
            tick_labels(&[0.0, 2.0, 4.0, 6.0, 8.0]),
            ["0", "2", "4", "6", "8"]
        );
        assert_eq!(tick_labels(&[-0.2, 0.0, 0.2]), ["-0.2", "0.0", "0.2"]);
        assert_eq!(
            tick_labels(&[1e-4, 1.5e-4, 2e-4]),
            ["1.0e-4", "1.5e-4", "2.0e-4"]
        );
        assert_eq!(tick_labels(&[0.0, 2e5, 4e5]), ["0e0", "2e5", "4e5"]);
        for l in tick_labels(&ticks(0.0123, 1.57, 6)) {
            assert!(!l.ends_with('.') && !l.starts_with("-0.0"), "{l}");
        }
    }

    #[test]
    fn significant_digits() {
        assert_eq!(significant(2.3141, 3), "2.31");
        assert_eq!(significant(123.45, 3), "123");
        assert_eq!(significant(0.012345, 3), "0.0123");
        assert_eq!(significant(1.5e-6, 3), "1.50e-6");
        assert_eq!(significant(0.0, 3), "0");
    }

    #[test]
    fn ticks_lie_inside_the_range() {
        let t = ticks(-2.5, 2.5, 6);
        assert!(t.len() >= 3 && t.len() <= 6, "{t:?}");
        assert!(t.iter().all(|v| (-2.5..=2.5).contains(v)));
    }

    #[test]
    fn times_tell_levels_apart() {
        let t = TimeGrid::new(1.5, 40).unwrap();
        assert_eq!(format_time(t.t(13), &t), "0.49");
        let t = TimeGrid::new(1.0, 1000).unwrap();
        assert_eq!(format_time(t.t(333), &t), "0.333");
    }

    #[test]
    fn positions_along_an_axis_hit_the_edges() {
        // 10 pixels over [0, 1]: 0 in the first column, 1 in the last, 0.5 in column 5.
        assert_eq!(px_along(0.0, (0.0, 1.0), 100, 10), 100);
        assert_eq!(px_along(1.0, (0.0, 1.0), 100, 10), 109);
        assert_eq!(px_along(0.5, (0.0, 1.0), 100, 10), 105);
    }
}
