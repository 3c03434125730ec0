//! Refinement study of the game of a PDE problem (RL.md §2): a 1D K = 2 problem with a
//! monotone linear coupling, solved by the PDE solver and, as a discrete game, by mirror
//! descent and fictitious play, on three grids with h, Δt_RL (from the CFL bound) and the
//! velocity grid refined together. Prints, per level, the exploitability reached, the distance
//! of the game's equilibrium flow to the PDE flow and the exploitability of the PDE policy.
//!
//! ```text
//! cargo run --release --example rl_refinement
//! ```

use mfg::problem::coupling::Linear;
use mfg::problem::hamiltonian::Quadratic;
use mfg::rl::pde::{flow_from_solution, policy_from_solution, PdeGame, PdeGameSettings, VelocitySet};
use mfg::rl::{assess, run, FictitiousPlay, Game, MirrorDescent, Policy};
use mfg::{Boundary, Grid, Population, Problem, SolverSettings, TimeGrid};
use std::time::Instant;

fn problem(n: usize) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, n, Boundary::Reflecting).unwrap();
    let a = Population::new(&grid, "a", 0.3, Quadratic::new(1.0))
        .with_initial(&grid, |x| (-(x[0] - 0.3).powi(2) / 0.02).exp())
        .with_terminal(&grid, |x| 1.5 * (x[0] - 0.8).powi(2));
    let b = Population::new(&grid, "b", 0.25, Quadratic::new(2.0))
        .with_initial(&grid, |x| (-(x[0] - 0.7).powi(2) / 0.02).exp())
        .with_terminal(&grid, |x| 1.5 * (x[0] - 0.2).powi(2));
    let c = Linear::from_rows(&[vec![0.3, 0.2], vec![0.2, 0.3]]);
    Problem::new(grid, TimeGrid::new(0.5, n).unwrap(), vec![a, b], Box::new(c)).unwrap()
}

fn main() {
    let iters: usize = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(200);
    let lr: f64 = std::env::args().nth(2).and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let levels: Vec<usize> = std::env::var("LEVELS").map(|v| v.split(",").map(|x| x.parse().unwrap()).collect()).unwrap_or(vec![20, 40, 80]);
    for &n in &levels {
        let p = problem(n);
        let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
        let na: usize = std::env::var("NA").ok().and_then(|v| v.parse().ok()).unwrap_or(8) * n / 10 + 1;
        let vs = VelocitySet::grid_1d(2.0, na).unwrap();
        let game = PdeGame::new(&p, &PdeGameSettings::uniform(2, vs)).unwrap();
        let pde_flow = flow_from_solution(&game, &sol).unwrap();
        let pde_pol = policy_from_solution(&game, &sol).unwrap();
        let a_pde = assess(&game, &pde_pol).unwrap();
        let still = Policy::deterministic(&game, |_, _, _| na / 2).unwrap();
        let a_still = assess(&game, &still).unwrap();
        let scale = a_pde.populations.iter().map(|p| p.value.abs()).fold(0.0, f64::max);
        println!("n={n} steps={} actions={na} scale={scale:.4} pde-policy expl={:.3e} flowerr={:.3e} still expl={:.3e} flowerr={:.3e}",
            game.horizon(), a_pde.total(), a_pde.flow.sup_l1(&pde_flow), a_still.total(), a_still.flow.sup_l1(&pde_flow));
        let t0 = Instant::now();
        let mut md = MirrorDescent::new(&game, lr / game.dt()).unwrap();
        let rec = run(&game, &mut md, iters).unwrap();
        let a = assess(&game, md_policy(&md)).unwrap();
        println!("  OMD lr={lr} {iters} it: expl {:.3e} (rel {:.3e}) flowerr {:.3e} [{:.2}s]  hist {:?}", a.total(), a.total()/scale, a.flow.sup_l1(&pde_flow), t0.elapsed().as_secs_f64(),
            rec.iter().step_by((iters/8).max(1)).map(|r| format!("{:.2e}", r.exploitability)).collect::<Vec<_>>());
        if let Ok(th) = std::env::var("FIX") {
            let th: f64 = th.parse().unwrap();
            let mut fx = mfg::rl::DampedFixedPoint::new(&game, th).unwrap();
            let rec = run(&game, &mut fx, iters).unwrap();
            println!("  FIX θ={th}: {:?}", rec.iter().step_by((iters/10).max(1)).map(|r| format!("{:.2e}", r.exploitability)).collect::<Vec<_>>());
            println!("  FIX last {:.3e} flowerr {:.3e}", rec.last().unwrap().exploitability, assess(&game, mfg::rl::Algorithm::policy(&fx)).unwrap().flow.sup_l1(&pde_flow));
        }
        if std::env::var("NOFP").is_ok() { continue; }
        let t0 = Instant::now();
        let mut fp = FictitiousPlay::new(&game);
        let rec = run(&game, &mut fp, iters).unwrap();
        println!("  FP {iters} it: expl {:.3e} [{:.2}s] flowerr {:.3e}", rec.last().unwrap().exploitability, t0.elapsed().as_secs_f64(), assess(&game, mfg::rl::Algorithm::policy(&fp)).unwrap().flow.sup_l1(&pde_flow));
    }
}

fn md_policy(md: &MirrorDescent) -> &Policy {
    mfg::rl::Algorithm::policy(md)
}
