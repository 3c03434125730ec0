//! Picard / best-response iteration for the K-population system (MATH.md §3): given the
//! densities m of all populations, solve the K HJB equations backward (best responses u^k, in
//! parallel over k), then the K FP equations forward with the adjoint generators, and relax
//! m ← (1 - θ) m + θ m_BR. θ fixed is damped Picard; θ_n = 1/(n+1) is fictitious play.

use super::{Iterate, Method, PopBuffers, StepMeasure};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::problem::Problem;
use crate::scheme::{self, HjbSettings, Workspace};
use rayon::prelude::*;

/// Relaxation of the density update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Relaxation {
    /// m ← (1-θ) m + θ m_BR with a fixed θ ∈ (0, 1].
    Fixed(f64),
    /// θ_n = 1/(n+1) (n = 0, 1, …): the running average of best responses.
    FictitiousPlay,
}

impl Relaxation {
    /// θ for the 0-based iteration `n`.
    pub fn theta(&self, n: usize) -> f64 {
        match *self {
            Relaxation::Fixed(t) => t,
            Relaxation::FictitiousPlay => 1.0 / (n as f64 + 1.0),
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
    hjb: HjbSettings,
    buffers: Vec<PopBuffers>,
    ws: Vec<Workspace>,
    /// Running costs F^k(m) for the densities `sources_m`: the residual of one step computes
    /// them for the new m, and the next step's HJB sweeps reuse them.
    sources: Vec<Field>,
    sources_m: Vec<Field>,
}

impl Picard {
    pub fn new(problem: &Problem, relaxation: Relaxation, hjb: HjbSettings) -> Result<Self> {
        relaxation.validate()?;
        let (n, nt) = (problem.grid().len(), problem.time().nt);
        let buffers = PopBuffers::for_problem(problem);
        Ok(Picard {
            relaxation,
            hjb,
            buffers,
            ws: super::workspaces(problem, hjb.linear_solver)?,
            sources: vec![Field::filled(nt.max(1), n, 0.0); problem.k()],
            sources_m: Vec::new(),
        })
    }

    /// Makes `self.sources` hold the running costs for the densities `m`.
    fn update_sources(&mut self, problem: &Problem, m: &[Field]) {
        if self.sources_m.as_slice() == m {
            return;
        }
        self.sources
            .par_iter_mut()
            .enumerate()
            .for_each(|(k, s)| scheme::running_costs(problem, k, m, s));
        self.sources_m = m.to_vec();
    }
}

impl Method for Picard {
    fn name(&self) -> &'static str {
        match self.relaxation {
            Relaxation::Fixed(_) => "picard",
            Relaxation::FictitiousPlay => "fictitious-play",
        }
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        let theta = self.relaxation.theta(iteration);
        let hjb = self.hjb;
        // Once u comes from an HJB solve, its level n is the best Newton start for step n.
        let warm = iteration > 0;
        self.update_sources(problem, &iterate.m);
        let old_m = &iterate.m;
        let newton = super::best_responses(
            problem,
            iterate,
            &self.sources,
            &mut self.buffers,
            &mut self.ws,
            &hjb,
            warm,
            |k, b, ws| {
                scheme::fp_sweep(problem, k, &b.gens, &mut b.m, ws)?;
                super::relax(&mut b.m, &old_m[k], theta);
                Ok(())
            },
        )?;
        let (delta_u, delta_m) = super::commit(
            problem,
            self.buffers.iter_mut().map(|b| (&mut b.u, &mut b.m)),
            iterate,
        );
        let mut measure = StepMeasure {
            theta,
            inner_iterations: newton,
            delta_u,
            delta_m,
            ..Default::default()
        };
        self.update_sources(problem, &iterate.m);
        measure.residual =
            scheme::system_residual(problem, &iterate.u, &iterate.m, &self.sources, &mut self.ws);
        Ok(measure)
    }
}
