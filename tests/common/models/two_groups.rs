//! The 1D K = 2 problem of the reinforcement-learning tests and `examples/rl_refinement.rs`:
//! two groups on [0, 1] (reflecting) swapping sides, T = 0.5, σ = 0.3 and 0.25, costs of moving
//! c = 1 and 2, f^k = Σ_j A_kj m^j with A = [[0.3, 0.2], [0.2, 0.3]] (symmetric positive
//! definite: monotone), g = 1.5 (x − target)²; n nodes and n PDE time steps.

use mfg::problem::coupling::Linear;
use mfg::problem::hamiltonian::Quadratic;
use mfg::{Boundary, Grid, Population, Problem, TimeGrid};

/// The problem on n nodes and n time steps.
pub fn problem_1d(n: usize) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, n, Boundary::Reflecting).unwrap();
    Problem::builder(grid, TimeGrid::new(0.5, n).unwrap())
        .population(
            Population::builder("a", 0.3, Quadratic::new(1.0))
                .initial(|x| (-(x[0] - 0.3).powi(2) / 0.02).exp())
                .terminal(|x| 1.5 * (x[0] - 0.8).powi(2)),
        )
        .population(
            Population::builder("b", 0.25, Quadratic::new(2.0))
                .initial(|x| (-(x[0] - 0.7).powi(2) / 0.02).exp())
                .terminal(|x| 1.5 * (x[0] - 0.2).powi(2)),
        )
        .coupling(Linear::from_rows(&[vec![0.3, 0.2], vec![0.2, 0.3]]))
        .build()
        .unwrap()
}
