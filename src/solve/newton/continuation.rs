//! Continuation in the coupling strength, Newton's first remedy when its line search fails:
//! solve the problem with f scaled by s = 0 (uncoupled control problems, where Newton converges
//! from anywhere), then raise s towards 1 by increments ds (×1.5 after every solved stage, each
//! solved to `tol`); after a stall inside a stage, go back to the last solved stage with half the
//! increment. Below an increment of 1/64, or when even the first stage stalls, continuation has
//! failed and later stalls are left to the caller (a fallback method).

use crate::scheme::Iterate;

/// Smallest increment of s before continuation gives up.
const MIN_INCREMENT: f64 = 1.0 / 64.0;

/// The first increment.
const FIRST_INCREMENT: f64 = 0.25;

#[derive(Debug, Clone)]
struct Stage {
    /// Strength of the stage being solved.
    s: f64,
    /// The last solved stage and its solution.
    solved: Option<(f64, Iterate)>,
    ds: f64,
}

/// What a stall leads to.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum OnStall {
    /// A new stage starts from the current iterate.
    Started,
    /// Back to the last solved stage: the iterate to restore.
    Restore(Iterate),
    /// Continuation cannot help (any more): the stall is the caller's.
    GiveUp,
}

/// The continuation state of a Newton run.
#[derive(Debug, Clone)]
pub(super) struct Continuation {
    /// Whether continuation is tried at all.
    enabled: bool,
    /// Residual (of the stage problem) at which a stage counts as solved.
    tol: f64,
    stage: Option<Stage>,
    failed: bool,
}

impl Continuation {
    pub fn new(enabled: bool, tol: f64) -> Self {
        Continuation {
            enabled,
            tol,
            stage: None,
            failed: false,
        }
    }

    /// Coupling strength of the current stage (1 outside continuation).
    pub fn scale(&self) -> f64 {
        self.stage.as_ref().map_or(1.0, |c| c.s)
    }

    /// After a failed Newton step.
    pub fn on_stall(&mut self) -> OnStall {
        if !self.enabled || self.failed {
            return OnStall::GiveUp;
        }
        match self.stage.as_mut() {
            None => {
                self.stage = Some(Stage {
                    s: 0.0,
                    solved: None,
                    ds: FIRST_INCREMENT,
                });
                OnStall::Started
            }
            Some(c) => match &c.solved {
                Some((s0, it)) if c.ds > MIN_INCREMENT => {
                    c.ds *= 0.5;
                    c.s = (s0 + c.ds).min(1.0);
                    OnStall::Restore(it.clone())
                }
                _ => {
                    // Stuck even on the first stage or with tiny increments.
                    self.stage = None;
                    self.failed = true;
                    OnStall::GiveUp
                }
            },
        }
    }

    /// After an accepted step whose residual (of the stage problem) is `r`.
    pub fn advance(&mut self, iterate: &Iterate, r: f64) {
        if let Some(c) = self.stage.as_mut() {
            if r <= self.tol {
                if c.s >= 1.0 {
                    self.stage = None;
                } else {
                    c.solved = Some((c.s, iterate.clone()));
                    c.s = (c.s + c.ds).min(1.0);
                    c.ds *= 1.5;
                }
            }
        }
    }
}
