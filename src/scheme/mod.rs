//! The monotone finite-difference scheme of Achdou and Capuzzo-Dolcetta (MATH.md §2) for one
//! population k, given the densities of all populations:
//!
//! HJB, backward, implicit: for n = Nt-1, …, 0
//!   (u^n - u^{n+1})/Δt - ν_k Δ_h u^n + Ĥ^k(x, m^{n+1}, D⁻u^n, D⁺u^n) = f^k(x, m^{n+1}) + V^k(x),
//!   u^{Nt} = g^k,
//! each step a nonlinear system solved by Newton (policy iteration) with Jacobian I/Δt - Q(u^n);
//!
//! FP, forward, implicit, the exact adjoint: for n = 0, …, Nt-1
//!   (m^{n+1} - m^n)/Δt = Q(u^n)ᵀ m^{n+1},   m^0 = m0^k,
//! with the same generator Q(u^n) (assembled with the same m^{n+1} inside Ĥ) as the HJB step,
//! so Σ_i m_i h^d is conserved to round-off and m ≥ 0.
//!
//! The residual of the whole discrete system (all k, all n) is the stopping test of every outer
//! method: `hjb` = max Δt |HJB residual| (units of u), `fp` = max_n Δt h^d Σ_i |FP residual|
//! (units of mass).

pub mod generator;
pub mod jacobian;
pub mod step_solver;

pub use generator::Generator;
pub use step_solver::{StepSolver, StepSolverKind};

use crate::error::{Error, Result};
use crate::field::Field;
use crate::grid::{Grid, NONE};
use crate::problem::{Population, Problem};

/// Tolerance and iteration cap of the Newton (policy-iteration) loop of one implicit HJB step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HjbSettings {
    /// Stop when Δt·|R|∞ ≤ tol·(1 + |u|∞): since ‖(I/Δt - Q)⁻¹‖∞ ≤ Δt, this bounds the error of
    /// u^n due to the nonlinear solve by tol relative to the size of u.
    pub tol: f64,
    pub max_iterations: usize,
    /// Solver of the implicit steps' linear systems (HJB Newton steps and FP steps).
    pub linear_solver: StepSolverKind,
}

impl Default for HjbSettings {
    fn default() -> Self {
        HjbSettings {
            tol: 1e-13,
            max_iterations: 50,
            linear_solver: StepSolverKind::Auto,
        }
    }
}

/// Scratch of one population's sweeps: the step solver and level-sized buffers.
#[derive(Debug)]
pub struct Workspace {
    pub solver: StepSolver,
    ham: Vec<f64>,
    res: Vec<f64>,
    gen: Generator,
}

impl Workspace {
    /// Workspace with the solver `linear` selects for `grid`.
    pub fn new(grid: &Grid, linear: StepSolverKind) -> Result<Self> {
        Ok(Self::with_solver(
            grid,
            StepSolver::with_choice(grid, linear)?,
        ))
    }

    /// Workspace with a given solver (e.g. [`StepSolver::sparse`] to compare paths).
    pub fn with_solver(grid: &Grid, solver: StepSolver) -> Self {
        let n = grid.len();
        Workspace {
            solver,
            ham: vec![0.0; n],
            res: vec![0.0; n],
            gen: Generator::zeros(grid),
        }
    }
}

/// Densities of all populations at level n.
pub fn densities_at(m: &[Field], n: usize) -> Vec<&[f64]> {
    m.iter().map(|f| f.level(n)).collect()
}

/// F^k_i = f^k(x_i, m(x_i)) + V^k(x_i) for the densities `m_all` of one level.
pub fn running_cost(problem: &Problem, k: usize, m_all: &[&[f64]], out: &mut [f64]) {
    let grid = &problem.grid();
    let d = grid.dim();
    let pot = problem.population(k).potential();
    let mut mloc = vec![0.0; m_all.len()];
    for (i, o) in out.iter_mut().enumerate() {
        for (j, ml) in mloc.iter_mut().enumerate() {
            *ml = m_all[j][i];
        }
        let x = grid.point(i);
        *o = problem.coupling().cost(k, &x[..d], &mloc) + pot[i];
    }
}

/// HJB step residual R = (u - u_next)/Δt - νΔ_h u + Ĥ(x, m, Du) - F at every node, with the
/// generator Q(u) written to `gen`; returns |R|∞.
#[allow(clippy::too_many_arguments)]
pub fn hjb_step_residual(
    grid: &Grid,
    pop: &Population,
    dt: f64,
    u: &[f64],
    u_next: &[f64],
    m_all: &[&[f64]],
    source: &[f64],
    ham: &mut [f64],
    res: &mut [f64],
    gen: &mut Generator,
) -> f64 {
    generator::evaluate_level(grid, pop, u, m_all, ham, gen);
    let d = grid.dim();
    let nu = pop.nu();
    let diff: [f64; 2] = [
        nu / (grid.h(0) * grid.h(0)),
        nu / (grid.h(d - 1) * grid.h(d - 1)),
    ];
    let inv_dt = 1.0 / dt;
    let mut max = 0.0f64;
    for i in 0..grid.len() {
        let mut lap = 0.0;
        for (s, &j) in grid.neighbours(i).iter().enumerate() {
            if j != NONE {
                lap += diff[s / 2] * (u[j] - u[i]);
            }
        }
        let r = (u[i] - u_next[i]) * inv_dt - lap + ham[i] - source[i];
        res[i] = r;
        // NaN must not be lost by max(): propagate it explicitly.
        max = if r.is_nan() {
            f64::NAN
        } else {
            max.max(r.abs())
        };
    }
    max
}

/// Solves one implicit HJB step for u (in: initial guess, out: solution) by Newton's method,
/// with the running cost `source` = F^k(m^{n+1}) of [`running_cost`]; on return `gen` holds
/// Q(u) at the solution. Returns the number of Newton iterations.
#[allow(clippy::too_many_arguments)]
pub fn hjb_step(
    problem: &Problem,
    k: usize,
    step: usize,
    u: &mut [f64],
    u_next: &[f64],
    m_all: &[&[f64]],
    source: &[f64],
    gen: &mut Generator,
    ws: &mut Workspace,
    settings: &HjbSettings,
) -> Result<usize> {
    let grid = &problem.grid();
    let pop = &problem.population(k);
    let dt = problem.time().dt();
    let mut last = f64::INFINITY;
    for it in 0..=settings.max_iterations {
        let r = hjb_step_residual(
            grid,
            pop,
            dt,
            u,
            u_next,
            m_all,
            source,
            &mut ws.ham,
            &mut ws.res,
            gen,
        );
        if !r.is_finite() {
            return Err(Error::NonFinite {
                what: "HJB residual",
                population: k,
                step,
            });
        }
        let scale = 1.0 + u.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        if dt * r <= settings.tol * scale {
            return Ok(it);
        }
        last = r;
        if it == settings.max_iterations {
            break;
        }
        ws.solver.factor(grid, gen, 1.0 / dt)?;
        // The residual is re-evaluated exactly above, so the correction only needs a linear
        // residual well below the stopping threshold (‖·‖∞ ≤ ‖·‖₂), not round-off.
        ws.solver
            .solve_to(&mut ws.res, 0.1 * settings.tol * scale / dt)?;
        u.iter_mut().zip(&ws.res).for_each(|(ui, di)| *ui -= di);
    }
    Err(Error::HjbNewton {
        population: k,
        step,
        iterations: settings.max_iterations,
        residual: last,
    })
}

/// The running costs of population k for every HJB step: level n holds F^k(m^{n+1}) (n < Nt).
pub fn running_costs(problem: &Problem, k: usize, m: &[Field], out: &mut Field) {
    for n in 0..problem.time().nt {
        running_cost(problem, k, &densities_at(m, n + 1), out.level_mut(n));
    }
}

/// Backward HJB sweep of population k against the densities `m` of all populations, with the
/// running costs `sources` of [`running_costs`]. `u` holds the previous iterate on entry; with
/// `warm` its level n is the Newton initial guess for step n (it is close to the answer once an
/// outer iteration settles), otherwise u^{n+1} is. `gens[n]` receives Q(u^n). Returns the total
/// number of Newton iterations.
#[allow(clippy::too_many_arguments)]
pub fn hjb_sweep(
    problem: &Problem,
    k: usize,
    m: &[Field],
    sources: &Field,
    u: &mut Field,
    gens: &mut [Generator],
    ws: &mut Workspace,
    settings: &HjbSettings,
    warm: bool,
) -> Result<usize> {
    let nt = problem.time().nt;
    u.level_mut(nt)
        .copy_from_slice(problem.population(k).terminal());
    let mut newton = 0;
    for n in (0..nt).rev() {
        let m_next = densities_at(m, n + 1);
        let (un, unext) = u.level_mut_and_next(n);
        if !warm {
            un.copy_from_slice(unext);
        }
        newton += hjb_step(
            problem,
            k,
            n,
            un,
            unext,
            &m_next,
            sources.level(n),
            &mut gens[n],
            ws,
            settings,
        )?;
    }
    Ok(newton)
}

/// Forward FP sweep of population k: m^0 = m0^k, (I/Δt - Q(u^n)ᵀ) m^{n+1} = m^n/Δt with the
/// generators `gens[n]` of the HJB sweep.
pub fn fp_sweep(
    problem: &Problem,
    k: usize,
    gens: &[Generator],
    m: &mut Field,
    ws: &mut Workspace,
) -> Result<()> {
    let grid = &problem.grid();
    let inv_dt = 1.0 / problem.time().dt();
    m.level_mut(0)
        .copy_from_slice(problem.population(k).initial());
    for (n, gen) in gens.iter().enumerate() {
        ws.solver.factor(grid, gen, inv_dt)?;
        let (prev, next) = m.level_pair_mut(n);
        next.iter_mut().zip(prev).for_each(|(a, b)| *a = b * inv_dt);
        ws.solver.solve_transpose(next)?;
        if next.iter().any(|v| !v.is_finite()) {
            return Err(Error::NonFinite {
                what: "FP density",
                population: k,
                step: n + 1,
            });
        }
    }
    Ok(())
}

/// Residual of the whole discrete system at (u, m); see the module documentation.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Residual {
    pub hjb: f64,
    pub fp: f64,
}

impl Residual {
    /// max(hjb, fp), NaN if either is NaN.
    pub fn norm(&self) -> f64 {
        if self.hjb.is_nan() || self.fp.is_nan() {
            f64::NAN
        } else {
            self.hjb.max(self.fp)
        }
    }
}

/// Residual of population k's HJB and FP equations at (u, m) (all populations' m), with the
/// running costs `sources` of [`running_costs`] for this m.
pub fn population_residual(
    problem: &Problem,
    k: usize,
    u: &Field,
    m: &[Field],
    sources: &Field,
    ws: &mut Workspace,
) -> Residual {
    let grid = &problem.grid();
    let pop = &problem.population(k);
    let dt = problem.time().dt();
    let mut r = Residual::default();
    let mut qtm = vec![0.0; grid.len()];
    let h_d = grid.cell_volume();
    for n in 0..problem.time().nt {
        let m_next = densities_at(m, n + 1);
        let rh = hjb_step_residual(
            grid,
            pop,
            dt,
            u.level(n),
            u.level(n + 1),
            &m_next,
            sources.level(n),
            &mut ws.ham,
            &mut ws.res,
            &mut ws.gen,
        );
        ws.gen.apply_transpose(grid, m_next[k], &mut qtm);
        let mk = m[k].level(n);
        let fp: f64 = (0..grid.len())
            .map(|i| ((m_next[k][i] - mk[i]) - dt * qtm[i]).abs())
            .sum::<f64>()
            * h_d;
        r.hjb = nan_max(r.hjb, dt * rh);
        r.fp = nan_max(r.fp, fp);
    }
    // Boundary conditions are imposed exactly by the sweeps; a foreign iterate may violate them.
    let term = u
        .level(problem.time().nt)
        .iter()
        .zip(pop.terminal())
        .fold(0.0f64, |a, (x, y)| nan_max(a, (x - y).abs()));
    r.hjb = nan_max(r.hjb, term);
    r.fp = nan_max(r.fp, grid.l1(&sub(m[k].level(0), pop.initial())));
    r
}

fn sub(a: &[f64], b: &[f64]) -> Vec<f64> {
    a.iter().zip(b).map(|(x, y)| x - y).collect()
}

fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Residual of the whole system: the worst population. `sources[k]` must hold the running
/// costs of population k for this m ([`running_costs`]).
pub fn system_residual(
    problem: &Problem,
    u: &[Field],
    m: &[Field],
    sources: &[Field],
    ws: &mut [Workspace],
) -> Residual {
    use rayon::prelude::*;
    ws.par_iter_mut()
        .enumerate()
        .map(|(k, w)| population_residual(problem, k, &u[k], m, &sources[k], w))
        .reduce(Residual::default, |a, b| Residual {
            hjb: nan_max(a.hjb, b.hjb),
            fp: nan_max(a.fp, b.fp),
        })
}
