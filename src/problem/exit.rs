//! Exits (docs/geometry.md): nodes E where agents leave the domain. On E the value is the exit
//! cost, u^k = ψ^k (a Dirichlet condition), and the density is absorbed: an exit node is an
//! absorbing state of the chain of [`crate::scheme::Generator`] — its row of Q^k is zero (no
//! rate out, no running cost), so the HJB keeps u^k = ψ^k there at every level, while the FP
//! equation, the exact adjoint, accumulates at e the mass that has jumped into it. The chain
//! restricted to the other nodes is the sub-generator of docs/math.md (rows summing to −κ_i,
//! κ_i the rate of leaving from i), and Σ_{i∉E} m_i h^d + Σ_{e∈E} m_e h^d, the mass inside plus
//! the mass that has left, is the initial mass to round-off.
//!
//! Exits are a property of the domain, shared by every population whose state space contains
//! the node (a door is a door for everyone; a population that must not leave through it gets a
//! region without it). So at an exit node no population has a running cost, and the absorbed
//! mass stored there is never seen by the local couplings f^k(x_i, m(x_i)) of a node where an
//! agent is still in play.

use super::region::Region;
use crate::error::{Error, Result};
use crate::grid::Grid;
use serde::{Deserialize, Serialize};

/// A side of the domain: the layer of nodes next to one end of an axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Side {
    /// The nodes next to x = x_min.
    XMin,
    /// The nodes next to x = x_max.
    XMax,
    /// The nodes next to y = y_min (2D).
    YMin,
    /// The nodes next to y = y_max (2D).
    YMax,
}

impl Side {
    /// The axis and whether it is the upper end.
    fn axis(self) -> (usize, bool) {
        match self {
            Side::XMin => (0, false),
            Side::XMax => (0, true),
            Side::YMin => (1, false),
            Side::YMax => (1, true),
        }
    }
}

/// Where agents may leave.
#[derive(Debug, Clone, PartialEq)]
pub enum Exit {
    /// The boundary nodes of a side; in 2D optionally only those whose other coordinate lies in
    /// `span` = [a, b] (a door in a wall).
    Side {
        /// Which side.
        side: Side,
        /// Range of the other coordinate (2D), inclusive.
        span: Option<[f64; 2]>,
    },
    /// Every node of a region (e.g. a door region in the interior).
    Region(Region),
}

impl Exit {
    /// The whole side `side`.
    pub fn side(side: Side) -> Self {
        Exit::Side { side, span: None }
    }

    /// The nodes of `side` whose other coordinate lies in [a, b] (2D).
    pub fn door(side: Side, a: f64, b: f64) -> Self {
        Exit::Side {
            side,
            span: Some([a, b]),
        }
    }

    /// The exit nodes on `grid`; `field` names the exit in errors. An exit that selects no node
    /// is an error (a door narrower than the grid spacing would silently vanish).
    pub fn mask(&self, grid: &Grid, field: &str) -> Result<Vec<bool>> {
        let mask = match self {
            Exit::Region(r) => r.mask(grid, field)?,
            Exit::Side { side, span } => {
                let (axis, upper) = side.axis();
                if axis >= grid.dim() {
                    return Err(Error::invalid(
                        format!("{field}.side"),
                        format!("{side:?} needs a 2D grid"),
                    ));
                }
                if grid.axes()[axis].boundary == crate::grid::Boundary::Periodic {
                    return Err(Error::invalid(
                        format!("{field}.side"),
                        format!(
                            "{side:?}: that axis is periodic, so it has no side to leave \
                             through (an exit region inside the domain can be used instead)"
                        ),
                    ));
                }
                if span.is_some() && grid.dim() == 1 {
                    return Err(Error::invalid(
                        format!("{field}.span"),
                        "a span selects part of a side of a 2D grid; a side of a 1D grid is one node",
                    ));
                }
                if let Some([a, b]) = span {
                    if !(a.is_finite() && b.is_finite() && a <= b) {
                        return Err(Error::invalid(
                            format!("{field}.span"),
                            format!(
                                "[{a}, {b}]: two finite numbers, the first not above the second"
                            ),
                        ));
                    }
                }
                let last = grid.axes()[axis].n - 1;
                let (nx, d) = (grid.axes()[0].n, grid.dim());
                (0..grid.len())
                    .map(|i| {
                        let idx = if axis == 0 { i % nx } else { i / nx };
                        let on_side = if upper { idx == last } else { idx == 0 };
                        on_side
                            && span.is_none_or(|[a, b]| {
                                let other = grid.point(i)[1 - axis.min(d - 1)];
                                other >= a && other <= b
                            })
                    })
                    .collect()
            }
        };
        if !mask.contains(&true) {
            return Err(Error::invalid(
                field,
                "the exit selects no node of the grid (is it narrower than the grid spacing?)",
            ));
        }
        Ok(mask)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::{Axis, Boundary};
    use crate::problem::Shape;

    #[test]
    fn sides_doors_and_regions_select_the_right_nodes() {
        let grid = Grid::new_2d(
            Axis::new(0.0, 4.0, 4, Boundary::Reflecting),
            Axis::new(0.0, 3.0, 3, Boundary::Reflecting),
        )
        .unwrap();
        let m = Exit::side(Side::XMax).mask(&grid, "e").unwrap();
        let on: Vec<usize> = (0..12).filter(|&i| m[i]).collect();
        assert_eq!(on, vec![3, 7, 11]);
        let m = Exit::door(Side::YMin, 1.0, 2.0).mask(&grid, "e").unwrap();
        let on: Vec<usize> = (0..12).filter(|&i| m[i]).collect();
        assert_eq!(on, vec![1]);
        let m = Exit::door(Side::YMax, 1.0, 3.0).mask(&grid, "e").unwrap();
        let on: Vec<usize> = (0..12).filter(|&i| m[i]).collect();
        assert_eq!(on, vec![9, 10]);
        let m = Exit::Region(Shape::disc(&[2.5, 1.5], 0.1).into())
            .mask(&grid, "e")
            .unwrap();
        assert_eq!(m.iter().filter(|v| **v).count(), 1);
        let e = Exit::door(Side::YMin, 5.0, 6.0)
            .mask(&grid, "exits[0]")
            .unwrap_err();
        assert!(e.to_string().contains("exits[0]") && e.to_string().contains("no node"));
        let e = Exit::door(Side::YMin, 2.0, 1.0)
            .mask(&grid, "exits[1]")
            .unwrap_err();
        assert!(e.to_string().contains("exits[1].span"), "{e}");
        let line = Grid::new_1d(0.0, 1.0, 5, Boundary::Reflecting).unwrap();
        let e = Exit::side(Side::YMax).mask(&line, "x").unwrap_err();
        assert!(e.to_string().contains("x.side"), "{e}");
        let m = Exit::side(Side::XMin).mask(&line, "x").unwrap();
        assert_eq!(m, vec![true, false, false, false, false]);
    }
}
