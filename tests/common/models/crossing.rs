//! Two populations crossing each other (1D: quadratic and power-1.5 Hamiltonians; 2D:
//! isotropic and anisotropic), with the coupling as a parameter: the small problems of the
//! Newton, Anderson and Jacobian tests, and a perturbed iterate that solves nothing.

use mfg::grid::{Axis, Boundary, Grid, TimeGrid};
use mfg::problem::coupling::{self, Coupling};
use mfg::problem::hamiltonian::{Anisotropic, Power, Quadratic};
use mfg::problem::{Population, Problem};
use mfg::solve::Iterate;

/// 1D, two populations crossing, with the given coupling.
pub fn problem_1d(nx: usize, nt: usize, boundary: Boundary, c: Box<dyn Coupling>) -> Problem {
    let grid = Grid::new_1d(-1.0, 1.0, nx, boundary).unwrap();
    let a = Population::builder("a", 0.5, Quadratic::new(1.0))
        .initial(|x| (-(x[0] + 0.4).powi(2) / 0.08).exp() + 0.05)
        .terminal(|x| (x[0] - 0.5).powi(2))
        .potential(|x| 0.2 * x[0] * x[0]);
    let b = Population::builder("b", 0.4, Power::new(1.5, 1.3))
        .initial(|x| (-(x[0] - 0.3).powi(2) / 0.05).exp() + 0.02)
        .terminal(|x| 0.8 * (x[0] + 0.4).powi(2));
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .boxed_coupling(c)
        .build()
        .unwrap()
}

/// 2D, two populations (isotropic and anisotropic) crossing, with the given coupling.
pub fn problem_2d(nx: usize, ny: usize, nt: usize, c: Box<dyn Coupling>) -> Problem {
    let grid = Grid::new_2d(
        Axis::new(0.0, 2.0, nx, Boundary::Reflecting),
        Axis::new(0.0, 1.0, ny, Boundary::Periodic),
    )
    .unwrap();
    let a = Population::builder("a", 0.5, Quadratic::new(1.0))
        .initial(|x| (-((x[0] - 0.5).powi(2) + (x[1] - 0.5).powi(2)) / 0.1).exp() + 0.05)
        .terminal(|x| (x[0] - 1.6).powi(2));
    let b = Population::builder("b", 0.4, Anisotropic::new(vec![1.0, 3.0]))
        .initial(|x| (-((x[0] - 1.5).powi(2) + (x[1] - 0.4).powi(2)) / 0.1).exp() + 0.05)
        .terminal(|x| (x[0] - 0.4).powi(2) + 0.3 * (x[1] - 0.5).powi(2));
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .boxed_coupling(c)
        .build()
        .unwrap()
}

/// A monotone linear coupling (symmetric part positive definite).
pub fn monotone() -> Box<dyn Coupling> {
    Box::new(coupling::Linear::from_rows(&[
        vec![1.0, 0.5],
        vec![0.5, 0.8],
    ]))
}

/// Linear + log + power terms, to exercise every derivative.
pub fn mixed() -> Box<dyn Coupling> {
    Box::new(coupling::Sum(vec![
        Box::new(coupling::Linear::from_rows(&[
            vec![0.6, 0.3],
            vec![-0.2, 0.9],
        ])),
        Box::new(coupling::Log::from_rows(&[
            vec![0.1, 0.05],
            vec![0.0, 0.15],
        ])),
        Box::new(coupling::Power {
            kappa: vec![0.3, 0.2],
            beta: 1.5,
        }),
    ]))
}

/// A point that is not a solution: smooth perturbations of the cold start, m kept positive.
pub fn perturbed(problem: &Problem) -> Iterate {
    let mut it = Iterate::initial(problem);
    let nt = problem.time().nt;
    let g = &problem.grid();
    for k in 0..problem.k() {
        for n in 0..nt {
            let t = n as f64 / nt as f64;
            let lu = it.u[k].level_mut(n);
            for (i, v) in lu.iter_mut().enumerate() {
                let p = g.point(i);
                *v += 0.3 * (1.0 - t) * (2.3 * p[0] + 1.7 * p[1] + k as f64).sin();
            }
        }
        for n in 1..=nt {
            let t = n as f64 / nt as f64;
            let lm = it.m[k].level_mut(n);
            for (i, v) in lm.iter_mut().enumerate() {
                let p = g.point(i);
                *v *= 1.0 + 0.2 * t * (3.1 * p[0] - 1.3 * p[1] + 0.7 * k as f64).cos();
            }
        }
    }
    it
}
