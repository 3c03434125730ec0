//! When an outer iteration stops (docs/math.md §3.6): the residual of the discrete system small,
//! the L1 change of m small, and the change of u small where the population is — the change of
//! u^{k,n} weighted by the density m^{k,n} ([`UChange::Weighted`], the default), so that far
//! tails where m ≈ 1e-30 (whose u moves with log m in log-coupled problems) do not dictate the
//! iteration count; [`UChange::Max`] is the plain max_k ‖Δu‖∞ test of earlier versions. Or the
//! iteration cap, or divergence.

use super::StepStats;
use crate::field::Field;

/// Which change of u the stopping test measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum UChange {
    /// max_k max_n Σ_i |Δu^{k,n}_i| m^{k,n}_i / Σ_i m^{k,n}_i: the mean change of u seen by the
    /// population ([`weighted_u_change`]).
    #[default]
    Weighted,
    /// max_k ‖Δu‖∞ over every node and level.
    Max,
}

/// Stopping rule of the outer iteration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stopping {
    /// Iteration cap (counted over resumed runs).
    pub max_iterations: usize,
    /// Converged needs the change of u ([`Stopping::u_change`]) ≤ tol_u …
    pub tol_u: f64,
    /// … and max_k max_n ‖Δm‖_{L1} ≤ tol_m …
    pub tol_m: f64,
    /// … and the system residual ≤ tol_residual.
    pub tol_residual: f64,
    /// Which change of u is compared with tol_u.
    pub u_change: UChange,
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
            u_change: UChange::Weighted,
            divergence_factor: 1e8,
        }
    }
}

impl Stopping {
    /// All tolerances met. `residual_floor` bounds the round-off of the residual's evaluation
    /// ([`crate::scheme::Residual::floor`]): the residual test is residual ≤ max(tol_residual,
    /// floor), so that refining a grid (the floor grows like ν/h²) cannot make it unreachable.
    /// `delta_u_weighted` is the step's [`weighted_u_change`] (the history keeps the L∞ one).
    pub fn converged(&self, s: &StepStats, residual_floor: f64, delta_u_weighted: f64) -> bool {
        let du = match self.u_change {
            UChange::Weighted => delta_u_weighted,
            UChange::Max => s.delta_u,
        };
        du <= self.tol_u
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

/// max_n Σ_i |u_new − u_old|^n_i m^n_i / Σ_i m^n_i over the levels n with mass: the change of
/// one population's u averaged with its density `m` (negative values, which only an
/// unconverged Newton iterate has, count as 0). NaN if a change is NaN.
pub fn weighted_u_change(u_new: &Field, u_old: &Field, m: &Field) -> f64 {
    let mut worst = 0.0f64;
    for n in 0..u_new.levels() {
        let (a, b, w) = (u_new.level(n), u_old.level(n), m.level(n));
        let (mut change, mut mass) = (0.0, 0.0);
        for i in 0..a.len() {
            let wi = w[i].max(0.0);
            change += (a[i] - b[i]).abs() * wi;
            mass += wi;
        }
        if mass > 0.0 {
            let c = change / mass;
            worst = if c.is_nan() { c } else { worst.max(c) };
        }
    }
    worst
}
