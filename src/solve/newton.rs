//! Newton's method on the whole coupled space-time system (MATH.md §3): all K populations, all
//! time steps, u and m at once, with the exact Jacobian of [`crate::scheme::jacobian`].
//!
//! One [`Method::step`] is one Newton iteration:
//! 1. evaluate F and J at the current iterate (J assembled once per step);
//! 2. solve J d = -F: GMRES with the block forward-backward sweep preconditioner ([`Krylov`])
//!    or the sparse LU of the assembled Jacobian ([`DirectLu`]; by default only when GMRES
//!    fails on a 1D system of moderate size), to the relative accuracy
//!    η_k = clamp(max(‖F_k‖, target/(10‖F_k‖)), η_min, η_max) (inexact Newton: quadratic
//!    convergence while η_k ∝ ‖F_k‖, and no over-solving once the target is within reach);
//! 3. backtracking line search on the residual norm of the stopping test: accept the first
//!    α ∈ {1, ½, ¼, …} with ‖F(x + αd)‖ ≤ (1 - 10⁻⁴α) R, R the largest residual of the last
//!    `nonmonotone_window` steps (non-monotone rule; 1 gives the classical Armijo rule).
//!
//! Globalisation beyond the line search:
//! - a warm start of a few Picard iterations (`warm_start`; by default only for couplings
//!   singular at m = 0, see [`NewtonSettings::warm_start`]);
//! - when the line search fails (a *stall*), a fallback: continuation in the coupling strength
//!   (solve with f scaled by s = 0, then raise s towards 1, halving the increment after every
//!   stall, each stage solved to `continuation_tol`), or a few damped Picard iterations; when
//!   continuation itself stalls out, the Picard fallback follows. Failed steps stay in the
//!   history with θ = 0 and no change of the iterate. A linear solve that fails at a finite
//!   point (singular Jacobian) counts as a failed step too, not as an error.
//! - For couplings whose derivative is unbounded at m = 0 (log m), Newton runs in log m: the
//!   direction in w = log m is dm/m, the update m ← m·exp(α dm/m) keeps m > 0 where the linear
//!   update would step into m ≤ 0 in the tails (log m = -∞), and the linear solve is scaled
//!   (FP rows divided by m, m-unknowns multiplied by m) so that the tails' residuals count
//!   relative to the density.
//!
//! History fields: `theta` is the accepted step length α (0 for a failed step, the relaxation
//! for Picard warm-start/fallback steps), `inner_iterations` the GMRES iterations (1 per
//! direct solve, HJB Newton iterations for Picard steps).

use super::picard::{Picard, Relaxation};
use super::spacetime::{DirectLu, Krylov, Ordering, Preconditioner};
use super::{Iterate, Method, StepMeasure};
use crate::error::{Error, Result};
use crate::linalg::GmresParams;
use crate::problem::Problem;
use crate::scheme::jacobian::{self, EvalScratch, Layout, Linearization};
use crate::scheme::{HjbSettings, Residual};

/// Automatic warm start (Picard iterations) for couplings singular at m = 0.
pub const SINGULAR_WARM_START: usize = 3;

/// Residuals below ROUNDOFF·(1 + max|u|) are at the round-off level of the scheme: the line
/// search accepts any step that stays there.
const ROUNDOFF: f64 = 1e-13;

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
    pub gmres_max_iterations: usize,
    /// Bounds of the forcing term η_k (relative GMRES tolerance).
    pub forcing_min: f64,
    pub forcing_max: f64,
    /// Line search: halvings of α before the step counts as failed.
    pub max_halvings: usize,
    /// Non-monotone line search: sufficient decrease is measured against the largest residual
    /// of the last `nonmonotone_window` Newton steps (1: the classical monotone Armijo rule).
    pub nonmonotone_window: usize,
    /// Damped Picard iterations before the first Newton step; `None`: automatic, none for
    /// regular couplings and [`SINGULAR_WARM_START`] when the coupling is singular at m = 0
    /// (log m), where the cold start's density tails (e.g. 1e-43 in a Gaussian's tails) are
    /// tens of orders of magnitude off the solution's and no line search can bridge that.
    pub warm_start: Option<usize>,
    /// Relaxation θ of the warm-start Picard iterations (1: best responses; the warm start
    /// only has to bring u and the density tails near the equilibrium's, and damping slows
    /// that down: measured on the log example, θ = 0.5 left Newton 23 iterations, θ = 1 five).
    pub warm_relaxation: f64,
    /// Relaxation θ of the fallback Picard iterations.
    pub picard_relaxation: f64,
    pub fallback: Fallback,
    /// Picard iterations of one Picard fallback.
    pub fallback_iterations: usize,
    /// Residual (of the scaled problem) at which a continuation stage counts as solved.
    pub continuation_tol: f64,
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
    /// Checks the parameters; errors name the configuration key.
    pub fn validate(&self) -> Result<()> {
        let check = |ok: bool, key: &str, why: String| {
            if ok {
                Ok(())
            } else {
                Err(Error::invalid(format!("solver.{key}"), why))
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
            "relaxation",
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

/// The linear solvers of one run (each built when first needed).
#[derive(Debug)]
struct Backend {
    krylov: Option<Box<Krylov>>,
    direct: Option<Box<DirectLu>>,
    /// Whether the direct LU is used first (else only as the fallback of `Auto`).
    direct_first: bool,
    /// Whether `Auto` may fall back to the direct LU.
    direct_fallback: bool,
}

/// Continuation in the coupling strength s (f → s f).
#[derive(Debug, Clone)]
struct Continuation {
    /// Strength of the stage being solved.
    s: f64,
    /// Last solved stage and its solution.
    solved: Option<(f64, Iterate)>,
    ds: f64,
}

/// What the next step does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Newton,
    /// Picard iterations left, and whether they are the warm start (else a fallback).
    Picard(usize, bool),
}

/// Newton's method on the coupled system.
#[derive(Debug)]
pub struct Newton {
    settings: NewtonSettings,
    hjb: HjbSettings,
    layout: Layout,
    lin: Linearization,
    scratch: Vec<EvalScratch>,
    f: Vec<f64>,
    dx: Vec<f64>,
    x0: Vec<f64>,
    xt: Vec<f64>,
    f_trial: Vec<f64>,
    /// Densities of the current point (scaling of Newton in log m).
    weights: Vec<f64>,
    /// Coupling strength and residual of the point whose F and J are in `f` and `lin`.
    cached: Option<(f64, Residual)>,
    trial: Option<Iterate>,
    recent: std::collections::VecDeque<f64>,
    recent_scale: f64,
    backend: Backend,
    log_density: bool,
    /// Warm-start and fallback Picard methods (built when first needed).
    picard: [Option<Picard>; 2],
    picard_steps: usize,
    mode: Mode,
    warm_started: bool,
    continuation: Option<Continuation>,
    continuation_failed: bool,
}

impl Newton {
    pub fn new(problem: &Problem, settings: NewtonSettings, hjb: HjbSettings) -> Result<Self> {
        settings.validate()?;
        let layout = Layout::new(problem);
        let direct_first = settings.linear_solver == NewtonSolverKind::Direct;
        let backend = Backend {
            krylov: if direct_first {
                None
            } else {
                Some(Box::new(Krylov::new(
                    problem,
                    GmresParams {
                        restart: settings.gmres_restart,
                        max_iterations: settings.gmres_max_iterations,
                        rel_tol: 1e-6,
                        abs_tol: 0.0,
                    },
                    settings.preconditioner,
                    hjb.linear_solver,
                )?))
            },
            direct: None,
            direct_first,
            direct_fallback: settings.linear_solver == NewtonSolverKind::Auto
                && problem.grid().dim() == 1
                && layout.len() <= settings.direct_max_unknowns,
        };
        let log_density = match settings.density_update {
            DensityUpdate::Auto => problem.coupling().singular_at_zero(),
            DensityUpdate::Linear => false,
            DensityUpdate::Log => true,
        };
        let len = layout.len();
        Ok(Newton {
            settings,
            hjb,
            layout,
            lin: Linearization::new(problem),
            scratch: jacobian::scratch(problem),
            f: vec![0.0; len],
            dx: vec![0.0; len],
            x0: vec![0.0; len],
            xt: vec![0.0; len],
            f_trial: vec![0.0; len],
            weights: vec![0.0; len / 2],
            cached: None,
            trial: None,
            recent: Default::default(),
            recent_scale: 1.0,
            backend,
            log_density,
            picard: [None, None],
            picard_steps: 0,
            mode: Mode::Newton,
            warm_started: false,
            continuation: None,
            continuation_failed: false,
        })
    }

    /// Whether the linear solves start with the direct LU.
    pub fn is_direct(&self) -> bool {
        self.backend.direct_first
    }

    fn picard_step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        left: usize,
        warm: bool,
    ) -> Result<StepMeasure> {
        let theta = if warm {
            self.settings.warm_relaxation
        } else {
            self.settings.picard_relaxation
        };
        let slot = &mut self.picard[usize::from(!warm)];
        if slot.is_none() {
            *slot = Some(Picard::new(problem, Relaxation::Fixed(theta), self.hjb)?);
        }
        let picard = slot.as_mut().expect("just built");
        let m = picard.step(problem, iterate, self.picard_steps)?;
        self.picard_steps += 1;
        self.mode = if left > 1 {
            Mode::Picard(left - 1, warm)
        } else {
            Mode::Newton
        };
        Ok(m)
    }

    /// Starts the fallback after a failed Newton step; records in `measure` the change of the
    /// iterate when continuation goes back to its last solved stage.
    fn stall(&mut self, problem: &Problem, iterate: &mut Iterate, measure: &mut StepMeasure) {
        match self.settings.fallback {
            Fallback::None => {}
            Fallback::Picard => self.mode = Mode::Picard(self.settings.fallback_iterations, false),
            Fallback::Continuation => match self.continuation.as_mut() {
                None if !self.continuation_failed => {
                    self.continuation = Some(Continuation {
                        s: 0.0,
                        solved: None,
                        ds: 0.25,
                    });
                }
                None => self.mode = Mode::Picard(self.settings.fallback_iterations, false),
                Some(c) => {
                    // Back to the last solved stage with half the increment.
                    match &c.solved {
                        Some((s0, it)) if c.ds > 1.0 / 64.0 => {
                            let h_d = problem.grid().cell_volume();
                            for k in 0..problem.k() {
                                measure.delta_u =
                                    measure.delta_u.max(it.u[k].max_abs_diff(&iterate.u[k]));
                                measure.delta_m = measure
                                    .delta_m
                                    .max(it.m[k].max_level_l1_diff(&iterate.m[k], h_d));
                            }
                            iterate.clone_from(it);
                            c.ds *= 0.5;
                            c.s = (s0 + c.ds).min(1.0);
                        }
                        _ => {
                            // Stuck even on the first stage or with tiny increments.
                            self.continuation = None;
                            self.continuation_failed = true;
                            self.mode = Mode::Picard(self.settings.fallback_iterations, false);
                        }
                    }
                }
            },
        }
    }

    /// After an accepted step with residual `r` of the stage problem.
    fn advance_continuation(&mut self, iterate: &Iterate, r: f64) {
        let tol = self.settings.continuation_tol;
        if let Some(c) = self.continuation.as_mut() {
            if r <= tol {
                if c.s >= 1.0 {
                    self.continuation = None;
                } else {
                    c.solved = Some((c.s, iterate.clone()));
                    c.s = (c.s + c.ds).min(1.0);
                    c.ds *= 1.5;
                }
            }
        }
    }

    /// Coupling strength of the current stage (1 outside continuation).
    pub fn coupling_scale(&self) -> f64 {
        self.continuation.as_ref().map_or(1.0, |c| c.s)
    }

    /// Solves J dx = -F into `self.dx`; returns the inner iteration count. `self.x0` must hold
    /// the current point (its m-part gives the scaling of Newton in log m).
    fn newton_direction(&mut self, problem: &Problem, merit: f64) -> Result<usize> {
        let grid = &problem.grid();
        // Quadratic forcing η = ‖F‖, but no smaller than needed to bring the residual to a tenth
        // of the target in this step: beyond that, solving harder buys nothing.
        let target = self.settings.target_residual;
        let eta = merit
            .max(0.1 * target / merit)
            .clamp(self.settings.forcing_min, self.settings.forcing_max);
        let half = self.layout.half();
        let weights = if self.log_form() {
            // Floor far below the density scale: nodes with m = 0 keep an absolute scaling.
            let mmax = self.x0[half..].iter().fold(0.0f64, |a, v| a.max(*v));
            let floor = (1e-200 * mmax).max(f64::MIN_POSITIVE);
            self.weights
                .iter_mut()
                .zip(&self.x0[half..])
                .for_each(|(w, m)| *w = m.max(floor));
            Some(&self.weights[..])
        } else {
            None
        };
        let direct = |backend: &mut Backend,
                      lin: &Linearization,
                      f: &[f64],
                      dx: &mut [f64],
                      ordering: Ordering|
         -> Result<usize> {
            if backend.direct.is_none() {
                backend.direct = Some(Box::new(DirectLu::new(grid, lin, ordering)?));
            }
            let lu = backend.direct.as_mut().expect("just built");
            lu.factor(grid, lin, weights)?;
            dx.iter_mut().zip(f).for_each(|(d, f)| *d = -f);
            lu.solve(dx)?;
            Ok(1)
        };
        match self.backend.krylov.as_mut() {
            None => direct(
                &mut self.backend,
                &self.lin,
                &self.f,
                &mut self.dx,
                self.settings.ordering,
            ),
            Some(kr) => {
                kr.refresh(grid, &self.lin)?;
                let tol = match weights {
                    // Relative FP rows: an absolute floor has no meaning, η alone decides.
                    Some(w) => {
                        let (fu, fm) = self.f.split_at(half);
                        let scaled: f64 = fm.iter().zip(w).map(|(f, w)| (f / w).powi(2)).sum();
                        eta * (crate::linalg::vector::dot(fu, fu) + scaled).sqrt()
                    }
                    None => {
                        let fnorm = crate::linalg::vector::dot(&self.f, &self.f).sqrt();
                        if merit <= self.settings.target_residual {
                            // Converged already: this step only measures the correction
                            // (the stopping test's Δu, Δm), 10% accuracy is plenty.
                            self.settings.forcing_max * fnorm
                        } else {
                            // Below target/10 in ‖·‖₂ the stopping residual (a max / L1
                            // norm, no larger) cannot gain anything.
                            (eta * fnorm).max(0.1 * self.settings.target_residual)
                        }
                    }
                };
                let info = kr.solve(grid, &self.lin, &self.f, &mut self.dx, tol, weights)?;
                let finite = self.dx.iter().all(|v| v.is_finite());
                if (!info.converged || !finite) && self.backend.direct_fallback {
                    // A hard linear system (strongly non-monotone, or a far start): exact step.
                    let n = direct(
                        &mut self.backend,
                        &self.lin,
                        &self.f,
                        &mut self.dx,
                        self.settings.ordering,
                    )?;
                    return Ok(info.iterations + n);
                }
                if !finite {
                    return Err(Error::LinearSolve {
                        solver: "GMRES",
                        population: None,
                        step: None,
                        residual: info.residual,
                        detail: "non-finite Newton step".into(),
                    });
                }
                Ok(info.iterations)
            }
        }
    }

    /// x_t = x0 + α dx (m in log form when enabled), clamped m ≥ 0 in the linear form only
    /// where the coupling needs it.
    /// Whether the densities are updated in log form: only while the singular coupling is
    /// switched on (at strength 0 nothing is singular, and the linear form follows the Newton
    /// direction exactly).
    fn log_form(&self) -> bool {
        self.log_density && self.coupling_scale() > 0.0
    }

    fn trial_point(&mut self, alpha: f64) {
        let half = self.layout.half();
        let log_form = self.log_form();
        let (xu, xm) = self.xt.split_at_mut(half);
        let (x0u, x0m) = self.x0.split_at(half);
        let (du, dm) = self.dx.split_at(half);
        for i in 0..half {
            xu[i] = x0u[i] + alpha * du[i];
        }
        if log_form {
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

impl Method for Newton {
    fn name(&self) -> &'static str {
        "newton"
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        if !self.warm_started {
            self.warm_started = true;
            let warm = self.settings.warm_start.unwrap_or(if self.log_density {
                SINGULAR_WARM_START
            } else {
                0
            });
            if warm > 0 && iteration < warm {
                self.mode = Mode::Picard(warm - iteration, true);
            }
        }
        if let Mode::Picard(left, warm) = self.mode {
            return self.picard_step(problem, iterate, left, warm);
        }
        let s = self.coupling_scale();
        // F and J at the iterate: left by the previous step's line search when it accepted the
        // point at this coupling strength, evaluated here otherwise.
        let r0 = match self.cached.take() {
            Some((cs, r)) if cs == s => r,
            _ => jacobian::evaluate(
                problem,
                s,
                &iterate.u,
                &iterate.m,
                Some(&mut self.f),
                Some(&mut self.lin),
                &mut self.scratch,
            ),
        };
        let merit0 = r0.norm();
        if !merit0.is_finite() {
            return Err(Error::NonFinite {
                what: "Newton residual",
                population: 0,
                step: 0,
            });
        }
        jacobian::gather(&self.layout, &iterate.u, &iterate.m, &mut self.x0);
        // A failed linear solve at a finite point (a singular Jacobian, e.g. at a bifurcation
        // of a non-monotone game) is a failed step, handled by the fallback, not an error.
        let (inner, solved) = match self.newton_direction(problem, merit0) {
            Ok(n) => (n, true),
            Err(Error::LinearSolve { .. }) => (0, false),
            Err(e) => return Err(e),
        };
        let mut trial = self.trial.take().unwrap_or_else(|| iterate.clone());
        // Round-off level of the residual: below it no decrease can be asked for.
        let u_max = iterate
            .u
            .iter()
            .map(|f| f.as_slice().iter().fold(0.0f64, |a, v| a.max(v.abs())))
            .fold(0.0f64, f64::max);
        let floor = ROUNDOFF * (1.0 + u_max);
        // Non-monotone (Grippo-Lampariello-Lucidi) reference: the largest of the last few
        // merits of this stage, so that a full step that trades a little residual for a lot of
        // progress towards the quadratic regime is not cut back.
        if self.recent_scale != s {
            self.recent.clear();
            self.recent_scale = s;
        }
        let window = self.settings.nonmonotone_window;
        self.recent.push_back(merit0);
        while self.recent.len() > window.max(1) {
            self.recent.pop_front();
        }
        let reference = self.recent.iter().cloned().fold(merit0, f64::max);
        let mut alpha = 1.0;
        let mut accepted: Option<Residual> = None;
        let halvings = if solved {
            self.settings.max_halvings + 1
        } else {
            0
        };
        for _ in 0..halvings {
            self.trial_point(alpha);
            jacobian::scatter(&self.layout, &self.xt, &mut trial.u, &mut trial.m);
            // The Jacobian at the trial point is computed along: the current one is no longer
            // needed, and an accepted point then needs no second evaluation.
            let r = jacobian::evaluate(
                problem,
                s,
                &trial.u,
                &trial.m,
                Some(&mut self.f_trial),
                Some(&mut self.lin),
                &mut self.scratch,
            );
            let merit = r.norm();
            if merit.is_finite() && (merit <= (1.0 - 1e-4 * alpha) * reference || merit <= floor) {
                accepted = Some(r);
                break;
            }
            alpha *= 0.5;
        }
        let h_d = problem.grid().cell_volume();
        let mut measure = StepMeasure {
            inner_iterations: inner,
            ..Default::default()
        };
        match accepted {
            Some(r) => {
                for k in 0..problem.k() {
                    measure.delta_u = measure.delta_u.max(trial.u[k].max_abs_diff(&iterate.u[k]));
                    measure.delta_m = measure
                        .delta_m
                        .max(trial.m[k].max_level_l1_diff(&iterate.m[k], h_d));
                }
                std::mem::swap(iterate, &mut trial);
                std::mem::swap(&mut self.f, &mut self.f_trial);
                self.cached = Some((s, r));
                measure.theta = alpha;
                measure.residual = if s == 1.0 {
                    r
                } else {
                    jacobian::evaluate(
                        problem,
                        1.0,
                        &iterate.u,
                        &iterate.m,
                        None,
                        None,
                        &mut self.scratch,
                    )
                };
                self.advance_continuation(iterate, r.norm());
            }
            None => {
                self.stall(problem, iterate, &mut measure);
                measure.theta = 0.0;
                measure.residual = jacobian::evaluate(
                    problem,
                    1.0,
                    &iterate.u,
                    &iterate.m,
                    None,
                    None,
                    &mut self.scratch,
                );
            }
        }
        self.trial = Some(trial);
        Ok(measure)
    }
}
