//! The model-free learners of `mfg::rl::learn`: the N-agent simulator against the exact flow,
//! its reproducibility, tabular Q-learning against the exact exploitability, the N-player
//! deviation gain, and bad input.

mod common;
mod rl_common;

use mfg::rl::benchmarks::CrowdModelling;
use mfg::rl::learn::{
    deviation_gains, fit_rate, Behaviour, DeviationSettings, Environment, Epsilon, FnPolicy,
    MeanFieldQLearning, QFictitiousPlay, QSettings, SimSettings, Simulation, Simulator,
};
use mfg::rl::{
    assess, forward, run, run_to_tolerance, tabulate, Algorithm, FictitiousPlay, Game,
    MirrorDescent, Policy,
};
use rl_common::{game_1d, problem_1d};

/// On the ring of crowd_modelling: move towards the centre 5 with probability 0.8, otherwise
/// uniformly (so the flow is far from uniform and the test sees where agents go).
fn towards_centre(game: &dyn Game) -> Policy {
    let (n, s_n) = (game.horizon(), game.states(0));
    let mut table = Vec::with_capacity(n * s_n * 3);
    for _ in 0..n {
        for s in 0..s_n {
            let dir = match s.cmp(&5) {
                std::cmp::Ordering::Less => 2,
                std::cmp::Ordering::Equal => 1,
                std::cmp::Ordering::Greater => 0,
            };
            for a in 0..3 {
                table.push(if a == dir { 0.8 + 0.2 / 3.0 } else { 0.2 / 3.0 });
            }
        }
    }
    Policy::from_tables(game, vec![table]).unwrap()
}

fn bits(sim: &Simulation) -> Vec<u64> {
    let mut v: Vec<u64> = sim.flow.population(0).iter().map(|x| x.to_bits()).collect();
    for r in &sim.returns {
        v.push(r.mean.to_bits());
        v.push(r.std_error.to_bits());
    }
    v
}

/// With N = 20000 agents the empirical flow is the exact one up to the Monte-Carlo error:
/// E‖μ̂_t − μ_t‖_1 ≤ Σ_s √(μ(s)(1 − μ(s))/N) ≤ √(S/N) = 0.022 for S = 10, so 3√(S/N) bounds
/// every level with a wide margin; the mean return is the mean-field value up to 4 standard
/// errors plus the O(1/N) bias of −log μ̂ (≤ N_steps · S/N = 0.005 here).
#[test]
fn large_population_follows_the_exact_flow() {
    let game = CrowdModelling::default();
    let pi = towards_centre(&game);
    let exact = forward(&game, &pi).unwrap();
    let n = 20_000;
    let sim = Simulator::new(&game, SimSettings::uniform(&game, n, 7)).unwrap();
    let out = sim.run((&pi).into()).unwrap();
    let s_n = game.states(0) as f64;
    let tol = 3.0 * (s_n / n as f64).sqrt();
    let mut worst: f64 = 0.0;
    for t in 0..=game.horizon() {
        let l1: f64 = out
            .flow
            .at(0, t)
            .iter()
            .zip(exact.at(0, t))
            .map(|(a, b)| (a - b).abs())
            .sum();
        worst = worst.max(l1);
    }
    let value = assess(&game, &pi).unwrap().populations[0].value;
    let r = out.returns[0];
    println!(
        "sup_t L1 {worst:.4} (tolerance {tol:.4}); mean return {:.4} ± {:.4}, exact {value:.4}; \
         centre mass at N: {:.3}",
        r.mean,
        r.std_error,
        exact.at(0, game.horizon())[5]
    );
    assert!(worst < tol, "sup_t L1 {worst} ≥ {tol}");
    // The flow is far from uniform: a simulator ignoring the policy would fail the bound.
    let uniform_gap: f64 = exact
        .at(0, game.horizon())
        .iter()
        .map(|m| (m - 0.1).abs())
        .sum();
    assert!(uniform_gap > 5.0 * tol, "{uniform_gap}");
    let bias = game.horizon() as f64 * s_n / n as f64;
    assert!(
        (r.mean - value).abs() < 4.0 * r.std_error + bias,
        "{} vs {value}",
        r.mean
    );
    assert_eq!(out.agent_steps, (n * game.horizon()) as u64);
}

/// Same seed: the same numbers bit for bit, with 1 and 2 threads and several chunks; another
/// seed: other numbers.
#[test]
fn simulations_are_reproducible_across_seeds_and_threads() {
    let game = CrowdModelling::default();
    let pi = towards_centre(&game);
    let mut settings = SimSettings::uniform(&game, 5000, 11);
    settings.chunk = 700;
    let sim = Simulator::new(&game, settings.clone()).unwrap();
    let in_pool = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| sim.run((&pi).into()).unwrap())
    };
    let (a, b, c) = (in_pool(1), in_pool(2), in_pool(2));
    assert_eq!(bits(&a), bits(&b));
    assert_eq!(bits(&b), bits(&c));
    let again = Simulator::new(&game, settings.clone()).unwrap();
    assert_eq!(bits(&a), bits(&again.run((&pi).into()).unwrap()));
    settings.seed = 12;
    let other = Simulator::new(&game, settings).unwrap();
    assert_ne!(bits(&a), bits(&other.run((&pi).into()).unwrap()));
}

/// Agents acting by a closure that reads the policy's table draw exactly the numbers of the
/// table itself; a master policy reading μ_t (away from crowded neighbours, towards the centre)
/// gives, with 20000 agents, the closed-loop flow of `exact::tabulate` up to 3√(S/N) in L1 (the
/// policy is smooth in μ, so μ̂'s error moves the rows by O(√(S/N)) only).
#[test]
fn policy_functions_drive_the_agents() {
    let game = CrowdModelling::default();
    let pi = towards_centre(&game);
    let sim = Simulator::new(&game, SimSettings::uniform(&game, 3000, 5)).unwrap();
    let table = sim.run((&pi).into()).unwrap();
    let copy = FnPolicy(
        |k: usize, t: usize, s: usize, _: &[&[f64]], out: &mut [f64]| {
            out.copy_from_slice(pi.population(k).row(t, s))
        },
    );
    let by_fn = sim
        .run_episode(Behaviour::Function(&copy), Environment::Empirical, 0)
        .unwrap();
    assert_eq!(bits(&table), bits(&by_fn));

    let master = FnPolicy(
        |_: usize, _: usize, s: usize, mu: &[&[f64]], out: &mut [f64]| {
            for (a, o) in out.iter_mut().enumerate() {
                let next = (s + 10 + a - 1) % 10;
                let towards = (next as i64 - 5).abs() < (s as i64 - 5).abs();
                *o = ((if towards { 1.5 } else { 0.0 }) - 8.0 * mu[0][next]).exp();
            }
            let z: f64 = out.iter().sum();
            out.iter_mut().for_each(|o| *o /= z);
        },
    );
    let (_, closed_loop) = tabulate(&game, &master).unwrap();
    let n = 20_000;
    let sim = Simulator::new(&game, SimSettings::uniform(&game, n, 9)).unwrap();
    let out = sim
        .run_episode(Behaviour::Function(&master), Environment::Empirical, 0)
        .unwrap();
    let tol = 3.0 * (10.0 / n as f64).sqrt();
    let gap = out.flow.sup_l1(&closed_loop);
    let spread: f64 = closed_loop.at(0, 10).iter().map(|m| (m - 0.1).abs()).sum();
    println!("master policy: sup_t L1 {gap:.4} (tolerance {tol:.4}); L1 from uniform {spread:.3}");
    assert!(gap < tol, "{gap}");
    assert!(spread > 3.0 * tol, "{spread}");
}

/// Populations of their own sizes on the K = 2 PDE game (20000 and 8000 agents, one moving
/// right at the largest velocity, the other left): each empirical flow is the exact one within
/// 3√(S/N_k) in L1 at every level.
#[test]
fn populations_have_their_own_sizes() {
    let p = problem_1d(10);
    let game = game_1d(&p, 10);
    let last = game.actions(0) - 1;
    let pi = Policy::deterministic(&game, |k, _, _| if k == 0 { last } else { 0 }).unwrap();
    let exact = forward(&game, &pi).unwrap();
    let agents = vec![20_000, 8000];
    let sim = Simulator::new(
        &game,
        SimSettings {
            agents: agents.clone(),
            seed: 3,
            chunk: 1024,
        },
    )
    .unwrap();
    let out = sim.run((&pi).into()).unwrap();
    let value = assess(&game, &pi).unwrap();
    assert_eq!(out.agent_steps, (28_000 * game.horizon()) as u64);
    for (k, &n_k) in agents.iter().enumerate() {
        let tol = 3.0 * (game.states(k) as f64 / n_k as f64).sqrt();
        let gap = out.flow.sup_l1_population(&exact, k);
        let moved: f64 = exact
            .at(k, game.horizon())
            .iter()
            .zip(exact.at(k, 0))
            .map(|(a, b)| (a - b).abs())
            .sum();
        println!(
            "population {k}: {n_k} agents, sup_t L1 {gap:.4} (tolerance {tol:.4}), the flow moves \
             {moved:.3}; return {:.4} ± {:.4} (mean field {:.4})",
            out.returns[k].mean, out.returns[k].std_error, value.populations[k].value
        );
        assert!(gap < tol, "population {k}: {gap}");
        assert!(moved > 3.0 * tol);
    }
}

fn crowd_q_settings(seed: u64) -> QSettings {
    QSettings {
        agents: 100,
        episodes: 40,
        learning_rate: 1.0,
        lr_exponent: 0.6,
        epsilon: Epsilon {
            start: 1.0,
            end: 0.1,
            decay: 20,
        },
        replay_capacity: 50_000,
        batch: 2000,
        seed,
    }
}

/// The exploitability of the uniform profile and the value scale max_k |μ0·V^π_0| of
/// `policy`'s assessment, the yardsticks of the thresholds below.
fn uniform_exploitability(game: &dyn Game) -> f64 {
    assess(game, &Policy::uniform(game)).unwrap().total()
}

/// Fictitious play with Q-learnt best responses on OpenSpiel's crowd_modelling: 40 outer
/// iterations of 40 episodes × 100 agents (2.4·10⁶ agent-steps in all, well under a second).
/// Exact fictitious play itself is at 0.18 after 40 iterations (the uniform profile at 2.81, the
/// value scale 27): the learnt profile must be below a tenth of the uniform profile's
/// exploitability and 1% of the value scale, for two seeds; its learning curve must come
/// down from its first iteration's level (4.1, where the average is one best response).
#[test]
fn q_fictitious_play_learns_crowd_modelling() {
    let game = CrowdModelling::default();
    let uniform = uniform_exploitability(&game);
    for seed in [1, 2] {
        let fpq = QFictitiousPlay {
            q: crowd_q_settings(seed),
            iterations: 40,
            flow_agents: 2000,
        };
        let l = fpq.learn(&game).unwrap();
        let last = l.records.last().unwrap();
        let a = assess(&game, &l.policy).unwrap();
        println!(
            "seed {seed}: exploitability {:.4} after {} agent-steps ({:.2} s); uniform {uniform:.4}, \
             value scale {:.2}",
            last.exploitability,
            last.samples,
            last.seconds,
            a.value_scale()
        );
        assert_eq!(l.records.len(), 40);
        assert!((a.total() - last.exploitability).abs() < 1e-12);
        assert!(l.records.windows(2).all(|w| w[1].samples > w[0].samples));
        assert!(
            last.exploitability < 0.1 * uniform,
            "{}",
            last.exploitability
        );
        assert!(last.exploitability < 0.01 * a.value_scale());
        assert!(last.exploitability < 0.1 * l.records[0].exploitability);
    }
}

/// Mean-field Q-learning with two time scales (Q at α_n = 1/(1+n)^0.6, μ̂ at ρ_e = 0.5/(1+e)),
/// learnt policy softmax(Q/0.3): 2000 episodes × 100 agents. The softmax at a fixed temperature
/// leaves a floor (the greedy policy of a mixed equilibrium is itself exploitable), so the
/// threshold is looser than fictitious play's: 15% of the uniform profile's exploitability.
#[test]
fn two_time_scale_q_learning_learns_crowd_modelling() {
    let game = CrowdModelling::default();
    let uniform = uniform_exploitability(&game);
    let mfq = MeanFieldQLearning {
        q: QSettings {
            episodes: 2000,
            epsilon: Epsilon {
                start: 1.0,
                end: 0.1,
                decay: 500,
            },
            ..crowd_q_settings(5)
        },
        flow_rate: 0.5,
        flow_exponent: 1.0,
        evaluate_every: 250,
        temperature: Some(0.3),
    };
    let l = mfq.learn(&game).unwrap();
    let curve: Vec<String> = l
        .records
        .iter()
        .map(|r| format!("{:.3}", r.exploitability))
        .collect();
    let last = l.records.last().unwrap();
    println!(
        "exploitability every 250 episodes {curve:?}; {} agent-steps, {:.2} s",
        last.samples, last.seconds
    );
    assert_eq!(l.records.len(), 8);
    assert!(
        last.exploitability < 0.15 * uniform,
        "{}",
        last.exploitability
    );
    // The flow estimate is the learnt policy's own flow up to the learning error.
    let own = forward(&game, &l.policy).unwrap();
    println!("sup_t L1(μ̂, μ^π) = {:.4}", own.sup_l1(&l.flow));
    assert!(own.sup_l1(&l.flow) < 0.1);
}

/// Fictitious play with Q-learnt best responses on the 1D K = 2 PDE game (10 nodes, 9
/// velocities, 15 steps): 20 iterations of 60 episodes × 200 agents. Exact fictitious play is at
/// 0.065 after 20 iterations (uniform: 1.50, value scale 1.51); the learnt profile must be
/// within twice that and below a tenth of the uniform profile's exploitability.
#[test]
fn q_fictitious_play_learns_the_pde_game() {
    let p = problem_1d(10);
    let game = game_1d(&p, 10);
    let uniform = uniform_exploitability(&game);
    let mut fp = FictitiousPlay::new(&game);
    let exact = run(&game, &mut fp, 20).unwrap()[19].exploitability;
    let fpq = QFictitiousPlay {
        q: QSettings {
            agents: 200,
            episodes: 60,
            epsilon: Epsilon {
                start: 1.0,
                end: 0.1,
                decay: 30,
            },
            batch: 20_000,
            replay_capacity: 200_000,
            ..crowd_q_settings(9)
        },
        iterations: 20,
        flow_agents: 2000,
    };
    let l = fpq.learn(&game).unwrap();
    let last = l.records.last().unwrap();
    println!(
        "PDE game: exploitability {:.4} (per population {:?}) after {} agent-steps ({:.2} s); \
         exact FP {exact:.4}, uniform {uniform:.4}",
        last.exploitability, last.per_population, last.samples, last.seconds
    );
    assert_eq!(last.per_population.len(), 2);
    assert!(
        last.exploitability < 2.0 * exact,
        "{} vs {exact}",
        last.exploitability
    );
    assert!(last.exploitability < 0.1 * uniform);
}

/// The N-player gain of a deviator playing the mean-field best response against the mean-field
/// equilibrium of crowd_modelling (monotone: −log μ), by mirror descent to 10⁻⁶ of the value
/// scale. The gain is negative here (the best response concentrates where the others are and
/// pays its own share 1/N of the congestion −log μ̂) and its size must fall significantly from
/// N = 10 to 40 to 160 (each drop larger than the two 95% half-widths, R = 10000), towards the
/// mean-field limit (the exploitability, ≈ 2·10⁻⁵), at least as fast as 1/√N.
#[test]
fn deviation_gain_vanishes_as_n_grows() {
    let game = CrowdModelling::default();
    let mut md = MirrorDescent::new(&game, 1.0).unwrap();
    let r = run_to_tolerance(&game, &mut md, 1e-6, 50, 2000).unwrap();
    assert!(r.reached);
    let gains = deviation_gains(
        &game,
        md.policy(),
        &DeviationSettings {
            sizes: vec![10, 40, 160],
            repetitions: 10_000,
            seed: 1,
        },
    )
    .unwrap();
    for g in &gains {
        println!(
            "N = {:>3}: gain {:+.4} ± {:.4} (95%), mean-field limit {:.1e}",
            g.agents, g.mean, g.half_width, g.mean_field
        );
    }
    let fit = fit_rate(&gains, 0).unwrap();
    println!("{fit}");
    assert_eq!(gains.len(), 3);
    assert!(gains[0].mean_field < 1e-4);
    for w in gains.windows(2) {
        let drop = w[0].mean.abs() - w[1].mean.abs();
        assert!(
            drop > w[0].half_width + w[1].half_width,
            "N = {} → {}: |gain| {:.4} → {:.4} (± {:.4}, {:.4})",
            w[0].agents,
            w[1].agents,
            w[0].mean.abs(),
            w[1].mean.abs(),
            w[0].half_width,
            w[1].half_width
        );
    }
    assert!(fit.slope < -0.5, "{fit}");
}

fn message(e: mfg::Error) -> String {
    e.to_string()
}

/// Zero agents, a negative learning rate, ε outside [0, 1], zero episodes and a policy for
/// another action set are refused with the field named.
#[test]
fn bad_input_is_refused_with_the_field_named() {
    let game = CrowdModelling::default();
    let mut s = SimSettings::uniform(&game, 100, 1);
    s.agents[0] = 0;
    let e = message(Simulator::new(&game, s).err().unwrap());
    assert!(
        e.contains("simulator.agents[0]") && e.contains("0 agents"),
        "{e}"
    );
    let e = message(
        Simulator::new(
            &game,
            SimSettings {
                agents: vec![5, 5],
                seed: 1,
                chunk: 64,
            },
        )
        .err()
        .unwrap(),
    );
    assert!(e.contains("simulator.agents"), "{e}");

    let fpq = |q: QSettings| QFictitiousPlay {
        q,
        iterations: 2,
        flow_agents: 10,
    };
    let cases: [(QSettings, &str); 6] = [
        (
            QSettings {
                agents: 0,
                ..QSettings::new(1)
            },
            "qlearning.agents",
        ),
        (
            QSettings {
                learning_rate: -0.1,
                ..QSettings::new(1)
            },
            "qlearning.learning_rate",
        ),
        (
            QSettings {
                learning_rate: 0.0,
                ..QSettings::new(1)
            },
            "qlearning.learning_rate",
        ),
        (
            QSettings {
                epsilon: Epsilon {
                    start: 1.5,
                    end: 0.1,
                    decay: 3,
                },
                ..QSettings::new(1)
            },
            "qlearning.epsilon.start",
        ),
        (
            QSettings {
                episodes: 0,
                ..QSettings::new(1)
            },
            "qlearning.episodes",
        ),
        (
            QSettings {
                batch: 0,
                ..QSettings::new(1)
            },
            "qlearning.batch",
        ),
    ];
    for (q, field) in cases {
        let e = message(fpq(q.clone()).learn(&game).unwrap_err());
        assert!(e.contains(field), "{field}: {e}");
        let mfq = MeanFieldQLearning {
            q,
            flow_rate: 0.1,
            flow_exponent: 1.0,
            evaluate_every: 1,
            temperature: None,
        };
        let e = message(mfq.learn(&game).unwrap_err());
        assert!(e.contains(field), "{field}: {e}");
    }

    // A policy for the same grid and horizon with 5 velocities instead of 9.
    use mfg::rl::pde::{PdeGame, PdeGameSettings, VelocitySet};
    let p = problem_1d(10);
    let nine = game_1d(&p, 10);
    let five = PdeGame::new(
        &p,
        &PdeGameSettings::uniform(2, VelocitySet::grid_1d(2.0, 5).unwrap()),
    )
    .unwrap();
    assert_eq!(
        (five.horizon(), five.states(0)),
        (nine.horizon(), nine.states(0))
    );
    let wrong = Policy::uniform(&five);
    let sim = Simulator::new(&nine, SimSettings::uniform(&nine, 10, 1)).unwrap();
    let e = message(sim.run((&wrong).into()).unwrap_err());
    assert!(
        e.contains("policy.population[0]") && e.contains("shape"),
        "{e}"
    );
    let d = DeviationSettings {
        sizes: vec![10],
        repetitions: 10,
        seed: 1,
    };
    let e = message(deviation_gains(&nine, &wrong, &d).unwrap_err());
    assert!(e.contains("policy.population[0]"), "{e}");
    let e = message(
        deviation_gains(
            &nine,
            &Policy::uniform(&nine),
            &DeviationSettings {
                sizes: vec![0],
                ..d
            },
        )
        .unwrap_err(),
    );
    assert!(e.contains("deviation.sizes[0]"), "{e}");
}
