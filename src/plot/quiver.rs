//! Arrows of the optimal feedback α^k = −∂p H^k(x, ∇u^k, m) (MATH.md §2; the velocity of the
//! agents of population k) on a lattice subsampled from the grid.
//!
//! Arrows are centred on their lattice point, their length proportional to |α| and the
//! population's largest speed over the drawn times drawn 0.9 lattice steps long, so that
//! neighbours never collide; the caller states that speed. They are white with a black outline,
//! readable on every colour of the map below.

use super::canvas::{Area, AreaError};
use super::{Error, Rect, Result};
use plotters::prelude::*;

/// The longest arrow, in lattice steps.
pub(super) const LONGEST: f64 = 0.9;

/// Shorter arrows (pixels) are not drawn: their head would hide their direction.
const SHORTEST: f64 = 4.0;

/// Lattice points (pixel coordinates, absolute) inside `rect`, `spacing` pixels apart and
/// centred in it.
pub(super) fn lattice(rect: Rect, spacing: f64) -> Vec<(f64, f64)> {
    let along = |len: u32| -> Vec<f64> {
        let n = ((f64::from(len) / spacing).floor() as usize).max(1);
        let first = (f64::from(len) - (n - 1) as f64 * spacing) / 2.0;
        (0..n).map(|i| first + i as f64 * spacing).collect()
    };
    let xs = along(rect.w);
    let ys = along(rect.h);
    ys.iter()
        .flat_map(|&y| {
            xs.iter()
                .map(move |&x| (f64::from(rect.x) + x, f64::from(rect.y) + y))
        })
        .collect()
}

/// Tail and head (pixels) of the arrow of velocity v = (v_x, v_y) (y upwards) at `centre`, for
/// the largest speed `vmax`; `None` when it would be shorter than [`SHORTEST`] pixels.
pub(super) fn arrow(
    centre: (f64, f64),
    v: (f64, f64),
    vmax: f64,
    spacing: f64,
) -> Option<[(f64, f64); 2]> {
    let speed = v.0.hypot(v.1);
    if !(vmax > 0.0 && speed.is_finite()) {
        return None;
    }
    let len = LONGEST * spacing * speed / vmax;
    if len < SHORTEST {
        return None;
    }
    // Rows grow downwards: flip v_y.
    let (dx, dy) = (v.0 / speed * len / 2.0, -v.1 / speed * len / 2.0);
    Some([
        (centre.0 - dx, centre.1 - dy),
        (centre.0 + dx, centre.1 + dy),
    ])
}

/// The three strokes of an arrow: shaft and the two barbs of its head.
fn strokes(a: [(f64, f64); 2]) -> [Vec<(i32, i32)>; 3] {
    let [t, h] = a;
    let (dx, dy) = (h.0 - t.0, h.1 - t.1);
    let len = dx.hypot(dy);
    let barb = (0.35 * len).clamp(2.0, 7.0);
    let (ux, uy) = (dx / len, dy / len);
    let (c, s) = (0.5f64.cos(), 0.5f64.sin());
    let p = |x: f64, y: f64| (x.round() as i32, y.round() as i32);
    let side = |sign: f64| {
        // The shaft's direction turned by ±0.5 rad, pointing back from the head.
        let (bx, by) = (ux * c - sign * uy * s, sign * ux * s + uy * c);
        vec![p(h.0, h.1), p(h.0 - barb * bx, h.1 - barb * by)]
    };
    [vec![p(t.0, t.1), p(h.0, h.1)], side(1.0), side(-1.0)]
}

/// Draws the arrows: a black outline, then a white core.
pub(super) fn draw(
    root: &Area<'_>,
    arrows: &[[(f64, f64); 2]],
    err: &dyn Fn(AreaError) -> Error,
) -> Result<()> {
    for (colour, width) in [(BLACK, 3), (WHITE, 1)] {
        for a in arrows {
            for s in strokes(*a) {
                root.draw(&PathElement::new(s, colour.stroke_width(width)))
                    .map_err(err)?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lattice_is_centred_and_spaced() {
        let pts = lattice(Rect::new(10, 20, 100, 50), 30.0);
        // 3 columns of one row.
        assert_eq!(pts.len(), 3);
        assert_eq!(pts[0], (10.0 + 20.0, 20.0 + 25.0));
        assert_eq!(pts[2].0 - pts[1].0, 30.0);
    }

    #[test]
    fn arrows_point_along_the_velocity_with_y_up() {
        let [t, h] = arrow((50.0, 50.0), (2.0, 0.0), 2.0, 20.0).unwrap();
        assert_eq!((t, h), ((41.0, 50.0), (59.0, 50.0)));
        let [t, h] = arrow((50.0, 50.0), (0.0, 1.0), 2.0, 20.0).unwrap();
        // Half the largest speed: half the length, pointing up (smaller rows).
        assert!((t.1 - h.1 - 9.0).abs() < 1e-12 && t.0 == h.0, "{t:?} {h:?}");
        assert!(arrow((0.0, 0.0), (0.01, 0.0), 2.0, 20.0).is_none());
        assert!(arrow((0.0, 0.0), (1.0, 0.0), 0.0, 20.0).is_none());
    }

    #[test]
    fn barbs_start_at_the_head_and_point_back() {
        let [shaft, b1, b2] = strokes([(0.0, 0.0), (20.0, 0.0)]);
        assert_eq!(shaft, vec![(0, 0), (20, 0)]);
        for b in [b1, b2] {
            assert_eq!(b[0], (20, 0));
            assert!(b[1].0 < 20 && b[1].1 != 0, "{b:?}");
        }
    }
}
