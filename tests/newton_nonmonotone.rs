//! Non-monotone couplings and globalisation.
//!
//! - Predator-prey sign pattern (the predator seeks the prey, A_01 < 0; the prey flees,
//!   A_10 > 0) with unequal strengths and herding prey (A_11 < 0): not monotone. Plain Picard
//!   (θ = 1) does not converge and ends as "not converged" (no panic, no error); Newton does
//!   converge, and so does Anderson.
//! - A log coupling from the cold start without warm start: the Newton step cannot be accepted
//!   (the density tails are tens of orders of magnitude off); without fallback the run ends as
//!   "not converged", with the continuation or the Picard fallback it converges.

mod common;

use common::models::crossing::*;
use mfg::config::Config;
use mfg::grid::Boundary;
use mfg::problem::coupling::{Coupling, Linear};
use mfg::problem::Problem;
use mfg::solve::newton::{Fallback, NewtonSettings, NewtonSolverKind};
use mfg::solve::{
    solve, AndersonSettings, MethodKind, Relaxation, Solution, SolverSettings, Stopping,
    Termination,
};

fn run(problem: &Problem, method: MethodKind, max_iterations: usize) -> Solution {
    let settings = SolverSettings {
        method,
        stopping: Stopping {
            max_iterations,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    };
    solve(problem, &settings).expect("non-convergence is data, not an error")
}

fn predator_prey() -> Linear {
    Linear::from_rows(&[vec![0.0, -4.0], vec![2.0, -0.5]])
}

#[test]
fn predator_prey_picard_fails_newton_and_anderson_converge() {
    assert_eq!(predator_prey().is_monotone(), Some(false));
    let problem = problem_1d(41, 20, Boundary::Reflecting, Box::new(predator_prey()));

    let picard = run(&problem, MethodKind::Picard(Relaxation::Fixed(1.0)), 150);
    assert_ne!(picard.termination, Termination::Converged);
    assert_eq!(picard.history.len(), 150);
    assert!(
        picard.last().unwrap().residual > 1e-3,
        "{:?}",
        picard.last()
    );

    let newton = run(&problem, MethodKind::Newton(NewtonSettings::default()), 30);
    assert_eq!(
        newton.termination,
        Termination::Converged,
        "{:?}",
        newton.history
    );
    assert!(
        newton.history.len() <= 10,
        "{} Newton iterations",
        newton.history.len()
    );

    let anderson = run(
        &problem,
        MethodKind::Anderson(AndersonSettings::default()),
        200,
    );
    assert_eq!(anderson.termination, Termination::Converged);
}

fn log_example() -> Problem {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/two_groups_1d.toml");
    let cfg = Config::from_path(path).unwrap();
    let spec = cfg.spec.with_resolution(51, None, 25);
    spec.build().unwrap().0
}

fn newton_cold(fallback: Fallback) -> MethodKind {
    MethodKind::Newton(NewtonSettings {
        warm_start: Some(0),
        fallback,
        linear_solver: NewtonSolverKind::Krylov,
        ..NewtonSettings::default()
    })
}

#[test]
fn log_coupling_cold_start_without_fallback_ends_not_converged() {
    let problem = log_example();
    assert!(problem.coupling().singular_at_zero());
    let s = run(&problem, newton_cold(Fallback::None), 4);
    assert_eq!(s.termination, Termination::MaxIterations);
    // Every step failed its line search: recorded with θ = 0, iterate unchanged.
    assert!(s.history.iter().all(|h| h.theta == 0.0 && h.delta_u == 0.0));
}

#[test]
fn log_coupling_cold_start_fallbacks_converge() {
    let problem = log_example();
    for fallback in [Fallback::Continuation, Fallback::Picard] {
        let s = run(&problem, newton_cold(fallback), 40);
        assert_eq!(s.termination, Termination::Converged, "{fallback:?}");
        assert_eq!(
            s.history[0].theta, 0.0,
            "{fallback:?}: the first step stalls"
        );
    }
    // The default: a short Picard warm start for singular couplings, then Newton.
    let s = run(&problem, MethodKind::Newton(NewtonSettings::default()), 40);
    assert_eq!(s.termination, Termination::Converged);
    assert!(s.history.len() <= 10, "{} iterations", s.history.len());
}
