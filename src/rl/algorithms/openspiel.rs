//! OpenSpiel's mirror descent, reproduced step for step. OpenSpiel keeps the cumulated values
//! C(y) += lr·V^{π_n}(y) on its post-decision nodes y = post(s, a) (shared by every (s, a)
//! moving to y) and its policy π(a | s) = softmax_a C(post(s, a)) reads that table *live*:
//! during the depth-first evaluation of iteration n, a decision node first visited after some
//! of its children were already evaluated (through another parent) plays with those children's
//! C already updated. This module replays the same traversal (lexicographic order of histories,
//! memoised by node) so that the iterates, and OpenSpiel's regression values, agree to
//! round-off. The clean algorithm is [`super::MirrorDescent::new`].

use crate::error::{Error, Result};
use crate::rl::exact::forward;
use crate::rl::game::{Game, Kernel};
use crate::rl::policy::Policy;
use std::borrow::Cow;

/// The traversal of one population in one iteration.
struct Dfs<'a> {
    s_n: usize,
    a_n: usize,
    n: usize,
    lr: f64,
    post: &'a [usize],
    /// A (s, a) whose kernel row is the noise of post-decision state y.
    noise_of: &'a [usize],
    kernels: &'a [Cow<'a, Kernel>],
    rewards: &'a [Vec<f64>],
    terminal: &'a [f64],
    cumulative: &'a mut [f64],
    dec: Vec<Option<f64>>,
    post_value: Vec<Option<f64>>,
    /// False in the first iteration, where OpenSpiel still plays its uniform policy object.
    live: bool,
}

impl Dfs<'_> {
    fn decision(&mut self, t: usize, s: usize) -> f64 {
        if let Some(v) = self.dec[t * self.s_n + s] {
            return v;
        }
        let v = if t == self.n {
            self.terminal[s]
        } else {
            let (a_n, r) = (self.a_n, self.rewards[t][s * self.a_n]);
            // Fixed before the children are visited, from C as it stands now.
            let mut probs = vec![1.0 / a_n as f64; a_n];
            if self.live {
                let logits: Vec<f64> = (0..a_n)
                    .map(|a| r + self.cumulative[t * self.s_n + self.post[s * a_n + a]])
                    .collect();
                super::softmax(&logits, 1.0, &mut probs);
            }
            let mut acc = 0.0;
            for (a, &p) in probs.iter().enumerate() {
                acc += p * self.post_node(t, self.post[s * a_n + a]);
            }
            r + acc
        };
        self.dec[t * self.s_n + s] = Some(v);
        v
    }

    fn post_node(&mut self, t: usize, y: usize) -> f64 {
        let i = t * self.s_n + y;
        if let Some(v) = self.post_value[i] {
            return v;
        }
        let row = self.noise_of[y];
        let (s, a) = (row / self.a_n, row % self.a_n);
        let (next, prob) = {
            let (j, p) = self.kernels[t].row(s, a);
            (j.to_vec(), p.to_vec())
        };
        let mut v = 0.0;
        for (&z, &p) in next.iter().zip(&prob) {
            v += p * self.decision(t + 1, z as usize);
        }
        self.post_value[i] = Some(v);
        self.cumulative[i] += self.lr * v;
        v
    }
}

/// One OpenSpiel mirror-descent iteration; `cumulative[k]` is C on population k's
/// post-decision nodes (N × S).
pub(super) fn step(
    game: &dyn Game,
    lr: f64,
    policy: &mut Policy,
    cumulative: &mut [Vec<f64>],
    first: bool,
) -> Result<()> {
    let flow = forward(game, policy)?;
    let n = game.horizon();
    for (k, c) in cumulative.iter_mut().enumerate() {
        let (s_n, a_n) = (game.states(k), game.actions(k));
        let mut post = vec![0; s_n * a_n];
        let mut noise_of = vec![usize::MAX; s_n];
        for (r, p) in post.iter_mut().enumerate() {
            *p = game.post_decision(k, r / a_n, r % a_n).ok_or_else(|| {
                Error::invalid(
                    "mirror_descent.openspiel",
                    format!("{} has no post-decision states", game.name()),
                )
            })?;
            if noise_of[*p] == usize::MAX {
                noise_of[*p] = r;
            }
        }
        let kernels = (0..n)
            .map(|t| game.transitions(k, t, &flow))
            .collect::<Result<Vec<_>>>()?;
        let mut rewards = vec![vec![0.0; s_n * a_n]; n];
        for (t, r) in rewards.iter_mut().enumerate() {
            game.rewards(k, t, &flow, r)?;
            if r.chunks(a_n).any(|row| row.iter().any(|v| *v != row[0])) {
                return Err(Error::invalid(
                    "mirror_descent.openspiel",
                    "OpenSpiel's traversal charges rewards at decision nodes: they must not \
                     depend on the action",
                ));
            }
        }
        let mut terminal = vec![0.0; s_n];
        game.terminal(k, &flow, &mut terminal)?;
        let mut dfs = Dfs {
            s_n,
            a_n,
            n,
            lr,
            post: &post,
            noise_of: &noise_of,
            kernels: &kernels,
            rewards: &rewards,
            terminal: &terminal,
            cumulative: c,
            dec: vec![None; (n + 1) * s_n],
            post_value: vec![None; n * s_n],
            live: !first,
        };
        let mu0 = game.initial(k);
        for s in (0..s_n).filter(|&s| mu0[s] > 0.0) {
            dfs.decision(0, s);
        }
        let pop = &mut policy.pops[k];
        let mut logits = vec![0.0; a_n];
        for t in 0..n {
            for s in 0..s_n {
                for (a, l) in logits.iter_mut().enumerate() {
                    *l = c[t * s_n + post[s * a_n + a]];
                }
                super::softmax(&logits, 1.0, pop.row_mut(t, s));
            }
        }
    }
    Ok(())
}
