//! The Schelling-type segregation coupling (src/problem/segregation.rs): from nearly mixed
//! initial densities the two groups separate (their overlap ∫ min(m^1, m^2) falls by two orders
//! of magnitude), from exactly mixed ones the mixed state is the equilibrium (the coupling is
//! not monotone: both are equilibria of the same costs); Anderson, damped Picard and Newton
//! reach the same discrete solution; mass and positivity hold; the diagnostic says "not
//! monotone"; the configuration's keys are checked.

mod common;

use mfg::config::Config;
use mfg::grid::{Boundary, Grid, TimeGrid};
use mfg::problem::hamiltonian::Quadratic;
use mfg::problem::monotonicity::Verdict;
use mfg::problem::{Monotonicity, Population, Problem, Segregation};
use mfg::solve::newton::NewtonSettings;
use mfg::solve::{AndersonSettings, MethodKind, Relaxation, Solution};

fn street(ripple: f64) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, 50, Boundary::Periodic).unwrap();
    let wave = move |x: &[f64]| ripple * (4.0 * std::f64::consts::PI * x[0]).cos();
    Problem::builder(grid, TimeGrid::new(1.0, 20).unwrap())
        .population(
            Population::builder("reds", 0.1, Quadratic::new(1.0)).initial(move |x| 1.0 + wave(x)),
        )
        .population(
            Population::builder("blues", 0.1, Quadratic::new(1.0)).initial(move |x| 1.0 - wave(x)),
        )
        .coupling(Segregation {
            threshold: vec![0.45, 0.4],
            strength: vec![3.0, 3.0],
            eta: 1e-3,
            width: 0.05,
        })
        .build()
        .unwrap()
}

fn overlap(p: &Problem, s: &Solution, n: usize) -> f64 {
    let (a, b) = (s.iterate.m[0].level(n), s.iterate.m[1].level(n));
    let h = p.grid().h(0);
    a.iter().zip(b).map(|(x, y)| x.min(*y)).sum::<f64>() * h
}

#[test]
fn groups_separate_and_the_methods_agree() {
    let p = street(0.3);
    let anderson = common::solve_tight(&p, MethodKind::Anderson(AndersonSettings::default()), 1000);
    let (start, end) = (overlap(&p, &anderson, 0), overlap(&p, &anderson, 10));
    assert!(start > 0.8 && end < 0.01 * start, "overlap {start} → {end}");
    let picard = common::solve_tight(&p, MethodKind::Picard(Relaxation::Fixed(0.5)), 1000);
    let newton = common::solve_tight(&p, MethodKind::Newton(NewtonSettings::default()), 1000);
    for (name, s) in [("Picard", &picard), ("Newton", &newton)] {
        let d = common::max_difference(&anderson, s);
        assert!(d <= 1e-8, "Anderson vs {name}: {d:.3e}");
    }
    for (k, m) in anderson.iterate.m.iter().enumerate() {
        for n in 0..=p.time().nt {
            let mass = p.grid().integrate(m.level(n));
            assert!(
                (mass - 1.0).abs() <= 1e-12,
                "population {k}, level {n}: {mass}"
            );
            assert!(m.level(n).iter().all(|v| *v >= 0.0));
        }
    }
    let diagnosis = Monotonicity::at_solution(&p, &anderson.iterate.m);
    assert_eq!(diagnosis.verdict, Verdict::Not, "{diagnosis:?}");
    assert_eq!(diagnosis.for_all_densities, Some(false));
}

/// From evenly mixed densities nothing breaks the symmetry: the mixed state is the equilibrium.
#[test]
fn the_mixed_state_is_an_equilibrium_too() {
    let p = street(0.0);
    let s = common::solve_tight(&p, MethodKind::Anderson(AndersonSettings::default()), 1000);
    for m in &s.iterate.m {
        for n in 0..=p.time().nt {
            let spread = m
                .level(n)
                .iter()
                .fold(0.0f64, |a, v| a.max((v - 1.0).abs()));
            assert!(spread < 1e-10, "level {n}: {spread}");
        }
    }
}

#[test]
fn configuration_keys_are_checked() {
    let base = r#"
[grid]
x = { min = 0.0, max = 1.0, n = 20, boundary = "periodic" }
[time]
horizon = 1.0
steps = 10
[[population]]
name = "a"
sigma = 0.1
initial = 1.0
[[population]]
name = "b"
sigma = 0.1
initial = 1.0
[coupling]
"#;
    let build =
        |line: &str| Config::from_toml_str(&format!("{base}{line}\n")).and_then(|c| c.build());
    build(r#"segregation = { threshold = [0.4, 0.4], strength = [1.0, 1.0] }"#).unwrap();
    for (line, field) in [
        (
            r#"segregation = { threshold = [0.4, 1.2], strength = [1.0, 1.0] }"#,
            "coupling.segregation.threshold[1]",
        ),
        (
            r#"segregation = { threshold = [0.4], strength = [1.0, 1.0] }"#,
            "coupling.segregation.threshold",
        ),
        (
            r#"segregation = { threshold = [0.4, 0.4], strength = [1.0, -1.0] }"#,
            "coupling.segregation.strength[1]",
        ),
        (
            r#"segregation = { threshold = [0.4, 0.4], strength = [1.0, 1.0], width = 0 }"#,
            "coupling.segregation.width",
        ),
        (
            r#"segregation = { threshold = [0.4, 0.4], strength = [1.0, 1.0], radius = 1 }"#,
            "radius",
        ),
    ] {
        let e = build(line).map(|_| ()).unwrap_err().to_string();
        assert!(e.contains(field), "{line}: {e}");
    }
}
