//! Couplings f^k(x, m^1, …, m^K): the running cost of population k as a function of the local
//! densities of all populations (docs/math.md §1).
//!
//! Shipped forms: linear interaction f^k = Σ_j A_kj m^j, logarithmic congestion / entropy
//! f^k = Σ_j κ_kj log m^j (self-only when κ is diagonal), power congestion f^k = κ_k (m^k)^β,
//! and sums of these. Each reports its analytic derivatives ∂f^k/∂m^j for Newton's method.

use crate::error::{Error, Result};
use nalgebra::DMatrix;
use std::fmt::Debug;

/// A local coupling f^k(x, m^1..m^K).
pub trait Coupling: Send + Sync + Debug {
    /// f^k(x, m), with `m` the densities of all K populations at x.
    fn cost(&self, k: usize, x: &[f64], m: &[f64]) -> f64;

    /// ∂f^k/∂m^j at (x, m).
    fn derivative(&self, k: usize, j: usize, x: &[f64], m: &[f64]) -> f64;

    /// Human-readable form, e.g. `linear(A=[[1, 0.5], [0.5, 1]])`.
    fn describe(&self) -> String;

    /// The parameters as numbers (stored in result files), one entry per term of a sum.
    /// `None` when the coupling does not list them (a coupling defined outside the library
    /// that does not implement this): files then carry only [`Coupling::describe`].
    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        None
    }

    /// Checks the parameters against the number of populations.
    fn validate(&self, populations: usize) -> Result<()>;

    /// Whether the coupling is known to be monotone in the Lasry-Lions sense (uniqueness of the
    /// equilibrium): `Some(true/false)` when it can tell, `None` when it cannot.
    fn is_monotone(&self) -> Option<bool> {
        None
    }

    /// Whether some ∂f^k/∂m^j is unbounded as m^j → 0 (log m, m^β with β < 1). Newton's method
    /// on the coupled system then updates the densities in log m (docs/newton.md §3).
    fn singular_at_zero(&self) -> bool {
        false
    }
}

/// One term of a coupling as numbers: what [`Coupling::terms`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct CouplingTerm {
    /// `linear`, `log`, `power`, …
    pub kind: String,
    /// How the parameters enter f^k, e.g. `f^k += sum_j A[k, j] m^j`.
    pub formula: String,
    /// Its parameters, in the order the formula names them.
    pub parameters: Vec<Parameter>,
}

/// A named parameter of a coupling term.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The name the formula uses, e.g. `A`.
    pub name: String,
    /// `[]` for a number, `[K]` for one value per population k, `[K, K]` for a matrix whose
    /// entry `[k, j]` couples population k to the density of population j.
    pub shape: Vec<usize>,
    /// The values, row-major (`values[k * K + j]` for a matrix).
    pub values: Vec<f64>,
}

impl Parameter {
    fn matrix(name: &str, a: &DMatrix<f64>) -> Self {
        Parameter {
            name: name.into(),
            shape: vec![a.nrows(), a.ncols()],
            values: a
                .row_iter()
                .flat_map(|r| r.iter().copied().collect::<Vec<_>>())
                .collect(),
        }
    }
}

fn matrix_to_string(a: &DMatrix<f64>) -> String {
    let rows: Vec<String> = a
        .row_iter()
        .map(|r| {
            let v: Vec<String> = r.iter().map(|x| format!("{x}")).collect();
            format!("[{}]", v.join(", "))
        })
        .collect();
    format!("[{}]", rows.join(", "))
}

fn check_square(a: &DMatrix<f64>, k: usize, field: &str) -> Result<()> {
    if a.nrows() != k || a.ncols() != k {
        return Err(Error::invalid(
            field,
            format!(
                "a {}x{} matrix for {k} populations: it must be {k}x{k}",
                a.nrows(),
                a.ncols()
            ),
        ));
    }
    if let Some((idx, v)) = a.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            format!("{field}[{}][{}]", idx % k, idx / k),
            format!("{v}: entries must be finite"),
        ));
    }
    Ok(())
}

/// f^k = Σ_j A_kj m^j. A_kj > 0: k avoids j; A_kj < 0: k seeks j.
#[derive(Debug, Clone)]
pub struct Linear {
    /// A (K×K).
    pub a: DMatrix<f64>,
}

impl Linear {
    /// From rows of A.
    pub fn from_rows(rows: &[Vec<f64>]) -> Self {
        let k = rows.len();
        let ncols = rows.first().map_or(0, |r| r.len());
        let mut a = DMatrix::zeros(k, ncols);
        for (i, r) in rows.iter().enumerate() {
            for (j, v) in r.iter().enumerate().take(ncols) {
                a[(i, j)] = *v;
            }
        }
        Linear { a }
    }
}

impl Coupling for Linear {
    fn cost(&self, k: usize, _x: &[f64], m: &[f64]) -> f64 {
        (0..m.len()).map(|j| self.a[(k, j)] * m[j]).sum()
    }

    fn derivative(&self, k: usize, j: usize, _x: &[f64], _m: &[f64]) -> f64 {
        self.a[(k, j)]
    }

    fn describe(&self) -> String {
        format!("linear(A={})", matrix_to_string(&self.a))
    }

    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        Some(vec![CouplingTerm {
            kind: "linear".into(),
            formula: "f^k += sum_j A[k, j] m^j".into(),
            parameters: vec![Parameter::matrix("A", &self.a)],
        }])
    }

    fn validate(&self, populations: usize) -> Result<()> {
        check_square(&self.a, populations, "coupling.linear")
    }

    /// Lasry-Lions: monotone iff the symmetric part (A + Aᵀ)/2 is positive semi-definite.
    fn is_monotone(&self) -> Option<bool> {
        let sym = (&self.a + self.a.transpose()) * 0.5;
        let eig = sym.symmetric_eigenvalues();
        let scale = self.a.amax().max(1.0);
        Some(eig.iter().all(|&l| l >= -1e-12 * scale))
    }
}

/// Densities below this floor are evaluated at the floor in log m: the implicit FP keeps m > 0
/// in exact arithmetic, but far tails can underflow to 0, where log m is -∞.
pub const LOG_FLOOR: f64 = 1e-300;

/// f^k = Σ_j κ_kj log m^j (entropy / congestion; κ diagonal for self-congestion only).
#[derive(Debug, Clone)]
pub struct Log {
    /// κ (K×K).
    pub kappa: DMatrix<f64>,
}

impl Log {
    /// Self-congestion only: κ = diag(kappa).
    pub fn diagonal(kappa: &[f64]) -> Self {
        Log {
            kappa: DMatrix::from_diagonal(&nalgebra::DVector::from_column_slice(kappa)),
        }
    }

    /// From rows of κ.
    pub fn from_rows(rows: &[Vec<f64>]) -> Self {
        Log {
            kappa: Linear::from_rows(rows).a,
        }
    }
}

impl Coupling for Log {
    fn cost(&self, k: usize, _x: &[f64], m: &[f64]) -> f64 {
        (0..m.len())
            .filter(|&j| self.kappa[(k, j)] != 0.0)
            .map(|j| self.kappa[(k, j)] * m[j].max(LOG_FLOOR).ln())
            .sum()
    }

    fn derivative(&self, k: usize, j: usize, _x: &[f64], m: &[f64]) -> f64 {
        self.kappa[(k, j)] / m[j].max(LOG_FLOOR)
    }

    fn describe(&self) -> String {
        format!("log(kappa={})", matrix_to_string(&self.kappa))
    }

    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        Some(vec![CouplingTerm {
            kind: "log".into(),
            formula: "f^k += sum_j kappa[k, j] log m^j".into(),
            parameters: vec![Parameter::matrix("kappa", &self.kappa)],
        }])
    }

    fn validate(&self, populations: usize) -> Result<()> {
        check_square(&self.kappa, populations, "coupling.log")
    }

    fn singular_at_zero(&self) -> bool {
        self.kappa.iter().any(|&v| v != 0.0)
    }

    fn is_monotone(&self) -> Option<bool> {
        // Diagonal with κ_kk ≥ 0: each f^k is non-decreasing in its own density only.
        let diag = (0..self.kappa.nrows())
            .all(|k| (0..self.kappa.ncols()).all(|j| j == k || self.kappa[(k, j)] == 0.0));
        if diag {
            Some(self.kappa.diagonal().iter().all(|&v| v >= 0.0))
        } else {
            None
        }
    }
}

/// f^k = κ_k (m^k)^β, β > 0: power-law congestion (self only).
#[derive(Debug, Clone)]
pub struct Power {
    /// κ_k, one per population.
    pub kappa: Vec<f64>,
    /// Exponent β > 0.
    pub beta: f64,
}

impl Coupling for Power {
    fn cost(&self, k: usize, _x: &[f64], m: &[f64]) -> f64 {
        self.kappa[k] * m[k].max(0.0).powf(self.beta)
    }

    fn derivative(&self, k: usize, j: usize, _x: &[f64], m: &[f64]) -> f64 {
        if j != k || self.kappa[k] == 0.0 {
            return 0.0;
        }
        self.kappa[k] * self.beta * m[k].max(0.0).powf(self.beta - 1.0)
    }

    fn describe(&self) -> String {
        format!("power(kappa={:?}, beta={})", self.kappa, self.beta)
    }

    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        Some(vec![CouplingTerm {
            kind: "power".into(),
            formula: "f^k += kappa[k] (m^k)^beta".into(),
            parameters: vec![
                Parameter {
                    name: "kappa".into(),
                    shape: vec![self.kappa.len()],
                    values: self.kappa.clone(),
                },
                Parameter {
                    name: "beta".into(),
                    shape: vec![],
                    values: vec![self.beta],
                },
            ],
        }])
    }

    fn validate(&self, populations: usize) -> Result<()> {
        if self.kappa.len() != populations {
            return Err(Error::invalid(
                "coupling.power.kappa",
                format!(
                    "{} values for {populations} populations: one per population is needed",
                    self.kappa.len()
                ),
            ));
        }
        if let Some((k, v)) = self.kappa.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(Error::invalid(
                format!("coupling.power.kappa[{k}]"),
                format!("{v}: must be finite"),
            ));
        }
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(Error::invalid(
                "coupling.power.beta",
                format!("{}: must be a positive finite number", self.beta),
            ));
        }
        Ok(())
    }

    fn is_monotone(&self) -> Option<bool> {
        Some(self.kappa.iter().all(|&v| v >= 0.0))
    }

    fn singular_at_zero(&self) -> bool {
        self.beta < 1.0 && self.kappa.iter().any(|&v| v != 0.0)
    }
}

/// The uncoupled problem: f^k = 0 for every population (each population then solves its own
/// control problem, independent of the densities).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NoCoupling;

impl Coupling for NoCoupling {
    fn cost(&self, _k: usize, _x: &[f64], _m: &[f64]) -> f64 {
        0.0
    }

    fn derivative(&self, _k: usize, _j: usize, _x: &[f64], _m: &[f64]) -> f64 {
        0.0
    }

    fn describe(&self) -> String {
        "none".into()
    }

    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        Some(Vec::new())
    }

    fn validate(&self, _populations: usize) -> Result<()> {
        Ok(())
    }

    fn is_monotone(&self) -> Option<bool> {
        Some(true)
    }
}

/// A sum of couplings; the empty sum is the uncoupled problem f = 0.
#[derive(Debug, Default)]
pub struct Sum(pub Vec<Box<dyn Coupling>>);

impl Coupling for Sum {
    fn cost(&self, k: usize, x: &[f64], m: &[f64]) -> f64 {
        self.0.iter().map(|c| c.cost(k, x, m)).sum()
    }

    fn derivative(&self, k: usize, j: usize, x: &[f64], m: &[f64]) -> f64 {
        self.0.iter().map(|c| c.derivative(k, j, x, m)).sum()
    }

    fn describe(&self) -> String {
        if self.0.is_empty() {
            return "none".into();
        }
        let parts: Vec<String> = self.0.iter().map(|c| c.describe()).collect();
        parts.join(" + ")
    }

    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        let mut all = Vec::new();
        for c in &self.0 {
            all.extend(c.terms()?);
        }
        Some(all)
    }

    fn validate(&self, populations: usize) -> Result<()> {
        self.0.iter().try_for_each(|c| c.validate(populations))
    }

    fn singular_at_zero(&self) -> bool {
        self.0.iter().any(|c| c.singular_at_zero())
    }

    /// A sum of monotone couplings is monotone; otherwise nothing can be said in general.
    fn is_monotone(&self) -> Option<bool> {
        let mut all = true;
        for c in &self.0 {
            match c.is_monotone() {
                Some(true) => {}
                _ => all = false,
            }
        }
        if all {
            Some(true)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linear_monotonicity_follows_symmetric_part() {
        assert_eq!(
            Linear::from_rows(&[vec![1.0, 0.5], vec![0.5, 1.0]]).is_monotone(),
            Some(true)
        );
        // predator-prey: antisymmetric off-diagonal part, no self-interaction -> PSD (zero)
        assert_eq!(
            Linear::from_rows(&[vec![0.0, 1.0], vec![-1.0, 0.0]]).is_monotone(),
            Some(true)
        );
        assert_eq!(
            Linear::from_rows(&[vec![0.0, 2.0], vec![2.0, 0.0]]).is_monotone(),
            Some(false)
        );
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let cs: Vec<Box<dyn Coupling>> = vec![
            Box::new(Linear::from_rows(&[vec![1.0, -0.5], vec![0.3, 2.0]])),
            Box::new(Log::from_rows(&[vec![0.2, 0.1], vec![0.0, 0.4]])),
            Box::new(Power {
                kappa: vec![0.5, 1.5],
                beta: 1.7,
            }),
        ];
        let sum = Sum(cs);
        let m = [0.8, 1.3];
        for k in 0..2 {
            for j in 0..2 {
                let eps = 1e-6;
                let (mut mp, mut mm) = (m, m);
                mp[j] += eps;
                mm[j] -= eps;
                let fd = (sum.cost(k, &[0.0], &mp) - sum.cost(k, &[0.0], &mm)) / (2.0 * eps);
                let an = sum.derivative(k, j, &[0.0], &m);
                assert!((fd - an).abs() < 1e-8, "k={k} j={j}: {fd} vs {an}");
            }
        }
    }

    #[test]
    fn wrong_sizes_are_errors() {
        let e = Linear::from_rows(&[vec![1.0]]).validate(2).unwrap_err();
        assert!(e.to_string().contains("coupling.linear"), "{e}");
        let e = Power {
            kappa: vec![1.0, 1.0],
            beta: -1.0,
        }
        .validate(2)
        .unwrap_err();
        assert!(e.to_string().contains("coupling.power.beta"), "{e}");
    }
}
