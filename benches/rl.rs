//! Criterion benches of the exact RL tools: fictitious play with NashConv after every
//! iteration on OpenSpiel's `crowd_modelling` (100 iterations) and `predator_prey` (20), and
//! the exploitability of the uniform profile on the game of the 2D 32² crossing benchmark
//! (3 × 3 velocities). `cargo bench --bench rl`; the 64² case is in `examples/rl_speed.rs`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::models::benchmarks as problems;

use criterion::{criterion_group, criterion_main, Criterion};
use mfg::rl::benchmarks::{CrowdModelling, PredatorPrey};
use mfg::rl::pde::{PdeGame, PdeGameSettings, VelocitySet};
use mfg::rl::{exploitability, run, FictitiousPlay, Game, Policy};
use std::time::Duration;

fn fp(game: &dyn Game, n: usize) -> f64 {
    let mut fp = FictitiousPlay::new(game);
    run(game, &mut fp, n)
        .unwrap()
        .last()
        .unwrap()
        .exploitability
}

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("rl");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let cm = CrowdModelling::default();
    g.bench_function("fp100-crowd_modelling", |b| b.iter(|| fp(&cm, 100)));
    let pp = PredatorPrey::default();
    g.bench_function("fp20-predator_prey", |b| b.iter(|| fp(&pp, 20)));
    let p = problems::crossing_2d(32, 32);
    let settings = PdeGameSettings::uniform(2, VelocitySet::grid_2d(1.0, 3).unwrap());
    let game = PdeGame::new(&p, &settings).unwrap();
    let pol = Policy::uniform(&game);
    g.bench_function("exploitability-pde-2d-32", |b| {
        b.iter(|| exploitability(&game, &pol).unwrap())
    });
    g.finish();
}

criterion_group!(rl, benches);
criterion_main!(rl);
