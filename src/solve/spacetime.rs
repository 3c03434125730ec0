//! Linear solves with the Jacobian J of the whole space-time system
//! ([`crate::scheme::jacobian`]), the inner step of Newton's method.
//!
//! J has the block form (u-part, m-part; each block itself block-bidiagonal in time)
//!
//! ```text
//!     [ A  B ]    A: HJB in u  (diagonal blocks I - ΔtQ_n, -I towards n+1: backward in time)
//! J = [      ]    B: coupling ∂F_H/∂m (node-local), C: transport ∂F_F/∂u,
//!     [ C  D ]    D: FP in m   (diagonal blocks I - ΔtQ_nᵀ, -I towards n-1: forward in time)
//! ```
//!
//! Two ways to solve J d = r:
//! - [`DirectLu`]: faer's sparse LU of the assembled J, in a chosen unknown ordering, with the
//!   symbolic analysis computed once and reused by every Newton step (the pattern is fixed).
//!   The space-time matrix of a 1D problem is a 2D-grid matrix, whose LU fill grows like
//!   (Nx·Nt)^1.5: practical up to a few 10⁵ unknowns.
//! - [`Krylov`]: GMRES preconditioned by the block upper-triangular P = [A B; 0 D], applied as
//!   one forward FP sweep (D⁻¹), the coupling product and one backward HJB sweep (A⁻¹), each a
//!   sequence of per-time-step solves with I - ΔtQ_n or its transpose. Then
//!   J P⁻¹ = [I 0; CA⁻¹ I - CA⁻¹BD⁻¹]: GMRES converges like it would on the Schur complement
//!   I - CA⁻¹BD⁻¹, whose non-trivial part is the linearised best-response map (one Picard
//!   iteration): a compact, smoothing operator, so the iteration count does not grow with the
//!   grid. With exact step solves ([`StepSolver`], refactorised every Newton step) GMRES runs
//!   on that Schur complement directly; with multigrid step solves ([`StepMultigrid`], one
//!   V-cycle each: cheap to set up, no fill) it runs on the whole system with the exact
//!   Jacobian product. See docs/newton.md for the measured counts.

use super::gmres::{Gmres, GmresInfo, GmresParams};
use super::multigrid::StepMultigrid;
use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::problem::Problem;
use crate::scheme::jacobian::{Layout, Linearization};
use crate::scheme::{LinearSolver, StepSolver};
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::lu::{
    factorize_symbolic_lu, LuRef, LuSymbolicParams, NumericLu, SymbolicLu,
};
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};
use rayon::prelude::*;

/// Order of the unknowns handed to the sparse LU (faer then applies its COLAMD column ordering
/// on top; the input order still steers COLAMD's tie-breaking and the pivot search).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Ordering {
    /// The [`Layout`] order: all u (population, time, node), then all m.
    Blocked,
    /// Per time level n: u^n and m^{n+1} of every population (block-banded in time).
    TimeInterleaved,
    /// Per time level n and node i: u^n_i and m^{n+1}_i of every population.
    NodeInterleaved,
}

impl Ordering {
    /// new position of every unknown (old index → new index).
    fn permutation(self, l: &Layout) -> Vec<usize> {
        let len = l.len();
        let mut p = vec![0; len];
        match self {
            Ordering::Blocked => p.iter_mut().enumerate().for_each(|(i, v)| *v = i),
            Ordering::TimeInterleaved => {
                let mut next = 0;
                for n in 0..l.steps {
                    for k in 0..l.populations {
                        for start in [l.u(k, n), l.m(k, n)] {
                            for i in 0..l.nodes {
                                p[start + i] = next;
                                next += 1;
                            }
                        }
                    }
                }
            }
            Ordering::NodeInterleaved => {
                let mut next = 0;
                for n in 0..l.steps {
                    for i in 0..l.nodes {
                        for k in 0..l.populations {
                            p[l.u(k, n) + i] = next;
                            p[l.m(k, n) + i] = next + 1;
                            next += 2;
                        }
                    }
                }
            }
        }
        p
    }
}

/// Sparse LU of the assembled Jacobian; symbolic analysis once, numeric per Newton step.
pub struct DirectLu {
    perm: Vec<usize>,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Value slot of every entry in [`Linearization::for_each_entry`]'s structural order.
    slot: Vec<usize>,
    values: Vec<f64>,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    mem: MemBuffer,
    work: Vec<f64>,
    /// Scaling of the last factorisation (empty: none).
    weights: Vec<f64>,
    par: Par,
}

impl std::fmt::Debug for DirectLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectLu")
            .field("n", &self.perm.len())
            .field("nnz", &self.values.len())
            .finish_non_exhaustive()
    }
}

impl DirectLu {
    /// Pattern, permutation and symbolic factorisation for the Jacobians of `lin`'s problem.
    pub fn new(grid: &Grid, lin: &Linearization, ordering: Ordering) -> Result<Self> {
        let l = lin.layout;
        let n = l.len();
        let perm = ordering.permutation(&l);
        // Collect the structural entries, then build the CSC pattern with duplicates merged.
        let mut entries: Vec<(usize, usize)> = Vec::new();
        lin.for_each_entry(grid, true, |r, c, _| entries.push((perm[c], perm[r])));
        let mut order: Vec<usize> = (0..entries.len()).collect();
        order.sort_unstable_by_key(|&e| entries[e]);
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(entries.len());
        let mut slot = vec![0usize; entries.len()];
        let mut last = (usize::MAX, usize::MAX);
        for &e in &order {
            let (c, r) = entries[e];
            if (c, r) != last {
                row_idx.push(r);
                col_ptr[c + 1] += 1;
                last = (c, r);
            }
            slot[e] = row_idx.len() - 1;
        }
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        drop(entries);
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let symbolic = factorize_symbolic_lu(sym, LuSymbolicParams::default())
            .map_err(|e| Error::LinearSolve(format!("symbolic LU of the Jacobian: {e:?}")))?;
        let par = Par::rayon(0);
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_lu_scratch::<f64>(par, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, par),
        ]);
        let nnz = row_idx.len();
        Ok(DirectLu {
            perm,
            col_ptr,
            row_idx,
            slot,
            values: vec![0.0; nnz],
            symbolic,
            numeric: NumericLu::new(),
            mem: MemBuffer::new(req),
            work: vec![0.0; n],
            weights: Vec::new(),
            par,
        })
    }

    /// Number of stored entries of the assembled J.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Assembles J's values and factorises them; with `weights` (one per m-unknown), the
    /// matrix factorised is W_r J W_c, the FP rows divided by m and the m-columns multiplied by
    /// m (Newton in log m with FP rows relative to the density), and [`DirectLu::solve`] undoes
    /// the scaling.
    pub fn factor(
        &mut self,
        grid: &Grid,
        lin: &Linearization,
        weights: Option<&[f64]>,
    ) -> Result<()> {
        self.values.fill(0.0);
        let mut e = 0;
        let (values, slot) = (&mut self.values, &self.slot);
        let half = lin.layout.half();
        match weights {
            None => lin.for_each_entry(grid, true, |_, _, v| {
                values[slot[e]] += v;
                e += 1;
            }),
            Some(w) => lin.for_each_entry(grid, true, |r, c, v| {
                let rs = if r >= half { 1.0 / w[r - half] } else { 1.0 };
                let cs = if c >= half { w[c - half] } else { 1.0 };
                values[slot[e]] += v * rs * cs;
                e += 1;
            }),
        }
        self.weights.clear();
        if let Some(w) = weights {
            self.weights.extend_from_slice(w);
        }
        let n = self.perm.len();
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &self.col_ptr, None, &self.row_idx);
        let mat = SparseColMatRef::new(sym, &self.values);
        self.symbolic
            .factorize_numeric_lu(
                &mut self.numeric,
                mat,
                self.par,
                MemStack::new(&mut self.mem),
                Default::default(),
            )
            .map_err(|e| Error::LinearSolve(format!("numeric LU of the Jacobian: {e:?}")))?;
        Ok(())
    }

    /// Solves J x = b (b in, x out, in the [`Layout`] order).
    pub fn solve(&mut self, b: &mut [f64]) -> Result<()> {
        let half = b.len() / 2;
        if !self.weights.is_empty() {
            b[half..]
                .iter_mut()
                .zip(&self.weights)
                .for_each(|(v, w)| *v /= w);
        }
        for (i, &p) in self.perm.iter().enumerate() {
            self.work[p] = b[i];
        }
        let lu = LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let n = self.perm.len();
        let rhs = MatMut::from_column_major_slice_mut(&mut self.work, n, 1);
        lu.solve_in_place_with_conj(Conj::No, rhs, self.par, MemStack::new(&mut self.mem));
        for (i, &p) in self.perm.iter().enumerate() {
            b[i] = self.work[p];
        }
        if !self.weights.is_empty() {
            b[half..]
                .iter_mut()
                .zip(&self.weights)
                .for_each(|(v, w)| *v *= w);
        }
        if b.iter().any(|v| !v.is_finite()) {
            return Err(Error::LinearSolve(
                "non-finite Newton step from the LU of the Jacobian (singular?)".into(),
            ));
        }
        Ok(())
    }
}

/// How the per-time-step systems (I - ΔtQ_n) x = b of the preconditioner are solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preconditioner {
    /// Exact step solves: since the structured MILU-BiCGSTAB step solver landed they beat
    /// multigrid at every measured size (2D 128²×128: 25 s / 2.7 GB against 36 s / 4.0 GB).
    Auto,
    /// Exact solves ([`StepSolver`], refactorised at every Newton step); GMRES then runs on the
    /// Schur complement (half the vector length, no products with A and D).
    Exact,
    /// One multigrid V-cycle per step solve ([`StepMultigrid`]); GMRES then runs on the whole
    /// system with the exact Jacobian product, so the Newton step stays exact.
    Multigrid,
}

/// An (approximate) solver of (I - ΔtQ_n) x = b and its transpose for one time step.
trait StepInverse: Send {
    fn refresh(&mut self, grid: &Grid, gen: &crate::scheme::Generator, dt: f64) -> Result<()>;
    /// x ← (I - ΔtQ)⁻¹ x, or the transpose.
    fn solve_step(&mut self, x: &mut [f64], dt: f64, transpose: bool) -> Result<()>;
}

impl StepInverse for StepSolver {
    fn refresh(&mut self, grid: &Grid, gen: &crate::scheme::Generator, dt: f64) -> Result<()> {
        self.factor(grid, gen, 1.0 / dt)
    }
    fn solve_step(&mut self, x: &mut [f64], dt: f64, transpose: bool) -> Result<()> {
        // I - ΔtQ = Δt (I/Δt - Q).
        let inv_dt = 1.0 / dt;
        x.iter_mut().for_each(|v| *v *= inv_dt);
        if transpose {
            self.solve_transpose(x)
        } else {
            self.solve(x)
        }
    }
}

impl StepInverse for StepMultigrid {
    fn refresh(&mut self, grid: &Grid, gen: &crate::scheme::Generator, dt: f64) -> Result<()> {
        self.setup(grid, gen, dt);
        Ok(())
    }
    fn solve_step(&mut self, x: &mut [f64], _dt: f64, transpose: bool) -> Result<()> {
        self.solve_in_place(x, transpose);
        Ok(())
    }
}

#[derive(Debug)]
enum Inverses {
    Exact(Vec<Vec<StepSolver>>),
    Multigrid(Vec<Vec<StepMultigrid>>),
}

/// Newton-Krylov linear solver (see the module documentation).
#[derive(Debug)]
pub struct Krylov {
    inverses: Inverses,
    gmres: Gmres,
    pub params: GmresParams,
    /// Work vectors: half length (K·Nt·N) for the Schur form, full length for the full form.
    work: [Vec<f64>; 3],
}

impl Krylov {
    /// `step_solver` is the linear solver of the exact per-step solves.
    pub fn new(
        problem: &Problem,
        params: GmresParams,
        preconditioner: Preconditioner,
        step_solver: LinearSolver,
    ) -> Result<Self> {
        let grid = &problem.grid();
        let multigrid = match preconditioner {
            Preconditioner::Exact | Preconditioner::Auto => false,
            Preconditioner::Multigrid => true,
        };
        let (kk, nt) = (problem.k(), problem.time().nt);
        let inverses = if multigrid {
            let proto = StepMultigrid::new(grid);
            Inverses::Multigrid(vec![vec![proto; nt]; kk])
        } else {
            Inverses::Exact(
                (0..kk)
                    .map(|_| {
                        (0..nt)
                            .map(|_| StepSolver::with_choice(grid, step_solver))
                            .collect()
                    })
                    .collect::<Result<Vec<_>>>()?,
            )
        };
        let layout = Layout::new(problem);
        let len = if multigrid {
            layout.len()
        } else {
            layout.half()
        };
        Ok(Krylov {
            inverses,
            gmres: Gmres::new(),
            params,
            work: std::array::from_fn(|_| vec![0.0; len]),
        })
    }

    /// Whether the preconditioner uses multigrid (approximate) step solves.
    pub fn is_multigrid(&self) -> bool {
        matches!(self.inverses, Inverses::Multigrid(_))
    }

    /// Factorises (or sets up multigrid for) the per-step matrices I - ΔtQ_n of `lin`.
    pub fn refresh(&mut self, grid: &Grid, lin: &Linearization) -> Result<()> {
        match &mut self.inverses {
            Inverses::Exact(s) => refresh_all(grid, lin, s),
            Inverses::Multigrid(s) => refresh_all(grid, lin, s),
        }
    }

    /// Solves J d = -F (the Newton step) to ‖J d + F‖₂ ≤ `abs_tol`; with `weights` (one per
    /// m-unknown, > 0) the FP rows are divided and the m-unknowns multiplied by them (Newton in
    /// log m with FP residuals relative to the density), and the tolerance applies to the scaled
    /// residual.
    pub fn solve(
        &mut self,
        grid: &Grid,
        lin: &Linearization,
        f: &[f64],
        d: &mut [f64],
        abs_tol: f64,
        weights: Option<&[f64]>,
    ) -> Result<GmresInfo> {
        let params = GmresParams {
            rel_tol: 0.0,
            abs_tol,
            ..self.params
        };
        match &mut self.inverses {
            Inverses::Exact(steps) => solve_schur(
                grid,
                lin,
                steps,
                &mut self.gmres,
                &mut self.work,
                f,
                d,
                &params,
                weights,
            ),
            Inverses::Multigrid(steps) => solve_full(
                grid,
                lin,
                steps,
                &mut self.gmres,
                &mut self.work,
                f,
                d,
                &params,
                weights,
            ),
        }
    }
}

fn refresh_all<S: StepInverse>(
    grid: &Grid,
    lin: &Linearization,
    steps: &mut [Vec<S>],
) -> Result<()> {
    steps.par_iter_mut().enumerate().try_for_each(|(k, sk)| {
        sk.iter_mut()
            .enumerate()
            .try_for_each(|(n, s)| s.refresh(grid, lin.generator(k, n), lin.dt))
    })
}

/// GMRES on the Schur complement, with exact step solves.
///
/// With the HJB block A inverted exactly by backward sweeps, d_u = -A⁻¹(F_H + B d_m) and d_m
/// solves the Schur system (D - CA⁻¹B) d_m = -F_F + CA⁻¹F_H, which GMRES solves right-
/// preconditioned by D⁻¹ (forward sweeps): the operator is I - CA⁻¹BD⁻¹ and its residual is
/// exactly the residual of the FP rows of J d = -F (the HJB rows hold exactly).
#[allow(clippy::too_many_arguments)]
fn solve_schur<S: StepInverse>(
    grid: &Grid,
    lin: &Linearization,
    steps: &mut [Vec<S>],
    gmres: &mut Gmres,
    work: &mut [Vec<f64>; 3],
    f: &[f64],
    d: &mut [f64],
    params: &GmresParams,
    weights: Option<&[f64]>,
) -> Result<GmresInfo> {
    let half = lin.layout.half();
    let (fu, fm) = f.split_at(half);
    let (du, dm) = d.split_at_mut(half);
    let [rhs, w1, w2] = work;
    // rhs = -F_F + C A⁻¹ F_H.
    sweep_backward(lin, steps, fu, w1)?;
    rhs.iter_mut().zip(fm).for_each(|(a, b)| *a = -b);
    transport_product(grid, lin, w1, rhs);
    dm.fill(0.0);
    // With weights W the unknown is ẑ = W⁻¹z and the equations are divided by W:
    // W⁻¹(I - CA⁻¹BD⁻¹)W ẑ = W⁻¹ rhs. For a log coupling B ~ κW⁻¹ and the scaled operator stays
    // bounded where m is tiny, while the unscaled one has entries ~ κ/m.
    if let Some(w) = weights {
        rhs.iter_mut().zip(w).for_each(|(r, w)| *r /= w);
    }
    let info = gmres.solve(
        &mut |y, out| {
            // out = y - C A⁻¹ B D⁻¹ y (in the scaled form, W⁻¹(Wŷ - C A⁻¹ B D⁻¹ Wŷ)).
            match weights {
                Some(w) => {
                    out.iter_mut()
                        .zip(y.iter().zip(w))
                        .for_each(|(o, (y, w))| *o = y * w);
                    sweep_forward(lin, steps, out, w1)?;
                }
                None => sweep_forward(lin, steps, y, w1)?,
            }
            w2.fill(0.0);
            coupling_product(lin, w1, w2);
            sweep_backward(lin, steps, w2, w1)?;
            w2.fill(0.0);
            transport_product(grid, lin, w1, w2);
            match weights {
                Some(w) => out
                    .iter_mut()
                    .zip(y.iter().zip(w2.iter().zip(w)))
                    .for_each(|(o, (y, (t, w)))| *o = y - t / w),
                None => out
                    .iter_mut()
                    .zip(y.iter().zip(w2.iter()))
                    .for_each(|(o, (y, t))| *o = y - t),
            }
            Ok(())
        },
        &mut |r, z| {
            z.copy_from_slice(r);
            Ok(())
        },
        rhs,
        dm,
        params,
    )?;
    // d_m = D⁻¹ z; d_u = -A⁻¹(F_H + B d_m).
    if let Some(w) = weights {
        dm.iter_mut().zip(w).for_each(|(z, w)| *z *= w);
    }
    sweep_forward(lin, steps, dm, w1)?;
    dm.copy_from_slice(w1);
    w2.copy_from_slice(fu);
    coupling_product(lin, dm, w2);
    sweep_backward(lin, steps, w2, du)?;
    du.iter_mut().for_each(|v| *v = -*v);
    Ok(info)
}

/// GMRES on the whole system J d = -F with the exact Jacobian product, right-preconditioned by
/// P = [A B; 0 D] with approximate step solves: z_m ≈ D⁻¹ r_m, z_u ≈ A⁻¹(r_u - B z_m).
#[allow(clippy::too_many_arguments)]
fn solve_full<S: StepInverse>(
    grid: &Grid,
    lin: &Linearization,
    steps: &mut [Vec<S>],
    gmres: &mut Gmres,
    work: &mut [Vec<f64>; 3],
    f: &[f64],
    d: &mut [f64],
    params: &GmresParams,
    weights: Option<&[f64]>,
) -> Result<GmresInfo> {
    let half = lin.layout.half();
    let [rhs, t1, t2] = work;
    rhs.iter_mut().zip(f).for_each(|(r, f)| *r = -f);
    // Scaled form with W_r = diag(1, W⁻¹) on the rows, W_c = diag(1, W) on the unknowns:
    // (W_r J W_c) ŷ = W_r rhs, preconditioned by W_c⁻¹ P⁻¹ W_r⁻¹.
    if let Some(w) = weights {
        rhs[half..].iter_mut().zip(w).for_each(|(r, w)| *r /= w);
    }
    d.fill(0.0);
    let info = gmres.solve(
        &mut |v, y| {
            match weights {
                Some(w) => {
                    t1[..half].copy_from_slice(&v[..half]);
                    t1[half..]
                        .iter_mut()
                        .zip(v[half..].iter().zip(w))
                        .for_each(|(t, (v, w))| *t = v * w);
                    lin.apply(grid, t1, y);
                    y[half..].iter_mut().zip(w).for_each(|(y, w)| *y /= w);
                }
                None => lin.apply(grid, v, y),
            }
            Ok(())
        },
        &mut |r, z| {
            let (zu, zm) = z.split_at_mut(half);
            let (ru, rm) = r.split_at(half);
            match weights {
                Some(w) => {
                    let tm = &mut t2[half..];
                    tm.iter_mut()
                        .zip(rm.iter().zip(w))
                        .for_each(|(t, (r, w))| *t = r * w);
                    sweep_forward(lin, steps, tm, zm)?;
                }
                None => sweep_forward(lin, steps, rm, zm)?,
            }
            let tu = &mut t2[..half];
            tu.copy_from_slice(ru);
            // t_u = r_u - B z_m.
            zm.iter_mut().for_each(|v| *v = -*v);
            coupling_product(lin, zm, tu);
            zm.iter_mut().for_each(|v| *v = -*v);
            sweep_backward(lin, steps, tu, zu)?;
            if let Some(w) = weights {
                zm.iter_mut().zip(w).for_each(|(z, w)| *z /= w);
            }
            Ok(())
        },
        rhs,
        d,
        params,
    )?;
    if let Some(w) = weights {
        d[half..].iter_mut().zip(w).for_each(|(d, w)| *d *= w);
    }
    Ok(info)
}

/// Solves D z = r (m-part): (I - ΔtQ_nᵀ) z^n - z^{n-1} = r^n forward in time; parallel over
/// populations.
fn sweep_forward<S: StepInverse>(
    lin: &Linearization,
    steps: &mut [Vec<S>],
    r: &[f64],
    z: &mut [f64],
) -> Result<()> {
    let l = lin.layout;
    let (b, nn, nt) = (l.block(), l.nodes, l.steps);
    let dt = lin.dt;
    z.par_chunks_mut(b)
        .zip(r.par_chunks(b))
        .zip(steps.par_iter_mut())
        .try_for_each(|((zk, rk), sk)| -> Result<()> {
            for n in 0..nt {
                let (prev, cur) = zk.split_at_mut(n * nn);
                let cur = &mut cur[..nn];
                let rn = &rk[n * nn..(n + 1) * nn];
                cur.copy_from_slice(rn);
                if n > 0 {
                    let p = &prev[(n - 1) * nn..];
                    cur.iter_mut().zip(p).for_each(|(c, p)| *c += p);
                }
                sk[n].solve_step(cur, dt, true)?;
            }
            Ok(())
        })
}

/// Solves A z = r (u-part): (I - ΔtQ_n) z^n - z^{n+1} = r^n backward in time.
fn sweep_backward<S: StepInverse>(
    lin: &Linearization,
    steps: &mut [Vec<S>],
    r: &[f64],
    z: &mut [f64],
) -> Result<()> {
    let l = lin.layout;
    let (b, nn, nt) = (l.block(), l.nodes, l.steps);
    let dt = lin.dt;
    z.par_chunks_mut(b)
        .zip(r.par_chunks(b))
        .zip(steps.par_iter_mut())
        .try_for_each(|((zk, rk), sk)| -> Result<()> {
            for n in (0..nt).rev() {
                let (cur, next) = zk.split_at_mut((n + 1) * nn);
                let cur = &mut cur[n * nn..];
                cur.copy_from_slice(&rk[n * nn..(n + 1) * nn]);
                if n + 1 < nt {
                    cur.iter_mut().zip(&next[..nn]).for_each(|(c, v)| *c += v);
                }
                sk[n].solve_step(cur, dt, false)?;
            }
            Ok(())
        })
}

/// out_u += B v_m: the coupling block (node-local, population j's density into k's HJB).
fn coupling_product(lin: &Linearization, v: &[f64], out: &mut [f64]) {
    let l = lin.layout;
    let (b, nn, nt) = (l.block(), l.nodes, l.steps);
    out.par_chunks_mut(b).enumerate().for_each(|(k, ok)| {
        for j in 0..l.populations {
            if !lin.coupling_used(k, j) {
                continue;
            }
            for n in 0..nt {
                let c = lin.coupling(k, j, n);
                let vj = &v[(j * nt + n) * nn..(j * nt + n + 1) * nn];
                let o = &mut ok[n * nn..(n + 1) * nn];
                for i in 0..nn {
                    o[i] += c[i] * vj[i];
                }
            }
        }
    });
}

/// out_m += C v_u: the transport block, level by level.
fn transport_product(grid: &Grid, lin: &Linearization, v: &[f64], out: &mut [f64]) {
    let l = lin.layout;
    let (b, nn) = (l.block(), l.nodes);
    out.par_chunks_mut(b)
        .zip(v.par_chunks(b))
        .enumerate()
        .for_each(|(k, (ok, vk))| {
            for n in 0..l.steps {
                let lv = n * nn..(n + 1) * nn;
                lin.add_transport(grid, k, n, &vk[lv.clone()], &mut ok[lv]);
            }
        });
}
