//! The forward Fokker–Planck sweep of population k, the exact adjoint of the linearised HJB
//! steps (docs/math.md §3.4): m^0 = m0^k and, for n = 0, …, Nt-1,
//!
//!   (m^{n+1} - m^n)/Δt = Q(u^n)ᵀ m^{n+1},
//!
//! with the generators Q(u^n) of the HJB sweep (assembled with the same m^{n+1} inside Ĥ). Each
//! step solves (I/Δt - Qᵀ) m^{n+1} = m^n/Δt, an M-matrix system whose columns sum to 1/Δt:
//! Σ_i m_i h^d is conserved to round-off and m ≥ 0.

use super::generator::Generator;
use super::Workspace;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::problem::Problem;

/// Forward FP sweep of population k with the generators `gens[n]` = Q(u^n) of its HJB sweep;
/// `m` receives every level.
pub fn fp_sweep(
    problem: &Problem,
    k: usize,
    gens: &[Generator],
    m: &mut Field,
    ws: &mut Workspace,
) -> Result<()> {
    let grid = problem.grid();
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
