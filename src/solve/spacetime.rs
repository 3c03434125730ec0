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
//! With a congestion Hamiltonian the FP block is D + E, E the density transport (the rates
//! depend on m; [`crate::scheme::jacobian`]); the sweeps invert D alone and E enters as a
//! product.
//!
//! Two ways to solve J d = r:
//! - [`DirectLu`]: the assembly of J (its entries, the unknown ordering, the log-m scaling)
//!   into [`crate::linalg::SparseLu`], whose symbolic analysis is computed once and reused by
//!   every Newton step (the pattern is fixed).
//!   The space-time matrix of a 1D problem is a 2D-grid matrix, whose LU fill grows like
//!   (Nx·Nt)^1.5: practical up to a few 10⁵ unknowns.
//! - [`Krylov`]: GMRES preconditioned by the block upper-triangular P = [A B; 0 D], applied as
//!   one forward FP sweep (D⁻¹), the coupling product and one backward HJB sweep (A⁻¹), each a
//!   sequence of per-time-step solves with I - ΔtQ_n or its transpose. Then
//!   J P⁻¹ = [I 0; CA⁻¹ I - CA⁻¹BD⁻¹]: GMRES converges like it would on the Schur complement
//!   I - CA⁻¹BD⁻¹, whose non-trivial part is the linearised best-response map (one Picard
//!   iteration): a compact, smoothing operator, so the iteration count does not grow with the
//!   grid. With exact step solves ([`StepSolver`], refactorised every Newton step) GMRES runs
//!   on that Schur complement directly; with multigrid step solves ([`Multigrid`], one
//!   V-cycle each: cheap to set up, no fill) it runs on the whole system with the exact
//!   Jacobian product. See docs/newton.md for the measured counts.

use crate::error::{Error, Result};
use crate::grid::Grid;
use crate::linalg::{
    FivePoint, FnOperator, Gmres, GmresInfo, GmresParams, Identity, Lattice, Multigrid, SparseLu,
    SparseLuParams,
};
use crate::problem::Problem;
use crate::scheme::jacobian::{Layout, Linearization};
use crate::scheme::step_solver::step_matrix;
use crate::scheme::{StepSolver, StepSolverKind};
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

/// The assembled Jacobian's sparse LU; symbolic analysis once, numeric per Newton step.
#[derive(Debug)]
pub struct DirectLu {
    lu: SparseLu,
    /// Row and column scaling of Newton in log m (see [`DirectLu::factor`]).
    scaling: [Vec<f64>; 2],
}

impl DirectLu {
    /// Pattern, permutation and symbolic factorisation for the Jacobians of `lin`'s problem.
    pub fn new(grid: &Grid, lin: &Linearization, ordering: Ordering) -> Result<Self> {
        let l = lin.layout;
        let mut entries: Vec<(usize, usize)> = Vec::new();
        lin.for_each_entry(grid, true, |r, c, _| entries.push((r, c)));
        let perm = (ordering != Ordering::Blocked).then(|| ordering.permutation(&l));
        let params = SparseLuParams {
            parallel: true,
            force_supernodal: false,
        };
        let lu = SparseLu::new(l.len(), &entries, perm, params)?;
        Ok(DirectLu {
            lu,
            scaling: [Vec::new(), Vec::new()],
        })
    }

    /// Number of stored entries of the assembled J.
    pub fn nnz(&self) -> usize {
        self.lu.nnz()
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
        let scaling = weights.map(|w| {
            let [rows, cols] = &mut self.scaling;
            let half = lin.layout.half();
            rows.clear();
            rows.resize(half, 1.0);
            rows.extend(w.iter().map(|w| 1.0 / w));
            cols.clear();
            cols.resize(half, 1.0);
            cols.extend_from_slice(w);
            (&rows[..], &cols[..])
        });
        {
            let mut asm = self.lu.assembler(scaling);
            lin.for_each_entry(grid, true, |r, c, v| asm.add(r, c, v));
        }
        self.lu.factor()
    }

    /// Solves J x = b (b in, x out, in the [`Layout`] order).
    pub fn solve(&mut self, b: &mut [f64]) -> Result<()> {
        self.lu.solve(b);
        if b.iter().any(|v| !v.is_finite()) {
            return Err(Error::linear_solve(
                "sparse LU",
                "non-finite Newton step from the LU of the Jacobian (singular?)",
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
    /// One multigrid V-cycle per step solve ([`Multigrid`]); GMRES then runs on the whole
    /// system with the exact Jacobian product, so the Newton step stays exact.
    Multigrid,
}

/// An (approximate) solver of (I - ΔtQ_n) x = b and its transpose for one time step.
trait StepInverse: Send {
    /// x ← (I - ΔtQ)⁻¹ x, or the transpose.
    fn solve_step(&mut self, x: &mut [f64], dt: f64, transpose: bool) -> Result<()>;
}

impl StepInverse for StepSolver {
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

impl StepInverse for Multigrid {
    fn solve_step(&mut self, x: &mut [f64], _dt: f64, transpose: bool) -> Result<()> {
        self.solve_in_place(x, transpose);
        Ok(())
    }
}

#[derive(Debug)]
enum Inverses {
    /// Factorisations of I - ΔtQ_n per population and step (the FP blocks, and the HJB blocks
    /// too when no population discounts), and, when one does, of (1 + Δtρ_k)I - ΔtQ_n for the
    /// HJB blocks: the Schur form needs both blocks inverted exactly.
    Exact {
        fp: Vec<Vec<StepSolver>>,
        hjb: Option<Vec<Vec<StepSolver>>>,
    },
    /// The hierarchies per population and step, and one matrix buffer per population: the
    /// adapter from the generators to the coefficients I - ΔtQ_n multigrid takes.
    Multigrid {
        steps: Vec<Vec<Multigrid>>,
        matrix: Vec<FivePoint>,
    },
}

/// Newton-Krylov linear solver (see the module documentation).
#[derive(Debug)]
pub struct Krylov {
    inverses: Inverses,
    gmres: Gmres,
    /// GMRES restart, cap and tolerances.
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
        step_solver: StepSolverKind,
    ) -> Result<Self> {
        let grid = &problem.grid();
        let multigrid = match preconditioner {
            Preconditioner::Exact | Preconditioner::Auto => false,
            Preconditioner::Multigrid => true,
        };
        let (kk, nt) = (problem.k(), problem.time().nt);
        let inverses = if multigrid {
            let lat = Lattice::from_grid(grid)?;
            let proto = Multigrid::new(&lat);
            Inverses::Multigrid {
                steps: vec![vec![proto; nt]; kk],
                matrix: vec![FivePoint::zeros(lat); kk],
            }
        } else {
            let factors = || {
                (0..kk)
                    .map(|_| {
                        (0..nt)
                            .map(|_| StepSolver::with_choice(grid, step_solver))
                            .collect()
                    })
                    .collect::<Result<Vec<_>>>()
            };
            let discounted = problem.populations().iter().any(|p| p.discount() > 0.0);
            Inverses::Exact {
                fp: factors()?,
                hjb: if discounted { Some(factors()?) } else { None },
            }
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
        matches!(self.inverses, Inverses::Multigrid { .. })
    }

    /// Factorises (or sets up multigrid for) the per-step matrices I - ΔtQ_n of `lin`.
    pub fn refresh(&mut self, grid: &Grid, lin: &Linearization) -> Result<()> {
        let dt = lin.dt;
        match &mut self.inverses {
            Inverses::Exact { fp, hjb } => {
                let factor = |steps: &mut Vec<Vec<StepSolver>>, discounted: bool| {
                    steps.par_iter_mut().enumerate().try_for_each(|(k, sk)| {
                        let shift = if discounted { lin.discounts[k] } else { 0.0 };
                        sk.iter_mut().enumerate().try_for_each(|(n, s)| {
                            s.factor(grid, lin.generator(k, n), 1.0 / dt + shift)
                                .map_err(|e| e.at_level(k, n))
                        })
                    })
                };
                factor(fp, false)?;
                match hjb {
                    Some(h) => factor(h, true),
                    None => Ok(()),
                }
            }
            Inverses::Multigrid { steps, matrix } => {
                steps
                    .par_iter_mut()
                    .zip(matrix.par_iter_mut())
                    .enumerate()
                    .for_each(|(k, (sk, mk))| {
                        for (n, s) in sk.iter_mut().enumerate() {
                            step_matrix(grid, lin.generator(k, n), 1.0, dt, mk);
                            s.setup(mk);
                        }
                    });
                Ok(())
            }
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
        let (gmres, work) = (&mut self.gmres, &mut self.work);
        match &mut self.inverses {
            Inverses::Exact { fp, hjb } => System {
                grid,
                lin,
                steps: fp,
                hjb: hjb.as_deref_mut(),
                weights,
                gmres,
                work,
                params,
            }
            .solve_schur(f, d),
            Inverses::Multigrid { steps, .. } => System {
                grid,
                lin,
                steps,
                hjb: None,
                weights,
                gmres,
                work,
                params,
            }
            .solve_full(f, d),
        }
    }
}

/// One Newton step's linear system: the Jacobian, the per-step inverses of its diagonal
/// blocks, the log-m scaling (one weight per m-unknown), and GMRES with its settings and work
/// vectors.
struct System<'a, S> {
    grid: &'a Grid,
    lin: &'a Linearization,
    steps: &'a mut [Vec<S>],
    /// The inverses of the HJB blocks when they differ from the FP ones (discounting with exact
    /// step solves); otherwise `steps` serves both.
    hjb: Option<&'a mut [Vec<S>]>,
    weights: Option<&'a [f64]>,
    gmres: &'a mut Gmres,
    work: &'a mut [Vec<f64>; 3],
    params: GmresParams,
}

impl<S: StepInverse> System<'_, S> {
    /// GMRES on the Schur complement, with exact step solves.
    ///
    /// With the HJB block A inverted exactly by backward sweeps, d_u = -A⁻¹(F_H + B d_m) and
    /// d_m solves the Schur system (D + E - CA⁻¹B) d_m = -F_F + CA⁻¹F_H, which GMRES solves
    /// right-preconditioned by D⁻¹ (forward sweeps): the operator is I + (E - CA⁻¹B)D⁻¹ and its
    /// residual is exactly the residual of the FP rows of J d = -F (the HJB rows hold exactly).
    /// E, the density transport of congestion Hamiltonians, is applied as a product (it is
    /// not part of the step matrices D_n = I - ΔtQ_nᵀ the sweeps invert), so the Schur
    /// complement stays exact.
    fn solve_schur(self, f: &[f64], d: &mut [f64]) -> Result<GmresInfo> {
        let (grid, lin, steps, weights) = (self.grid, self.lin, self.steps, self.weights);
        let mut hjb = self.hjb;
        let half = lin.layout.half();
        let (fu, fm) = f.split_at(half);
        let (du, dm) = d.split_at_mut(half);
        let [rhs, w1, w2] = self.work;
        // rhs = -F_F + C A⁻¹ F_H.
        sweep_backward(lin, hjb.as_deref_mut().unwrap_or(&mut *steps), fu, w1)?;
        rhs.iter_mut().zip(fm).for_each(|(a, b)| *a = -b);
        transport_product(grid, lin, w1, rhs);
        dm.fill(0.0);
        // With weights W the unknown is ẑ = W⁻¹z and the equations are divided by W:
        // W⁻¹(I - CA⁻¹BD⁻¹)W ẑ = W⁻¹ rhs. For a log coupling B ~ κW⁻¹ and the scaled operator
        // stays bounded where m is tiny, while the unscaled one has entries ~ κ/m.
        if let Some(w) = weights {
            rhs.iter_mut().zip(w).for_each(|(r, w)| *r /= w);
        }
        let mut schur = FnOperator::new(half, |y: &[f64], out: &mut [f64]| {
            // out = y + (E - C A⁻¹ B) D⁻¹ y (in the scaled form, W⁻¹(Wŷ + (E - C A⁻¹ B) D⁻¹
            // Wŷ)), E the density-transport part of ∂F_F/∂m that D = I - ΔtQᵀ leaves out
            // (congestion; zero otherwise).
            match weights {
                Some(w) => {
                    out.iter_mut()
                        .zip(y.iter().zip(w))
                        .for_each(|(o, (y, w))| *o = y * w);
                    sweep_forward(lin, steps, out, w1)?;
                }
                None => sweep_forward(lin, steps, y, w1)?,
            }
            out.fill(0.0);
            lin.density_transport_product(w1, out);
            w2.fill(0.0);
            coupling_product(lin, w1, w2);
            sweep_backward(lin, hjb.as_deref_mut().unwrap_or(&mut *steps), w2, w1)?;
            w2.fill(0.0);
            transport_product(grid, lin, w1, w2);
            match weights {
                Some(w) => out
                    .iter_mut()
                    .zip(y.iter().zip(w2.iter().zip(w)))
                    .for_each(|(o, (y, (t, w)))| *o = y + (*o - t) / w),
                None => out
                    .iter_mut()
                    .zip(y.iter().zip(w2.iter()))
                    .for_each(|(o, (y, t))| *o = y + *o - t),
            }
            Ok(())
        });
        let info = self
            .gmres
            .solve(&mut schur, &mut Identity(half), rhs, dm, &self.params)?;
        // d_m = D⁻¹ z; d_u = -A⁻¹(F_H + B d_m).
        if let Some(w) = weights {
            dm.iter_mut().zip(w).for_each(|(z, w)| *z *= w);
        }
        sweep_forward(lin, steps, dm, w1)?;
        dm.copy_from_slice(w1);
        w2.copy_from_slice(fu);
        coupling_product(lin, dm, w2);
        sweep_backward(lin, hjb.unwrap_or(&mut *steps), w2, du)?;
        du.iter_mut().for_each(|v| *v = -*v);
        Ok(info)
    }

    /// GMRES on the whole system J d = -F with the exact Jacobian product, right-
    /// preconditioned by P = [A B; 0 D] with approximate step solves: z_m ≈ D⁻¹ r_m,
    /// z_u ≈ A⁻¹(r_u - B z_m).
    fn solve_full(self, f: &[f64], d: &mut [f64]) -> Result<GmresInfo> {
        let (grid, lin, steps, weights) = (self.grid, self.lin, self.steps, self.weights);
        // Multigrid hierarchies are built for I - ΔtQ_n only; with a discount the HJB blocks
        // differ by Δtρ_k I, which the V-cycle preconditioner ignores (GMRES runs on the exact
        // Jacobian product, so only the iteration count can feel it).
        let mut hjb = self.hjb;
        let half = lin.layout.half();
        let [rhs, t1, t2] = self.work;
        rhs.iter_mut().zip(f).for_each(|(r, f)| *r = -f);
        // Scaled form with W_r = diag(1, W⁻¹) on the rows, W_c = diag(1, W) on the unknowns:
        // (W_r J W_c) ŷ = W_r rhs, preconditioned by W_c⁻¹ P⁻¹ W_r⁻¹.
        if let Some(w) = weights {
            rhs[half..].iter_mut().zip(w).for_each(|(r, w)| *r /= w);
        }
        d.fill(0.0);
        let mut jacobian = FnOperator::new(2 * half, |v: &[f64], y: &mut [f64]| {
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
        });
        let mut block_sweeps = FnOperator::new(2 * half, |r: &[f64], z: &mut [f64]| {
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
            sweep_backward(lin, hjb.as_deref_mut().unwrap_or(&mut *steps), tu, zu)?;
            if let Some(w) = weights {
                zm.iter_mut().zip(w).for_each(|(z, w)| *z /= w);
            }
            Ok(())
        });
        let info = self
            .gmres
            .solve(&mut jacobian, &mut block_sweeps, rhs, d, &self.params)?;
        if let Some(w) = weights {
            d[half..].iter_mut().zip(w).for_each(|(d, w)| *d *= w);
        }
        Ok(info)
    }
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
