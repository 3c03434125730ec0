//! docs/math.md §6, case C (the model and its exact solution: tests/common/models/hopf_cole.rs):
//! the HJB solver alone against the exact u(0, ·) of the Hopf–Cole transform, with the observed
//! order on a sequence of grids.

mod common;

use common::models::hopf_cole::{self, exact_u0};
use mfg::scheme::{self, Generator, HjbSettings, Workspace};
use mfg::Field;
use std::f64::consts::PI;

fn hjb_error(nx: usize, nt: usize) -> f64 {
    let problem = hopf_cole::problem(nx, nt);
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
    // The Fourier series at time-to-go 0 reproduces φ(T) = exp(-g/(2ν)).
    let xs = [0.1, 0.37, 0.8];
    for (x, series) in xs.iter().zip(hopf_cole::phi(&xs, 0.0)) {
        let phi_t = (-(2.0 * PI * x).cos() / (2.0 * hopf_cole::NU)).exp();
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
