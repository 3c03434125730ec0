//! Outer iterations for the coupled K-population system (docs/math.md §4): the [`Method`]s —
//! Picard / fictitious play (fixed or adaptive damping), Anderson-accelerated Picard, Newton
//! on the whole space-time system, and `auto` (the default), which picks one of them and
//! switches to the other when it fails — the combinators that chain them (warm start,
//! fallback, switch), the driver that runs them against the [`Stopping`] rule, and the
//! [`Solution`] with its history.
//!
//! Non-convergence is data ([`Termination`]), never an error: a run that stops early still
//! returns its iterate and history.

pub mod anderson;
pub mod auto;
pub mod budget;
pub mod combinators;
pub mod damping;
pub mod driver;
pub mod newton;
pub mod picard;
pub(crate) mod response;
pub mod spacetime;
pub mod stationary;
pub mod stopping;

pub use anderson::{Anderson, AndersonSettings};
pub use auto::AutoSettings;
pub use budget::{MemoryEstimate, Sizes};
pub use combinators::{Lazy, Sequence, Switch, WithFallback};
pub use driver::{
    run, Control, Method, Observer, Outcome, Resume, Silent, Solution, StepMeasure, StepStats,
    Termination,
};
pub use newton::{Newton, NewtonSettings};
pub use picard::{Picard, Relaxation};
pub use stopping::{Stopping, UChange};

/// The unknowns (u, m) of the discrete system, defined with it in [`crate::scheme`].
pub use crate::scheme::Iterate;

use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::scheme::HjbSettings;

/// Everything needed to pick and run a method, as the configuration describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverSettings {
    /// The outer method and its parameters.
    pub method: MethodKind,
    /// When the outer iteration stops.
    pub stopping: Stopping,
    /// The Newton loop of each implicit HJB step and its linear solver.
    pub hjb: HjbSettings,
    /// Bytes a solve may use ([`MemoryEstimate`]); `None`: the memory available on the machine
    /// when the solve starts.
    pub memory_limit: Option<u64>,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings {
            method: MethodKind::Auto(AutoSettings::default()),
            stopping: Stopping::default(),
            hjb: HjbSettings::default(),
            memory_limit: None,
        }
    }
}

/// The outer methods the configuration can select.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MethodKind {
    /// Newton or Picard, chosen from the problem's sizes, switching to the other when it fails
    /// ([`auto`]).
    Auto(AutoSettings),
    /// Picard / best response with relaxation of m.
    Picard(Relaxation),
    /// Anderson-accelerated Picard on u.
    Anderson(AndersonSettings),
    /// Newton's method on the whole space-time system.
    Newton(NewtonSettings),
}

impl SolverSettings {
    /// The memory a solve of a problem of `sizes` with these settings needs.
    pub fn memory_estimate(&self, sizes: &Sizes) -> Result<MemoryEstimate> {
        MemoryEstimate::of(sizes, self)
    }

    /// Builds the method, with its warm start and fallback combinators.
    pub fn build(&self, problem: &Problem) -> Result<Box<dyn Method>> {
        match self.method {
            MethodKind::Auto(a) => auto::build(problem, self, &a),
            MethodKind::Picard(relax) => Ok(Box::new(Picard::new(problem, relax, self.hjb)?)),
            MethodKind::Anderson(a) => Ok(Box::new(Anderson::new(problem, a, self.hjb)?)),
            MethodKind::Newton(n) => {
                let n = NewtonSettings {
                    target_residual: self.stopping.tol_residual,
                    ..n
                };
                newton::with_combinators(problem, n, self.hjb)
            }
        }
    }
}

/// Solves `problem` from the cold start with the configured method and no observer.
pub fn solve(problem: &Problem, settings: &SolverSettings) -> Result<Solution> {
    solve_with(problem, settings, None, &mut Silent)
}

/// Solves `problem` from the cold start, or from a [`Resume`]d run, with an observer.
pub fn solve_with(
    problem: &Problem,
    settings: &SolverSettings,
    resume: Option<Resume>,
    observer: &mut dyn Observer,
) -> Result<Solution> {
    if problem.horizon() == crate::problem::Horizon::Stationary {
        return Err(Error::invalid(
            "time.kind",
            "the problem is stationary: it has no time grid to march on; solve it with \
             solve::stationary::solve_stationary",
        ));
    }
    Sizes::of(problem).check(settings)?;
    let mut method = settings.build(problem)?;
    let start = resume.unwrap_or_else(|| Resume {
        iterate: Iterate::initial(problem),
        history: Vec::new(),
    });
    let mut solution = run(
        problem,
        method.as_mut(),
        &settings.stopping,
        start,
        observer,
    )?;
    if matches!(
        solution.termination,
        Termination::MaxIterations | Termination::Diverged
    ) {
        let hint = auto::suggestion(&settings.method);
        solution.detail = Some(match solution.detail.take() {
            Some(d) => format!("{d}; {hint}"),
            None => format!("not converged: {hint}"),
        });
    }
    Ok(solution)
}
