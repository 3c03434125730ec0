//! OpenSpiel's public mean field benchmark games (RL.md §5), reproduced with OpenSpiel's
//! timing so that the exact algorithms can be checked against an independent implementation:
//! [`CrowdModelling`] (1D ring and 2D torus) and [`PredatorPrey`] (K = 3).
//!
//! OpenSpiel's game tree runs, after the initial chance node, for t = 0..N−1: a decision node,
//! a noise chance node and a mean-field node. The reward is collected at the decision node of
//! time t, against μ_t; there is no terminal reward. In the crowd-modelling games that reward
//! charges the *previous* move, r(x_t, a_{t−1}, μ_t) with a_{−1} the neutral action, so the
//! last move is never charged. OpenSpiel's value recursions memoise by the state string
//! "(x, t)", which does not contain the previous move: every state (x, t) is valued with the
//! previous move of the lexicographically first history (initial outcome, a_0, noise_0, a_1, …)
//! that reaches it. [`ActionCost::OpenSpiel`] reproduces that (and with it OpenSpiel's
//! regression values); [`ActionCost::Taken`] charges every move when it is made instead.

mod crowd;
mod predator_prey;

pub use crowd::CrowdModelling;
pub use predator_prey::PredatorPrey;

/// OpenSpiel adds this to densities inside logarithms.
pub const LOG_EPS: f64 = 1e-25;

/// How the crowd-modelling games charge the cost of a move.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ActionCost {
    /// As OpenSpiel computes it: at (x, t), the move of the first history reaching (x, t).
    #[default]
    OpenSpiel,
    /// The move actually taken, charged at the step it is taken.
    Taken,
}

/// For every t = 0..N−1 and state s, the previous move of the lexicographically first history
/// reaching s at time t (`neutral` at t = 0 and at unreachable states).
///
/// Histories are (x_0, a_0, n_0, a_1, n_1, …): `initial` lists the initial states in the
/// order of OpenSpiel's initial chance outcomes, `step(s, a)` is the state after move a (the
/// post-decision node, which OpenSpiel keys by position alone) and `noise(y)` the states after
/// each noise outcome in outcome order.
pub(crate) fn first_history_moves(
    states: usize,
    actions: usize,
    horizon: usize,
    neutral: usize,
    initial: &[usize],
    step: impl Fn(usize, usize) -> usize,
    noise: impl Fn(usize) -> Vec<usize>,
) -> Vec<usize> {
    let mut last = vec![neutral; horizon * states];
    // rank[s]: position of s's first history among those of its level (None: unreachable).
    let mut rank: Vec<Option<usize>> = vec![None; states];
    for (r, &s) in initial.iter().enumerate() {
        rank[s] = Some(r);
    }
    let ranks_of = |keys: Vec<Option<(usize, usize)>>| -> Vec<Option<usize>> {
        let mut order: Vec<usize> = (0..keys.len()).filter(|&i| keys[i].is_some()).collect();
        order.sort_by_key(|&i| keys[i]);
        let mut out = vec![None; keys.len()];
        for (r, &i) in order.iter().enumerate() {
            out[i] = Some(r);
        }
        out
    };
    for t in 0..horizon.saturating_sub(1) {
        // Post-decision nodes: first (rank of x, a) reaching them, and that move.
        let mut post: Vec<Option<(usize, usize)>> = vec![None; states];
        for (x, rx) in rank.iter().enumerate() {
            if let Some(rx) = *rx {
                for a in 0..actions {
                    let y = step(x, a);
                    if post[y].is_none_or(|k| (rx, a) < k) {
                        post[y] = Some((rx, a));
                    }
                }
            }
        }
        let post_rank = ranks_of(post.clone());
        let mut next: Vec<Option<(usize, usize)>> = vec![None; states];
        let mut next_move = vec![neutral; states];
        for y in 0..states {
            if let (Some(ry), Some((_, a))) = (post_rank[y], post[y]) {
                for (n, z) in noise(y).into_iter().enumerate() {
                    if next[z].is_none_or(|k| (ry, n) < k) {
                        next[z] = Some((ry, n));
                        next_move[z] = a;
                    }
                }
            }
        }
        rank = ranks_of(next.clone());
        for z in 0..states {
            if next[z].is_some() {
                last[(t + 1) * states + z] = next_move[z];
            }
        }
    }
    last
}
