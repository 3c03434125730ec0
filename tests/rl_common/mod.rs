//! The game of the 1D K = 2 test problem (tests/common/models/two_groups.rs) for the RL tests
//! and `examples/rl_refinement.rs`, and an OMD driver that stops at a relative exploitability.
#![allow(dead_code)]

pub use crate::common::models::two_groups::problem_1d;

use mfg::rl::pde::{PdeGame, PdeGameSettings, VelocitySet};
use mfg::rl::{run_to_tolerance, MirrorDescent};
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
    let r = run_to_tolerance(game, &mut md, rel, 25, cap).unwrap();
    (md, r.relative, r.iterations)
}

/// Observed order between two levels whose h differ by 2.
pub fn order(coarse: f64, fine: f64) -> f64 {
    (coarse / fine).log2()
}
