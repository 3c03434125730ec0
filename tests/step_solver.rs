//! The linear solver choice end to end: a small 2D two-population problem solved by Picard with
//! the direct (faer LU) and the iterative (MILU-BiCGSTAB) step solvers must give the same
//! iterates, the same Newton iteration counts, conserved mass and non-negative densities.

use mfg::config::Config;
use mfg::scheme::StepSolverKind;

const CORRIDOR: &str = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 24, boundary = "reflecting" }
y = { min = 0.0, max = 1.0, n = 20, boundary = "periodic" }
[time]
horizon = 1.0
steps = 12
[[population]]
name = "east"
sigma = 0.25
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = [0.2, 0.5], std = [0.06, 0.06] }
terminal = "2*(x - 0.9)^2"
[[population]]
name = "west"
sigma = 0.25
hamiltonian = { kind = "anisotropic", costs = [1.0, 4.0] }
initial = { profile = "gaussian", mean = [0.8, 0.5], std = [0.06, 0.06] }
terminal = "2*(x - 0.1)^2"
[coupling]
linear = [[0.05, 0.3], [0.3, 0.05]]
[solver]
method = "picard"
max_iterations = 6
[solver.picard]
relaxation = 0.5
"#;

#[test]
fn direct_and_iterative_paths_agree_end_to_end() {
    let mut runs = Vec::new();
    for choice in [StepSolverKind::Direct, StepSolverKind::Iterative] {
        let text = format!(
            "{CORRIDOR}[solver.linear]\nstep_solver = \"{}\"\n",
            choice.as_str()
        );
        let (problem, settings) = Config::from_toml_str(&text).unwrap().build().unwrap();
        assert_eq!(settings.hjb.linear_solver, choice);
        let sol = mfg::solve(&problem, &settings).unwrap();
        for k in 0..problem.k() {
            let mass = sol.mass(&problem, k);
            for w in mass.windows(2) {
                assert!(
                    (w[1] - w[0]).abs() <= 1e-12 * w[0],
                    "{choice:?}: mass {w:?}"
                );
            }
            let m = &sol.iterate.m[k];
            assert!(m.as_slice().iter().all(|v| *v >= 0.0), "{choice:?}: m < 0");
        }
        runs.push(sol);
    }
    let (d, i) = (&runs[0], &runs[1]);
    let newton = |s: &mfg::Solution| -> Vec<usize> {
        s.history.iter().map(|h| h.inner_iterations).collect()
    };
    assert_eq!(newton(d), newton(i), "Newton iteration counts differ");
    for k in 0..2 {
        let du = d.iterate.u[k].max_abs_diff(&i.iterate.u[k]);
        let dm = d.iterate.m[k].max_abs_diff(&i.iterate.m[k]);
        assert!(
            du < 1e-9 && dm < 1e-9,
            "population {k}: du {du:e}, dm {dm:e}"
        );
    }
}
