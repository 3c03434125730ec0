//! Per-type tabular Q-learning for finite-horizon games, from samples of the N-agent simulator
//! only (the model is used solely to *measure* the exploitability of what is learnt).
//!
//! Every population k keeps its own table Q^k_t(s, a), t = 0..N−1, and its own replay buffer
//! of transitions (t, s, a, r, s') (a ring of fixed capacity). An update of a sampled
//! transition is
//!
//! Q^k_t(s,a) ← Q^k_t(s,a) + α_n (r + γ max_{a'} Q^k_{t+1}(s', a') − Q^k_t(s,a)),
//! α_n = α_0 / (1 + n_t(s,a))^ω,
//!
//! with n_t(s,a) the number of earlier updates of that entry and no bootstrap at t = N−1 (the
//! terminal reward γ g(s') is part of r there). Agents explore ε-greedily,
//! π_b = (1−ε_e) π + ε_e·uniform, ε_e decaying linearly from ε_start to ε_end over the first
//! `decay` episodes.
//!
//! - [`MeanFieldQLearning`] (two time scales, after Angiuli–Fouque–Laurière, "Unified
//!   reinforcement Q-learning for mean field game and control problems", in its finite-horizon
//!   form): the environment pays the agents with the estimate μ̂ (kernels and rewards read μ̂),
//!   Q learns fast (rate α_n) and μ̂_t ← μ̂_t + ρ_e (μ̂^{emp}_t − μ̂_t) slowly,
//!   ρ_e = ρ_0/(1 + e)^κ, with μ̂^{emp} the empirical flow of the episode's agents; ρ ≪ α gives
//!   the game (Nash) solution.
//! - [`QFictitiousPlay`]: fictitious play with learnt best responses. Iteration n learns
//!   BR_n = greedy(Q) by Q-learning against the fixed averaged flow μ̄_n, simulates BR_n in the
//!   N-agent game for its empirical flow μ̂^{BR_n}, and averages as OpenSpiel does:
//!   π_{n+1} = ((1−w) μ̄_n π_n + w μ̂^{BR_n} BR_n) / ((1−w) μ̄_n + w μ̂^{BR_n}) per (t, s),
//!   μ̄_{n+1} = (1−w) μ̄_n + w μ̂^{BR_n}, w = 1/(n+1).
//!
//! Both record a learning curve ([`LearnRecord`]): the exact exploitability of the current
//! policy, the agent-steps sampled so far and the wall seconds.

pub use super::replay::{QTables, ReplayBuffer, Transition};
use super::sampling::mix;
use super::simulator::{Behaviour, Environment, SimSettings, Simulator, DEFAULT_CHUNK};
use crate::error::{Error, Result};
use crate::rl::exact::assess;
use crate::rl::game::Game;
use crate::rl::policy::{Flow, Policy};
use std::time::Instant;

/// ε-greedy exploration: linear from `start` to `end` over the first `decay` episodes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Epsilon {
    /// ε at episode 0, in [0, 1].
    pub start: f64,
    /// ε from episode `decay` on, in [0, 1].
    pub end: f64,
    /// Episodes of the linear decay (0: `end` from the start).
    pub decay: usize,
}

impl Epsilon {
    /// ε at episode e.
    pub fn at(&self, e: usize) -> f64 {
        if e >= self.decay {
            self.end
        } else {
            self.start + (self.end - self.start) * e as f64 / self.decay as f64
        }
    }
}

/// Settings shared by the Q-learners.
#[derive(Debug, Clone, PartialEq)]
pub struct QSettings {
    /// Agents simulated per episode (per population).
    pub agents: usize,
    /// Episodes: per best response ([`QFictitiousPlay`]) or in all ([`MeanFieldQLearning`]).
    pub episodes: usize,
    /// α_0 > 0.
    pub learning_rate: f64,
    /// ω ∈ [0, 1] in α_n = α_0/(1+n)^ω (0: constant step).
    pub lr_exponent: f64,
    /// Exploration schedule.
    pub epsilon: Epsilon,
    /// Transitions kept per population.
    pub replay_capacity: usize,
    /// Replayed updates per episode and population (at least 1).
    pub batch: usize,
    /// Seed of the simulations and of the replay sampling.
    pub seed: u64,
}

impl QSettings {
    /// Sensible defaults for small games: 100 agents, 100 episodes, α_0 = 1, ω = 0.6,
    /// ε from 1 to 0.05 over half the episodes, a buffer of 10⁵ and a batch of 2000.
    pub fn new(seed: u64) -> Self {
        QSettings {
            agents: 100,
            episodes: 100,
            learning_rate: 1.0,
            lr_exponent: 0.6,
            epsilon: Epsilon {
                start: 1.0,
                end: 0.05,
                decay: 50,
            },
            replay_capacity: 100_000,
            batch: 2000,
            seed,
        }
    }

    /// Checks every field (errors name `qlearning.<field>`).
    pub fn check(&self) -> Result<()> {
        if self.agents == 0 {
            return Err(Error::invalid("qlearning.agents", "0: at least one agent"));
        }
        if self.episodes == 0 {
            return Err(Error::invalid(
                "qlearning.episodes",
                "0: at least one episode",
            ));
        }
        let lr = self.learning_rate;
        if !(lr.is_finite() && lr > 0.0) {
            return Err(Error::invalid(
                "qlearning.learning_rate",
                format!("{lr}: must be a positive finite number"),
            ));
        }
        let w = self.lr_exponent;
        if !(0.0..=1.0).contains(&w) {
            return Err(Error::invalid(
                "qlearning.lr_exponent",
                format!("{w}: must lie in [0, 1]"),
            ));
        }
        for (name, v) in [("start", self.epsilon.start), ("end", self.epsilon.end)] {
            if !(0.0..=1.0).contains(&v) {
                return Err(Error::invalid(
                    format!("qlearning.epsilon.{name}"),
                    format!("{v}: ε must lie in [0, 1]"),
                ));
            }
        }
        if self.replay_capacity == 0 {
            return Err(Error::invalid(
                "qlearning.replay_capacity",
                "0: the buffer must hold at least one transition",
            ));
        }
        if self.batch == 0 {
            return Err(Error::invalid(
                "qlearning.batch",
                "0: without replayed updates nothing is learnt",
            ));
        }
        Ok(())
    }
}

/// One point of a learning curve.
#[derive(Debug, Clone, PartialEq)]
pub struct LearnRecord {
    /// Outer iteration (FP) or episode count (MF-QL) at the measurement.
    pub iteration: usize,
    /// Exact Σ_k exploitability of the current policy.
    pub exploitability: f64,
    /// Per population.
    pub per_population: Vec<f64>,
    /// Agent-steps simulated so far (all populations).
    pub samples: u64,
    /// Wall seconds of learning so far (measurements excluded).
    pub seconds: f64,
}

/// π_b = (1−ε) π + ε·uniform.
fn explore(policy: &Policy, eps: f64) -> Policy {
    let mut p = policy.clone();
    for pop in p.pops.iter_mut() {
        let u = eps / pop.actions() as f64;
        for t in 0..pop.horizon() {
            pop.step_mut(t)
                .iter_mut()
                .for_each(|x| *x = (1.0 - eps) * *x + u);
        }
    }
    p
}

/// Simulates one episode in `env`, pushes its transitions into the buffers, returns the agents'
/// empirical flow and the agent-steps.
fn collect(
    sim: &Simulator,
    game: &dyn Game,
    behaviour: &Policy,
    env: Environment,
    episode: u64,
    tables: &mut QTables,
) -> Result<(Flow, u64)> {
    let e = sim.episode(Behaviour::Table(behaviour), env, None, episode, true)?;
    for (k, buf) in tables.buffers.iter_mut().enumerate() {
        e.transitions(game, k, |t, s, a, r, next| {
            buf.push(Transition { t, s, a, r, next })
        });
    }
    let steps = (sim.settings().agents.iter().sum::<usize>() * game.horizon()) as u64;
    Ok((e.flow, steps))
}

fn measure(
    game: &dyn Game,
    policy: &Policy,
    iteration: usize,
    samples: u64,
    seconds: f64,
) -> Result<LearnRecord> {
    let a = assess(game, policy)?;
    Ok(LearnRecord {
        iteration,
        exploitability: a.total(),
        per_population: a.per_population(),
        samples,
        seconds,
    })
}

fn simulator<'g>(game: &'g dyn Game, agents: usize, seed: u64) -> Result<Simulator<'g>> {
    Simulator::new(
        game,
        SimSettings {
            agents: vec![agents; game.populations()],
            seed,
            chunk: DEFAULT_CHUNK,
        },
    )
}

/// Mean-field Q-learning with two time scales.
#[derive(Debug, Clone, PartialEq)]
pub struct MeanFieldQLearning {
    /// Q-learning settings (`episodes` is the whole run).
    pub q: QSettings,
    /// ρ_0 ∈ (0, 1] of the flow estimate.
    pub flow_rate: f64,
    /// κ ∈ [0, 1] in ρ_e = ρ_0/(1+e)^κ.
    pub flow_exponent: f64,
    /// Measure the exploitability every this many episodes (and after the last).
    pub evaluate_every: usize,
    /// Learnt policy softmax(Q/τ) instead of the greedy one.
    pub temperature: Option<f64>,
}

/// What a learner returns.
#[derive(Debug, Clone)]
pub struct Learnt {
    /// The final policy (greedy/softmax of Q for MF-QL, the averaged policy for FP).
    pub policy: Policy,
    /// The learning curve.
    pub records: Vec<LearnRecord>,
    /// The final Q-tables (of the last best response for FP) and their buffers.
    pub tables: QTables,
    /// The final flow estimate (μ̂ for MF-QL, μ̄ for FP).
    pub flow: Flow,
}

impl MeanFieldQLearning {
    /// Checks the settings.
    pub fn check(&self) -> Result<()> {
        self.q.check()?;
        let r = self.flow_rate;
        if !(r.is_finite() && r > 0.0 && r <= 1.0) {
            return Err(Error::invalid(
                "qlearning.flow_rate",
                format!("{r}: must lie in (0, 1]"),
            ));
        }
        if !(0.0..=1.0).contains(&self.flow_exponent) {
            return Err(Error::invalid(
                "qlearning.flow_exponent",
                format!("{}: must lie in [0, 1]", self.flow_exponent),
            ));
        }
        if self.evaluate_every == 0 {
            return Err(Error::invalid("qlearning.evaluate_every", "0: at least 1"));
        }
        if let Some(tau) = self.temperature {
            if !(tau.is_finite() && tau > 0.0) {
                return Err(Error::invalid(
                    "qlearning.temperature",
                    format!("{tau}: must be a positive finite number"),
                ));
            }
        }
        Ok(())
    }

    /// Runs the learner on `game`.
    pub fn learn(&self, game: &dyn Game) -> Result<Learnt> {
        self.check()?;
        let s = &self.q;
        let sim = simulator(game, s.agents, s.seed)?;
        let mut tables = QTables::new(game, s.replay_capacity);
        let (mut samples, mut seconds, mut records) = (0u64, 0.0, Vec::new());
        let t0 = Instant::now();
        // μ̂ starts as the empirical flow of uniformly acting agents.
        let first = sim.episode(
            Behaviour::Table(&Policy::uniform(game)),
            Environment::Empirical,
            None,
            u64::MAX,
            true,
        )?;
        let mut mu_hat = first.flow;
        samples += (s.agents * game.populations() * game.horizon()) as u64;
        seconds += t0.elapsed().as_secs_f64();
        let mut policy = tables.policy(game, self.temperature);
        for e in 0..s.episodes {
            let t1 = Instant::now();
            let behaviour = explore(&policy, s.epsilon.at(e));
            let (emp, n) = collect(
                &sim,
                game,
                &behaviour,
                Environment::Fixed(&mu_hat),
                e as u64,
                &mut tables,
            )?;
            samples += n;
            tables.replay(
                s.batch,
                s.learning_rate,
                s.lr_exponent,
                mix(s.seed ^ mix(e as u64 + (1 << 32))),
            );
            let rho = self.flow_rate / (1.0 + e as f64).powf(self.flow_exponent);
            for k in 0..game.populations() {
                for t in 0..=game.horizon() {
                    for (m, &x) in mu_hat.at_mut(k, t).iter_mut().zip(emp.at(k, t)) {
                        *m += rho * (x - *m);
                    }
                }
            }
            policy = tables.policy(game, self.temperature);
            seconds += t1.elapsed().as_secs_f64();
            if (e + 1) % self.evaluate_every == 0 || e + 1 == s.episodes {
                records.push(measure(game, &policy, e + 1, samples, seconds)?);
            }
        }
        Ok(Learnt {
            policy,
            records,
            tables,
            flow: mu_hat,
        })
    }
}

/// Fictitious play with Q-learnt best responses.
#[derive(Debug, Clone, PartialEq)]
pub struct QFictitiousPlay {
    /// Settings of each best response's Q-learning (`episodes` per best response).
    pub q: QSettings,
    /// Outer iterations (at least 1).
    pub iterations: usize,
    /// Agents simulated (per population) to estimate a flow μ̂^{BR_n}.
    pub flow_agents: usize,
}

impl QFictitiousPlay {
    /// Checks the settings.
    pub fn check(&self) -> Result<()> {
        self.q.check()?;
        if self.iterations == 0 {
            return Err(Error::invalid(
                "fictitious_play.iterations",
                "0: at least one iteration",
            ));
        }
        if self.flow_agents == 0 {
            return Err(Error::invalid(
                "fictitious_play.flow_agents",
                "0: at least one agent",
            ));
        }
        Ok(())
    }

    /// Runs the learner on `game`; one record per outer iteration.
    pub fn learn(&self, game: &dyn Game) -> Result<Learnt> {
        self.check()?;
        let s = &self.q;
        let key = mix(s.seed);
        let sim = simulator(game, s.agents, key)?;
        let flow_sim = simulator(game, self.flow_agents, mix(key ^ 1))?;
        let agent_steps = |n: usize| (n * game.populations() * game.horizon()) as u64;
        let (mut samples, mut seconds, mut records) = (0u64, 0.0, Vec::new());
        let t0 = Instant::now();
        let mut policy = Policy::uniform(game);
        let mut mu_bar = flow_sim
            .episode(
                Behaviour::Table(&policy),
                Environment::Empirical,
                None,
                0,
                true,
            )?
            .flow;
        samples += agent_steps(self.flow_agents);
        seconds += t0.elapsed().as_secs_f64();
        let mut tables = QTables::new(game, s.replay_capacity);
        for it in 1..=self.iterations {
            let t1 = Instant::now();
            tables = QTables::new(game, s.replay_capacity);
            let mut br = tables.policy(game, None);
            for e in 0..s.episodes {
                let episode = ((it as u64) << 32) + e as u64;
                let behaviour = explore(&br, s.epsilon.at(e));
                samples += collect(
                    &sim,
                    game,
                    &behaviour,
                    Environment::Fixed(&mu_bar),
                    episode,
                    &mut tables,
                )?
                .1;
                tables.replay(
                    s.batch,
                    s.learning_rate,
                    s.lr_exponent,
                    mix(key ^ mix(episode) ^ 2),
                );
                br = tables.policy(game, None);
            }
            let mu_br = flow_sim
                .episode(
                    Behaviour::Table(&br),
                    Environment::Empirical,
                    None,
                    it as u64,
                    true,
                )?
                .flow;
            samples += agent_steps(self.flow_agents);
            let w = 1.0 / (it as f64 + 1.0);
            average(&mut policy, &mu_bar, &br, &mu_br, w);
            for k in 0..game.populations() {
                for t in 0..=game.horizon() {
                    for (m, &x) in mu_bar.at_mut(k, t).iter_mut().zip(mu_br.at(k, t)) {
                        *m = (1.0 - w) * *m + w * x;
                    }
                }
            }
            seconds += t1.elapsed().as_secs_f64();
            records.push(measure(game, &policy, it, samples, seconds)?);
        }
        Ok(Learnt {
            policy,
            records,
            tables,
            flow: mu_bar,
        })
    }
}

/// OpenSpiel's distribution-weighted average of π (flow μ) and BR (flow μ_br) with weight w.
fn average(policy: &mut Policy, mu: &Flow, br: &Policy, mu_br: &Flow, w: f64) {
    for (k, pop) in policy.pops.iter_mut().enumerate() {
        crate::rl::algorithms::average_population(pop, k, mu, &br.pops[k], mu_br, w);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_decays_linearly() {
        let e = Epsilon {
            start: 1.0,
            end: 0.2,
            decay: 4,
        };
        assert_eq!(e.at(0), 1.0);
        assert!((e.at(2) - 0.6).abs() < 1e-15);
        assert_eq!(e.at(4), 0.2);
        assert_eq!(e.at(100), 0.2);
    }
}
