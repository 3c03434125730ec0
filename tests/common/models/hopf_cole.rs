//! docs/math.md §6, case C: with f = V = 0 and H = |p|²/2, u = -2ν log φ turns the HJB into the
//! backward heat equation ∂tφ + νΔφ = 0, φ(T) = exp(-g/(2ν)). On the periodic interval [0, 1)
//! with g = cos(2πx) the exact φ is a Fourier series (coefficients from a 4096-point DFT of
//! φ(T), spectrally exact).

use mfg::problem::hamiltonian::Quadratic;
use mfg::{Boundary, Grid, Population, Problem, TimeGrid};
use std::f64::consts::PI;

pub const NU: f64 = 0.1;
pub const T: f64 = 0.5;

/// The cosine coefficients a_k = (1/n) Σ_j φ_T(x_j) cos(2πkj/n) of φ(T) (even in x), k ≤ 80,
/// from a 4096-point DFT (spectrally exact for this smooth periodic φ(T)).
fn coefficients() -> Vec<f64> {
    let n = 4096;
    let phi_t: Vec<f64> = (0..n)
        .map(|j| (-(2.0 * PI * j as f64 / n as f64).cos() / (2.0 * NU)).exp())
        .collect();
    (0..=80)
        .map(|k| {
            phi_t
                .iter()
                .enumerate()
                .map(|(j, v)| v * (2.0 * PI * (k * j) as f64 / n as f64).cos())
                .sum::<f64>()
                / n as f64
        })
        .collect()
}

/// φ at time-to-go τ = T - t, at every x of `xs`: Σ_k a_k e^{-ν(2πk)²τ} cos(2πkx).
pub fn phi(xs: &[f64], tau: f64) -> Vec<f64> {
    let a = coefficients();
    xs.iter()
        .map(|&x| {
            a.iter()
                .enumerate()
                .map(|(k, ak)| {
                    let w = 2.0 * PI * k as f64;
                    let mult = if k == 0 { 1.0 } else { 2.0 };
                    mult * ak * (-NU * w * w * tau).exp() * (w * x).cos()
                })
                .sum()
        })
        .collect()
}

/// Exact u(0, x) = -2ν log φ(0, x).
pub fn exact_u0(xs: &[f64]) -> Vec<f64> {
    phi(xs, T).iter().map(|p| -2.0 * NU * p.ln()).collect()
}

/// One population with ν = NU on the periodic [0, 1) with nx nodes, nt steps, g = cos(2πx).
pub fn problem(nx: usize, nt: usize) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, nx, Boundary::Periodic).unwrap();
    let sigma = (2.0 * NU).sqrt();
    Problem::builder(grid, TimeGrid::new(T, nt).unwrap())
        .population(
            Population::builder("a", sigma, Quadratic::new(1.0))
                .terminal(|x| (2.0 * PI * x[0]).cos()),
        )
        .build()
        .unwrap()
}
