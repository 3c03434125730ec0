//! The implicit HJB step of population k and the backward sweep (docs/math.md §3.3):
//!
//!   (u^n - u^{n+1})/Δt + ρ_k u^n - ν_k Δ_h u^n + Ĥ^k(x, m^{n+1}, D⁻u^n, D⁺u^n) = F^k(m^{n+1}),
//!   u^{Nt} = g^k,
//!
//! (ρ_k ≥ 0 the discount rate, 0 unless set; the Jacobian below gains ρ_k I).
//! with F^k = f^k(x, m^{n+1}) + V^k the running cost ([`super::running_costs`]). Through the
//! generator (see [`super::generator::evaluate_level`]) the step residual reads
//! R(u) = (u - u^{n+1})/Δt - Q(u)u - ℓ(u) - F, ℓ the running cost of the chain's jumps, and its
//! Jacobian is I/Δt - Q(u) (ℓ's derivative cancels that of Q's rates), so Newton's method on R
//! is policy iteration: each iterate solves the linear step of the current rates.

use super::generator::{self, Generator};
use super::{densities_at, nan_max, Workspace};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::grid::Grid;
use crate::problem::{Population, Problem};

/// Tolerance and iteration cap of the Newton (policy-iteration) loop of one implicit HJB step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HjbSettings {
    /// Stop when Δt·|R|∞ ≤ tol·(1 + |u|∞): since ‖(I/Δt - Q)⁻¹‖∞ ≤ Δt, this bounds the error of
    /// u^n due to the nonlinear solve by tol relative to the size of u. On fine grids the
    /// round-off floor of evaluating R takes over ([`HjbStep::threshold`]).
    pub tol: f64,
    /// Newton iterations before the step counts as failed.
    pub max_iterations: usize,
    /// Solver of the implicit steps' linear systems (HJB Newton steps and FP steps).
    pub linear_solver: super::StepSolverKind,
}

impl Default for HjbSettings {
    fn default() -> Self {
        HjbSettings {
            tol: 1e-13,
            max_iterations: 50,
            linear_solver: super::StepSolverKind::Auto,
        }
    }
}

/// One implicit HJB step n of population k: what its residual depends on besides u^n.
#[derive(Debug, Clone, Copy)]
pub struct HjbStep<'a> {
    /// The spatial grid.
    pub grid: &'a Grid,
    /// Population k.
    pub population: &'a Population,
    /// Index k of the population (for messages).
    pub k: usize,
    /// Index n of the step (u^n is solved for).
    pub n: usize,
    /// Δt.
    pub dt: f64,
    /// u^{n+1}.
    pub u_next: &'a [f64],
    /// m^{n+1} of every population (the densities Ĥ sees).
    pub densities: &'a [&'a [f64]],
    /// F^k(m^{n+1}) at every node.
    pub cost: &'a [f64],
    /// The discount rate ρ_k (ρu^n joins the step residual).
    pub discount: f64,
}

/// The level-sized buffer of a step residual R.
#[derive(Debug, Clone)]
pub struct StepBuffers {
    pub(crate) res: Vec<f64>,
}

impl StepBuffers {
    /// Buffers for `grid`.
    pub fn new(grid: &Grid) -> Self {
        StepBuffers {
            res: vec![0.0; grid.len()],
        }
    }

    /// The residual R of the last [`HjbStep::residual`] call.
    pub fn residual(&self) -> &[f64] {
        &self.res
    }
}

impl<'a> HjbStep<'a> {
    /// Step n of population k of `problem`.
    pub fn new(
        problem: &'a Problem,
        k: usize,
        n: usize,
        u_next: &'a [f64],
        densities: &'a [&'a [f64]],
        cost: &'a [f64],
    ) -> Self {
        HjbStep {
            grid: problem.grid(),
            population: problem.population(k),
            k,
            n,
            dt: problem.time().dt(),
            u_next,
            densities,
            cost,
            discount: problem.population(k).discount(),
        }
    }

    /// Evaluates R(u) into `buf.res` and Q(u) into `gen`; returns |R|∞ (NaN if any entry is).
    pub fn residual(&self, u: &[f64], buf: &mut StepBuffers, gen: &mut Generator) -> f64 {
        // res first holds the HJB operator -(Q(u)u) - ℓ = -ν Δ_h u + Ĥ.
        generator::evaluate_level(
            self.grid,
            self.population,
            self.n,
            u,
            self.densities,
            &mut buf.res,
            gen,
        );
        let inv_dt = 1.0 / self.dt;
        let rho = self.discount;
        let mut max = 0.0f64;
        for (i, r) in buf.res.iter_mut().enumerate() {
            *r += (u[i] - self.u_next[i]) * inv_dt + rho * u[i] - self.cost[i];
            max = nan_max(max, r.abs());
        }
        max
    }

    /// The stopping threshold of the Newton loop at `u` (docs/math.md §3.3): Newton stops when
    /// Δt‖R‖∞ ≤ max(tol (1 + ‖u‖∞), floor), where
    ///
    /// floor = c ε (‖u‖∞ + ‖u^{n+1}‖∞ + Δt ‖F‖∞ + 2 Δt q ‖u‖∞),   q = max_i |Q_ii|,
    ///
    /// bounds the round-off of evaluating Δt R in floating point: each term of Δt R is computed
    /// with a relative error of a few ε, and ‖Q‖∞ = 2q, so on fine grids (q ~ ν/h²) the residual
    /// cannot be computed more accurately than this, whatever the iterate. `gen` must hold Q(u).
    pub fn threshold(&self, u: &[f64], gen: &Generator, tol: f64) -> f64 {
        let u_max = max_abs(u);
        (tol * (1.0 + u_max)).max(self.round_off_floor(u_max, gen))
    }

    /// The floor of [`HjbStep::threshold`], for ‖u‖∞ = `u_max`.
    pub(crate) fn round_off_floor(&self, u_max: f64, gen: &Generator) -> f64 {
        ROUND_OFF_FACTOR
            * f64::EPSILON
            * (u_max
                + max_abs(self.u_next)
                + self.dt * max_abs(self.cost)
                + 2.0 * self.dt * gen.max_out_rate() * u_max)
    }

    /// Solves the step for u (in: initial guess, out: solution) by Newton's method, until
    /// Δt‖R‖∞ is below [`HjbStep::threshold`]; on return `gen` holds Q(u) at the solution.
    /// Returns the number of Newton iterations.
    pub fn solve(
        &self,
        u: &mut [f64],
        gen: &mut Generator,
        ws: &mut Workspace,
        settings: &HjbSettings,
    ) -> Result<usize> {
        let dt = self.dt;
        let (mut last, mut target) = (f64::INFINITY, 0.0);
        for it in 0..=settings.max_iterations {
            let r = self.residual(u, &mut ws.step, gen);
            if !r.is_finite() {
                return Err(Error::NonFinite {
                    what: "HJB residual",
                    population: self.k,
                    step: self.n,
                });
            }
            // The floor costs a pass over the rates: only computed when the relative test fails.
            let u_max = max_abs(u);
            target = settings.tol * (1.0 + u_max);
            if dt * r <= target {
                return Ok(it);
            }
            target = target.max(self.round_off_floor(u_max, gen));
            if dt * r <= target {
                return Ok(it);
            }
            last = dt * r;
            if it == settings.max_iterations {
                break;
            }
            ws.solver.factor(self.grid, gen, 1.0 / dt + self.discount)?;
            // The residual is re-evaluated exactly above, so the correction only needs a linear
            // residual well below the stopping threshold (‖·‖∞ ≤ ‖·‖₂), not round-off.
            ws.solver.solve_to(&mut ws.step.res, 0.1 * target / dt)?;
            u.iter_mut()
                .zip(&ws.step.res)
                .for_each(|(ui, di)| *ui -= di);
        }
        Err(Error::HjbNewton {
            population: self.k,
            step: self.n,
            iterations: settings.max_iterations,
            residual: last,
            threshold: target,
        })
    }
}

fn max_abs(v: &[f64]) -> f64 {
    v.iter().fold(0.0f64, |a, x| a.max(x.abs()))
}

/// The c of the round-off floor of [`HjbStep::threshold`]: a residual entry sums 2d + 3 terms
/// (the rates times differences of u, ℓ, the time difference, F), each with a relative
/// rounding error of a few ε.
pub(crate) const ROUND_OFF_FACTOR: f64 = 1.0;

/// The backward HJB sweep of population k against the densities `m` of all populations, with
/// the running costs `costs` (level n holds F^k(m^{n+1})).
#[derive(Debug, Clone, Copy)]
pub struct HjbSweep<'a> {
    /// The problem.
    pub problem: &'a Problem,
    /// The population swept.
    pub k: usize,
    /// Densities of all populations.
    pub m: &'a [Field],
    /// Running costs of population k for `m`.
    pub costs: &'a Field,
}

impl HjbSweep<'_> {
    /// Solves u^{Nt} = g^k, then every step backward. `u` holds the previous iterate on entry;
    /// with `warm` its level n is the Newton initial guess for step n (it is close to the answer
    /// once an outer iteration settles), otherwise u^{n+1} is. `gens[n]` receives Q(u^n).
    /// Returns the total number of Newton iterations.
    pub fn solve(
        &self,
        u: &mut Field,
        gens: &mut [Generator],
        ws: &mut Workspace,
        settings: &HjbSettings,
        warm: bool,
    ) -> Result<usize> {
        let problem = self.problem;
        let nt = problem.time().nt;
        u.level_mut(nt)
            .copy_from_slice(problem.population(self.k).terminal());
        let mut newton = 0;
        for n in (0..nt).rev() {
            let densities = densities_at(self.m, n + 1);
            let (un, unext) = u.level_mut_and_next(n);
            if !warm {
                un.copy_from_slice(unext);
            }
            let step = HjbStep::new(problem, self.k, n, unext, &densities, self.costs.level(n));
            newton += step.solve(un, &mut gens[n], ws, settings)?;
        }
        Ok(newton)
    }
}
