//! Tabular policies π^k_t(a | s) and flows μ^k_t of the discrete game (RL.md §1), and the
//! interface of a policy *function* π^k(a | s, t, μ_t) (a master policy: a network that sees
//! the mean field), which [`super::exact::tabulate`] turns into a tabular policy.
//!
//! A [`Policy`] built from outside data goes through [`Policy::from_tables`], which checks the
//! shape against the game and that every row is a probability vector; the algorithms build
//! their policies from probability vectors by construction.

use super::game::Game;
use crate::error::{Error, Result};

/// Tolerance on Σ_a π(a | s) = 1 for policies given from outside.
pub const POLICY_SUM_TOLERANCE: f64 = 1e-9;

/// π_t(a | s) of one population for t = 0..N-1, stored t-major, then s, then a.
#[derive(Debug, Clone, PartialEq)]
pub struct PopPolicy {
    states: usize,
    actions: usize,
    horizon: usize,
    probs: Vec<f64>,
}

impl PopPolicy {
    /// The uniform policy.
    pub fn uniform(states: usize, actions: usize, horizon: usize) -> Self {
        PopPolicy {
            states,
            actions,
            horizon,
            probs: vec![1.0 / actions as f64; states * actions * horizon],
        }
    }

    /// One population's table π_t(a | s) of shape (N, S, A) = `shape` (t-major, then s, then
    /// a), checked: the length, every entry finite and ≥ 0, every row summing to one within
    /// [`POLICY_SUM_TOLERANCE`]. Errors name `field` and the offending entry as `[t, s, a]`.
    pub fn from_table(field: &str, shape: (usize, usize, usize), probs: Vec<f64>) -> Result<Self> {
        let (n, s, a) = shape;
        if probs.len() != n * s * a {
            return Err(Error::invalid(
                field,
                format!(
                    "{} entries; the game needs N × S × A = {n} × {s} × {a} = {}",
                    probs.len(),
                    n * s * a
                ),
            ));
        }
        let pop = PopPolicy {
            states: s,
            actions: a,
            horizon: n,
            probs,
        };
        for t in 0..n {
            for st in 0..s {
                let row = pop.row(t, st);
                if let Some((act, p)) = row
                    .iter()
                    .enumerate()
                    .find(|(_, p)| !(p.is_finite() && **p >= 0.0))
                {
                    return Err(Error::invalid(
                        field,
                        format!(
                            "entry [{t}, {st}, {act}] = π(a = {act} | s = {st}) at t = {t} is \
                             {p}: probabilities must be finite and ≥ 0"
                        ),
                    ));
                }
                let sum: f64 = row.iter().sum();
                if (sum - 1.0).abs() > POLICY_SUM_TOLERANCE {
                    return Err(Error::invalid(
                        field,
                        format!(
                            "row [{t}, {st}, :] = π(· | s = {st}) at t = {t} sums to {sum}, \
                             not 1 (off by {:.3e}; the tolerance is {POLICY_SUM_TOLERANCE:e})",
                            sum - 1.0
                        ),
                    ));
                }
            }
        }
        Ok(pop)
    }

    /// States S.
    pub fn states(&self) -> usize {
        self.states
    }

    /// Actions A.
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// Decision steps N.
    pub fn horizon(&self) -> usize {
        self.horizon
    }

    /// π_t(· | s).
    #[inline]
    pub fn row(&self, t: usize, s: usize) -> &[f64] {
        let b = (t * self.states + s) * self.actions;
        &self.probs[b..b + self.actions]
    }

    /// π_t(· | s), mutable (callers keep it a probability vector).
    #[inline]
    pub(crate) fn row_mut(&mut self, t: usize, s: usize) -> &mut [f64] {
        let b = (t * self.states + s) * self.actions;
        &mut self.probs[b..b + self.actions]
    }

    /// All rows of step t (S × A, row-major).
    pub fn step(&self, t: usize) -> &[f64] {
        let n = self.states * self.actions;
        &self.probs[t * n..(t + 1) * n]
    }

    /// All rows of step t, mutable.
    pub(crate) fn step_mut(&mut self, t: usize) -> &mut [f64] {
        let n = self.states * self.actions;
        &mut self.probs[t * n..(t + 1) * n]
    }

    /// The whole table (N × S × A).
    pub fn as_slice(&self) -> &[f64] {
        &self.probs
    }
}

/// A policy profile: one [`PopPolicy`] per population.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub(crate) pops: Vec<PopPolicy>,
}

impl Policy {
    /// Every population plays every action with equal probability.
    pub fn uniform(game: &dyn Game) -> Self {
        Policy {
            pops: (0..game.populations())
                .map(|k| PopPolicy::uniform(game.states(k), game.actions(k), game.horizon()))
                .collect(),
        }
    }

    /// The deterministic profile a = choose(k, t, s).
    pub fn deterministic(
        game: &dyn Game,
        choose: impl Fn(usize, usize, usize) -> usize,
    ) -> Result<Self> {
        let mut p = Self::uniform(game);
        for (k, pop) in p.pops.iter_mut().enumerate() {
            for t in 0..pop.horizon {
                for s in 0..pop.states {
                    let a = choose(k, t, s);
                    if a >= pop.actions {
                        return Err(Error::invalid(
                            format!("policy.population[{k}]"),
                            format!(
                                "action {a} at t = {t}, state {s}: the population has {} actions",
                                pop.actions
                            ),
                        ));
                    }
                    let row = pop.row_mut(t, s);
                    row.fill(0.0);
                    row[a] = 1.0;
                }
            }
        }
        Ok(p)
    }

    /// A profile from tables π^k (N × S^k × A^k each, t-major then s then a), checked against
    /// the game: shapes, finite non-negative entries, rows summing to one.
    pub fn from_tables(game: &dyn Game, tables: Vec<Vec<f64>>) -> Result<Self> {
        if tables.len() != game.populations() {
            return Err(Error::invalid(
                "policy",
                format!(
                    "{} population tables for a game of {} populations",
                    tables.len(),
                    game.populations()
                ),
            ));
        }
        let pops = tables
            .into_iter()
            .enumerate()
            .map(|(k, probs)| {
                let shape = (game.horizon(), game.states(k), game.actions(k));
                PopPolicy::from_table(&format!("policy.population[{k}]"), shape, probs)
            })
            .collect::<Result<_>>()?;
        Ok(Policy { pops })
    }

    /// Checks that the profile's shapes fit `game` (for profiles built for another game).
    pub fn check_shape(&self, game: &dyn Game) -> Result<()> {
        if self.pops.len() != game.populations() {
            return Err(Error::invalid(
                "policy",
                format!(
                    "{} populations in the policy, {} in the game",
                    self.pops.len(),
                    game.populations()
                ),
            ));
        }
        for (k, p) in self.pops.iter().enumerate() {
            let want = (game.horizon(), game.states(k), game.actions(k));
            if (p.horizon, p.states, p.actions) != want {
                return Err(Error::invalid(
                    format!("policy.population[{k}]"),
                    format!(
                        "shape (N, S, A) = {:?}, the game has {want:?}",
                        (p.horizon, p.states, p.actions)
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Population k's policy.
    pub fn population(&self, k: usize) -> &PopPolicy {
        &self.pops[k]
    }

    /// Number of populations.
    pub fn populations(&self) -> usize {
        self.pops.len()
    }
}

/// A flow μ^k_t, t = 0..N, per population (stored t-major).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    states: Vec<usize>,
    levels: usize,
    data: Vec<Vec<f64>>,
}

impl Flow {
    /// An all-zero flow shaped for `game`.
    pub fn zeros(game: &dyn Game) -> Self {
        let states: Vec<usize> = (0..game.populations()).map(|k| game.states(k)).collect();
        let levels = game.horizon() + 1;
        Flow {
            data: states.iter().map(|&s| vec![0.0; s * levels]).collect(),
            states,
            levels,
        }
    }

    /// A flow from per-population tables ((N+1) × S^k each), checked against `game`: every
    /// level must be a probability vector.
    pub fn from_tables(game: &dyn Game, data: Vec<Vec<f64>>) -> Result<Self> {
        let mut f = Self::zeros(game);
        if data.len() != f.data.len() {
            return Err(Error::invalid(
                "flow",
                format!("{} populations for a game of {}", data.len(), f.data.len()),
            ));
        }
        for (k, d) in data.into_iter().enumerate() {
            if d.len() != f.data[k].len() {
                return Err(Error::invalid(
                    format!("flow.population[{k}]"),
                    format!("{} entries; (N+1) × S = {}", d.len(), f.data[k].len()),
                ));
            }
            f.data[k] = d;
            for t in 0..f.levels {
                super::game::check_distribution(
                    f.at(k, t),
                    f.states[k],
                    &format!("flow.population[{k}][t = {t}]"),
                )?;
            }
        }
        Ok(f)
    }

    /// Number of levels N + 1.
    pub fn levels(&self) -> usize {
        self.levels
    }

    /// Number of populations.
    pub fn populations(&self) -> usize {
        self.data.len()
    }

    /// μ^k_t.
    #[inline]
    pub fn at(&self, k: usize, t: usize) -> &[f64] {
        let s = self.states[k];
        &self.data[k][t * s..(t + 1) * s]
    }

    /// μ^k_t, mutable.
    #[inline]
    pub fn at_mut(&mut self, k: usize, t: usize) -> &mut [f64] {
        let s = self.states[k];
        &mut self.data[k][t * s..(t + 1) * s]
    }

    /// Population k's whole flow ((N+1) × S).
    pub fn population(&self, k: usize) -> &[f64] {
        &self.data[k]
    }

    /// Levels t and t+1 of population k, the second mutable.
    pub(crate) fn pair_mut(&mut self, k: usize, t: usize) -> (&[f64], &mut [f64]) {
        let s = self.states[k];
        let (a, b) = self.data[k].split_at_mut((t + 1) * s);
        (&a[t * s..], &mut b[..s])
    }

    /// max_k max_t ‖μ^k_t − ν^k_t‖_1.
    pub fn sup_l1(&self, other: &Flow) -> f64 {
        (0..self.populations())
            .map(|k| self.sup_l1_population(other, k))
            .fold(0.0, f64::max)
    }

    /// max_t ‖μ^k_t − ν^k_t‖_1.
    pub fn sup_l1_population(&self, other: &Flow, k: usize) -> f64 {
        (0..self.levels)
            .map(|t| {
                self.at(k, t)
                    .iter()
                    .zip(other.at(k, t))
                    .map(|(a, b)| (a - b).abs())
                    .sum::<f64>()
            })
            .fold(0.0, f64::max)
    }
}

/// A policy function π^k(a | s, t, μ_t) (a master policy): it sees the state, the time and
/// every population's distribution at that time.
pub trait PolicyFunction: Sync {
    /// Writes π^k_t(· | s, μ_t) into `out` (length A^k); `mu[j]` is μ^j_t.
    fn probabilities(&self, k: usize, t: usize, s: usize, mu: &[&[f64]], out: &mut [f64]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rl::benchmarks::CrowdModelling;

    #[test]
    fn bad_tables_are_named_errors() {
        let g = CrowdModelling::default();
        let n = 10 * 10 * 3;
        let e = Policy::from_tables(&g, vec![vec![1.0 / 3.0; n - 1]]).unwrap_err();
        assert!(e.to_string().contains("N × S × A"), "{e}");
        let mut t = vec![1.0 / 3.0; n];
        t[4] = 0.5;
        let e = Policy::from_tables(&g, vec![t]).unwrap_err();
        assert!(e.to_string().contains("sums to"), "{e}");
        let mut t = vec![1.0 / 3.0; n];
        t[0] = f64::NAN;
        let e = Policy::from_tables(&g, vec![t]).unwrap_err();
        assert!(e.to_string().contains("NaN"), "{e}");
        let mut t = vec![0.5; n];
        for r in t.chunks_mut(3) {
            r[2] = 0.0;
        }
        t[0] = 1.5;
        t[1] = -0.5;
        let e = Policy::from_tables(&g, vec![t]).unwrap_err();
        assert!(e.to_string().contains("-0.5"), "{e}");
        let e = Policy::from_tables(&g, vec![]).unwrap_err();
        assert!(e.to_string().contains("population tables"), "{e}");
    }
}
