//! The assembled Jacobian of the whole discrete system equals a central finite-difference
//! Jacobian of the residual (relative error ≤ 1e-6), on small 1D and 2D two-population
//! problems (with congestion Hamiltonians too: the density-transport block); and the
//! matrix-free product equals the assembled matrix times a vector.

mod common;

use common::models::crossing::*;
use mfg::grid::Boundary;
use mfg::problem::Problem;
use mfg::scheme::jacobian::{self, Layout, Linearization};
use mfg::scheme::{Costs, Request, System};
use mfg::solve::Iterate;

fn residual_vector(problem: &Problem, it: &Iterate) -> Vec<f64> {
    let layout = Layout::new(problem);
    let mut f = vec![0.0; layout.len()];
    System::new(problem).evaluate(
        problem,
        it,
        Request {
            costs: Costs::Scaled(1.0),
            values: Some(&mut f),
            linearization: None,
        },
    );
    f
}

fn check_against_finite_differences(problem: &Problem) {
    check_against_finite_differences_with(problem, 6);
}

/// As [`check_against_finite_differences`], with at least `per_row` non-zeros per row on
/// average (removed nodes of masked problems have trivial rows).
fn check_against_finite_differences_with(problem: &Problem, per_row: usize) {
    let layout = Layout::new(problem);
    let len = layout.len();
    let it = perturbed(problem);
    let mut lin = Linearization::new(problem);
    let mut f0 = vec![0.0; len];
    System::new(problem).evaluate(
        problem,
        &it,
        Request {
            costs: Costs::Scaled(1.0),
            values: Some(&mut f0),
            linearization: Some(&mut lin),
        },
    );
    let mut dense = vec![0.0; len * len];
    for (r, c, v) in lin.triplets(problem.grid()) {
        dense[r * len + c] += v;
    }
    let mut x = vec![0.0; len];
    jacobian::gather(&layout, &it.u, &it.m, &mut x);
    let mut fd = vec![0.0; len * len];
    let mut work = it.clone();
    for c in 0..len {
        let eps = 1e-6 * x[c].abs().max(1e-2);
        let mut xp = x.clone();
        xp[c] += eps;
        jacobian::scatter(&layout, &xp, &mut work.u, &mut work.m);
        let fp = residual_vector(problem, &work);
        xp[c] -= 2.0 * eps;
        jacobian::scatter(&layout, &xp, &mut work.u, &mut work.m);
        let fm = residual_vector(problem, &work);
        for r in 0..len {
            fd[r * len + c] = (fp[r] - fm[r]) / (2.0 * eps);
        }
    }
    let scale = dense.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut worst = (0.0, 0, 0);
    for r in 0..len {
        for c in 0..len {
            let e = (dense[r * len + c] - fd[r * len + c]).abs() / scale;
            if e > worst.0 {
                worst = (e, r, c);
            }
        }
    }
    let (e, r, c) = worst;
    eprintln!("worst relative error {e:.2e} (scale {scale:.2e}, {len} unknowns)");
    assert!(
        e <= 1e-6,
        "relative error {e:.3e} at row {r}, column {c}: assembled {} vs finite differences {}",
        dense[r * len + c],
        fd[r * len + c]
    );
    // The Jacobian is not trivially sparse: every block kind is present.
    let nnz = dense.iter().filter(|v| **v != 0.0).count();
    assert!(nnz > per_row * len, "{nnz} non-zeros for {len} unknowns");

    // Matrix-free product = assembled matrix times a vector.
    let v: Vec<f64> = (0..len)
        .map(|i| ((i * 37 % 101) as f64 / 50.0) - 1.0)
        .collect();
    let mut y = vec![0.0; len];
    lin.apply(problem.grid(), &v, &mut y);
    for r in 0..len {
        let yr: f64 = (0..len).map(|c| dense[r * len + c] * v[c]).sum();
        assert!(
            (yr - y[r]).abs() <= 1e-12 * (1.0 + yr.abs()) * scale,
            "row {r}: {yr} vs {}",
            y[r]
        );
    }
}

#[test]
fn jacobian_matches_finite_differences_1d_reflecting() {
    check_against_finite_differences(&problem_1d(12, 5, Boundary::Reflecting, mixed()));
}

#[test]
fn jacobian_matches_finite_differences_1d_periodic() {
    check_against_finite_differences(&problem_1d(10, 4, Boundary::Periodic, monotone()));
}

#[test]
fn jacobian_matches_finite_differences_2d() {
    check_against_finite_differences(&problem_2d(5, 4, 3, mixed()));
}

/// The residual norms with the running costs computed along (Newton's path, at coupling
/// strength 1) equal those with precomputed running costs (the Picard-type methods' path).
#[test]
fn residual_norms_equal_system_residual() {
    let problem = problem_2d(6, 5, 4, mixed());
    let it = perturbed(&problem);
    let mut system = System::new(&problem);
    let r = system.evaluate(&problem, &it, Request::scaled(1.0));
    let mut sources: Vec<mfg::Field> = (0..2)
        .map(|_| mfg::Field::filled(problem.time().nt, problem.grid().len(), 0.0))
        .collect();
    for (k, s) in sources.iter_mut().enumerate() {
        mfg::scheme::running_costs(&problem, k, &it.m, s);
    }
    let want = system.residual(&problem, &it, &sources);
    assert!(
        (r.hjb - want.hjb).abs() <= 1e-14 * want.hjb.max(1.0),
        "{r:?} vs {want:?}"
    );
    assert!(
        (r.fp - want.fp).abs() <= 1e-14 * want.fp.max(1.0),
        "{r:?} vs {want:?}"
    );
}

#[test]
fn jacobian_matches_finite_differences_1d_masked() {
    use common::models::geometry::masked_1d;
    check_against_finite_differences_with(&masked_1d(14, 4, mixed()), 4);
}

#[test]
fn jacobian_matches_finite_differences_2d_masked() {
    use common::models::geometry::masked_2d;
    check_against_finite_differences_with(&masked_2d(7, 5, 3, mixed()), 4);
}

#[test]
fn jacobian_matches_finite_differences_2d_masked_with_drift() {
    use common::models::geometry::masked_2d_drift;
    check_against_finite_differences_with(&masked_2d_drift(7, 5, 3, mixed(), true), 4);
}

#[test]
fn jacobian_matches_finite_differences_1d_exits() {
    use common::models::exits::corridor_1d;
    check_against_finite_differences_with(&corridor_1d(14, 4, mixed()), 4);
}

#[test]
fn jacobian_matches_finite_differences_2d_exits() {
    use common::models::exits::room_2d;
    check_against_finite_differences_with(&room_2d(7, 5, 3, mixed()), 4);
}

#[test]
fn jacobian_matches_finite_differences_with_discount_and_exits() {
    use common::models::exits::corridor_1d_discounted;
    check_against_finite_differences_with(&corridor_1d_discounted(14, 4, mixed()), 4);
}

#[test]
fn jacobian_matches_finite_differences_1d_congestion() {
    use common::models::congestion::{congested_1d, mild};
    check_against_finite_differences(&congested_1d(12, 5, 1.2, mild()));
}

#[test]
fn jacobian_matches_finite_differences_2d_congestion() {
    use common::models::congestion::{congested_2d, mild};
    check_against_finite_differences(&congested_2d(5, 4, 3, 1.0, mild()));
}
