//! The step solver's paths against each other (LU as the reference) on random generators,
//! and its FP policy: sign, mass, polish, fallback, early stop.

use super::*;
use crate::grid::Axis;
use crate::linalg::testing::{rel_err, Lcg};
use crate::linalg::vector::norm;
use crate::linalg::LinearOperator;

const DT: f64 = 1.0 / 64.0;

fn grid(nx: usize, ny: usize, bx: Boundary, by: Boundary) -> Grid {
    let x = Axis::new(0.0, 1.0, nx, bx);
    if ny == 1 {
        Grid::new(vec![x]).unwrap()
    } else {
        Grid::new_2d(x, Axis::new(0.0, 1.0, ny, by)).unwrap()
    }
}

/// Q(u) of a quadratic Hamiltonian for a random smooth u (a few random sine modes, slopes
/// of order `amp`), as the HJB step builds it.
fn random_generator(grid: &Grid, seed: u64, amp: f64) -> Generator {
    let mut rng = Lcg(seed);
    let modes: Vec<[f64; 4]> = (0..4)
        .map(|_| {
            [
                (1.0 + 3.0 * rng.next()).floor(),
                (3.0 * rng.next()).floor(),
                std::f64::consts::TAU * rng.next(),
                amp * (rng.next() - 0.5),
            ]
        })
        .collect();
    let u = grid.sample(|p| {
        let y = p.get(1).copied().unwrap_or(0.0);
        modes
            .iter()
            .map(|[kx, ky, ph, c]| {
                c / kx * (std::f64::consts::TAU * (kx * p[0] + ky * y) + ph).sin()
            })
            .sum()
    });
    crate::scheme::generator::quadratic_generator(grid, 0.25, &u)
}

fn grids() -> Vec<Grid> {
    use Boundary::{Periodic as P, Reflecting as R};
    vec![
        grid(3, 1, R, R),
        grid(3, 1, P, R),
        grid(40, 1, R, R),
        grid(40, 1, P, R),
        grid(3, 3, P, P),
        grid(12, 9, R, R),
        grid(13, 10, P, R),
        grid(11, 14, R, P),
        grid(9, 9, P, P),
        grid(64, 64, R, R),
        grid(64, 64, P, P),
    ]
}

#[test]
fn iterative_matches_lu_on_random_generators() {
    for (g, grid) in grids().iter().enumerate() {
        let gen = random_generator(grid, 7 + g as u64, 4.0);
        let mut lu = StepSolver::sparse(grid).unwrap();
        let mut it = StepSolver::iterative(grid, IterativeSettings::default()).unwrap();
        lu.factor(grid, &gen, 1.0 / DT).unwrap();
        it.factor(grid, &gen, 1.0 / DT).unwrap();
        let mut rng = Lcg(100 + g as u64);
        let b: Vec<f64> = (0..grid.len()).map(|_| rng.next() - 0.3).collect();
        let (mut x_lu, mut x_it) = (b.clone(), b.clone());
        lu.solve(&mut x_lu).unwrap();
        it.solve(&mut x_it).unwrap();
        let e = rel_err(&x_it, &x_lu);
        assert!(e < 1e-12, "grid {g}: J solve error {e:e}");
        let bp: Vec<f64> = b.iter().map(|v| v + 0.3).collect();
        let (mut x_lu, mut x_it) = (bp.clone(), bp.clone());
        lu.solve_transpose(&mut x_lu).unwrap();
        it.solve_transpose(&mut x_it).unwrap();
        let e = rel_err(&x_it, &x_lu);
        assert!(e < 1e-12, "grid {g}: Jᵀ solve error {e:e}");
        let s = it.stats().unwrap();
        assert_eq!(s.fallbacks, 0, "grid {g}: {s:?}");
    }
}

/// Sixteen FP steps from a narrow Gaussian (m ≈ 1e-80 and below in the far corners).
/// Returns the solver's counters.
fn fp_steps(grid: &Grid, settings: IterativeSettings, seed: u64, tol: f64) -> IterativeStats {
    let mut m = grid.sample(|p| {
        let r2: f64 = p.iter().map(|x| (x - 0.3) * (x - 0.3)).sum();
        (-r2 / (2.0 * 0.035 * 0.035)).exp()
    });
    assert!(m.iter().cloned().fold(1.0, f64::min) < 1e-80);
    let mass0: f64 = m.iter().sum();
    let mut it = StepSolver::iterative(grid, settings).unwrap();
    let mut lu = StepSolver::sparse(grid).unwrap();
    for n in 0..16 {
        let gen = random_generator(grid, 31 * n + seed, 4.0);
        it.factor(grid, &gen, 1.0 / DT).unwrap();
        lu.factor(grid, &gen, 1.0 / DT).unwrap();
        let mut b: Vec<f64> = m.iter().map(|v| v / DT).collect();
        let mut x_lu = b.clone();
        lu.solve_transpose(&mut x_lu).unwrap();
        it.solve_transpose(&mut b).unwrap();
        assert!(b.iter().all(|v| *v >= 0.0), "step {n}: negative m");
        let e = rel_err(&b, &x_lu);
        assert!(e < tol, "step {n}: error {e:e}");
        let drift = (b.iter().sum::<f64>() - m.iter().sum::<f64>()).abs() / mass0;
        assert!(drift < 1e-13, "step {n}: mass drift {drift:e}");
        m = b;
    }
    it.stats().unwrap()
}

#[test]
fn fp_steps_keep_sign_and_mass_with_far_tails() {
    use Boundary::{Periodic as P, Reflecting as R};
    for (g, grid) in [grid(64, 64, R, R), grid(32, 24, P, R), grid(200, 1, R, R)]
        .iter()
        .enumerate()
    {
        let s = fp_steps(grid, IterativeSettings::default(), g as u64, 1e-12);
        assert_eq!(s.fallbacks, 0, "grid {g}: {s:?}");
    }
}

#[test]
fn positivity_polish_repairs_negative_entries() {
    // BiCGSTAB's FP results are rarely negative in practice, even at loose tolerances, so
    // the polish is fed a perturbed exact solution directly, with negative far tails.
    let grid = grid(32, 24, Boundary::Periodic, Boundary::Reflecting);
    let gen = random_generator(&grid, 13, 6.0);
    // The default (MILU) settings: the polish must build its own D-ILU splitting.
    let mut s = IluBicgstab::new(&grid, IterativeSettings::default()).unwrap();
    s.factor(&grid, &gen, 1.0 / DT).unwrap();
    let (mut t, mut us) = (vec![0.0; grid.len()], vec![0.0; grid.len()]);
    s.ensure_transpose();
    let b: Vec<f64> = grid.sample(|p| {
        let r2: f64 = p.iter().map(|x| (x - 0.3) * (x - 0.3)).sum();
        (-r2 / (2.0 * 0.035 * 0.035)).exp() / DT
    });
    let mut exact = b.clone();
    let mut lu = StepSolver::sparse(&grid).unwrap();
    lu.factor(&grid, &gen, 1.0 / DT).unwrap();
    lu.solve_transpose(&mut exact).unwrap();
    let mut rng = Lcg(17);
    let scale_x = exact.iter().cloned().fold(0.0, f64::max);
    let mut x: Vec<f64> = exact
        .iter()
        .map(|v| v + 1e-9 * scale_x * (rng.next() - 0.5))
        .collect();
    assert!(x.iter().filter(|v| **v < 0.0).count() > 10);
    let before = rel_err(&x, &exact);
    s.polish_transpose(&b, &mut x, &mut t, &mut us);
    assert!(x.iter().all(|v| *v > 0.0), "the polish left m ≤ 0");
    let after = rel_err(&x, &exact);
    assert!(after < 0.5 * before, "{before:e} -> {after:e}");
}

#[test]
fn lu_fallback_takes_over_when_bicgstab_stops_short() {
    let grid = grid(20, 16, Boundary::Reflecting, Boundary::Periodic);
    let gen = random_generator(&grid, 5, 4.0);
    let settings = IterativeSettings {
        max_iterations: 1,
        ..Default::default()
    };
    let mut it = StepSolver::iterative(&grid, settings).unwrap();
    let mut lu = StepSolver::sparse(&grid).unwrap();
    it.factor(&grid, &gen, 1.0 / DT).unwrap();
    lu.factor(&grid, &gen, 1.0 / DT).unwrap();
    let b: Vec<f64> = grid.sample(|p| 1.0 + p[0] * p[1]);
    for transpose in [false, true] {
        let (mut x_it, mut x_lu) = (b.clone(), b.clone());
        if transpose {
            it.solve_transpose(&mut x_it).unwrap();
            lu.solve_transpose(&mut x_lu).unwrap();
        } else {
            it.solve(&mut x_it).unwrap();
            lu.solve(&mut x_lu).unwrap();
        }
        assert!(rel_err(&x_it, &x_lu) < 1e-13);
    }
    assert_eq!(it.stats().unwrap().fallbacks, 2);
    // A new factorisation must reach the fallback too.
    let gen2 = random_generator(&grid, 6, 4.0);
    it.factor(&grid, &gen2, 1.0 / DT).unwrap();
    lu.factor(&grid, &gen2, 1.0 / DT).unwrap();
    let (mut x_it, mut x_lu) = (b.clone(), b.clone());
    it.solve(&mut x_it).unwrap();
    lu.solve(&mut x_lu).unwrap();
    assert!(rel_err(&x_it, &x_lu) < 1e-13);
}

#[test]
fn absolute_target_stops_early() {
    let grid = grid(32, 32, Boundary::Reflecting, Boundary::Reflecting);
    let gen = random_generator(&grid, 9, 4.0);
    let mut it = StepSolver::iterative(&grid, IterativeSettings::default()).unwrap();
    it.factor(&grid, &gen, 1.0 / DT).unwrap();
    let b: Vec<f64> = grid.sample(|p| (6.0 * p[0]).sin() * p[1]);
    let mut x = b.clone();
    it.solve_to(&mut x, 1e-6 * norm(&b)).unwrap();
    let loose = it.stats().unwrap().iterations;
    let mut y = b.clone();
    it.solve(&mut y).unwrap();
    let full = it.stats().unwrap().iterations - loose;
    assert!(loose < full, "{loose} vs {full}");
    let StepSolver::Iterative(s) = &mut it else {
        unreachable!()
    };
    let mut r = vec![0.0; grid.len()];
    s.j.apply(&x, &mut r).unwrap();
    r.iter_mut().zip(&b).for_each(|(ri, bi)| *ri = bi - *ri);
    assert!(norm(&r) <= 1e-6 * norm(&b));
}

/// The 1D fast paths (Thomas, Sherman–Morrison) against the sparse LU on 3- and 4-node lines,
/// walled and periodic, for J and Jᵀ.
#[test]
fn tridiagonal_paths_match_lu_at_edge_sizes() {
    for n in [3, 4] {
        for b in [Boundary::Reflecting, Boundary::Periodic] {
            let grid = grid(n, 1, b, b);
            let gen = random_generator(&grid, n as u64, 6.0);
            let mut fast = StepSolver::new(&grid).unwrap();
            assert!(matches!(
                (&fast, b),
                (StepSolver::Tridiagonal(_), Boundary::Reflecting)
                    | (StepSolver::Cyclic(_), Boundary::Periodic)
            ));
            let mut lu = StepSolver::sparse(&grid).unwrap();
            fast.factor(&grid, &gen, 1.0 / DT).unwrap();
            lu.factor(&grid, &gen, 1.0 / DT).unwrap();
            let rhs: Vec<f64> = Lcg(n as u64).vector(n, -0.5);
            let (mut x, mut y) = (rhs.clone(), rhs.clone());
            fast.solve(&mut x).unwrap();
            lu.solve(&mut y).unwrap();
            assert!(rel_err(&x, &y) < 1e-14, "n {n} {b:?}");
            let (mut x, mut y) = (rhs.clone(), rhs.clone());
            fast.solve_transpose(&mut x).unwrap();
            lu.solve_transpose(&mut y).unwrap();
            assert!(rel_err(&x, &y) < 1e-14, "n {n} {b:?} transpose");
        }
    }
}

/// A non-finite rate breaks the M-matrix: the Thomas and MILU factorisations report a pivot
/// failure naming their solver.
#[test]
fn non_finite_rates_are_reported() {
    for (nx, ny) in [(5, 1), (6, 5)] {
        let grid = grid(nx, ny, Boundary::Reflecting, Boundary::Reflecting);
        let mut bad = random_generator(&grid, 2, 4.0);
        bad.rates_mut()[2 * 2 * grid.dim() + 1] = f64::NAN;
        let mut s = StepSolver::iterative(&grid, IterativeSettings::default()).unwrap();
        let e = s.factor(&grid, &bad, 1.0 / DT).unwrap_err().to_string();
        assert!(e.contains("MILU"), "{e}");
        if ny == 1 {
            let mut t = StepSolver::new(&grid).unwrap();
            let e = t.factor(&grid, &bad, 1.0 / DT).unwrap_err().to_string();
            assert!(e.contains("tridiagonal"), "{e}");
        }
        // The solver is usable again after a good factorisation.
        s.factor(&grid, &random_generator(&grid, 3, 4.0), 1.0 / DT)
            .unwrap();
    }
}
