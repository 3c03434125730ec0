//! Refinement study of the game of a PDE problem (RL.md §2) on the 1D K = 2 problem of the RL
//! tests (monotone linear coupling): on grids of n = 10, 20, 40, 80 nodes, with the game step
//! from the CFL bound and the velocity spacing ∝ h, it prints the exploitability of the PDE
//! policy and of standing still, the iterations mirror descent (lr = 30/Δt) needs to reach
//! 1e-6 of the value scale, what fictitious play reaches in 100 and 400 iterations, and the
//! distances sup_t ‖μ − m* h‖_1 of these flows to the PDE flow, with observed orders.
//!
//! ```text
//! cargo run --release --example rl_refinement
//! ```

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "../tests/rl_common/mod.rs"]
mod rl_common;

use mfg::rl::pde::{flow_from_solution, policy_from_solution};
use mfg::rl::{assess, run, Algorithm, FictitiousPlay, Game, Policy};
use mfg::SolverSettings;
use rl_common::{game_1d, mirror_descent_to, order, problem_1d};
use std::time::Instant;

fn main() {
    let mut prev: Option<[f64; 4]> = None;
    println!(
        "{:>4} {:>5} {:>4} | {:>9} {:>9} | {:>9} | {:>5} {:>7} {:>9} | {:>9} {:>9} {:>9} | {:>9}",
        "n",
        "steps",
        "A",
        "PDE expl",
        "PDE flow",
        "still",
        "OMD",
        "s",
        "OMD flow",
        "FP 100",
        "FP 400",
        "FP flow",
        "orders"
    );
    for n in [10usize, 20, 40, 80] {
        let p = problem_1d(n);
        let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
        let game = game_1d(&p, n);
        let pde_flow = flow_from_solution(&game, &sol).unwrap();
        let pde = assess(&game, &policy_from_solution(&game, &sol).unwrap()).unwrap();
        let zero = game.actions(0) / 2;
        let still = assess(
            &game,
            &Policy::deterministic(&game, |_, _, _| zero).unwrap(),
        )
        .unwrap();
        let t = Instant::now();
        let (md, _rel, it) = mirror_descent_to(&game, 1e-6, 2000);
        let md_s = t.elapsed().as_secs_f64();
        let md_flow = assess(&game, md.policy()).unwrap().flow.sup_l1(&pde_flow);
        let mut fp = FictitiousPlay::new(&game);
        let rec = run(&game, &mut fp, 400).unwrap();
        let fp_flow = assess(&game, fp.policy()).unwrap().flow.sup_l1(&pde_flow);
        let errs = [pde.total(), pde.flow.sup_l1(&pde_flow), md_flow, fp_flow];
        let orders = prev.map_or(String::new(), |q| {
            format!(
                "{:.2} {:.2} {:.2} {:.2}",
                order(q[0], errs[0]),
                order(q[1], errs[1]),
                order(q[2], errs[2]),
                order(q[3], errs[3])
            )
        });
        println!(
            "{n:>4} {:>5} {:>4} | {:>9.3e} {:>9.3e} | {:>9.3e} | {it:>5} {md_s:>7.2} {md_flow:>9.3e} | {:>9.3e} {:>9.3e} {fp_flow:>9.3e} | {orders}",
            game.horizon(),
            game.actions(0),
            errs[0],
            errs[1],
            still.total(),
            rec[99].exploitability,
            rec[399].exploitability,
        );
        prev = Some(errs);
    }
}
