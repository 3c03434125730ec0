//! Cost of masks and exits per Picard iteration: the 2D benchmark
//! (`data/benchmarks/crossing_2d.toml`) on n × n nodes, as shipped; with a pillar (a disc of
//! radius 0.1 removed for both crowds) and the "west" crowd restricted to the upper 90 % of the
//! square; and with two doors (y ∈ [0.4, 0.6] on the sides x = 0 and x = 1) through which both
//! crowds leave. All runs do the same number of Picard iterations (θ = 0.5) on the same grid;
//! the median time per iteration of several repetitions is printed, and the ratios.
//!
//! ```text
//! cargo run --release --example mask_overhead            # n = 128, Nt = 64
//! cargo run --release --example mask_overhead -- 64 32   # n, Nt
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use common::examples::benchmark_path;
use common::models::geometry::fixed_picard;
use mfg::config::{Config, ExitSpec, FieldSpec, RegionSpec};
use mfg::problem::{Shape, Side};
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
    masked.populations[0].initial = Some(FieldSpec::Expression(format!(
        "{outside}*exp(-((x-0.2)^2 + (y-0.5)^2)/0.02)"
    )));
    masked.populations[1].initial = Some(FieldSpec::Expression(format!(
        "{outside}*(y > 0.1)*exp(-((x-0.8)^2 + (y-0.5)^2)/0.02)"
    )));
    let mut exits = spec.clone();
    for side in [Side::XMin, Side::XMax] {
        exits.exits.push(ExitSpec {
            side: Some(side),
            span: Some([0.4, 0.6]),
            region: None,
        });
    }
    let mut per_iteration = Vec::new();
    for (name, spec) in [("plain", &spec), ("masked", &masked), ("exits", &exits)] {
        let (problem, _) = spec.build().unwrap();
        let removed: usize = problem
            .populations()
            .iter()
            .map(|p| p.live().iter().filter(|l| !**l).count())
            .sum();
        let doors = problem.exits().iter().filter(|e| **e).count();
        let mut inner = 0;
        let times: Vec<f64> = (0..repeats)
            .map(|_| {
                let t = Instant::now();
                let s = mfg::solve(&problem, &fixed_picard(iterations)).unwrap();
                assert_eq!(s.history.len(), iterations);
                // The geometry changes the problem, hence the HJB Newton iterations per step.
                inner = s.history.iter().map(|h| h.inner_iterations).sum::<usize>();
                t.elapsed().as_secs_f64() / iterations as f64
            })
            .collect();
        let m = median(times);
        println!(
            "{name:>6}: {n}²×{nt}, {removed} removed nodes (both populations), {doors} exit \
             nodes, {m:.4} s per Picard iteration (median of {repeats}), {inner} HJB Newton \
             iterations in {iterations}"
        );
        per_iteration.push(m);
    }
    println!(
        "masked / plain = {:.3}, exits / plain = {:.3}",
        per_iteration[1] / per_iteration[0],
        per_iteration[2] / per_iteration[0]
    );
}
