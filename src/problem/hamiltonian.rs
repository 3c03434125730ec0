//! Hamiltonians H^k(x, p, m) and their monotone numerical versions Ĥ(x, m, p⁻, p⁺).
//!
//! The scheme (docs/math.md §3.1) only sees Ĥ through one-sided differences p⁻ = D⁻u, p⁺ = D⁺u per
//! axis. Ĥ must be non-decreasing in every p⁻_a, non-increasing in every p⁺_a, and consistent:
//! Ĥ(x, m, p, p) = H(x, p, m). Its derivatives d⁻_a = ∂Ĥ/∂p⁻_a ≥ 0 and d⁺_a = ∂Ĥ/∂p⁺_a ≤ 0 are
//! the upwind velocities that build the generator Q(u): the rate of jumping to the lower
//! neighbour is d⁻_a/h_a, to the upper one -d⁺_a/h_a. They must be analytic (never finite
//! differences): the HJB Newton iteration and the FP adjoint are built from them.
//!
//! All three shipped Hamiltonians use the Godunov-type upwinding of Achdou and Capuzzo-Dolcetta,
//! |p|² ≈ S(p⁻, p⁺) = Σ_a ((p⁻_a)⁺)² + ((p⁺_a)⁻)², which is convex, monotone and C¹.

use std::fmt::Debug;

pub use super::congestion::Congestion;

/// A Hamiltonian with a monotone numerical version and its analytic derivatives.
///
/// `x` is the node's position, `m` holds the densities of *all* populations at that node (so
/// that congestion Hamiltonians such as |p|²/(2(1+m)^α) fit), `p_minus`/`p_plus` the
/// one-sided differences per axis.
pub trait Hamiltonian: Send + Sync + Debug {
    /// The continuous H(x, p, m) (used to check consistency and to evaluate costs).
    fn exact(&self, x: &[f64], m: &[f64], p: &[f64]) -> f64;

    /// The Lagrangian L(x, m, α) = sup_p (−p·α − H(x, p, m)) = H*(−α): the running cost of
    /// moving with velocity α, so that H(x, p, m) = sup_α (−p·α − L(x, m, α)) and the optimal
    /// velocity is α = −∂_p H (MATH.md §1). The discrete game of the RL module charges it.
    fn lagrangian(&self, x: &[f64], m: &[f64], alpha: &[f64]) -> f64;

    /// The numerical Ĥ(x, m, p⁻, p⁺).
    fn value(&self, x: &[f64], m: &[f64], p_minus: &[f64], p_plus: &[f64]) -> f64;

    /// d⁻_a = ∂Ĥ/∂p⁻_a (≥ 0) and d⁺_a = ∂Ĥ/∂p⁺_a (≤ 0).
    fn gradient(
        &self,
        x: &[f64],
        m: &[f64],
        p_minus: &[f64],
        p_plus: &[f64],
        d_minus: &mut [f64],
        d_plus: &mut [f64],
    );

    /// Ĥ and its gradient in one call (override when sharing work pays).
    fn value_and_gradient(
        &self,
        x: &[f64],
        m: &[f64],
        p_minus: &[f64],
        p_plus: &[f64],
        d_minus: &mut [f64],
        d_plus: &mut [f64],
    ) -> f64 {
        self.gradient(x, m, p_minus, p_plus, d_minus, d_plus);
        self.value(x, m, p_minus, p_plus)
    }

    /// ∂Ĥ/∂m^j for every population j, written to `out` (length K). Hamiltonians that do not
    /// depend on the densities keep this default, which writes zeros; a congestion Hamiltonian
    /// must override it (Newton on the coupled system uses it).
    fn density_gradient(
        &self,
        _x: &[f64],
        _m: &[f64],
        _p_minus: &[f64],
        _p_plus: &[f64],
        out: &mut [f64],
    ) {
        out.fill(0.0);
    }

    /// Whether Ĥ depends on the densities (a congestion Hamiltonian): then the upwind
    /// velocities d^± depend on m and the Newton Jacobian needs [`Hamiltonian::density_slopes`].
    fn depends_on_density(&self) -> bool {
        false
    }

    /// ∂d_r/∂m^j, the dependence of the upwind velocities d = (d⁻_0, d⁺_0, d⁻_1, d⁺_1) on the
    /// densities, at `out[r·K + j]` (K = `m.len()`, 2d·K entries). Zero unless
    /// [`Hamiltonian::depends_on_density`].
    fn density_slopes(
        &self,
        _x: &[f64],
        m: &[f64],
        p_minus: &[f64],
        _p_plus: &[f64],
        out: &mut [f64],
    ) {
        out[..2 * p_minus.len() * m.len()].fill(0.0);
    }

    /// The growth exponent q of H in p (H ~ |p|^q): 2 for the quadratic Hamiltonians, None when
    /// unknown. The congestion exponent's monotonicity bound depends on it.
    fn growth(&self) -> Option<f64> {
        None
    }

    /// Checks what depends on the number of populations (a congestion Hamiltonian's weights).
    fn check_populations(&self, _populations: usize, _field: &str) -> crate::Result<()> {
        Ok(())
    }

    /// Second derivatives of Ĥ in the one-sided slopes, for the Newton Jacobian of the coupled
    /// system (the FP transport term Q(u)ᵀm depends on u through d^±). Variables are ordered
    /// v = (p⁻_0, p⁺_0, p⁻_1, p⁺_1, …), 2d of them, and `hess[r·2d + c]` = ∂d_r/∂v_c =
    /// ∂²Ĥ/∂v_r∂v_c with d = (d⁻_0, d⁺_0, …) the [`Hamiltonian::gradient`] outputs.
    ///
    /// The Godunov upwinding makes Ĥ only C¹: at a kink (a slope exactly 0) the second
    /// derivative does not exist and implementations return the a.e. value from the inactive
    /// side (0). The default takes central finite differences of [`Hamiltonian::gradient`]
    /// (accurate to ~1e-8 away from kinks); the shipped Hamiltonians override it analytically.
    fn hessian(&self, x: &[f64], m: &[f64], p_minus: &[f64], p_plus: &[f64], hess: &mut [f64]) {
        let d = p_minus.len();
        let nv = 2 * d;
        let mut v = [0.0; 4];
        for a in 0..d {
            v[2 * a] = p_minus[a];
            v[2 * a + 1] = p_plus[a];
        }
        let grad_at = |v: &[f64; 4], out: &mut [f64; 4]| {
            let (mut pm, mut pp, mut dm, mut dp) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
            for a in 0..d {
                pm[a] = v[2 * a];
                pp[a] = v[2 * a + 1];
            }
            self.gradient(x, m, &pm[..d], &pp[..d], &mut dm[..d], &mut dp[..d]);
            for a in 0..d {
                out[2 * a] = dm[a];
                out[2 * a + 1] = dp[a];
            }
        };
        let (mut gp, mut gm) = ([0.0; 4], [0.0; 4]);
        for c in 0..nv {
            let eps = 1e-6 * v[c].abs().max(1.0);
            let (mut vp, mut vm) = (v, v);
            vp[c] += eps;
            vm[c] -= eps;
            grad_at(&vp, &mut gp);
            grad_at(&vm, &mut gm);
            for r in 0..nv {
                hess[r * nv + c] = (gp[r] - gm[r]) / (2.0 * eps);
            }
        }
    }

    /// Short name, e.g. `quadratic`.
    fn name(&self) -> &'static str;

    /// Named scalar parameters (for summaries and file attributes).
    fn parameters(&self) -> Vec<(String, f64)>;

    /// Human-readable form such as `quadratic(cost=2)`.
    fn describe(&self) -> String {
        let params: Vec<String> = self
            .parameters()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        format!("{}({})", self.name(), params.join(", "))
    }

    /// Checks the parameters; `field` is the configuration path used in the message.
    fn validate(&self, dim: usize, field: &str) -> crate::Result<()>;
}

#[inline]
fn pos(v: f64) -> f64 {
    v.max(0.0)
}

#[inline]
fn neg(v: f64) -> f64 {
    v.min(0.0)
}

fn check_positive(value: f64, field: String) -> crate::Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(crate::Error::invalid(
            field,
            format!("{value}: must be a positive finite number"),
        ))
    }
}

/// H(p) = |p|²/(2c): isotropic quadratic with cost of moving c (α = -∇u/c).
#[derive(Debug, Clone, PartialEq)]
pub struct Quadratic {
    /// Cost of moving c > 0.
    pub cost: f64,
}

impl Quadratic {
    /// H = |p|²/(2·cost).
    pub fn new(cost: f64) -> Self {
        Quadratic { cost }
    }
}

impl Hamiltonian for Quadratic {
    fn exact(&self, _x: &[f64], _m: &[f64], p: &[f64]) -> f64 {
        p.iter().map(|v| v * v).sum::<f64>() / (2.0 * self.cost)
    }

    /// c|α|²/2.
    fn lagrangian(&self, _x: &[f64], _m: &[f64], alpha: &[f64]) -> f64 {
        0.5 * self.cost * alpha.iter().map(|v| v * v).sum::<f64>()
    }

    fn value(&self, _x: &[f64], _m: &[f64], pm: &[f64], pp: &[f64]) -> f64 {
        godunov_quadratic(pm, pp, |_| 1.0 / self.cost, None)
    }

    fn gradient(
        &self,
        _x: &[f64],
        _m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) {
        godunov_quadratic(pm, pp, |_| 1.0 / self.cost, Some((dm, dp)));
    }

    fn value_and_gradient(
        &self,
        _x: &[f64],
        _m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) -> f64 {
        godunov_quadratic(pm, pp, |_| 1.0 / self.cost, Some((dm, dp)))
    }

    fn hessian(&self, _x: &[f64], _m: &[f64], pm: &[f64], pp: &[f64], hess: &mut [f64]) {
        diagonal_hessian(pm, pp, |_| 1.0 / self.cost, hess);
    }

    fn growth(&self) -> Option<f64> {
        Some(2.0)
    }

    fn name(&self) -> &'static str {
        "quadratic"
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("cost".into(), self.cost)]
    }

    fn validate(&self, _dim: usize, field: &str) -> crate::Result<()> {
        check_positive(self.cost, format!("{field}.cost"))
    }
}

/// H(p) = Σ_a p_a²/(2 c_a): a different cost of moving along each axis (a truck that moves
/// sideways slowly has a large c_y).
#[derive(Debug, Clone, PartialEq)]
pub struct Anisotropic {
    /// Cost of moving c_a > 0 along each axis.
    pub costs: Vec<f64>,
}

impl Anisotropic {
    /// H = Σ_a p_a²/(2·`costs[a]`).
    pub fn new(costs: Vec<f64>) -> Self {
        Anisotropic { costs }
    }
}

impl Hamiltonian for Anisotropic {
    fn exact(&self, _x: &[f64], _m: &[f64], p: &[f64]) -> f64 {
        p.iter()
            .zip(&self.costs)
            .map(|(v, c)| v * v / (2.0 * c))
            .sum()
    }

    /// Σ_a c_a α_a²/2.
    fn lagrangian(&self, _x: &[f64], _m: &[f64], alpha: &[f64]) -> f64 {
        alpha
            .iter()
            .zip(&self.costs)
            .map(|(v, c)| 0.5 * c * v * v)
            .sum()
    }

    fn value(&self, _x: &[f64], _m: &[f64], pm: &[f64], pp: &[f64]) -> f64 {
        godunov_quadratic(pm, pp, |a| 1.0 / self.costs[a], None)
    }

    fn gradient(
        &self,
        _x: &[f64],
        _m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) {
        godunov_quadratic(pm, pp, |a| 1.0 / self.costs[a], Some((dm, dp)));
    }

    fn value_and_gradient(
        &self,
        _x: &[f64],
        _m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) -> f64 {
        godunov_quadratic(pm, pp, |a| 1.0 / self.costs[a], Some((dm, dp)))
    }

    fn hessian(&self, _x: &[f64], _m: &[f64], pm: &[f64], pp: &[f64], hess: &mut [f64]) {
        diagonal_hessian(pm, pp, |a| 1.0 / self.costs[a], hess);
    }

    fn growth(&self) -> Option<f64> {
        Some(2.0)
    }

    fn name(&self) -> &'static str {
        "anisotropic"
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        self.costs
            .iter()
            .zip(["cost_x", "cost_y"])
            .map(|(c, n)| (n.to_string(), *c))
            .collect()
    }

    fn validate(&self, dim: usize, field: &str) -> crate::Result<()> {
        if self.costs.len() != dim {
            return Err(crate::Error::invalid(
                format!("{field}.costs"),
                format!(
                    "{} costs given for a {dim}D grid: one per axis is needed",
                    self.costs.len()
                ),
            ));
        }
        for (a, &c) in self.costs.iter().enumerate() {
            check_positive(c, format!("{field}.costs[{a}]"))?;
        }
        Ok(())
    }
}

/// H(p) = |p|^q/(q c), q > 1: sub- or super-quadratic growth (q = 2 is [`Quadratic`]).
/// Numerically Ĥ = S(p⁻, p⁺)^{q/2}/(q c) with the Godunov sum S.
#[derive(Debug, Clone, PartialEq)]
pub struct Power {
    /// Growth exponent q > 1.
    pub q: f64,
    /// Cost of moving c > 0.
    pub cost: f64,
}

impl Power {
    /// H = |p|^q/(q·cost).
    pub fn new(q: f64, cost: f64) -> Self {
        Power { q, cost }
    }

    /// The Godunov approximation S of |p|².
    fn godunov_sum(pm: &[f64], pp: &[f64]) -> f64 {
        2.0 * godunov_quadratic(pm, pp, |_| 1.0, None)
    }
}

impl Hamiltonian for Power {
    fn exact(&self, _x: &[f64], _m: &[f64], p: &[f64]) -> f64 {
        let s: f64 = p.iter().map(|v| v * v).sum();
        s.powf(0.5 * self.q) / (self.q * self.cost)
    }

    /// The conjugate of |p|^q/(qc): c^{q'−1} |α|^{q'}/q' with q' = q/(q−1).
    fn lagrangian(&self, _x: &[f64], _m: &[f64], alpha: &[f64]) -> f64 {
        let qs = self.q / (self.q - 1.0);
        let norm = alpha.iter().map(|v| v * v).sum::<f64>().sqrt();
        self.cost.powf(qs - 1.0) * norm.powf(qs) / qs
    }

    fn value(&self, _x: &[f64], _m: &[f64], pm: &[f64], pp: &[f64]) -> f64 {
        Self::godunov_sum(pm, pp).powf(0.5 * self.q) / (self.q * self.cost)
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
        _x: &[f64],
        _m: &[f64],
        pm: &[f64],
        pp: &[f64],
        dm: &mut [f64],
        dp: &mut [f64],
    ) -> f64 {
        // One power for both: Ĥ = S · S^{q/2-1}/(qc). ∂/∂p S^{q/2}/(qc) = S^{q/2-1} p / c; at
        // S = 0 every one-sided slope is 0 and so is the derivative (q > 1), which the guard
        // makes exact instead of 0·∞.
        let s = Self::godunov_sum(pm, pp);
        let scale = if s > 0.0 {
            s.powf(0.5 * self.q - 1.0) / self.cost
        } else {
            0.0
        };
        for a in 0..pm.len() {
            dm[a] = scale * pos(pm[a]);
            dp[a] = scale * neg(pp[a]);
        }
        s * scale / self.q
    }

    fn hessian(&self, _x: &[f64], _m: &[f64], pm: &[f64], pp: &[f64], hess: &mut [f64]) {
        // d_r = S^{q/2-1} w_r / c with w = ((p⁻_0)⁺, (p⁺_0)⁻, …), so
        // ∂d_r/∂v_s = ((q-2) S^{q/2-2} w_r w_s + S^{q/2-1} δ_rs χ_r) / c, χ_r = [w_r ≠ 0]
        // (a.e.). At S = 0 every slope is inactive and the a.e. value is 0.
        let nv = 2 * pm.len();
        hess[..nv * nv].fill(0.0);
        let s = Self::godunov_sum(pm, pp);
        if s <= 0.0 {
            return;
        }
        let mut w = [0.0; 4];
        for a in 0..pm.len() {
            w[2 * a] = pos(pm[a]);
            w[2 * a + 1] = neg(pp[a]);
        }
        let s1 = s.powf(0.5 * self.q - 1.0) / self.cost;
        let s2 = (self.q - 2.0) * s1 / s;
        for r in 0..nv {
            for c in 0..nv {
                hess[r * nv + c] = s2 * w[r] * w[c];
            }
            if w[r] != 0.0 {
                hess[r * nv + r] += s1;
            }
        }
    }

    fn growth(&self) -> Option<f64> {
        Some(self.q)
    }

    fn name(&self) -> &'static str {
        "power"
    }

    fn parameters(&self) -> Vec<(String, f64)> {
        vec![("q".into(), self.q), ("cost".into(), self.cost)]
    }

    fn validate(&self, _dim: usize, field: &str) -> crate::Result<()> {
        if !(self.q.is_finite() && self.q > 1.0) {
            return Err(crate::Error::invalid(
                format!("{field}.q"),
                format!(
                    "{}: the exponent must be > 1 (H must be strictly convex)",
                    self.q
                ),
            ));
        }
        check_positive(self.cost, format!("{field}.cost"))
    }
}

/// Hessian of the Godunov form Σ_a ((p⁻_a)⁺² + (p⁺_a)⁻²)/(2c_a): diagonal, 1/c_a where the
/// slope is active ((p⁻_a > 0, p⁺_a < 0), 0 elsewhere (the a.e. derivative at the kink).
/// The Godunov quadratic Σ_a c_a⁻¹ ((p⁻_a)⁺² + (p⁺_a)⁻²)/2 of [`Quadratic`] and [`Anisotropic`]
/// (`inv_cost(a)` = 1/c_a), with its upwind derivatives d⁻_a = (p⁻_a)⁺/c_a, d⁺_a = (p⁺_a)⁻/c_a
/// written to `grad` when given.
fn godunov_quadratic(
    pm: &[f64],
    pp: &[f64],
    inv_cost: impl Fn(usize) -> f64,
    mut grad: Option<(&mut [f64], &mut [f64])>,
) -> f64 {
    let mut s = 0.0;
    for a in 0..pm.len() {
        let inv = inv_cost(a);
        let (lo, hi) = (pos(pm[a]), neg(pp[a]));
        if let Some((dm, dp)) = grad.as_mut() {
            dm[a] = lo * inv;
            dp[a] = hi * inv;
        }
        s += (lo * lo + hi * hi) * inv;
    }
    0.5 * s
}

fn diagonal_hessian(pm: &[f64], pp: &[f64], inv_cost: impl Fn(usize) -> f64, hess: &mut [f64]) {
    let nv = 2 * pm.len();
    hess[..nv * nv].fill(0.0);
    for a in 0..pm.len() {
        let ic = inv_cost(a);
        if pm[a] > 0.0 {
            hess[2 * a * nv + 2 * a] = ic;
        }
        if pp[a] < 0.0 {
            hess[(2 * a + 1) * nv + 2 * a + 1] = ic;
        }
    }
}

/// The optimal feedback α_a = -(d⁻_a + d⁺_a) of docs/math.md §3.1 (α = -∂_p H), from Ĥ's upwind
/// derivatives: the mean displacement per unit time of the generator's jumps.
pub fn control(d_minus: &[f64], d_plus: &[f64], alpha: &mut [f64]) {
    for a in 0..alpha.len() {
        alpha[a] = -(d_minus[a] + d_plus[a]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quadratic_is_consistent_and_upwind() {
        let h = Quadratic::new(2.0);
        let x = [0.0];
        assert!((h.value(&x, &[], &[3.0], &[3.0]) - 9.0 / 4.0).abs() < 1e-15);
        let (mut dm, mut dp) = ([0.0], [0.0]);
        h.gradient(&x, &[], &[3.0], &[-1.0], &mut dm, &mut dp);
        assert_eq!((dm[0], dp[0]), (1.5, -0.5));
    }

    #[test]
    fn power_value_and_gradient_agree_with_separate_calls() {
        let h = Power::new(1.5, 1.3);
        let (pm, pp) = ([0.3, -0.7], [-0.2, 0.4]);
        let (mut dm, mut dp, mut dm2, mut dp2) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
        let v = h.value_and_gradient(&[0.0; 2], &[], &pm, &pp, &mut dm, &mut dp);
        h.gradient(&[0.0; 2], &[], &pm, &pp, &mut dm2, &mut dp2);
        assert!((v - h.value(&[0.0; 2], &[], &pm, &pp)).abs() < 1e-15);
        assert_eq!((dm, dp), (dm2, dp2));
        let z = h.value_and_gradient(&[0.0], &[], &[-1.0], &[1.0], &mut dm, &mut dp);
        assert_eq!((z, dm[0], dp[0]), (0.0, 0.0, 0.0));
    }

    #[test]
    fn power_two_equals_quadratic() {
        let (p, q) = (Power::new(2.0, 1.5), Quadratic::new(1.5));
        let (pm, pp) = ([0.3, -0.7], [-0.2, 0.4]);
        assert!(
            (p.value(&[0.0; 2], &[], &pm, &pp) - q.value(&[0.0; 2], &[], &pm, &pp)).abs() < 1e-15
        );
    }

    /// Analytic second derivatives equal central differences of the gradient away from the
    /// kinks (no slope within 1e-3 of 0), in 1D and 2D, for every shipped Hamiltonian.
    #[test]
    fn hessians_match_finite_differences() {
        let hs: Vec<Box<dyn Hamiltonian>> = vec![
            Box::new(Quadratic::new(1.7)),
            Box::new(Anisotropic::new(vec![0.8, 2.5])),
            Box::new(Power::new(1.5, 1.2)),
            Box::new(Power::new(3.0, 0.7)),
        ];
        let cases: [([f64; 2], [f64; 2]); 4] = [
            ([0.3, -0.7], [-0.2, 0.4]),
            ([1.1, 0.6], [0.9, -1.3]),
            ([-0.5, 0.2], [-0.8, -0.1]),
            ([0.05, -2.0], [0.3, 0.7]),
        ];
        for h in &hs {
            for d in 1..=2 {
                let nv = 2 * d;
                for (pm, pp) in &cases {
                    let mut an = [0.0; 16];
                    h.hessian(&[0.0; 2][..d], &[], &pm[..d], &pp[..d], &mut an);
                    // The trait's default is the finite-difference version.
                    let mut fd = [0.0; 16];
                    FdOnly(h.as_ref()).hessian(&[0.0; 2][..d], &[], &pm[..d], &pp[..d], &mut fd);
                    for r in 0..nv * nv {
                        assert!(
                            (an[r] - fd[r]).abs() <= 1e-7 * (1.0 + an[r].abs()),
                            "{} d={d} {pm:?} {pp:?} entry {r}: {} vs {}",
                            h.describe(),
                            an[r],
                            fd[r]
                        );
                    }
                }
            }
        }
    }

    /// Forwards everything except `hessian`, so the trait's finite-difference default is used.
    #[derive(Debug)]
    struct FdOnly<'a>(&'a dyn Hamiltonian);
    impl Hamiltonian for FdOnly<'_> {
        fn exact(&self, x: &[f64], m: &[f64], p: &[f64]) -> f64 {
            self.0.exact(x, m, p)
        }
        fn lagrangian(&self, x: &[f64], m: &[f64], alpha: &[f64]) -> f64 {
            self.0.lagrangian(x, m, alpha)
        }
        fn value(&self, x: &[f64], m: &[f64], pm: &[f64], pp: &[f64]) -> f64 {
            self.0.value(x, m, pm, pp)
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
            self.0.gradient(x, m, pm, pp, dm, dp)
        }
        fn name(&self) -> &'static str {
            "fd-only"
        }
        fn parameters(&self) -> Vec<(String, f64)> {
            Vec::new()
        }
        fn validate(&self, dim: usize, field: &str) -> crate::Result<()> {
            self.0.validate(dim, field)
        }
    }

    /// max of a concave function on [lo, hi] by golden-section search.
    fn golden_max(f: impl Fn(f64) -> f64, mut lo: f64, mut hi: f64) -> f64 {
        let g = 0.5 * (5f64.sqrt() - 1.0);
        let (mut a, mut b) = (hi - g * (hi - lo), lo + g * (hi - lo));
        let (mut fa, mut fb) = (f(a), f(b));
        for _ in 0..200 {
            if fa < fb {
                lo = a;
                a = b;
                fa = fb;
                b = lo + g * (hi - lo);
                fb = f(b);
            } else {
                hi = b;
                b = a;
                fb = fa;
                a = hi - g * (hi - lo);
                fa = f(a);
            }
        }
        f(0.5 * (lo + hi))
    }

    /// sup_p (−p·α − H(p)) by nested golden sections (the objective is concave, so its
    /// maximum over p_y is concave in p_x).
    fn numerical_lagrangian(h: &dyn Hamiltonian, alpha: &[f64]) -> f64 {
        let x = [0.3, -0.2];
        let obj = |p: &[f64]| -> f64 {
            -p.iter().zip(alpha).map(|(a, b)| a * b).sum::<f64>() - h.exact(&x, &[], p)
        };
        if alpha.len() == 1 {
            golden_max(|p| obj(&[p]), -50.0, 50.0)
        } else {
            golden_max(
                |px| golden_max(|py| obj(&[px, py]), -50.0, 50.0),
                -50.0,
                50.0,
            )
        }
    }

    #[test]
    fn lagrangians_are_the_legendre_transforms() {
        let hs: Vec<Box<dyn Hamiltonian>> = vec![
            Box::new(Quadratic::new(1.7)),
            Box::new(Anisotropic::new(vec![0.8, 2.5])),
            Box::new(Power::new(1.5, 1.2)),
            Box::new(Power::new(3.0, 0.7)),
        ];
        let alphas: [[f64; 2]; 4] = [[0.0, 0.0], [0.7, -0.3], [-1.4, 0.9], [2.0, 0.5]];
        for h in &hs {
            for d in 1..=2 {
                if h.validate(d, "h").is_err() {
                    continue;
                }
                for a in &alphas {
                    let an = h.lagrangian(&[0.3, -0.2][..d], &[], &a[..d]);
                    let num = numerical_lagrangian(h.as_ref(), &a[..d]);
                    assert!(
                        (an - num).abs() <= 1e-8 * (1.0 + an.abs()),
                        "{} d={d} α={:?}: {an} vs {num}",
                        h.describe(),
                        &a[..d]
                    );
                }
            }
        }
    }

    #[test]
    fn invalid_parameters_name_the_field() {
        let e = Power::new(0.5, 1.0)
            .validate(1, "population[0].hamiltonian")
            .unwrap_err();
        assert!(e.to_string().contains("population[0].hamiltonian.q"), "{e}");
        let e = Anisotropic::new(vec![1.0]).validate(2, "h").unwrap_err();
        assert!(e.to_string().contains("h.costs"), "{e}");
    }
}
