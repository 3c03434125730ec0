//! OpenSpiel's `predator_prey` (Pérolat et al. 2021, "Scaling up mean field games with online
//! mirror descent", §5.4): K populations on a `size` × `size` square (positions clamped at the
//! edges), moves (0,0), (1,0), (0,1), (0,−1), (−1,0), then noise: no displacement with
//! probability 1 − p, each of the four moves with probability p/4 (p = 0.8: 1/5 each).
//! Reward at the decision node of time t (no terminal reward, no move cost):
//! r_k(z) = −c log(μ^k_t(z) + ε) + Σ_j R_kj μ^j_t(z).
//!
//! Defaults (K = 3): R = [[0, −1, 1], [1, 0, −1], [−1, 1, 0]], point-mass starts at (0, 0),
//! (4, 0), (0, 4), horizon 10, c = 1. (OpenSpiel reads μ_0 at t = 0 with the wrong layout of
//! its flat initial distribution; that only shifts the t = 0 reward of each population by a
//! constant — its start is a point mass — so NashConv and all policies are unaffected. Here μ_0
//! is read correctly.)

use super::LOG_EPS;
use crate::error::{Error, Result};
use crate::rl::game::{Game, Kernel};
use crate::rl::policy::Flow;
use std::borrow::Cow;

const MOVES: [[i64; 2]; 5] = [[0, 0], [1, 0], [0, 1], [0, -1], [-1, 0]];

/// Multi-population predator-prey on a square.
#[derive(Debug, Clone)]
pub struct PredatorPrey {
    size: usize,
    horizon: usize,
    reward: Vec<Vec<f64>>,
    congestion: f64,
    initial: Vec<Vec<f64>>,
    /// Post-decision state of (s, a), row-major S × A.
    post: Vec<usize>,
    kernel: Kernel,
}

impl Default for PredatorPrey {
    fn default() -> Self {
        let r = vec![
            vec![0.0, -1.0, 1.0],
            vec![1.0, 0.0, -1.0],
            vec![-1.0, 1.0, 0.0],
        ];
        Self::new(5, 10, r, &[[0, 0], [4, 0], [0, 4]], 0.8, 1.0).expect("valid defaults")
    }
}

impl PredatorPrey {
    /// K = `reward.len()` populations with point-mass starts `starts[k]` = (x, y), noise
    /// probability `noise` and congestion coefficient `congestion`.
    pub fn new(
        size: usize,
        horizon: usize,
        reward: Vec<Vec<f64>>,
        starts: &[[usize; 2]],
        noise: f64,
        congestion: f64,
    ) -> Result<Self> {
        let k = reward.len();
        if k == 0
            || reward
                .iter()
                .any(|r| r.len() != k || r.iter().any(|v| !v.is_finite()))
        {
            return Err(Error::invalid(
                "predator_prey.reward",
                "the reward matrix must be a non-empty square matrix of finite numbers",
            ));
        }
        if starts.len() != k {
            return Err(Error::invalid(
                "predator_prey.starts",
                format!("{} starts for {k} populations", starts.len()),
            ));
        }
        if size < 2 || horizon == 0 {
            return Err(Error::invalid(
                "predator_prey",
                format!("size {size}, horizon {horizon}: need size ≥ 2 and horizon ≥ 1"),
            ));
        }
        if !(0.0..=1.0).contains(&noise) {
            return Err(Error::invalid(
                "predator_prey.noise",
                format!("{noise}: a probability in [0, 1]"),
            ));
        }
        let states = size * size;
        let mut initial = Vec::with_capacity(k);
        for (p, st) in starts.iter().enumerate() {
            if st[0] >= size || st[1] >= size {
                return Err(Error::invalid(
                    format!("predator_prey.starts[{p}]"),
                    format!("{st:?} lies outside the {size} × {size} square"),
                ));
            }
            let mut m = vec![0.0; states];
            m[st[0] + st[1] * size] = 1.0;
            initial.push(m);
        }
        let n = size as i64 - 1;
        let shift = |s: usize, d: [i64; 2]| -> usize {
            let x = ((s % size) as i64 + d[0]).clamp(0, n);
            let y = ((s / size) as i64 + d[1]).clamp(0, n);
            (x + y * (n + 1)) as usize
        };
        let probs = [
            1.0 - noise,
            noise / 4.0,
            noise / 4.0,
            noise / 4.0,
            noise / 4.0,
        ];
        let kernel = Kernel::from_rows(states, MOVES.len(), "predator_prey.kernel", |s, a, r| {
            let y = shift(s, MOVES[a]);
            r.extend(MOVES.iter().zip(probs).map(|(&d, p)| (shift(y, d), p)));
        })?;
        let post = (0..states * MOVES.len())
            .map(|r| shift(r / MOVES.len(), MOVES[r % MOVES.len()]))
            .collect();
        Ok(PredatorPrey {
            post,
            size,
            horizon,
            reward,
            congestion,
            initial,
            kernel,
        })
    }

    /// Side of the square.
    pub fn size(&self) -> usize {
        self.size
    }
}

impl Game for PredatorPrey {
    fn populations(&self) -> usize {
        self.reward.len()
    }
    fn states(&self, _k: usize) -> usize {
        self.kernel.states()
    }
    fn actions(&self, _k: usize) -> usize {
        MOVES.len()
    }
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn initial(&self, k: usize) -> Cow<'_, [f64]> {
        Cow::Borrowed(&self.initial[k])
    }
    fn transitions(&self, _k: usize, _t: usize, _flow: &Flow) -> Result<Cow<'_, Kernel>> {
        Ok(Cow::Borrowed(&self.kernel))
    }
    fn rewards(&self, k: usize, t: usize, flow: &Flow, out: &mut [f64]) -> Result<()> {
        let a_n = MOVES.len();
        let mus: Vec<&[f64]> = (0..self.populations()).map(|j| flow.at(j, t)).collect();
        for (z, row) in out.chunks_mut(a_n).enumerate() {
            let inter: f64 = (0..mus.len()).map(|j| self.reward[k][j] * mus[j][z]).sum();
            row.fill(-self.congestion * (mus[k][z] + LOG_EPS).ln() + inter);
        }
        Ok(())
    }
    fn terminal(&self, _k: usize, _flow: &Flow, out: &mut [f64]) -> Result<()> {
        out.fill(0.0);
        Ok(())
    }
    fn post_decision(&self, _k: usize, s: usize, a: usize) -> Option<usize> {
        Some(self.post[s * MOVES.len() + a])
    }
    fn name(&self) -> String {
        "predator_prey".into()
    }
}
