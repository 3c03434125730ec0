//! Aggregation multigrid for a 5-point M-matrix A on a lattice ([`FivePoint`]), such as one
//! implicit time step's I - ΔtQ: one V-cycle is an approximate inverse (the Newton–Krylov
//! preconditioner's step solves, `preconditioner = "multigrid"`), repeated cycles a
//! stationary solver ([`Multigrid::solve`]).
//!
//! - Hierarchy: the lattice is coarsened by 2 along every axis with ≥ 4 nodes (an odd count
//!   leaves one singleton aggregate) until ≤ [`COARSEST`] nodes remain.
//! - Transfers: aggregation of 2 (line) or 2×2 cells, piecewise-constant prolongation P and
//!   restriction R = Pᵀ.
//! - Coarse operators: Galerkin A_c = R A P, so (A_c)ᵀ = R Aᵀ P and one hierarchy serves A and
//!   Aᵀ (the transposes are stored). For A = I - ΔtQ with Q a generator, aggregation gives
//!   A_c = |agg| I - Δt Q_c where Q_c sums the rates between aggregates: again a generator, so
//!   every level is an M-matrix, diagonally dominant, and Gauss–Seidel converges on it whatever
//!   the drift. (Bilinear interpolation gave a faster cycle when diffusion dominates, 0.12
//!   against 0.18 per cycle at 64², but its Galerkin operators lose the M-matrix property under
//!   strong drift, and the cycle diverged on a drift of Péclet number ~30.)
//! - Cycle: one V(1,1)-cycle from a zero guess, forward Gauss–Seidel before and backward after
//!   the coarse correction (both directions of an upwind drift are smoothed), dense LU on the
//!   coarsest level. A fixed linear operator B ≈ A⁻¹, so plain (non-flexible) GMRES can use
//!   it; the cycle on Aᵀ is exactly Bᵀ (forward and backward sweeps trade places under
//!   transposition), so [`LinearOperator::apply_transpose`] is the adjoint of `apply`.

use crate::error::Result;
use crate::linalg::five_point::{FivePoint, Lattice, C, DIRECTIONS};
use crate::linalg::vector::norm;
use crate::linalg::LinearOperator;
use nalgebra::DMatrix;

/// Levels with at most this many nodes are solved by a dense LU.
pub const COARSEST: usize = 16;

/// One level: its operator M_l (CSR) and transpose, and the aggregation to the next level.
/// Patterns and index maps depend on the lattice only and are built once; [`Multigrid::setup`]
/// only fills values.
#[derive(Debug, Clone, Default)]
struct Level {
    ptr: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f64>,
    tptr: Vec<usize>,
    tidx: Vec<u32>,
    tval: Vec<f64>,
    /// Position in the transpose of every entry.
    tpos: Vec<usize>,
    /// Position of every entry's aggregate pair in the next level's operator (not on the last).
    cpos: Vec<usize>,
    /// Aggregate (next-level node) of every node (not on the last level).
    agg: Vec<u32>,
    diag: Vec<usize>,
    inv_diag: Vec<f64>,
    b: Vec<f64>,
    x: Vec<f64>,
    res: Vec<f64>,
}

impl Level {
    fn len(&self) -> usize {
        self.ptr.len() - 1
    }

    /// The CSR arrays of the level's operator or of its transpose.
    fn operator(&self, transpose: bool) -> (&[usize], &[u32], &[f64]) {
        if transpose {
            (&self.tptr, &self.tidx, &self.tval)
        } else {
            (&self.ptr, &self.idx, &self.val)
        }
    }

    /// One Gauss–Seidel sweep on A_l x = b (or its transpose), forward or backward; after a
    /// forward (pre-smoothing) sweep, also the residual that is restricted.
    fn smooth(&mut self, transpose: bool, backward: bool) {
        let (p, i, v) = if transpose {
            (&self.tptr, &self.tidx, &self.tval)
        } else {
            (&self.ptr, &self.idx, &self.val)
        };
        gauss_seidel(p, i, v, &self.inv_diag, &self.b, &mut self.x, backward);
        if !backward {
            residual(p, i, v, &self.b, &self.x, &mut self.res);
        }
    }

    /// Builds the transpose pattern and the position map from the pattern.
    fn finish_pattern(&mut self) {
        let n = self.len();
        let mut tptr = vec![0usize; n + 1];
        for &c in &self.idx {
            tptr[c as usize + 1] += 1;
        }
        for c in 0..n {
            tptr[c + 1] += tptr[c];
        }
        let mut next = tptr.clone();
        let mut tidx = vec![0u32; self.idx.len()];
        let mut tpos = vec![0usize; self.idx.len()];
        for r in 0..n {
            for (p, pos) in tpos
                .iter_mut()
                .enumerate()
                .take(self.ptr[r + 1])
                .skip(self.ptr[r])
            {
                let c = self.idx[p] as usize;
                tidx[next[c]] = r as u32;
                *pos = next[c];
                next[c] += 1;
            }
        }
        self.diag = (0..n)
            .map(|r| {
                (self.ptr[r]..self.ptr[r + 1])
                    .find(|&p| self.idx[p] as usize == r)
                    .expect("a step matrix has a full diagonal")
            })
            .collect();
        self.tptr = tptr;
        self.tidx = tidx;
        self.tpos = tpos;
        self.val = vec![0.0; self.idx.len()];
        self.tval = vec![0.0; self.idx.len()];
        self.inv_diag = vec![0.0; n];
        self.b = vec![0.0; n];
        self.x = vec![0.0; n];
        self.res = vec![0.0; n];
    }
}

/// Aggregation along one axis: fine cells 2c and 2c+1 form coarse cell c, the last cell of an
/// odd count stays alone (identity when the axis is not coarsened).
fn axis_aggregate(nf: usize, coarsen: bool) -> Vec<usize> {
    (0..nf).map(|i| if coarsen { i / 2 } else { i }).collect()
}

/// Settings of the stationary solve [`Multigrid::solve`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultigridParams {
    /// Stop when ‖b - A x‖₂ ≤ max(rel_tol ‖b‖₂, abs_tol).
    pub rel_tol: f64,
    /// Absolute floor of the stopping test.
    pub abs_tol: f64,
    /// V-cycles at most.
    pub max_cycles: usize,
}

/// What a stationary solve did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct MultigridInfo {
    /// V-cycles done.
    pub iterations: usize,
    /// ‖b - A x‖₂ at the end.
    pub residual: f64,
    /// Whether the stopping test was met.
    pub converged: bool,
}

/// Multigrid hierarchy for a 5-point matrix on a lattice.
#[derive(Debug, Clone)]
pub struct Multigrid {
    levels: Vec<Level>,
    /// Position on level 0 of the entry for node i's neighbour in direction d (4i + d).
    dir_pos: Vec<usize>,
    coarse: DMatrix<f64>,
    coarse_lu: Option<nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>>,
    coarse_lu_t: Option<nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>>,
    /// Scratch of [`Multigrid::solve`]: iterate correction and residual.
    work: [Vec<f64>; 2],
}

impl Multigrid {
    /// The hierarchy's patterns for `lat` (the values come with [`Multigrid::setup`]).
    pub fn new(lat: &Lattice) -> Self {
        // Level 0: the 5-point pattern.
        let n = lat.len();
        let mut l0 = Level {
            ptr: vec![0],
            ..Default::default()
        };
        let mut dir_pos = vec![usize::MAX; n * 4];
        for i in 0..n {
            let start = l0.idx.len();
            let nb = DIRECTIONS.map(|d| lat.nb(i, d));
            let mut cols: Vec<u32> = nb.iter().flatten().map(|&j| j as u32).collect();
            cols.push(i as u32);
            cols.sort_unstable();
            cols.dedup();
            for (d, j) in nb.iter().enumerate() {
                if let Some(j) = j {
                    dir_pos[i * 4 + d] =
                        start + cols.binary_search(&(*j as u32)).expect("stencil entry");
                }
            }
            l0.idx.extend_from_slice(&cols);
            l0.ptr.push(l0.idx.len());
        }
        l0.finish_pattern();
        let mut levels = vec![l0];
        // A line is an Nx × 1 lattice: its second axis is never coarsened.
        let mut dims = [lat.nx, lat.ny];
        loop {
            let fine = levels.last_mut().expect("level 0");
            let size = fine.len();
            let coarsen = dims.map(|d| d >= 4);
            if size <= COARSEST || !coarsen.iter().any(|&c| c) {
                break;
            }
            let maps = [
                axis_aggregate(dims[0], coarsen[0]),
                axis_aggregate(dims[1], coarsen[1]),
            ];
            let cdims = [0, 1].map(|a| {
                if coarsen[a] {
                    dims[a].div_ceil(2)
                } else {
                    dims[a]
                }
            });
            let (nx, cnx) = (dims[0], cdims[0]);
            fine.agg = (0..size)
                .map(|i| (maps[0][i % nx] + cnx * maps[1][i / nx]) as u32)
                .collect();
            // Coarse pattern: aggregate pairs of the fine entries.
            let csize: usize = cdims.iter().product();
            let mut rows: Vec<Vec<u32>> = vec![Vec::new(); csize];
            for r in 0..size {
                let cr = fine.agg[r] as usize;
                for p in fine.ptr[r]..fine.ptr[r + 1] {
                    rows[cr].push(fine.agg[fine.idx[p] as usize]);
                }
            }
            let mut coarse = Level {
                ptr: vec![0],
                ..Default::default()
            };
            for row in rows.iter_mut() {
                row.sort_unstable();
                row.dedup();
                coarse.idx.extend_from_slice(row);
                coarse.ptr.push(coarse.idx.len());
            }
            fine.cpos = vec![0; fine.idx.len()];
            for r in 0..size {
                let cr = fine.agg[r] as usize;
                let crow = &coarse.idx[coarse.ptr[cr]..coarse.ptr[cr + 1]];
                for p in fine.ptr[r]..fine.ptr[r + 1] {
                    let cc = fine.agg[fine.idx[p] as usize];
                    fine.cpos[p] = coarse.ptr[cr] + crow.binary_search(&cc).expect("pattern");
                }
            }
            coarse.finish_pattern();
            levels.push(coarse);
            dims = cdims;
        }
        let nc = levels.last().map_or(0, |l| l.len());
        Multigrid {
            levels,
            dir_pos,
            coarse: DMatrix::zeros(nc, nc),
            coarse_lu: None,
            coarse_lu_t: None,
            work: [vec![0.0; n], vec![0.0; n]],
        }
    }

    /// Number of levels (1: the lattice is solved directly).
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// Fills the operators for the matrix `a` (Galerkin coarse operators by summing entries
    /// over aggregate pairs).
    pub fn setup(&mut self, a: &FivePoint) {
        {
            let l0 = &mut self.levels[0];
            // Entries reached through two directions (a periodic axis of 2 nodes) add up.
            l0.val.fill(0.0);
            for i in 0..l0.len() {
                for d in DIRECTIONS {
                    let p = self.dir_pos[i * 4 + d];
                    if p != usize::MAX {
                        l0.val[p] += a.a[d][i];
                    }
                }
                l0.val[l0.diag[i]] += a.a[C][i];
            }
        }
        let last = self.levels.len() - 1;
        for l in 0..=last {
            let (fine, rest) = self.levels.split_at_mut(l + 1);
            let lv = &mut fine[l];
            for (p, &v) in lv.val.iter().enumerate() {
                lv.tval[lv.tpos[p]] = v;
            }
            for (d, &p) in lv.inv_diag.iter_mut().zip(&lv.diag) {
                *d = 1.0 / lv.val[p];
            }
            if l < last {
                let c = &mut rest[0];
                c.val.fill(0.0);
                for (p, &v) in lv.val.iter().enumerate() {
                    c.val[lv.cpos[p]] += v;
                }
            }
        }
        let a = &self.levels[last];
        self.coarse.fill(0.0);
        for r in 0..a.len() {
            for p in a.ptr[r]..a.ptr[r + 1] {
                self.coarse[(r, a.idx[p] as usize)] = a.val[p];
            }
        }
        self.coarse_lu = Some(self.coarse.clone().lu());
        self.coarse_lu_t = Some(self.coarse.transpose().lu());
    }

    /// In place: b ← one V-cycle approximation of A⁻¹ b (or A⁻ᵀ b).
    pub fn solve_in_place(&mut self, b: &mut [f64], transpose: bool) {
        self.levels[0].b.copy_from_slice(b);
        self.cycle(0, transpose);
        b.copy_from_slice(&self.levels[0].x);
    }

    /// Solves A x = b (or Aᵀ x = b) by the stationary iteration x ← x + B(b - A x), B one
    /// V-cycle, from the initial guess in `x`. Not converging within the cap is reported in
    /// the info.
    pub fn solve(
        &mut self,
        b: &[f64],
        x: &mut [f64],
        transpose: bool,
        params: &MultigridParams,
    ) -> MultigridInfo {
        let [mut e, mut r] = std::mem::take(&mut self.work);
        let target = params.abs_tol.max(params.rel_tol * norm(b));
        let mut info = MultigridInfo::default();
        loop {
            self.residual(b, x, transpose, &mut r);
            info.residual = norm(&r);
            info.converged = info.residual <= target;
            if info.converged || info.iterations >= params.max_cycles {
                break;
            }
            e.copy_from_slice(&r);
            self.solve_in_place(&mut e, transpose);
            x.iter_mut().zip(&e).for_each(|(x, e)| *x += e);
            info.iterations += 1;
        }
        self.work = [e, r];
        info
    }

    /// r = b - A x (or b - Aᵀ x) on level 0.
    fn residual(&self, b: &[f64], x: &[f64], transpose: bool, r: &mut [f64]) {
        let l0 = &self.levels[0];
        let (p, i, v) = l0.operator(transpose);
        residual(p, i, v, b, x, r);
    }

    fn cycle(&mut self, l: usize, transpose: bool) {
        let last = self.levels.len() - 1;
        if l == last {
            let lu = if transpose {
                &self.coarse_lu_t
            } else {
                &self.coarse_lu
            };
            let lv = &mut self.levels[l];
            let mut b = nalgebra::DVector::from_column_slice(&lv.b);
            let ok = lu.as_ref().is_some_and(|lu| lu.solve_mut(&mut b));
            if ok {
                lv.x.copy_from_slice(b.as_slice());
            } else {
                lv.x.fill(0.0);
            }
            return;
        }
        {
            let lv = &mut self.levels[l];
            lv.x.fill(0.0);
            lv.smooth(transpose, false);
        }
        {
            let (fine, coarse) = self.levels.split_at_mut(l + 1);
            let (f, c) = (&fine[l], &mut coarse[0]);
            c.b.fill(0.0);
            for (r, &a) in f.res.iter().zip(&f.agg) {
                c.b[a as usize] += r;
            }
        }
        self.cycle(l + 1, transpose);
        let (fine, coarse) = self.levels.split_at_mut(l + 1);
        let (lv, c) = (&mut fine[l], &coarse[0]);
        for (x, &a) in lv.x.iter_mut().zip(&lv.agg) {
            *x += c.x[a as usize];
        }
        lv.smooth(transpose, true);
    }
}

/// r = b - A x (A in CSR).
fn residual(ptr: &[usize], idx: &[u32], val: &[f64], b: &[f64], x: &[f64], res: &mut [f64]) {
    for r in 0..res.len() {
        let mut s = b[r];
        for q in ptr[r]..ptr[r + 1] {
            s -= val[q] * x[idx[q] as usize];
        }
        res[r] = s;
    }
}

/// One Gauss-Seidel sweep on A x = b, forward or backward (A in CSR, same diagonal as Aᵀ).
fn gauss_seidel(
    ptr: &[usize],
    idx: &[u32],
    val: &[f64],
    inv_diag: &[f64],
    b: &[f64],
    x: &mut [f64],
    backward: bool,
) {
    let n = b.len();
    let mut relax = |r: usize| {
        let mut s = b[r];
        for p in ptr[r]..ptr[r + 1] {
            s -= val[p] * x[idx[p] as usize];
        }
        x[r] += s * inv_diag[r];
    };
    if backward {
        (0..n).rev().for_each(&mut relax);
    } else {
        (0..n).for_each(&mut relax);
    }
}

impl LinearOperator for Multigrid {
    fn len(&self) -> usize {
        self.levels[0].len()
    }

    /// y = B x, B ≈ A⁻¹ one V-cycle.
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        y.copy_from_slice(x);
        self.solve_in_place(y, false);
        Ok(())
    }

    /// y = Bᵀ x, the V-cycle of Aᵀ.
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        y.copy_from_slice(x);
        self.solve_in_place(y, true);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::five_point::tests::random_m_matrix;
    use crate::linalg::testing::Lcg;
    use crate::linalg::vector::dot;

    /// I - Δt Q for the upwind generator of dX = -∇u dt + √(2ν) dW on the lattice over
    /// [0, 1]², u sampled at the cell-centred nodes (the monotone scheme's Q for H = |p|²/2).
    fn drift_step(lat: Lattice, u: impl Fn(f64, f64) -> f64, nu: f64, dt: f64) -> FivePoint {
        // Cell-centred nodes, as on a grid.
        let (hx, hy) = (1.0 / lat.nx as f64, 1.0 / lat.ny as f64);
        let coord = |i: usize| {
            (
                ((i % lat.nx) as f64 + 0.5) * hx,
                ((i / lat.nx) as f64 + 0.5) * hy,
            )
        };
        let uv: Vec<f64> = (0..lat.len())
            .map(|i| {
                let (x, y) = coord(i);
                u(x, y)
            })
            .collect();
        let mut m = FivePoint::zeros(lat);
        for i in 0..lat.len() {
            let mut out = 0.0;
            for d in DIRECTIONS {
                let Some(j) = lat.nb(i, d) else { continue };
                let h = if d < 2 { hx } else { hy };
                // Moving downhill towards j at speed (u_i - u_j)/h when positive.
                let rate = nu / (h * h) + ((uv[i] - uv[j]) / h).max(0.0) / h;
                m.a[d][i] = -dt * rate;
                out += rate;
            }
            m.a[C][i] = 1.0 + dt * out;
        }
        m
    }

    /// Repeated V-cycles (as a stationary iteration) converge fast for A and Aᵀ, with walled
    /// and periodic axes, also under a strong drift (the periodic case puts a jump of u at the
    /// wrap, a local Péclet number ~30), at a rate that barely grows with the lattice; odd
    /// sizes leave singleton aggregates.
    #[test]
    fn v_cycle_contracts_on_every_lattice() {
        for (n, periodic) in [
            (32, false),
            (64, false),
            (128, false),
            (64, true),
            (45, false),
        ] {
            let lat = Lattice::new(n, n, periodic, false).unwrap();
            let a = drift_step(
                lat,
                |x, y| 2.0 * (x - 0.7).powi(2) + (3.0 * y).sin(),
                0.03125,
                1.0 / n as f64,
            );
            let mut mg = Multigrid::new(&lat);
            assert!(mg.depth() >= 2);
            mg.setup(&a);
            for transpose in [false, true] {
                let b: Vec<f64> = (0..lat.len())
                    .map(|i| ((i * 7919) % 13) as f64 - 6.0)
                    .collect();
                let mut x = vec![0.0; lat.len()];
                let params = MultigridParams {
                    rel_tol: 0.0,
                    abs_tol: 0.0,
                    max_cycles: 6,
                };
                let info = mg.solve(&b, &mut x, transpose, &params);
                assert_eq!(info.iterations, 6);
                assert!(!info.converged);
                let rate = (info.residual / norm(&b)).powf(1.0 / 6.0);
                assert!(
                    rate < 0.3,
                    "n={n} periodic={periodic} transpose={transpose}: rate {rate}"
                );
            }
        }
    }

    /// The stationary solve reaches a tolerance on a line, an odd rectangle and a doubly
    /// periodic lattice (random M-matrices), and `apply_transpose` is the adjoint of `apply`.
    #[test]
    fn solves_to_tolerance_and_transpose_is_the_adjoint() {
        for (l, (nx, ny, px, py)) in [
            (101, 1, false, false),
            (13, 8, true, false),
            (9, 9, true, true),
        ]
        .into_iter()
        .enumerate()
        {
            let lat = Lattice::new(nx, ny, px, py).unwrap();
            let mut a = random_m_matrix(lat, 20 + l as u64, 0.2);
            let mut mg = Multigrid::new(&lat);
            mg.setup(&a);
            let n = lat.len();
            let b = Lcg(3).vector(n, -0.5);
            for transpose in [false, true] {
                let mut x = vec![0.0; n];
                let params = MultigridParams {
                    rel_tol: 1e-12,
                    abs_tol: 0.0,
                    max_cycles: 200,
                };
                let info = mg.solve(&b, &mut x, transpose, &params);
                assert!(
                    info.converged,
                    "lattice {l} transpose {transpose}: {info:?}"
                );
                let mut ax = vec![0.0; n];
                if transpose {
                    a.apply_transpose(&x, &mut ax).unwrap();
                } else {
                    a.apply(&x, &mut ax).unwrap();
                }
                let r: Vec<f64> = b.iter().zip(&ax).map(|(b, a)| b - a).collect();
                assert!(norm(&r) <= 1e-12 * norm(&b) * 1.01, "lattice {l}");
            }
            let (x, y) = (Lcg(8).vector(n, -0.5), Lcg(9).vector(n, -0.5));
            let (mut bx, mut bty) = (vec![0.0; n], vec![0.0; n]);
            mg.apply(&x, &mut bx).unwrap();
            mg.apply_transpose(&y, &mut bty).unwrap();
            let (l1, r1) = (dot(&bx, &y), dot(&x, &bty));
            assert!(
                (l1 - r1).abs() <= 1e-12 * l1.abs().max(1.0),
                "lattice {l}: {l1} vs {r1}"
            );
        }
    }
}
