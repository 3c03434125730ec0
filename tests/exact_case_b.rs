//! docs/math.md §6, case B: K = 2 populations with local log self- and cross-couplings,
//! f^k = (q_k/2)(x - p_k)² + Σ_j κ_kj log m^j, g^k = (c_k/2)(x - pT_k)², H = |p|²/2, have the
//! Gaussian solution m^k = N(μ_k, s_k), u^k = ½η_k x² - ψ_k x + χ_k, where (η, ψ, s, μ) solve a
//! nonlinear two-point boundary-value problem. It is solved here to 1e-10 by shooting, then the
//! discrete mean, variance and density at t = T are compared on three grids with Δt ∝ h.

mod common;

use mfg::problem::coupling::Log;
use mfg::problem::hamiltonian::Quadratic;
use mfg::solve::{MethodKind, Relaxation, Stopping};
use mfg::{Boundary, Grid, Population, Problem, SolverSettings, Termination, TimeGrid};

const T: f64 = 0.5;
const SIGMA: [f64; 2] = [0.6, 0.5];
const Q: [f64; 2] = [1.0, 0.5];
const P: [f64; 2] = [0.5, -0.5];
const C: [f64; 2] = [1.0, 2.0];
const PT: [f64; 2] = [1.0, -1.0];
const KAPPA: [[f64; 2]; 2] = [[0.10, 0.05], [0.03, 0.08]];
const MU0: [f64; 2] = [-0.6, 0.7];
const S0: [f64; 2] = [0.09, 0.06];
const L: f64 = 5.0;

/// y = (η1, η2, ψ1, ψ2, s1, s2, μ1, μ2).
fn rhs(_t: f64, y: &[f64], dy: &mut [f64]) {
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
    let y = common::rk4(&rhs, &y_t, T, 0.0, 20_000);
    let defect = vec![y[4] - S0[0], y[5] - S0[1], y[6] - MU0[0], y[7] - MU0[1]];
    (y, defect)
}

/// The exact (s_k(T), μ_k(T)): the BVP solved by Newton shooting to a defect below 1e-10
/// (RK4 with 20 000 steps: its own error is far below that).
fn exact_terminal() -> ([f64; 2], [f64; 2]) {
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
        let dz = common::dense_solve(jac, f.iter().map(|v| -v).collect());
        z.iter_mut().zip(&dz).for_each(|(a, b)| *a += b);
    }
    let (_, f) = shoot(&z);
    let norm = max_abs(&f);
    assert!(norm < 1e-10, "BVP shooting defect {norm:e}");
    ([z[0], z[1]], [z[2], z[3]])
}

struct Errors {
    mean: [f64; 2],
    var: [f64; 2],
    l1: [f64; 2],
}

fn solve_on(nx: usize, nt: usize, s_t: [f64; 2], mu_t: [f64; 2]) -> Errors {
    let grid = Grid::new_1d(-L, L, nx, Boundary::Reflecting).unwrap();
    let time = TimeGrid::new(T, nt).unwrap();
    let kappa: Vec<Vec<f64>> = KAPPA.iter().map(|r| r.to_vec()).collect();
    let problem = (0..2)
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
        .unwrap();
    let settings = SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.7)),
        stopping: Stopping {
            max_iterations: 400,
            tol_u: 1e-9,
            tol_m: 1e-11,
            tol_residual: 1e-10,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    };
    let sol = mfg::solve(&problem, &settings).unwrap();
    assert_eq!(sol.termination, Termination::Converged, "{nx}x{nt}");
    let grid = &problem.grid();
    let h = grid.h(0);
    let mut e = Errors {
        mean: [0.0; 2],
        var: [0.0; 2],
        l1: [0.0; 2],
    };
    for k in 0..2 {
        let m = sol.iterate.m[k].level(nt);
        let xs: Vec<f64> = (0..nx).map(|i| grid.point(i)[0]).collect();
        let mean: f64 = xs.iter().zip(m).map(|(x, v)| x * v).sum::<f64>() * h;
        let var: f64 = xs
            .iter()
            .zip(m)
            .map(|(x, v)| (x - mean).powi(2) * v)
            .sum::<f64>()
            * h;
        let exact = |x: f64| {
            (-(x - mu_t[k]).powi(2) / (2.0 * s_t[k])).exp()
                / (2.0 * std::f64::consts::PI * s_t[k]).sqrt()
        };
        let l1: f64 = xs
            .iter()
            .zip(m)
            .map(|(x, v)| (v - exact(*x)).abs())
            .sum::<f64>()
            * h;
        e.mean[k] = (mean - mu_t[k]).abs();
        e.var[k] = (var - s_t[k]).abs();
        e.l1[k] = l1;
    }
    e
}

#[test]
fn case_b_gaussian_converges_at_first_order() {
    let (s_t, mu_t) = exact_terminal();
    // Δt = h/5 on every grid.
    let grids = [(100, 25), (200, 50), (400, 100)];
    let errs: Vec<Errors> = grids
        .iter()
        .map(|&(nx, nt)| solve_on(nx, nt, s_t, mu_t))
        .collect();
    for k in 0..2 {
        for (name, get) in [
            (
                "mean",
                (|e: &Errors, k: usize| e.mean[k]) as fn(&Errors, usize) -> f64,
            ),
            ("variance", |e: &Errors, k: usize| e.var[k]),
            ("L1(m(T))", |e: &Errors, k: usize| e.l1[k]),
        ] {
            let v: Vec<f64> = errs.iter().map(|e| get(e, k)).collect();
            println!("population {k} {name} errors: {v:?}");
            assert!(
                v[0] > v[1] && v[1] > v[2],
                "population {k}: {name} errors do not decrease: {v:?}"
            );
            if name != "mean" {
                let p = common::order(v[1], v[2], 2.0);
                println!("population {k} {name} observed order {p:.3}");
                assert!(
                    p >= 0.8,
                    "population {k}: {name} order {p:.3} < 0.8 ({v:?})"
                );
            }
        }
    }
}
