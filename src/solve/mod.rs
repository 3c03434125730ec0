//! Outer iterations for the coupled K-population system (MATH.md §3) and the driver that runs
//! them: one [`Method`] step at a time, measured against the [`Stopping`] rule, recorded in the
//! history, with an [`Observer`] hook for side effects (progress, checkpoints, interruption).
//!
//! Non-convergence is data ([`Termination`]), never an error: a run that stops early still
//! returns its iterate and history.

pub mod anderson;
pub mod newton;
pub mod picard;
pub mod spacetime;
pub mod stopping;

pub use anderson::{Anderson, AndersonSettings};
pub use newton::{Newton, NewtonSettings};
pub use picard::{Picard, Relaxation};
pub use stopping::Stopping;

use crate::error::{Error, Result};
use crate::field::Field;
use crate::problem::Problem;
use crate::scheme::{self, Generator, HjbSettings, Workspace};
use std::time::Instant;

/// The unknowns of the discrete system: u^k and m^k on every time level, per population.
#[derive(Debug, Clone, PartialEq)]
pub struct Iterate {
    pub u: Vec<Field>,
    pub m: Vec<Field>,
}

impl Iterate {
    /// The standard cold start: m^k(t) = m0^k at every level, u^k(t) = g^k at every level.
    pub fn initial(problem: &Problem) -> Self {
        let levels = problem.time().nt + 1;
        Iterate {
            u: problem
                .populations()
                .iter()
                .map(|p| Field::constant_in_time(levels, p.terminal()))
                .collect(),
            m: problem
                .populations()
                .iter()
                .map(|p| Field::constant_in_time(levels, p.initial()))
                .collect(),
        }
    }

    /// Checks that the iterate's shape fits `problem` (e.g. one loaded from a file).
    pub fn check_shape(&self, problem: &Problem) -> Result<()> {
        let (k, levels, nodes) = (problem.k(), problem.time().nt + 1, problem.grid().len());
        let ok = self.u.len() == k
            && self.m.len() == k
            && self
                .u
                .iter()
                .chain(&self.m)
                .all(|f| f.levels() == levels && f.nodes() == nodes);
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "iterate",
                format!("shape does not match the problem ({k} populations, {levels} levels, {nodes} nodes)"),
            ))
        }
    }

    /// True when every value of u and m is finite.
    pub fn is_finite(&self) -> bool {
        self.u.iter().chain(&self.m).all(Field::is_finite)
    }
}

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
    pub residual_hjb: f64,
    pub residual_fp: f64,
    /// Wall time since the start of the solve (cumulative over resumed runs), in seconds.
    pub seconds: f64,
    /// Inner iterations of the step (Newton iterations of the HJB steps, Krylov iterations…).
    pub inner_iterations: usize,
    /// Relaxation weight used (1 for methods without relaxation).
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
}

impl Termination {
    /// Lower-case name used in summaries and files.
    pub fn as_str(self) -> &'static str {
        match self {
            Termination::Converged => "converged",
            Termination::MaxIterations => "max-iterations",
            Termination::Diverged => "diverged",
            Termination::NonFinite => "non-finite",
            Termination::Interrupted => "interrupted",
        }
    }

    /// Inverse of [`Termination::as_str`].
    pub fn parse(s: &str) -> Option<Self> {
        [
            Termination::Converged,
            Termination::MaxIterations,
            Termination::Diverged,
            Termination::NonFinite,
            Termination::Interrupted,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
    }
}

/// The result of a solve: final iterate, full history, and how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub iterate: Iterate,
    pub history: Vec<StepStats>,
    pub termination: Termination,
    /// Name of the method that produced it.
    pub method: String,
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

    /// Optimal feedback α^k per axis at every level n < Nt (from u^n and m^{n+1}, as in the
    /// scheme); level Nt repeats level Nt-1. Each axis is a (Nt+1)-level field.
    pub fn controls(&self, problem: &Problem, k: usize) -> Vec<Field> {
        let (grid, nt) = (&problem.grid(), problem.time().nt);
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

/// Measurements a method returns for one step (the driver adds iteration number and time).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepMeasure {
    pub delta_u: f64,
    pub delta_m: f64,
    pub residual: scheme::Residual,
    pub inner_iterations: usize,
    pub theta: f64,
}

/// One outer iteration scheme (Picard, fictitious play, Newton, …).
pub trait Method {
    /// Name for summaries and files, e.g. `picard`.
    fn name(&self) -> &'static str;

    /// Advances `iterate` by one iteration. `iteration` is the 0-based index of this step in
    /// the whole run (including steps before a resume). On error `iterate` must be unchanged.
    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure>;
}

/// Runs `method` from `iterate` until the stopping rule ends it. `history` carries the steps of
/// an earlier run when resuming (iteration numbers and time continue from it).
pub fn run(
    problem: &Problem,
    method: &mut dyn Method,
    stopping: &Stopping,
    mut iterate: Iterate,
    mut history: Vec<StepStats>,
    observer: &mut dyn Observer,
) -> Result<Solution> {
    iterate.check_shape(problem)?;
    let start = Instant::now();
    let t0 = history.last().map_or(0.0, |s| s.seconds);
    let termination = loop {
        let iteration = history.len();
        if iteration >= stopping.max_iterations {
            break Termination::MaxIterations;
        }
        let measure = match method.step(problem, &mut iterate, iteration) {
            Ok(m) => m,
            Err(Error::NonFinite { .. }) => break Termination::NonFinite,
            Err(e) => return Err(e),
        };
        let stats = StepStats {
            iteration: iteration + 1,
            delta_u: measure.delta_u,
            delta_m: measure.delta_m,
            residual: measure.residual.norm(),
            residual_hjb: measure.residual.hjb,
            residual_fp: measure.residual.fp,
            seconds: t0 + start.elapsed().as_secs_f64(),
            inner_iterations: measure.inner_iterations,
            theta: measure.theta,
        };
        history.push(stats);
        if !stats.residual.is_finite() || !iterate.is_finite() {
            break Termination::NonFinite;
        }
        if stopping.converged(&stats) {
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
        method: method.name().to_string(),
    };
    observer.finish(&solution);
    Ok(solution)
}

/// Everything needed to pick and run a method, as the configuration describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SolverSettings {
    pub method: MethodKind,
    pub stopping: Stopping,
    pub hjb: scheme::HjbSettings,
}

impl Default for SolverSettings {
    fn default() -> Self {
        SolverSettings {
            method: MethodKind::Picard(Relaxation::Fixed(0.5)),
            stopping: Stopping::default(),
            hjb: scheme::HjbSettings::default(),
        }
    }
}

/// The outer methods the configuration can select.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MethodKind {
    /// Picard / best response with relaxation of m.
    Picard(Relaxation),
    /// Anderson-accelerated Picard on u.
    Anderson(AndersonSettings),
    /// Newton's method on the whole space-time system.
    Newton(NewtonSettings),
}

impl SolverSettings {
    /// Builds the method.
    pub fn build(&self, problem: &Problem) -> Result<Box<dyn Method>> {
        match self.method {
            MethodKind::Picard(relax) => Ok(Box::new(Picard::new(problem, relax, self.hjb)?)),
            MethodKind::Anderson(a) => Ok(Box::new(Anderson::new(problem, a, self.hjb)?)),
            MethodKind::Newton(n) => {
                let n = NewtonSettings {
                    target_residual: self.stopping.tol_residual,
                    ..n
                };
                Ok(Box::new(Newton::new(problem, n, self.hjb)?))
            }
        }
    }
}

/// Solves `problem` from the cold start with the configured method and no observer.
pub fn solve(problem: &Problem, settings: &SolverSettings) -> Result<Solution> {
    solve_with(problem, settings, None, &mut Silent)
}

/// Solves `problem`, optionally resuming from a saved iterate and history.
pub fn solve_with(
    problem: &Problem,
    settings: &SolverSettings,
    resume: Option<(Iterate, Vec<StepStats>)>,
    observer: &mut dyn Observer,
) -> Result<Solution> {
    let mut method = settings.build(problem)?;
    let (iterate, history) = resume.unwrap_or_else(|| (Iterate::initial(problem), Vec::new()));
    run(
        problem,
        method.as_mut(),
        &settings.stopping,
        iterate,
        history,
        observer,
    )
}

/// One population's buffers of a Picard-type step: the new u and m, the generators Q(u^n) of
/// the HJB sweep (used by the FP sweep) and a level of Ĥ values.
#[derive(Debug)]
pub(crate) struct PopBuffers {
    pub u: Field,
    pub m: Field,
    pub gens: Vec<Generator>,
    pub ham: Vec<f64>,
}

impl PopBuffers {
    /// Buffers for every population of `problem`.
    pub fn for_problem(problem: &Problem) -> Vec<Self> {
        let (levels, n, nt) = (
            problem.time().nt + 1,
            problem.grid().len(),
            problem.time().nt,
        );
        (0..problem.k())
            .map(|_| PopBuffers {
                u: Field::filled(levels, n, 0.0),
                m: Field::filled(levels, n, 0.0),
                gens: vec![Generator::zeros(problem.grid()); nt],
                ham: vec![0.0; n],
            })
            .collect()
    }
}

/// Best responses of all populations, in parallel: `buffers[k].u` receives the backward HJB
/// sweep of population k against `iterate.m` (with the running costs `sources[k]`), warm
/// started from `iterate.u[k]` when `warm`, and `buffers[k].gens` its generators. Then
/// `then(k, buffers[k], workspace)` runs in the same parallel task (e.g. the FP sweep).
/// Returns the total number of HJB Newton iterations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn best_responses(
    problem: &Problem,
    iterate: &Iterate,
    sources: &[Field],
    buffers: &mut [PopBuffers],
    ws: &mut [Workspace],
    hjb: &HjbSettings,
    warm: bool,
    then: impl Fn(usize, &mut PopBuffers, &mut Workspace) -> Result<()> + Sync,
) -> Result<usize> {
    use rayon::prelude::*;
    let newton: Vec<usize> = buffers
        .par_iter_mut()
        .zip(ws.par_iter_mut())
        .enumerate()
        .map(|(k, (b, ws))| -> Result<usize> {
            b.u.clone_from(&iterate.u[k]);
            let newton = scheme::hjb_sweep(
                problem,
                k,
                &iterate.m,
                &sources[k],
                &mut b.u,
                &mut b.gens,
                ws,
                hjb,
                warm,
            )?;
            then(k, b, ws)?;
            Ok(newton)
        })
        .collect::<Result<_>>()?;
    Ok(newton.iter().sum())
}

/// m_new ← (1-θ) m_old + θ m_new: the damped density update of Picard-type methods.
pub(crate) fn relax(new: &mut Field, old: &Field, theta: f64) {
    for (n, o) in new.as_mut_slice().iter_mut().zip(old.as_slice()) {
        *n = (1.0 - theta) * o + theta * *n;
    }
}

/// Swaps each population's new (u, m) into `iterate` (the old values go back into the
/// buffers) and returns the changes (max_k ‖Δu‖∞, max_k max_n ‖Δm‖_{L1}) of [`StepStats`].
pub(crate) fn commit<'a>(
    problem: &Problem,
    new: impl Iterator<Item = (&'a mut Field, &'a mut Field)>,
    iterate: &mut Iterate,
) -> (f64, f64) {
    let h_d = problem.grid().cell_volume();
    let (mut du, mut dm) = (0.0f64, 0.0f64);
    for (k, (u, m)) in new.enumerate() {
        du = du.max(u.max_abs_diff(&iterate.u[k]));
        dm = dm.max(m.max_level_l1_diff(&iterate.m[k], h_d));
        std::mem::swap(u, &mut iterate.u[k]);
        std::mem::swap(m, &mut iterate.m[k]);
    }
    (du, dm)
}

/// Per-population workspaces for `problem`'s grid.
pub(crate) fn workspaces(
    problem: &Problem,
    linear: scheme::StepSolverKind,
) -> Result<Vec<Workspace>> {
    (0..problem.k())
        .map(|_| Workspace::new(problem.grid(), linear))
        .collect()
}
