//! OpenSpiel's crowd-modelling games ("beach bar", Perrin et al. 2020, §4.2) on a ring of
//! `size` states (1D) or a `size` × `size` torus (2D), horizon N, μ0 uniform.
//!
//! 1D: moves {−1, 0, +1} (neutral 0), then noise {−1, 0, +1} with probability 1/3 each,
//! r_t = 1 − |x − c|/c − |a_{t−1}|/size − log(μ_t(x) + ε), c = size/2.
//! 2D: moves (0,−1), (−1,0), (0,0), (1,0), (0,1) (OpenSpiel's order; neutral the third), then
//! noise one of the same five displacements with probability 1/5 each,
//! r_t = (1 − (2/size)|x − c|) + (1 − (2/size)|y − c|) − (|dx| + |dy|)_{t−1}/size
//! − log(μ_t(x, y) + ε); positional distances are not taken on the torus.
//! Reward timing and the charge of the previous move: see [`super`].

use super::{first_history_moves, ActionCost, LOG_EPS};
use crate::error::{Error, Result};
use crate::rl::game::{Game, Kernel};
use crate::rl::policy::Flow;
use std::borrow::Cow;

/// OpenSpiel's `crowd_modelling` (1D) or `crowd_modelling_2d`.
#[derive(Debug, Clone)]
pub struct CrowdModelling {
    dim: usize,
    size: usize,
    horizon: usize,
    action_cost: ActionCost,
    moves: Vec<[i64; 2]>,
    /// Post-decision state of (s, a), row-major S × A.
    post: Vec<usize>,
    kernel: Kernel,
    /// Previous move of the first history reaching (t, s) (the OpenSpiel charge).
    first_moves: Vec<usize>,
}

const MOVES_1D: [[i64; 2]; 3] = [[-1, 0], [0, 0], [1, 0]];
const MOVES_2D: [[i64; 2]; 5] = [[0, -1], [-1, 0], [0, 0], [1, 0], [0, 1]];

impl Default for CrowdModelling {
    /// OpenSpiel's defaults: 1D, 10 states, horizon 10, OpenSpiel's move charge.
    fn default() -> Self {
        Self::new(10, 10, ActionCost::OpenSpiel).expect("valid defaults")
    }
}

impl CrowdModelling {
    /// The 1D game on a ring of `size` states.
    pub fn new(size: usize, horizon: usize, action_cost: ActionCost) -> Result<Self> {
        Self::build(1, size, horizon, action_cost)
    }

    /// The 2D game on a `size` × `size` torus.
    pub fn new_2d(size: usize, horizon: usize, action_cost: ActionCost) -> Result<Self> {
        Self::build(2, size, horizon, action_cost)
    }

    /// OpenSpiel's 2D defaults: 10 × 10, horizon 10.
    pub fn default_2d() -> Self {
        Self::new_2d(10, 10, ActionCost::OpenSpiel).expect("valid defaults")
    }

    fn build(dim: usize, size: usize, horizon: usize, action_cost: ActionCost) -> Result<Self> {
        if size < 2 {
            return Err(Error::invalid(
                "crowd_modelling.size",
                format!("{size}: at least 2 positions per axis"),
            ));
        }
        if horizon == 0 {
            return Err(Error::invalid(
                "crowd_modelling.horizon",
                "at least one step",
            ));
        }
        let moves: Vec<[i64; 2]> = if dim == 1 {
            MOVES_1D.to_vec()
        } else {
            MOVES_2D.to_vec()
        };
        let states = size.pow(dim as u32);
        let n = size as i64;
        let shift = |s: usize, d: [i64; 2]| -> usize {
            let (x, y) = ((s % size) as i64, (s / size) as i64);
            let (x, y) = ((x + d[0]).rem_euclid(n), (y + d[1]).rem_euclid(n));
            (x + y * n) as usize
        };
        let p = 1.0 / moves.len() as f64;
        let kernel =
            Kernel::from_rows(states, moves.len(), "crowd_modelling.kernel", |s, a, r| {
                let y = shift(s, moves[a]);
                r.extend(moves.iter().map(|&d| (shift(y, d), p)));
            })?;
        let post = (0..states * moves.len())
            .map(|r| shift(r / moves.len(), moves[r % moves.len()]))
            .collect();
        // OpenSpiel's initial chance outcome i is the state x = i % size, y = i / size.
        let initial: Vec<usize> = (0..states).collect();
        let neutral = moves
            .iter()
            .position(|m| *m == [0, 0])
            .expect("a neutral move");
        let first_moves = first_history_moves(
            states,
            moves.len(),
            horizon,
            neutral,
            &initial,
            |s, a| shift(s, moves[a]),
            |y| moves.iter().map(|&d| shift(y, d)).collect(),
        );
        Ok(CrowdModelling {
            dim,
            size,
            horizon,
            action_cost,
            moves,
            post,
            kernel,
            first_moves,
        })
    }

    /// Positional reward of state s.
    fn position_reward(&self, s: usize) -> f64 {
        let c = (self.size / 2) as i64;
        let (x, y) = ((s % self.size) as i64, (s / self.size) as i64);
        if self.dim == 1 {
            1.0 - (x - c).abs() as f64 / c as f64
        } else {
            let w = 2.0 / self.size as f64;
            (1.0 - w * (x - c).abs() as f64) + (1.0 - w * (y - c).abs() as f64)
        }
    }

    fn move_cost(&self, a: usize) -> f64 {
        let m = self.moves[a];
        -((m[0].abs() + m[1].abs()) as f64) / self.size as f64
    }
}

impl Game for CrowdModelling {
    fn populations(&self) -> usize {
        1
    }
    fn states(&self, _k: usize) -> usize {
        self.kernel.states()
    }
    fn actions(&self, _k: usize) -> usize {
        self.moves.len()
    }
    fn horizon(&self) -> usize {
        self.horizon
    }
    fn initial(&self, _k: usize) -> Cow<'_, [f64]> {
        let s = self.kernel.states();
        Cow::Owned(vec![1.0 / s as f64; s])
    }
    fn transitions(&self, _k: usize, _t: usize, _flow: &Flow) -> Result<Cow<'_, Kernel>> {
        Ok(Cow::Borrowed(&self.kernel))
    }
    fn rewards(&self, _k: usize, t: usize, flow: &Flow, out: &mut [f64]) -> Result<()> {
        let a_n = self.moves.len();
        let mu = flow.at(0, t);
        for (s, row) in out.chunks_mut(a_n).enumerate() {
            // OpenSpiel's summation order: position + move + congestion.
            let (pos, crowd) = (self.position_reward(s), -(mu[s] + LOG_EPS).ln());
            let first = self.first_moves[t * self.kernel.states() + s];
            for (a, r) in row.iter_mut().enumerate() {
                let charged = match self.action_cost {
                    ActionCost::OpenSpiel => first,
                    ActionCost::Taken => a,
                };
                *r = pos + self.move_cost(charged) + crowd;
            }
        }
        Ok(())
    }
    fn terminal(&self, _k: usize, _flow: &Flow, out: &mut [f64]) -> Result<()> {
        out.fill(0.0);
        Ok(())
    }
    fn post_decision(&self, _k: usize, s: usize, a: usize) -> Option<usize> {
        Some(self.post[s * self.moves.len() + a])
    }
    fn name(&self) -> String {
        if self.dim == 1 {
            "crowd_modelling".into()
        } else {
            "crowd_modelling_2d".into()
        }
    }
}
