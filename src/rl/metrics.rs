//! Cross-validation of a policy profile against a reference (RL.md §4): for every population,
//! the exploitability of the profile, sup_t ‖μ^π_t − μ^ref_t‖_1, the Wasserstein-1 distance
//! sup_t W1(μ^π_t, μ^ref_t) on a 1D grid, the mean-velocity error weighted by the reference
//! density, (Σ_t Δt Σ_s μ^ref_t(s) |ᾱ^π_t(s) − α^ref_t(s)|²)^{1/2} with ᾱ^π = Σ_a π(a|s) α_a,
//! and the value error μ0 · (V^π_0 − V^ref_0).
//!
//! The reference is typically the PDE solution ([`pde_reference`]: μ = m h^d, V = −u(0),
//! α = α*); measured again against the game's own exact equilibrium ([`policy_reference`] of
//! an equilibrium profile) it separates the learning error from the discretisation error.

use super::exact::assess;
use super::game::Game;
use super::pde::{flow_from_solution, PdeGame};
use super::policy::{Flow, Policy};
use crate::error::{Error, Result};
use crate::solve::Solution;

/// What a profile is compared with.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// The reference flow μ^ref.
    pub flow: Flow,
    /// V^{ref,k}_0(s) per population.
    pub values: Vec<Vec<f64>>,
    /// Mean velocity α^{ref,k}_t(s) per population, N × S × d (only for velocity games).
    pub controls: Option<Vec<Vec<f64>>>,
}

/// Geometry the metrics need beyond the game: the velocity of every action (for the control
/// error) and the node spacing of a 1D grid (for W1).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Space dimension d of the velocities.
    pub dim: usize,
    /// α of every action, per population.
    pub velocities: Option<Vec<Vec<[f64; 2]>>>,
    /// Node spacing h when the states are the nodes of a 1D grid, in order.
    pub spacing_1d: Option<f64>,
    /// Game step Δt (weights of the control error).
    pub dt: f64,
}

/// The metrics of one population.
#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    /// Exploitability of the population: μ0·(V_BR − V_π).
    pub exploitability: f64,
    /// sup_t ‖μ^π_t − μ^ref_t‖_1.
    pub density_l1: f64,
    /// sup_t W1(μ^π_t, μ^ref_t) (1D grids only).
    pub w1: Option<f64>,
    /// Mean-velocity error weighted by μ^ref (velocity games with reference controls only).
    pub control_error: Option<f64>,
    /// μ0 · (V^π_0 − V^ref_0).
    pub value_error: f64,
}

/// Metrics against the reference and, when given, against the game's own equilibrium.
#[derive(Debug, Clone, PartialEq)]
pub struct CrossValidation {
    /// Measured against the reference (the PDE solution).
    pub against_reference: Vec<Metrics>,
    /// Measured against the game's own exact equilibrium, when given.
    pub against_equilibrium: Option<Vec<Metrics>>,
}

/// sup_t W1 on a 1D grid: h Σ_i |F_i − G_i| with F, G the cumulative sums.
fn w1(a: &Flow, b: &Flow, k: usize, h: f64) -> f64 {
    (0..a.levels())
        .map(|t| {
            let (mut fa, mut fb, mut acc) = (0.0, 0.0, 0.0);
            for (x, y) in a.at(k, t).iter().zip(b.at(k, t)) {
                fa += x;
                fb += y;
                acc += (fa - fb).abs();
            }
            acc * h
        })
        .fold(0.0, f64::max)
}

/// Mean velocity of `policy` per population (N × S × d).
pub fn mean_velocities(game: &dyn Game, policy: &Policy, layout: &Layout) -> Option<Vec<Vec<f64>>> {
    let vel = layout.velocities.as_ref()?;
    let d = layout.dim;
    Some(
        (0..game.populations())
            .map(|k| {
                let p = policy.population(k);
                let mut out = vec![0.0; p.horizon() * p.states() * d];
                for t in 0..p.horizon() {
                    for s in 0..p.states() {
                        for (a, &w) in p.row(t, s).iter().enumerate() {
                            for c in 0..d {
                                out[(t * p.states() + s) * d + c] += w * vel[k][a][c];
                            }
                        }
                    }
                }
                out
            })
            .collect(),
    )
}

fn against(
    game: &dyn Game,
    layout: &Layout,
    flow: &Flow,
    values: &[Vec<f64>],
    controls: &Option<Vec<Vec<f64>>>,
    expl: &[f64],
    r: &Reference,
) -> Result<Vec<Metrics>> {
    if r.flow.populations() != game.populations()
        || r.flow.levels() != game.horizon() + 1
        || r.values.len() != game.populations()
    {
        return Err(Error::invalid(
            "reference",
            "the reference flow and values must be shaped like the game",
        ));
    }
    let d = layout.dim;
    Ok((0..game.populations())
        .map(|k| {
            let mu0 = flow.at(k, 0);
            let value_error = (0..mu0.len())
                .map(|s| mu0[s] * (values[k][s] - r.values[k][s]))
                .sum();
            let control_error = match (controls, &r.controls) {
                (Some(c), Some(rc)) => {
                    let s_n = game.states(k);
                    let mut acc = 0.0;
                    for t in 0..game.horizon() {
                        let mu = r.flow.at(k, t);
                        for (s, m) in mu.iter().enumerate() {
                            let i = (t * s_n + s) * d;
                            let e2: f64 =
                                (0..d).map(|j| (c[k][i + j] - rc[k][i + j]).powi(2)).sum();
                            acc += layout.dt * m * e2;
                        }
                    }
                    Some(acc.sqrt())
                }
                _ => None,
            };
            Metrics {
                exploitability: expl[k],
                density_l1: flow.sup_l1_population(&r.flow, k),
                w1: layout.spacing_1d.map(|h| w1(flow, &r.flow, k, h)),
                control_error,
                value_error,
            }
        })
        .collect())
}

/// Cross-validates `policy` on `game` against `reference` and, when given, against the
/// game's own equilibrium.
pub fn cross_validate(
    game: &dyn Game,
    policy: &Policy,
    layout: &Layout,
    reference: &Reference,
    equilibrium: Option<&Reference>,
) -> Result<CrossValidation> {
    let a = assess(game, policy)?;
    let s_n: Vec<usize> = (0..game.populations()).map(|k| game.states(k)).collect();
    let values: Vec<Vec<f64>> = a
        .populations
        .iter()
        .zip(&s_n)
        .map(|(p, &s)| p.values[..s].to_vec())
        .collect();
    let controls = mean_velocities(game, policy, layout);
    let expl = a.per_population();
    let against_reference = against(game, layout, &a.flow, &values, &controls, &expl, reference)?;
    let against_equilibrium = equilibrium
        .map(|e| against(game, layout, &a.flow, &values, &controls, &expl, e))
        .transpose()?;
    Ok(CrossValidation {
        against_reference,
        against_equilibrium,
    })
}

/// The reference of a profile on the game itself: its flow, V^π_0 and mean velocities.
pub fn policy_reference(game: &dyn Game, policy: &Policy, layout: &Layout) -> Result<Reference> {
    let a = assess(game, policy)?;
    let values = a
        .populations
        .iter()
        .enumerate()
        .map(|(k, p)| p.values[..game.states(k)].to_vec())
        .collect();
    Ok(Reference {
        flow: a.flow,
        values,
        controls: mean_velocities(game, policy, layout),
    })
}

/// The geometry of a PDE game for the metrics.
pub fn pde_layout(game: &PdeGame) -> Layout {
    let g = game.grid();
    Layout {
        dim: g.dim(),
        velocities: Some(
            (0..game.populations())
                .map(|k| game.velocities(k).velocities().to_vec())
                .collect(),
        ),
        spacing_1d: (g.dim() == 1).then(|| g.h(0)),
        dt: game.dt(),
    }
}

/// The PDE solution as a reference: μ = m h^d at the game's times, V_0 = −u(0) (rewards are
/// negative costs) and α* at the PDE level of every game step.
pub fn pde_reference(game: &PdeGame, solution: &Solution) -> Result<Reference> {
    let flow = flow_from_solution(game, solution)?;
    let values = (0..game.populations())
        .map(|k| solution.iterate.u[k].level(0).iter().map(|u| -u).collect())
        .collect();
    let d = game.grid().dim();
    let nt = game.problem().time().nt;
    let pde_dt = game.problem().time().dt();
    let controls = (0..game.populations())
        .map(|k| {
            let c = solution.controls(game.problem(), k);
            let s_n = game.states(k);
            let mut out = vec![0.0; game.horizon() * s_n * d];
            for n in 0..game.horizon() {
                let l = ((game.time(n) / pde_dt).floor() as usize).min(nt - 1);
                for s in 0..s_n {
                    for (a, f) in c.iter().enumerate() {
                        out[(n * s_n + s) * d + a] = f.level(l)[s];
                    }
                }
            }
            out
        })
        .collect();
    Ok(Reference {
        flow,
        values,
        controls: Some(controls),
    })
}
