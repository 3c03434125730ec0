//! The driver of every outer iteration: one [`Method`] step at a time, measured against the
//! [`Stopping`] rule, recorded in the history, with an [`Observer`] for side effects (progress,
//! checkpoints, interruption).
//!
//! How a step and a run end are data: a step reports an [`Outcome`], a run a [`Termination`];
//! errors are kept for broken invariants and invalid input. A run that stops early still returns
//! its iterate and history.

use super::Stopping;
use crate::error::Result;
use crate::field::Field;
use crate::problem::Problem;
use crate::scheme::{self, Iterate};
use std::time::Instant;

/// What one outer iteration measured.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepStats {
    /// 1-based iteration number.
    pub iteration: usize,
    /// max_k ‖u_new - u_old‖∞ over all levels.
    pub delta_u: f64,
    /// max_k max_n ‖m_new - m_old‖_{L1} (Σ_i |·| h^d).
    pub delta_m: f64,
    /// Residual of the discrete system after the iteration ([`scheme::Residual::norm`]).
    pub residual: f64,
    /// Its HJB part.
    pub residual_hjb: f64,
    /// Its FP part.
    pub residual_fp: f64,
    /// Wall time since the start of the solve (cumulative over resumed runs), in seconds.
    pub seconds: f64,
    /// Inner iterations of the step (Newton iterations of the HJB steps, Krylov iterations…).
    pub inner_iterations: usize,
    /// Relaxation weight used, or Newton's step length (0 for a failed step).
    pub theta: f64,
}

/// How a solve ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// All stopping tolerances met.
    Converged,
    /// The iteration cap was reached first.
    MaxIterations,
    /// The residual grew far beyond its starting size.
    Diverged,
    /// A NaN or infinity appeared; the iterate is the last finite one.
    NonFinite,
    /// An observer asked to stop (e.g. Ctrl-C).
    Interrupted,
    /// An inner solve (the Newton loop of an implicit HJB step) did not reach its threshold;
    /// [`Solution::detail`] names the population, the time step and the residual, and the
    /// iterate is the last one the outer method completed.
    InnerSolveFailed,
}

const TERMINATIONS: [Termination; 6] = [
    Termination::Converged,
    Termination::MaxIterations,
    Termination::Diverged,
    Termination::NonFinite,
    Termination::Interrupted,
    Termination::InnerSolveFailed,
];

impl Termination {
    /// Lower-case name used in summaries and files.
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::MaxIterations => "max-iterations",
            Termination::Diverged => "diverged",
            Termination::NonFinite => "non-finite",
            Termination::Interrupted => "interrupted",
            Termination::InnerSolveFailed => "inner-solve-failed",
        }
    }

    /// Inverse of [`Termination::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        TERMINATIONS.into_iter().find(|t| t.as_str() == s)
    }
}

/// The result of a solve: final iterate, full history, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    /// The last iterate (the last finite one if the run ended non-finite).
    pub iterate: Iterate,
    /// One row per outer iteration, resumed runs included.
    pub history: Vec<StepStats>,
    /// How the run ended.
    pub termination: Termination,
    /// What ended it, when the termination alone does not say (e.g. where a non-finite value
    /// appeared).
    pub detail: Option<String>,
    /// Name of the method that produced it (the one in use at the end).
    pub method: String,
    /// What the methods reported besides the history, one line each, `iteration N: …` (e.g.
    /// a switch of method and its reason; [`Method::take_event`]).
    pub events: Vec<String>,
}

impl Solution {
    /// The last recorded step, if any.
    pub fn last(&self) -> Option<&StepStats> {
        self.history.last()
    }

    /// Wall time of the whole solve (seconds).
    pub fn seconds(&self) -> f64 {
        self.last().map_or(0.0, |s| s.seconds)
    }

    /// Mass Σ_i m_i h^d of population k at every level.
    pub fn mass(&self, problem: &Problem, k: usize) -> Vec<f64> {
        let f = &self.iterate.m[k];
        (0..f.levels())
            .map(|n| problem.grid().integrate(f.level(n)))
            .collect()
    }

    /// The smallest value of m^k over all levels and nodes (NaN if any value is NaN). Negative
    /// only for an iterate that is not a solution (an unconverged Newton iterate): the FP step
    /// of the scheme keeps m ≥ 0.
    pub fn min_density(&self, k: usize) -> f64 {
        self.iterate.m[k]
            .as_slice()
            .iter()
            .fold(f64::INFINITY, |a, &v| {
                if a.is_nan() || v.is_nan() {
                    f64::NAN
                } else {
                    a.min(v)
                }
            })
    }

    /// Warnings about an iterate that is not a set of densities: one per population whose
    /// m^k takes negative values beyond round-off (below −1e-12 · max(1, max m^k)), or NaN.
    pub fn density_warnings(&self, names: &[String]) -> Vec<String> {
        let mut out = Vec::new();
        for (k, name) in names.iter().enumerate() {
            let min = self.min_density(k);
            let max = self.iterate.m[k]
                .as_slice()
                .iter()
                .fold(1.0f64, |a, &v| a.max(v));
            if min.is_nan() || min < -1e-12 * max {
                out.push(format!(
                    "population {name}: min m = {min:.3e}: this iterate ({}) is not a density \
                     (negative or NaN values); do not read its m as one",
                    self.termination.as_str()
                ));
            }
        }
        out
    }

    /// Optimal feedback α^k per axis at every level n < Nt (from u^n and m^{n+1}, as in the
    /// scheme); level Nt repeats level Nt-1. Each axis is a (Nt+1)-level field.
    pub fn controls(&self, problem: &Problem, k: usize) -> Vec<Field> {
        let (grid, nt) = (problem.grid(), problem.time().nt);
        let d = grid.dim();
        let mut out: Vec<Field> = (0..d)
            .map(|_| Field::filled(nt + 1, grid.len(), 0.0))
            .collect();
        let mut level: Vec<Vec<f64>> = vec![vec![0.0; grid.len()]; d];
        for n in 0..=nt {
            let src = n.min(nt - 1);
            let m_next = scheme::densities_at(&self.iterate.m, src + 1);
            scheme::generator::controls_level(
                grid,
                problem.population(k),
                self.iterate.u[k].level(src),
                &m_next,
                &mut level,
            );
            for a in 0..d {
                out[a].level_mut(n).copy_from_slice(&level[a]);
            }
        }
        out
    }
}

/// What an observer wants after seeing a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now; the solve ends as [`Termination::Interrupted`].
    Stop,
}

/// Side effects during a solve (progress display, checkpoints, interruption). Every hook has a
/// no-op default.
pub trait Observer {
    /// Called after every outer iteration with the new iterate and the whole history.
    fn step(&mut self, _iterate: &Iterate, _history: &[StepStats]) -> Control {
        Control::Continue
    }
    /// Called once when the solve ends.
    fn finish(&mut self, _solution: &Solution) {}
}

/// The observer that does nothing.
#[derive(Debug, Default)]
pub struct Silent;
impl Observer for Silent {}

/// How one step ended.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Outcome {
    /// The step was taken (the iterate may be unchanged if the method backed off internally,
    /// e.g. Newton restarting a continuation stage).
    #[default]
    Advanced,
    /// The method cannot make progress from this iterate (Newton's line search failed and it
    /// has no internal remedy left); the iterate is unchanged. A [`super::WithFallback`]
    /// combinator reacts to it; alone, the method tries again at the next step.
    Stalled,
    /// A NaN or infinity appeared (in `what`, at a population and time step when known); the
    /// iterate is unchanged and the run ends as [`Termination::NonFinite`].
    NonFinite {
        /// The quantity that became non-finite.
        what: &'static str,
        /// The population, when known.
        population: Option<usize>,
        /// The time step, when known.
        step: Option<usize>,
    },
    /// The Newton loop of an implicit HJB step did not reach its threshold (see
    /// [`crate::scheme::HjbStep::threshold`]); the iterate is unchanged and the run ends as
    /// [`Termination::InnerSolveFailed`].
    InnerSolveFailed {
        /// The population k.
        population: usize,
        /// The time step n (u^n was solved for).
        step: usize,
        /// Newton iterations done.
        iterations: usize,
        /// Δt‖R‖∞ at the last iterate.
        residual: f64,
        /// The threshold it had to reach.
        threshold: f64,
    },
}

impl Outcome {
    /// The termination a stopping outcome ends the run with (`None`: the run goes on).
    fn termination(&self) -> Option<Termination> {
        match self {
            Outcome::NonFinite { .. } => Some(Termination::NonFinite),
            Outcome::InnerSolveFailed { .. } => Some(Termination::InnerSolveFailed),
            Outcome::Advanced | Outcome::Stalled => None,
        }
    }

    /// A human-readable account of a stopping outcome.
    fn describe(&self, problem: &Problem) -> Option<String> {
        match *self {
            Outcome::InnerSolveFailed {
                population,
                step,
                iterations,
                residual,
                threshold,
            } => Some(format!(
                "the HJB Newton iteration of population {population} ({:?}) did not converge at \
                 time step {step}: residual Δt‖R‖∞ = {residual:.3e} above its threshold \
                 {threshold:.3e} after {iterations} iterations ([solver.hjb] tol, max_iterations)",
                problem.population(population).name()
            )),
            Outcome::NonFinite {
                what,
                population,
                step,
            } => {
                let mut s = format!("non-finite value in {what}");
                if let Some(k) = population {
                    s.push_str(&format!(" (population {k}"));
                    if let Some(n) = step {
                        s.push_str(&format!(", time step {n}"));
                    }
                    s.push(')');
                }
                Some(s)
            }
            _ => None,
        }
    }
}

/// Measurements a method returns for one step (the driver adds iteration number and time).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepMeasure {
    /// max_k ‖Δu‖∞.
    pub delta_u: f64,
    /// max_k max_n ‖Δm‖_{L1}.
    pub delta_m: f64,
    /// max_k of the m-weighted change of u ([`super::stopping::weighted_u_change`]), which
    /// the stopping rule uses by default.
    pub delta_u_weighted: f64,
    /// Residual of the discrete system at the new iterate.
    pub residual: scheme::Residual,
    /// Inner iterations (HJB Newton iterations, Krylov iterations…).
    pub inner_iterations: usize,
    /// Relaxation weight, or Newton's step length.
    pub theta: f64,
    /// How the step ended.
    pub outcome: Outcome,
}

impl StepMeasure {
    /// A step that found a non-finite value (nothing else measured).
    pub fn non_finite(what: &'static str, population: Option<usize>, step: Option<usize>) -> Self {
        StepMeasure {
            outcome: Outcome::NonFinite {
                what,
                population,
                step,
            },
            ..Default::default()
        }
    }
}

/// One outer iteration scheme (Picard, fictitious play, Newton, a combination of them…).
pub trait Method {
    /// Name for summaries and files, e.g. `picard`.
    fn name(&self) -> &'static str;

    /// Advances `iterate` by one iteration. `iteration` is the 0-based index of this step in
    /// the whole run (including steps before a resume). On an error or an outcome other than
    /// [`Outcome::Advanced`], `iterate` must be unchanged.
    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure>;

    /// Told before the next step when another method has changed the iterate since this
    /// method's last step (combinators call it), so that state tied to the old iterate is
    /// dropped.
    fn iterate_changed(&mut self) {}

    /// What happened in the last step that the history's numbers do not say (e.g. a
    /// combinator switching methods, and why), taken once: the driver records it in
    /// [`Solution::events`].
    fn take_event(&mut self) -> Option<String> {
        None
    }
}

/// A run to continue: the iterate and the history of the steps already taken.
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    /// Where the run stopped.
    pub iterate: Iterate,
    /// Its steps so far (iteration numbers and time continue from them).
    pub history: Vec<StepStats>,
}

/// Runs `method` from `start` (the cold start, or a [`Resume`]d run's iterate and history)
/// until the stopping rule ends it.
pub fn run(
    problem: &Problem,
    method: &mut dyn Method,
    stopping: &Stopping,
    start: Resume,
    observer: &mut dyn Observer,
) -> Result<Solution> {
    let Resume {
        mut iterate,
        mut history,
    } = start;
    iterate.check_shape(problem)?;
    let clock = Instant::now();
    let t0 = history.last().map_or(0.0, |s| s.seconds);
    let mut detail = None;
    let mut events = Vec::new();
    let termination = loop {
        let iteration = history.len();
        if iteration >= stopping.max_iterations {
            break Termination::MaxIterations;
        }
        let measure = method.step(problem, &mut iterate, iteration)?;
        while let Some(event) = method.take_event() {
            events.push(format!("iteration {}: {event}", iteration + 1));
        }
        if let Some(termination) = measure.outcome.termination() {
            detail = measure.outcome.describe(problem);
            break termination;
        }
        let stats = StepStats {
            iteration: iteration + 1,
            delta_u: measure.delta_u,
            delta_m: measure.delta_m,
            residual: measure.residual.norm(),
            residual_hjb: measure.residual.hjb,
            residual_fp: measure.residual.fp,
            seconds: t0 + clock.elapsed().as_secs_f64(),
            inner_iterations: measure.inner_iterations,
            theta: measure.theta,
        };
        history.push(stats);
        if !stats.residual.is_finite() || !iterate.is_finite() {
            break Termination::NonFinite;
        }
        if stopping.converged(&stats, measure.residual.floor, measure.delta_u_weighted) {
            break Termination::Converged;
        }
        if stopping.diverged(&history) {
            break Termination::Diverged;
        }
        if observer.step(&iterate, &history) == Control::Stop {
            break Termination::Interrupted;
        }
    };
    let solution = Solution {
        iterate,
        history,
        termination,
        detail,
        method: method.name().to_string(),
        events,
    };
    observer.finish(&solution);
    Ok(solution)
}
