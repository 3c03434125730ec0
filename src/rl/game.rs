//! The discrete K-population mean field game of RL.md §1: population k has S^k states, A^k
//! actions, an initial distribution μ0^k, sparse transitions P^k_t(s' | s, a, μ_t), rewards
//! r^k_t(s, a, μ) and a terminal reward, over a horizon of N decision steps with discount γ.
//!
//! Everything is a *reward* (maximised). Games built from costs convert once, in the game
//! (the PDE game of [`super::pde`] uses r = −cost·Δt).
//!
//! A [`Kernel`] can only be built through [`Kernel::from_rows`] / [`KernelBuilder`], which
//! check that every row (s, a) is a probability vector over valid states, so the exact tools
//! never meet an invalid kernel.

use super::policy::Flow;
use crate::error::{Error, Result};
use std::borrow::Cow;

/// A finite-horizon multi-population mean field game.
///
/// Causality contract: [`Game::transitions`] at step t may read the flow only at levels ≤ t
/// (the forward pass fills the flow level by level, all populations at once); rewards are
/// requested once the whole flow is known and may read any level.
pub trait Game: Sync {
    /// Number of populations K.
    fn populations(&self) -> usize;
    /// Number of states S^k of population k.
    fn states(&self, k: usize) -> usize;
    /// Number of actions A^k of population k.
    fn actions(&self, k: usize) -> usize;
    /// Number of decision steps N (the flow has N + 1 levels).
    fn horizon(&self) -> usize;
    /// Discount γ of the per-step rewards (1 for an undiscounted finite horizon).
    fn discount(&self) -> f64 {
        1.0
    }
    /// Initial distribution μ0^k (length S^k, non-negative, summing to one).
    fn initial(&self, k: usize) -> Cow<'_, [f64]>;
    /// Transition kernel P^k_t(· | s, a, μ_t).
    fn transitions(&self, k: usize, t: usize, flow: &Flow) -> Result<Cow<'_, Kernel>>;
    /// Rewards r^k_t(s, a, μ) into `out` (row-major S^k × A^k).
    fn rewards(&self, k: usize, t: usize, flow: &Flow, out: &mut [f64]) -> Result<()>;
    /// Terminal reward of population k at level N into `out` (length S^k).
    fn terminal(&self, k: usize, flow: &Flow, out: &mut [f64]) -> Result<()>;
    /// For games whose step factors into a deterministic move to a post-decision state
    /// y = post(s, a) followed by noise that depends on y alone (OpenSpiel's game trees key
    /// that node by y), the post-decision state of (s, a). Only needed to reproduce
    /// OpenSpiel's mirror descent exactly ([`crate::rl::MirrorDescent::openspiel`]).
    fn post_decision(&self, _k: usize, _s: usize, _a: usize) -> Option<usize> {
        None
    }
    /// Short name for reports.
    fn name(&self) -> String;
}

/// Sparse transition kernel of one population at one step: for every (s, a), stored at row
/// r = s·A + a, a short list of (s', p) with p > 0 summing to one.
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    states: usize,
    actions: usize,
    start: Vec<usize>,
    next: Vec<u32>,
    prob: Vec<f64>,
}

/// Tolerance on Σ_s' P(s' | s, a) = 1.
pub const SUM_TOLERANCE: f64 = 1e-12;

impl Kernel {
    /// States S.
    pub fn states(&self) -> usize {
        self.states
    }

    /// Actions A.
    pub fn actions(&self) -> usize {
        self.actions
    }

    /// The (s', p) entries of row (s, a).
    #[inline]
    pub fn row(&self, s: usize, a: usize) -> (&[u32], &[f64]) {
        let r = s * self.actions + a;
        let (b, e) = (self.start[r], self.start[r + 1]);
        (&self.next[b..e], &self.prob[b..e])
    }

    /// Σ_s' P(s'|s,a) v(s').
    #[inline]
    pub fn expect(&self, s: usize, a: usize, v: &[f64]) -> f64 {
        let (next, prob) = self.row(s, a);
        next.iter()
            .zip(prob)
            .map(|(&j, &p)| p * v[j as usize])
            .sum()
    }

    /// Number of stored entries.
    pub fn nnz(&self) -> usize {
        self.prob.len()
    }

    /// A kernel from a closure listing, for every (s, a), its (s', p) entries (entries with
    /// the same s' are merged, zeros dropped). `field` names the kernel in error messages.
    pub fn from_rows(
        states: usize,
        actions: usize,
        field: &str,
        mut row: impl FnMut(usize, usize, &mut Vec<(usize, f64)>),
    ) -> Result<Self> {
        let mut b = KernelBuilder::new(states, actions, field);
        let mut buf = Vec::new();
        for s in 0..states {
            for a in 0..actions {
                buf.clear();
                row(s, a, &mut buf);
                b.push_row(&buf)?;
            }
        }
        b.finish()
    }
}

/// Row-by-row construction of a [`Kernel`], rows in the order (s, a) = (0, 0), (0, 1), …
#[derive(Debug)]
pub struct KernelBuilder {
    kernel: Kernel,
    field: String,
    merged: Vec<(usize, f64)>,
}

impl KernelBuilder {
    /// An empty builder for S states and A actions.
    pub fn new(states: usize, actions: usize, field: &str) -> Self {
        KernelBuilder {
            kernel: Kernel {
                states,
                actions,
                start: vec![0],
                next: Vec::new(),
                prob: Vec::new(),
            },
            field: field.to_string(),
            merged: Vec::new(),
        }
    }

    /// Appends the next row; checks that it is a probability vector over valid states.
    pub fn push_row(&mut self, entries: &[(usize, f64)]) -> Result<()> {
        let k = &mut self.kernel;
        let r = k.start.len() - 1;
        let (s, a) = (r / k.actions.max(1), r % k.actions.max(1));
        if r >= k.states * k.actions {
            return Err(Error::invalid(
                self.field.clone(),
                format!("more than S·A = {} rows", k.states * k.actions),
            ));
        }
        self.merged.clear();
        let mut sum = 0.0;
        for &(j, p) in entries {
            if j >= k.states {
                return Err(Error::invalid(
                    self.field.clone(),
                    format!(
                        "row (s = {s}, a = {a}) leads to state {j}, beyond the {} states",
                        k.states
                    ),
                ));
            }
            if !(p.is_finite() && p >= 0.0) {
                return Err(Error::invalid(
                    self.field.clone(),
                    format!("row (s = {s}, a = {a}) has probability {p} for state {j}"),
                ));
            }
            sum += p;
            if p > 0.0 {
                match self.merged.iter_mut().find(|(jj, _)| *jj == j) {
                    Some(e) => e.1 += p,
                    None => self.merged.push((j, p)),
                }
            }
        }
        if (sum - 1.0).abs() > SUM_TOLERANCE {
            return Err(Error::invalid(
                self.field.clone(),
                format!(
                    "row (s = {s}, a = {a}): probabilities sum to {sum}, not 1 (off by {:.3e})",
                    sum - 1.0
                ),
            ));
        }
        for &(j, p) in &self.merged {
            k.next.push(j as u32);
            k.prob.push(p);
        }
        k.start.push(k.next.len());
        Ok(())
    }

    /// The kernel; every row must have been pushed.
    pub fn finish(self) -> Result<Kernel> {
        let k = self.kernel;
        if k.start.len() - 1 != k.states * k.actions {
            return Err(Error::invalid(
                self.field,
                format!(
                    "{} rows given for S·A = {} (state, action) pairs",
                    k.start.len() - 1,
                    k.states * k.actions
                ),
            ));
        }
        Ok(k)
    }
}

/// Checks that `mu` is a probability vector of length `n` (`field` names it).
pub fn check_distribution(mu: &[f64], n: usize, field: &str) -> Result<()> {
    if mu.len() != n {
        return Err(Error::invalid(
            field,
            format!("{} entries for {n} states", mu.len()),
        ));
    }
    if let Some((s, p)) = mu
        .iter()
        .enumerate()
        .find(|(_, p)| !(p.is_finite() && **p >= 0.0))
    {
        return Err(Error::invalid(
            field,
            format!("entry {p} at state {s}: probabilities must be finite and ≥ 0"),
        ));
    }
    let sum: f64 = mu.iter().sum();
    if (sum - 1.0).abs() > 1e-9 {
        return Err(Error::invalid(
            field,
            format!("entries sum to {sum}, not 1"),
        ));
    }
    Ok(())
}

/// Checks that every reward is finite (`what` names the block in the message).
pub(crate) fn check_finite(
    values: &[f64],
    actions: usize,
    what: impl Fn() -> String,
) -> Result<()> {
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        let (s, a) = (i / actions.max(1), i % actions.max(1));
        return Err(Error::invalid(
            what(),
            format!("reward {v} at state {s}, action {a}: rewards must be finite"),
        ));
    }
    Ok(())
}

/// Checks the shape facts of a game that every tool relies on.
pub fn check_game(game: &dyn Game) -> Result<()> {
    if game.populations() == 0 {
        return Err(Error::invalid(
            "game.populations",
            "at least one population",
        ));
    }
    if game.horizon() == 0 {
        return Err(Error::invalid("game.horizon", "at least one decision step"));
    }
    let g = game.discount();
    if !(g.is_finite() && g > 0.0 && g <= 1.0) {
        return Err(Error::invalid(
            "game.discount",
            format!("{g}: the discount must lie in (0, 1]"),
        ));
    }
    for k in 0..game.populations() {
        if game.states(k) == 0 || game.actions(k) == 0 {
            return Err(Error::invalid(
                format!("game.population[{k}]"),
                format!(
                    "{} states and {} actions: both must be positive",
                    game.states(k),
                    game.actions(k)
                ),
            ));
        }
        check_distribution(
            &game.initial(k),
            game.states(k),
            &format!("game.population[{k}].initial"),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_must_be_probability_vectors() {
        let ok = Kernel::from_rows(2, 1, "k", |s, _, r| {
            r.push((s, 0.25));
            r.push((1 - s, 0.5));
            r.push((s, 0.25));
        })
        .unwrap();
        assert_eq!(ok.row(0, 0), (&[0u32, 1][..], &[0.5, 0.5][..]));
        let e = Kernel::from_rows(2, 1, "k", |_, _, r| r.push((0, 0.9))).unwrap_err();
        assert!(e.to_string().contains("sum to 0.9"), "{e}");
        let e = Kernel::from_rows(2, 1, "k", |_, _, r| {
            r.push((0, 1.5));
            r.push((1, -0.5));
        })
        .unwrap_err();
        assert!(e.to_string().contains("probability -0.5"), "{e}");
        let e = Kernel::from_rows(2, 1, "k", |_, _, r| r.push((0, f64::NAN))).unwrap_err();
        assert!(e.to_string().contains("NaN"), "{e}");
        let e = Kernel::from_rows(2, 1, "k", |_, _, r| r.push((2, 1.0))).unwrap_err();
        assert!(e.to_string().contains("beyond"), "{e}");
    }

    #[test]
    fn distributions_are_checked() {
        assert!(check_distribution(&[0.5, 0.5], 2, "m").is_ok());
        assert!(check_distribution(&[0.5, 0.6], 2, "m").is_err());
        assert!(check_distribution(&[1.5, -0.5], 2, "m").is_err());
        assert!(check_distribution(&[1.0], 2, "m").is_err());
    }
}
