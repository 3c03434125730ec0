//! The benchmark problems of the performance record (`examples/performance.rs`) and of the
//! criterion benches: two populations, monotone linear couplings, solved from the cold start to
//! the default tolerances (residual, Δu, Δm ≤ 1e-10). Their configurations are
//! `data/benchmarks/crowds_1d.toml` and `data/benchmarks/crossing_2d.toml`.

use crate::common::examples::benchmark_path;
use mfg::config::Config;
use mfg::problem::Problem;
use mfg::solve::{AndersonSettings, MethodKind, NewtonSettings, Relaxation, SolverSettings};

fn load(name: &str, nx: usize, ny: Option<usize>, nt: usize) -> Problem {
    let path = benchmark_path(name);
    let spec = Config::from_path(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .spec;
    spec.with_resolution(nx, ny, nt).build().unwrap().0
}

/// The 1D benchmark with nx nodes and nt steps.
pub fn crowds_1d(nx: usize, nt: usize) -> Problem {
    load("crowds_1d.toml", nx, None, nt)
}

/// The 2D benchmark on n × n nodes and nt steps.
pub fn crossing_2d(n: usize, nt: usize) -> Problem {
    load("crossing_2d.toml", n, Some(n), nt)
}

/// The methods as the record runs them: damped Picard θ = 0.5 and with adaptive damping,
/// Anderson (depth 5, θ = 1), Newton (all defaults), the default `auto`, and Newton–Krylov with
/// exact per-step solves in the preconditioner.
pub fn method(name: &str) -> SolverSettings {
    let method = match name {
        "picard" => MethodKind::Picard(Relaxation::Fixed(0.5)),
        "picard-adaptive" => MethodKind::Picard(Relaxation::Adaptive),
        "auto" => MethodKind::Auto(mfg::solve::AutoSettings::default()),
        "anderson" => MethodKind::Anderson(AndersonSettings::default()),
        "newton" => MethodKind::Newton(NewtonSettings::default()),
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
