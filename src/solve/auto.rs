//! `method = "auto"`, the default: which outer method solves the coupled system (docs/math.md
//! §4), chosen from the problem's sizes, and the method to switch to when it fails.
//!
//! Newton's method on the whole space-time system converges quadratically with the exact
//! Jacobian of [`crate::scheme::jacobian`], which covers every Hamiltonian and coupling the
//! configuration can describe (congestion's density transport included). Its cost is the
//! Jacobian and the linear solves on 2 K (Nt + 1) N unknowns, so auto picks it
//! - in 1D, always (the step solves are banded; measured 15–110× faster than Picard), and
//! - in 2D, up to [`NEWTON_MAX_UNKNOWNS`] unknowns,
//!
//! provided its memory estimate ([`super::MemoryEstimate`]) fits the limit; otherwise Picard
//! with the adaptive damping of [`super::damping`]. A [`Switch`] leaves the first method when
//! it stalls, diverges, makes no progress, fails an inner solve or has used [`FIRST_SHARE`] of
//! the iteration cap, and records why (the run's events, also in the result file and the CLI
//! summary). After Newton the fallback is Anderson-accelerated Picard, and when Newton failed
//! (rather than ran out of its share) Anderson starts again from the run's starting point
//! ([`Switch::restarting`]): on the shipped examples where Newton from the cold start makes no
//! progress it then converges in 14 more iterations on the evacuation and 56 on the segregation
//! (adaptive Picard from Newton's last iterate: 44, and a stall at 1.3e-3 after 500; Anderson
//! from that iterate failed on the coarse segregation grid of `tests/default_method.rs`).
//! After Picard on large 2D systems the fallback is Newton, from Picard's iterate.

use super::anderson::{Anderson, AndersonSettings};
use super::combinators::{Lazy, Switch};
use super::newton::{self, NewtonSettings};
use super::picard::{Picard, Relaxation};
use super::{MemoryEstimate, Method, MethodKind, Sizes, SolverSettings};
use crate::error::Result;
use crate::problem::Problem;

/// Largest 2D system (unknowns 2 K (Nt + 1) N) for which auto starts with Newton: 64² × 64
/// with K = 2 has 1.1 M unknowns, 128² × 128 with K = 2 has 8.5 M (measured 27 s with Newton).
pub const NEWTON_MAX_UNKNOWNS: u64 = 4_000_000;

/// The fraction of the iteration cap the first method may use before auto switches.
pub const FIRST_SHARE: f64 = 0.4;

/// The parameters of the methods auto may run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AutoSettings {
    /// Newton's parameters (`[solver.newton]`).
    pub newton: NewtonSettings,
    /// Picard's relaxation (`[solver.picard]`, adaptive by default).
    pub picard: Relaxation,
    /// Anderson's parameters (`[solver.anderson]`), the fallback after Newton.
    pub anderson: AndersonSettings,
}

impl Default for AutoSettings {
    fn default() -> Self {
        AutoSettings {
            newton: NewtonSettings::default(),
            picard: Relaxation::Adaptive,
            anderson: AndersonSettings::default(),
        }
    }
}

/// One of the methods auto runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Choice {
    /// Newton's method with its warm start and fallbacks.
    Newton,
    /// Picard with `[solver.picard]`'s relaxation.
    Picard,
    /// Anderson-accelerated Picard with `[solver.anderson]`'s parameters.
    Anderson,
}

impl Choice {
    /// The configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Choice::Newton => "newton",
            Choice::Picard => "picard",
            Choice::Anderson => "anderson",
        }
    }
}

/// What auto runs on a problem, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The method it starts with.
    pub first: Choice,
    /// The method it switches to when the first fails (`None`: Newton does not fit in memory).
    pub then: Option<Choice>,
    /// Why, in a sentence.
    pub reason: String,
}

impl Plan {
    /// The plan for a problem of `sizes` solved with `settings` (whose method is auto).
    pub fn of(sizes: &Sizes, settings: &SolverSettings, auto: &AutoSettings) -> Result<Self> {
        let newton = SolverSettings {
            method: MethodKind::Newton(auto.newton),
            ..settings.clone()
        };
        let estimate = MemoryEstimate::of(sizes, &newton)?;
        let fits = estimate.check(settings.memory_limit).is_ok();
        let unknowns = estimate.unknowns;
        Ok(if !fits {
            Plan {
                first: Choice::Picard,
                then: None,
                reason: format!(
                    "Newton's Jacobian and solver ({}) do not fit in memory",
                    super::budget::bytes(estimate.total())
                ),
            }
        } else if sizes.dim == 1 {
            Plan {
                first: Choice::Newton,
                then: Some(Choice::Anderson),
                reason: "1D: Newton's Jacobian is exact and its solves are banded".into(),
            }
        } else if unknowns <= NEWTON_MAX_UNKNOWNS {
            Plan {
                first: Choice::Newton,
                then: Some(Choice::Anderson),
                reason: format!(
                    "2D with {unknowns} unknowns (at most {NEWTON_MAX_UNKNOWNS}): Newton's \
                     Jacobian is exact and cheap at this size"
                ),
            }
        } else {
            Plan {
                first: Choice::Picard,
                then: Some(Choice::Newton),
                reason: format!(
                    "2D with {unknowns} unknowns (more than {NEWTON_MAX_UNKNOWNS}): Picard \
                     iterations are cheaper than Newton's linear solves"
                ),
            }
        })
    }

    /// The plan in one line, e.g. for `mfg check`.
    pub fn describe(&self) -> String {
        match self.then {
            Some(then) => format!(
                "auto: {} ({}), switching to {} if it fails",
                self.first.as_str(),
                self.reason,
                then.as_str()
            ),
            None => format!("auto: {} ({})", self.first.as_str(), self.reason),
        }
    }
}

/// The method auto runs on `problem`: the plan's first method, switching to its second.
pub fn build(
    problem: &Problem,
    settings: &SolverSettings,
    auto: &AutoSettings,
) -> Result<Box<dyn Method>> {
    let plan = Plan::of(&Sizes::of(problem), settings, auto)?;
    let hjb = settings.hjb;
    let newton_settings = NewtonSettings {
        target_residual: settings.stopping.tol_residual,
        ..auto.newton
    };
    let (relaxation, anderson) = (auto.picard, auto.anderson);
    let make = move |choice: Choice, problem: &Problem| -> Result<Box<dyn Method>> {
        match choice {
            Choice::Newton => newton::with_combinators(problem, newton_settings, hjb),
            Choice::Picard => Ok(Box::new(Picard::new(problem, relaxation, hjb)?)),
            Choice::Anderson => Ok(Box::new(Anderson::new(problem, anderson, hjb)?)),
        }
    };
    let first = make(plan.first, problem)?;
    let Some(then) = plan.then else {
        return Ok(first);
    };
    let share = ((settings.stopping.max_iterations as f64) * FIRST_SHARE).ceil() as usize;
    let then = Box::new(Lazy::new(
        then.as_str(),
        Box::new(move |p: &Problem| make(then, p)),
    ));
    // Newton's failed iterate is a poor start for the fixed-point methods; after Picard (large
    // 2D systems, where a copy of the iterate is not free) the fallback continues from it.
    Ok(Box::new(match plan.first {
        Choice::Newton => Switch::restarting(first, share.max(1), then),
        _ => Switch::new(first, share.max(1), then),
    }))
}

/// The method to suggest after a run of `method` that did not converge.
pub fn suggestion(method: &MethodKind) -> &'static str {
    match method {
        MethodKind::Auto(_) => {
            "try method = \"newton\" with a larger max_iterations, or method = \"picard\" with \
             a small fixed [solver.picard] relaxation (e.g. 0.1)"
        }
        MethodKind::Newton(_) => {
            "try method = \"auto\" (Newton, then Anderson) or method = \"anderson\""
        }
        MethodKind::Picard(Relaxation::Adaptive) => {
            "try method = \"newton\", or a smaller fixed [solver.picard] relaxation"
        }
        MethodKind::Picard(_) => {
            "try method = \"auto\" or method = \"newton\", or [solver.picard] relaxation = \
             \"adaptive\""
        }
        MethodKind::Anderson(_) => "try method = \"auto\" or method = \"newton\"",
    }
}
