//! Structured storage of a 5-point matrix on an Nx × Ny lattice (node i = ix + Nx·iy, Ny = 1
//! for a line; each axis walled or periodic), as the implicit step matrix I/Δt - Q(u) of a
//! tensor grid is: one coefficient array per direction, so that products and sweeps run line
//! by line over contiguous memory.

use crate::error::{Error, Result};
use crate::grid::{Boundary, Grid, NONE};
use crate::linalg::LinearOperator;

/// Neighbour directions; they coincide with the grid's slots 2·axis + (0 lower, 1 upper).
pub const W: usize = 0;
/// East: +x neighbour.
pub const E: usize = 1;
/// South: −y neighbour.
pub const S: usize = 2;
/// North: +y neighbour.
pub const N: usize = 3;
/// Index of the diagonal among the five coefficient arrays.
pub const C: usize = 4;
/// The four neighbour directions.
pub const DIRECTIONS: [usize; 4] = [W, E, S, N];

/// Shape of a tensor lattice: Nx × Ny nodes, i = ix + Nx·iy (Ny = 1 for a line), periodic or
/// walled per axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lattice {
    /// Nodes along x.
    pub nx: usize,
    /// Nodes along y (1 for a line).
    pub ny: usize,
    /// Periodic along x.
    pub px: bool,
    /// Periodic along y.
    pub py: bool,
}

impl Lattice {
    /// An Nx × Ny lattice; the structured loops need Nx ≥ 3 (every grid axis has ≥ 3 nodes).
    pub fn new(nx: usize, ny: usize, px: bool, py: bool) -> Result<Self> {
        if nx < 3 || ny == 0 {
            return Err(Error::invalid(
                "lattice",
                format!("{nx} × {ny} nodes: the structured storage needs Nx ≥ 3 and Ny ≥ 1"),
            ));
        }
        Ok(Lattice { nx, ny, px, py })
    }

    /// The lattice of a 1D or 2D grid, checked against the grid's neighbour numbering.
    pub fn from_grid(grid: &Grid) -> Result<Self> {
        let ax = grid.axes();
        let lat = Lattice::new(
            ax[0].n,
            if ax.len() > 1 { ax[1].n } else { 1 },
            ax[0].boundary == Boundary::Periodic,
            ax.len() > 1 && ax[1].boundary == Boundary::Periodic,
        )?;
        // The loops hard-code the grid's numbering; a change there must not go unnoticed.
        for i in 0..grid.len() {
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                assert_eq!(lat.nb(i, s).unwrap_or(NONE), j, "grid numbering changed");
            }
        }
        Ok(lat)
    }

    /// Number of nodes Nx·Ny.
    pub fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// Calls `f(i, ix, iy)` for every node in numbering order (no division per node).
    #[inline]
    fn for_each_node(&self, mut f: impl FnMut(usize, usize, usize)) {
        for iy in 0..self.ny {
            for ix in 0..self.nx {
                f(ix + self.nx * iy, ix, iy);
            }
        }
    }

    /// Whether the lattice has no node.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Neighbour of node i in direction `dir`, None across a wall.
    #[inline]
    pub fn nb(&self, i: usize, dir: usize) -> Option<usize> {
        self.nb_at(i % self.nx, i / self.nx, dir)
    }

    /// Neighbour of node (ix, iy) in direction `dir`, None across a wall.
    #[inline]
    fn nb_at(&self, ix: usize, iy: usize, dir: usize) -> Option<usize> {
        let (nx, ny) = (self.nx, self.ny);
        let i = ix + nx * iy;
        match dir {
            W if ix > 0 => Some(i - 1),
            W if self.px => Some(i + nx - 1),
            E if ix + 1 < nx => Some(i + 1),
            E if self.px => Some(i + 1 - nx),
            S if iy > 0 => Some(i - nx),
            S if self.py => Some(i + (ny - 1) * nx),
            N if iy + 1 < ny => Some(i + nx),
            N if self.py => Some(ix),
            _ => None,
        }
    }
}

/// A 5-point matrix in gather form: `a[dir][i]` multiplies x at node i's neighbour in
/// direction `dir` (0 across a wall, and for S/N on a line), `a[C][i]` is the diagonal.
#[derive(Debug, Clone)]
pub struct FivePoint {
    /// The lattice the matrix lives on.
    pub lat: Lattice,
    /// Coefficients by direction W, E, S, N and the diagonal C.
    pub a: [Vec<f64>; 5],
}

impl FivePoint {
    /// The zero matrix on `lat`.
    pub fn zeros(lat: Lattice) -> Self {
        FivePoint {
            lat,
            a: std::array::from_fn(|_| vec![0.0; lat.len()]),
        }
    }

    /// y = A x, line by line.
    fn gather(&self, x: &[f64], y: &mut [f64]) {
        let (lat, a) = (&self.lat, &self.a);
        let (nx, ny) = (lat.nx, lat.ny);
        let m = nx - 2;
        // A neighbour line across a wall is replaced by the line itself: its coefficients are 0.
        for iy in 0..ny {
            let o = iy * nx;
            let so = match iy {
                0 if lat.py => (ny - 1) * nx,
                0 => o,
                _ => o - nx,
            };
            let no = match iy + 1 {
                t if t < ny => o + nx,
                _ if lat.py => 0,
                _ => o,
            };
            let r = o..o + nx;
            let (xc, xs, xn) = (&x[r.clone()], &x[so..so + nx], &x[no..no + nx]);
            let (c, aw, ae, as_, an) = (
                &a[C][r.clone()],
                &a[W][r.clone()],
                &a[E][r.clone()],
                &a[S][r.clone()],
                &a[N][r.clone()],
            );
            let yl = &mut y[r];
            for k in 0..nx {
                yl[k] = c[k] * xc[k] + as_[k] * xs[k] + an[k] * xn[k];
            }
            let (yi, awi, aei, xm, xp) = (
                &mut yl[1..nx - 1],
                &aw[1..nx - 1],
                &ae[1..nx - 1],
                &xc[..m],
                &xc[2..],
            );
            for k in 0..m {
                yi[k] += awi[k] * xm[k] + aei[k] * xp[k];
            }
            let (wl, er) = if lat.px { (nx - 1, 0) } else { (0, nx - 1) };
            yl[0] += aw[0] * xc[wl] + ae[0] * xc[1];
            yl[nx - 1] += aw[nx - 1] * xc[nx - 2] + ae[nx - 1] * xc[er];
        }
    }

    /// Aᵀ in gather form into `at`: (Aᵀ)_{i, nb(i, dir)} = A_{nb(i, dir), i}, the coefficient of
    /// the neighbour in the opposite direction.
    pub fn transpose_into(&self, at: &mut FivePoint) {
        at.lat = self.lat;
        at.a[C].copy_from_slice(&self.a[C]);
        for (dir, opp) in [(W, E), (E, W), (S, N), (N, S)] {
            let (src, dst) = (&self.a[opp], &mut at.a[dir]);
            self.lat.for_each_node(|i, ix, iy| {
                dst[i] = self.lat.nb_at(ix, iy, dir).map_or(0.0, |j| src[j]);
            });
        }
    }

    /// ‖A‖∞, the largest absolute row sum.
    pub fn norm_inf(&self) -> f64 {
        (0..self.a[C].len())
            .map(|i| self.a.iter().map(|c| c[i].abs()).sum::<f64>())
            .fold(0.0, f64::max)
    }

    /// Calls `f(row, column, value)` for every entry of the fixed pattern (node i's existing
    /// neighbours in direction order, then the diagonal; zeros included), node by node. The
    /// order depends only on the lattice, so that a sparse factorisation's pattern built from
    /// one call serves the values of every later one.
    pub fn for_each_entry(&self, mut f: impl FnMut(usize, usize, f64)) {
        self.lat.for_each_node(|i, ix, iy| {
            for dir in DIRECTIONS {
                if let Some(j) = self.lat.nb_at(ix, iy, dir) {
                    f(i, j, self.a[dir][i]);
                }
            }
            f(i, i, self.a[C][i]);
        });
    }
}

impl LinearOperator for FivePoint {
    fn len(&self) -> usize {
        self.lat.len()
    }

    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.gather(x, y);
        Ok(())
    }

    /// By scattering row by row; solvers that need Aᵀ often build it with
    /// [`FivePoint::transpose_into`] instead, whose products vectorise.
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        for (i, (yi, xi)) in y.iter_mut().zip(x).enumerate() {
            *yi = self.a[C][i] * xi;
        }
        for (i, xi) in x.iter().enumerate() {
            for dir in DIRECTIONS {
                if let Some(j) = self.lat.nb(i, dir) {
                    y[j] += self.a[dir][i] * xi;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::linalg::testing::{rel_err, Lcg};

    /// A random 5-point M-matrix (off-diagonals ≤ 0, rows strictly dominant by `margin`).
    pub(crate) fn random_m_matrix(lat: Lattice, seed: u64, margin: f64) -> FivePoint {
        let mut rng = Lcg(seed);
        let mut m = FivePoint::zeros(lat);
        for i in 0..lat.len() {
            let mut out = 0.0;
            for dir in DIRECTIONS {
                if lat.nb(i, dir).is_some() {
                    let v = -3.0 * rng.next();
                    m.a[dir][i] = v;
                    out -= v;
                }
            }
            m.a[C][i] = margin + out;
        }
        m
    }

    /// The dense row-major matrix of `m`.
    pub(crate) fn dense(m: &FivePoint) -> Vec<f64> {
        let n = m.lat.len();
        let mut d = vec![0.0; n * n];
        m.for_each_entry(|r, c, v| d[r * n + c] += v);
        d
    }

    pub(crate) fn lattices() -> Vec<Lattice> {
        [
            (3, 1, false, false),
            (3, 1, true, false),
            (5, 4, false, false),
            (3, 3, true, true),
            (4, 3, false, true),
            (6, 5, true, false),
        ]
        .iter()
        .map(|&(nx, ny, px, py)| Lattice::new(nx, ny, px, py).unwrap())
        .collect()
    }

    #[test]
    fn products_and_transpose_match_the_dense_matrix() {
        for (l, lat) in lattices().into_iter().enumerate() {
            let mut m = random_m_matrix(lat, l as u64, 0.5);
            let d = dense(&m);
            let n = lat.len();
            let x = Lcg(40 + l as u64).vector(n, -0.5);
            let reference = |t: bool| -> Vec<f64> {
                (0..n)
                    .map(|i| {
                        (0..n)
                            .map(|j| if t { d[j * n + i] } else { d[i * n + j] } * x[j])
                            .sum()
                    })
                    .collect()
            };
            let mut y = vec![0.0; n];
            m.apply(&x, &mut y).unwrap();
            assert!(rel_err(&y, &reference(false)) < 1e-14, "lattice {l}");
            m.apply_transpose(&x, &mut y).unwrap();
            assert!(rel_err(&y, &reference(true)) < 1e-14, "lattice {l} Aᵀ");
            let mut mt = FivePoint::zeros(lat);
            m.transpose_into(&mut mt);
            mt.apply(&x, &mut y).unwrap();
            assert!(
                rel_err(&y, &reference(true)) < 1e-14,
                "lattice {l} transpose_into"
            );
            let row_max = (0..n)
                .map(|i| (0..n).map(|j| d[i * n + j].abs()).sum::<f64>())
                .fold(0.0, f64::max);
            assert!((m.norm_inf() - row_max).abs() <= 1e-14 * row_max);
        }
    }

    #[test]
    fn lattice_matches_the_grid_numbering_and_rejects_short_lines() {
        use crate::grid::Axis;
        let g = Grid::new_2d(
            Axis::new(0.0, 1.0, 5, Boundary::Periodic),
            Axis::new(0.0, 1.0, 4, Boundary::Reflecting),
        )
        .unwrap();
        let lat = Lattice::from_grid(&g).unwrap();
        assert_eq!((lat.nx, lat.ny, lat.px, lat.py), (5, 4, true, false));
        assert!(Lattice::new(2, 4, false, false).is_err());
    }
}
