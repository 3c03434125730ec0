//! Picard, Anderson and Newton converge to the same discrete solution (max difference ≤ 1e-8 in
//! u and m) on a 1D and a 2D two-population problem with a monotone coupling; Newton's direct
//! (all three unknown orderings) and Krylov linear solvers agree too.

mod common;

use common::models::crossing::*;
use mfg::grid::Boundary;
use mfg::problem::Problem;
use mfg::solve::newton::{NewtonSettings, NewtonSolverKind};
use mfg::solve::spacetime::{Ordering, Preconditioner};
use mfg::solve::{AndersonSettings, MethodKind, Relaxation};

fn newton(linear_solver: NewtonSolverKind, ordering: Ordering) -> MethodKind {
    MethodKind::Newton(NewtonSettings {
        linear_solver,
        ordering,
        ..NewtonSettings::default()
    })
}

fn check(problem: &Problem, newton_kinds: &[MethodKind]) {
    let reference = common::solve_tight(problem, MethodKind::Picard(Relaxation::Fixed(0.5)), 400);
    let anderson = common::solve_tight(
        problem,
        MethodKind::Anderson(AndersonSettings::default()),
        400,
    );
    let d = common::max_difference(&reference, &anderson);
    assert!(d <= 1e-8, "Picard vs Anderson: {d:.3e}");
    for kind in newton_kinds {
        let n = common::solve_tight(problem, *kind, 400);
        let d = common::max_difference(&reference, &n);
        assert!(d <= 1e-8, "Picard vs Newton {kind:?}: {d:.3e}");
        // Newton needs far fewer outer iterations than Picard.
        assert!(
            n.history.len() <= 10 && n.history.len() < reference.history.len(),
            "Newton {} vs Picard {} iterations",
            n.history.len(),
            reference.history.len()
        );
    }
}

#[test]
fn methods_agree_1d() {
    let problem = problem_1d(41, 20, Boundary::Reflecting, monotone());
    check(
        &problem,
        &[
            newton(NewtonSolverKind::Direct, Ordering::Blocked),
            newton(NewtonSolverKind::Direct, Ordering::TimeInterleaved),
            newton(NewtonSolverKind::Direct, Ordering::NodeInterleaved),
            newton(NewtonSolverKind::Krylov, Ordering::TimeInterleaved),
            MethodKind::Newton(NewtonSettings {
                linear_solver: NewtonSolverKind::Krylov,
                preconditioner: Preconditioner::Multigrid,
                ..NewtonSettings::default()
            }),
        ],
    );
}

#[test]
fn methods_agree_1d_periodic() {
    let problem = problem_1d(30, 15, Boundary::Periodic, monotone());
    check(
        &problem,
        &[newton(NewtonSolverKind::Krylov, Ordering::TimeInterleaved)],
    );
}

#[test]
fn methods_agree_2d() {
    // 13 × 8 nodes: an odd axis, coarsened with a singleton aggregate by the multigrid.
    let problem = problem_2d(13, 8, 8, monotone());
    check(
        &problem,
        &[
            newton(NewtonSolverKind::Direct, Ordering::TimeInterleaved),
            newton(NewtonSolverKind::Krylov, Ordering::TimeInterleaved),
            MethodKind::Newton(NewtonSettings {
                linear_solver: NewtonSolverKind::Krylov,
                preconditioner: Preconditioner::Multigrid,
                ..NewtonSettings::default()
            }),
        ],
    );
}

/// Newton in log m (log + linear + power couplings): exact and multigrid step solves, and the
/// direct LU, reach the same solution as Picard.
#[test]
fn methods_agree_2d_log_coupling() {
    let problem = problem_2d(10, 8, 6, mixed());
    let reference = common::solve_tight(&problem, MethodKind::Picard(Relaxation::Fixed(0.5)), 400);
    for pc in [Preconditioner::Exact, Preconditioner::Multigrid] {
        let n = common::solve_tight(
            &problem,
            MethodKind::Newton(NewtonSettings {
                linear_solver: NewtonSolverKind::Krylov,
                preconditioner: pc,
                ..NewtonSettings::default()
            }),
            400,
        );
        let d = common::max_difference(&reference, &n);
        assert!(d <= 1e-8, "Picard vs Newton {pc:?}: {d:.3e}");
    }
    let n = common::solve_tight(
        &problem,
        newton(NewtonSolverKind::Direct, Ordering::NodeInterleaved),
        400,
    );
    assert!(common::max_difference(&reference, &n) <= 1e-8);
}
