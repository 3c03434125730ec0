//! Speed of the exact RL tools (medians of repeated runs, release build):
//! 100 fictitious-play iterations with NashConv after each on `crowd_modelling`, 20 on
//! `predator_prey` (K = 3), and the exploitability of a profile on the game of a 2D 64² K = 2
//! PDE problem (the crossing benchmark of `tests/common/models/benchmarks.rs` (`data/benchmarks/`), 3 × 3 and 5 × 5 velocities).
//!
//! ```text
//! cargo run --release --example rl_speed
//! ```

#[path = "../tests/common/mod.rs"]
mod common;

use common::models::benchmarks as problems;

use mfg::rl::benchmarks::{CrowdModelling, PredatorPrey};
use mfg::rl::pde::{PdeGame, PdeGameSettings, VelocitySet};
use mfg::rl::{exploitability, run, FictitiousPlay, Game, Policy};
use std::time::Instant;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn time(repeats: usize, mut f: impl FnMut()) -> f64 {
    median(
        (0..repeats)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

fn fp_with_nashconv(game: &dyn Game, iterations: usize) -> f64 {
    let mut fp = FictitiousPlay::new(game);
    run(game, &mut fp, iterations)
        .unwrap()
        .last()
        .unwrap()
        .exploitability
}

fn main() {
    let cm = CrowdModelling::default();
    let s = time(21, || {
        fp_with_nashconv(&cm, 100);
    });
    println!(
        "crowd_modelling: 100 FP iterations + NashConv: {:.4} s (NashConv {:.6})",
        s,
        fp_with_nashconv(&cm, 100)
    );
    let pp = PredatorPrey::default();
    let s = time(11, || {
        fp_with_nashconv(&pp, 20);
    });
    println!(
        "predator_prey: 20 FP iterations + NashConv: {:.4} s (NashConv {:.6})",
        s,
        fp_with_nashconv(&pp, 20)
    );
    let p = problems::crossing_2d(64, 64);
    for n in [3, 5] {
        let settings = PdeGameSettings::uniform(2, VelocitySet::grid_2d(1.0, n).unwrap());
        let t = Instant::now();
        let game = PdeGame::new(&p, &settings).unwrap();
        let build = t.elapsed().as_secs_f64();
        let pol = Policy::uniform(&game);
        let mut e = 0.0;
        let s = time(5, || e = exploitability(&game, &pol).unwrap());
        println!(
            "2D 64² K = 2 PDE game, {}×{} velocities, {} steps: build {:.3} s, exploitability {:.3} s ({e:.4})",
            n,
            n,
            game.horizon(),
            build,
            s
        );
    }
}
