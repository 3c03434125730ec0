//! Newton's method on the whole coupled space-time system (docs/math.md §4): all K populations, all
//! time steps, u and m at once, with the exact Jacobian of [`crate::scheme::jacobian`].
//!
//! One [`Method::step`] is one Newton iteration, split by concern:
//! 1. evaluate F and J at the current iterate ([`crate::scheme::System::evaluate`]; J
//!    assembled once per step);
//! 2. solve J d = -F (`direction.rs`: inexact GMRES with the block sweep preconditioner, or the
//!    sparse LU of the assembled Jacobian);
//! 3. backtrack along d (`line_search.rs`: non-monotone Armijo rule on the residual norm of the
//!    stopping test).
//!
//! For couplings whose derivative is unbounded at m = 0 (log m), Newton runs in log m with a
//! diagonal scaling of the m-unknowns (`scaling.rs`). When the line search fails (a *stall*),
//! Newton first tries continuation in the coupling strength (`continuation.rs`); when that
//! cannot help it reports [`Outcome::Stalled`], to which a [`WithFallback`] combinator answers with a few
//! damped Picard iterations. The warm start (a few Picard iterations before the first Newton
//! step, by default for couplings singular at m = 0) is a [`Sequence`] combinator.
//! [`with_combinators`] assembles the whole method as the configuration describes it.
//!
//! Failed steps stay in the history with θ = 0 and no change of the iterate; a linear solve
//! that fails at a finite point (a singular Jacobian, e.g. at a bifurcation of a non-monotone
//! game) counts as a failed step, not as an error. History fields: `theta` is the accepted step
//! length α (the relaxation for Picard warm-start/fallback steps), `inner_iterations` the GMRES
//! iterations (1 per direct solve, HJB Newton iterations for Picard steps).

mod continuation;
mod direction;
mod line_search;
mod scaling;

use super::combinators::{Lazy, Sequence, WithFallback};
use super::picard::{Picard, Relaxation};
use super::spacetime::{Ordering, Preconditioner};
use super::{Iterate, Method, Outcome, StepMeasure};
use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::scheme::jacobian;
use crate::scheme::{HjbSettings, Layout, Linearization, Request, Residual, System};
use continuation::{Continuation, OnStall};
use direction::{Direction, Rhs};
use line_search::LineSearch;
use scaling::DensityScaling;

/// Automatic warm start (Picard iterations) for couplings singular at m = 0.
pub const SINGULAR_WARM_START: usize = 3;

/// How the Newton step's linear system is solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum NewtonSolverKind {
    /// GMRES; when it does not converge on a 1D system of at most `direct_max_unknowns`
    /// unknowns, that step is redone with the direct LU.
    Auto,
    /// Sparse LU of the assembled Jacobian.
    Direct,
    /// GMRES with the block sweep preconditioner.
    Krylov,
}

/// What to do when the line search fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Fallback {
    /// Nothing: the failed step is recorded and Newton retries from the same point (which
    /// fails again: the run ends at the iteration cap, not converged).
    None,
    /// Continuation in the coupling strength, then damped Picard if that stalls too.
    Continuation,
    /// `fallback_iterations` damped Picard iterations, then Newton again.
    Picard,
}

/// How m is updated along the Newton direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DensityUpdate {
    /// Log when the coupling is singular at m = 0 ([`crate::problem::Coupling::singular_at_zero`]).
    Auto,
    /// m ← m + α dm.
    Linear,
    /// m ← m·exp(α dm/m) (Newton in log m).
    Log,
}

/// Parameters of Newton's method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NewtonSettings {
    /// Newton's own linear solver: GMRES, the direct LU, or GMRES with the LU as fallback.
    pub linear_solver: NewtonSolverKind,
    /// [`NewtonSolverKind::Auto`] falls back to the direct LU when GMRES fails, in 1D up to this
    /// many unknowns (2·K·Nt·N). The direct LU is exact but 10-50× slower than GMRES on these
    /// systems (docs/newton.md), hence not the default.
    pub direct_max_unknowns: usize,
    /// Unknown ordering given to the direct LU.
    pub ordering: Ordering,
    /// Per-time-step solves inside the GMRES preconditioner.
    pub preconditioner: Preconditioner,
    /// GMRES basis size and iteration cap per Newton step.
    pub gmres_restart: usize,
    /// Cap on the GMRES iterations of one Newton step.
    pub gmres_max_iterations: usize,
    /// Bounds of the forcing term η_k (relative GMRES tolerance).
    pub forcing_min: f64,
    /// Upper bound of the forcing term.
    pub forcing_max: f64,
    /// Line search: halvings of α before the step counts as failed.
    pub max_halvings: usize,
    /// Non-monotone line search: sufficient decrease is measured against the largest residual
    /// of the last `nonmonotone_window` Newton steps (1: the classical monotone Armijo rule).
    pub nonmonotone_window: usize,
    /// Damped Picard iterations before the first Newton step; `None`: automatic (see
    /// [`NewtonSettings::warm_start_iterations`]).
    pub warm_start: Option<usize>,
    /// Relaxation θ of the warm-start Picard iterations (1: best responses; the warm start
    /// only has to bring u and the density tails near the equilibrium's, and damping slows
    /// that down: measured on the log example, θ = 0.5 left Newton 23 iterations, θ = 1 five).
    pub warm_relaxation: f64,
    /// Relaxation θ of the fallback Picard iterations.
    pub picard_relaxation: f64,
    /// What to do when the line search fails.
    pub fallback: Fallback,
    /// Picard iterations of one Picard fallback.
    pub fallback_iterations: usize,
    /// Residual (of the scaled problem) at which a continuation stage counts as solved.
    pub continuation_tol: f64,
    /// How m is updated along the Newton direction.
    pub density_update: DensityUpdate,
    /// The residual the run aims at (the stopping tolerance, set by
    /// [`super::SolverSettings::build`]): GMRES stops once ‖J d + F‖₂ ≤ target/100, since
    /// solving further cannot lower the residual of the stopping test.
    pub target_residual: f64,
}

impl Default for NewtonSettings {
    fn default() -> Self {
        NewtonSettings {
            linear_solver: NewtonSolverKind::Auto,
            direct_max_unknowns: 100_000,
            ordering: Ordering::TimeInterleaved,
            preconditioner: Preconditioner::Auto,
            gmres_restart: 40,
            gmres_max_iterations: 100,
            forcing_min: 1e-8,
            forcing_max: 1e-1,
            max_halvings: 12,
            nonmonotone_window: 4,
            warm_start: None,
            warm_relaxation: 1.0,
            picard_relaxation: 0.5,
            fallback: Fallback::Continuation,
            fallback_iterations: 10,
            continuation_tol: 1e-6,
            density_update: DensityUpdate::Auto,
            target_residual: 1e-10,
        }
    }
}

impl NewtonSettings {
    /// Whether the densities are updated in log form for `problem`.
    pub fn log_density(&self, problem: &Problem) -> bool {
        match self.density_update {
            DensityUpdate::Auto => problem.coupling().singular_at_zero(),
            DensityUpdate::Linear => false,
            DensityUpdate::Log => true,
        }
    }

    /// Picard iterations before the first Newton step: `warm_start` when given, else none for
    /// regular couplings and [`SINGULAR_WARM_START`] when Newton runs in log m, where the cold
    /// start's density tails (e.g. 1e-43 in a Gaussian's tails) are tens of orders of magnitude
    /// off the solution's and no line search can bridge that.
    pub fn warm_start_iterations(&self, problem: &Problem) -> usize {
        self.warm_start.unwrap_or(if self.log_density(problem) {
            SINGULAR_WARM_START
        } else {
            0
        })
    }

    /// Checks the parameters; errors name the configuration key.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, key: &str, why: String| {
            if ok {
                Ok(())
            } else {
                Err(Error::invalid(format!("solver.newton.{key}"), why))
            }
        };
        check(
            self.gmres_restart >= 1,
            "gmres_restart",
            "must be at least 1".into(),
        )?;
        check(
            self.gmres_max_iterations >= 1,
            "gmres_max_iterations",
            "must be at least 1".into(),
        )?;
        check(
            self.forcing_min > 0.0
                && self.forcing_min <= self.forcing_max
                && self.forcing_max < 1.0,
            "forcing_max",
            format!(
                "forcing terms must satisfy 0 < forcing_min ({}) ≤ forcing_max ({}) < 1",
                self.forcing_min, self.forcing_max
            ),
        )?;
        check(
            self.picard_relaxation > 0.0 && self.picard_relaxation <= 1.0,
            "fallback_relaxation",
            format!("{}: θ must lie in (0, 1]", self.picard_relaxation),
        )?;
        check(
            self.warm_relaxation > 0.0 && self.warm_relaxation <= 1.0,
            "warm_relaxation",
            format!("{}: θ must lie in (0, 1]", self.warm_relaxation),
        )?;
        check(
            self.continuation_tol > 0.0 && self.continuation_tol.is_finite(),
            "continuation_tol",
            format!("{}: must be a positive number", self.continuation_tol),
        )
    }
}

/// Newton's method as configured: the Newton iteration, wrapped in a Picard fallback (unless
/// `fallback = none`) and preceded by the Picard warm start (when it has iterations).
pub fn with_combinators(
    problem: &Problem,
    settings: NewtonSettings,
    hjb: HjbSettings,
) -> Result<Box<dyn Method>> {
    let mut method: Box<dyn Method> = Box::new(Newton::new(problem, settings, hjb)?);
    let picard = |theta: f64| -> Box<dyn Method> {
        Box::new(Lazy::new(
            "picard",
            Box::new(move |p: &Problem| {
                Ok(Box::new(Picard::new(p, Relaxation::Fixed(theta), hjb)?) as Box<dyn Method>)
            }),
        ))
    };
    if settings.fallback != Fallback::None {
        method = Box::new(WithFallback::new(
            method,
            picard(settings.picard_relaxation),
            settings.fallback_iterations,
        ));
    }
    let warm = settings.warm_start_iterations(problem);
    if warm > 0 {
        method = Box::new(Sequence::new(
            picard(settings.warm_relaxation),
            warm,
            method,
        ));
    }
    Ok(method)
}

/// Newton's method on the coupled system.
#[derive(Debug)]
pub struct Newton {
    settings: NewtonSettings,
    layout: Layout,
    system: System,
    lin: Linearization,
    /// F at the current point, and at the trial point of the line search.
    f: Vec<f64>,
    f_trial: Vec<f64>,
    /// The current point, the direction and the trial point, in the [`Layout`] order.
    x0: Vec<f64>,
    dx: Vec<f64>,
    xt: Vec<f64>,
    trial: Option<Iterate>,
    /// Coupling strength and residual of the point whose F and J are in `f` and `lin`.
    cached: Option<(f64, Residual)>,
    direction: Direction,
    line_search: LineSearch,
    scaling: DensityScaling,
    continuation: Continuation,
}

impl Newton {
    /// Newton's method alone (no warm start, no fallback: see [`with_combinators`]).
    pub fn new(problem: &Problem, settings: NewtonSettings, hjb: HjbSettings) -> Result<Self> {
        settings.validate()?;
        let layout = Layout::new(problem);
        let len = layout.len();
        Ok(Newton {
            settings,
            layout,
            system: System::new(problem),
            lin: Linearization::new(problem),
            f: vec![0.0; len],
            f_trial: vec![0.0; len],
            x0: vec![0.0; len],
            dx: vec![0.0; len],
            xt: vec![0.0; len],
            trial: None,
            cached: None,
            direction: Direction::new(problem, &settings, hjb.linear_solver)?,
            line_search: LineSearch::new(settings.nonmonotone_window),
            scaling: DensityScaling::new(settings.log_density(problem), len / 2),
            continuation: Continuation::new(
                settings.fallback == Fallback::Continuation,
                settings.continuation_tol,
            ),
        })
    }

    /// Whether the linear solves start with the direct LU.
    pub fn is_direct(&self) -> bool {
        self.direction.is_direct()
    }

    /// Coupling strength of the current continuation stage (1 outside continuation).
    pub fn coupling_scale(&self) -> f64 {
        self.continuation.scale()
    }

    /// The residual norms of the problem itself (s = 1) at `x`.
    fn problem_residual(&mut self, problem: &Problem, x: &Iterate) -> Residual {
        self.system.evaluate(problem, x, Request::scaled(1.0))
    }

    /// The line search along `self.dx` from `self.x0`: the accepted residual (F and J of the
    /// accepted point are then in `f_trial` and `lin`, the point in `trial`) or None.
    fn line_search(
        &mut self,
        problem: &Problem,
        trial: &mut Iterate,
        s: f64,
        accept: line_search::Acceptance,
    ) -> Option<(f64, Residual)> {
        let half = self.layout.half();
        let mut alpha = 1.0;
        for _ in 0..=self.settings.max_halvings {
            self.scaling
                .trial_point(s, half, &self.x0, &self.dx, alpha, &mut self.xt);
            jacobian::scatter(&self.layout, &self.xt, &mut trial.u, &mut trial.m);
            // The Jacobian at the trial point is computed along: the current one is no longer
            // needed, and an accepted point then needs no second evaluation.
            let r = self.system.evaluate(
                problem,
                trial,
                Request::full(s, &mut self.f_trial, &mut self.lin),
            );
            if accept.accepts(r.norm(), alpha) {
                return Some((alpha, r));
            }
            alpha *= 0.5;
        }
        None
    }
}

/// max |u| over all populations and levels.
fn u_max(x: &Iterate) -> f64 {
    x.u.iter()
        .map(|f| f.as_slice().iter().fold(0.0f64, |a, v| a.max(v.abs())))
        .fold(0.0f64, f64::max)
}

/// The changes from `old` to `new` (max_k ‖Δu‖∞, max_k max_n ‖Δm‖_{L1}, the m-weighted change
/// of u), into `measure`.
fn record_change(problem: &Problem, new: &Iterate, old: &Iterate, measure: &mut StepMeasure) {
    let h_d = problem.grid().cell_volume();
    let mut c = super::response::Changes {
        u: measure.delta_u,
        m: measure.delta_m,
        u_weighted: measure.delta_u_weighted,
    };
    for k in 0..problem.k() {
        c.record(&new.u[k], &new.m[k], &old.u[k], &old.m[k], h_d);
    }
    measure.delta_u = c.u;
    measure.delta_m = c.m;
    measure.delta_u_weighted = c.u_weighted;
}

impl Method for Newton {
    fn name(&self) -> &'static str {
        "newton"
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        _iteration: usize,
    ) -> Result<StepMeasure> {
        let s = self.coupling_scale();
        // F and J at the iterate: left by the previous step's line search when it accepted the
        // point at this coupling strength, evaluated here otherwise.
        let r0 = match self.cached.take() {
            Some((cs, r)) if cs == s => r,
            _ => self.system.evaluate(
                problem,
                iterate,
                Request::full(s, &mut self.f, &mut self.lin),
            ),
        };
        let merit0 = r0.norm();
        if !merit0.is_finite() {
            return Ok(StepMeasure::non_finite("Newton residual", None, None));
        }
        jacobian::gather(&self.layout, &iterate.u, &iterate.m, &mut self.x0);
        let half = self.layout.half();
        let weights = self.scaling.weights(s, &self.x0[half..]);
        let rhs = Rhs {
            lin: &self.lin,
            f: &self.f,
            merit: merit0,
            weights,
        };
        // A failed linear solve at a finite point (a singular Jacobian) is a failed step,
        // handled by the fallback, not an error.
        let (inner, solved) =
            match self
                .direction
                .solve(problem, &self.settings, &rhs, &mut self.dx)
            {
                Ok(n) => (n, true),
                Err(Error::LinearSolve { .. }) => (0, false),
                Err(e) => return Err(e),
            };
        let mut trial = self.trial.take().unwrap_or_else(|| iterate.clone());
        let accept = self.line_search.begin(merit0, s, u_max(iterate));
        let accepted = if solved {
            self.line_search(problem, &mut trial, s, accept)
        } else {
            None
        };
        let mut measure = StepMeasure {
            inner_iterations: inner,
            ..Default::default()
        };
        match accepted {
            Some((alpha, r)) => {
                record_change(problem, &trial, iterate, &mut measure);
                std::mem::swap(iterate, &mut trial);
                std::mem::swap(&mut self.f, &mut self.f_trial);
                self.cached = Some((s, r));
                measure.theta = alpha;
                measure.residual = if s == 1.0 {
                    r
                } else {
                    self.problem_residual(problem, iterate)
                };
                self.continuation.advance(iterate, r.norm());
            }
            None => {
                match self.continuation.on_stall() {
                    OnStall::Started => {}
                    OnStall::Restore(solved) => {
                        record_change(problem, &solved, iterate, &mut measure);
                        *iterate = solved;
                    }
                    OnStall::GiveUp => measure.outcome = Outcome::Stalled,
                }
                measure.theta = 0.0;
                measure.residual = self.problem_residual(problem, iterate);
            }
        }
        self.trial = Some(trial);
        Ok(measure)
    }

    fn iterate_changed(&mut self) {
        self.cached = None;
    }
}
