//! Cost of masks per Picard iteration: the 2D benchmark (`data/benchmarks/crossing_2d.toml`)
//! on n × n nodes, as shipped and with a pillar (a disc of radius 0.1 removed for both crowds)
//! and the "west" crowd restricted to the upper 90 % of the square. Both runs do the same
//! number of Picard iterations (θ = 0.5) on the same grid; the median time per iteration of
//! several repetitions is printed, and their ratio.
//!
//! ```text
//! cargo run --release --example mask_overhead            # n = 128, Nt = 64
//! cargo run --release --example mask_overhead -- 64 32   # n, Nt
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use common::examples::benchmark_path;
use common::models::geometry::fixed_picard;
use mfg::config::{Config, FieldSpec, RegionSpec};
use mfg::problem::Shape;
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().unwrap())
        .collect();
    let (n, nt) = (
        args.first().copied().unwrap_or(128),
        args.get(1).copied().unwrap_or(64),
    );
    let (iterations, repeats) = (5, 5);
    let spec = Config::from_path(benchmark_path("crossing_2d.toml"))
        .unwrap()
        .spec
        .with_resolution(n, Some(n), nt);
    let mut masked = spec.clone();
    masked
        .obstacles
        .push(RegionSpec::Shape(Shape::disc(&[0.5, 0.5], 0.1)));
    masked.populations[1].region = Some(RegionSpec::Expression("y > 0.1".into()));
    let outside = "((x-0.5)^2 + (y-0.5)^2 > 0.01)";
    masked.populations[0].initial =
        FieldSpec::Expression(format!("{outside}*exp(-((x-0.2)^2 + (y-0.5)^2)/0.02)"));
    masked.populations[1].initial = FieldSpec::Expression(format!(
        "{outside}*(y > 0.1)*exp(-((x-0.8)^2 + (y-0.5)^2)/0.02)"
    ));
    let mut per_iteration = Vec::new();
    for (name, spec) in [("unmasked", &spec), ("masked", &masked)] {
        let (problem, _) = spec.build().unwrap();
        let removed: usize = problem
            .populations()
            .iter()
            .map(|p| p.live().iter().filter(|l| !**l).count())
            .sum();
        let times: Vec<f64> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                let s = mfg::solve(&problem, &fixed_picard(iterations)).unwrap();
                assert_eq!(s.history.len(), iterations);
                t.elapsed().as_secs_f64() / iterations as f64
            })
            .collect();
        let m = median(times);
        println!(
            "{name:>9}: {n}²×{nt}, {removed} removed nodes (both populations), \
             {m:.4} s per Picard iteration (median of {repeats})"
        );
        per_iteration.push(m);
    }
    println!(
        "masked / unmasked = {:.3}",
        per_iteration[1] / per_iteration[0]
    );
}
