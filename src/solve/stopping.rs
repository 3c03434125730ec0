//! When an outer iteration stops: all three measures small (the L∞ change of u, the L1 change
//! of m, the residual of the discrete system), or the iteration cap, or divergence.

use super::StepStats;

/// Stopping rule of the outer iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stopping {
    /// Iteration cap (counted over resumed runs).
    pub max_iterations: usize,
    /// Converged needs max_k ‖Δu‖∞ ≤ tol_u …
    pub tol_u: f64,
    /// … and max_k max_n ‖Δm‖_{L1} ≤ tol_m …
    pub tol_m: f64,
    /// … and the system residual ≤ tol_residual.
    pub tol_residual: f64,
    /// Diverged when the residual exceeds this factor times the first step's residual
    /// (floored at 1, so that a tiny first residual cannot trigger it).
    pub divergence_factor: f64,
}

impl Default for Stopping {
    fn default() -> Self {
        Stopping {
            max_iterations: 500,
            tol_u: 1e-10,
            tol_m: 1e-10,
            tol_residual: 1e-10,
            divergence_factor: 1e8,
        }
    }
}

impl Stopping {
    /// All tolerances met. `residual_floor` bounds the round-off of the residual's evaluation
    /// ([`crate::scheme::Residual::floor`]): the residual test is residual ≤ max(tol_residual,
    /// floor), so that refining a grid (the floor grows like ν/h²) cannot make it unreachable.
    pub fn converged(&self, s: &StepStats, residual_floor: f64) -> bool {
        s.delta_u <= self.tol_u
            && s.delta_m <= self.tol_m
            && s.residual <= self.tol_residual.max(residual_floor)
    }

    /// The residual has blown up relative to the first step.
    pub fn diverged(&self, history: &[StepStats]) -> bool {
        match (history.first(), history.last()) {
            (Some(first), Some(last)) => {
                last.residual > self.divergence_factor * first.residual.max(1.0)
            }
            _ => false,
        }
    }
}
