//! Congestion Hamiltonians H^k = |p|^q/(q c_k (ε + Σ_j w_kj m^j)^α) (docs/math.md §1): Newton,
//! whose Jacobian carries the density-transport block (its agreement with finite differences
//! is in tests/newton_jacobian.rs), converges quadratically with the direct and the Krylov
//! linear solvers in 1D and 2D, in a number of iterations that does not grow with the grid;
//! Picard, Anderson and Newton reach the same discrete solution; the FP invariants hold; the
//! crowd slows down where it is dense; and bad congestion parameters are refused by name.

mod common;

use common::models::congestion::{congested_1d, congested_2d, mild};
use mfg::problem::hamiltonian::Quadratic;
use mfg::problem::{Congestion, Hamiltonian};
use mfg::solve::newton::{NewtonSettings, NewtonSolverKind};
use mfg::solve::spacetime::Preconditioner;
use mfg::solve::{AndersonSettings, MethodKind, Relaxation, Solution};

fn newton(linear_solver: NewtonSolverKind, preconditioner: Preconditioner) -> MethodKind {
    MethodKind::Newton(NewtonSettings {
        linear_solver,
        preconditioner,
        // Accurate inner solves, so that the outer rate is Newton's own.
        forcing_min: 1e-12,
        ..NewtonSettings::default()
    })
}

/// The last two Newton steps that start above the target (1e-12) and end above round-off (1e-14;
/// the floor here is ~1e-15) satisfy
/// r_{k+1} ≤ 100 r_k², and the order estimated from their three residuals exceeds 1.5
/// (linear convergence gives ≈ 1). Earlier steps can be slower: the Godunov upwinding is only
/// C¹, and with strong congestion a step whose slopes cross a kink converges linearly once
/// (e.g. 5.4e-4 → 4.4e-5 at α = 1.2 in 1D). Without the density transport in the Jacobian
/// every step is linear (ratio ≈ 0.25) and this fails.
fn assert_quadratic(s: &Solution, what: &str) {
    let r: Vec<f64> = s.history.iter().map(|h| h.residual).collect();
    let shown: Vec<String> = r.iter().map(|v| format!("{v:.3e}")).collect();
    // Steps that start below the target 1e-12 only measure the correction (loose inner solves):
    // the sequence ends at the first residual below it.
    let end = r
        .iter()
        .position(|v| *v <= 1e-12)
        .map_or(r.len(), |i| i + 1);
    let above: Vec<f64> = r[..end].iter().copied().filter(|v| *v >= 1e-14).collect();
    assert!(
        above.len() >= 3,
        "{what}: too few steps above round-off: {shown:?}"
    );
    let [a, b, c] = [
        above[above.len() - 3],
        above[above.len() - 2],
        above[above.len() - 1],
    ];
    for (x, y) in [(a, b), (b, c)] {
        assert!(
            y <= 100.0 * x * x,
            "{what}: {y:.3e} > 100·{x:.3e}² in {shown:?}"
        );
    }
    let order = (c / b).ln() / (b / a).ln();
    assert!(
        order > 1.5,
        "{what}: observed order {order:.2} in {shown:?}"
    );
}

#[test]
fn newton_converges_quadratically_1d_direct_and_krylov() {
    let p = congested_1d(61, 30, 1.2, mild());
    let direct = common::solve_tight(
        &p,
        newton(NewtonSolverKind::Direct, Preconditioner::Auto),
        20,
    );
    assert_quadratic(&direct, "1D direct");
    let krylov = common::solve_tight(
        &p,
        newton(NewtonSolverKind::Krylov, Preconditioner::Auto),
        20,
    );
    assert_quadratic(&krylov, "1D Krylov");
    let d = common::max_difference(&direct, &krylov);
    assert!(d <= 1e-10, "direct vs Krylov: {d:.3e}");
}

#[test]
fn newton_converges_quadratically_2d_exact_and_multigrid() {
    let p = congested_2d(16, 16, 8, 1.0, mild());
    let exact = common::solve_tight(
        &p,
        newton(NewtonSolverKind::Krylov, Preconditioner::Exact),
        20,
    );
    assert_quadratic(&exact, "2D exact step solves");
    let mg = common::solve_tight(
        &p,
        newton(NewtonSolverKind::Krylov, Preconditioner::Multigrid),
        20,
    );
    assert_quadratic(&mg, "2D multigrid step solves");
    let d = common::max_difference(&exact, &mg);
    assert!(d <= 1e-10, "exact vs multigrid: {d:.3e}");
}

#[test]
fn picard_anderson_and_newton_agree() {
    let p = congested_1d(41, 20, 1.2, mild());
    let picard = common::solve_tight(&p, MethodKind::Picard(Relaxation::Fixed(0.5)), 600);
    let anderson = common::solve_tight(&p, MethodKind::Anderson(AndersonSettings::default()), 600);
    let newton = common::solve_tight(&p, newton(NewtonSolverKind::Auto, Preconditioner::Auto), 20);
    for (name, s) in [("Anderson", &anderson), ("Newton", &newton)] {
        let d = common::max_difference(&picard, s);
        assert!(d <= 1e-8, "Picard vs {name}: {d:.3e}");
    }
    assert!(
        newton.history.len() <= 10 && newton.history.len() < picard.history.len(),
        "Newton {} vs Picard {} iterations",
        newton.history.len(),
        picard.history.len()
    );
}

/// Mesh independence: Newton's iteration count on three grids (each twice as fine in x and t)
/// varies by at most one.
#[test]
fn newton_iterations_do_not_grow_with_the_grid() {
    let counts: Vec<usize> = [(31, 15), (61, 30), (121, 60)]
        .iter()
        .map(|&(nx, nt)| {
            let p = congested_1d(nx, nt, 1.2, mild());
            common::solve_tight(
                &p,
                newton(NewtonSolverKind::Krylov, Preconditioner::Auto),
                20,
            )
            .history
            .len()
        })
        .collect();
    eprintln!("Newton iterations on 31x15, 61x30, 121x60: {counts:?}");
    let (lo, hi) = (counts.iter().min().unwrap(), counts.iter().max().unwrap());
    assert!(*hi <= 10 && hi - lo <= 1, "{counts:?}");
}

/// The FP invariants with m-dependent rates: every level keeps the mass to round-off and
/// stays non-negative.
#[test]
fn mass_and_positivity_hold() {
    let p = congested_2d(12, 10, 6, 2.0, mild());
    let s = common::solve_tight(
        &p,
        newton(NewtonSolverKind::Krylov, Preconditioner::Auto),
        20,
    );
    for (k, m) in s.iterate.m.iter().enumerate() {
        for n in 0..=p.time().nt {
            let level = m.level(n);
            let mass = p.grid().integrate(level);
            assert!(
                (mass - 1.0).abs() <= 1e-12,
                "population {k}, level {n}: mass {mass}"
            );
            assert!(level.iter().all(|v| *v >= 0.0), "population {k}, level {n}");
        }
    }
}

/// The optimal speed |α| = |∂_pH| = |p|/(c ρ^α): at the same slope, the agent in the denser
/// crowd moves more slowly, and the Lagrangian charges it more for the same velocity.
#[test]
fn the_crowd_slows_agents_down() {
    let h = Congestion::new(Quadratic::new(1.0), vec![1.0], 0.2, 1.5);
    h.validate(1, "h").unwrap();
    let (mut dm, mut dp) = ([0.0], [0.0]);
    let speed = |m: f64, dm: &mut [f64; 1], dp: &mut [f64; 1]| {
        h.gradient(&[0.0], &[m], &[0.8], &[0.8], dm, dp);
        dm[0].abs() + dp[0].abs()
    };
    let (sparse, dense) = (speed(0.1, &mut dm, &mut dp), speed(2.0, &mut dm, &mut dp));
    // ρ^α = (0.2 + m)^1.5: the ratio of speeds is ((2.2)/(0.3))^1.5.
    assert!(
        (sparse / dense - (2.2f64 / 0.3).powf(1.5)).abs() <= 1e-12 * sparse / dense,
        "{sparse} vs {dense}"
    );
    let (l_sparse, l_dense) = (
        h.lagrangian(&[0.0], &[0.1], &[0.5]),
        h.lagrangian(&[0.0], &[2.0], &[0.5]),
    );
    assert!(l_dense > l_sparse, "{l_sparse} vs {l_dense}");
}

#[test]
fn bad_congestion_parameters_name_the_field() {
    let cases: Vec<(Congestion, &str)> = vec![
        // Beyond 4(q−1)/q = 2 for a quadratic base: not monotone.
        (
            Congestion::new(Quadratic::new(1.0), vec![1.0], 0.5, 2.5),
            "h.alpha",
        ),
        (
            Congestion::new(Quadratic::new(1.0), vec![1.0], 0.5, -0.1),
            "h.alpha",
        ),
        (
            Congestion::new(
                mfg::problem::hamiltonian::Power::new(1.5, 1.0),
                vec![1.0],
                0.5,
                1.5,
            ),
            "h.alpha",
        ),
        (
            Congestion::new(Quadratic::new(1.0), vec![1.0], 0.0, 1.0),
            "h.epsilon",
        ),
        (
            Congestion::new(Quadratic::new(1.0), vec![-1.0], 0.5, 1.0),
            "h.weights[0]",
        ),
        (
            Congestion::new(Quadratic::new(-1.0), vec![1.0], 0.5, 1.0),
            "h.base.cost",
        ),
    ];
    for (h, field) in cases {
        let e = h.validate(1, "h").unwrap_err().to_string();
        assert!(e.contains(field), "{}: {e}", h.describe());
    }
    let e = Congestion::new(Quadratic::new(1.0), vec![1.0], 0.5, 1.0)
        .check_populations(2, "h")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("h.weights") && e.contains("2 populations"),
        "{e}"
    );
}
