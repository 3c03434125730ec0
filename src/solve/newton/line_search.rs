//! The globalisation of a Newton step by backtracking: accept the first α ∈ {1, ½, ¼, …} with
//! ‖F(x + αd)‖ ≤ (1 - 10⁻⁴α) R, where R is the largest residual of the last `window` Newton
//! steps of the current coupling stage (the non-monotone rule of Grippo, Lampariello and Lucidi;
//! a window of 1 is the classical Armijo rule). Residuals at the round-off level of the scheme
//! are accepted whatever their decrease.

use std::collections::VecDeque;

/// The sufficient-decrease constant of the Armijo rule.
const ARMIJO: f64 = 1e-4;

/// Residuals below ROUNDOFF·(1 + max|u|) are at the round-off level of the scheme.
const ROUNDOFF: f64 = 1e-13;

/// The state of the non-monotone line search.
#[derive(Debug, Clone)]
pub(super) struct LineSearch {
    window: usize,
    recent: VecDeque<f64>,
    /// The coupling strength the recent merits belong to.
    recent_scale: f64,
}

/// The acceptance test of one Newton step.
#[derive(Debug, Clone, Copy)]
pub(super) struct Acceptance {
    reference: f64,
    floor: f64,
}

impl Acceptance {
    /// Whether the trial residual `merit` at step length `alpha` is accepted.
    pub fn accepts(&self, merit: f64, alpha: f64) -> bool {
        merit.is_finite()
            && (merit <= (1.0 - ARMIJO * alpha) * self.reference || merit <= self.floor)
    }
}

impl LineSearch {
    pub fn new(window: usize) -> Self {
        LineSearch {
            window,
            recent: VecDeque::new(),
            recent_scale: 1.0,
        }
    }

    /// Records the merit of the current point (at coupling strength s) and returns the test its
    /// step must pass; `u_max` = max |u| sets the round-off floor.
    pub fn begin(&mut self, merit0: f64, s: f64, u_max: f64) -> Acceptance {
        if self.recent_scale != s {
            self.recent.clear();
            self.recent_scale = s;
        }
        self.recent.push_back(merit0);
        while self.recent.len() > self.window.max(1) {
            self.recent.pop_front();
        }
        Acceptance {
            reference: self.recent.iter().cloned().fold(merit0, f64::max),
            floor: ROUNDOFF * (1.0 + u_max),
        }
    }
}
