//! The default method (`method = "auto"`, no `[solver]` key in the configuration at all)
//! converges on problems where the old default, Picard with a fixed θ = 0.5, does not: a
//! periodic 1D and 2D problem with a monotone linear coupling on which θ = 0.5 falls into a
//! period-2 cycle (shown here), a 1D power coupling with β = 2, every shipped example (on a
//! coarse grid) and docs/math.md §6 case B. Also: adaptive Picard alone converges where fixed
//! θ cycles, and a snapshot of iteration counts per method on fixed problems.

mod common;

use common::models::case_b::{self, exact_terminal};
use mfg::config::{Config, MethodName, SolverSpec};
use mfg::solve::{Control, Iterate, MethodKind, Observer, Relaxation, StepStats};
use mfg::{Problem, SolverSettings, Termination};

/// A periodic problem on [0, 1] (and [0, 1]² when `two_d`) with f = a m (monotone for a ≥ 0;
/// a = 0.5 in 1D and 0.3 in 2D are ones on which fixed θ = 0.5 cycles with period 2: with
/// a = 1, 2, 3, 5 in 1D it oscillates without a period, Δm ≈ 0.5–0.9, and does not converge
/// either), a crowd-averse
/// potential and terminal cost, and no `[solver]` table unless `solver` adds one.
fn torus(a: f64, n: usize, nt: usize, two_d: bool, solver: &str) -> Config {
    let tau = std::f64::consts::TAU;
    let y_axis = if two_d {
        format!("y = {{ min = 0.0, max = 1.0, n = {n}, boundary = \"periodic\" }}")
    } else {
        String::new()
    };
    Config::from_toml_str(&format!(
        r#"
[grid]
x = {{ min = 0.0, max = 1.0, n = {n}, boundary = "periodic" }}
{y_axis}
[time]
horizon = 1.0
steps = {nt}
[[population]]
name = "a"
sigma = 0.2
hamiltonian = {{ kind = "quadratic", cost = 1.0 }}
initial = "1 + 0.5*cos({tau}*x)"
terminal = "0.5*cos({tau}*x)"
potential = "cos({}*x)"
[coupling]
linear = [[{a}]]
{solver}
"#,
        2.0 * tau
    ))
    .unwrap()
}

/// Keeps the densities of the last three iterates.
#[derive(Default)]
struct LastThree(Vec<Vec<f64>>);

impl Observer for LastThree {
    fn step(&mut self, iterate: &Iterate, _: &[StepStats]) -> Control {
        self.0.push(iterate.m[0].as_slice().to_vec());
        if self.0.len() > 3 {
            self.0.remove(0);
        }
        Control::Continue
    }
}

fn l1(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum()
}

/// Fixed θ = 0.5 on `problem`: not converged after 150 iterations, Δm stuck (the last 20
/// changes within 10% of each other and above 0.1) and m back where it was two steps ago.
fn assert_fixed_half_cycles(problem: &Problem) {
    let settings = SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.5)),
        stopping: mfg::solve::Stopping {
            max_iterations: 150,
            ..Default::default()
        },
        ..SolverSettings::default()
    };
    let mut last = LastThree::default();
    let sol = mfg::solve::solve_with(problem, &settings, None, &mut last).unwrap();
    assert_eq!(sol.termination, Termination::MaxIterations);
    let tail: Vec<f64> = sol.history[130..].iter().map(|s| s.delta_m).collect();
    let (lo, hi) = tail
        .iter()
        .fold((f64::INFINITY, 0.0f64), |(l, h), &v| (l.min(v), h.max(v)));
    let [a, b, c] = [&last.0[0], &last.0[1], &last.0[2]];
    let (two, one) = (l1(c, a), l1(c, b));
    assert!(lo > 0.1 && hi < 1.1 * lo, "Δm not stuck: {tail:?}");
    assert!(
        two < 1e-3 * one,
        "no period 2: |m3 - m1| {two:e}, |m3 - m2| {one:e}"
    );
}

fn converged(config: &Config, what: &str) -> mfg::Solution {
    let (problem, settings) = config.build().unwrap();
    let sol = mfg::solve(&problem, &settings).unwrap();
    assert_eq!(
        sol.termination,
        Termination::Converged,
        "{what}: {:?} after {} iterations ({}), {:?}",
        sol.termination,
        sol.history.len(),
        sol.method,
        sol.events
    );
    sol
}

#[test]
fn fixed_half_cycles_on_the_1d_torus_and_the_default_converges() {
    let config = torus(0.5, 50, 25, false, "");
    assert_eq!(config.spec.solver, SolverSpec::default());
    let (problem, settings) = config.build().unwrap();
    assert!(matches!(settings.method, MethodKind::Auto(_)));
    assert_fixed_half_cycles(&problem);
    let sol = converged(&config, "default");
    assert_eq!(sol.method, "newton");
    // Picard alone, with its default (adaptive) relaxation, converges too.
    let sol = converged(
        &torus(0.5, 50, 25, false, "[solver]\nmethod = \"picard\""),
        "adaptive picard",
    );
    let thetas: Vec<f64> = sol.history.iter().map(|s| s.theta).collect();
    assert!(thetas.iter().any(|&t| t < 0.5), "{thetas:?}");
}

#[test]
fn fixed_half_cycles_on_the_2d_torus_and_the_default_converges() {
    let config = torus(0.3, 12, 10, true, "");
    let (problem, _) = config.build().unwrap();
    assert_fixed_half_cycles(&problem);
    converged(&config, "default 2D");
    converged(
        &torus(0.3, 12, 10, true, "[solver]\nmethod = \"picard\""),
        "adaptive picard 2D",
    );
}

/// The issue's case: a 1D power coupling with β = 2 (fixed θ = 0.5 ended at residual 2.0).
#[test]
fn power_coupling_beta_two_converges_by_default() {
    let config = Config::from_toml_str(
        r#"
[grid]
x = { min = -2.0, max = 2.0, n = 81, boundary = "reflecting" }
[time]
horizon = 1.0
steps = 40
[[population]]
name = "a"
sigma = 0.3
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = -0.5, std = 0.2 }
terminal = "(x - 0.5)^2"
[coupling]
power = { kappa = [2.0], beta = 2.0 }
"#,
    )
    .unwrap();
    let (problem, settings) = config.build().unwrap();
    let half = SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.5)),
        ..settings.clone()
    };
    let sol = mfg::solve(&problem, &half).unwrap();
    assert_eq!(sol.termination, Termination::MaxIterations, "fixed θ = 0.5");
    let sol = converged(&config, "power β = 2");
    println!("default: {} in {}", sol.method, sol.history.len());
}

/// Every shipped example with its `[solver]` table removed, on the coarse grid of
/// tests/examples.rs (24 × 10 in 2D, 50 nodes in 1D, 16 steps: the full grids are too slow for
/// a debug build).
#[test]
fn every_shipped_example_converges_with_the_default() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut seen = 0;
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    entries.sort();
    for path in entries {
        let cfg = Config::from_path(&path).unwrap();
        let two_d = cfg.build().unwrap().0.grid().dim() == 2;
        let mut spec =
            cfg.spec
                .clone()
                .with_resolution(if two_d { 24 } else { 50 }, two_d.then_some(10), 16);
        spec.solver = SolverSpec::default();
        assert_eq!(spec.solver.method, MethodName::Auto);
        let (problem, settings) = spec.build().unwrap();
        if problem.horizon() == mfg::problem::Horizon::Stationary {
            // The default of a stationary problem is the relaxation.
            let s = spec.stationary_settings().unwrap();
            let sol = mfg::solve::stationary::solve_stationary(&problem, &s).unwrap();
            assert_eq!(
                sol.termination,
                Termination::Converged,
                "{}",
                path.display()
            );
            seen += 1;
            continue;
        }
        let sol = mfg::solve(&problem, &settings).unwrap();
        println!(
            "{}: {} {} iterations {:?}",
            path.display(),
            sol.method,
            sol.history.len(),
            sol.events
        );
        assert_eq!(
            sol.termination,
            Termination::Converged,
            "{}: {:?}",
            path.display(),
            sol.events
        );
        seen += 1;
    }
    assert!(seen >= 3, "{seen}");
}

/// Case B with the default settings: converged, to the discrete solution that the tightly
/// converged Picard solve of tests/exact_case_b.rs finds on this grid (terminal densities equal
/// to 1e-8 in L1), hence with the same error against the exact Gaussian.
#[test]
fn case_b_converges_by_default() {
    let (s_t, mu_t) = exact_terminal();
    let (nx, nt) = (100, 25);
    let problem = case_b::problem(nx, nt);
    let sol = mfg::solve(&problem, &SolverSettings::default()).unwrap();
    assert_eq!(sol.termination, Termination::Converged, "{:?}", sol.events);
    let tight = SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.7)),
        stopping: mfg::solve::Stopping {
            max_iterations: 400,
            tol_u: 1e-9,
            tol_m: 1e-11,
            tol_residual: 1e-10,
            ..Default::default()
        },
        ..SolverSettings::default()
    };
    let reference = mfg::solve(&problem, &tight).unwrap();
    assert_eq!(reference.termination, Termination::Converged);
    let grid = problem.grid();
    let h = grid.h(0);
    for k in 0..2 {
        let m = sol.iterate.m[k].level(nt);
        let diff = l1(m, reference.iterate.m[k].level(nt)) * h;
        assert!(
            diff < 1e-8,
            "population {k}: |m(T) - m_ref(T)|_1 = {diff:e}"
        );
        let xs: Vec<f64> = (0..nx).map(|i| grid.point(i)[0]).collect();
        let mean: f64 = xs.iter().zip(m).map(|(x, v)| x * v).sum::<f64>() * h;
        let var: f64 = xs
            .iter()
            .zip(m)
            .map(|(x, v)| (x - mean).powi(2) * v)
            .sum::<f64>()
            * h;
        println!(
            "population {k}: {} in {} iterations (picard θ = 0.7: {}); mean error {:.3e}, \
             variance error {:.3e}",
            sol.method,
            sol.history.len(),
            reference.history.len(),
            (mean - mu_t[k]).abs(),
            (var - s_t[k]).abs()
        );
    }
}

/// Iteration counts per method on fixed problems. A SNAPSHOT: the exact counts are written here
/// so that a change in any method's convergence shows up as a diff to review (update the table
/// with the printed one when the change is intended), not as a silent slowdown.
#[test]
fn iteration_counts_snapshot() {
    let methods: [(&str, MethodKind); 5] = [
        ("picard-0.5", MethodKind::Picard(Relaxation::Fixed(0.5))),
        ("picard-adaptive", MethodKind::Picard(Relaxation::Adaptive)),
        (
            "anderson",
            MethodKind::Anderson(mfg::solve::AndersonSettings::default()),
        ),
        (
            "newton",
            MethodKind::Newton(mfg::solve::NewtonSettings::default()),
        ),
        ("auto", SolverSettings::default().method),
    ];
    let problems: Vec<(&str, Problem)> = vec![
        ("torus-1d", torus(0.5, 50, 25, false, "").build().unwrap().0),
        ("case-b", case_b::problem(100, 25)),
        (
            "two-groups",
            common::examples::coarse("two_groups_1d.toml", 50, None, 16, None)
                .build()
                .unwrap()
                .0,
        ),
    ];
    let mut table = Vec::new();
    for (pname, problem) in &problems {
        for (mname, method) in &methods {
            let settings = SolverSettings {
                method: *method,
                stopping: mfg::solve::Stopping {
                    max_iterations: 300,
                    ..Default::default()
                },
                ..SolverSettings::default()
            };
            let sol = mfg::solve(problem, &settings).unwrap();
            let ok = if sol.termination == Termination::Converged {
                sol.history.len().to_string()
            } else {
                format!("{} ({})", sol.history.len(), sol.termination.as_str())
            };
            table.push(format!("{pname} {mname} {ok}"));
        }
    }
    println!("{}", table.join("\n"));
    let want = SNAPSHOT.trim().lines().map(str::trim).collect::<Vec<_>>();
    assert_eq!(
        table,
        want,
        "iteration counts changed:\n{}",
        table.join("\n")
    );
}

const SNAPSHOT: &str = "
torus-1d picard-0.5 300 (max-iterations)
torus-1d picard-adaptive 50
torus-1d anderson 40
torus-1d newton 9
torus-1d auto 9
case-b picard-0.5 37
case-b picard-adaptive 11
case-b anderson 9
case-b newton 6
case-b auto 6
two-groups picard-0.5 53
two-groups picard-adaptive 19
two-groups anderson 12
two-groups newton 7
two-groups auto 7
";
