//! A Schelling-type segregation coupling in the spirit of Achdou, Bardi and Cirant (2017): an
//! agent of type k pays a cost when the local fraction of its own type
//!
//!   r_k(m) = m^k / (Σ_j m^j + η)
//!
//! falls below its tolerance a_k ∈ (0, 1). The cost is a smoothed positive part,
//!
//!   f^k(x, m) = κ_k s_δ(a_k − r_k(m)),     s_δ(z) = δ log(1 + e^{z/δ}),
//!
//! with s_δ(z) → z⁺ as δ → 0 (|s_δ(z) − z⁺| ≤ δ log 2) and s_δ ∈ C^∞, so that Newton applies;
//! η > 0 keeps r_k defined where the space is empty. Its derivatives, for the Jacobian,
//!
//!   ∂f^k/∂m^j = −κ_k σ((a_k − r_k)/δ) ∂r_k/∂m^j,    ∂r_k/∂m^j = (δ_kj (S + η) − m^k)/(S + η)²,
//!
//! with S = Σ_j m^j and σ the logistic function. The coupling is not monotone (an agent is
//! drawn towards its own kind): equilibria need not be unique, and segregated ones coexist
//! with the mixed one.

use super::coupling::{Coupling, CouplingTerm, Parameter};
use crate::error::{Error, Result};

/// f^k = κ_k s_δ(a_k − m^k/(Σ_j m^j + η)) (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct Segregation {
    /// The tolerances a_k ∈ (0, 1): the smallest fraction of one's own type one accepts.
    pub threshold: Vec<f64>,
    /// The strengths κ_k ≥ 0.
    pub strength: Vec<f64>,
    /// η > 0 in the fraction's denominator.
    pub eta: f64,
    /// The smoothing width δ > 0 of the positive part.
    pub width: f64,
}

/// s_δ(z) = δ log(1 + e^{z/δ}), evaluated without overflow.
fn softplus(z: f64, delta: f64) -> f64 {
    let t = z / delta;
    delta * (t.max(0.0) + (-t.abs()).exp().ln_1p())
}

/// s_δ'(z) = σ(z/δ).
fn logistic(z: f64, delta: f64) -> f64 {
    let t = z / delta;
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

impl Segregation {
    /// The own-type fraction r_k and the denominator S + η at the densities `m` (negative
    /// densities of an intermediate Newton iterate count as 0).
    fn fraction(&self, k: usize, m: &[f64]) -> (f64, f64) {
        let denom = m.iter().map(|v| v.max(0.0)).sum::<f64>() + self.eta;
        (m[k].max(0.0) / denom, denom)
    }
}

impl Coupling for Segregation {
    fn cost(&self, k: usize, _x: &[f64], m: &[f64]) -> f64 {
        let (r, _) = self.fraction(k, m);
        self.strength[k] * softplus(self.threshold[k] - r, self.width)
    }

    fn derivative(&self, k: usize, j: usize, _x: &[f64], m: &[f64]) -> f64 {
        if self.strength[k] == 0.0 || m[j] < 0.0 {
            return 0.0;
        }
        let (r, denom) = self.fraction(k, m);
        let own = if j == k { denom } else { 0.0 };
        let dr = (own - m[k].max(0.0)) / (denom * denom);
        -self.strength[k] * logistic(self.threshold[k] - r, self.width) * dr
    }

    fn describe(&self) -> String {
        format!(
            "segregation(threshold={:?}, strength={:?}, eta={}, width={})",
            self.threshold, self.strength, self.eta, self.width
        )
    }

    fn terms(&self) -> Option<Vec<CouplingTerm>> {
        let vector = |name: &str, v: &[f64]| Parameter {
            name: name.into(),
            shape: vec![v.len()],
            values: v.to_vec(),
        };
        let scalar = |name: &str, v: f64| Parameter {
            name: name.into(),
            shape: vec![],
            values: vec![v],
        };
        Some(vec![CouplingTerm {
            kind: "segregation".into(),
            formula: "f^k += strength[k] softplus_width(threshold[k] - m^k/(sum_j m^j + eta)), \
                      softplus_d(z) = d log(1 + exp(z/d))"
                .into(),
            parameters: vec![
                vector("threshold", &self.threshold),
                vector("strength", &self.strength),
                scalar("eta", self.eta),
                scalar("width", self.width),
            ],
        }])
    }

    fn validate(&self, populations: usize) -> Result<()> {
        for (name, v) in [("threshold", &self.threshold), ("strength", &self.strength)] {
            if v.len() != populations {
                return Err(Error::invalid(
                    format!("coupling.segregation.{name}"),
                    format!(
                        "{} values for {populations} populations: one per population is needed",
                        v.len()
                    ),
                ));
            }
        }
        for (k, a) in self.threshold.iter().enumerate() {
            if !(a.is_finite() && *a > 0.0 && *a < 1.0) {
                return Err(Error::invalid(
                    format!("coupling.segregation.threshold[{k}]"),
                    format!("{a}: the tolerated fraction of one's own type must lie in (0, 1)"),
                ));
            }
        }
        for (k, s) in self.strength.iter().enumerate() {
            if !(s.is_finite() && *s >= 0.0) {
                return Err(Error::invalid(
                    format!("coupling.segregation.strength[{k}]"),
                    format!("{s}: must be a finite number ≥ 0"),
                ));
            }
        }
        for (name, v) in [("eta", self.eta), ("width", self.width)] {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::invalid(
                    format!("coupling.segregation.{name}"),
                    format!("{v}: must be a positive finite number"),
                ));
            }
        }
        Ok(())
    }

    /// Never monotone when some strength is positive: the cost of type k falls as m^k grows.
    fn is_monotone(&self) -> Option<bool> {
        if self.strength.iter().all(|&s| s == 0.0) {
            Some(true)
        } else {
            Some(false)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> Segregation {
        Segregation {
            threshold: vec![0.45, 0.6],
            strength: vec![2.0, 1.0],
            eta: 1e-3,
            width: 0.05,
        }
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let c = example();
        for m in [[0.3f64, 0.9], [1.2, 0.4], [0.5, 0.5], [0.0, 0.7]] {
            for k in 0..2 {
                for j in 0..2 {
                    let eps = 1e-7;
                    let (mut mp, mut mm) = (m, m);
                    mp[j] += eps;
                    mm[j] = (mm[j] - eps).max(0.0);
                    let fd = (c.cost(k, &[0.0], &mp) - c.cost(k, &[0.0], &mm)) / (mp[j] - mm[j]);
                    let an = c.derivative(k, j, &[0.0], &m);
                    assert!(
                        (fd - an).abs() <= 1e-6 * (1.0 + an.abs()),
                        "m = {m:?}, ∂f^{k}/∂m^{j}: {an} vs {fd}"
                    );
                }
            }
        }
    }

    /// s_δ is within δ log 2 of the positive part, and the cost vanishes far above the tolerance.
    #[test]
    fn the_smoothing_is_close_to_the_positive_part() {
        for z in [-1.0f64, -0.1, 0.0, 0.05, 0.3] {
            for d in [0.1, 0.01] {
                let e = (softplus(z, d) - f64::max(z, 0.0)).abs();
                assert!(e <= d * 2f64.ln() + 1e-15, "z={z} δ={d}: {e}");
            }
        }
        let c = example();
        // Alone among one's own kind (r ≈ 1): no cost to speak of.
        assert!(c.cost(0, &[0.0], &[1.0, 0.0]) < 1e-4);
        // A minority of 10 % against a tolerance of 45 %: about κ (a − r).
        let f = c.cost(0, &[0.0], &[0.1, 0.9]);
        assert!((f - 2.0 * (0.45 - 0.1 / 1.001)).abs() < 1e-3, "{f}");
    }

    #[test]
    fn bad_parameters_are_named() {
        let mut c = example();
        c.threshold[1] = 1.0;
        let e = c.validate(2).unwrap_err().to_string();
        assert!(e.contains("coupling.segregation.threshold[1]"), "{e}");
        let mut c = example();
        c.width = 0.0;
        let e = c.validate(2).unwrap_err().to_string();
        assert!(e.contains("coupling.segregation.width"), "{e}");
        let e = example().validate(3).unwrap_err().to_string();
        assert!(e.contains("coupling.segregation.threshold") && e.contains("3 populations"));
    }
}
