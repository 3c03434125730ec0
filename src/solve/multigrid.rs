//! Geometric multigrid for one implicit time step, M = I - ΔtQ (and Mᵀ), an approximate
//! inverse for the Newton-Krylov preconditioner on 2D grids (`preconditioner = "multigrid"`).
//! It was the default while the 2D step solves were sparse LU factorisations; the structured
//! MILU-BiCGSTAB step solver made exact step solves cheaper (docs/newton.md §2).
//!
//! - Hierarchy: the cell-centred grid is coarsened by 2 along every axis with ≥ 4 nodes (an odd
//!   count leaves one singleton aggregate) until ≤ [`COARSEST`] nodes remain.
//! - Transfers: aggregation of 2 (1D) or 2×2 (2D) cells, piecewise-constant prolongation P and
//!   restriction R = Pᵀ.
//! - Coarse operators: Galerkin M_c = R M P, so (M_c)ᵀ = R Mᵀ P and one hierarchy serves M and
//!   Mᵀ (the transposes are stored). With aggregation, M_c = |agg| I - Δt Q_c where Q_c sums the
//!   rates between aggregates: again a generator, so every level is an M-matrix, diagonally
//!   dominant, and Gauss-Seidel converges on it whatever the drift. (Bilinear interpolation gave
//!   a faster cycle when diffusion dominates, 0.12 against 0.18 per cycle at 64², but its
//!   Galerkin operators lose the M-matrix property under strong drift, and the cycle diverged
//!   on a drift of Péclet number ~30: measured in the test below.)
//! - Cycle: one V(1,1)-cycle from a zero guess, forward Gauss-Seidel before and backward after
//!   the coarse correction (both directions of the upwind drift are smoothed), dense LU on the
//!   coarsest level. A fixed linear operator, so plain (non-flexible) GMRES can use it.

use crate::grid::{Boundary, Grid, NONE};
use crate::scheme::Generator;
use nalgebra::DMatrix;

/// Levels with at most this many nodes are solved by a dense LU.
pub const COARSEST: usize = 16;

/// One level: its operator M_l (CSR) and transpose, and the aggregation to the next level.
/// Patterns and index maps depend on the grid only and are built once; [`StepMultigrid::setup`]
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

/// Multigrid hierarchy for one time-step matrix I - ΔtQ on a grid.
#[derive(Debug, Clone)]
pub struct StepMultigrid {
    levels: Vec<Level>,
    /// Position on level 0 of the entry for node i's neighbour through slot s (i·2d + s).
    slot_pos: Vec<usize>,
    slots: usize,
    coarse: DMatrix<f64>,
    coarse_lu: Option<nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>>,
    coarse_lu_t: Option<nalgebra::LU<f64, nalgebra::Dyn, nalgebra::Dyn>>,
}

impl StepMultigrid {
    /// The hierarchy's patterns for `grid` (the values come with [`StepMultigrid::setup`]).
    pub fn new(grid: &Grid) -> Self {
        // Level 0: the stencil of I - ΔtQ.
        let n = grid.len();
        let slots = 2 * grid.dim();
        let mut l0 = Level {
            ptr: vec![0],
            ..Default::default()
        };
        let mut slot_pos = vec![usize::MAX; n * slots];
        for i in 0..n {
            let start = l0.idx.len();
            let nb = grid.neighbours(i);
            let mut cols: Vec<u32> = nb
                .iter()
                .filter(|&&j| j != NONE)
                .map(|&j| j as u32)
                .collect();
            cols.push(i as u32);
            cols.sort_unstable();
            cols.dedup();
            for (s, &j) in nb.iter().enumerate() {
                if j != NONE {
                    slot_pos[i * slots + s] =
                        start + cols.binary_search(&(j as u32)).expect("stencil entry");
                }
            }
            l0.idx.extend_from_slice(&cols);
            l0.ptr.push(l0.idx.len());
        }
        l0.finish_pattern();
        let mut levels = vec![l0];
        let mut dims: Vec<(usize, Boundary)> =
            grid.axes().iter().map(|a| (a.n, a.boundary)).collect();
        loop {
            let fine = levels.last_mut().expect("level 0");
            let size = fine.len();
            let coarsen: Vec<bool> = dims.iter().map(|d| d.0 >= 4).collect();
            if size <= COARSEST || !coarsen.iter().any(|&c| c) {
                break;
            }
            let maps: Vec<Vec<usize>> = dims
                .iter()
                .zip(&coarsen)
                .map(|(&(n, _), &c)| axis_aggregate(n, c))
                .collect();
            let cdims: Vec<usize> = dims
                .iter()
                .zip(&coarsen)
                .map(|(d, &c)| if c { d.0.div_ceil(2) } else { d.0 })
                .collect();
            let (nx, cnx) = (dims[0].0, cdims[0]);
            fine.agg = (0..size)
                .map(|i| {
                    let cy = if dims.len() > 1 { maps[1][i / nx] } else { 0 };
                    (maps[0][i % nx] + cnx * cy) as u32
                })
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
            for (d, &c) in dims.iter_mut().zip(&cdims) {
                d.0 = c;
            }
        }
        let nc = levels.last().map_or(0, |l| l.len());
        StepMultigrid {
            levels,
            slot_pos,
            slots,
            coarse: DMatrix::zeros(nc, nc),
            coarse_lu: None,
            coarse_lu_t: None,
        }
    }

    /// Number of levels (1: the grid is solved directly).
    pub fn depth(&self) -> usize {
        self.levels.len()
    }

    /// Fills the operators of M = I - ΔtQ for the generator `gen` (Galerkin coarse operators
    /// by summing entries over aggregate pairs).
    pub fn setup(&mut self, grid: &Grid, gen: &Generator, dt: f64) {
        {
            let l0 = &mut self.levels[0];
            for i in 0..l0.len() {
                let mut out = 0.0;
                for (s, &j) in grid.neighbours(i).iter().enumerate() {
                    if j != NONE {
                        let r = gen.rate(i, s);
                        out += r;
                        l0.val[self.slot_pos[i * self.slots + s]] = -dt * r;
                    }
                }
                l0.val[l0.diag[i]] = 1.0 + dt * out;
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

    /// x ≈ M⁻¹ b (or M⁻ᵀ b with `transpose`) by one V(1,1)-cycle from x = 0.
    pub fn solve(&mut self, b: &[f64], x: &mut [f64], transpose: bool) {
        self.levels[0].b.copy_from_slice(b);
        self.cycle(0, transpose);
        x.copy_from_slice(&self.levels[0].x);
    }

    /// In place: b ← one V-cycle approximation of M⁻¹ b (or M⁻ᵀ b).
    pub fn solve_in_place(&mut self, b: &mut [f64], transpose: bool) {
        self.levels[0].b.copy_from_slice(b);
        self.cycle(0, transpose);
        b.copy_from_slice(&self.levels[0].x);
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
            let Level {
                ptr,
                idx,
                val,
                tptr,
                tidx,
                tval,
                inv_diag,
                b,
                x,
                res,
                ..
            } = lv;
            let (p, i, v) = if transpose {
                (&*tptr, &*tidx, &*tval)
            } else {
                (&*ptr, &*idx, &*val)
            };
            gauss_seidel(p, i, v, inv_diag, b, x, false);
            for r in 0..res.len() {
                let mut s = b[r];
                for q in p[r]..p[r + 1] {
                    s -= v[q] * x[i[q] as usize];
                }
                res[r] = s;
            }
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
        let Level {
            ptr,
            idx,
            val,
            tptr,
            tidx,
            tval,
            inv_diag,
            b,
            x,
            ..
        } = lv;
        let (p, i, v) = if transpose {
            (&*tptr, &*tidx, &*tval)
        } else {
            (&*ptr, &*idx, &*val)
        };
        gauss_seidel(p, i, v, inv_diag, b, x, true);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Axis;

    /// Repeated V-cycles (as a stationary iteration) converge fast for M and Mᵀ, with
    /// reflecting and periodic walls, also under a strong drift (the periodic case puts a jump of
    /// u at the wrap, a local Péclet number ~30), at a rate that barely grows with the grid.
    #[test]
    fn v_cycle_contracts_on_every_grid() {
        for (n, boundary) in [
            (32, Boundary::Reflecting),
            (64, Boundary::Reflecting),
            (128, Boundary::Reflecting),
            (64, Boundary::Periodic),
            (45, Boundary::Reflecting),
        ] {
            let g = Grid::new_2d(
                Axis::new(0.0, 1.0, n, boundary),
                Axis::new(0.0, 1.0, n, Boundary::Reflecting),
            )
            .unwrap();
            let u = g.sample(|x| 2.0 * (x[0] - 0.7).powi(2) + (3.0 * x[1]).sin());
            let gen = crate::scheme::generator::quadratic_generator(&g, 0.25, &u);
            let mut mg = StepMultigrid::new(&g);
            assert!(mg.depth() >= 2);
            mg.setup(&g, &gen, 1.0 / n as f64);
            for transpose in [false, true] {
                let b: Vec<f64> = (0..g.len())
                    .map(|i| ((i * 7919) % 13) as f64 - 6.0)
                    .collect();
                let l0 = &mg.levels[0];
                let (ptr, idx, val) = if transpose {
                    (l0.tptr.clone(), l0.tidx.clone(), l0.tval.clone())
                } else {
                    (l0.ptr.clone(), l0.idx.clone(), l0.val.clone())
                };
                let residual = |x: &[f64], r: &mut [f64]| {
                    for i in 0..x.len() {
                        r[i] = b[i]
                            - (ptr[i]..ptr[i + 1])
                                .map(|p| val[p] * x[idx[p] as usize])
                                .sum::<f64>();
                    }
                };
                let mut x = vec![0.0; g.len()];
                let mut r = b.clone();
                let mut e = vec![0.0; g.len()];
                let r0 = r.iter().map(|v| v * v).sum::<f64>().sqrt();
                for _ in 0..6 {
                    mg.solve(&r, &mut e, transpose);
                    x.iter_mut().zip(&e).for_each(|(x, e)| *x += e);
                    residual(&x, &mut r);
                }
                let r6 = r.iter().map(|v| v * v).sum::<f64>().sqrt();
                let rate = (r6 / r0).powf(1.0 / 6.0);
                assert!(
                    rate < 0.3,
                    "n={n} {boundary:?} transpose={transpose}: rate {rate}"
                );
            }
        }
    }
}
