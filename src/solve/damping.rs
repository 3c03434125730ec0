//! Adaptive damping of the Picard density update m ← (1 − θ) m + θ m_BR (docs/math.md §4, "Adaptive damping"):
//! θ is chosen from how the iteration behaves instead of being fixed, so that a θ that makes
//! the damped map cycle or expand is abandoned, and one that works is grown back.
//!
//! The rule, after every step n (r_n the residual of the discrete system at the new iterate,
//! [`crate::scheme::Residual::norm`]; Δ_n = max_k max_t ‖m_{n+1} − m_n‖_{L1} the density change;
//! Δ²_n = max_k max_t ‖m_{n+1} − m_{n−1}‖_{L1} the change over two steps):
//!
//! - the step *fails* when the residual grew, r_n > r_{n−1} (and r_n is above ten times its
//!   round-off floor, where it only fluctuates), or when the density oscillates with period 2,
//!   Δ²_n < ½ Δ_n (m came back near where it was two steps ago: with a linearised map of
//!   eigenvalue μ, Δ²/Δ = |1 + 1/μ|, below ½ only for μ < −2/3);
//! - a failure halves θ (down to [`THETA_MIN`]) and restarts the count of successes;
//! - the step right after a failure is not judged: its residual still carries the overshoot of
//!   the failed step (without this pause one failure halved θ three times in a row);
//! - after [`GROW_AFTER`] successes in a row θ grows by [`GROWTH`] (up to 1).
//!
//! Measured on the periodic test problem of `tests/default_method.rs` (f = A m, A = 1, 50
//! nodes, 25 steps), where every fixed θ ∈ {0.1, 0.2, 0.3, 0.4, 0.5} is still unconverged after
//! 200 iterations: 72 iterations (A = 3: 180). Capping θ below a θ that once failed was tried
//! and is slower (87; A = 3: over 200): a θ that fails in the nonlinear transient of the first
//! iterations is often stable near the solution.
//!
//! θ starts at 1 (plain best response, the fastest when it contracts). For a monotone coupling
//! the best-response map's linearisation has real eigenvalues λ ≤ 0 (Lasry–Lions), so the
//! damped map 1 − θ(1 − λ) contracts for every θ < 2/(1 − λ_min): halving reaches such a θ in
//! a few steps, where a fixed θ = 0.5 cycles as soon as λ_min ≤ −3.

use crate::field::Field;

/// The smallest θ the rule goes down to.
pub const THETA_MIN: f64 = 1.0 / 256.0;
/// Successful steps in a row before θ grows.
pub const GROW_AFTER: usize = 3;
/// Factor θ grows by after [`GROW_AFTER`] successes.
pub const GROWTH: f64 = 1.25;
/// Δ²/Δ below this is a period-2 oscillation.
const PERIOD_TWO: f64 = 0.5;

/// The state of the adaptive rule: θ for the next step, and what the last steps measured.
#[derive(Debug, Clone)]
pub struct AdaptiveTheta {
    theta: f64,
    /// The next step is not judged (it follows a failure).
    pause: bool,
    successes: usize,
    last_residual: Option<f64>,
    /// m_{n−1}: the densities before the last step, for the period-2 test.
    before: Option<Vec<Field>>,
    /// Failures so far (for the history and tests).
    pub failures: usize,
}

impl Default for AdaptiveTheta {
    fn default() -> Self {
        AdaptiveTheta {
            theta: 1.0,
            pause: false,
            successes: 0,
            last_residual: None,
            before: None,
            failures: 0,
        }
    }
}

impl AdaptiveTheta {
    /// θ of the next step.
    pub fn theta(&self) -> f64 {
        self.theta
    }

    /// Forgets the measurements tied to the old iterate (another method changed it); θ is kept.
    pub fn forget(&mut self) {
        self.last_residual = None;
        self.before = None;
        self.successes = 0;
    }

    /// Updates θ after a step from `old` (m_n) to `new` (m_{n+1}) with density change `delta_m`
    /// (Δ_n), residual `residual` (r_n) and residual round-off floor `floor`.
    pub fn update(
        &mut self,
        old: &[&Field],
        new: &[Field],
        h_d: f64,
        delta_m: f64,
        residual: f64,
        floor: f64,
    ) {
        let grew = matches!(self.last_residual, Some(r) if residual > r && residual > 10.0 * floor);
        let period_two = self.before.as_ref().is_some_and(|before| {
            let two: f64 = before
                .iter()
                .zip(new)
                .map(|(b, n)| n.max_level_l1_diff(b, h_d))
                .fold(0.0, f64::max);
            two < PERIOD_TWO * delta_m
        });
        if std::mem::take(&mut self.pause) {
            // Not judged: see the module's rule.
        } else if grew || period_two {
            self.theta = (0.5 * self.theta).max(THETA_MIN);
            self.successes = 0;
            self.failures += 1;
            self.pause = true;
        } else {
            self.successes += 1;
            if self.successes.is_multiple_of(GROW_AFTER) {
                self.theta = (GROWTH * self.theta).min(1.0);
            }
        }
        self.last_residual = Some(residual);
        match &mut self.before {
            Some(b) => b.iter_mut().zip(old).for_each(|(b, o)| b.clone_from(o)),
            None => self.before = Some(old.iter().map(|&f| f.clone()).collect()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(v: f64) -> Vec<Field> {
        vec![Field::filled(2, 1, v)]
    }

    fn update(a: &mut AdaptiveTheta, old: &[Field], new: &[Field], dm: f64, r: f64) {
        let old: Vec<&Field> = old.iter().collect();
        a.update(&old, new, 1.0, dm, r, 0.0);
    }

    /// A period-2 sequence halves θ at every step; a monotone one grows it back.
    #[test]
    fn period_two_shrinks_and_success_grows() {
        let mut a = AdaptiveTheta::default();
        let (x, y) = (field(0.0), field(1.0));
        update(&mut a, &x, &y, 1.0, 1.0);
        assert_eq!(a.theta(), 1.0);
        update(&mut a, &y, &x, 1.0, 1.0);
        assert_eq!(a.theta(), 0.5);
        // The step after a failure is not judged.
        update(&mut a, &x, &y, 1.0, 1.0);
        assert_eq!(a.theta(), 0.5);
        update(&mut a, &y, &x, 1.0, 1.0);
        assert_eq!(a.theta(), 0.25);
        // Converging geometrically: residual down, no oscillation (the first step after the
        // failure is not judged).
        let mut r = 0.5;
        let mut m = 1.0;
        for _ in 0..=GROW_AFTER {
            let next = m * 0.5;
            update(&mut a, &field(m), &field(next), m - next, r);
            m = next;
            r *= 0.5;
        }
        assert_eq!(a.theta(), 0.25 * GROWTH);
        // A residual that grows halves θ.
        update(&mut a, &field(m), &field(m * 0.5), m * 0.5, 4.0 * r);
        assert_eq!(a.theta(), 0.125 * GROWTH);
    }
}
