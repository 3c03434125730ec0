//! Newton's residual history shows quadratic convergence in its final steps (ratio test
//! r_{k+1} ≤ C r_k² on every step that starts in the quadratic regime and ends above round-off),
//! in 1D with the direct and the Krylov solver and in 2D with exact and multigrid step solves;
//! and the number of Newton iterations does not grow with the grid.

mod common;

use common::models::crossing::*;
use mfg::grid::Boundary;
use mfg::problem::Problem;
use mfg::solve::newton::{NewtonSettings, NewtonSolverKind};
use mfg::solve::spacetime::Preconditioner;
use mfg::solve::{solve, MethodKind, Solution, SolverSettings, Stopping, Termination};

fn newton(problem: &Problem, linear_solver: NewtonSolverKind, pc: Preconditioner) -> Solution {
    let settings = SolverSettings {
        method: MethodKind::Newton(NewtonSettings {
            linear_solver,
            preconditioner: pc,
            // Accurate inner solves, so that the outer rate is Newton's own.
            forcing_min: 1e-12,
            ..NewtonSettings::default()
        }),
        stopping: Stopping {
            max_iterations: 20,
            tol_u: 1e-12,
            tol_m: 1e-12,
            tol_residual: 1e-13,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    };
    let s = solve(problem, &settings).unwrap();
    assert_eq!(s.termination, Termination::Converged, "{:?}", s.history);
    s
}

/// Residual ratios of the final steps: (r_k, r_{k+1}) with r_k in the quadratic regime
/// (≤ 5e-2) and r_{k+1} above round-off (≥ 1e-12).
fn quadratic_pairs(s: &Solution) -> Vec<(f64, f64)> {
    let r: Vec<f64> = s.history.iter().map(|h| h.residual).collect();
    r.windows(2)
        .map(|w| (w[0], w[1]))
        .filter(|&(a, b)| a <= 5e-2 && b >= 1e-12)
        .collect()
}

fn assert_quadratic(s: &Solution, what: &str) {
    let pairs = quadratic_pairs(s);
    let history: Vec<String> = s
        .history
        .iter()
        .map(|h| format!("{:.3e}", h.residual))
        .collect();
    assert!(
        pairs.len() >= 2,
        "{what}: too few steps in the quadratic regime: {history:?}"
    );
    for (a, b) in &pairs {
        assert!(
            *b <= 100.0 * a * a,
            "{what}: r_(k+1) = {b:.3e} > 100 r_k² (r_k = {a:.3e}) in {history:?}"
        );
    }
    // Order estimate from the last three residuals above round-off: ≈ 2.
    let (a, b) = pairs[pairs.len() - 2];
    let c = pairs[pairs.len() - 1].1;
    let order = (c / b).ln() / (b / a).ln();
    assert!(
        order > 1.6,
        "{what}: observed order {order:.2} in {history:?}"
    );
}

#[test]
fn quadratic_convergence_1d_direct() {
    let p = problem_1d(61, 30, Boundary::Reflecting, monotone());
    assert_quadratic(
        &newton(&p, NewtonSolverKind::Direct, Preconditioner::Auto),
        "1D direct",
    );
}

#[test]
fn quadratic_convergence_1d_krylov() {
    let p = problem_1d(61, 30, Boundary::Reflecting, monotone());
    assert_quadratic(
        &newton(&p, NewtonSolverKind::Krylov, Preconditioner::Auto),
        "1D Krylov",
    );
}

#[test]
fn quadratic_convergence_2d_krylov_exact_and_multigrid() {
    let p = problem_2d(16, 16, 8, monotone());
    let exact = newton(&p, NewtonSolverKind::Krylov, Preconditioner::Exact);
    assert_quadratic(&exact, "2D Krylov, exact step solves");
    let mg = newton(&p, NewtonSolverKind::Krylov, Preconditioner::Multigrid);
    assert_quadratic(&mg, "2D Krylov, multigrid step solves");
    let d = exact
        .iterate
        .u
        .iter()
        .zip(&mg.iterate.u)
        .chain(exact.iterate.m.iter().zip(&mg.iterate.m))
        .map(|(a, b)| a.max_abs_diff(b))
        .fold(0.0, f64::max);
    assert!(d < 1e-10, "exact vs multigrid preconditioning: {d:.3e}");
}

/// Mesh independence: the same number of Newton iterations (± 1) on a 4× finer grid.
#[test]
fn newton_iterations_do_not_grow_with_the_grid() {
    let coarse = newton(
        &problem_1d(41, 20, Boundary::Reflecting, monotone()),
        NewtonSolverKind::Krylov,
        Preconditioner::Auto,
    );
    let fine = newton(
        &problem_1d(161, 80, Boundary::Reflecting, monotone()),
        NewtonSolverKind::Krylov,
        Preconditioner::Auto,
    );
    let (a, b) = (coarse.history.len(), fine.history.len());
    assert!(
        a <= 8 && b <= a + 1,
        "{a} iterations on 41x20, {b} on 161x80"
    );
}
