//! Layout of the 2D small multiples: K populations × S times of panels, each population with
//! one colour bar shared by its times.
//!
//! Every panel's plotting rectangle has the domain's aspect ratio (x_max − x_min)/(y_max − y_min)
//! to the pixel: the largest such rectangle that fits its cell is used and the block of panels
//! is centred (letterboxed) in the picture. The populations run along the rows or along the
//! columns, whichever gives the larger panels: a 3 × 1 corridor stacks its times, a square
//! domain lays them side by side. Tick labels are written on the outer panels only (all panels
//! show the same domain), tick marks on all.

use super::{Error, Rect, Result};

/// Sizes (pixels) of the parts around the plotting rectangles.
#[derive(Debug, Clone, Copy)]
pub(super) struct Metrics {
    /// Outer margin on every side.
    pub margin: u32,
    /// Figure title strip at the top, and footnote strip at the bottom.
    pub top: u32,
    pub foot: u32,
    /// Left of the first column: y tick labels and description.
    pub left: u32,
    /// Below the last row: x tick labels and description.
    pub bottom: u32,
    /// Above every panel: its title.
    pub title: u32,
    /// Between neighbouring panels of one population (room for the tick marks).
    pub gap: u32,
    /// Between a population's last panel and its bar (half an x tick label at least).
    pub bar_gap: u32,
    /// A colour bar with its ticks and labels.
    pub bar: u32,
}

/// Where the populations run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Orientation {
    /// Row k shows population k at every time, its bar at the row's right end.
    PopulationRows,
    /// Column k shows population k at every time (top to bottom), its bar to its right.
    PopulationColumns,
}

/// The rectangles of a sheet of small multiples.
#[derive(Debug, Clone)]
pub(super) struct Sheet {
    pub orientation: Orientation,
    /// `plots[k][s]`: population k at snapshot s.
    pub plots: Vec<Vec<Rect>>,
    /// The colour strip of population k's bar.
    pub bars: Vec<Rect>,
}

impl Sheet {
    /// Whether panel (k, s) carries the x tick labels (bottom row) …
    pub fn labels_x(&self, k: usize, s: usize) -> bool {
        match self.orientation {
            Orientation::PopulationRows => k + 1 == self.plots.len(),
            Orientation::PopulationColumns => s + 1 == self.plots[k].len(),
        }
    }

    /// … and the y tick labels (first column).
    pub fn labels_y(&self, k: usize, s: usize) -> bool {
        match self.orientation {
            Orientation::PopulationRows => s == 0,
            Orientation::PopulationColumns => k == 0,
        }
    }
}

/// Largest (w, h) with w/h = aspect (to the pixel) inside (max_w, max_h).
pub(super) fn fit(aspect: f64, max_w: f64, max_h: f64) -> Option<(u32, u32)> {
    if !(max_w >= 1.0 && max_h >= 1.0) {
        return None;
    }
    let (w, h) = if max_w / max_h > aspect {
        let h = max_h.floor();
        ((h * aspect).round(), h)
    } else {
        let w = max_w.floor();
        (w, (w / aspect).round())
    };
    (w >= 1.0 && h >= 1.0 && w <= max_w.floor() && h <= max_h.floor())
        .then_some((w as u32, h as u32))
}

/// Panel size of one orientation: (w, h) and the size of the whole block.
fn candidate(
    o: Orientation,
    size: (u32, u32),
    aspect: f64,
    k: usize,
    s: usize,
    m: &Metrics,
) -> Option<((u32, u32), (u32, u32))> {
    let avail_w = f64::from(size.0) - 2.0 * f64::from(m.margin);
    let avail_h = f64::from(size.1) - 2.0 * f64::from(m.margin) - f64::from(m.top + m.foot);
    let (cols, rows, groups) = match o {
        Orientation::PopulationRows => (s, k, 1),
        Orientation::PopulationColumns => (k, s, k),
    };
    let (cols_f, rows_f, groups_f) = (cols as f64, rows as f64, groups as f64);
    let per_group = (cols / groups) as f64;
    // Width: left labels, then per group its panels with gaps, the bar gap and the bar; groups
    // separated by a gap.
    let fixed_w = f64::from(m.left)
        + groups_f * ((per_group - 1.0) * f64::from(m.gap) + f64::from(m.bar_gap + m.bar))
        + (groups_f - 1.0) * f64::from(m.gap);
    let fixed_h =
        rows_f * f64::from(m.title) + (rows_f - 1.0) * f64::from(m.gap) + f64::from(m.bottom);
    let (w, h) = fit(
        aspect,
        (avail_w - fixed_w) / cols_f,
        (avail_h - fixed_h) / rows_f,
    )?;
    let block = (
        (fixed_w + cols_f * f64::from(w)) as u32,
        (fixed_h + rows_f * f64::from(h)) as u32,
    );
    Some(((w, h), block))
}

/// Lays out K populations × S snapshots of a domain with the given aspect ratio.
pub(super) fn sheet(
    size: (u32, u32),
    aspect: f64,
    k: usize,
    s: usize,
    m: &Metrics,
) -> Result<Sheet> {
    let options = [Orientation::PopulationRows, Orientation::PopulationColumns];
    let best = options
        .iter()
        .filter_map(|&o| candidate(o, size, aspect, k, s, m).map(|c| (o, c)))
        .max_by_key(|(_, ((w, h), _))| u64::from(*w) * u64::from(*h))
        .filter(|(_, ((w, h), _))| *w >= 8 && *h >= 8);
    let Some((orientation, ((w, h), block))) = best else {
        return Err(Error::Invalid {
            field: "size".into(),
            reason: format!(
                "{}x{} is too small for {k} population(s) × {s} time(s) of panels",
                size.0, size.1
            ),
        });
    };
    let avail_h = size.1 - 2 * m.margin - m.top - m.foot;
    let x0 = (m.margin + (size.0 - 2 * m.margin).saturating_sub(block.0) / 2 + m.left) as i32;
    let y0 = (m.margin + m.top + avail_h.saturating_sub(block.1) / 2) as i32;
    let (w_i, h_i) = (w as i32, h as i32);
    let (gap, title) = (m.gap as i32, m.title as i32);
    let row_step = title + h_i + gap;
    let mut plots = vec![Vec::with_capacity(s); k];
    let mut bars = Vec::with_capacity(k);
    match orientation {
        Orientation::PopulationRows => {
            for (p, row) in plots.iter_mut().enumerate() {
                let y = y0 + p as i32 * row_step + title;
                for c in 0..s {
                    row.push(Rect::new(x0 + c as i32 * (w_i + gap), y, w, h));
                }
                let bx = x0 + s as i32 * w_i + (s as i32 - 1) * gap + m.bar_gap as i32;
                bars.push(Rect::new(bx, y, super::axes::BAR_STRIP, h));
            }
        }
        Orientation::PopulationColumns => {
            let group = w_i + (m.bar_gap + m.bar) as i32 + gap;
            for (p, col) in plots.iter_mut().enumerate() {
                let x = x0 + p as i32 * group;
                for r in 0..s {
                    col.push(Rect::new(x, y0 + r as i32 * row_step + title, w, h));
                }
                let top = y0 + title;
                let span = (s as i32 - 1) * row_step + h_i;
                bars.push(Rect::new(
                    x + w_i + m.bar_gap as i32,
                    top,
                    super::axes::BAR_STRIP,
                    span as u32,
                ));
            }
        }
    }
    Ok(Sheet {
        orientation,
        plots,
        bars,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Metrics = Metrics {
        margin: 6,
        top: 24,
        foot: 0,
        left: 50,
        bottom: 40,
        title: 20,
        gap: 10,
        bar_gap: 14,
        bar: 70,
    };

    #[test]
    fn fit_keeps_the_aspect_to_the_pixel() {
        for &(a, w, h) in &[(3.0, 500.0, 120.0), (1.0, 333.3, 500.0), (2.5, 101.0, 77.0)] {
            let (pw, ph) = fit(a, w, h).unwrap();
            assert!(f64::from(pw) <= w && f64::from(ph) <= h);
            assert!((f64::from(pw) - a * f64::from(ph)).abs() <= a.max(1.0) / 2.0 + 1e-9);
        }
        assert_eq!(fit(1.0, 0.5, 10.0), None);
    }

    #[test]
    fn panels_are_disjoint_inside_the_picture_with_their_bars() {
        for &(a, k, s, size) in &[
            (3.0, 2, 4, (800, 600)),
            (1.0, 3, 4, (800, 600)),
            (2.0, 3, 1, (640, 480)),
            (1.0, 1, 1, (240, 180)),
        ] {
            let sh = sheet(size, a, k, s, &M).unwrap();
            let all: Vec<Rect> = sh.plots.iter().flatten().chain(&sh.bars).copied().collect();
            let pic = Rect::new(0, 0, size.0, size.1);
            for (i, r) in all.iter().enumerate() {
                assert!(pic.contains(r), "{r:?} outside {size:?}");
                for o in &all[i + 1..] {
                    assert!(!r.overlaps(o), "{r:?} overlaps {o:?}");
                }
            }
            let r = sh.plots[0][0];
            assert!(
                (f64::from(r.w) - a * f64::from(r.h)).abs() <= a / 2.0 + 1e-9,
                "{r:?}"
            );
        }
    }

    #[test]
    fn a_corridor_stacks_its_times_and_a_square_spreads_them() {
        let corridor = sheet((800, 600), 3.0, 2, 4, &M).unwrap();
        assert_eq!(corridor.orientation, Orientation::PopulationColumns);
        let square = sheet((800, 600), 1.0, 2, 4, &M).unwrap();
        assert_eq!(square.orientation, Orientation::PopulationRows);
    }

    #[test]
    fn too_small_is_an_error() {
        let e = sheet((240, 180), 1.0, 6, 8, &M).unwrap_err();
        assert!(e.to_string().contains("too small"), "{e}");
    }
}
