//! The Lasry–Lions monotonicity diagnostic (docs/math.md §5): right on a monotone linear
//! coupling, a purely antisymmetric one (weakly monotone), the predator–prey matrix of the
//! tests and a segregating one (not monotone), and on couplings that cannot tell for all
//! densities (a log coupling with cross terms, monotone at some densities and not at others);
//! after a solve it is evaluated on every level of the solution.

use mfg::grid::{Boundary, Grid, TimeGrid};
use mfg::problem::coupling::{Coupling, Linear, Log};
use mfg::problem::hamiltonian::Quadratic;
use mfg::problem::monotonicity::Verdict;
use mfg::problem::{Monotonicity, Population, Problem};

fn two(c: Box<dyn Coupling>, spread: f64) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, 21, Boundary::Reflecting).unwrap();
    let a = Population::builder("a", 0.3, Quadratic::new(1.0))
        .initial(move |x| (-(x[0] - 0.3).powi(2) / spread).exp());
    let b = Population::builder("b", 0.3, Quadratic::new(1.0))
        .initial(move |x| (-(x[0] - 0.7).powi(2) / spread).exp());
    Problem::builder(grid, TimeGrid::new(0.5, 5).unwrap())
        .population(a)
        .population(b)
        .boxed_coupling(c)
        .build()
        .unwrap()
}

fn linear(rows: &[Vec<f64>]) -> Monotonicity {
    Monotonicity::at_initial(&two(Box::new(Linear::from_rows(rows)), 0.05))
}

#[test]
fn linear_couplings() {
    // Symmetric part [[1, .5], [.5, .8]]: eigenvalues 0.9 ± 0.51.
    let m = linear(&[vec![1.0, 0.5], vec![0.5, 0.8]]);
    assert_eq!(m.verdict, Verdict::Strict, "{m:?}");
    assert_eq!(m.for_all_densities, Some(true));
    let want = 0.9 - (0.01f64 + 0.25).sqrt();
    assert!((m.lambda_min - want).abs() < 1e-14, "{m:?}");
    assert!(
        m.describe().contains("for all densities"),
        "{}",
        m.describe()
    );

    // Purely antisymmetric: symmetric part 0, monotone in the weak sense.
    let m = linear(&[vec![0.0, 1.5], vec![-1.5, 0.0]]);
    assert_eq!(m.verdict, Verdict::Weak, "{m:?}");
    assert_eq!(m.lambda_min, 0.0);
    assert!(m.describe().contains("weak sense"), "{}", m.describe());

    // The predator–prey pattern of the tests: symmetric part [[0, -1], [-1, -0.5]].
    let m = linear(&[vec![0.0, -4.0], vec![2.0, -0.5]]);
    assert_eq!(m.verdict, Verdict::Not, "{m:?}");
    let want = -0.25 - (0.0625f64 + 1.0).sqrt();
    assert!((m.lambda_min - want).abs() < 1e-14, "{m:?}");

    // Segregating: each avoids the other far more than its own kind (eigenvalues 0.55, -0.45).
    let m = linear(&[vec![0.05, 0.5], vec![0.5, 0.05]]);
    assert_eq!(m.verdict, Verdict::Not, "{m:?}");
    assert!((m.lambda_min + 0.45).abs() < 1e-14, "{m:?}");
    let d = m.describe();
    assert!(
        d.contains("NOT monotone") && d.contains("may not be unique"),
        "{d}"
    );
}

/// f^k = Σ_j κ_kj log m^j with cross terms: J = κ_kj/m^j depends on m, the coupling cannot
/// tell for all densities. With κ = [[1, 1], [1, 1]], J's symmetric part at (m1, m2) has
/// determinant 1/(m1 m2) − (1/m1 + 1/m2)²/4 = −(1/m1 − 1/m2)²/4 ≤ 0: negative wherever the two
/// densities differ, and (up to round-off) zero where they are equal.
#[test]
fn log_coupling_with_cross_terms_is_tested_at_the_densities() {
    let c = || Box::new(Log::from_rows(&[vec![1.0, 1.0], vec![1.0, 1.0]]));
    let m = Monotonicity::at_initial(&two(c(), 0.05));
    assert_eq!(m.for_all_densities, None);
    assert_eq!(m.verdict, Verdict::Not, "{m:?}");
    assert!(m.lambda_min < 0.0);

    // Equal densities everywhere: the smallest eigenvalue is 0 at every node.
    let grid = Grid::new_1d(0.0, 1.0, 21, Boundary::Reflecting).unwrap();
    let p = Problem::builder(grid, TimeGrid::new(0.5, 5).unwrap())
        .population(Population::builder("a", 0.3, Quadratic::new(1.0)).initial(|_| 1.0))
        .population(Population::builder("b", 0.3, Quadratic::new(1.0)).initial(|_| 1.0))
        .boxed_coupling(c())
        .build()
        .unwrap();
    let m = Monotonicity::at_initial(&p);
    assert_eq!(m.verdict, Verdict::Weak, "{m:?}");
    assert!(
        m.describe().contains("not established for all densities"),
        "{}",
        m.describe()
    );

    // A diagonal log coupling is monotone for all densities.
    let m = Monotonicity::at_initial(&two(Box::new(Log::diagonal(&[0.2, 0.1])), 0.05));
    assert_eq!(
        (m.verdict, m.for_all_densities),
        (Verdict::Strict, Some(true))
    );
}

#[test]
fn after_a_solve_every_level_is_tested() {
    let p = two(
        Box::new(Log::from_rows(&[vec![0.1, 0.05], vec![0.05, 0.1]])),
        0.05,
    );
    let s = mfg::solve(&p, &mfg::SolverSettings::default()).unwrap();
    let m = Monotonicity::at_solution(&p, &s.iterate.m);
    assert_eq!(m.tested, "solution");
    assert!(m.at.1.is_some_and(|n| n <= p.time().nt), "{m:?}");
    // The level and value it reports are those of the worst level tested alone.
    let per_level: Vec<f64> = (0..=p.time().nt)
        .map(|n| {
            let levels = [(Some(n), s.iterate.m.iter().map(|f| f.level(n)).collect())];
            Monotonicity::test(&p, "one level", levels).lambda_min
        })
        .collect();
    let worst = (0..per_level.len())
        .min_by(|&a, &b| per_level[a].total_cmp(&per_level[b]))
        .unwrap();
    assert_eq!(m.at.1, Some(worst), "{m:?} vs {per_level:?}");
    assert_eq!(m.lambda_min, per_level[worst]);
    // The densities move, and with them this coupling's linearisation.
    assert!(per_level[0] != per_level[p.time().nt], "{per_level:?}");
}
