//! Exact (model-based) tools on any [`Game`] (RL.md §1):
//!
//! - forward: μ^k_{t+1}(s') = Σ_{s,a} μ^k_t(s) π^k_t(a|s) P^k_t(s'|s,a,μ_t), μ^k_0 = μ0^k;
//! - backward against a fixed flow μ: Q^k_t(s,a) = r^k_t(s,a,μ) + γ Σ_s' P^k_t(s'|s,a,μ_t)
//!   V^k_{t+1}(s'), V^k_N = terminal reward; V^π = Σ_a π Q (policy evaluation),
//!   V^BR = max_a Q (best response by backward induction);
//! - exploitability (NashConv) per population, μ0^k · (V^{k,BR}_0 − V^{k,π}_0) with both values
//!   against μ^π, and its sum over populations.
//!
//! Populations run in parallel (rayon), and so do the states of a backward step when a
//! population has enough (state, action) pairs for it to pay.

use super::game::{check_finite, check_game, Game, Kernel};
use super::policy::{Flow, Policy, PolicyFunction, PopPolicy};
use crate::error::Result;
use rayon::prelude::*;

/// Below this many (state, action) pairs a backward step runs serially.
const PAR_PAIRS: usize = 4096;

/// One forward step of population k: μ_{t+1} from μ_t, π_t and P_t.
fn push_forward(ker: &Kernel, pi: &PopPolicy, t: usize, mu: &[f64], next: &mut [f64]) {
    next.fill(0.0);
    for (s, &m) in mu.iter().enumerate() {
        if m == 0.0 {
            continue;
        }
        for (a, &p) in pi.row(t, s).iter().enumerate() {
            let w = m * p;
            if w == 0.0 {
                continue;
            }
            let (idx, prob) = ker.row(s, a);
            for (&j, &q) in idx.iter().zip(prob) {
                next[j as usize] += w * q;
            }
        }
    }
}

/// Advances every population from level t to t + 1 with step-t rows of `policy`.
fn advance(game: &dyn Game, policy: &Policy, flow: &mut Flow, t: usize) -> Result<()> {
    let next: Vec<Vec<f64>> = (0..game.populations())
        .into_par_iter()
        .map(|k| {
            let ker = game.transitions(k, t, flow)?;
            let mut out = vec![0.0; game.states(k)];
            push_forward(&ker, &policy.pops[k], t, flow.at(k, t), &mut out);
            Ok(out)
        })
        .collect::<Result<_>>()?;
    for (k, v) in next.into_iter().enumerate() {
        flow.pair_mut(k, t).1.copy_from_slice(&v);
    }
    Ok(())
}

fn initial_flow(game: &dyn Game) -> Result<Flow> {
    check_game(game)?;
    let mut flow = Flow::zeros(game);
    for k in 0..game.populations() {
        flow.at_mut(k, 0).copy_from_slice(&game.initial(k));
    }
    Ok(flow)
}

/// The flow μ^π that the profile induces.
pub fn forward(game: &dyn Game, policy: &Policy) -> Result<Flow> {
    policy.check_shape(game)?;
    let mut flow = initial_flow(game)?;
    for t in 0..game.horizon() {
        advance(game, policy, &mut flow, t)?;
    }
    Ok(flow)
}

/// Closed-loop tabulation of a policy function π^k(a | s, t, μ_t): at every step the function
/// sees the flow it induces. Returns the tabular profile and its flow.
pub fn tabulate(game: &dyn Game, f: &dyn PolicyFunction) -> Result<(Policy, Flow)> {
    let mut flow = initial_flow(game)?;
    let mut policy = Policy::uniform(game);
    for t in 0..game.horizon() {
        let mu: Vec<&[f64]> = (0..game.populations()).map(|k| flow.at(k, t)).collect();
        for (k, pop) in policy.pops.iter_mut().enumerate() {
            for s in 0..pop.states() {
                let row = pop.row_mut(t, s);
                f.probabilities(k, t, s, &mu, row);
                super::game::check_distribution(
                    row,
                    row.len(),
                    &format!("policy function (population {k}, t = {t}, state {s})"),
                )?;
            }
        }
        advance(game, &policy, &mut flow, t)?;
    }
    Ok((policy, flow))
}

/// What a backward pass should keep.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Want {
    /// V^π (needs a policy).
    pub value: bool,
    /// V^BR.
    pub best_value: bool,
    /// Q^π_t(s, a) for every t (needs a policy).
    pub q: bool,
    /// Q^BR_t(s, a) for every t.
    pub best_q: bool,
    /// argmax_a Q^BR_t(s, a) (lowest action index among ties) for every t and s.
    pub greedy: bool,
}

/// Results of a backward pass of one population; each is `Some` when asked for.
#[derive(Debug, Clone, Default)]
pub struct Backward {
    /// V^π_t(s), (N+1) × S.
    pub value: Option<Vec<f64>>,
    /// V^BR_t(s), (N+1) × S.
    pub best_value: Option<Vec<f64>>,
    /// Q^π_t(s,a), N × S × A.
    pub q: Option<Vec<f64>>,
    /// Q^BR_t(s,a), N × S × A.
    pub best_q: Option<Vec<f64>>,
    /// Best-response action per (t, s), N × S.
    pub greedy: Option<Vec<u32>>,
}

/// Backward induction of population k against the flow `flow`; `policy` is needed for V^π
/// and Q^π.
pub fn backward(
    game: &dyn Game,
    k: usize,
    flow: &Flow,
    policy: Option<&PopPolicy>,
    want: Want,
) -> Result<Backward> {
    let (n, s_n, a_n) = (game.horizon(), game.states(k), game.actions(k));
    let gamma = game.discount();
    let need_pi = want.value || want.q;
    let need_br = want.best_value || want.best_q || want.greedy;
    if need_pi && policy.is_none() {
        return Err(crate::Error::invalid(
            "policy",
            "policy evaluation needs a policy",
        ));
    }
    let mut terminal = vec![0.0; s_n];
    game.terminal(k, flow, &mut terminal)?;
    check_finite(&terminal, 1, || format!("game.population[{k}].terminal"))?;
    let mut v_pi = vec![0.0; if need_pi { (n + 1) * s_n } else { 0 }];
    let mut v_br = vec![0.0; if need_br { (n + 1) * s_n } else { 0 }];
    if need_pi {
        v_pi[n * s_n..].copy_from_slice(&terminal);
    }
    if need_br {
        v_br[n * s_n..].copy_from_slice(&terminal);
    }
    let mut q_all = want.q.then(|| vec![0.0; n * s_n * a_n]);
    let mut qb_all = want.best_q.then(|| vec![0.0; n * s_n * a_n]);
    let mut greedy = want.greedy.then(|| vec![0u32; n * s_n]);
    let mut r = vec![0.0; s_n * a_n];
    let (mut qp, mut qb) = (vec![0.0; s_n * a_n], vec![0.0; s_n * a_n]);
    for t in (0..n).rev() {
        let ker = game.transitions(k, t, flow)?;
        game.rewards(k, t, flow, &mut r)?;
        check_finite(&r, a_n, || format!("game.population[{k}].rewards[t = {t}]"))?;
        let (vp_now, vp_next) = split_level(&mut v_pi, t, s_n);
        let (vb_now, vb_next) = split_level(&mut v_br, t, s_n);
        let row_pi = |s: usize, q_row: &mut [f64]| -> f64 {
            let pr = policy.expect("checked above").row(t, s);
            let mut v = 0.0;
            for a in 0..a_n {
                q_row[a] = r[s * a_n + a] + gamma * ker.expect(s, a, vp_next);
                v += pr[a] * q_row[a];
            }
            v
        };
        let row_br = |s: usize, q_row: &mut [f64]| -> (f64, u32) {
            let (mut best, mut arg) = (f64::NEG_INFINITY, 0u32);
            for a in 0..a_n {
                let q = r[s * a_n + a] + gamma * ker.expect(s, a, vb_next);
                q_row[a] = q;
                if q > best {
                    best = q;
                    arg = a as u32;
                }
            }
            (best, arg)
        };
        let par = s_n * a_n >= PAR_PAIRS;
        if need_pi {
            if par {
                qp.par_chunks_mut(a_n)
                    .zip(vp_now.par_iter_mut())
                    .enumerate()
                    .for_each(|(s, (q, v))| *v = row_pi(s, q));
            } else {
                for (s, (q, v)) in qp.chunks_mut(a_n).zip(vp_now.iter_mut()).enumerate() {
                    *v = row_pi(s, q);
                }
            }
        }
        if need_br {
            let mut args = vec![0u32; s_n];
            if par {
                qb.par_chunks_mut(a_n)
                    .zip(vb_now.par_iter_mut().zip(args.par_iter_mut()))
                    .enumerate()
                    .for_each(|(s, (q, (v, g)))| (*v, *g) = row_br(s, q));
            } else {
                for (s, (q, (v, g))) in qb
                    .chunks_mut(a_n)
                    .zip(vb_now.iter_mut().zip(args.iter_mut()))
                    .enumerate()
                {
                    (*v, *g) = row_br(s, q);
                }
            }
            if let Some(g) = greedy.as_mut() {
                g[t * s_n..(t + 1) * s_n].copy_from_slice(&args);
            }
        }
        let block = t * s_n * a_n..(t + 1) * s_n * a_n;
        if let Some(q) = q_all.as_mut() {
            q[block.clone()].copy_from_slice(&qp);
        }
        if let Some(q) = qb_all.as_mut() {
            q[block].copy_from_slice(&qb);
        }
    }
    Ok(Backward {
        value: want.value.then_some(v_pi),
        best_value: want.best_value.then_some(v_br),
        q: q_all,
        best_q: qb_all,
        greedy,
    })
}

/// Level t of a (N+1) × S table and level t + 1, the first mutable (empty when unused).
fn split_level(v: &mut [f64], t: usize, s: usize) -> (&mut [f64], &[f64]) {
    if v.is_empty() {
        return (&mut [], &[]);
    }
    let (a, b) = v.split_at_mut((t + 1) * s);
    (&mut a[t * s..], &b[..s])
}

/// Values of one population in an [`Assessment`].
#[derive(Debug, Clone, PartialEq)]
pub struct PopulationValues {
    /// μ0 · (V^BR_0 − V^π_0) ≥ 0.
    pub exploitability: f64,
    /// μ0 · V^π_0: the population's expected return under the profile.
    pub value: f64,
    /// μ0 · V^BR_0.
    pub best_value: f64,
    /// V^π_t(s), (N+1) × S.
    pub values: Vec<f64>,
    /// V^BR_t(s), (N+1) × S.
    pub best_values: Vec<f64>,
}

/// Exploitability of a profile with the flow and values behind it.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    /// The flow μ^π of the profile.
    pub flow: Flow,
    /// One entry per population.
    pub populations: Vec<PopulationValues>,
}

impl Assessment {
    /// Σ_k exploitability (OpenSpiel's NashConv).
    pub fn total(&self) -> f64 {
        self.populations.iter().map(|p| p.exploitability).sum()
    }

    /// Per-population exploitability.
    pub fn per_population(&self) -> Vec<f64> {
        self.populations.iter().map(|p| p.exploitability).collect()
    }

    /// The value scale max_k |μ0^k · V^{k,π}_0| that relative exploitabilities are measured in.
    pub fn value_scale(&self) -> f64 {
        self.populations
            .iter()
            .map(|p| p.value.abs())
            .fold(0.0, f64::max)
    }

    /// Σ_k exploitability divided by [`Assessment::value_scale`] (the total when the scale is 0).
    pub fn relative(&self) -> f64 {
        let scale = self.value_scale();
        if scale > 0.0 {
            self.total() / scale
        } else {
            self.total()
        }
    }
}

/// Exploitability (NashConv) of `policy`, per population and in total, with its flow and
/// values.
pub fn assess(game: &dyn Game, policy: &Policy) -> Result<Assessment> {
    let flow = forward(game, policy)?;
    let want = Want {
        value: true,
        best_value: true,
        ..Want::default()
    };
    let populations = (0..game.populations())
        .into_par_iter()
        .map(|k| {
            let b = backward(game, k, &flow, Some(&policy.pops[k]), want)?;
            let (values, best_values) = (b.value.unwrap(), b.best_value.unwrap());
            let mu0 = flow.at(k, 0);
            let s = mu0.len();
            let value: f64 = mu0.iter().zip(&values[..s]).map(|(m, v)| m * v).sum();
            let best_value: f64 = mu0.iter().zip(&best_values[..s]).map(|(m, v)| m * v).sum();
            Ok(PopulationValues {
                exploitability: best_value - value,
                value,
                best_value,
                values,
                best_values,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Assessment { flow, populations })
}

/// Total exploitability Σ_k μ0^k · (V^{k,BR}_0 − V^{k,π}_0) of `policy`.
pub fn exploitability(game: &dyn Game, policy: &Policy) -> Result<f64> {
    Ok(assess(game, policy)?.total())
}
