//! Newton in log m (docs/math.md §4): for couplings whose derivative is unbounded at m = 0
//! (f = κ log m), Newton in (u, m) stalls in the density tails, where ∂f/∂m = κ/m. Working in
//! w = log m turns the direction's m-part into dm/m and the update into m ← m·exp(α dm/m), which
//! keeps m > 0 where the linear update would step to m ≤ 0; the linear solve is scaled by the
//! diagonal W = diag(m) (FP rows divided by m, m-unknowns multiplied by m), so that the tails'
//! residuals count relative to the density.

/// The diagonal scaling of the m-unknowns and the matching density update.
#[derive(Debug, Clone)]
pub(super) struct DensityScaling {
    /// Whether the densities are updated in log form (when the coupling is switched on).
    log: bool,
    /// W: the densities of the current point, floored.
    weights: Vec<f64>,
}

impl DensityScaling {
    /// A scaling for `unknowns` m-unknowns, in log form when `log`.
    pub fn new(log: bool, unknowns: usize) -> Self {
        DensityScaling {
            log,
            weights: vec![0.0; unknowns],
        }
    }

    /// Whether Newton runs in log m at coupling strength s: only while the singular coupling is
    /// switched on (at s = 0 nothing is singular, and the linear form follows the Newton
    /// direction exactly).
    pub fn active(&self, s: f64) -> bool {
        self.log && s > 0.0
    }

    /// W from the densities `m` of the current point (None when not active). The floor lies
    /// far below the density scale: nodes with m = 0 keep an absolute scaling.
    pub fn weights(&mut self, s: f64, m: &[f64]) -> Option<&[f64]> {
        if !self.active(s) {
            return None;
        }
        let mmax = m.iter().fold(0.0f64, |a, v| a.max(*v));
        let floor = (1e-200 * mmax).max(f64::MIN_POSITIVE);
        self.weights
            .iter_mut()
            .zip(m)
            .for_each(|(w, m)| *w = m.max(floor));
        Some(&self.weights)
    }

    /// x_t = x0 + α dx, the m-part in log form when active: m·exp(α dm/m) (the exponent clamped
    /// to ±30, a factor e^±30 per step at most).
    pub fn trial_point(
        &self,
        s: f64,
        half: usize,
        x0: &[f64],
        dx: &[f64],
        alpha: f64,
        xt: &mut [f64],
    ) {
        let (xu, xm) = xt.split_at_mut(half);
        let (x0u, x0m) = x0.split_at(half);
        let (du, dm) = dx.split_at(half);
        for i in 0..half {
            xu[i] = x0u[i] + alpha * du[i];
        }
        if self.active(s) {
            for i in 0..half {
                let m = x0m[i];
                xm[i] = if m > 0.0 {
                    m * (alpha * dm[i] / m).clamp(-30.0, 30.0).exp()
                } else {
                    (m + alpha * dm[i]).max(0.0)
                };
            }
        } else {
            for i in 0..half {
                xm[i] = x0m[i] + alpha * dm[i];
            }
        }
    }
}
