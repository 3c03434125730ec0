//! The benchmark problems of the performance record (examples/performance.rs) and of the
//! criterion benches (benches/methods.rs): two populations, monotone linear couplings, solved
//! from the cold start to the default tolerances (residual, Δu, Δm ≤ 1e-10).
#![allow(dead_code)]

use mfg::config::Config;
use mfg::problem::Problem;
use mfg::solve::{AndersonSettings, MethodKind, NewtonSettings, Relaxation, SolverSettings};

/// 1D: two crowds on [-1, 1] crossing each other, T = 0.5; a quadratic (c = 1, σ = 0.5) and a
/// power-1.5 Hamiltonian (σ = 0.4); f^k = Σ_j A_kj m^j with A = [[1, 0.5], [0.5, 0.8]]
/// (symmetric, positive definite: monotone).
pub const CROWDS_1D: &str = r#"
title = "Two crowds crossing on a line (benchmark)"
[grid]
x = { min = -1.0, max = 1.0, n = 101, boundary = "reflecting" }
[time]
horizon = 0.5
steps = 50
[[population]]
name = "a"
sigma = 0.5
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = "exp(-((x + 0.4)^2) / 0.08) + 0.05"  # exmex: -a^2 is (-a)^2
terminal = "(x - 0.5)^2"
potential = "0.2 * x^2"
[[population]]
name = "b"
sigma = 0.4
hamiltonian = { kind = "power", q = 1.5, cost = 1.3 }
initial = "exp(-((x - 0.3)^2) / 0.05) + 0.02"
terminal = "0.8 * (x + 0.4)^2"
[coupling]
linear = [[1.0, 0.5], [0.5, 0.8]]
"#;

/// 2D: the unit-square crossing of benches/data/sq64.toml on the linear-solver branch (east
/// and west crowds, the west one anisotropic with c_y = 4, σ = 0.25, T = 1), with the monotone
/// coupling A = [[0.1, 0.05], [0.05, 0.1]] (sq64's A = [[0.05, 0.3], [0.3, 0.05]] is not
/// monotone: eigenvalues 0.35 and -0.25).
pub const CROSSING_2D: &str = r#"
title = "Two crowds crossing a square (benchmark)"
[grid]
x = { min = 0.0, max = 1.0, n = 32, boundary = "reflecting" }
y = { min = 0.0, max = 1.0, n = 32, boundary = "reflecting" }
[time]
horizon = 1.0
steps = 32
[[population]]
name = "east"
sigma = 0.25
hamiltonian = { kind = "quadratic", cost = 1.0 }
initial = { profile = "gaussian", mean = [0.2, 0.5], std = [0.1, 0.1] }
terminal = "2*(x - 0.9)^2"
[[population]]
name = "west"
sigma = 0.25
hamiltonian = { kind = "anisotropic", costs = [1.0, 4.0] }
initial = { profile = "gaussian", mean = [0.8, 0.5], std = [0.1, 0.1] }
terminal = "2*(x - 0.1)^2"
[coupling]
linear = [[0.1, 0.05], [0.05, 0.1]]
"#;

/// The 1D benchmark with nx nodes and nt steps.
pub fn crowds_1d(nx: usize, nt: usize) -> Problem {
    let spec = Config::from_toml_str(CROWDS_1D).unwrap().spec;
    spec.with_resolution(nx, None, nt).build().unwrap().0
}

/// The 2D benchmark on n × n nodes and nt steps.
pub fn crossing_2d(n: usize, nt: usize) -> Problem {
    let spec = Config::from_toml_str(CROSSING_2D).unwrap().spec;
    spec.with_resolution(n, Some(n), nt).build().unwrap().0
}

/// The three methods as the record runs them: damped Picard θ = 0.5, Anderson (depth 5,
/// θ = 1), Newton (all defaults).
pub fn method(name: &str) -> SolverSettings {
    let method = match name {
        "picard" => MethodKind::Picard(Relaxation::Fixed(0.5)),
        "anderson" => MethodKind::Anderson(AndersonSettings::default()),
        "newton" => MethodKind::Newton(NewtonSettings::default()),
        // Newton–Krylov with exact (StepSolver) per-step solves in the preconditioner also on
        // large 2D grids, where `auto` picks multigrid.
        "newton-exact" => MethodKind::Newton(NewtonSettings {
            preconditioner: mfg::solve::spacetime::Preconditioner::Exact,
            ..NewtonSettings::default()
        }),
        other => panic!("unknown method {other}"),
    };
    SolverSettings {
        method,
        ..SolverSettings::default()
    }
}
