//! The game of the 1D K = 2 test problem (tests/common/models/two_groups.rs) for the RL tests
//! and `examples/rl_refinement.rs`, and an OMD driver that stops at a relative exploitability.
#![allow(dead_code)]

pub use crate::common::models::two_groups::problem_1d;

use mfg::rl::pde::{PdeGame, PdeGameSettings, VelocitySet};
use mfg::rl::{assess, Algorithm, MirrorDescent};
use mfg::Problem;

/// Velocities on [−2, 2] (|α*| stays below 2 here) with spacing 5/n ∝ h; Δt_RL from the CFL
/// bound.
pub fn velocities_1d(n: usize) -> VelocitySet {
    VelocitySet::grid_1d(2.0, 4 * n / 5 + 1).unwrap()
}

pub fn game_1d(problem: &Problem, n: usize) -> PdeGame<'_> {
    PdeGame::new(problem, &PdeGameSettings::uniform(2, velocities_1d(n))).unwrap()
}

/// Mirror descent with lr = 30/Δt (the rewards scale with Δt) until the exploitability is
/// below `rel` times the value scale max_k |μ0·V^k_0| (checked every 25 iterations, at most
/// `cap` iterations). Returns the algorithm, the relative exploitability and the iterations.
pub fn mirror_descent_to(game: &PdeGame, rel: f64, cap: usize) -> (MirrorDescent, f64, usize) {
    let mut md = MirrorDescent::new(game, 30.0 / game.dt()).unwrap();
    let mut it = 0;
    loop {
        for _ in 0..25 {
            md.step(game).unwrap();
        }
        it += 25;
        let a = assess(game, md.policy()).unwrap();
        let scale = a
            .populations
            .iter()
            .map(|p| p.value.abs())
            .fold(0.0, f64::max);
        let r = a.total() / scale;
        if r < rel || it >= cap {
            return (md, r, it);
        }
    }
}

/// Observed order between two levels whose h differ by 2.
pub fn order(coarse: f64, fine: f64) -> f64 {
    (coarse / fine).log2()
}
