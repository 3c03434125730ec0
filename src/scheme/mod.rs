//! The monotone finite-difference scheme of Achdou and Capuzzo-Dolcetta (docs/math.md §3) and the
//! discrete system it defines, for K populations on one grid.
//!
//! - [`generator`]: the generator Q(u) of the Markov chain of the upwind scheme, the one object
//!   behind the HJB Newton Jacobian I/Δt - Q, the FP step (its transpose) and the RL kernel
//!   I + ΔtQ; diffusion and drift enter the scheme only through its rates;
//! - [`hjb`]: the implicit HJB step (u^n - u^{n+1})/Δt - ν_k Δ_h u^n + Ĥ^k(x, m^{n+1}, Du^n) =
//!   F^k(m^{n+1}), solved by Newton (policy iteration), and the backward sweep;
//! - [`fp`]: the forward FP sweep (m^{n+1} - m^n)/Δt = Q(u^n)ᵀ m^{n+1}, the exact adjoint, so
//!   Σ_i m_i h^d is conserved to round-off and m ≥ 0;
//! - [`system`]: the whole discrete system F(u, m) = 0 — its residual (the stopping test of
//!   every outer method) and, with [`jacobian`], its exact linearisation (Newton);
//! - [`step_solver`]: the linear solves of one implicit step, I/Δt - Q and its transpose, with
//!   the FP-specific policy (positivity polish, mass check, LU fallback).

pub mod fp;
pub mod generator;
pub mod hjb;
pub mod jacobian;
pub mod step_solver;
pub mod system;

pub use fp::fp_sweep;
pub use generator::Generator;
pub use hjb::{HjbSettings, HjbStep, HjbSweep, StepBuffers};
pub use jacobian::{Layout, Linearization};
pub use step_solver::{StepSolver, StepSolverKind};
pub use system::{running_cost, running_costs, Costs, Iterate, Request, System};

use crate::error::Result;
use crate::field::Field;
use crate::grid::Grid;

/// Scratch of one population's sweeps: the step solver and level-sized buffers.
#[derive(Debug)]
pub struct Workspace {
    /// The solver of the implicit steps' linear systems.
    pub solver: StepSolver,
    step: StepBuffers,
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
        Workspace {
            solver,
            step: StepBuffers::new(grid),
        }
    }
}

/// Densities of all populations at level n.
pub fn densities_at(m: &[Field], n: usize) -> Vec<&[f64]> {
    m.iter().map(|f| f.level(n)).collect()
}

/// Residual norms of the whole discrete system (see [`system`]).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Residual {
    /// max |F_H|: the HJB rows, in units of u.
    pub hjb: f64,
    /// max_n h^d Σ_i |F_F|: the FP rows, in units of mass.
    pub fp: f64,
    /// A bound on the round-off of evaluating these norms at this point (docs/math.md §3.5):
    /// the residual cannot be computed more accurately, so a stopping test below it could
    /// never pass (it grows like ν/h² on fine grids).
    pub floor: f64,
}

impl Residual {
    /// max(hjb, fp), NaN if either is NaN.
    pub fn norm(&self) -> f64 {
        nan_max(self.hjb, self.fp)
    }
}

/// max(a, b) that propagates NaN (f64::max drops it).
pub(crate) fn nan_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}
