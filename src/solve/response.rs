//! The best-response machinery shared by the Picard-type methods (Picard, fictitious play,
//! Anderson): given the densities m of all populations, the K backward HJB sweeps (in parallel
//! over k), the damped density update m ← (1-θ)m + θ m_new, and the commit of a step with its
//! changes ‖Δu‖∞, ‖Δm‖_{L1}.

use super::{Outcome, StepMeasure};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::problem::Problem;
use crate::scheme::{self, Generator, HjbSettings, HjbSweep, Iterate, System, Workspace};
use rayon::prelude::*;

/// One population's buffers of a Picard-type step: the new u and m, the generators Q(u^n) of
/// the HJB sweep (used by the FP sweep) and a level of scratch.
#[derive(Debug)]
pub(crate) struct PopBuffers {
    pub u: Field,
    pub m: Field,
    pub gens: Vec<Generator>,
    pub scratch: Vec<f64>,
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
                scratch: vec![0.0; n],
            })
            .collect()
    }
}

/// The state every Picard-type method keeps: buffers, step workspaces, the system evaluator and
/// the running costs F^k(m) of the densities they were computed for (the residual of one step
/// computes them for the new m, and the next step's HJB sweeps reuse them).
#[derive(Debug)]
pub(crate) struct Responses {
    pub buffers: Vec<PopBuffers>,
    pub ws: Vec<Workspace>,
    pub hjb: HjbSettings,
    system: System,
    costs: Vec<Field>,
    costs_of: Vec<Field>,
}

impl Responses {
    pub fn new(problem: &Problem, hjb: HjbSettings) -> Result<Self> {
        let (n, nt) = (problem.grid().len(), problem.time().nt);
        Ok(Responses {
            buffers: PopBuffers::for_problem(problem),
            ws: (0..problem.k())
                .map(|_| Workspace::new(problem.grid(), hjb.linear_solver))
                .collect::<Result<_>>()?,
            hjb,
            system: System::new(problem),
            costs: vec![Field::filled(nt.max(1), n, 0.0); problem.k()],
            costs_of: Vec::new(),
        })
    }

    /// Makes the running costs those of the densities `m` (recomputed only when m changed).
    pub fn update_costs(&mut self, problem: &Problem, m: &[Field]) {
        if self.costs_of.as_slice() == m {
            return;
        }
        self.costs
            .par_iter_mut()
            .enumerate()
            .for_each(|(k, c)| scheme::running_costs(problem, k, m, c));
        self.costs_of = m.to_vec();
    }

    /// Best responses of all populations against `iterate.m`, in parallel: `buffers[k].u`
    /// receives the backward HJB sweep of population k, warm started from `iterate.u[k]` when
    /// `warm`, and `buffers[k].gens` its generators; then `then(k, buffers[k], workspace)` runs
    /// in the same parallel task (e.g. the FP sweep). Returns the total number of HJB Newton
    /// iterations, or the measure of a step ended by a sweep that met a non-finite value or
    /// whose HJB Newton loop failed (nothing committed).
    pub fn best_responses(
        &mut self,
        problem: &Problem,
        iterate: &Iterate,
        warm: bool,
        then: impl Fn(usize, &mut PopBuffers, &mut Workspace) -> Result<()> + Sync,
    ) -> Result<std::result::Result<usize, StepMeasure>> {
        self.update_costs(problem, &iterate.m);
        let (costs, hjb) = (&self.costs, &self.hjb);
        let newton: Result<Vec<usize>> = self
            .buffers
            .par_iter_mut()
            .zip(self.ws.par_iter_mut())
            .enumerate()
            .map(|(k, (b, ws))| -> Result<usize> {
                b.u.clone_from(&iterate.u[k]);
                let sweep = HjbSweep {
                    problem,
                    k,
                    m: &iterate.m,
                    costs: &costs[k],
                };
                let newton = sweep.solve(&mut b.u, &mut b.gens, ws, hjb, warm)?;
                then(k, b, ws)?;
                Ok(newton)
            })
            .collect();
        match newton {
            Ok(n) => Ok(Ok(n.iter().sum())),
            Err(e) => stop_outcome(e).map(|outcome| {
                Err(StepMeasure {
                    outcome,
                    ..Default::default()
                })
            }),
        }
    }

    /// Swaps each population's new (u, m) into `iterate` (the old values go back into the
    /// buffers) and returns the changes: max_k ‖Δu‖∞, max_k max_n ‖Δm‖_{L1} and the m-weighted
    /// change of u ([`super::stopping::weighted_u_change`], weighted with the new m).
    pub fn commit(&mut self, problem: &Problem, iterate: &mut Iterate) -> Changes {
        let h_d = problem.grid().cell_volume();
        let mut c = Changes::default();
        for (k, b) in self.buffers.iter_mut().enumerate() {
            c.record(&b.u, &b.m, &iterate.u[k], &iterate.m[k], h_d);
            std::mem::swap(&mut b.u, &mut iterate.u[k]);
            std::mem::swap(&mut b.m, &mut iterate.m[k]);
        }
        c
    }

    /// The residual of the discrete system at `iterate` (its running costs are kept for the
    /// next step's sweeps).
    pub fn residual(&mut self, problem: &Problem, iterate: &Iterate) -> scheme::Residual {
        self.update_costs(problem, &iterate.m);
        self.system.residual(problem, iterate, &self.costs)
    }
}

/// The changes of one step, maxima over the populations.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Changes {
    /// max_k ‖Δu‖∞.
    pub u: f64,
    /// max_k max_n ‖Δm‖_{L1}.
    pub m: f64,
    /// max_k of the m-weighted change of u.
    pub u_weighted: f64,
}

impl Changes {
    /// Adds one population's change from (u_old, m_old) to (u_new, m_new).
    pub fn record(&mut self, u_new: &Field, m_new: &Field, u_old: &Field, m_old: &Field, h_d: f64) {
        self.u = self.u.max(u_new.max_abs_diff(u_old));
        self.m = self.m.max(m_new.max_level_l1_diff(m_old, h_d));
        let w = super::stopping::weighted_u_change(u_new, u_old, m_new);
        self.u_weighted = if w.is_nan() {
            w
        } else {
            self.u_weighted.max(w)
        };
    }
}

/// m_new ← (1-θ) m_old + θ m_new: the damped density update of Picard-type methods.
pub(crate) fn relax(new: &mut Field, old: &Field, theta: f64) {
    for (n, o) in new.as_mut_slice().iter_mut().zip(old.as_slice()) {
        *n = (1.0 - theta) * o + theta * *n;
    }
}

/// A non-finite value met by a sweep, or an HJB step whose Newton loop failed, is an outcome
/// of the step (it ends the run with the iterate and history kept); any other error stays one.
pub(crate) fn stop_outcome(e: Error) -> Result<Outcome> {
    match e {
        Error::HjbNewton {
            population,
            step,
            iterations,
            residual,
            threshold,
        } => Ok(Outcome::InnerSolveFailed {
            population,
            step,
            iterations,
            residual,
            threshold,
        }),
        Error::NonFinite {
            what,
            population,
            step,
        } => Ok(Outcome::NonFinite {
            what,
            population: Some(population),
            step: Some(step),
        }),
        e => Err(e),
    }
}
