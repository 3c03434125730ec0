//! Populations with a mass other than 1 (docs/geometry.md): m0^k is normalised to Σ_i m0_i h^d = M_k,
//! the FP sweep keeps that mass at every level, and since a linear coupling only sees the
//! products A_kj m^j, the problem with masses M_j and coupling A_kj / M_j has the same u and
//! the densities M_j m^j of the unit-mass problem.

use mfg::problem::coupling::Linear;
use mfg::problem::hamiltonian::Quadratic;
use mfg::solve::{MethodKind, Relaxation, Stopping, Termination};
use mfg::{Boundary, Grid, Population, Problem, SolverSettings, TimeGrid};

fn problem(masses: [f64; 2]) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, 60, Boundary::Reflecting).unwrap();
    let a = [[0.5, 1.0], [0.8, 0.3]];
    let rows: Vec<Vec<f64>> = (0..2)
        .map(|k| (0..2).map(|j| a[k][j] / masses[j]).collect())
        .collect();
    Problem::builder(grid, TimeGrid::new(0.5, 25).unwrap())
        .population(
            Population::builder("a", 0.4, Quadratic::new(1.0))
                .initial(|x| (-(x[0] - 0.3).powi(2) * 20.0).exp())
                .terminal(|x| (x[0] - 0.8).powi(2))
                .mass(masses[0]),
        )
        .population(
            Population::builder("b", 0.3, Quadratic::new(2.0))
                .initial(|x| (-(x[0] - 0.7).powi(2) * 30.0).exp())
                .terminal(|x| (x[0] - 0.1).powi(2))
                .mass(masses[1]),
        )
        .coupling(Linear::from_rows(&rows))
        .build()
        .unwrap()
}

fn settings() -> SolverSettings {
    SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.5)),
        stopping: Stopping {
            max_iterations: 300,
            tol_u: 1e-11,
            tol_m: 1e-11,
            tol_residual: 1e-11,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    }
}

#[test]
fn mass_is_kept_and_scales_the_densities() {
    let masses = [3.0, 0.25];
    let (p1, pm) = (problem([1.0, 1.0]), problem(masses));
    let (s1, sm) = (
        mfg::solve(&p1, &settings()).unwrap(),
        mfg::solve(&pm, &settings()).unwrap(),
    );
    assert_eq!(s1.termination, Termination::Converged);
    assert_eq!(sm.termination, Termination::Converged);
    for (k, &mk) in masses.iter().enumerate() {
        assert!((pm.grid().integrate(pm.population(k).initial()) - mk).abs() < 1e-12 * mk);
        for (n, v) in sm.mass(&pm, k).iter().enumerate() {
            assert!(
                (v - mk).abs() <= 1e-12 * mk,
                "population {k}, level {n}: {v}"
            );
        }
        let (u1, um) = (s1.iterate.u[k].as_slice(), sm.iterate.u[k].as_slice());
        let du = u1
            .iter()
            .zip(um)
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        let (m1, mm) = (s1.iterate.m[k].as_slice(), sm.iterate.m[k].as_slice());
        let dm = m1
            .iter()
            .zip(mm)
            .fold(0.0f64, |a, (x, y)| a.max((mk * x - y).abs()));
        assert!(
            du < 1e-9 && dm < 1e-9 * mk,
            "population {k}: |Δu| {du:e}, |Δm| {dm:e}"
        );
    }
}
