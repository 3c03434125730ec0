//! N-player evaluation of a mean-field policy π: how much a single agent gains by deviating in
//! the N-agent game that π is meant to approximate.
//!
//! Every population has N agents, all playing π except agent 0 of population k, which plays
//! BR^k, the best response to the *mean-field* flow μ^π (backward induction against the exact
//! forward flow). Kernels and rewards read the empirical distributions μ̂_t of the N agents
//! (the deviator included). The gain of population k is
//!
//! Δ^k_N = E[G^{k,0} | agent 0 plays BR^k] − E[G^{k,0} | agent 0 plays π],
//!
//! estimated from R seeded repetitions r = 1..R, each running both episodes with the same
//! random streams (common random numbers: the same initial state and uniforms for every
//! agent), Δ̂ = (1/R) Σ_r (G_r^{dev} − G_r^{base}), with the 95% confidence interval
//! Δ̂ ± 1.96 ŝ/√R. As N → ∞, Δ^k_N tends to the mean-field exploitability
//! μ0^k · (V^{k,BR}_0 − V^{k,π}_0); at an equilibrium the classical bound is O(1/√N).
//! [`fit_rate`] fits log|Δ_N| = c + p log N by least squares and reports p next to −1/2.

use super::simulator::{mix, Behaviour, SimSettings, Simulator, DEFAULT_CHUNK};
use crate::error::{Error, Result};
use crate::rl::exact::{assess, backward, Want};
use crate::rl::game::Game;
use crate::rl::policy::{Policy, PopPolicy};
use rayon::prelude::*;
use std::fmt;

/// Sizes, repetitions and seed of an N-player evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviationSettings {
    /// The N values (agents per population, each at least 1).
    pub sizes: Vec<usize>,
    /// Repetitions R per N (at least 2, for a confidence interval).
    pub repetitions: usize,
    /// Seed.
    pub seed: u64,
}

impl DeviationSettings {
    /// Checks the fields (errors name `deviation.<field>`).
    pub fn check(&self) -> Result<()> {
        if self.sizes.is_empty() {
            return Err(Error::invalid("deviation.sizes", "at least one N"));
        }
        if let Some(i) = self.sizes.iter().position(|&n| n == 0) {
            return Err(Error::invalid(
                format!("deviation.sizes[{i}]"),
                "0 agents: N must be at least 1",
            ));
        }
        if self.repetitions < 2 {
            return Err(Error::invalid(
                "deviation.repetitions",
                format!("{}: at least 2 for a confidence interval", self.repetitions),
            ));
        }
        Ok(())
    }
}

/// The estimated gain of one population at one N.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviationGain {
    /// N.
    pub agents: usize,
    /// k.
    pub population: usize,
    /// Δ̂^k_N.
    pub mean: f64,
    /// ŝ/√R.
    pub std_error: f64,
    /// 1.96 ŝ/√R: the 95% interval is mean ± half_width.
    pub half_width: f64,
    /// R.
    pub repetitions: usize,
    /// The N → ∞ limit, population k's mean-field exploitability of π.
    pub mean_field: f64,
}

/// Gains of every population at every N of `settings` (N-major, then k).
pub fn deviation_gains(
    game: &dyn Game,
    policy: &Policy,
    settings: &DeviationSettings,
) -> Result<Vec<DeviationGain>> {
    settings.check()?;
    let a = assess(game, policy)?;
    let want = Want {
        greedy: true,
        ..Want::default()
    };
    let k_n = game.populations();
    let brs: Vec<PopPolicy> = (0..k_n)
        .map(|k| {
            let g = backward(game, k, &a.flow, None, want)?
                .greedy
                .expect("asked for");
            let s_n = game.states(k);
            let p = Policy::deterministic(game, |_, t, s| g[t * s_n + s] as usize)?;
            Ok(p.population(k).clone())
        })
        .collect::<Result<_>>()?;
    let mut out = Vec::new();
    for &n in &settings.sizes {
        let sim = Simulator::new(
            game,
            SimSettings {
                agents: vec![n; k_n],
                seed: mix(settings.seed ^ mix(n as u64)),
                chunk: DEFAULT_CHUNK,
            },
        )?;
        // Per repetition: the gain of every population (same streams with and without).
        let gains: Vec<Vec<f64>> = (0..settings.repetitions)
            .into_par_iter()
            .map(|r| {
                let b = Behaviour::Table(policy);
                let base = sim.run_with_deviator(b, None, r as u64)?;
                (0..k_n)
                    .map(|k| {
                        let dev = sim.run_with_deviator(b, Some((k, &brs[k])), r as u64)?;
                        Ok(dev.first_returns[k] - base.first_returns[k])
                    })
                    .collect::<Result<Vec<f64>>>()
            })
            .collect::<Result<_>>()?;
        let rr = settings.repetitions as f64;
        for k in 0..k_n {
            let mean = gains.iter().map(|g| g[k]).sum::<f64>() / rr;
            let var = gains.iter().map(|g| (g[k] - mean).powi(2)).sum::<f64>() / (rr - 1.0);
            let se = (var / rr).sqrt();
            out.push(DeviationGain {
                agents: n,
                population: k,
                mean,
                std_error: se,
                half_width: 1.96 * se,
                repetitions: settings.repetitions,
                mean_field: a.populations[k].exploitability,
            });
        }
    }
    Ok(out)
}

/// A least-squares fit of log|Δ_N| against log N.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateFit {
    /// k.
    pub population: usize,
    /// The slope p of log|Δ_N| = c + p log N.
    pub slope: f64,
    /// The intercept c.
    pub intercept: f64,
    /// The reference rate −1/2 (Δ_N ∝ 1/√N).
    pub reference: f64,
}

impl fmt::Display for RateFit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "population {}: |gain| ∝ N^{:.2} (1/√N would be N^{:.2})",
            self.population, self.slope, self.reference
        )
    }
}

/// The fitted rate of population k's gains (at least two distinct N with non-zero gains).
pub fn fit_rate(gains: &[DeviationGain], k: usize) -> Result<RateFit> {
    let pts: Vec<(f64, f64)> = gains
        .iter()
        .filter(|g| g.population == k && g.mean != 0.0)
        .map(|g| ((g.agents as f64).ln(), g.mean.abs().ln()))
        .collect();
    let m = pts.len() as f64;
    let xm = pts.iter().map(|p| p.0).sum::<f64>() / m;
    let ym = pts.iter().map(|p| p.1).sum::<f64>() / m;
    let sxx: f64 = pts.iter().map(|p| (p.0 - xm).powi(2)).sum();
    if pts.len() < 2 || sxx == 0.0 {
        return Err(Error::invalid(
            "deviation.sizes",
            format!("population {k}: a rate needs non-zero gains at two distinct N at least"),
        ));
    }
    let sxy: f64 = pts.iter().map(|p| (p.0 - xm) * (p.1 - ym)).sum();
    let slope = sxy / sxx;
    Ok(RateFit {
        population: k,
        slope,
        intercept: ym - slope * xm,
        reference: -0.5,
    })
}
