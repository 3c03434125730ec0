//! The Newton direction: J d = -F solved to the relative accuracy of the forcing term
//! η_k = clamp(max(‖F_k‖, target/(10‖F_k‖)), η_min, η_max) (inexact Newton: quadratic
//! convergence while η_k ∝ ‖F_k‖, and no over-solving once the target is within reach), by
//! GMRES with the block forward–backward sweep preconditioner ([`Krylov`]) or by the sparse LU
//! of the assembled Jacobian ([`DirectLu`]; by default only when GMRES fails on a 1D system of
//! moderate size). With a density scaling W (Newton in log m), both solve the scaled system.

use super::{NewtonSettings, NewtonSolverKind};
use crate::error::{Error, Result};
use crate::linalg::vector::dot;
use crate::linalg::GmresParams;
use crate::problem::Problem;
use crate::scheme::{Layout, Linearization};
use crate::solve::spacetime::{DirectLu, Krylov};

/// The linear solvers of one run (each built when first needed).
#[derive(Debug)]
pub(super) struct Direction {
    krylov: Option<Box<Krylov>>,
    direct: Option<Box<DirectLu>>,
    /// Whether `Auto` may fall back to the direct LU.
    direct_fallback: bool,
}

/// The data of one direction solve.
pub(super) struct Rhs<'a> {
    /// The Jacobian at the current point.
    pub lin: &'a Linearization,
    /// F at the current point.
    pub f: &'a [f64],
    /// The residual norm of the stopping test at the current point.
    pub merit: f64,
    /// The density scaling W, when Newton runs in log m.
    pub weights: Option<&'a [f64]>,
}

impl Direction {
    pub fn new(
        problem: &Problem,
        settings: &NewtonSettings,
        step_solver: crate::scheme::StepSolverKind,
    ) -> Result<Self> {
        let layout = Layout::new(problem);
        let direct_first = settings.linear_solver == NewtonSolverKind::Direct;
        Ok(Direction {
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
                    step_solver,
                )?))
            },
            direct: None,
            direct_fallback: settings.linear_solver == NewtonSolverKind::Auto
                && problem.grid().dim() == 1
                && layout.len() <= settings.direct_max_unknowns,
        })
    }

    /// Whether the linear solves start with the direct LU.
    pub fn is_direct(&self) -> bool {
        self.krylov.is_none()
    }

    /// Solves J dx = -F into `dx`; returns the inner iteration count (GMRES iterations, 1 per
    /// direct solve).
    pub fn solve(
        &mut self,
        problem: &Problem,
        settings: &NewtonSettings,
        rhs: &Rhs<'_>,
        dx: &mut [f64],
    ) -> Result<usize> {
        let grid = problem.grid();
        let (lin, f, merit, weights) = (rhs.lin, rhs.f, rhs.merit, rhs.weights);
        // Quadratic forcing η = ‖F‖, but no smaller than needed to bring the residual to a tenth
        // of the target in this step: beyond that, solving harder buys nothing.
        let target = settings.target_residual;
        let eta = merit
            .max(0.1 * target / merit)
            .clamp(settings.forcing_min, settings.forcing_max);
        let half = lin.layout.half();
        let Some(kr) = self.krylov.as_mut() else {
            return self.direct(problem, settings, rhs, dx);
        };
        kr.refresh(grid, lin)?;
        let tol = match weights {
            // Relative FP rows: an absolute floor has no meaning, η alone decides.
            Some(w) => {
                let (fu, fm) = f.split_at(half);
                let scaled: f64 = fm.iter().zip(w).map(|(f, w)| (f / w).powi(2)).sum();
                eta * (dot(fu, fu) + scaled).sqrt()
            }
            None => {
                let fnorm = dot(f, f).sqrt();
                if merit <= target {
                    // Converged already: this step only measures the correction (the stopping
                    // test's Δu, Δm), 10% accuracy is plenty.
                    settings.forcing_max * fnorm
                } else {
                    // Below target/10 in ‖·‖₂ the stopping residual (a max / L1 norm, no
                    // larger) cannot gain anything.
                    (eta * fnorm).max(0.1 * target)
                }
            }
        };
        let info = kr.solve(grid, lin, f, dx, tol, weights)?;
        let finite = dx.iter().all(|v| v.is_finite());
        if (!info.converged || !finite) && self.direct_fallback {
            // A hard linear system (strongly non-monotone, or a far start): exact step.
            let n = self.direct(problem, settings, rhs, dx)?;
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

    fn direct(
        &mut self,
        problem: &Problem,
        settings: &NewtonSettings,
        rhs: &Rhs<'_>,
        dx: &mut [f64],
    ) -> Result<usize> {
        let grid = problem.grid();
        if self.direct.is_none() {
            self.direct = Some(Box::new(DirectLu::new(grid, rhs.lin, settings.ordering)?));
        }
        let lu = self.direct.as_mut().expect("just built");
        lu.factor(grid, rhs.lin, rhs.weights)?;
        dx.iter_mut().zip(rhs.f).for_each(|(d, f)| *d = -f);
        lu.solve(dx)?;
        Ok(1)
    }
}
