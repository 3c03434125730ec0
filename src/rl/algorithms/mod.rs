//! Exact learning algorithms on any [`Game`] (RL.md §3), all on K populations with their own
//! action sets, every one starting from the uniform profile:
//!
//! - [`FictitiousPlay`] (OpenSpiel's convention): BR_n = greedy best response to μ^{π_n}, then
//!   π_{n+1}(a|s) = ((1−w) μ^{π_n}_t(s) π_n(a|s) + w μ^{BR_n}_t(s) BR_n(a|s)) /
//!   ((1−w) μ^{π_n}_t(s) + w μ^{BR_n}_t(s)), w = 1/(n+2) for the (n+1)-th iteration (uniform
//!   where both weights vanish): the policy of the averaged distribution;
//! - [`MirrorDescent`] (online mirror descent): y ← y + lr·Q^{π_n}(μ^{π_n}), π_{n+1} = softmax y;
//! - [`DampedFixedPoint`]: π_{n+1} = (1−θ) π_n + θ·B_n with B_n the greedy best response (or
//!   its softmax at temperature τ);
//! - [`BoltzmannIteration`]: softmax policy iteration, π_{n+1} = (1−θ) π_n + θ·softmax(Q^{π_n}/τ).
//!
//! [`run`] drives any of them and records, after every iteration, the exploitability (total
//! and per population) and the wall time of the iteration; [`run_to_tolerance`] runs one until
//! its exploitability relative to the value scale max_k |μ0^k · V^{k,π}_0| falls below a
//! tolerance.

mod openspiel;

use super::exact::{backward, forward, Want};
use super::game::Game;
use super::policy::{Flow, Policy, PopPolicy};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::time::Instant;

/// One iteration of an algorithm, as recorded by [`run`].
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// 1-based iteration number.
    pub iteration: usize,
    /// Σ_k exploitability of the policy after the iteration.
    pub exploitability: f64,
    /// Exploitability per population.
    pub per_population: Vec<f64>,
    /// Wall time of the iteration itself (seconds).
    pub seconds: f64,
    /// Wall time of the exploitability measurement (seconds).
    pub measure_seconds: f64,
}

/// An iterative learning algorithm on a game.
pub trait Algorithm {
    /// Short name such as `fictitious-play`.
    fn name(&self) -> &'static str;
    /// One iteration.
    fn step(&mut self, game: &dyn Game) -> Result<()>;
    /// The current profile.
    fn policy(&self) -> &Policy;
}

/// OpenSpiel's fictitious-play average of population k's policy `pop` (flow μ) with the best
/// response `br` (flow μ_br), weight w: the policy of the averaged distribution,
/// ((1−w) μ_t(s) π(a|s) + w μ^br_t(s) BR(a|s)) / ((1−w) μ_t(s) + w μ^br_t(s)), uniform where
/// both weights vanish.
pub(crate) fn average_population(
    pop: &mut PopPolicy,
    k: usize,
    mu: &Flow,
    br: &PopPolicy,
    mu_br: &Flow,
    w: f64,
) {
    let uniform = 1.0 / pop.actions() as f64;
    for t in 0..pop.horizon() {
        let (m, mb) = (mu.at(k, t), mu_br.at(k, t));
        for s in 0..pop.states() {
            let (a, b) = ((1.0 - w) * m[s], w * mb[s]);
            let norm = a + b;
            let br_row = br.row(t, s);
            for (p, &q) in pop.row_mut(t, s).iter_mut().zip(br_row) {
                *p = if norm > 0.0 {
                    (a * *p + b * q) / norm
                } else {
                    uniform
                };
            }
        }
    }
}

/// Runs `iterations` iterations, measuring the exploitability after each.
pub fn run(game: &dyn Game, algo: &mut dyn Algorithm, iterations: usize) -> Result<Vec<Record>> {
    let mut out = Vec::with_capacity(iterations);
    for i in 1..=iterations {
        let t0 = Instant::now();
        algo.step(game)?;
        let seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let a = super::exact::assess(game, algo.policy())?;
        out.push(Record {
            iteration: i,
            exploitability: a.total(),
            per_population: a.per_population(),
            seconds,
            measure_seconds: t1.elapsed().as_secs_f64(),
        });
    }
    Ok(out)
}

/// The end of a [`run_to_tolerance`].
#[derive(Debug, Clone, PartialEq)]
pub struct ToleranceRun {
    /// One record per measurement (every `every` iterations, and the last iteration); `seconds`
    /// is the wall time of the iterations since the previous record.
    pub records: Vec<Record>,
    /// Iterations run.
    pub iterations: usize,
    /// Relative exploitability reached.
    pub relative: f64,
    /// Whether it is at most the tolerance.
    pub reached: bool,
}

/// Runs `algo` until its exploitability relative to the value scale
/// ([`super::exact::Assessment::relative`]) is at most `tolerance`, measured every `every`
/// iterations, for at most `cap` iterations.
pub fn run_to_tolerance(
    game: &dyn Game,
    algo: &mut dyn Algorithm,
    tolerance: f64,
    every: usize,
    cap: usize,
) -> Result<ToleranceRun> {
    check_positive(tolerance, "equilibrium.tolerance")?;
    if every == 0 || cap == 0 {
        return Err(Error::invalid(
            "equilibrium.max_iterations",
            "at least one iteration, measured at least every iteration",
        ));
    }
    let (mut records, mut it) = (Vec::new(), 0);
    loop {
        let t0 = Instant::now();
        let block = every.min(cap - it);
        for _ in 0..block {
            algo.step(game)?;
        }
        it += block;
        let seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let a = super::exact::assess(game, algo.policy())?;
        records.push(Record {
            iteration: it,
            exploitability: a.total(),
            per_population: a.per_population(),
            seconds,
            measure_seconds: t1.elapsed().as_secs_f64(),
        });
        let relative = a.relative();
        if relative <= tolerance || it >= cap {
            return Ok(ToleranceRun {
                records,
                iterations: it,
                relative,
                reached: relative <= tolerance,
            });
        }
    }
}

fn check_positive(v: f64, field: &str) -> Result<()> {
    if v.is_finite() && v > 0.0 {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            format!("{v}: must be a positive finite number"),
        ))
    }
}

fn check_weight(v: f64, field: &str) -> Result<()> {
    if v.is_finite() && v > 0.0 && v <= 1.0 {
        Ok(())
    } else {
        Err(Error::invalid(field, format!("{v}: must lie in (0, 1]")))
    }
}

/// The deterministic best-response profile to `flow` (lowest action index among ties).
fn greedy_profile(game: &dyn Game, flow: &Flow) -> Result<Vec<Vec<u32>>> {
    let want = Want {
        greedy: true,
        ..Want::default()
    };
    (0..game.populations())
        .into_par_iter()
        .map(|k| Ok(backward(game, k, flow, None, want)?.greedy.unwrap()))
        .collect()
}

fn greedy_to_policy(game: &dyn Game, greedy: &[Vec<u32>]) -> Result<Policy> {
    Policy::deterministic(game, |k, t, s| greedy[k][t * game.states(k) + s] as usize)
}

/// Q-tables of every population (Q^π or Q^BR) against `flow`.
fn q_tables(game: &dyn Game, flow: &Flow, policy: &Policy, best: bool) -> Result<Vec<Vec<f64>>> {
    let want = Want {
        q: !best,
        best_q: best,
        ..Want::default()
    };
    (0..game.populations())
        .into_par_iter()
        .map(|k| {
            let b = backward(game, k, flow, Some(&policy.pops[k]), want)?;
            Ok(if best { b.best_q } else { b.q }.unwrap())
        })
        .collect()
}

/// Softmax of `logits / temperature` into `out`, with the maximum subtracted first.
pub(crate) fn softmax(logits: &[f64], temperature: f64, out: &mut [f64]) {
    let max = logits.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = ((l - max) / temperature).exp();
        sum += *o;
    }
    out.iter_mut().for_each(|o| *o /= sum);
}

/// π ← (1−θ) π + θ·target, row by row for every population and step, where `target(k, t, s,
/// row)` writes the target row.
fn relax_towards(
    policy: &mut Policy,
    theta: f64,
    target: impl Fn(usize, usize, usize, &mut [f64]) + Sync,
) {
    policy.pops.par_iter_mut().enumerate().for_each(|(k, pop)| {
        let mut buf = vec![0.0; pop.actions()];
        for t in 0..pop.horizon() {
            for s in 0..pop.states() {
                target(k, t, s, &mut buf);
                for (p, &b) in pop.row_mut(t, s).iter_mut().zip(&buf) {
                    *p = (1.0 - theta) * *p + theta * b;
                }
            }
        }
    });
}

/// π ← (1−θ) π + θ·softmax(Q/τ) with Q = Q^BR (`best`) or Q^π against `flow`.
fn relax_to_softmax(
    game: &dyn Game,
    flow: &Flow,
    policy: &mut Policy,
    best: bool,
    tau: f64,
    theta: f64,
) -> Result<()> {
    let q = q_tables(game, flow, policy, best)?;
    relax_towards(policy, theta, |k, t, s, row| {
        let a_n = row.len();
        let b = (t * game.states(k) + s) * a_n;
        softmax(&q[k][b..b + a_n], tau, row);
    });
    Ok(())
}

/// Fictitious play with OpenSpiel's distribution-weighted averaging.
#[derive(Debug, Clone)]
pub struct FictitiousPlay {
    policy: Policy,
    iteration: usize,
    /// Fixed mixing weight instead of 1/(n+1) (OpenSpiel's `learning_rate`).
    learning_rate: Option<f64>,
}

impl FictitiousPlay {
    /// Standard fictitious play (weight 1/(n+1) at iteration n), from the uniform profile.
    pub fn new(game: &dyn Game) -> Self {
        FictitiousPlay {
            policy: Policy::uniform(game),
            iteration: 0,
            learning_rate: None,
        }
    }

    /// With a fixed mixing weight w ∈ (0, 1].
    pub fn with_learning_rate(game: &dyn Game, w: f64) -> Result<Self> {
        check_weight(w, "fictitious_play.learning_rate")?;
        Ok(FictitiousPlay {
            learning_rate: Some(w),
            ..Self::new(game)
        })
    }
}

impl Algorithm for FictitiousPlay {
    fn name(&self) -> &'static str {
        "fictitious-play"
    }

    fn step(&mut self, game: &dyn Game) -> Result<()> {
        self.iteration += 1;
        let flow = forward(game, &self.policy)?;
        let greedy = greedy_to_policy(game, &greedy_profile(game, &flow)?)?;
        let flow_br = forward(game, &greedy)?;
        let w = self
            .learning_rate
            .unwrap_or(1.0 / (self.iteration as f64 + 1.0));
        let (old, br) = (&self.policy, &greedy);
        let merged: Vec<PopPolicy> = (0..game.populations())
            .into_par_iter()
            .map(|k| {
                let mut pop = old.pops[k].clone();
                average_population(&mut pop, k, &flow, &br.pops[k], &flow_br, w);
                pop
            })
            .collect();
        self.policy = Policy { pops: merged };
        Ok(())
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// Online mirror descent with the entropy mirror map.
#[derive(Debug, Clone)]
pub struct MirrorDescent {
    policy: Policy,
    learning_rate: f64,
    /// Cumulated lr·Q per population (N × S × A), or, in OpenSpiel's variant, cumulated lr·V
    /// on the post-decision nodes (N × S).
    cumulative: Vec<Vec<f64>>,
    openspiel: bool,
    iteration: usize,
}

impl MirrorDescent {
    /// From the uniform profile with learning rate `lr` (OpenSpiel's default is 0.01).
    pub fn new(game: &dyn Game, lr: f64) -> Result<Self> {
        check_positive(lr, "mirror_descent.learning_rate")?;
        let policy = Policy::uniform(game);
        let cumulative = policy
            .pops
            .iter()
            .map(|p| vec![0.0; p.as_slice().len()])
            .collect();
        Ok(MirrorDescent {
            policy,
            learning_rate: lr,
            cumulative,
            openspiel: false,
            iteration: 0,
        })
    }

    /// OpenSpiel's implementation step for step (see the `openspiel` module): the same
    /// algorithm, except that its policy reads the cumulated values while they are being
    /// updated. Needs a game with post-decision states ([`Game::post_decision`]) and
    /// action-independent rewards, as OpenSpiel's benchmark games are.
    pub fn openspiel(game: &dyn Game, lr: f64) -> Result<Self> {
        let mut md = Self::new(game, lr)?;
        md.openspiel = true;
        md.cumulative = (0..game.populations())
            .map(|k| vec![0.0; game.horizon() * game.states(k)])
            .collect();
        Ok(md)
    }
}

impl Algorithm for MirrorDescent {
    fn name(&self) -> &'static str {
        "mirror-descent"
    }

    fn step(&mut self, game: &dyn Game) -> Result<()> {
        self.iteration += 1;
        if self.openspiel {
            return openspiel::step(
                game,
                self.learning_rate,
                &mut self.policy,
                &mut self.cumulative,
                self.iteration == 1,
            );
        }
        let flow = forward(game, &self.policy)?;
        let q = q_tables(game, &flow, &self.policy, false)?;
        let lr = self.learning_rate;
        self.policy
            .pops
            .par_iter_mut()
            .zip(self.cumulative.par_iter_mut())
            .zip(q.par_iter())
            .for_each(|((pop, y), q)| {
                let a_n = pop.actions();
                for (yi, qi) in y.iter_mut().zip(q) {
                    *yi += lr * qi;
                }
                for t in 0..pop.horizon() {
                    let step = pop.step_mut(t);
                    let ys = &y[t * step.len()..(t + 1) * step.len()];
                    for (row, yr) in step.chunks_mut(a_n).zip(ys.chunks(a_n)) {
                        softmax(yr, 1.0, row);
                    }
                }
            });
        Ok(())
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// Damped best-response (fixed-point) iteration.
#[derive(Debug, Clone)]
pub struct DampedFixedPoint {
    policy: Policy,
    damping: f64,
    temperature: Option<f64>,
}

impl DampedFixedPoint {
    /// π ← (1−θ) π + θ·BR (θ = 1: the plain fixed point, which may cycle).
    pub fn new(game: &dyn Game, damping: f64) -> Result<Self> {
        check_weight(damping, "fixed_point.damping")?;
        Ok(DampedFixedPoint {
            policy: Policy::uniform(game),
            damping,
            temperature: None,
        })
    }

    /// With the softmax of Q^BR at temperature τ in place of the greedy best response.
    pub fn with_temperature(game: &dyn Game, damping: f64, tau: f64) -> Result<Self> {
        check_positive(tau, "fixed_point.temperature")?;
        Ok(DampedFixedPoint {
            temperature: Some(tau),
            ..Self::new(game, damping)?
        })
    }
}

impl Algorithm for DampedFixedPoint {
    fn name(&self) -> &'static str {
        "damped-fixed-point"
    }

    fn step(&mut self, game: &dyn Game) -> Result<()> {
        let flow = forward(game, &self.policy)?;
        match self.temperature {
            None => {
                let g = greedy_profile(game, &flow)?;
                relax_towards(&mut self.policy, self.damping, |k, t, s, row| {
                    row.fill(0.0);
                    row[g[k][t * game.states(k) + s] as usize] = 1.0;
                });
            }
            Some(tau) => relax_to_softmax(game, &flow, &mut self.policy, true, tau, self.damping)?,
        }
        Ok(())
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }
}

/// Boltzmann (softmax) policy iteration.
#[derive(Debug, Clone)]
pub struct BoltzmannIteration {
    policy: Policy,
    temperature: f64,
    damping: f64,
}

impl BoltzmannIteration {
    /// π ← (1−θ) π + θ·softmax(Q^π(μ^π)/τ).
    pub fn new(game: &dyn Game, temperature: f64, damping: f64) -> Result<Self> {
        check_positive(temperature, "boltzmann.temperature")?;
        check_weight(damping, "boltzmann.damping")?;
        Ok(BoltzmannIteration {
            policy: Policy::uniform(game),
            temperature,
            damping,
        })
    }
}

impl Algorithm for BoltzmannIteration {
    fn name(&self) -> &'static str {
        "boltzmann-iteration"
    }

    fn step(&mut self, game: &dyn Game) -> Result<()> {
        let flow = forward(game, &self.policy)?;
        relax_to_softmax(
            game,
            &flow,
            &mut self.policy,
            false,
            self.temperature,
            self.damping,
        )?;
        Ok(())
    }

    fn policy(&self) -> &Policy {
        &self.policy
    }
}
