//! Anderson acceleration of the Picard (best-response) iteration (Walker & Ni 2011, "type II").
//!
//! The fixed-point map acts on the value functions: G(u) = HJB(FP(u)), the best responses
//! against the densities that the controls of u generate. Extrapolating densities directly
//! could make them negative; extrapolating u cannot, because m is always recomputed by the FP
//! sweep (an M-matrix solve: m ≥ 0, mass conserved) and then damped, m ← (1-θ)m + θ FP(u).
//!
//! One step, from the iterate (u, m) with m = FP(u) (θ = 1) or a damped version of it:
//! 1. u_BR = HJB(m) (all populations in parallel), f = u_BR - u;
//! 2. u ← u_BR - Σ_i γ_i ΔG_i with γ = argmin ‖f - Σ_i γ_i ΔF_i‖₂ over the last `depth`
//!    differences ΔF of f and ΔG of u_BR (β = 1; a mixing factor β < 1 uses
//!    u + βf - Σ γ_i (ΔX_i + βΔF_i));
//! 3. m ← (1-θ) m + θ FP(u) with the generators of the new u.
//!
//! Safeguards, so that Anderson is never much slower than the damped Picard it accelerates:
//! - the history restarts when the least-squares problem is ill-conditioned or ‖f‖ grows by
//!   more than `restart_factor` over its best value (non-monotone couplings);
//! - an extrapolated step whose residual of the discrete system (docs/math.md §3.5) exceeds
//!   [`REJECT_GROWTH`] times the previous step's is rejected: the plain damped step u ← u_BR, m ← (1-θ)m + θ FP(u_BR) is
//!   taken from the same point instead, and the history restarts;
//! - the history restarts when the residual has not improved on its best value for
//!   [`STAGNATION_STEPS`] steps.

use super::response::{relax, stop_outcome, Changes, Responses};
use super::{Iterate, Method, Outcome, StepMeasure};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::linalg::vector::dot;
use crate::problem::Problem;
use crate::scheme::{self, generator, HjbSettings};
use nalgebra::{DMatrix, DVector};
use rayon::prelude::*;

/// Parameters of Anderson acceleration.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AndersonSettings {
    /// Number of past differences kept (m in AA(m)); 0 is plain Picard on u.
    pub depth: usize,
    /// Mixing β ∈ (0, 1].
    pub mixing: f64,
    /// Damping θ ∈ (0, 1] of the density update.
    pub relaxation: f64,
    /// Restart when ‖f‖ exceeds this factor times its smallest value so far.
    pub restart_factor: f64,
}

impl Default for AndersonSettings {
    fn default() -> Self {
        AndersonSettings {
            depth: 5,
            mixing: 1.0,
            relaxation: 1.0,
            restart_factor: 10.0,
        }
    }
}

impl AndersonSettings {
    /// Checks mixing and relaxation in (0, 1] and restart_factor > 1, naming the offending key.
    pub fn validate(&self) -> Result<()> {
        if !(self.mixing > 0.0 && self.mixing <= 1.0) {
            return Err(Error::invalid(
                "solver.anderson.mixing",
                format!("{}: β must lie in (0, 1]", self.mixing),
            ));
        }
        if !(self.relaxation > 0.0 && self.relaxation <= 1.0) {
            return Err(Error::invalid(
                "solver.anderson.relaxation",
                format!("{}: θ must lie in (0, 1]", self.relaxation),
            ));
        }
        if self.restart_factor.is_nan() || self.restart_factor <= 1.0 {
            return Err(Error::invalid(
                "solver.anderson.restart_factor",
                format!("{}: must exceed 1", self.restart_factor),
            ));
        }
        Ok(())
    }
}

/// Anderson-accelerated Picard iteration on u.
#[derive(Debug)]
pub struct Anderson {
    settings: AndersonSettings,
    responses: Responses,
    /// History (oldest first): ΔF_i = f_{i+1} - f_i, ΔG_i = G_{i+1} - G_i, ΔX_i = x_{i+1} - x_i.
    df: Vec<Vec<f64>>,
    dg: Vec<Vec<f64>>,
    dx: Vec<Vec<f64>>,
    /// Previous x, f, G (None before the first step or after a restart).
    prev: Option<(Vec<f64>, Vec<f64>, Vec<f64>)>,
    best: f64,
    /// Residual after the last step, and the best residual so far with the steps since.
    last_residual: Option<f64>,
    best_residual: f64,
    stagnant: usize,
    /// Number of history restarts so far.
    pub restarts: usize,
    /// Extrapolated steps replaced by the plain damped step so far.
    pub rejections: usize,
}

/// Steps without a new best residual after which the history restarts.
pub const STAGNATION_STEPS: usize = 5;
/// An extrapolated step whose residual exceeds this factor times the previous step's is
/// rejected. Measured on `examples/road_2d.toml` (Anderson, full grid): iterations 138 without
/// safeguards; 215 rejecting at factor 1 (Anderson's residual is not monotone, and rejecting
/// every increase throws good extrapolations away); 99 with the stagnation restart alone; 94
/// with factor 2 and the restart; 99 with factor 4.
pub const REJECT_GROWTH: f64 = 2.0;

impl Anderson {
    /// An Anderson solver for `problem`; fails on invalid settings.
    pub fn new(problem: &Problem, settings: AndersonSettings, hjb: HjbSettings) -> Result<Self> {
        settings.validate()?;
        Ok(Anderson {
            settings,
            responses: Responses::new(problem, hjb)?,
            df: Vec::new(),
            dg: Vec::new(),
            dx: Vec::new(),
            prev: None,
            best: f64::INFINITY,
            last_residual: None,
            best_residual: f64::INFINITY,
            stagnant: 0,
            restarts: 0,
            rejections: 0,
        })
    }

    fn restart(&mut self) {
        self.df.clear();
        self.dg.clear();
        self.dx.clear();
        self.prev = None;
        self.best = f64::INFINITY;
        self.restarts += 1;
    }

    /// The Anderson update: returns the new x from the current x, f = G - x and G.
    fn mix(&mut self, x: Vec<f64>, f: Vec<f64>, g: Vec<f64>) -> Vec<f64> {
        let beta = self.settings.mixing;
        if let Some((px, pf, pg)) = self.prev.take() {
            let diff = |a: &[f64], b: &[f64]| -> Vec<f64> {
                a.par_iter().zip(b).map(|(p, q)| p - q).collect()
            };
            self.df.push(diff(&f, &pf));
            self.dg.push(diff(&g, &pg));
            self.dx.push(diff(&x, &px));
            if self.df.len() > self.settings.depth {
                self.df.remove(0);
                self.dg.remove(0);
                self.dx.remove(0);
            }
        }
        let mut next: Vec<f64> = x
            .par_iter()
            .zip(&f)
            .map(|(xi, fi)| xi + beta * fi)
            .collect();
        let mm = self.df.len();
        if mm > 0 {
            // Normal equations of min ‖f - ΔF γ‖ with a relative Tikhonov floor, solved by SVD.
            let mut a = DMatrix::zeros(mm, mm);
            let mut rhs = DVector::zeros(mm);
            for i in 0..mm {
                rhs[i] = dot(&self.df[i], &f);
                for j in 0..=i {
                    let v = dot(&self.df[i], &self.df[j]);
                    a[(i, j)] = v;
                    a[(j, i)] = v;
                }
            }
            let trace: f64 = (0..mm).map(|i| a[(i, i)]).sum();
            for i in 0..mm {
                a[(i, i)] += 1e-14 * trace;
            }
            let svd = a.clone().svd(true, true);
            let smax = svd.singular_values.max();
            let smin = svd.singular_values.min();
            match svd.solve(&rhs, 1e-14 * smax) {
                Ok(gamma) if smin > 1e-12 * smax => {
                    for i in 0..mm {
                        let gi = gamma[i];
                        let (dxi, dfi) = (&self.dx[i], &self.df[i]);
                        next.par_iter_mut()
                            .zip(dxi.par_iter().zip(dfi))
                            .for_each(|(n, (a, b))| *n -= gi * (a + beta * b));
                    }
                }
                _ => {
                    // Ill-conditioned history: drop it, keep the plain Picard update.
                    self.df.clear();
                    self.dg.clear();
                    self.dx.clear();
                    self.restarts += 1;
                }
            }
        }
        self.prev = Some((x, f, g));
        next
    }
}

/// The u-unknowns (levels 0..Nt-1 of every population) as one vector.
fn gather_u(u: &[Field], nt: usize, nodes: usize) -> Vec<f64> {
    let mut x = Vec::with_capacity(u.len() * nt * nodes);
    for f in u {
        x.extend_from_slice(&f.as_slice()[..nt * nodes]);
    }
    x
}

impl Anderson {
    /// Step 3: u ← `next` (levels 0..Nt-1 of every population, the terminal level from g^k),
    /// m ← (1-θ) m + θ FP(u) with the generators of the new u, committed into `iterate`.
    /// Returns the changes, or the measure of a step ended by the FP sweep (nothing committed).
    fn density_update(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        next: &[f64],
    ) -> Result<std::result::Result<Changes, StepMeasure>> {
        let (nt, nn) = (problem.time().nt, problem.grid().len());
        let block = nt * nn;
        let theta = self.settings.relaxation;
        let it: &Iterate = iterate;
        let responses = &mut self.responses;
        let swept = responses
            .buffers
            .par_iter_mut()
            .zip(responses.ws.par_iter_mut())
            .enumerate()
            .try_for_each(|(k, (b, ws))| -> Result<()> {
                let bu = b.u.as_mut_slice();
                bu[..block].copy_from_slice(&next[k * block..(k + 1) * block]);
                bu[block..].copy_from_slice(problem.population(k).terminal());
                for n in 0..nt {
                    let m_next = scheme::densities_at(&it.m, n + 1);
                    generator::evaluate_level(
                        problem.grid(),
                        problem.population(k),
                        n,
                        b.u.level(n),
                        &m_next,
                        &mut b.scratch,
                        &mut b.gens[n],
                    );
                }
                scheme::fp_sweep(problem, k, &b.gens, &mut b.m, ws)?;
                relax(&mut b.m, &it.m[k], theta);
                Ok(())
            });
        if let Err(e) = swept {
            return Ok(Err(StepMeasure {
                outcome: stop_outcome(e)?,
                ..Default::default()
            }));
        }
        Ok(Ok(self.responses.commit(problem, iterate)))
    }
}

impl Method for Anderson {
    fn name(&self) -> &'static str {
        "anderson"
    }

    fn iterate_changed(&mut self) {
        self.restart();
        self.last_residual = None;
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        let (nt, nn) = (problem.time().nt, problem.grid().len());
        let block = nt * nn;
        let warm = iteration > 0;
        // 1. Best responses u_BR = HJB(m).
        let swept = self
            .responses
            .best_responses(problem, iterate, warm, |_, _, _| Ok(()))?;
        let newton = match swept {
            Ok(n) => n,
            Err(stopped) => return Ok(stopped),
        };
        // 2. Anderson mixing on u.
        let x = gather_u(&iterate.u, nt, nn);
        let g: Vec<f64> = {
            let bu: Vec<&Field> = self.responses.buffers.iter().map(|b| &b.u).collect();
            let mut g = Vec::with_capacity(x.len());
            for f in bu {
                g.extend_from_slice(&f.as_slice()[..block]);
            }
            g
        };
        let f: Vec<f64> = g.par_iter().zip(&x).map(|(a, b)| a - b).collect();
        let fnorm = dot(&f, &f).sqrt();
        if fnorm > self.settings.restart_factor * self.best {
            self.restart();
        }
        self.best = self.best.min(fnorm);
        // With a previous step, the mixing below extrapolates (the plain step is kept for the
        // safeguard).
        let extrapolates = self.settings.depth > 0 && self.prev.is_some();
        let plain = extrapolates.then(|| g.clone());
        let next = if self.settings.depth == 0 {
            g
        } else {
            self.mix(x, f, g)
        };
        // 3. m ← (1-θ) m + θ FP(u_new), with the generators of u_new.
        let mut changes = match self.density_update(problem, iterate, &next)? {
            Ok(c) => c,
            Err(stopped) => return Ok(stopped),
        };
        let mut residual = self.responses.residual(problem, iterate);
        // Safeguard: an extrapolated step whose residual exceeds REJECT_GROWTH times the last
        // one is replaced by the plain damped Picard step from the same point, and the history
        // restarts.
        if let (Some(plain), Some(last)) = (plain, self.last_residual) {
            let r = residual.norm();
            // A NaN residual counts as growth, beyond the round-off floor.
            let grew = r.is_nan() || (r > REJECT_GROWTH * last && r > 10.0 * residual.floor);
            if grew {
                // The buffers hold the previous iterate after the commit: swap it back.
                self.responses.commit(problem, iterate);
                changes = match self.density_update(problem, iterate, &plain)? {
                    Ok(c) => c,
                    Err(stopped) => return Ok(stopped),
                };
                residual = self.responses.residual(problem, iterate);
                self.restart();
                self.rejections += 1;
            }
        }
        // Restart on stagnation: the residual has not improved on its best for a while.
        let r = residual.norm();
        if r < self.best_residual {
            self.best_residual = r;
            self.stagnant = 0;
        } else {
            self.stagnant += 1;
            if self.stagnant >= STAGNATION_STEPS {
                self.restart();
                self.stagnant = 0;
            }
        }
        self.last_residual = Some(r);
        Ok(StepMeasure {
            theta: self.settings.relaxation,
            inner_iterations: newton,
            delta_u: changes.u,
            delta_m: changes.m,
            delta_u_weighted: changes.u_weighted,
            residual,
            outcome: Outcome::Advanced,
        })
    }
}
