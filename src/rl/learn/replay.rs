//! Per-type replay buffers and Q-tables: population k keeps a ring of the last C transitions
//! (t, s, a, r, s') and a table Q^k_t(s, a) updated by
//! Q_t(s,a) ← Q_t(s,a) + α_0/(1 + n_t(s,a))^ω · (r + γ max_{a'} Q_{t+1}(s', a') − Q_t(s,a))
//! (no bootstrap at t = N−1, whose r carries γ g(s')), n_t(s,a) counting the entry's updates;
//! the learnt policy is argmax_a Q_t(s, ·) (lowest index among ties) or softmax(Q_t(s, ·)/τ).

use super::sampling::mix;
use crate::rl::algorithms::softmax;
use crate::rl::game::Game;
use crate::rl::policy::Policy;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// One transition of an agent.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Transition {
    /// Step t.
    pub t: u32,
    /// State s.
    pub s: u32,
    /// Action a.
    pub a: u32,
    /// Reward (with γ g(s') at t = N−1).
    pub r: f64,
    /// Next state s'.
    pub next: u32,
}

/// A fixed-capacity ring buffer of transitions (one per population).
#[derive(Debug, Clone)]
pub struct ReplayBuffer {
    data: Vec<Transition>,
    capacity: usize,
    head: usize,
}

impl ReplayBuffer {
    /// An empty buffer holding at most `capacity` transitions.
    pub fn new(capacity: usize) -> Self {
        ReplayBuffer {
            data: Vec::with_capacity(capacity.min(1 << 20)),
            capacity,
            head: 0,
        }
    }

    /// Adds a transition, overwriting the oldest when full.
    pub fn push(&mut self, tr: Transition) {
        if self.data.len() < self.capacity {
            self.data.push(tr);
        } else {
            self.data[self.head] = tr;
            self.head = (self.head + 1) % self.capacity;
        }
    }

    /// Transitions held.
    pub fn len(&self) -> usize {
        self.data.len()
    }

    /// Whether it holds none.
    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// A uniformly drawn transition (the buffer must not be empty).
    pub fn sample(&self, rng: &mut impl Rng) -> Transition {
        self.data[rng.random_range(0..self.data.len())]
    }
}

/// Per-population Q-tables, visit counts and replay buffers.
#[derive(Debug, Clone)]
pub struct QTables {
    /// Q^k_t(s, a), N × S × A per population.
    pub q: Vec<Vec<f64>>,
    visits: Vec<Vec<u32>>,
    pub(crate) buffers: Vec<ReplayBuffer>,
    shape: Vec<(usize, usize)>,
    horizon: usize,
    gamma: f64,
}

impl QTables {
    pub(crate) fn new(game: &dyn Game, capacity: usize) -> Self {
        let n = game.horizon();
        let shape: Vec<(usize, usize)> = (0..game.populations())
            .map(|k| (game.states(k), game.actions(k)))
            .collect();
        QTables {
            q: shape.iter().map(|(s, a)| vec![0.0; n * s * a]).collect(),
            visits: shape.iter().map(|(s, a)| vec![0; n * s * a]).collect(),
            buffers: shape.iter().map(|_| ReplayBuffer::new(capacity)).collect(),
            shape,
            horizon: n,
            gamma: game.discount(),
        }
    }

    /// Population k's replay buffer.
    pub fn buffer(&self, k: usize) -> &ReplayBuffer {
        &self.buffers[k]
    }

    /// `batch` replayed updates per population (drawn with the stream of (key, k), applied in
    /// decreasing t so that values travel back within one batch).
    pub(crate) fn replay(&mut self, batch: usize, lr: f64, omega: f64, key: u64) {
        let (n, gamma) = (self.horizon, self.gamma);
        self.q
            .par_iter_mut()
            .zip(self.visits.par_iter_mut())
            .zip(self.buffers.par_iter())
            .zip(self.shape.par_iter())
            .enumerate()
            .for_each(|(k, (((q, visits), buf), &(s_n, a_n)))| {
                if buf.is_empty() {
                    return;
                }
                let mut rng = ChaCha8Rng::seed_from_u64(mix(key ^ mix(k as u64 + 1)));
                let mut draws: Vec<Transition> = (0..batch).map(|_| buf.sample(&mut rng)).collect();
                draws.sort_by_key(|tr| std::cmp::Reverse(tr.t));
                for tr in draws {
                    let (t, s, a) = (tr.t as usize, tr.s as usize, tr.a as usize);
                    let mut target = tr.r;
                    if t + 1 < n {
                        let b = ((t + 1) * s_n + tr.next as usize) * a_n;
                        let best = q[b..b + a_n]
                            .iter()
                            .cloned()
                            .fold(f64::NEG_INFINITY, f64::max);
                        target += gamma * best;
                    }
                    let i = (t * s_n + s) * a_n + a;
                    let alpha = lr / (1.0 + visits[i] as f64).powf(omega);
                    visits[i] = visits[i].saturating_add(1);
                    q[i] += alpha * (target - q[i]);
                }
            });
    }

    /// The greedy profile argmax_a Q (lowest index among ties), or softmax(Q/τ).
    pub fn policy(&self, game: &dyn Game, temperature: Option<f64>) -> Policy {
        let mut p = Policy::uniform(game);
        for (k, pop) in p.pops.iter_mut().enumerate() {
            let (s_n, a_n) = self.shape[k];
            for t in 0..self.horizon {
                for s in 0..s_n {
                    let b = (t * s_n + s) * a_n;
                    let qs = &self.q[k][b..b + a_n];
                    let row = pop.row_mut(t, s);
                    match temperature {
                        Some(tau) => softmax(qs, tau, row),
                        None => {
                            let mut arg = 0;
                            for a in 1..a_n {
                                if qs[a] > qs[arg] {
                                    arg = a;
                                }
                            }
                            row.fill(0.0);
                            row[arg] = 1.0;
                        }
                    }
                }
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ring_buffer_keeps_the_newest() {
        let mut b = ReplayBuffer::new(3);
        for i in 0..5u32 {
            b.push(Transition {
                t: i,
                s: 0,
                a: 0,
                r: 0.0,
                next: 0,
            });
        }
        assert_eq!(b.len(), 3);
        let mut ts: Vec<u32> = b.data.iter().map(|x| x.t).collect();
        ts.sort();
        assert_eq!(ts, vec![2, 3, 4]);
    }
}
