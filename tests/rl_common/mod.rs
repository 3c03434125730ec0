//! The 1D K = 2 PDE problem of the RL tests and of `examples/rl_refinement.rs`, its game and
//! an OMD driver that stops at a relative exploitability.
#![allow(dead_code)]

use mfg::problem::coupling::Linear;
use mfg::problem::hamiltonian::Quadratic;
use mfg::rl::pde::{PdeGame, PdeGameSettings, VelocitySet};
use mfg::rl::{assess, Algorithm, MirrorDescent};
use mfg::{Boundary, Grid, Population, Problem, TimeGrid};

/// Two groups on [0, 1] (reflecting) swapping sides, T = 0.5, σ = 0.3 and 0.25, costs of
/// moving c = 1 and 2, f^k = Σ_j A_kj m^j with A = [[0.3, 0.2], [0.2, 0.3]] (symmetric
/// positive definite: monotone), g = 1.5 (x − target)²; n nodes and n PDE time steps.
pub fn problem_1d(n: usize) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, n, Boundary::Reflecting).unwrap();
    let a = Population::builder("a", 0.3, Quadratic::new(1.0))
        .initial(|x| (-(x[0] - 0.3).powi(2) / 0.02).exp())
        .terminal(|x| 1.5 * (x[0] - 0.8).powi(2));
    let b = Population::builder("b", 0.25, Quadratic::new(2.0))
        .initial(|x| (-(x[0] - 0.7).powi(2) / 0.02).exp())
        .terminal(|x| 1.5 * (x[0] - 0.2).powi(2));
    let c = Linear::from_rows(&[vec![0.3, 0.2], vec![0.2, 0.3]]);
    Problem::builder(grid, TimeGrid::new(0.5, n).unwrap())
        .population(a)
        .population(b)
        .coupling(c)
        .build()
        .unwrap()
}

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
