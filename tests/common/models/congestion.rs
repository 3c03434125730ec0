//! Two crowds moving through each other with congestion Hamiltonians
//! H^k = |p|^q/(q c_k (ε + Σ_j w_kj m^j)^α) (quadratic for one population, power-law q = 1.5
//! for the other in 1D; quadratic in 2D), with cross-congestion weights so that every block
//! of the density transport is present, and a monotone linear coupling.

use mfg::grid::{Axis, Boundary, Grid, TimeGrid};
use mfg::problem::coupling::{self, Coupling};
use mfg::problem::hamiltonian::{Power, Quadratic};
use mfg::problem::{Congestion, Population, Problem};

/// A monotone linear coupling.
pub fn mild() -> Box<dyn Coupling> {
    Box::new(coupling::Linear::from_rows(&[
        vec![0.8, 0.3],
        vec![0.3, 0.6],
    ]))
}

/// 1D, congestion exponent `alpha` for both populations.
pub fn congested_1d(nx: usize, nt: usize, alpha: f64, c: Box<dyn Coupling>) -> Problem {
    let grid = Grid::new_1d(-1.0, 1.0, nx, Boundary::Reflecting).unwrap();
    let a = Population::builder(
        "a",
        0.5,
        Congestion::new(Quadratic::new(1.0), vec![1.0, 0.5], 0.5, alpha),
    )
    .initial(|x| (-(x[0] + 0.4).powi(2) / 0.08).exp() + 0.05)
    .terminal(|x| (x[0] - 0.5).powi(2))
    .potential(|x| 0.2 * x[0] * x[0]);
    let b = Population::builder(
        "b",
        0.4,
        Congestion::new(Power::new(1.5, 1.3), vec![0.3, 1.0], 0.4, 0.6 * alpha),
    )
    .initial(|x| (-(x[0] - 0.3).powi(2) / 0.05).exp() + 0.02)
    .terminal(|x| 0.8 * (x[0] + 0.4).powi(2));
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .boxed_coupling(c)
        .build()
        .unwrap()
}

/// 2D (reflecting × periodic), congestion exponent `alpha` for both populations.
pub fn congested_2d(nx: usize, ny: usize, nt: usize, alpha: f64, c: Box<dyn Coupling>) -> Problem {
    let grid = Grid::new_2d(
        Axis::new(0.0, 2.0, nx, Boundary::Reflecting),
        Axis::new(0.0, 1.0, ny, Boundary::Periodic),
    )
    .unwrap();
    let a = Population::builder(
        "a",
        0.5,
        Congestion::new(Quadratic::new(1.0), vec![1.0, 0.4], 0.5, alpha),
    )
    .initial(|x| (-((x[0] - 0.5).powi(2) + (x[1] - 0.5).powi(2)) / 0.1).exp() + 0.05)
    .terminal(|x| (x[0] - 1.6).powi(2));
    let b = Population::builder(
        "b",
        0.4,
        Congestion::new(Quadratic::new(0.7), vec![0.6, 1.0], 0.3, alpha),
    )
    .initial(|x| (-((x[0] - 1.5).powi(2) + (x[1] - 0.4).powi(2)) / 0.1).exp() + 0.05)
    .terminal(|x| (x[0] - 0.4).powi(2) + 0.3 * (x[1] - 0.5).powi(2));
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .boxed_coupling(c)
        .build()
        .unwrap()
}
