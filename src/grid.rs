//! Uniform tensor grids in one and two space dimensions, and the time grid.
//!
//! Nodes are cell centres: on an axis [a, b] with N nodes, h = (b - a)/N and x_i = a + (i + ½)h.
//! With that choice the discrete mass Σ_i m_i h^d is the midpoint rule for ∫ m dx, and both
//! boundary kinds of docs/math.md §2 take a uniform form:
//! - periodic: node N-1 neighbours node 0;
//! - reflecting (no flux, Neumann): the ghost value beyond the wall equals the boundary node's
//!   value, so the one-sided difference across the wall is zero and no transition crosses it.
//!
//! Nodes are numbered with x fastest: i = ix + Nx·iy, which is the row-major layout of an array
//! shaped (Ny, Nx).

use crate::error::{Error, Result};

/// Boundary condition of one axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Boundary {
    /// The axis wraps around.
    Periodic,
    /// No-flux wall: Neumann condition for u, zero flux for m.
    Reflecting,
}

impl Boundary {
    /// Lower-case name, as in configuration files.
    pub fn as_str(self) -> &'static str {
        match self {
            Boundary::Periodic => "periodic",
            Boundary::Reflecting => "reflecting",
        }
    }
}

/// One axis of a tensor grid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// Lower end of the axis.
    pub min: f64,
    /// Upper end of the axis.
    pub max: f64,
    /// Number of cell-centred nodes.
    pub n: usize,
    /// Boundary condition at both ends.
    pub boundary: Boundary,
}

impl Axis {
    /// An axis on [min, max] with `n` cell-centred nodes.
    pub fn new(min: f64, max: f64, n: usize, boundary: Boundary) -> Self {
        Axis {
            min,
            max,
            n,
            boundary,
        }
    }

    /// Node spacing h = (max - min)/n.
    pub fn h(&self) -> f64 {
        (self.max - self.min) / self.n as f64
    }

    /// Coordinate of node i.
    pub fn node(&self, i: usize) -> f64 {
        self.min + (i as f64 + 0.5) * self.h()
    }

    /// All node coordinates.
    pub fn nodes(&self) -> Vec<f64> {
        (0..self.n).map(|i| self.node(i)).collect()
    }

    fn validate(&self, name: &str) -> Result<()> {
        for (bound, v) in [("min", self.min), ("max", self.max)] {
            if !v.is_finite() {
                return Err(Error::invalid(
                    format!("grid.{name}.{bound}"),
                    format!("{v}: bounds must be finite numbers"),
                ));
            }
        }
        if self.max <= self.min {
            return Err(Error::invalid(
                format!("grid.{name}"),
                format!("max ({}) must exceed min ({})", self.max, self.min),
            ));
        }
        if self.n < 3 {
            return Err(Error::invalid(
                format!("grid.{name}.n"),
                format!("{} nodes: at least 3 are needed", self.n),
            ));
        }
        Ok(())
    }
}

/// Marker for "no neighbour" (a reflecting wall) in [`Grid::neighbour`].
pub const NONE: usize = usize::MAX;

/// A uniform tensor grid of dimension 1 or 2 with precomputed neighbour tables.
#[derive(Debug, Clone)]
pub struct Grid {
    axes: Vec<Axis>,
    len: usize,
    /// Neighbour of node i through slot s = 2·axis + (0 lower, 1 upper), at `i * 2d + s`;
    /// [`NONE`] across a reflecting wall.
    neighbours: Vec<usize>,
    /// Coordinates of every node (y = 0 in 1D), precomputed for the per-node kernels.
    points: Vec<[f64; 2]>,
}

const AXIS_NAMES: [&str; 2] = ["x", "y"];

impl Grid {
    /// A grid from one axis (1D) or two axes (2D, x then y).
    pub fn new(axes: Vec<Axis>) -> Result<Self> {
        if axes.is_empty() || axes.len() > 2 {
            return Err(Error::invalid(
                "grid",
                format!("{} axes: only 1D and 2D grids are supported", axes.len()),
            ));
        }
        for (a, ax) in axes.iter().enumerate() {
            ax.validate(AXIS_NAMES[a])?;
        }
        let d = axes.len();
        // Checked: a size that cannot exist is an error, not a capacity overflow.
        let len = axes
            .iter()
            .try_fold(1usize, |acc, a| acc.checked_mul(a.n))
            .filter(|len| len.checked_mul(3 * d * 8).is_some())
            .ok_or_else(|| {
                Error::invalid(
                    "grid",
                    format!(
                        "{} nodes per axis: the number of nodes overflows",
                        axes.iter()
                            .map(|a| a.n.to_string())
                            .collect::<Vec<_>>()
                            .join(" × ")
                    ),
                )
            })?;
        let mut neighbours = Vec::new();
        neighbours.try_reserve_exact(len * 2 * d).map_err(|_| {
            Error::invalid(
                "grid",
                format!("{len} nodes: cannot allocate the grid's neighbour table"),
            )
        })?;
        neighbours.resize(len * 2 * d, NONE);
        let mut stride = 1;
        for (a, ax) in axes.iter().enumerate() {
            for i in 0..len {
                let c = (i / stride) % ax.n;
                let base = i - c * stride;
                let lo = if c > 0 {
                    base + (c - 1) * stride
                } else if ax.boundary == Boundary::Periodic {
                    base + (ax.n - 1) * stride
                } else {
                    NONE
                };
                let hi = if c + 1 < ax.n {
                    base + (c + 1) * stride
                } else if ax.boundary == Boundary::Periodic {
                    base
                } else {
                    NONE
                };
                neighbours[i * 2 * d + 2 * a] = lo;
                neighbours[i * 2 * d + 2 * a + 1] = hi;
            }
            stride *= ax.n;
        }
        let nx = axes[0].n;
        let points = (0..len)
            .map(|i| {
                let y = axes.get(1).map_or(0.0, |ay| ay.node(i / nx));
                [axes[0].node(i % nx), y]
            })
            .collect();
        Ok(Grid {
            axes,
            len,
            neighbours,
            points,
        })
    }

    /// A 1D grid.
    pub fn new_1d(min: f64, max: f64, n: usize, boundary: Boundary) -> Result<Self> {
        Self::new(vec![Axis::new(min, max, n, boundary)])
    }

    /// A 2D grid (x axis, y axis).
    pub fn new_2d(x: Axis, y: Axis) -> Result<Self> {
        Self::new(vec![x, y])
    }

    /// Space dimension d (1 or 2).
    pub fn dim(&self) -> usize {
        self.axes.len()
    }

    /// The axes, x first.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Number of nodes N = Π N_a.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Always false: a valid grid has at least 3 nodes per axis.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Spacing of axis a.
    pub fn h(&self, a: usize) -> f64 {
        self.axes[a].h()
    }

    /// Cell volume h^d (the quadrature weight of every node).
    pub fn cell_volume(&self) -> f64 {
        self.axes.iter().map(|a| a.h()).product()
    }

    /// Per-axis index of flat node i.
    pub fn multi_index(&self, i: usize) -> [usize; 2] {
        let nx = self.axes[0].n;
        [i % nx, i / nx]
    }

    /// Coordinates of node i: `&point(i)[..dim()]` (the y entry is 0 in 1D).
    #[inline]
    pub fn point(&self, i: usize) -> [f64; 2] {
        self.points[i]
    }

    /// Neighbour of node i across slot s = 2·axis + (0 lower, 1 upper), or [`NONE`].
    #[inline]
    pub fn neighbour(&self, i: usize, slot: usize) -> usize {
        self.neighbours[i * 2 * self.dim() + slot]
    }

    /// The neighbour slots of node i (length 2d).
    #[inline]
    pub fn neighbours(&self, i: usize) -> &[usize] {
        let s = 2 * self.dim();
        &self.neighbours[i * s..(i + 1) * s]
    }

    /// The same grid with every link that touches a removed node (`live[i]` false) cut, as a
    /// reflecting wall is: the state space of a population restricted to the live nodes
    /// (docs/geometry.md). Removed nodes keep no neighbour at all.
    pub fn restricted(&self, live: &[bool]) -> Grid {
        let mut g = self.clone();
        let s = 2 * self.dim();
        for i in 0..self.len {
            for slot in 0..s {
                let j = g.neighbours[i * s + slot];
                if !live[i] || (j != NONE && !live[j]) {
                    g.neighbours[i * s + slot] = NONE;
                }
            }
        }
        g
    }

    /// Discrete integral Σ_i v_i h^d.
    pub fn integrate(&self, v: &[f64]) -> f64 {
        v.iter().sum::<f64>() * self.cell_volume()
    }

    /// Discrete L1 norm Σ_i |v_i| h^d.
    pub fn l1(&self, v: &[f64]) -> f64 {
        v.iter().map(|x| x.abs()).sum::<f64>() * self.cell_volume()
    }

    /// Sample a function of the coordinates at every node.
    pub fn sample(&self, f: impl Fn(&[f64]) -> f64) -> Vec<f64> {
        (0..self.len)
            .map(|i| {
                let p = self.point(i);
                f(&p[..self.dim()])
            })
            .collect()
    }

    /// Short description such as `201 nodes on [-1, 1] (reflecting)`.
    pub fn describe(&self) -> String {
        self.axes
            .iter()
            .zip(AXIS_NAMES)
            .map(|(a, name)| {
                format!(
                    "{name}: {} nodes on [{}, {}] ({})",
                    a.n,
                    a.min,
                    a.max,
                    a.boundary.as_str()
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Uniform time grid t_n = nΔt, n = 0..=Nt, Δt = T/Nt.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeGrid {
    /// Horizon T.
    pub horizon: f64,
    /// Number of time steps Nt.
    pub nt: usize,
}

impl TimeGrid {
    /// A time grid on [0, T] with `nt` steps.
    pub fn new(horizon: f64, nt: usize) -> Result<Self> {
        if !(horizon.is_finite() && horizon > 0.0) {
            return Err(Error::invalid(
                "time.horizon",
                format!("{horizon}: must be a positive finite number"),
            ));
        }
        if nt < 1 {
            return Err(Error::invalid(
                "time.steps",
                "at least one time step is needed",
            ));
        }
        Ok(TimeGrid { horizon, nt })
    }

    /// Step Δt.
    pub fn dt(&self) -> f64 {
        self.horizon / self.nt as f64
    }

    /// Time of level n.
    pub fn t(&self, n: usize) -> f64 {
        n as f64 * self.dt()
    }

    /// All Nt + 1 time levels.
    pub fn levels(&self) -> Vec<f64> {
        (0..=self.nt).map(|n| self.t(n)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_1d_reflecting_and_periodic() {
        let g = Grid::new_1d(0.0, 1.0, 4, Boundary::Reflecting).unwrap();
        assert_eq!(g.neighbours(0), &[NONE, 1]);
        assert_eq!(g.neighbours(3), &[2, NONE]);
        let g = Grid::new_1d(0.0, 1.0, 4, Boundary::Periodic).unwrap();
        assert_eq!(g.neighbours(0), &[3, 1]);
        assert_eq!(g.neighbours(3), &[2, 0]);
        assert!((g.h(0) - 0.25).abs() < 1e-15);
        assert!((g.point(0)[0] - 0.125).abs() < 1e-15);
    }

    #[test]
    fn neighbours_2d_mixed() {
        let g = Grid::new_2d(
            Axis::new(0.0, 1.0, 3, Boundary::Periodic),
            Axis::new(0.0, 2.0, 4, Boundary::Reflecting),
        )
        .unwrap();
        assert_eq!(g.len(), 12);
        // node (ix=0, iy=0): x-lower wraps to ix=2, y-lower is a wall
        assert_eq!(g.neighbours(0), &[2, 1, NONE, 3]);
        // node (ix=2, iy=3) = 11
        assert_eq!(g.neighbours(11), &[10, 9, 8, NONE]);
        assert_eq!(g.multi_index(7), [1, 2]);
        assert!((g.cell_volume() - (1.0 / 3.0) * 0.5).abs() < 1e-15);
    }

    #[test]
    fn restriction_cuts_the_links_of_removed_nodes() {
        let g = Grid::new_1d(0.0, 1.0, 5, Boundary::Periodic).unwrap();
        let r = g.restricted(&[true, true, false, true, true]);
        assert_eq!(r.neighbours(1), &[0, NONE]);
        assert_eq!(r.neighbours(2), &[NONE, NONE]);
        assert_eq!(r.neighbours(3), &[NONE, 4]);
        assert_eq!(r.neighbours(0), &[4, 1]);
    }

    #[test]
    fn too_few_nodes_is_an_error() {
        let e = Grid::new_1d(0.0, 1.0, 2, Boundary::Periodic).unwrap_err();
        assert!(e.to_string().contains("grid.x.n"), "{e}");
        let e = Grid::new_1d(1.0, 1.0, 5, Boundary::Periodic).unwrap_err();
        assert!(e.to_string().contains("grid.x"), "{e}");
    }
}
