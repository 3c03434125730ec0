//! Exact tools and algorithms on a K = 2 game solved by hand, and bad input.
//!
//! The game: both populations start in state 0 and make one move, action a taking them to
//! state a ∈ {0 = left, 1 = right}; the terminal reward is g^k(s, μ_1) = b_k(s) − Σ_j C_kj
//! μ^j_1(s) with b_1 = (0, 1), b_2 = (0.5, 0), C = [[2, 1], [1, 2]] (monotone). Population 3's
//! variant below adds a third, dominated action. With p_k the fraction of k moving right,
//! indifference b_k(1) − b_k(0) = Σ_j C_kj (2 p_j − 1) gives p_1 = 11/12, p_2 = 1/6.

use mfg::rl::game::{Game, Kernel};
use mfg::rl::{
    assess, run, Algorithm, BoltzmannIteration, DampedFixedPoint, FictitiousPlay, Flow,
    MirrorDescent, Policy,
};
use std::borrow::Cow;

const B: [[f64; 2]; 2] = [[0.0, 1.0], [0.5, 0.0]];
const C: [[f64; 2]; 2] = [[2.0, 1.0], [1.0, 2.0]];
const P_STAR: [f64; 2] = [11.0 / 12.0, 1.0 / 6.0];

struct TwoRoads {
    kernels: Vec<Kernel>,
}

impl TwoRoads {
    /// `actions[k]`: 2, or 3 (a third action: move left and pay 1 more).
    fn new(actions: [usize; 2]) -> Self {
        let kernels = actions
            .iter()
            .map(|&a_n| {
                Kernel::from_rows(2, a_n, "two_roads", |_, a, r| {
                    r.push((a.min(1) * (a % 2), 1.0))
                })
                .unwrap()
            })
            .collect();
        TwoRoads { kernels }
    }
}

impl Game for TwoRoads {
    fn populations(&self) -> usize {
        2
    }
    fn states(&self, _k: usize) -> usize {
        2
    }
    fn actions(&self, k: usize) -> usize {
        self.kernels[k].actions()
    }
    fn horizon(&self) -> usize {
        1
    }
    fn initial(&self, _k: usize) -> Cow<'_, [f64]> {
        Cow::Owned(vec![1.0, 0.0])
    }
    fn transitions(&self, k: usize, _t: usize, _f: &Flow) -> mfg::Result<Cow<'_, Kernel>> {
        Ok(Cow::Borrowed(&self.kernels[k]))
    }
    fn rewards(&self, k: usize, _t: usize, _f: &Flow, out: &mut [f64]) -> mfg::Result<()> {
        let a_n = self.actions(k);
        for (i, r) in out.iter_mut().enumerate() {
            *r = if i % a_n == 2 { -1.0 } else { 0.0 };
        }
        Ok(())
    }
    fn terminal(&self, k: usize, flow: &Flow, out: &mut [f64]) -> mfg::Result<()> {
        for (s, o) in out.iter_mut().enumerate() {
            *o = B[k][s] - (0..2).map(|j| C[k][j] * flow.at(j, 1)[s]).sum::<f64>();
        }
        Ok(())
    }
    fn name(&self) -> String {
        "two roads".into()
    }
}

/// The profile moving right with probabilities p (from both states).
fn profile(game: &TwoRoads, p: [f64; 2]) -> Policy {
    let tables = (0..2)
        .map(|k| {
            let a_n = game.actions(k);
            let mut row = vec![0.0; a_n];
            row[0] = 1.0 - p[k];
            row[1] = p[k];
            [row.clone(), row].concat()
        })
        .collect();
    Policy::from_tables(game, tables).unwrap()
}

fn right(policy: &Policy, k: usize) -> f64 {
    policy.population(k).row(0, 0)[1]
}

/// |p_k − p*_k| < tol for both populations.
fn assert_near(policy: &Policy, tol: f64) {
    for (k, p) in P_STAR.iter().enumerate() {
        let got = right(policy, k);
        assert!((got - p).abs() < tol, "population {k}: {got} vs {p}");
    }
}

#[test]
fn hand_equilibrium_has_zero_exploitability() {
    let g = TwoRoads::new([2, 2]);
    let a = assess(&g, &profile(&g, P_STAR)).unwrap();
    assert!(a.total().abs() < 1e-14, "{}", a.total());
    assert!(a.per_population().iter().all(|e| e.abs() < 1e-14));
}

#[test]
fn off_equilibrium_exploitability_equals_hand_computation() {
    // p = (1/2, 1/2): μ_1 = (1/2, 1/2) for both. Population 1: right pays 1 − 1.5 = −0.5,
    // left −1.5, so V^π = −1, V^BR = −0.5: 0.5. Population 2: right −1.5, left −1,
    // V^π = −1.25, V^BR = −1: 0.25.
    let g = TwoRoads::new([2, 2]);
    let a = assess(&g, &profile(&g, [0.5, 0.5])).unwrap();
    let e = a.per_population();
    assert!(
        (e[0] - 0.5).abs() < 1e-15 && (e[1] - 0.25).abs() < 1e-15,
        "{e:?}"
    );
    assert!((a.total() - 0.75).abs() < 1e-15);
    assert!((a.populations[0].value + 1.0).abs() < 1e-15);
    assert!((a.populations[1].best_value + 1.0).abs() < 1e-15);
}

#[test]
fn exact_algorithms_find_the_hand_equilibrium() {
    for actions in [[2, 2], [2, 3]] {
        let g = TwoRoads::new(actions);
        let mut md = MirrorDescent::new(&g, 1.0).unwrap();
        let rec = run(&g, &mut md, 400).unwrap();
        assert!(
            rec.last().unwrap().exploitability < 1e-12,
            "{:?}",
            rec.last()
        );
        assert_near(md.policy(), 1e-9);
        // Fictitious play: O(1/n).
        let mut fp = FictitiousPlay::new(&g);
        let rec = run(&g, &mut fp, 1000).unwrap();
        let e = rec.last().unwrap().exploitability;
        assert!(e < 5e-3, "{e}");
        assert_near(fp.policy(), 5e-3);
        // Boltzmann iteration finds the softmax (quantal response) equilibrium, O(τ) away
        // (τ = 0.01: 1.0e-2 for population 1, measured).
        let mut bz = BoltzmannIteration::new(&g, 1e-2, 0.02).unwrap();
        run(&g, &mut bz, 2000).unwrap();
        assert_near(bz.policy(), 2e-2);
        // The damped fixed point with a smoothed best response, likewise.
        let mut fx = DampedFixedPoint::with_temperature(&g, 0.02, 1e-2).unwrap();
        run(&g, &mut fx, 2000).unwrap();
        assert_near(fx.policy(), 2e-2);
    }
}

#[test]
fn bad_policies_are_errors() {
    let g = TwoRoads::new([2, 3]);
    let e = Policy::from_tables(&g, vec![vec![0.5; 4], vec![0.5; 4]]).unwrap_err();
    assert!(e.to_string().contains("population[1]"), "{e}");
    let e =
        Policy::from_tables(&g, vec![vec![0.7, 0.7, 0.5, 0.5], vec![1.0 / 3.0; 6]]).unwrap_err();
    assert!(e.to_string().contains("sums to 1.4"), "{e}");
    let e =
        Policy::from_tables(&g, vec![vec![1.5, -0.5, 0.5, 0.5], vec![1.0 / 3.0; 6]]).unwrap_err();
    assert!(e.to_string().contains("-0.5"), "{e}");
    let e = Policy::from_tables(&g, vec![vec![f64::NAN, 0.5, 0.5, 0.5], vec![1.0 / 3.0; 6]])
        .unwrap_err();
    assert!(e.to_string().contains("NaN"), "{e}");
    // A profile of another game.
    let other = TwoRoads::new([2, 2]);
    let e = assess(&g, &Policy::uniform(&other)).unwrap_err();
    assert!(e.to_string().contains("shape"), "{e}");
    let e = Policy::deterministic(&g, |_, _, _| 2).unwrap_err();
    assert!(e.to_string().contains("2 actions"), "{e}");
}

#[test]
fn bad_kernels_and_parameters_are_errors() {
    let e = Kernel::from_rows(2, 1, "game.kernel", |_, _, r| {
        r.push((0, 0.5));
        r.push((1, 0.4));
    })
    .unwrap_err();
    assert!(
        e.to_string().contains("game.kernel") && e.to_string().contains("sum to 0.9"),
        "{e}"
    );
    let g = TwoRoads::new([2, 2]);
    assert!(MirrorDescent::new(&g, 0.0).is_err());
    assert!(MirrorDescent::new(&g, f64::NAN).is_err());
    assert!(DampedFixedPoint::new(&g, 1.5).is_err());
    assert!(BoltzmannIteration::new(&g, -1.0, 0.5).is_err());
    assert!(FictitiousPlay::with_learning_rate(&g, 0.0).is_err());
    // MirrorDescent::openspiel needs post-decision states.
    let mut md = MirrorDescent::openspiel(&g, 0.1).unwrap();
    let e = md.step(&g).unwrap_err();
    assert!(e.to_string().contains("post-decision"), "{e}");
}

/// π(right | s, t, μ_t) = 1/4 + μ^k_t(0)/2: a policy function of the mean field, tabulated in
/// closed loop (at t = 0 everyone is in state 0, so p = 3/4), whose flow is the forward flow
/// of its table.
#[test]
fn policy_functions_are_tabulated_in_closed_loop() {
    struct Crowded;
    impl mfg::rl::PolicyFunction for Crowded {
        fn probabilities(&self, k: usize, _t: usize, _s: usize, mu: &[&[f64]], out: &mut [f64]) {
            out.fill(0.0);
            out[1] = 0.25 + 0.5 * mu[k][0];
            out[0] = 1.0 - out[1];
        }
    }
    let g = TwoRoads::new([2, 3]);
    let (policy, flow) = mfg::rl::tabulate(&g, &Crowded).unwrap();
    assert_eq!(policy.population(1).row(0, 0), &[0.25, 0.75, 0.0]);
    assert_eq!(mfg::rl::forward(&g, &policy).unwrap(), flow);
    assert!((flow.at(0, 1)[1] - 0.75).abs() < 1e-15);
}
