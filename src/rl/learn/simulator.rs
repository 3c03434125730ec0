//! The N-agent simulator of a [`Game`] (RL.md §3, model-free side): population k has N_k
//! agents i = 1..N_k with X^{k,i}_0 ~ μ0^k drawn independently, and for t = 0..N−1
//!
//! A^{k,i}_t ~ π^k_t(· | X^{k,i}_t),   X^{k,i}_{t+1} ~ P^k_t(· | X^{k,i}_t, A^{k,i}_t, μ̂_t),
//! μ̂^k_t = (1/N_k) Σ_i δ_{X^{k,i}_t}   (the empirical distribution),
//!
//! and agent (k, i) collects G^{k,i} = Σ_{t<N} γ^t r^k_t(X_t, A_t, μ̂) + γ^N g^k(X_N, μ̂). The
//! result is the empirical flow μ̂^k_t for every level and, per population, the mean return
//! Ḡ^k = (1/N_k) Σ_i G^{k,i} with its standard error s/√N_k (s the sample standard deviation).
//!
//! The flow handed to the game: while step t is simulated, the [`Flow`] passed to
//! [`Game::transitions`] holds μ̂_0, …, μ̂_t at levels 0..t and zeros above (the game's causality
//! contract lets a kernel read levels ≤ t only); rewards and terminal rewards are evaluated once
//! the episode is over, on the flow whose every level is the empirical histogram. With
//! [`Environment::Fixed`] the agents move in the environment of a given flow instead (kernels
//! and rewards read that flow, the agents do not influence it): N_k independent samples of the
//! mean-field MDP, which is what a best response is learnt against.
//!
//! Reproducibility: agents are split into fixed chunks of [`SimSettings::chunk`] agents; chunk
//! c of population k draws from its own ChaCha8 stream, keyed by (seed, k, c), and every
//! agent-step draws exactly two uniforms (action, then next state) whatever its policy, so a
//! result depends only on the seed and the settings — not on the number of threads or on how
//! rayon schedules the chunks — and is reproducible bit for bit (histograms are integer counts;
//! sums over chunks are taken in chunk order).

pub(crate) use super::sampling::mix;
use super::sampling::{chunk_rng, pick, step_agent, step_policy, write_histogram, StepPolicy};
use crate::error::{Error, Result};
use crate::rl::game::{check_game, Game, Kernel};
use crate::rl::policy::{Flow, Policy, PolicyFunction, PopPolicy};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use std::borrow::Cow;

/// How the agents choose their actions.
#[derive(Clone, Copy)]
pub enum Behaviour<'a> {
    /// A tabular profile π^k_t(a | s).
    Table(&'a Policy),
    /// A policy function π^k(a | s, t, μ_t), evaluated once per (t, s) on the environment's
    /// flow at level t (every agent in s at t shares that row).
    Function(&'a dyn PolicyFunction),
}

impl<'a> From<&'a Policy> for Behaviour<'a> {
    fn from(p: &'a Policy) -> Self {
        Behaviour::Table(p)
    }
}

/// A closure as a [`PolicyFunction`]: `f(k, t, s, mu, out)` writes π^k_t(· | s, μ_t) into `out`.
pub struct FnPolicy<F>(pub F);

impl<F> PolicyFunction for FnPolicy<F>
where
    F: Fn(usize, usize, usize, &[&[f64]], &mut [f64]) + Sync,
{
    fn probabilities(&self, k: usize, t: usize, s: usize, mu: &[&[f64]], out: &mut [f64]) {
        (self.0)(k, t, s, mu, out)
    }
}

/// Which flow the kernels and rewards read.
#[derive(Clone, Copy, Debug)]
pub enum Environment<'a> {
    /// The agents' own empirical distributions (the N-agent game).
    Empirical,
    /// A fixed flow (the mean-field MDP that flow defines).
    Fixed(&'a Flow),
}

/// Size, seed and chunking of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct SimSettings {
    /// N_k, one entry per population (each at least 1).
    pub agents: Vec<usize>,
    /// Seed of every random stream.
    pub seed: u64,
    /// Agents per chunk (one random stream and one rayon task each); part of the result's
    /// identity: a different chunk size draws different numbers.
    pub chunk: usize,
}

/// Default agents per chunk.
pub const DEFAULT_CHUNK: usize = 4096;

impl SimSettings {
    /// The same N for every one of the game's populations.
    pub fn uniform(game: &dyn Game, agents: usize, seed: u64) -> Self {
        SimSettings {
            agents: vec![agents; game.populations()],
            seed,
            chunk: DEFAULT_CHUNK,
        }
    }

    /// Checks the settings against the game (errors name `simulator.agents`, `simulator.chunk`).
    pub fn check(&self, game: &dyn Game) -> Result<()> {
        if self.agents.len() != game.populations() {
            return Err(Error::invalid(
                "simulator.agents",
                format!(
                    "{} agent counts for a game of {} populations",
                    self.agents.len(),
                    game.populations()
                ),
            ));
        }
        if let Some(k) = self.agents.iter().position(|&n| n == 0) {
            return Err(Error::invalid(
                format!("simulator.agents[{k}]"),
                "0 agents: every population needs at least one agent",
            ));
        }
        if self.chunk == 0 {
            return Err(Error::invalid(
                "simulator.chunk",
                "at least one agent per chunk",
            ));
        }
        Ok(())
    }
}

/// Mean return of a population with its standard error.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReturnStats {
    /// Ḡ^k.
    pub mean: f64,
    /// s/√N_k (0 for a single agent).
    pub std_error: f64,
}

/// The summary of one simulated episode.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// μ̂^k_t for t = 0..N (the environment's flow when it was [`Environment::Fixed`] is not
    /// copied here: this is always the agents' own histogram).
    pub flow: Flow,
    /// Per population.
    pub returns: Vec<ReturnStats>,
    /// Return of agent 0 of every population (the deviator in [`Simulator::run_with_deviator`]).
    pub first_returns: Vec<f64>,
    /// Σ_k N_k · N agent-steps simulated.
    pub agent_steps: u64,
}

/// The state-action path of one chunk of agents.
#[derive(Debug, Clone)]
pub(crate) struct ChunkPath {
    /// Agents in the chunk.
    pub len: usize,
    /// s·A + a for t = 0..N−1, t-major (N × len).
    pub codes: Vec<u32>,
    /// X_N per agent.
    pub last: Vec<u32>,
}

/// A whole episode: paths per population and chunk, the empirical flow and the reward tables
/// the agents were paid from.
#[derive(Debug, Clone)]
pub(crate) struct Episode {
    pub paths: Vec<Vec<ChunkPath>>,
    pub flow: Flow,
    /// r^k_t(s, a) on the environment's flow, N × S × A per population.
    pub rewards: Vec<Vec<f64>>,
    /// g^k(s), S per population.
    pub terminal: Vec<Vec<f64>>,
}

impl Episode {
    /// Iterates over agent transitions (t, s, a, r, s') of population k, chunk by chunk, agent
    /// by agent, t ascending; r at t = N−1 includes γ·g(s').
    pub fn transitions(
        &self,
        game: &dyn Game,
        k: usize,
        mut f: impl FnMut(u32, u32, u32, f64, u32),
    ) {
        let (n, s_n, a_n) = (game.horizon(), game.states(k), game.actions(k));
        let gamma = game.discount();
        let (r, g) = (&self.rewards[k], &self.terminal[k]);
        for c in &self.paths[k] {
            for i in 0..c.len {
                for t in 0..n {
                    let code = c.codes[t * c.len + i] as usize;
                    let next = if t + 1 < n {
                        c.codes[(t + 1) * c.len + i] as usize / a_n
                    } else {
                        c.last[i] as usize
                    };
                    let mut rew = r[t * s_n * a_n + code];
                    if t + 1 == n {
                        rew += gamma * g[next];
                    }
                    f(
                        t as u32,
                        (code / a_n) as u32,
                        (code % a_n) as u32,
                        rew,
                        next as u32,
                    );
                }
            }
        }
    }
}

/// The N-agent simulator of a game.
pub struct Simulator<'g> {
    game: &'g dyn Game,
    settings: SimSettings,
    initial: Vec<Vec<f64>>,
}

impl<'g> Simulator<'g> {
    /// A simulator of `game` with `settings` (checked against the game).
    pub fn new(game: &'g dyn Game, settings: SimSettings) -> Result<Self> {
        check_game(game)?;
        settings.check(game)?;
        let initial = (0..game.populations())
            .map(|k| game.initial(k).into_owned())
            .collect();
        Ok(Simulator {
            game,
            settings,
            initial,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &SimSettings {
        &self.settings
    }

    /// One episode of the N-agent game (empirical environment) under `behaviour`, with the
    /// settings' seed.
    pub fn run(&self, behaviour: Behaviour) -> Result<Simulation> {
        self.run_episode(behaviour, Environment::Empirical, 0)
    }

    /// Episode number `episode` (its streams are keyed by mix(seed, episode)) in `env`.
    pub fn run_episode(
        &self,
        behaviour: Behaviour,
        env: Environment,
        episode: u64,
    ) -> Result<Simulation> {
        let e = self.episode(behaviour, env, None, episode, true)?;
        Ok(self.summarise(&e))
    }

    /// As [`Simulator::run_episode`] in the empirical environment, except that agent 0 of
    /// population `k` plays `deviator`; its return is `first_returns[k]`. Serial (for callers that
    /// parallelise over repetitions); the same numbers as a parallel run.
    pub fn run_with_deviator(
        &self,
        behaviour: Behaviour,
        deviator: Option<(usize, &PopPolicy)>,
        episode: u64,
    ) -> Result<Simulation> {
        let e = self.episode(behaviour, Environment::Empirical, deviator, episode, false)?;
        Ok(self.summarise(&e))
    }

    fn check_behaviour(&self, behaviour: Behaviour) -> Result<()> {
        if let Behaviour::Table(p) = behaviour {
            p.check_shape(self.game)?;
        }
        Ok(())
    }

    /// Simulates one episode; `parallel` runs the chunks as rayon tasks (same numbers).
    pub(crate) fn episode(
        &self,
        behaviour: Behaviour,
        env: Environment,
        deviator: Option<(usize, &PopPolicy)>,
        episode: u64,
        parallel: bool,
    ) -> Result<Episode> {
        let game = self.game;
        self.check_behaviour(behaviour)?;
        if let Environment::Fixed(f) = env {
            if f.populations() != game.populations() || f.levels() != game.horizon() + 1 {
                return Err(Error::invalid(
                    "simulator.environment",
                    format!(
                        "a flow of {} populations and {} levels for a game of {} populations and \
                         {} levels",
                        f.populations(),
                        f.levels(),
                        game.populations(),
                        game.horizon() + 1
                    ),
                ));
            }
        }
        if let Some((k, p)) = deviator {
            if k >= game.populations() {
                return Err(Error::invalid(
                    "deviation.population",
                    format!("{k}: the game has {} populations", game.populations()),
                ));
            }
            let want = (game.horizon(), game.states(k), game.actions(k));
            if (p.horizon(), p.states(), p.actions()) != want {
                return Err(Error::invalid(
                    "deviation.policy",
                    format!(
                        "population {k}: shape (N, S, A) = {:?}, the game has {want:?}",
                        (p.horizon(), p.states(), p.actions())
                    ),
                ));
            }
        }
        let (k_n, n) = (game.populations(), game.horizon());
        let chunk = self.settings.chunk;
        let key = mix(self.settings.seed ^ mix(episode));
        // Per population and chunk: RNG, current states, path.
        struct Work {
            rng: ChaCha8Rng,
            states: Vec<u32>,
            path: ChunkPath,
            counts: Vec<u64>,
        }
        let mut work: Vec<Vec<Work>> = (0..k_n)
            .map(|k| {
                let total = self.settings.agents[k];
                (0..total.div_ceil(chunk))
                    .map(|c| {
                        let len = chunk.min(total - c * chunk);
                        Work {
                            rng: chunk_rng(key, k, c),
                            states: vec![0; len],
                            path: ChunkPath {
                                len,
                                codes: vec![0; n * len],
                                last: vec![0; len],
                            },
                            counts: vec![0; game.states(k)],
                        }
                    })
                    .collect()
            })
            .collect();
        let mut flow = Flow::zeros(game);
        // Initial states and the level-0 histogram.
        for (k, chunks) in work.iter_mut().enumerate() {
            let mu0 = &self.initial[k];
            let init = |w: &mut Work| {
                w.counts.fill(0);
                for s in w.states.iter_mut() {
                    *s = pick(mu0, w.rng.random::<f64>()) as u32;
                    w.counts[*s as usize] += 1;
                }
            };
            if parallel {
                chunks.par_iter_mut().for_each(init);
            } else {
                chunks.iter_mut().for_each(init);
            }
            write_histogram(
                &mut flow,
                k,
                0,
                chunks.iter().map(|w| &w.counts[..]),
                self.settings.agents[k],
            );
        }
        for t in 0..n {
            let env_flow: &Flow = match env {
                Environment::Empirical => &flow,
                Environment::Fixed(f) => f,
            };
            let kernels: Vec<Cow<Kernel>> = (0..k_n)
                .map(|k| game.transitions(k, t, env_flow))
                .collect::<Result<_>>()?;
            let mu: Vec<&[f64]> = (0..k_n).map(|k| env_flow.at(k, t)).collect();
            let steps: Vec<StepPolicy> = (0..k_n)
                .map(|k| step_policy(game, behaviour, k, t, &mu))
                .collect::<Result<_>>()?;
            for (k, chunks) in work.iter_mut().enumerate() {
                let (ker, pol) = (&*kernels[k], &steps[k]);
                let a_n = game.actions(k);
                let dev = deviator.filter(|d| d.0 == k).map(|d| d.1);
                let advance = |(c, w): (usize, &mut Work)| {
                    w.counts.fill(0);
                    let len = w.path.len;
                    let codes = &mut w.path.codes[t * len..(t + 1) * len];
                    for (i, (s, code)) in w.states.iter_mut().zip(codes).enumerate() {
                        let s0 = *s as usize;
                        let row = match dev {
                            Some(d) if c == 0 && i == 0 => d.row(t, s0),
                            _ => pol.row(s0),
                        };
                        let (a, s1) = step_agent(ker, row, s0, &mut w.rng);
                        *code = (s0 * a_n + a) as u32;
                        *s = s1 as u32;
                        w.counts[s1] += 1;
                    }
                    if t + 1 == n {
                        w.path.last.copy_from_slice(&w.states);
                    }
                };
                if parallel {
                    chunks.par_iter_mut().enumerate().for_each(advance);
                } else {
                    chunks.iter_mut().enumerate().for_each(advance);
                }
            }
            for (k, chunks) in work.iter().enumerate() {
                write_histogram(
                    &mut flow,
                    k,
                    t + 1,
                    chunks.iter().map(|w| &w.counts[..]),
                    self.settings.agents[k],
                );
            }
        }
        let env_flow: &Flow = match env {
            Environment::Empirical => &flow,
            Environment::Fixed(f) => f,
        };
        let mut rewards = Vec::with_capacity(k_n);
        let mut terminal = Vec::with_capacity(k_n);
        for k in 0..k_n {
            let sa = game.states(k) * game.actions(k);
            let mut r = vec![0.0; n * sa];
            for t in 0..n {
                game.rewards(k, t, env_flow, &mut r[t * sa..(t + 1) * sa])?;
            }
            let mut g = vec![0.0; game.states(k)];
            game.terminal(k, env_flow, &mut g)?;
            rewards.push(r);
            terminal.push(g);
        }
        Ok(Episode {
            paths: work
                .into_iter()
                .map(|c| c.into_iter().map(|w| w.path).collect())
                .collect(),
            flow,
            rewards,
            terminal,
        })
    }

    /// Per-population return statistics of an episode.
    pub(crate) fn summarise(&self, e: &Episode) -> Simulation {
        let game = self.game;
        let (n, gamma) = (game.horizon(), game.discount());
        let mut returns = Vec::new();
        let mut first_returns = Vec::new();
        for k in 0..game.populations() {
            let (s_n, a_n) = (game.states(k), game.actions(k));
            let (r, g) = (&e.rewards[k], &e.terminal[k]);
            // Per chunk: (Σ G, Σ G², G of its first agent), summed in chunk order.
            let parts: Vec<(f64, f64, f64)> = e.paths[k]
                .par_iter()
                .map(|c| {
                    let mut ret = vec![0.0; c.len];
                    let mut disc = 1.0;
                    for t in 0..n {
                        let base = t * s_n * a_n;
                        for (g_i, &code) in ret.iter_mut().zip(&c.codes[t * c.len..(t + 1) * c.len])
                        {
                            *g_i += disc * r[base + code as usize];
                        }
                        disc *= gamma;
                    }
                    for (g_i, &s) in ret.iter_mut().zip(&c.last) {
                        *g_i += disc * g[s as usize];
                    }
                    let sum: f64 = ret.iter().sum();
                    let sq: f64 = ret.iter().map(|v| v * v).sum();
                    (sum, sq, ret[0])
                })
                .collect();
            let m = self.settings.agents[k] as f64;
            let (sum, sq) = parts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
            let mean = sum / m;
            let var = if m > 1.0 {
                ((sq - m * mean * mean) / (m - 1.0)).max(0.0)
            } else {
                0.0
            };
            returns.push(ReturnStats {
                mean,
                std_error: (var / m).sqrt(),
            });
            first_returns.push(parts[0].2);
        }
        let steps: usize = self.settings.agents.iter().sum::<usize>() * n;
        Simulation {
            flow: e.flow.clone(),
            returns,
            first_returns,
            agent_steps: steps as u64,
        }
    }
}
