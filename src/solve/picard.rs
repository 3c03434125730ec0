//! Picard / best-response iteration for the K-population system (docs/math.md §4): given the
//! densities m of all populations, solve the K HJB equations backward (best responses u^k, in
//! parallel over k), then the K FP equations forward with the adjoint generators, and relax
//! m ← (1 - θ) m + θ m_BR. θ fixed is damped Picard; θ_n = 1/(n+1) is fictitious play; the
//! adaptive θ of [`super::damping`] (the default) halves θ when the residual grows or m
//! oscillates with period 2 and grows it back after successful steps.

use super::damping::AdaptiveTheta;
use super::response::{relax, Responses};
use super::{Iterate, Method, Outcome, StepMeasure};
use crate::error::{Error, Result};
use crate::problem::Problem;
use crate::scheme::{self, HjbSettings};

/// Relaxation of the density update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Relaxation {
    /// m ← (1-θ) m + θ m_BR with a fixed θ ∈ (0, 1].
    Fixed(f64),
    /// θ_n = 1/(n+1) (n = 0, 1, …): the running average of best responses.
    FictitiousPlay,
    /// θ chosen from the residual's decrease and the density's oscillation
    /// ([`super::damping`]), starting at 1.
    Adaptive,
}

impl Relaxation {
    /// θ for the 0-based iteration `n` (for [`Relaxation::Adaptive`], its first θ: later ones
    /// depend on the run).
    pub fn theta(&self, n: usize) -> f64 {
        match *self {
            Relaxation::Fixed(t) => t,
            Relaxation::FictitiousPlay => 1.0 / (n as f64 + 1.0),
            Relaxation::Adaptive => AdaptiveTheta::default().theta(),
        }
    }

    /// Checks θ ∈ (0, 1]; the error names `solver.picard.relaxation`.
    pub fn validate(&self) -> Result<()> {
        match *self {
            Relaxation::Fixed(t) if !(t > 0.0 && t <= 1.0) => Err(Error::invalid(
                "solver.picard.relaxation",
                format!("{t}: θ must lie in (0, 1]"),
            )),
            _ => Ok(()),
        }
    }
}

/// Damped Picard or fictitious play.
#[derive(Debug)]
pub struct Picard {
    relaxation: Relaxation,
    responses: Responses,
    adaptive: AdaptiveTheta,
}

impl Picard {
    /// Picard iteration with the given relaxation and HJB step settings.
    pub fn new(problem: &Problem, relaxation: Relaxation, hjb: HjbSettings) -> Result<Self> {
        relaxation.validate()?;
        Ok(Picard {
            relaxation,
            responses: Responses::new(problem, hjb)?,
            adaptive: AdaptiveTheta::default(),
        })
    }
}

impl Method for Picard {
    fn name(&self) -> &'static str {
        match self.relaxation {
            Relaxation::Fixed(_) | Relaxation::Adaptive => "picard",
            Relaxation::FictitiousPlay => "fictitious-play",
        }
    }

    fn iterate_changed(&mut self) {
        self.adaptive.forget();
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        let theta = match self.relaxation {
            Relaxation::Adaptive => self.adaptive.theta(),
            r => r.theta(iteration),
        };
        // Once u comes from an HJB solve, its level n is the best Newton start for step n.
        let warm = iteration > 0;
        let old_m = &iterate.m;
        let newton = match self
            .responses
            .best_responses(problem, iterate, warm, |k, b, ws| {
                scheme::fp_sweep(problem, k, &b.gens, &mut b.m, ws)?;
                relax(&mut b.m, &old_m[k], theta);
                Ok(())
            })? {
            Ok(n) => n,
            Err(stopped) => return Ok(stopped),
        };
        let changes = self.responses.commit(problem, iterate);
        let residual = self.responses.residual(problem, iterate);
        if self.relaxation == Relaxation::Adaptive {
            // After the commit the buffers hold the old iterate.
            let old: Vec<&crate::field::Field> =
                self.responses.buffers.iter().map(|b| &b.m).collect();
            self.adaptive.update(
                &old,
                &iterate.m,
                problem.grid().cell_volume(),
                changes.m,
                residual.norm(),
                residual.floor,
            );
        }
        Ok(StepMeasure {
            theta,
            inner_iterations: newton,
            delta_u: changes.u,
            delta_m: changes.m,
            delta_u_weighted: changes.u_weighted,
            residual,
            outcome: Outcome::Advanced,
        })
    }
}
