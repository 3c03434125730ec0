//! Maps between a PDE [`Solution`] and the game of its problem: the density flow
//! μ_n = m(t_n) h^d at the game's times (linear in time between PDE levels), the PDE policy
//! (the feedback α*(t, x) projected on each population's velocity set: per axis a convex
//! combination of the two neighbouring velocities, which reproduces α* as the mean velocity),
//! and a softmax of the game's best-response Q-values against a flow.
//!
//! Time: the PDE's control of level ℓ (from u^ℓ and m^{ℓ+1}) acts on (t_ℓ, t_{ℓ+1}], so game
//! step n (from t_n = nΔt to t_{n+1}) uses the level ℓ with t_ℓ ≤ t_n < t_{ℓ+1}.

use super::PdeGame;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::rl::exact::{backward, Want};
use crate::rl::game::Game;
use crate::rl::policy::{Flow, Policy, PopPolicy};
use crate::solve::Solution;

/// PDE level ℓ (and the fraction towards ℓ + 1) of game time t.
fn pde_level(game: &PdeGame, t: f64) -> (usize, f64) {
    let time = game.problem().time();
    let x = (t / time.dt()).clamp(0.0, time.nt as f64);
    let l = (x.floor() as usize).min(time.nt - 1);
    (l, x - l as f64)
}

fn check_solution(game: &PdeGame, solution: &Solution) -> Result<()> {
    solution.iterate.check_shape(game.problem())
}

/// The PDE density flow at the game's times, μ^k_n = m^k(t_n) h^d.
pub fn flow_from_solution(game: &PdeGame, solution: &Solution) -> Result<Flow> {
    check_solution(game, solution)?;
    let cell = game.cell_volume();
    let tables = (0..game.populations())
        .map(|k| {
            let m = &solution.iterate.m[k];
            let mut out = Vec::with_capacity((game.horizon() + 1) * game.states(k));
            for n in 0..=game.horizon() {
                let (l, w) = pde_level(game, game.time(n));
                let (a, b) = (m.level(l), m.level((l + 1).min(m.levels() - 1)));
                let level: Vec<f64> = a
                    .iter()
                    .zip(b)
                    .map(|(x, y)| ((1.0 - w) * x + w * y).max(0.0) * cell)
                    .collect();
                let sum: f64 = level.iter().sum();
                out.extend(level.iter().map(|v| v / sum));
            }
            out
        })
        .collect();
    Flow::from_tables(game, tables)
}

/// The profile that plays, at game step n and node x, the mixture of velocities whose mean is
/// the feedback `controls[k][axis]` (PDE levels) at the PDE level of t_n.
pub fn policy_from_controls(game: &PdeGame, controls: &[Vec<Field>]) -> Result<Policy> {
    let g = game.problem().grid();
    let d = g.dim();
    if controls.len() != game.populations()
        || controls
            .iter()
            .any(|c| c.len() != d || c.iter().any(|f| f.nodes() != g.len() || f.levels() < 2))
    {
        return Err(Error::invalid(
            "controls",
            format!(
                "one field per axis ({d}) and population ({}) on the problem's grid is needed",
                game.populations()
            ),
        ));
    }
    let mut policy = Policy::uniform(game);
    for (k, pop) in policy.pops.iter_mut().enumerate() {
        project_population(game, k, &controls[k], pop);
    }
    Ok(policy)
}

/// Population k's rows of the profile of [`policy_from_controls`], from its feedback `alpha`
/// (one field per axis, shapes checked by the caller).
pub(crate) fn project_population(game: &PdeGame, k: usize, alpha: &[Field], pop: &mut PopPolicy) {
    let g = game.problem().grid();
    let d = g.dim();
    let vel = game.velocities(k);
    let mut a_xy = [0.0; 2];
    for n in 0..game.horizon() {
        let (l, _) = pde_level(game, game.time(n));
        for i in 0..g.len() {
            for (a, al) in a_xy.iter_mut().enumerate().take(d) {
                *al = alpha[a].level(l.min(alpha[a].levels() - 1))[i];
            }
            vel.project(&a_xy, d, pop.row_mut(n, i));
        }
    }
}

/// The PDE policy: α* of `solution` projected on the game's velocity sets.
pub fn policy_from_solution(game: &PdeGame, solution: &Solution) -> Result<Policy> {
    check_solution(game, solution)?;
    let controls: Vec<Vec<Field>> = (0..game.populations())
        .map(|k| solution.controls(game.problem(), k))
        .collect();
    policy_from_controls(game, &controls)
}

/// π^k_t(a | s) ∝ exp(Q^{k,BR}_t(s, a)/τ) with Q^BR the best-response Q-values against `flow`
/// (e.g. the PDE flow of [`flow_from_solution`]).
pub fn softmax_policy(game: &dyn Game, flow: &Flow, temperature: f64) -> Result<Policy> {
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(Error::invalid(
            "temperature",
            format!("{temperature}: must be a positive finite number"),
        ));
    }
    let mut policy = Policy::uniform(game);
    let want = Want {
        best_q: true,
        ..Want::default()
    };
    for (k, pop) in policy.pops.iter_mut().enumerate() {
        let q = backward(game, k, flow, None, want)?.best_q.unwrap();
        let a_n = pop.actions();
        for t in 0..pop.horizon() {
            let step = pop.step_mut(t);
            let qs = &q[t * step.len()..(t + 1) * step.len()];
            for (row, qr) in step.chunks_mut(a_n).zip(qs.chunks(a_n)) {
                crate::rl::algorithms::softmax(qr, temperature, row);
            }
        }
    }
    Ok(policy)
}
