//! Discounting (docs/math.md, horizons): a finite-horizon problem whose HJB carries ρu,
//!
//!   −∂t u + ρu − ν u'' + ½u'² = (q/2)(x − p)² + κ log m,   u(T) = (c/2)(x − pT)²,
//!    ∂t m − ν m'' − (m u')' = 0,                            m(0) = N(μ0, s0),
//!
//! has the Gaussian solution m = N(μ, s), u = ½η x² − ψ x + χ, where substituting the ansatz
//! (log m = −(x − μ)²/(2s) + const) gives
//!
//!   η' = η² + ρη − q + κ/s,         η(T) = c,
//!   ψ' = (η + ρ)ψ − qp + κμ/s,      ψ(T) = c pT,
//!   s' = −2ηs + σ²,                 s(0) = s0,
//!   μ' = −ημ + ψ,                   μ(0) = μ0,
//!
//! a two-point boundary-value problem solved here by shooting to 1e-10. The discrete density at
//! T and the shape of u(0) (u(0, x) − u(0, 0), free of the constant χ) converge to it at first
//! order, and the discount visibly matters: ρ changes η(0) far more than the discretisation error.

mod common;

use common::ode::{dense_solve, rk4};
use mfg::problem::coupling::Log;
use mfg::problem::hamiltonian::Quadratic;
use mfg::solve::{MethodKind, Relaxation, Stopping};
use mfg::{Boundary, Grid, Population, Problem, SolverSettings, Termination, TimeGrid};

const T: f64 = 0.5;
const SIGMA: f64 = 0.6;
const Q: f64 = 1.0;
const P: f64 = 0.5;
const C: f64 = 1.0;
const PT: f64 = 1.0;
const KAPPA: f64 = 0.1;
const MU0: f64 = -0.6;
const S0: f64 = 0.09;
const L: f64 = 5.0;
const RHO: f64 = 1.5;

/// y = (η, ψ, s, μ) for discount ρ.
fn rhs(rho: f64) -> impl Fn(f64, &[f64], &mut [f64]) {
    move |_t, y, dy| {
        let (eta, psi, s, mu) = (y[0], y[1], y[2], y[3]);
        dy[0] = eta * eta + rho * eta - Q + KAPPA / s;
        dy[1] = (eta + rho) * psi - Q * P + KAPPA * mu / s;
        dy[2] = -2.0 * eta * s + SIGMA * SIGMA;
        dy[3] = -eta * mu + psi;
    }
}

/// The exact (η(0), ψ(0), s(T), μ(T)) for discount ρ: Newton shooting on (s(T), μ(T)),
/// integrating backward from T (the stable direction of the Riccati equation).
fn exact(rho: f64) -> [f64; 4] {
    let f = rhs(rho);
    let shoot = |z: &[f64]| {
        let y = rk4(&f, &[C, C * PT, z[0], z[1]], T, 0.0, 20_000);
        (y.clone(), vec![y[2] - S0, y[3] - MU0])
    };
    let mut z = vec![S0 + 0.5 * SIGMA * SIGMA * T, 0.5 * (MU0 + PT)];
    for _ in 0..30 {
        let (_, d) = shoot(&z);
        if d.iter().all(|v| v.abs() < 1e-13) {
            break;
        }
        let mut jac = vec![vec![0.0; 2]; 2];
        for c in 0..2 {
            let mut zp = z.clone();
            let eps = 1e-7 * (1.0 + z[c].abs());
            zp[c] += eps;
            let (_, dp) = shoot(&zp);
            for r in 0..2 {
                jac[r][c] = (dp[r] - d[r]) / eps;
            }
        }
        let dz = dense_solve(jac, d.iter().map(|v| -v).collect());
        z.iter_mut().zip(&dz).for_each(|(a, b)| *a += b);
    }
    let (y0, d) = shoot(&z);
    assert!(d.iter().all(|v| v.abs() < 1e-10), "shooting defect {d:?}");
    [y0[0], y0[1], z[0], z[1]]
}

fn problem(nx: usize, nt: usize) -> Problem {
    let grid = Grid::new_1d(-L, L, nx, Boundary::Reflecting).unwrap();
    Problem::builder(grid, TimeGrid::new(T, nt).unwrap())
        .population(
            Population::builder("a", SIGMA, Quadratic::new(1.0))
                .discount(RHO)
                .initial(|x| (-(x[0] - MU0).powi(2) / (2.0 * S0)).exp())
                .potential(|x| 0.5 * Q * (x[0] - P).powi(2))
                .terminal(|x| 0.5 * C * (x[0] - PT).powi(2)),
        )
        .coupling(Log::diagonal(&[KAPPA]))
        .build()
        .unwrap()
}

/// (L1 error of m(T), error of its variance, max error of u(0, x) − u(0, 0) on |x| ≤ 1.5).
fn errors(nx: usize, nt: usize, settings: &SolverSettings, ex: [f64; 4]) -> [f64; 3] {
    let p = problem(nx, nt);
    let sol = mfg::solve(&p, settings).unwrap();
    assert_eq!(sol.termination, Termination::Converged, "{nx}x{nt}");
    let g = p.grid();
    let h = g.h(0);
    let xs: Vec<f64> = (0..nx).map(|i| g.point(i)[0]).collect();
    let [eta0, psi0, s_t, mu_t] = ex;
    let m = sol.iterate.m[0].level(nt);
    let mean: f64 = xs.iter().zip(m).map(|(x, v)| x * v).sum::<f64>() * h;
    let var: f64 = xs
        .iter()
        .zip(m)
        .map(|(x, v)| (x - mean).powi(2) * v)
        .sum::<f64>()
        * h;
    let gauss =
        |x: f64| (-(x - mu_t).powi(2) / (2.0 * s_t)).exp() / (std::f64::consts::TAU * s_t).sqrt();
    let l1: f64 = xs
        .iter()
        .zip(m)
        .map(|(x, v)| (v - gauss(*x)).abs())
        .sum::<f64>()
        * h;
    // u(0, x) − u(0, x0) at the node x0 nearest 0 (nx even: x0 = h/2).
    let u0 = sol.iterate.u[0].level(0);
    let i0 = nx / 2;
    let shape = |x: f64| 0.5 * eta0 * x * x - psi0 * x;
    let du = (0..nx)
        .filter(|&i| xs[i].abs() <= 1.5)
        .map(|i| ((u0[i] - u0[i0]) - (shape(xs[i]) - shape(xs[i0]))).abs())
        .fold(0.0, f64::max);
    [l1, (var - s_t).abs(), du]
}

fn picard() -> SolverSettings {
    SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.7)),
        stopping: Stopping {
            max_iterations: 400,
            tol_u: 1e-9,
            tol_m: 1e-11,
            tol_residual: 1e-10,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    }
}

#[test]
fn discounted_gaussian_solution_is_reproduced_at_first_order() {
    let ex = exact(RHO);
    let grids = [(100, 25), (200, 50), (400, 100)];
    let errs: Vec<[f64; 3]> = grids
        .iter()
        .map(|&(nx, nt)| errors(nx, nt, &picard(), ex))
        .collect();
    for (q, name) in ["L1(m(T))", "variance", "u(0) shape"].iter().enumerate() {
        let v: Vec<f64> = errs.iter().map(|e| e[q]).collect();
        let p = common::order(v[1], v[2], 2.0);
        eprintln!("{name}: errors {v:?}, observed order {p:.3}");
        assert!(v[0] > v[1] && v[1] > v[2], "{name}: {v:?}");
        assert!(p >= 0.8, "{name}: order {p:.3} ({v:?})");
    }
    // The discount is not a small correction: measured against the undiscounted solution,
    // the finest grid's density and value errors are many times larger (the variance, which
    // the discount changes little, is not a discriminating measure).
    let undiscounted = exact(0.0);
    let against = errors(400, 100, &picard(), undiscounted);
    eprintln!("finest grid against the undiscounted solution: {against:?}");
    for q in [0, 2] {
        assert!(
            against[q] > 5.0 * errs[2][q],
            "{against:?} vs {:?}",
            errs[2]
        );
    }
}

#[test]
fn newton_with_a_discount_agrees_with_picard() {
    // The Schur-form Krylov solve needs the HJB blocks (1 + Δtρ)I − ΔtQ factorised apart from
    // the FP blocks I − ΔtQᵀ; the direct LU assembles them entry by entry.
    let p = problem(100, 25);
    let sp = mfg::solve(&p, &picard()).unwrap();
    for linear_solver in [
        mfg::solve::newton::NewtonSolverKind::Krylov,
        mfg::solve::newton::NewtonSolverKind::Direct,
    ] {
        let sn = mfg::solve(&p, &common::tight_newton(linear_solver)).unwrap();
        assert_eq!(sn.termination, Termination::Converged, "{linear_solver:?}");
        assert!(
            sn.history.len() <= 12,
            "{linear_solver:?}: {} iterations",
            sn.history.len()
        );
        let du = sn.iterate.u[0].max_abs_diff(&sp.iterate.u[0]);
        let dm = sn.iterate.m[0].max_abs_diff(&sp.iterate.m[0]);
        assert!(
            du < 1e-7 && dm < 1e-7,
            "{linear_solver:?}: du {du:.2e}, dm {dm:.2e}"
        );
    }
}
