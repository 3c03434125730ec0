//! docs/math.md §6, case C: with f independent of m and H = |p|²/2, u = -2ν log φ turns the HJB
//! into the backward heat equation ∂tφ + νΔφ = 0, φ(T) = exp(-g/(2ν)). On the periodic interval
//! [0, 1) with g = cos(2πx) the exact φ is a Fourier series (coefficients from a 4096-point DFT
//! of φ(T), spectrally exact), so the HJB solver alone can be checked against the exact u(0, ·).

mod common;

use mfg::problem::hamiltonian::Quadratic;
use mfg::scheme::{self, Generator, HjbSettings, Workspace};
use mfg::{Boundary, Field, Grid, Population, Problem, TimeGrid};
use std::f64::consts::PI;

const NU: f64 = 0.1;
const T: f64 = 0.5;

/// Exact u(0, x) = -2ν log φ(0, x).
fn exact_u0(xs: &[f64]) -> Vec<f64> {
    let n = 4096;
    let phi_t: Vec<f64> = (0..n)
        .map(|j| (-(2.0 * PI * j as f64 / n as f64).cos() / (2.0 * NU)).exp())
        .collect();
    // φ(T) is even in x: a cosine series suffices. a_k = (1/n) Σ_j φ_j cos(2πkj/n).
    let kmax = 80;
    let a: Vec<f64> = (0..=kmax)
        .map(|k| {
            phi_t
                .iter()
                .enumerate()
                .map(|(j, v)| v * (2.0 * PI * (k * j) as f64 / n as f64).cos())
                .sum::<f64>()
                / n as f64
        })
        .collect();
    xs.iter()
        .map(|&x| {
            let phi: f64 = (0..=kmax)
                .map(|k| {
                    let w = 2.0 * PI * k as f64;
                    let mult = if k == 0 { 1.0 } else { 2.0 };
                    mult * a[k] * (-NU * w * w * T).exp() * (w * x).cos()
                })
                .sum();
            -2.0 * NU * phi.ln()
        })
        .collect()
}

fn hjb_error(nx: usize, nt: usize) -> f64 {
    let grid = Grid::new_1d(0.0, 1.0, nx, Boundary::Periodic).unwrap();
    let sigma = (2.0 * NU).sqrt();
    let problem = Problem::builder(grid, TimeGrid::new(T, nt).unwrap())
        .population(
            Population::builder("a", sigma, Quadratic::new(1.0))
                .terminal(|x| (2.0 * PI * x[0]).cos()),
        )
        .build()
        .unwrap();
    let n = problem.grid().len();
    let m = vec![Field::constant_in_time(
        nt + 1,
        problem.population(0).initial(),
    )];
    let mut sources = Field::filled(nt, n, 0.0);
    scheme::running_costs(&problem, 0, &m, &mut sources);
    let mut u = Field::filled(nt + 1, n, 0.0);
    let mut gens = vec![Generator::zeros(problem.grid()); nt];
    let mut ws = Workspace::new(problem.grid(), Default::default()).unwrap();
    let sweep = scheme::HjbSweep {
        problem: &problem,
        k: 0,
        m: &m,
        costs: &sources,
    };
    sweep
        .solve(&mut u, &mut gens, &mut ws, &HjbSettings::default(), false)
        .unwrap();
    let xs: Vec<f64> = (0..n).map(|i| problem.grid().point(i)[0]).collect();
    let exact = exact_u0(&xs);
    u.level(0)
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

#[test]
fn exact_solution_sanity() {
    // The Fourier solution must reproduce g at t = T when evaluated with T - t = 0: check the
    // series against φ(T) directly at a few points through u(T) = g.
    let xs = [0.1, 0.37, 0.8];
    let n = 4096;
    let kmax = 80;
    for &x in &xs {
        let phi_t: f64 = (-(2.0 * PI * x).cos() / (2.0 * NU)).exp();
        let a = |k: usize| -> f64 {
            (0..n)
                .map(|j| {
                    (-(2.0 * PI * j as f64 / n as f64).cos() / (2.0 * NU)).exp()
                        * (2.0 * PI * (k * j) as f64 / n as f64).cos()
                })
                .sum::<f64>()
                / n as f64
        };
        let series: f64 = (0..=kmax)
            .map(|k| {
                if k == 0 {
                    a(0)
                } else {
                    2.0 * a(k) * (2.0 * PI * k as f64 * x).cos()
                }
            })
            .sum();
        assert!(
            (series - phi_t).abs() < 1e-10 * phi_t,
            "{series} vs {phi_t}"
        );
    }
}

#[test]
fn hjb_alone_converges_at_first_order() {
    // Δt = h on every grid.
    let grids = [(50, 25), (100, 50), (200, 100), (400, 200)];
    let errs: Vec<f64> = grids.iter().map(|&(nx, nt)| hjb_error(nx, nt)).collect();
    println!("max |u(0) - exact|: {errs:?}");
    for w in errs.windows(2) {
        assert!(w[1] < w[0], "errors do not decrease: {errs:?}");
    }
    let orders: Vec<f64> = errs
        .windows(2)
        .map(|w| common::order(w[0], w[1], 2.0))
        .collect();
    println!("observed orders: {orders:?}");
    // First order: the last observed order within [0.8, 1.3].
    let p = *orders.last().unwrap();
    assert!((0.8..1.3).contains(&p), "observed order {p}");
}
