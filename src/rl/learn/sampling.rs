//! Random streams and sampling of the N-agent simulator: the ChaCha8 stream of chunk c of
//! population k under a key (stream id (k << 40) ⊕ c), SplitMix64 to derive keys from
//! (seed, episode), and the draw of an index j from weights p with one uniform u by the
//! cumulative search Σ_{i<j} p_i ≤ u < Σ_{i≤j} p_i (no allocation); the policy rows of one
//! step and the histograms μ̂^k_t = (1/N_k) #{i : X^{k,i}_t = s} from per-chunk counts.

use super::simulator::Behaviour;
use crate::error::Result;
use crate::rl::game::{Game, Kernel};
use crate::rl::policy::{Flow, PopPolicy};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// SplitMix64 finaliser, to turn (seed, episode) into a well-mixed key.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The stream of chunk c of population k under `seed`.
pub(crate) fn chunk_rng(seed: u64, k: usize, c: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(((k as u64) << 40) ^ c as u64);
    rng
}

/// Index j with cum(j−1) ≤ u < cum(j) for the weights `p` (linear cumulative search; rounding
/// falls back to the last positive weight).
#[inline]
pub(crate) fn pick(p: &[f64], u: f64) -> usize {
    let mut c = 0.0;
    let mut last = 0;
    for (j, &w) in p.iter().enumerate() {
        if w > 0.0 {
            c += w;
            last = j;
            if u < c {
                return j;
            }
        }
    }
    last
}

#[inline]
pub(crate) fn step_agent(
    ker: &Kernel,
    row: &[f64],
    s: usize,
    rng: &mut ChaCha8Rng,
) -> (usize, usize) {
    let a = pick(row, rng.random::<f64>());
    let (next, prob) = ker.row(s, a);
    let u = rng.random::<f64>();
    (a, next[pick(prob, u)] as usize)
}

/// One population's policy at one step: a table row per state.
pub(crate) enum StepPolicy<'a> {
    /// Rows of a tabular policy at step t.
    Rows(&'a PopPolicy, usize),
    /// S × A rows evaluated from a policy function.
    Table(Vec<f64>, usize),
}

impl StepPolicy<'_> {
    #[inline]
    pub(crate) fn row(&self, s: usize) -> &[f64] {
        match self {
            StepPolicy::Rows(p, t) => p.row(*t, s),
            StepPolicy::Table(v, a_n) => &v[s * a_n..(s + 1) * a_n],
        }
    }
}

/// Level t of population k from per-chunk counts (integer sums: order-free).
pub(crate) fn write_histogram<'a>(
    flow: &mut Flow,
    k: usize,
    t: usize,
    counts: impl Iterator<Item = &'a [u64]>,
    agents: usize,
) {
    let level = flow.at_mut(k, t);
    let mut total = vec![0u64; level.len()];
    for c in counts {
        for (a, b) in total.iter_mut().zip(c) {
            *a += b;
        }
    }
    for (m, &c) in level.iter_mut().zip(&total) {
        *m = c as f64 / agents as f64;
    }
}

/// Population k's policy rows at step t.
pub(crate) fn step_policy<'a>(
    game: &dyn Game,
    behaviour: Behaviour<'a>,
    k: usize,
    t: usize,
    mu: &[&[f64]],
) -> Result<StepPolicy<'a>> {
    match behaviour {
        Behaviour::Table(p) => Ok(StepPolicy::Rows(p.population(k), t)),
        Behaviour::Function(f) => {
            let (s_n, a_n) = (game.states(k), game.actions(k));
            let mut v = vec![0.0; s_n * a_n];
            for (s, row) in v.chunks_mut(a_n).enumerate() {
                f.probabilities(k, t, s, mu, row);
                crate::rl::game::check_distribution(
                    row,
                    a_n,
                    &format!("policy function (population {k}, t = {t}, state {s})"),
                )?;
            }
            Ok(StepPolicy::Table(v, a_n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cumulative_search_skips_zero_weights() {
        let p = [0.0, 0.25, 0.0, 0.75];
        assert_eq!(pick(&p, 0.0), 1);
        assert_eq!(pick(&p, 0.2499), 1);
        assert_eq!(pick(&p, 0.25), 3);
        // Rounding: u beyond the sum falls back to the last positive weight.
        assert_eq!(pick(&[0.5, 0.5 - 1e-17, 0.0], 0.999_999_999_999_999_9), 1);
    }

    #[test]
    fn streams_differ_by_population_and_chunk() {
        let draw = |k, c| chunk_rng(3, k, c).random::<u64>();
        assert_ne!(draw(0, 0), draw(0, 1));
        assert_ne!(draw(0, 0), draw(1, 0));
        assert_eq!(draw(1, 2), draw(1, 2));
    }
}
