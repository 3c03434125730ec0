//! The game of a PDE problem (RL.md §2) against the PDE solution, on three grids with h, the
//! game step Δt_RL (from the CFL bound) and the velocity spacing refined together.

mod common;
mod rl_common;

use mfg::problem::coupling::Linear;
use mfg::problem::hamiltonian::{Anisotropic, Quadratic};
use mfg::rl::metrics::{cross_validate, pde_layout, pde_reference, policy_reference};
use mfg::rl::pde::{
    flow_from_solution, policy_from_solution, softmax_policy, PdeGame, PdeGameSettings, VelocitySet,
};
use mfg::rl::{
    assess, run, Algorithm, Assessment, FictitiousPlay, Flow, Game, MirrorDescent, Policy,
};
use mfg::{Axis, Boundary, Grid, Population, Problem, Solution, SolverSettings, TimeGrid};
use rl_common::{game_1d, mirror_descent_to, order, problem_1d};

const LEVELS: [usize; 3] = [10, 20, 40];

fn solved(n: usize) -> (Problem, Solution) {
    let p = problem_1d(n);
    let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
    (p, sol)
}

/// The PDE flow on the game's times and the assessment of the PDE policy.
fn pde_flow_and_policy(game: &PdeGame, sol: &Solution) -> (Flow, Assessment) {
    let flow = flow_from_solution(game, sol).unwrap();
    (
        flow,
        assess(game, &policy_from_solution(game, sol).unwrap()).unwrap(),
    )
}

/// Mirror descent reaches the equilibrium of each game to 1e-6 of the value scale, and fictitious
/// play gets within its O(1/n) rate; both equilibrium flows are as close to the PDE flow as the
/// PDE's own policy run through the game's chain (the chain's discretisation error), and that
/// distance shrinks at first order.
#[test]
fn game_equilibria_approach_the_pde_solution() {
    let (mut e_md, mut e_fp, mut e_pde) = (vec![], vec![], vec![]);
    for &n in &LEVELS {
        let (p, sol) = solved(n);
        let game = game_1d(&p, n);
        let (pde_flow, pde) = pde_flow_and_policy(&game, &sol);
        e_pde.push(pde.flow.sup_l1(&pde_flow));

        let (md, rel, it) = mirror_descent_to(&game, 1e-6, 800);
        println!("n = {n}: OMD relative exploitability {rel:.2e} after {it} iterations");
        assert!(rel < 1e-6, "n = {n}: {rel:.3e} after {it} iterations");
        e_md.push(assess(&game, md.policy()).unwrap().flow.sup_l1(&pde_flow));

        let mut fp = FictitiousPlay::new(&game);
        let rec = run(&game, &mut fp, 100).unwrap();
        let scale = pde
            .populations
            .iter()
            .map(|p| p.value.abs())
            .fold(0.0, f64::max);
        let (e50, e100) = (rec[49].exploitability, rec[99].exploitability);
        println!("n = {n}: FP exploitability {e50:.3e} (50), {e100:.3e} (100), scale {scale:.3}");
        assert!(e100 < 0.03 * scale, "n = {n}: FP {e100:.3e}");
        assert!(
            e100 < 0.6 * e50,
            "n = {n}: FP is not O(1/n): {e50:.3e}, {e100:.3e}"
        );
        e_fp.push(assess(&game, fp.policy()).unwrap().flow.sup_l1(&pde_flow));
    }
    println!("sup_t L1 to the PDE flow: OMD {e_md:?}, FP {e_fp:?}, PDE policy {e_pde:?}");
    for l in 0..3 {
        assert!(
            e_md[l] < 1.2 * e_pde[l],
            "level {l}: {} vs {}",
            e_md[l],
            e_pde[l]
        );
        assert!(
            e_fp[l] < 1.2 * e_pde[l],
            "level {l}: {} vs {}",
            e_fp[l],
            e_pde[l]
        );
    }
    for l in 0..2 {
        assert!(order(e_md[l], e_md[l + 1]) > 0.9, "OMD order {l}");
        assert!(order(e_fp[l], e_fp[l + 1]) > 0.9, "FP order {l}");
    }
}

/// The PDE policy (α* mapped onto the velocities) is an approximate equilibrium of the game
/// whose exploitability vanishes under refinement; standing still is far from one.
#[test]
fn pde_policy_exploitability_vanishes_standing_still_does_not() {
    let mut expl = vec![];
    for &n in &LEVELS {
        let (p, sol) = solved(n);
        let game = game_1d(&p, n);
        let (pde_flow, pde) = pde_flow_and_policy(&game, &sol);
        let zero = game.actions(0) / 2;
        let still = Policy::deterministic(&game, |_, _, _| zero).unwrap();
        let st = assess(&game, &still).unwrap();
        println!(
            "n = {n}: PDE policy {:.3e} (flow {:.3e}); standing still {:.3e} (flow {:.3e})",
            pde.total(),
            pde.flow.sup_l1(&pde_flow),
            st.total(),
            st.flow.sup_l1(&pde_flow)
        );
        assert!(st.total() > 0.3 && st.flow.sup_l1(&pde_flow) > 0.8);
        assert!(st.total() > 10.0 * pde.total());
        expl.push(pde.total());
    }
    assert!(
        order(expl[0], expl[1]) > 1.5 && order(expl[1], expl[2]) > 1.5,
        "{expl:?}"
    );
}

/// Cross-validation of the OMD equilibrium: against the game's own equilibrium it is the
/// equilibrium (distances at the learning error), against the PDE the distances are the
/// discretisation error; the PDE policy reproduces α* as its mean velocity exactly.
#[test]
fn cross_validation_separates_learning_and_discretisation_errors() {
    let n = 20;
    let p = problem_1d(n);
    let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
    let game = game_1d(&p, n);
    let layout = pde_layout(&game);
    let reference = pde_reference(&game, &sol).unwrap();
    let (md, _, _) = mirror_descent_to(&game, 1e-7, 800);
    let eq = policy_reference(&game, md.policy(), &layout).unwrap();
    let cv = cross_validate(&game, md.policy(), &layout, &reference, Some(&eq)).unwrap();
    let own = cv.against_equilibrium.unwrap();
    for (k, m) in cv.against_reference.iter().enumerate() {
        println!(
            "population {k}: vs PDE {m:?}\n              vs equilibrium {:?}",
            own[k]
        );
        assert!(own[k].density_l1 == 0.0 && own[k].value_error == 0.0);
        assert!(m.density_l1 > 1e-2 && m.density_l1 < 0.1);
        assert!(m.w1.unwrap() > 0.0 && m.w1.unwrap() < m.density_l1);
        assert!(m.value_error.abs() < 0.05 && m.control_error.unwrap() < 0.5);
    }
    let pde_policy = policy_from_solution(&game, &sol).unwrap();
    let cv = cross_validate(&game, &pde_policy, &layout, &reference, None).unwrap();
    for m in &cv.against_reference {
        assert!(m.control_error.unwrap() < 1e-12, "{m:?}");
    }
    // The softmax of the best-response Q-values against the PDE flow: a valid profile whose
    // exploitability approaches the greedy one's as τ → 0.
    let flow = flow_from_solution(&game, &sol).unwrap();
    let soft = softmax_policy(&game, &flow, 1e-6).unwrap();
    assert!(
        assess(&game, &soft).unwrap().total()
            < assess(&game, &Policy::uniform(&game)).unwrap().total()
    );
}

fn problem_2d(n: usize) -> Problem {
    let ax = Axis::new(0.0, 1.0, n, Boundary::Reflecting);
    let grid = Grid::new_2d(ax, ax).unwrap();
    let east = Population::builder("east", 0.3, Quadratic::new(1.0))
        .initial(|x| (-((x[0] - 0.3).powi(2) + (x[1] - 0.5).powi(2)) / 0.02).exp())
        .terminal(|x| (x[0] - 0.8).powi(2) + (x[1] - 0.3).powi(2));
    let truck = Population::builder("truck", 0.3, Anisotropic::new(vec![1.0, 4.0]))
        .initial(|x| (-((x[0] - 0.7).powi(2) + (x[1] - 0.5).powi(2)) / 0.02).exp())
        .terminal(|x| (x[0] - 0.2).powi(2));
    let c = Linear::from_rows(&[vec![0.2, 0.1], vec![0.1, 0.2]]);
    Problem::builder(grid, TimeGrid::new(0.3, 10).unwrap())
        .population(east)
        .population(truck)
        .coupling(c)
        .build()
        .unwrap()
}

/// Every population has its own action set: the truck has no lateral moves (3 velocities
/// against 9), its chain only diffuses in y, and the tools and algorithms run on the mixed sizes.
#[test]
fn populations_have_their_own_action_sets() {
    let p = problem_2d(8);
    let truck = VelocitySet::product(vec![-1.0, 0.0, 1.0], vec![0.0]).unwrap();
    let settings = PdeGameSettings {
        velocities: vec![VelocitySet::grid_2d(1.0, 3).unwrap(), truck],
        steps: None,
        cfl: 1.0,
    };
    let game = PdeGame::new(&p, &settings).unwrap();
    assert_eq!((game.actions(0), game.actions(1)), (9, 3));
    let flow = Flow::zeros(&game);
    let ker = game.transitions(1, 0, &flow).unwrap();
    // Away from the walls the truck's y moves are pure diffusion: up and down equally likely.
    for s in (0..game.states(1)).filter(|s| (1..7).contains(&(s / 8)) && (1..7).contains(&(s % 8)))
    {
        for a in 0..3 {
            let (next, prob) = ker.row(s, a);
            let p = |j: usize| {
                next.iter()
                    .position(|&n| n as usize == j)
                    .map_or(0.0, |i| prob[i])
            };
            assert!(
                p(s + 8) > 0.0 && (p(s + 8) - p(s - 8)).abs() < 1e-15,
                "state {s}"
            );
        }
    }
    let mut md = MirrorDescent::new(&game, 10.0 / game.dt()).unwrap();
    let rec = run(&game, &mut md, 60).unwrap();
    let first = assess(&game, &Policy::uniform(&game)).unwrap().total();
    let last = rec.last().unwrap().exploitability;
    println!("2D mixed action sets: exploitability {first:.3e} → {last:.3e}");
    assert!(last < 1e-2 * first);
    // The PDE policy projects the truck's α* on its x velocities alone.
    let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
    let pol = policy_from_solution(&game, &sol).unwrap();
    assert_eq!(pol.population(1).actions(), 3);
    assert!(assess(&game, &pol).unwrap().total().is_finite());
}

#[test]
fn cfl_violation_and_bad_velocity_sets_are_errors() {
    let p = problem_1d(20);
    let mut settings = PdeGameSettings::uniform(2, rl_common::velocities_1d(20));
    settings.steps = Some(5);
    let e = PdeGame::new(&p, &settings).unwrap_err().to_string();
    assert!(
        e.contains("CFL") && e.contains("population[0]") && e.contains("steps"),
        "{e}"
    );
    settings.steps = None;
    settings.velocities.pop();
    let e = PdeGame::new(&p, &settings).unwrap_err().to_string();
    assert!(e.contains("1 velocity sets for 2 populations"), "{e}");
    assert!(VelocitySet::product(vec![1.0, 0.0], vec![0.0]).is_err());
    assert!(VelocitySet::product(vec![f64::NAN], vec![0.0]).is_err());
    assert!(VelocitySet::list(vec![]).is_err());
    let mut bad = PdeGameSettings::uniform(2, rl_common::velocities_1d(20));
    bad.cfl = 1.5;
    assert!(PdeGame::new(&p, &bad).is_err());
    assert!(softmax_policy(&game_1d(&p, 20), &Flow::zeros(&game_1d(&p, 20)), 0.0).is_err());
}

/// A coupling that is not finite where the density vanishes (the explicit chain keeps part of
/// this compactly supported density at zero for some steps): the exact tools name the
/// non-finite reward instead of returning a non-finite exploitability.
#[test]
fn non_finite_costs_are_reported() {
    #[derive(Debug)]
    struct InverseDensity;
    impl mfg::problem::Coupling for InverseDensity {
        fn cost(&self, k: usize, _x: &[f64], m: &[f64]) -> f64 {
            1.0 / m[k]
        }
        fn derivative(&self, k: usize, j: usize, _x: &[f64], m: &[f64]) -> f64 {
            if k == j {
                -1.0 / (m[k] * m[k])
            } else {
                0.0
            }
        }
        fn describe(&self) -> String {
            "1/m".into()
        }
        fn validate(&self, _k: usize) -> mfg::Result<()> {
            Ok(())
        }
    }
    let grid = Grid::new_1d(0.0, 1.0, 20, Boundary::Reflecting).unwrap();
    let a = Population::builder("a", 0.2, Quadratic::new(1.0))
        .initial(|x| (0.1 - (x[0] - 0.3).powi(2)).max(0.0));
    let p = Problem::builder(grid, TimeGrid::new(0.2, 10).unwrap())
        .population(a)
        .coupling(InverseDensity)
        .build()
        .unwrap();
    let settings = PdeGameSettings::uniform(1, VelocitySet::grid_1d(1.0, 5).unwrap());
    let game = PdeGame::new(&p, &settings).unwrap();
    let e = assess(&game, &Policy::uniform(&game))
        .unwrap_err()
        .to_string();
    assert!(e.contains("rewards") && e.contains("must be finite"), "{e}");
}

/// A masked problem (a region and an obstacle) with drifts: the game's chain is the scheme's,
/// so no probability ever reaches a removed state, whatever the policy, and the PDE policy
/// is nearly an equilibrium of the game.
#[test]
fn masked_problem_with_drift_keeps_the_game_on_the_live_states() {
    use common::models::crossing::mixed;
    use common::models::geometry::masked_2d_drift;
    let p = masked_2d_drift(10, 6, 8, mixed(), true);
    let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
    let vel = VelocitySet::grid_2d(2.0, 5).unwrap();
    let game = PdeGame::new(&p, &PdeGameSettings::uniform(2, vel)).unwrap();
    let uniform = assess(&game, &Policy::uniform(&game)).unwrap();
    let (_, pde) = pde_flow_and_policy(&game, &sol);
    for a in [&uniform, &pde] {
        for k in 0..2 {
            let live = p.population(k).live();
            for t in 0..a.flow.levels() {
                let mu = a.flow.at(k, t);
                let total: f64 = mu.iter().sum();
                assert!(
                    (total - 1.0).abs() < 1e-12,
                    "population {k}, t {t}: {total}"
                );
                for (s, &v) in mu.iter().enumerate() {
                    assert!(
                        live[s] || v == 0.0,
                        "population {k}, t {t}: μ = {v} on removed {s}"
                    );
                }
            }
        }
    }
    let scale = pde
        .populations
        .iter()
        .map(|q| q.value.abs())
        .fold(0.0, f64::max);
    assert!(
        pde.total() < uniform.total(),
        "{} vs {}",
        pde.total(),
        uniform.total()
    );
    assert!(
        pde.total() < 0.2 * scale,
        "PDE policy exploitability {} (scale {scale})",
        pde.total()
    );
}
