//! What the integration tests, the benches and the examples share: test models (a problem and
//! what is known about its answer), the shipped examples at coarse resolutions, and small
//! numerical helpers. Benches and examples include this module with
//! `#[path = "../tests/common/mod.rs"] mod common;`.
#![allow(dead_code, unused_imports)]

pub mod examples;
pub mod models;
pub mod ode;

pub use ode::{dense_solve, order, rk4};

/// Newton with `linear_solver` and tight tolerances (u 1e-12, m 1e-12, residual 1e-11): for
/// tests that compare Newton with another method to far below the discretisation error.
pub fn tight_newton(linear_solver: mfg::solve::newton::NewtonSolverKind) -> mfg::SolverSettings {
    use mfg::solve::{MethodKind, NewtonSettings, Stopping};
    mfg::SolverSettings {
        method: MethodKind::Newton(NewtonSettings {
            linear_solver,
            ..NewtonSettings::default()
        }),
        stopping: Stopping {
            tol_u: 1e-12,
            tol_m: 1e-12,
            tol_residual: 1e-11,
            ..Stopping::default()
        },
        ..mfg::SolverSettings::default()
    }
}

/// max |a − b| over every population's u and m.
pub fn max_difference(a: &mfg::solve::Solution, b: &mfg::solve::Solution) -> f64 {
    let (x, y) = (&a.iterate, &b.iterate);
    x.u.iter()
        .zip(&y.u)
        .chain(x.m.iter().zip(&y.m))
        .map(|(f, g)| f.max_abs_diff(g))
        .fold(0.0, f64::max)
}

/// Solves `problem` with `method` to tight tolerances (u, m and residual 1e-12) within
/// `max_iterations`, asserting that it converged (the residual history in the message).
pub fn solve_tight(
    problem: &mfg::Problem,
    method: mfg::solve::MethodKind,
    max_iterations: usize,
) -> mfg::solve::Solution {
    use mfg::solve::{Stopping, Termination};
    let settings = mfg::SolverSettings {
        method,
        stopping: Stopping {
            max_iterations,
            tol_u: 1e-12,
            tol_m: 1e-12,
            tol_residual: 1e-12,
            ..Stopping::default()
        },
        ..mfg::SolverSettings::default()
    };
    let s = mfg::solve(problem, &settings).unwrap();
    let residuals: Vec<String> = s
        .history
        .iter()
        .map(|h| format!("{:.3e}", h.residual))
        .collect();
    assert_eq!(
        s.termination,
        Termination::Converged,
        "{} after {} iterations: {residuals:?}",
        s.method,
        s.history.len()
    );
    s
}
