//! The Lasry–Lions monotonicity diagnostic of a problem's coupling (docs/math.md §5).
//!
//! A local coupling is monotone when Σ_k ∫ (f^k(x, m) − f^k(x, m'))(m^k − m'^k) dx ≥ 0 for all
//! densities; a sufficient pointwise condition is that the symmetric part of the K×K matrix
//! J(x, m) = (∂f^k/∂m^j)(x, m) is positive semi-definite at every x and m, and a negative
//! eigenvalue of it at one node and one m > 0 is enough to break monotonicity (perturb m in
//! the direction of its eigenvector near that node). The diagnostic computes
//!
//!   λ_min = min over the tested nodes (and levels) of the smallest eigenvalue of (J + Jᵀ)/2
//!
//! at given densities — the initial ones before a solve, the solution's after — and combines it
//! with what the coupling knows for all densities ([`super::Coupling::is_monotone`]: exact for
//! a linear coupling, whose J does not depend on m). A tested λ_min < 0 proves that the
//! coupling is not monotone; λ_min ≥ 0 proves monotonicity for all densities only when the
//! coupling says so.

use super::Problem;
use nalgebra::DMatrix;

/// What the test found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// λ_min > 0 (beyond round-off): strictly monotone.
    Strict,
    /// λ_min = 0 up to round-off (e.g. an antisymmetric interaction): monotone in the weak sense,
    /// which with Hamiltonians strictly convex in p still gives uniqueness.
    Weak,
    /// λ_min < 0: not monotone.
    Not,
}

impl Verdict {
    /// `strict`, `weak` or `no` (the result files' attribute).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Strict => "strict",
            Verdict::Weak => "weak",
            Verdict::Not => "no",
        }
    }
}

/// The monotonicity diagnostic at one set of densities.
#[derive(Debug, Clone, PartialEq)]
pub struct Monotonicity {
    /// The densities tested: `initial densities`, `solution`, ….
    pub tested: String,
    /// The smallest eigenvalue of the symmetric part of J over the tested nodes and levels.
    pub lambda_min: f64,
    /// Where it is attained: the node's position and the time level (None for one level).
    pub at: (Vec<f64>, Option<usize>),
    /// What the tested densities show.
    pub verdict: Verdict,
    /// The coupling's own statement for all densities ([`super::Coupling::is_monotone`]).
    pub for_all_densities: Option<bool>,
    /// Whether some Hamiltonian depends on the densities (congestion), which the test of the
    /// coupling does not cover.
    pub congestion: bool,
}

impl Monotonicity {
    /// The test on `levels`, each a list of the K densities on the grid (with its time level,
    /// None for a single level), over the nodes where at least one population lives.
    pub fn test<'a>(
        problem: &Problem,
        tested: &str,
        levels: impl IntoIterator<Item = (Option<usize>, Vec<&'a [f64]>)>,
    ) -> Self {
        let grid = problem.grid();
        let d = grid.dim();
        let kk = problem.k();
        let live = problem.live_masks();
        let mut worst = (f64::INFINITY, 0, None);
        let mut verdict = Verdict::Strict;
        let mut mloc = vec![0.0; kk];
        let mut j = DMatrix::<f64>::zeros(kk, kk);
        for (level, m) in levels {
            for i in 0..grid.len() {
                if !live.iter().any(|l| l[i]) {
                    continue;
                }
                for (v, mk) in mloc.iter_mut().zip(&m) {
                    *v = mk[i];
                }
                let x = grid.point(i);
                for k in 0..kk {
                    for l in 0..kk {
                        j[(k, l)] = problem.coupling().derivative(k, l, &x[..d], &mloc);
                    }
                }
                let lambda = smallest_symmetric_eigenvalue(&j);
                // Round-off of the eigenvalue relative to the entries at this node (a log
                // coupling's κ/m can be huge where m is tiny).
                let tol = 1e-12 * j.amax().max(1.0);
                let here = if lambda < -tol {
                    Verdict::Not
                } else if lambda <= tol {
                    Verdict::Weak
                } else {
                    Verdict::Strict
                };
                verdict = match (verdict, here) {
                    (Verdict::Not, _) | (_, Verdict::Not) => Verdict::Not,
                    (Verdict::Weak, _) | (_, Verdict::Weak) => Verdict::Weak,
                    _ => Verdict::Strict,
                };
                if lambda < worst.0 {
                    worst = (lambda, i, level);
                }
            }
        }
        let for_all_densities = problem.coupling().is_monotone();
        if for_all_densities == Some(false) {
            verdict = Verdict::Not;
        }
        let p = grid.point(worst.1);
        Monotonicity {
            tested: tested.to_string(),
            lambda_min: worst.0,
            at: (p[..d].to_vec(), worst.2),
            verdict,
            for_all_densities,
            congestion: problem
                .populations()
                .iter()
                .any(|p| p.hamiltonian().depends_on_density()),
        }
    }

    /// The test on every level of the densities `m` (one field per population, with as many
    /// levels as the solution has: Nt + 1, or 1 for a stationary one).
    pub fn at_solution(problem: &Problem, m: &[crate::field::Field]) -> Self {
        let levels = m.first().map_or(0, |f| f.levels());
        let single = levels == 1;
        Self::test(
            problem,
            "solution",
            (0..levels).map(|n| {
                let at = (!single).then_some(n);
                (at, m.iter().map(|f| f.level(n)).collect::<Vec<_>>())
            }),
        )
    }

    /// The test on a stationary solution's densities (one level).
    pub fn at_stationary(problem: &Problem, m: &[Vec<f64>]) -> Self {
        let m: Vec<&[f64]> = m.iter().map(Vec::as_slice).collect();
        Self::test(problem, "solution", [(None, m)])
    }

    /// The test at the initial densities m0^k (a stationary problem's uniform ones).
    pub fn at_initial(problem: &Problem) -> Self {
        let m: Vec<&[f64]> = problem.populations().iter().map(|p| p.initial()).collect();
        let tested = if problem.horizon() == super::Horizon::Stationary {
            "uniform densities"
        } else {
            "initial densities"
        };
        Self::test(problem, tested, [(None, m)])
    }

    /// One line for `mfg check` and the solve summary; a failed test adds the warning.
    pub fn describe(&self) -> String {
        let at = self
            .at
            .0
            .iter()
            .map(|v| format!("{v:.4}"))
            .collect::<Vec<_>>()
            .join(", ");
        let at = match self.at.1 {
            Some(n) => format!("x = ({at}), level {n}"),
            None => format!("x = ({at})"),
        };
        let lambda = format!(
            "smallest eigenvalue of the symmetric part of ∂f/∂m {:.4e} at {at}, {}",
            self.lambda_min, self.tested
        );
        let line = match (self.verdict, self.for_all_densities) {
            (Verdict::Not, _) => format!(
                "coupling NOT monotone (Lasry–Lions): {lambda}; equilibria may not be unique and \
                 plain Picard may oscillate: damping (relaxation), fictitious play, Anderson or \
                 Newton may be needed"
            ),
            (v, Some(true)) => format!(
                "coupling monotone (Lasry–Lions{}) for all densities: {lambda}; with Hamiltonians \
                 strictly convex in p the equilibrium is unique",
                if v == Verdict::Weak {
                    ", in the weak sense"
                } else {
                    ""
                }
            ),
            (_, _) => format!(
                "coupling monotone at the {} (Lasry–Lions test of the linearisation): {lambda}; \
                 not established for all densities, so equilibria may not be unique",
                self.tested
            ),
        };
        if self.congestion {
            format!(
                "{line} (the test covers the coupling; the congestion Hamiltonians are outside \
                 it, beyond their bound on α)"
            )
        } else {
            line
        }
    }
}

/// λ_min((J + Jᵀ)/2): in closed form for K ≤ 2 (the test runs on every node of every level),
/// by nalgebra's symmetric eigensolver otherwise.
fn smallest_symmetric_eigenvalue(j: &DMatrix<f64>) -> f64 {
    match j.nrows() {
        1 => j[(0, 0)],
        2 => {
            let (a, d, b) = (j[(0, 0)], j[(1, 1)], 0.5 * (j[(0, 1)] + j[(1, 0)]));
            0.5 * (a + d) - (0.25 * (a - d) * (a - d) + b * b).sqrt()
        }
        _ => ((j + j.transpose()) * 0.5).symmetric_eigenvalues().min(),
    }
}
