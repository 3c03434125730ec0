//! Criterion benches of the exact RL tools: fictitious play with NashConv after every
//! iteration on OpenSpiel's `crowd_modelling` (100 iterations) and `predator_prey` (20), and
//! the exploitability of the uniform profile on the game of the 2D 32² crossing benchmark
//! (3 × 3 velocities); and the N-agent simulator on the 1D `crowd_modelling` (10⁵ agents × 10
//! steps per episode, reported in agent-steps per second, on one thread and on all).
//! `cargo bench --bench rl`; the 64² case is in `examples/rl_speed.rs`.

#[path = "../tests/common/mod.rs"]
mod common;

use common::models::benchmarks as problems;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use mfg::rl::benchmarks::{CrowdModelling, PredatorPrey};
use mfg::rl::learn::{Behaviour, Environment, SimSettings, Simulator};
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

    // Agents move towards the centre with probability 0.8 (a state-dependent mixed policy).
    let mut g = c.benchmark_group("rl-simulation");
    g.sample_size(10).measurement_time(Duration::from_secs(5));
    let agents = 100_000;
    let pi = Policy::deterministic(&cm, |_, _, s| {
        if s < 5 {
            2
        } else if s > 5 {
            0
        } else {
            1
        }
    })
    .unwrap();
    let pi = Policy::from_tables(
        &cm,
        vec![pi
            .population(0)
            .as_slice()
            .iter()
            .map(|p| 0.8 * p + 0.2 / 3.0)
            .collect()],
    )
    .unwrap();
    let sim = Simulator::new(&cm, SimSettings::uniform(&cm, agents, 1)).unwrap();
    g.throughput(Throughput::Elements((agents * cm.horizon()) as u64));
    let mut episode = 0;
    let mut simulate = || {
        episode += 1;
        sim.run_episode(Behaviour::Table(&pi), Environment::Empirical, episode)
            .unwrap()
            .returns[0]
            .mean
    };
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    g.bench_function("crowd_modelling-1e5-agents-1-thread", |b| {
        b.iter(|| one.install(&mut simulate))
    });
    g.bench_function("crowd_modelling-1e5-agents", |b| b.iter(&mut simulate));
    g.finish();
}

criterion_group!(rl, benches);
criterion_main!(rl);
