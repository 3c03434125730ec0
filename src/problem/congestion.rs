//! Congestion Hamiltonians (docs/math.md §1, "Congestion"): agents move more slowly, or at a
//! higher cost, where the crowd is dense,
//!
//!   H^k(x, p, m) = H₀(x, p) / ρ_k(m)^α,   ρ_k(m) = ε + Σ_j w_kj m^j,
//!
//! with H₀ a density-free Hamiltonian (the quadratic |p|²/(2c) gives
//! |p|²/(2c(ε + Σ_j w_kj m^j)^α); the power law |p|^q/(qc) its power-law variant). The
//! numerical version is the base's, divided by the same factor, Ĥ = Ĥ₀(x, p⁻, p⁺)/ρ^α: still
//! monotone in (p⁻, p⁺) and consistent, and the optimal velocity α = −∂_pH₀/ρ^α slows down in
//! the crowd. Because the upwind velocities d^± = ∂Ĥ/∂p^± now depend on m, the Fokker–Planck
//! transport Q(u, m)ᵀm is nonlinear in m and Newton's Jacobian has the block
//! ∂d_r/∂m^j = −α w_kj d_r/ρ ([`Hamiltonian::density_slopes`]).
//!
//! Uniqueness (Lions; Achdou–Porretta 2018) holds for 0 ≤ α ≤ 4(q−1)/q, q the growth of H₀
//! in p (α ≤ 2 for a quadratic H₀); larger exponents are refused. ε > 0 keeps H finite where
//! the crowd is empty.

use super::hamiltonian::Hamiltonian;
use crate::error::{Error, Result};

/// H(x, p, m) = H₀(x, p)/(ε + Σ_j w_j m^j)^α (see the module documentation).
#[derive(Debug)]
pub struct Congestion {
    base: Box<dyn Hamiltonian>,
    weights: Vec<f64>,
    epsilon: f64,
    alpha: f64,
}

impl Congestion {
    /// H₀/(ε + Σ_j weights\[j\]·m^j)^alpha; `weights` has one entry per population.
    pub fn new(
        base: impl Hamiltonian + 'static,
        weights: Vec<f64>,
        epsilon: f64,
        alpha: f64,
    ) -> Self {
        Self::boxed(Box::new(base), weights, epsilon, alpha)
    }

    /// As [`Congestion::new`] with a boxed base.
    pub fn boxed(base: Box<dyn Hamiltonian>, weights: Vec<f64>, epsilon: f64, alpha: f64) -> Self {
        Congestion {
            base,
            weights,
            epsilon,
            alpha,
        }
    }

    /// The density-free base H₀.
    pub fn base(&self) -> &dyn Hamiltonian {
        self.base.as_ref()
    }

    /// The weights w_j.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }

    /// ρ(m) = ε + Σ_j w_j m^j and ρ^α. Densities are ≥ 0 in the scheme; a negative value (an
    /// iterate in the middle of a Newton step) is clipped so that ρ ≥ ε > 0 stays.
    #[inline]
    fn factor(&self, m: &[f64]) -> (f64, f64) {
        let rho = self.epsilon
            + self
                .weights
                .iter()
                .zip(m)
                .map(|(w, v)| w * v.max(0.0))
                .sum::<f64>();
        (rho, rho.powf(self.alpha))
    }

    /// ∂ρ^{−α}/∂m^j / ρ^{−α} = −α w_j/ρ (0 where the clipping of [`Congestion::factor`] is
    /// active; the right derivative at m^j = 0).
    #[inline]
    fn log_derivative(&self, rho: f64, m: &[f64], j: usize) -> f64 {
        match (self.weights.get(j), m.get(j)) {
            (Some(&w), Some(&v)) if v >= 0.0 => -self.alpha * w / rho,
            _ => 0.0,
        }
    }
}

impl Hamiltonian for Congestion {
    fn exact(&self, x: &[f64], m: &[f64], p: &[f64]) -> f64 {
        self.base.exact(x, m, p) / self.factor(m).1
    }

    /// sup_p (−p·α − H₀(p)/r) = L₀(rα)/r with r = ρ^α: moving at speed |α| in a crowd costs
    /// what moving at r|α| costs in the open, divided by r.
    fn lagrangian(&self, x: &[f64], m: &[f64], alpha: &[f64]) -> f64 {
        let r = self.factor(m).1;
        let mut scaled = [0.0; 2];
        for (s, a) in scaled.iter_mut().zip(alpha) {
            *s = r * a;
        }
        self.base.lagrangian(x, m, &scaled[..alpha.len()]) / r
    }

    fn value(&self, x: &[f64], m: &[f64], pm: &[f64], pp: &[f64]) -> f64 {
        self.base.value(x, m, pm, pp) / self.factor(m).1
    }

    fn gradient(
        &self,
        x: &[f64],
        m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) {
        self.value_and_gradient(x, m, pm, pp, dm, dp);
    }

    fn value_and_gradient(
        &self,
        x: &[f64],
        m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) -> f64 {
        let inv = 1.0 / self.factor(m).1;
        let v = self.base.value_and_gradient(x, m, pm, pp, dm, dp);
        dm.iter_mut().chain(dp.iter_mut()).for_each(|d| *d *= inv);
        v * inv
    }

    fn density_gradient(&self, x: &[f64], m: &[f64], pm: &[f64], pp: &[f64], out: &mut [f64]) {
        let (rho, r) = self.factor(m);
        let h = self.base.value(x, m, pm, pp) / r;
        for (j, o) in out.iter_mut().enumerate() {
            *o = h * self.log_derivative(rho, m, j);
        }
    }

    fn hessian(&self, x: &[f64], m: &[f64], pm: &[f64], pp: &[f64], hess: &mut [f64]) {
        let inv = 1.0 / self.factor(m).1;
        let nv = 2 * pm.len();
        self.base.hessian(x, m, pm, pp, hess);
        hess[..nv * nv].iter_mut().for_each(|h| *h *= inv);
    }

    fn depends_on_density(&self) -> bool {
        true
    }

    fn density_slopes(&self, x: &[f64], m: &[f64], pm: &[f64], pp: &[f64], out: &mut [f64]) {
        let kk = m.len();
        let d = pm.len();
        let (mut dm, mut dp) = ([0.0; 2], [0.0; 2]);
        let (rho, _) = self.factor(m);
        self.gradient(x, m, pm, pp, &mut dm[..d], &mut dp[..d]);
        for a in 0..d {
            for j in 0..kk {
                let l = self.log_derivative(rho, m, j);
                out[(2 * a) * kk + j] = dm[a] * l;
                out[(2 * a + 1) * kk + j] = dp[a] * l;
            }
        }
    }

    fn growth(&self) -> Option<f64> {
        self.base.growth()
    }

    fn name(&self) -> &'static str {
        "congestion"
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        let mut p: Vec<(String, f64)> = self
            .base
            .parameters()
            .into_iter()
            .map(|(k, v)| (format!("base_{k}"), v))
            .collect();
        p.extend(
            self.weights
                .iter()
                .enumerate()
                .map(|(j, w)| (format!("weight_{j}"), *w)),
        );
        p.push(("epsilon".into(), self.epsilon));
        p.push(("alpha".into(), self.alpha));
        p
    }

    fn describe(&self) -> String {
        let w: Vec<String> = self.weights.iter().map(|w| w.to_string()).collect();
        format!(
            "congestion({} / ({} + [{}]·m)^{})",
            self.base.describe(),
            self.epsilon,
            w.join(", "),
            self.alpha
        )
    }

    fn validate(&self, dim: usize, field: &str) -> Result<()> {
        self.base.validate(dim, &format!("{field}.base"))?;
        if self.base.depends_on_density() {
            return Err(Error::invalid(
                format!("{field}.base"),
                format!(
                    "{}: the base of a congestion Hamiltonian must not depend on the densities",
                    self.base.name()
                ),
            ));
        }
        if !(self.epsilon.is_finite() && self.epsilon > 0.0) {
            return Err(Error::invalid(
                format!("{field}.epsilon"),
                format!(
                    "{}: must be a positive finite number (H = H₀/(ε + w·m)^α is infinite \
                     where the crowd is empty when ε = 0)",
                    self.epsilon
                ),
            ));
        }
        for (j, w) in self.weights.iter().enumerate() {
            if !(w.is_finite() && *w >= 0.0) {
                return Err(Error::invalid(
                    format!("{field}.weights[{j}]"),
                    format!("{w}: a congestion weight must be a finite number ≥ 0"),
                ));
            }
        }
        let Some(q) = self.base.growth() else {
            return Err(Error::invalid(
                format!("{field}.base"),
                format!(
                    "{} does not state its growth exponent in p, which the bound on α needs",
                    self.base.name()
                ),
            ));
        };
        let bound = 4.0 * (q - 1.0) / q;
        if !(self.alpha.is_finite() && self.alpha >= 0.0 && self.alpha <= bound + 1e-12) {
            return Err(Error::invalid(
                format!("{field}.alpha"),
                format!(
                    "{}: the congestion exponent must lie in [0, 4(q−1)/q] = [0, {bound}] for a \
                     base of growth q = {q} (beyond it the system is not monotone and \
                     equilibria need not be unique)",
                    self.alpha
                ),
            ));
        }
        Ok(())
    }

    fn check_populations(&self, populations: usize, field: &str) -> Result<()> {
        if self.weights.len() != populations {
            return Err(Error::invalid(
                format!("{field}.weights"),
                format!(
                    "{} weights for {populations} populations: give one weight w_kj per \
                     population j",
                    self.weights.len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::hamiltonian::{Power, Quadratic};

    fn cases() -> Vec<Congestion> {
        vec![
            Congestion::new(Quadratic::new(1.3), vec![1.0, 0.4], 0.3, 1.5),
            Congestion::new(Power::new(1.5, 0.8), vec![0.2, 1.0], 0.5, 1.0),
            Congestion::new(Power::new(3.0, 1.1), vec![0.7, 0.7], 0.1, 2.5),
        ]
    }

    const M: [f64; 2] = [0.7, 1.9];
    const SLOPES: [([f64; 2], [f64; 2]); 3] = [
        ([0.6, -0.4], [0.9, -1.1]),
        ([-0.3, 0.8], [-0.5, 1.2]),
        ([1.1, 0.2], [-0.7, -0.3]),
    ];

    /// ∂Ĥ/∂m^j and ∂d_r/∂m^j against central differences in m.
    #[test]
    fn density_derivatives_match_finite_differences() {
        for h in cases() {
            h.validate(2, "h").unwrap();
            for d in 1..=2 {
                for (pm, pp) in &SLOPES {
                    let (pm, pp) = (&pm[..d], &pp[..d]);
                    let mut dh = [0.0; 2];
                    h.density_gradient(&[0.1, 0.2][..d], &M, pm, pp, &mut dh);
                    let mut ds = [0.0; 8];
                    h.density_slopes(&[0.1, 0.2][..d], &M, pm, pp, &mut ds);
                    for j in 0..2 {
                        let eps = 1e-6;
                        let (mut mp, mut mm) = (M, M);
                        mp[j] += eps;
                        mm[j] -= eps;
                        let fd = (h.value(&[0.0; 2][..d], &mp, pm, pp)
                            - h.value(&[0.0; 2][..d], &mm, pm, pp))
                            / (2.0 * eps);
                        assert!(
                            (fd - dh[j]).abs() <= 1e-7 * (1.0 + fd.abs()),
                            "{fd} vs {}",
                            dh[j]
                        );
                        let (mut ap, mut bp, mut am, mut bm) =
                            ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
                        h.gradient(&[0.0; 2][..d], &mp, pm, pp, &mut ap[..d], &mut bp[..d]);
                        h.gradient(&[0.0; 2][..d], &mm, pm, pp, &mut am[..d], &mut bm[..d]);
                        for a in 0..d {
                            let fm = (ap[a] - am[a]) / (2.0 * eps);
                            let fp = (bp[a] - bm[a]) / (2.0 * eps);
                            let (em, ep) = (ds[(2 * a) * 2 + j], ds[(2 * a + 1) * 2 + j]);
                            assert!((fm - em).abs() <= 1e-7 * (1.0 + fm.abs()), "{fm} vs {em}");
                            assert!((fp - ep).abs() <= 1e-7 * (1.0 + fp.abs()), "{fp} vs {ep}");
                        }
                    }
                }
            }
        }
    }

    /// Monotone in the slopes (d⁻ ≥ 0, d⁺ ≤ 0), consistent (Ĥ(p, p) = H(p)), and its Hessian in
    /// the slopes is the base's divided by ρ^α.
    #[test]
    fn monotone_consistent_and_scaled() {
        for h in cases() {
            for (pm, pp) in &SLOPES {
                let (mut dm, mut dp) = ([0.0; 2], [0.0; 2]);
                h.gradient(&[0.0; 2], &M, pm, pp, &mut dm, &mut dp);
                assert!(dm.iter().all(|v| *v >= 0.0) && dp.iter().all(|v| *v <= 0.0));
                let v = h.value(&[0.0; 2], &M, pm, pm);
                let e = h.exact(&[0.0; 2], &M, pm);
                assert!((v - e).abs() <= 1e-12 * (1.0 + e.abs()), "{v} vs {e}");
                let (mut hh, mut hb) = ([0.0; 16], [0.0; 16]);
                h.hessian(&[0.0; 2], &M, pm, pp, &mut hh);
                h.base().hessian(&[0.0; 2], &M, pm, pp, &mut hb);
                let r = h.factor(&M).1;
                for (a, b) in hh.iter().zip(&hb) {
                    assert!((a * r - b).abs() <= 1e-12 * (1.0 + b.abs()));
                }
            }
        }
    }

    /// L(α) = sup_p (−p·α − H(p)), by a fine scan in 1D (H is convex in p).
    #[test]
    fn lagrangian_is_the_legendre_transform() {
        for h in cases() {
            for alpha in [-1.3, -0.2, 0.0, 0.4, 2.0] {
                let an = h.lagrangian(&[0.0], &M, &[alpha]);
                // Golden-section search of the concave objective.
                let f = |p: f64| -p * alpha - h.exact(&[0.0], &M, &[p]);
                let (mut lo, mut hi) = (-60.0f64, 60.0f64);
                for _ in 0..300 {
                    let (a, b) = (lo + 0.382 * (hi - lo), lo + 0.618 * (hi - lo));
                    if f(a) < f(b) {
                        lo = a;
                    } else {
                        hi = b;
                    }
                }
                let num = f(0.5 * (lo + hi));
                assert!(
                    (an - num).abs() <= 1e-8 * (1.0 + an.abs()),
                    "{} α={alpha}: {an} vs {num}",
                    h.describe()
                );
            }
        }
    }
}
