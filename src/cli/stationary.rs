//! `mfg solve` of a stationary problem (`[time] kind = "stationary"`): the relaxation of
//! [`mfg::solve::stationary`] with Ctrl-C and progress, the stationary result file, its
//! pictures and a summary with λ^k, the masses and the residual.

use crate::{failure, invalid, Failure, SolveArgs, EXIT_INTERRUPTED, EXIT_NOT_CONVERGED};
use anyhow::{anyhow, Context};
use mfg::config::Config;
use mfg::io;
use mfg::observe::{Interrupt, Progress, ProgressMode};
use mfg::plot::{self, PlotOptions, StationaryView};
use mfg::solve::stationary::{solve_stationary_with, StationarySolution};
use mfg::solve::{Control, Stopping, Termination};
use mfg::Problem;
use std::path::Path;
use std::time::Instant;

/// Solves the stationary `problem` of `cfg` (`origin` for messages), writes `out` and the
/// pictures the arguments ask for (the output lock of `out` is held by the caller).
pub fn solve(
    a: &SolveArgs,
    cfg: &Config,
    origin: &Path,
    problem: &Problem,
    out: Option<&Path>,
) -> Result<u8, Failure> {
    let note = |s: &str| {
        if !a.quiet {
            eprintln!("{s}");
        }
    };
    if a.resume.is_some() || a.checkpoint_every.is_some() {
        return Err(invalid(anyhow!(
            "--resume and --checkpoint-every apply to finite-horizon solves; {} describes a \
             stationary problem (one relaxation, no checkpoints)",
            origin.display()
        )));
    }
    let settings = cfg
        .spec
        .stationary_settings()
        .with_context(|| format!("in {}", origin.display()))
        .map_err(invalid)?;
    let interrupt = Interrupt::new();
    interrupt
        .install_ctrlc(out.is_some())
        .map_err(|e| failure(anyhow!("cannot install the Ctrl-C handler: {e}")))?;
    let mode = if a.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    let stopping = Stopping {
        max_iterations: settings.max_iterations,
        tol_m: settings.tol_m,
        tol_residual: settings.tol_residual,
        ..Stopping::default()
    };
    let mut progress = Progress::new(&stopping, mode);
    let solution = solve_stationary_with(problem, &settings, &mut |history| {
        if interrupt.is_set() {
            return Control::Stop;
        }
        progress.record(history)
    })
    .with_context(|| format!("solving {}", origin.display()))
    .map_err(failure)?;
    progress.done(solution.termination, &solution.history);

    if let Some(path) = out {
        let start = Instant::now();
        io::write_stationary(path, problem, &solution, Some(cfg)).map_err(failure)?;
        let bytes = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        note(&format!(
            "wrote {} ({}, {:.3} s)",
            path.display(),
            mfg::solve::budget::bytes(bytes),
            start.elapsed().as_secs_f64()
        ));
    } else if solution.termination == Termination::Interrupted {
        note("note: nothing saved (no --out FILE given)");
    }
    if let Some(dir) = &a.plots {
        draw(problem, &solution, dir, a.size, &note)?;
    }
    print_summary(problem, &solution);
    Ok(match solution.termination {
        Termination::Converged => 0,
        Termination::Interrupted => EXIT_INTERRUPTED,
        _ => EXIT_NOT_CONVERGED,
    })
}

fn draw(
    problem: &Problem,
    solution: &StationarySolution,
    dir: &Path,
    size: (u32, u32),
    note: &dyn Fn(&str),
) -> Result<(), Failure> {
    let names = problem.names();
    let live = problem.live_masks();
    let view = StationaryView {
        grid: problem.grid(),
        names: &names,
        solution,
        live: Some(&live),
    };
    let options = PlotOptions {
        size,
        ..PlotOptions::default()
    };
    crate::cli::plot::after_solve(dir, note, || plot::render_stationary(&view, dir, &options))
}

fn print_summary(problem: &Problem, solution: &StationarySolution) {
    let last = solution.history.last().copied().unwrap_or_default();
    println!(
        "stationary {}: {} after {} iterations ({:.3} s)",
        solution.method,
        solution.termination.as_str(),
        solution.history.len(),
        last.seconds
    );
    if let Some(d) = &solution.detail {
        println!("{d}");
    }
    println!(
        "final residual {:.3e} (HJB {:.3e}, FP {:.3e}); last change: u {:.3e}, m {:.3e}",
        last.residual, last.residual_hjb, last.residual_fp, last.delta_u, last.delta_m
    );
    let grid = problem.grid();
    for (k, p) in problem.populations().iter().enumerate() {
        let m = &solution.m[k];
        let min_m = (0..m.len())
            .filter(|&i| p.is_active(i))
            .map(|i| m[i])
            .fold(f64::INFINITY, f64::min);
        let kind = if p.discount() > 0.0 {
            format!("discounted (rho = {})", p.discount())
        } else {
            format!("ergodic, lambda = {:.10}", solution.lambda[k])
        };
        println!(
            "  {:<16} {kind}; mass {:.15}, min m {:.1e}",
            p.name(),
            grid.integrate(m),
            min_m
        );
    }
    println!(
        "{}",
        mfg::problem::Monotonicity::at_stationary(problem, &solution.m).describe()
    );
}
