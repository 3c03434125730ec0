//! Drift (docs/geometry.md): agents move with α + b, H(x, p) becomes H(x, p) − b·p. With a
//! constant drift b on a periodic axis and the data transported with it — terminal cost
//! g(x) = g₀(x − bT), the same m0, a local coupling — the exact solution is the drift-free one
//! shifted: u(t, x) = u₀(t, x − bt), m(t, x) = m₀(t, x − bt). The discrete solutions agree to
//! the discretisation error, which decreases at first order under refinement.

use mfg::problem::coupling::Linear;
use mfg::problem::hamiltonian::Quadratic;
use mfg::solve::Termination;
use mfg::{Boundary, Grid, Population, Problem, SolverSettings, TimeGrid};
use std::f64::consts::TAU;

const T: f64 = 0.5;
const B: f64 = 0.5;

fn problem(n: usize, drift: bool) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, n, Boundary::Periodic).unwrap();
    let shift = if drift { B * T } else { 0.0 };
    let mut pop = Population::builder("a", 0.3, Quadratic::new(1.0))
        .initial(|x| 1.0 + 0.8 * (TAU * (x[0] - 0.3)).cos())
        .terminal(move |x| 0.5 * (TAU * (x[0] - shift - 0.7)).cos());
    if drift {
        pop = pop.drift(|_, b| b[0] = B);
    }
    Problem::builder(grid, TimeGrid::new(T, n / 2).unwrap())
        .population(pop)
        .coupling(Linear::from_rows(&[vec![1.0]]))
        .build()
        .unwrap()
}

/// max |u(0) − u₀(0)| and the L1 distance of m(T) to m₀(T) shifted by bT (a whole number of
/// nodes: n is a multiple of 4 and bT = 1/4).
fn errors(n: usize) -> (f64, f64) {
    let (pd, pf) = (problem(n, true), problem(n, false));
    let settings = SolverSettings::default();
    let (sd, sf) = (
        mfg::solve(&pd, &settings).unwrap(),
        mfg::solve(&pf, &settings).unwrap(),
    );
    assert_eq!(sd.termination, Termination::Converged);
    assert_eq!(sf.termination, Termination::Converged);
    let nt = pd.time().nt;
    let (ud, uf) = (sd.iterate.u[0].level(0), sf.iterate.u[0].level(0));
    let eu = ud
        .iter()
        .zip(uf)
        .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
    let (md, mf) = (sd.iterate.m[0].level(nt), sf.iterate.m[0].level(nt));
    let s = n / 4;
    let em: f64 = (0..n)
        .map(|i| (md[i] - mf[(i + n - s) % n]).abs())
        .sum::<f64>()
        / n as f64;
    // The drift does transport: m(T) differs from the unshifted drift-free m₀(T).
    let moved: f64 = (0..n).map(|i| (md[i] - mf[i]).abs()).sum::<f64>() / n as f64;
    assert!(moved > 10.0 * em, "moved {moved:e} vs error {em:e}");
    (eu, em)
}

/// The orders approach 1 from below (m: 0.62, 0.69, 0.81, 0.89 over the pairs from 40 to 640
/// nodes; u: 0.87 … 0.98), so the test measures on the three finest grids.
#[test]
fn constant_drift_on_a_periodic_axis_shifts_the_solution() {
    let sizes = [160, 320, 640];
    let errs: Vec<(f64, f64)> = sizes.iter().map(|&n| errors(n)).collect();
    for (n, (eu, em)) in sizes.iter().zip(&errs) {
        eprintln!("n = {n}: max |Δu(0)| = {eu:.3e}, L1 |Δm(T)| = {em:.3e}");
    }
    for w in errs.windows(2) {
        let (ou, om) = ((w[0].0 / w[1].0).log2(), (w[0].1 / w[1].1).log2());
        eprintln!("observed orders: u {ou:.2}, m {om:.2}");
        assert!(ou >= 0.8 && om >= 0.8, "orders u {ou:.2}, m {om:.2}");
    }
    assert!(errs[2].0 < 2e-2 && errs[2].1 < 2e-2, "{:?}", errs[2]);
}
