//! The shipped example configurations (`examples/*.toml`) and the benchmark configurations
//! (`data/benchmarks/*.toml`) at a chosen resolution.

use mfg::config::Config;
use std::path::{Path, PathBuf};

/// `examples/NAME`.
pub fn example_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

/// `data/benchmarks/NAME`.
pub fn benchmark_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join("benchmarks")
        .join(name)
}

/// The configuration at `path` with nx (and ny) nodes, `steps` time steps and, when given,
/// `max_iterations`; its text is the re-serialised configuration, so that a result file written
/// with it rebuilds the same coarse problem.
pub fn at_resolution(
    path: &Path,
    nx: usize,
    ny: Option<usize>,
    steps: usize,
    max_iterations: Option<usize>,
) -> Config {
    let mut spec = Config::from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .spec
        .with_resolution(nx, ny, steps);
    if let Some(it) = max_iterations {
        spec.solver.max_iterations = it;
    }
    Config::from_toml_str(&toml::to_string(&spec).unwrap()).unwrap()
}

/// A shipped example at a coarse resolution.
pub fn coarse(
    example: &str,
    nx: usize,
    ny: Option<usize>,
    steps: usize,
    max_iterations: Option<usize>,
) -> Config {
    at_resolution(&example_path(example), nx, ny, steps, max_iterations)
}
