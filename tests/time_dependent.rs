//! Costs and drifts that depend on time (docs/math.md, the scheme): HJB step n, which solves for
//! u^n, takes V^k(t_n, ·) and b^k(t_n, ·), and so does the FP step m^n → m^{n+1} through the
//! generator Q(u^n). Two exact discrete identities check that every solver reads the right level:
//!
//! - a potential V(t, x) = V0(x) + c(t) that is constant in space leaves the equilibrium's
//!   density unchanged and shifts u^n by Δt Σ_{j=n}^{Nt−1} c(t_j), because Ĥ sees only
//!   differences of u and every row of Q sums to zero;
//! - with u ≡ 0 (no cost at all) the density is only carried by a drift b(t) that is constant
//!   in space, and the mean of m^n moves by exactly Δt Σ_{j<n} b(t_j): the upwind generator's
//!   rates give Σ_j q_ij (x_j − x_i) = b at every node away from a wall, and a narrow Gaussian
//!   puts no measurable mass near the walls.
//!
//! Both are exact to round-off, so the tolerances are those of the solvers' stopping tests.

mod common;

use mfg::config::Config;
use mfg::problem::coupling::Log;
use mfg::problem::hamiltonian::Quadratic;
use mfg::solve::{MethodKind, NewtonSettings, Relaxation, Stopping};
use mfg::{Boundary, Grid, Population, Problem, SolverSettings, Termination, TimeGrid};

const T: f64 = 0.5;

fn c(t: f64) -> f64 {
    2.0 * (3.0 * t).sin() + t
}

fn gaussian_problem(nx: usize, nt: usize, shifted: bool) -> Problem {
    let grid = Grid::new_1d(-3.0, 3.0, nx, Boundary::Reflecting).unwrap();
    let base = |x: &[f64]| 0.5 * (x[0] - 0.5).powi(2);
    let pop = Population::builder("a", 0.6, Quadratic::new(1.0))
        .initial(|x| (-(x[0] + 0.6).powi(2) / 0.18).exp())
        .terminal(|x| 0.5 * (x[0] - 1.0).powi(2));
    let pop = if shifted {
        pop.potential_t(move |t, x| base(x) + c(t))
    } else {
        pop.potential(base)
    };
    Problem::builder(grid, TimeGrid::new(T, nt).unwrap())
        .population(pop)
        .coupling(Log::diagonal(&[0.1]))
        .build()
        .unwrap()
}

fn stopping() -> Stopping {
    Stopping {
        max_iterations: 400,
        tol_u: 1e-11,
        tol_m: 1e-12,
        tol_residual: 1e-11,
        ..Stopping::default()
    }
}

fn methods() -> Vec<(&'static str, SolverSettings)> {
    let newton = |linear_solver| SolverSettings {
        method: MethodKind::Newton(NewtonSettings {
            linear_solver,
            ..NewtonSettings::default()
        }),
        stopping: stopping(),
        ..SolverSettings::default()
    };
    vec![
        (
            "picard",
            SolverSettings {
                method: MethodKind::Picard(Relaxation::Fixed(0.7)),
                stopping: stopping(),
                ..SolverSettings::default()
            },
        ),
        (
            "newton direct",
            newton(mfg::solve::newton::NewtonSolverKind::Direct),
        ),
        (
            "newton krylov",
            newton(mfg::solve::newton::NewtonSolverKind::Krylov),
        ),
    ]
}

#[test]
fn a_potential_constant_in_space_shifts_u_by_its_discrete_integral() {
    let (nx, nt) = (60, 20);
    let plain = gaussian_problem(nx, nt, false);
    let shifted = gaussian_problem(nx, nt, true);
    let dt = T / nt as f64;
    // S_n = Δt Σ_{j=n}^{Nt−1} c(t_j), S_Nt = 0.
    let mut shift = vec![0.0; nt + 1];
    for n in (0..nt).rev() {
        shift[n] = shift[n + 1] + dt * c(n as f64 * dt);
    }
    for (name, settings) in methods() {
        let a = mfg::solve(&plain, &settings).unwrap();
        let b = mfg::solve(&shifted, &settings).unwrap();
        assert_eq!(a.termination, Termination::Converged, "{name}");
        assert_eq!(b.termination, Termination::Converged, "{name}");
        let (mut du, mut dm) = (0.0f64, 0.0f64);
        for (n, s) in shift.iter().enumerate() {
            let (ua, ub) = (a.iterate.u[0].level(n), b.iterate.u[0].level(n));
            for (x, y) in ua.iter().zip(ub) {
                du = du.max((y - x - s).abs());
            }
            let (ma, mb) = (a.iterate.m[0].level(n), b.iterate.m[0].level(n));
            for (x, y) in ma.iter().zip(mb) {
                dm = dm.max((y - x).abs());
            }
        }
        eprintln!(
            "{name}: shift {:.4}, |Δu − S| {du:.2e}, |Δm| {dm:.2e}",
            shift[0]
        );
        // The shift is O(1): a solver that took V at t_{n+1} would be off by Δt·|c'| ~ 0.1.
        assert!(shift[0].abs() > 0.5, "{}", shift[0]);
        assert!(du < 1e-8, "{name}: {du:e}");
        assert!(dm < 1e-8, "{name}: {dm:e}");
    }
}

/// A population with no cost at all (u ≡ 0) carried by `b(t)` from a narrow Gaussian at `x0`.
fn drifting(grid: Grid, nt: usize, x0: [f64; 2], b: fn(f64) -> [f64; 2]) -> Problem {
    let d = grid.dim();
    Problem::builder(grid, TimeGrid::new(T, nt).unwrap())
        .population(
            Population::builder("carried", 0.2, Quadratic::new(1.0))
                .initial(move |x| {
                    (0..d)
                        .map(|a| -(x[a] - x0[a]).powi(2) / 0.02)
                        .sum::<f64>()
                        .exp()
                })
                .drift_t(move |t, _x, v| v.copy_from_slice(&b(t)[..v.len()])),
        )
        .build()
        .unwrap()
}

fn means(problem: &Problem, m: &mfg::Field) -> Vec<[f64; 2]> {
    let g = problem.grid();
    let d = g.dim();
    (0..=problem.time().nt)
        .map(|n| {
            let mut mean = [0.0; 2];
            for (i, v) in m.level(n).iter().enumerate() {
                let x = g.point(i);
                for (mean_a, x_a) in mean.iter_mut().zip(&x[..d]) {
                    *mean_a += x_a * v * g.cell_volume();
                }
            }
            mean
        })
        .collect()
}

fn check_carried(problem: &Problem, x0: [f64; 2], b: fn(f64) -> [f64; 2]) {
    let nt = problem.time().nt;
    let dt = problem.time().dt();
    let d = problem.grid().dim();
    for (name, settings) in methods() {
        let sol = mfg::solve(problem, &settings).unwrap();
        assert_eq!(sol.termination, Termination::Converged, "{name}");
        let u_max = sol.iterate.u[0]
            .as_slice()
            .iter()
            .fold(0.0f64, |a, v| a.max(v.abs()));
        assert!(u_max < 1e-12, "{name}: u is {u_max:e}");
        let got = means(problem, &sol.iterate.m[0]);
        let mut want = x0;
        let mut err = 0.0f64;
        for (n, mean) in got.iter().enumerate() {
            for a in 0..d {
                err = err.max((mean[a] - want[a]).abs());
            }
            if n < nt {
                let bn = b(n as f64 * dt);
                for a in 0..d {
                    want[a] += dt * bn[a];
                }
            }
        }
        eprintln!("{name}: mean at T {:?}, largest error {err:.2e}", got[nt]);
        assert!(
            err < 1e-11,
            "{name}: {err:e} after {} iterations",
            sol.history.len()
        );
    }
}

fn turning(t: f64) -> [f64; 2] {
    [if t < 0.5 * T { 1.2 } else { -0.6 }, 0.0]
}

fn rotating(t: f64) -> [f64; 2] {
    let w = std::f64::consts::TAU * t / T;
    [0.8 * w.cos(), 0.8 * w.sin()]
}

#[test]
fn a_drift_that_turns_moves_the_mean_by_its_discrete_integral_in_1d() {
    let grid = Grid::new_1d(-2.0, 2.0, 200, Boundary::Reflecting).unwrap();
    let p = drifting(grid, 40, [-0.3, 0.0], turning);
    check_carried(&p, [-0.3, 0.0], turning);
}

#[test]
fn a_rotating_drift_moves_the_mean_by_its_discrete_integral_in_2d() {
    // Wide enough that the upwind scheme's numerical diffusion (b h/2 + b²Δt/2, as large as ν
    // here) leaves no measurable mass near the walls.
    let axis = |n| mfg::Axis::new(-2.5, 2.5, n, Boundary::Reflecting);
    let grid = Grid::new(vec![axis(50), axis(50)]).unwrap();
    let p = drifting(grid, 12, [0.0, 0.0], rotating);
    check_carried(&p, [0.0, 0.0], rotating);
}

const CONFIG: &str = r#"
[grid]
x = { min = -2.0, max = 2.0, n = 40 }

[time]
horizon = 0.5
steps = 10

[parameters]
switch = 0.25

[[population]]
name = "a"
sigma = 0.3
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = 0.0, std = 0.3 }
potential = "x^2 + if(t < switch, 1, 0)"
drift = ["0.5 - t"]
terminal = "0"
"#;

#[test]
fn t_in_the_configuration_reaches_every_level() {
    let cfg = Config::from_toml_str(CONFIG).unwrap();
    let (problem, _) = cfg.build().unwrap();
    let pop = problem.population(0);
    assert!(pop.is_time_dependent());
    let g = problem.grid();
    let times = problem.time().levels();
    for (n, &t) in times.iter().enumerate() {
        for i in 0..g.len() {
            let x = g.point(i)[0];
            let v = x * x + if t < 0.25 { 1.0 } else { 0.0 };
            assert!(
                (pop.potential_at(n)[i] - v).abs() < 1e-14,
                "V at n={n}, i={i}"
            );
            assert!((pop.drift_at(n).unwrap()[i] - (0.5 - t)).abs() < 1e-14);
        }
    }
    // Level 0 is also what the time-independent accessors give.
    assert_eq!(pop.potential(), pop.potential_at(0));
    assert_eq!(pop.drift(), pop.drift_at(0));
}

#[test]
fn t_where_it_has_no_meaning_is_an_error_naming_the_field() {
    for (from, to, field) in [
        (r#"terminal = "0""#, r#"terminal = "x + t""#, "terminal"),
        (
            r#"initial = { profile = "gaussian", mean = 0.0, std = 0.3 }"#,
            r#"initial = "exp(-x^2) * (1 + t)""#,
            "initial",
        ),
    ] {
        let text = CONFIG.replace(from, to);
        let err = Config::from_toml_str(&text)
            .and_then(|c| c.build())
            .unwrap_err()
            .to_string();
        assert!(err.contains(&format!("population[0].{field}")), "{err}");
        assert!(err.contains("potential and the drift only"), "{err}");
    }
}
