//! docs/math.md §6, case B: K = 2 populations with local log self- and cross-couplings,
//! f^k = (q_k/2)(x - p_k)² + Σ_j κ_kj log m^j, g^k = (c_k/2)(x - pT_k)², H = |p|²/2, have the
//! Gaussian solution m^k = N(μ_k, s_k), u^k = ½η_k x² - ψ_k x + χ_k, where (η, ψ, s, μ) solve a
//! nonlinear two-point boundary-value problem, solved here to 1e-10 by shooting. The reference
//! trajectory is also stored in `data/reference/case_b.csv` (see [`reference_rows`]).

use crate::common::ode::{dense_solve, rk4};
use mfg::problem::coupling::Log;
use mfg::problem::hamiltonian::Quadratic;
use mfg::{Boundary, Grid, Population, Problem, TimeGrid};

pub const T: f64 = 0.5;
pub const SIGMA: [f64; 2] = [0.6, 0.5];
pub const Q: [f64; 2] = [1.0, 0.5];
pub const P: [f64; 2] = [0.5, -0.5];
pub const C: [f64; 2] = [1.0, 2.0];
pub const PT: [f64; 2] = [1.0, -1.0];
pub const KAPPA: [[f64; 2]; 2] = [[0.10, 0.05], [0.03, 0.08]];
pub const MU0: [f64; 2] = [-0.6, 0.7];
pub const S0: [f64; 2] = [0.09, 0.06];
pub const L: f64 = 5.0;

/// y = (η1, η2, ψ1, ψ2, s1, s2, μ1, μ2).
pub fn rhs(_t: f64, y: &[f64], dy: &mut [f64]) {
    let (eta, psi, s, mu) = (&y[0..2], &y[2..4], &y[4..6], &y[6..8]);
    for k in 0..2 {
        let ks: f64 = (0..2).map(|j| KAPPA[k][j] / s[j]).sum();
        let kms: f64 = (0..2).map(|j| KAPPA[k][j] * mu[j] / s[j]).sum();
        dy[k] = eta[k] * eta[k] - Q[k] + ks;
        dy[2 + k] = eta[k] * psi[k] - Q[k] * P[k] + kms;
        dy[4 + k] = -2.0 * eta[k] * s[k] + SIGMA[k] * SIGMA[k];
        dy[6 + k] = -eta[k] * mu[k] + psi[k];
    }
}

/// Backward shooting on (s_k(T), μ_k(T)): the Riccati equations are stable backward in time
/// (forward they blow up from a poor guess). Returns the state at t = 0 and the defect
/// (s(0) - s0, μ(0) - μ0).
fn shoot(z: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let y_t = [
        C[0],
        C[1],
        C[0] * PT[0],
        C[1] * PT[1],
        z[0],
        z[1],
        z[2],
        z[3],
    ];
    let y = rk4(&rhs, &y_t, T, 0.0, 20_000);
    let defect = vec![y[4] - S0[0], y[5] - S0[1], y[6] - MU0[0], y[7] - MU0[1]];
    (y, defect)
}

/// The exact (s_k(T), μ_k(T)): the BVP solved by Newton shooting to a defect below 1e-10
/// (RK4 with 20 000 steps: its own error is far below that).
pub fn exact_terminal() -> ([f64; 2], [f64; 2]) {
    let mut z = vec![
        S0[0] + 0.5 * SIGMA[0].powi(2) * T,
        S0[1] + 0.5 * SIGMA[1].powi(2) * T,
        0.5 * (MU0[0] + PT[0]),
        0.5 * (MU0[1] + PT[1]),
    ];
    let max_abs = |f: &[f64]| {
        f.iter().fold(
            0.0f64,
            |a, v| if v.is_nan() { f64::NAN } else { a.max(v.abs()) },
        )
    };
    for _ in 0..30 {
        let (_, f) = shoot(&z);
        if max_abs(&f) < 1e-13 {
            break;
        }
        let mut jac = vec![vec![0.0; 4]; 4];
        for c in 0..4 {
            let mut zp = z.clone();
            let eps = 1e-7 * (1.0 + z[c].abs());
            zp[c] += eps;
            let (_, fp) = shoot(&zp);
            for r in 0..4 {
                jac[r][c] = (fp[r] - f[r]) / eps;
            }
        }
        let dz = dense_solve(jac, f.iter().map(|v| -v).collect());
        z.iter_mut().zip(&dz).for_each(|(a, b)| *a += b);
    }
    let (_, f) = shoot(&z);
    let norm = max_abs(&f);
    assert!(norm < 1e-10, "BVP shooting defect {norm:e}");
    ([z[0], z[1]], [z[2], z[3]])
}

/// The case-B problem on nx nodes of [-L, L] and nt time steps.
pub fn problem(nx: usize, nt: usize) -> Problem {
    let grid = Grid::new_1d(-L, L, nx, Boundary::Reflecting).unwrap();
    let time = TimeGrid::new(T, nt).unwrap();
    let kappa: Vec<Vec<f64>> = KAPPA.iter().map(|r| r.to_vec()).collect();
    (0..2)
        .fold(Problem::builder(grid, time), |b, k| {
            b.population(
                Population::builder(format!("p{k}"), SIGMA[k], Quadratic::new(1.0))
                    .initial(move |x| (-(x[0] - MU0[k]).powi(2) / (2.0 * S0[k])).exp())
                    .potential(move |x| 0.5 * Q[k] * (x[0] - P[k]).powi(2))
                    .terminal(move |x| 0.5 * C[k] * (x[0] - PT[k]).powi(2)),
            )
        })
        .coupling(Log::from_rows(&kappa))
        .build()
        .unwrap()
}

/// The exact solution at `steps + 1` equally spaced times of [0, T], forward from t = 0: rows
/// (t, η1, η2, ψ1, ψ2, s1, s2, μ1, μ2).
pub fn reference_rows(steps: usize) -> Vec<[f64; 9]> {
    let (s_t, mu_t) = exact_terminal();
    // Integrate backward from T to each time (the stable direction of the Riccati equations).
    let y_t = [
        C[0],
        C[1],
        C[0] * PT[0],
        C[1] * PT[1],
        s_t[0],
        s_t[1],
        mu_t[0],
        mu_t[1],
    ];
    (0..=steps)
        .map(|n| {
            let t = T * n as f64 / steps as f64;
            let y = if n == steps {
                y_t.to_vec()
            } else {
                rk4(&rhs, &y_t, T, t, 20_000 * (steps - n) / steps + 1)
            };
            let mut row = [0.0; 9];
            row[0] = t;
            row[1..].copy_from_slice(&y);
            row
        })
        .collect()
}
