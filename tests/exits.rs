//! Exits (docs/geometry.md): u equals the exit cost on exit nodes, the density is absorbed
//! there, and inside + exited mass is the initial mass to round-off; the stationary exit
//! problem is reproduced at first order, and a long horizon approaches it; Picard and Newton
//! agree on problems with exits in 1D and 2D.

mod common;

use common::models::crossing::mixed;
use common::models::exits::{corridor_1d, hopf_cole_exit, hopf_cole_exit_exact, room_2d};
use common::order;
use mfg::problem::coupling;
use mfg::problem::Problem;
use mfg::scheme::StepSolverKind;
use mfg::solve::newton::NewtonSolverKind;
use mfg::solve::{MethodKind, Relaxation, Solution, Stopping};
use mfg::SolverSettings;

fn picard() -> SolverSettings {
    let mut s = SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.5)),
        stopping: Stopping {
            max_iterations: 400,
            tol_u: 1e-11,
            tol_m: 1e-11,
            tol_residual: 1e-10,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    };
    s.hjb.linear_solver = StepSolverKind::Direct;
    s
}

fn newton(linear_solver: NewtonSolverKind) -> SolverSettings {
    common::tight_newton(linear_solver)
}

/// Max over the nodes of |u(t = 0) − exact| of the exit problem on n nodes.
fn exit_error(n: usize, horizon: f64, nt: usize, stationary_terminal: bool) -> f64 {
    let (nu, l) = (0.5, 1.0);
    let p = hopf_cole_exit(nu, l, n, horizon, nt, stationary_terminal);
    let s = mfg::solve(&p, &picard()).unwrap();
    let u0 = s.iterate.u[0].level(0);
    (0..p.grid().len())
        .map(|i| (u0[i] - hopf_cole_exit_exact(nu, l, p.grid().point(i)[0])).abs())
        .fold(0.0, f64::max)
}

#[test]
fn stationary_exit_problem_converges_at_first_order() {
    // The data are stationary, so every level approximates the stationary solution; the
    // error is the spatial one, O(h) for the monotone upwind scheme.
    let ns = [21, 41, 81, 161];
    let errors: Vec<f64> = ns.iter().map(|&n| exit_error(n, 4.0, 80, true)).collect();
    eprintln!("exit problem, n = {ns:?}: max errors {errors:?}");
    for w in errors.windows(2) {
        let p = order(w[0], w[1], 2.0);
        assert!(p >= 0.9, "observed order {p:.3} (errors {errors:?})");
    }
    assert!(errors[3] < 5e-3, "{errors:?}");
}

#[test]
fn a_long_horizon_approaches_the_stationary_exit_problem() {
    // From g = 0, u(0, x) is the expected cost of leaving before T (or paying nothing at T);
    // as T grows it tends to the stationary solution, here to the spatial error at n = 81.
    let floor = exit_error(81, 4.0, 80, true);
    let errors: Vec<f64> = [0.5, 1.0, 2.0, 8.0]
        .iter()
        .map(|&t| exit_error(81, t, (40.0 * t) as usize, false))
        .collect();
    eprintln!("T = 0.5, 1, 2, 8: errors {errors:?}; stationary floor {floor:.3e}");
    for w in errors.windows(2) {
        assert!(w[1] < w[0], "the error must shrink as T grows: {errors:?}");
    }
    assert!(
        errors[3] < 1.05 * floor + 1e-4,
        "T = 8 is within the discretisation error {floor:.3e} of the stationary solution: {errors:?}"
    );
}

/// The exit invariants of a solution: u = ψ on exits at every level, m ≥ 0, inside +
/// exited = mass to 1e-12 at every level, exited non-decreasing and positive at the end.
fn check_exit_invariants(p: &Problem, s: &Solution) {
    for k in 0..p.k() {
        let pop = p.population(k);
        let (inside, exited) = s.iterate.inside_and_exited(p, k);
        for n in 0..inside.len() {
            assert!(
                (inside[n] + exited[n] - pop.mass()).abs() <= 1e-12 * pop.mass(),
                "{}: inside {} + exited {} at level {n}",
                pop.name(),
                inside[n],
                exited[n]
            );
            if n > 0 {
                assert!(exited[n] >= exited[n - 1] - 1e-14, "{exited:?}");
            }
            let u = s.iterate.u[k].level(n);
            for i in (0..p.grid().len()).filter(|&i| pop.is_exit(i)) {
                assert!((u[i] - pop.exit_cost()[i]).abs() < 1e-13, "u = ψ at exits");
            }
        }
        assert_eq!(exited[0], 0.0);
        assert!(
            exited[inside.len() - 1] > 1e-3 * pop.mass(),
            "{}: some mass leaves",
            pop.name()
        );
        assert!(s.min_density(k) >= -1e-13, "m ≥ 0: {}", s.min_density(k));
        let shown = s.iterate.density(p, k);
        let last = shown.level(shown.levels() - 1);
        assert!(
            (p.grid().integrate(last) - inside[inside.len() - 1]).abs() < 1e-13,
            "the density shown is the one inside"
        );
    }
}

fn agree(a: &Solution, b: &Solution, tol: f64) {
    for k in 0..a.iterate.u.len() {
        let du = a.iterate.u[k].max_abs_diff(&b.iterate.u[k]);
        let dm = a.iterate.m[k].max_abs_diff(&b.iterate.m[k]);
        assert!(
            du < tol && dm < tol,
            "population {k}: du {du:.2e}, dm {dm:.2e}"
        );
    }
}

#[test]
fn corridor_with_exits_1d_picard_and_newton_agree() {
    let p = corridor_1d(40, 20, mixed());
    let sp = mfg::solve(&p, &picard()).unwrap();
    assert_eq!(sp.termination, mfg::solve::Termination::Converged);
    check_exit_invariants(&p, &sp);
    for solver in [NewtonSolverKind::Direct, NewtonSolverKind::Krylov] {
        let sn = mfg::solve(&p, &newton(solver)).unwrap();
        assert_eq!(
            sn.termination,
            mfg::solve::Termination::Converged,
            "{solver:?}"
        );
        check_exit_invariants(&p, &sn);
        agree(&sp, &sn, 1e-8);
    }
    // "a" cannot reach the interior door: it leaves only at x = 1.
    let a = p.population(0);
    assert_eq!(a.exits().iter().filter(|e| **e).count(), 1);
    assert!(p.population(1).exits().iter().filter(|e| **e).count() >= 2);
}

#[test]
fn room_with_two_doors_and_a_pillar_2d() {
    let p = room_2d(20, 10, 10, Box::new(coupling::Log::diagonal(&[0.1, 0.1])));
    let sp = mfg::solve(&p, &picard()).unwrap();
    assert_eq!(sp.termination, mfg::solve::Termination::Converged);
    check_exit_invariants(&p, &sp);
    let sn = mfg::solve(&p, &newton(NewtonSolverKind::Krylov)).unwrap();
    assert_eq!(sn.termination, mfg::solve::Termination::Converged);
    check_exit_invariants(&p, &sn);
    agree(&sp, &sn, 1e-7);
    // No mass ever enters the pillar.
    for k in 0..2 {
        for n in 0..=10 {
            let m = sn.iterate.m[k].level(n);
            for i in (0..p.grid().len()).filter(|&i| p.obstacles()[i]) {
                assert_eq!(m[i], 0.0);
            }
        }
    }
}
