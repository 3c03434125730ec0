//! `mfg validate`: builds the discrete game of a problem (the Kushner–Dupuis chain of the PDE's
//! grid, velocity sets A^k, rewards r = −cost·Δt), takes a policy (an exact algorithm run here,
//! the PDE's own α*, or a policy file), and reports per population the exploitability and the
//! distances of its flow, mean velocity and values to the PDE solution (m*, α*, u*) and to the
//! game's own equilibrium ([`mfg::rl::validate`]); writes the report (HDF5) and pictures, and
//! exits with [`EXIT_THRESHOLD`] when a limit given on the command line or in `[rl.thresholds]`
//! fails.

use crate::{failure, file_error, invalid, Failure};
use anyhow::Context;
use clap::Args;
use mfg::io::{self, write_report, ReportContext};
use mfg::rl::metrics::Metrics;
use mfg::rl::validate::{
    describe_velocities, parse_velocities, validate, EquilibriumSpec, PolicySource, RlSpec,
    ThresholdSpec, Validation,
};
use mfg::solve::{self, Termination};
use std::path::PathBuf;
use std::time::Instant;

/// Exit code when the validation ran but a threshold does not hold.
pub const EXIT_THRESHOLD: u8 = 4;

/// The options of `mfg validate`.
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Configuration file of the problem; its `[rl]` table gives the defaults of the options
    /// below. Optional with --solution (the configuration stored in the file is used).
    #[arg(required_unless_present = "solution")]
    config: Option<PathBuf>,
    /// Reuse the PDE solution of this result file (written by `mfg solve --out`) instead of
    /// solving the problem again.
    #[arg(long, value_name = "FILE")]
    solution: Option<PathBuf>,
    /// Learn the policy with this exact algorithm: fp, omd, fixed-point, boltzmann
    /// (default: `[rl] algorithm`, else omd).
    #[arg(long, value_name = "NAME", conflicts_with_all = ["policy", "pde_policy"])]
    algo: Option<String>,
    /// Validate the policy of this policy file (layout in docs/rl.md) instead of learning one.
    #[arg(long, value_name = "FILE", conflicts_with = "pde_policy")]
    policy: Option<PathBuf>,
    /// Validate the PDE's own feedback α*, projected on the velocity sets.
    #[arg(long)]
    pde_policy: bool,
    /// Iterations of the algorithm (default 200).
    #[arg(long, value_name = "N")]
    iterations: Option<usize>,
    /// Mirror descent's learning rate (default 30/Δt), or fictitious play's fixed mixing weight.
    #[arg(long, value_name = "X")]
    learning_rate: Option<f64>,
    /// Damping θ of fixed-point and boltzmann.
    #[arg(long, value_name = "X")]
    damping: Option<f64>,
    /// Temperature τ of boltzmann (default 0.01·Δt) or of fixed-point's softmax best response.
    #[arg(long, value_name = "X")]
    temperature: Option<f64>,
    /// Velocity sets: comma-separated `[NAME=]MIN:MAX:N[/MIN:MAX:N]` (a second axis is y), e.g.
    /// `walkers=-4:4:33,wheelchairs=-1.5:1.5:13` (default: 1.1 max |α*| where the population
    /// is).
    #[arg(long, value_name = "SPEC", allow_hyphen_values = true)]
    velocities: Option<String>,
    /// Game steps N over [0, T] (default: the least N meeting the CFL bound).
    #[arg(long, value_name = "N")]
    steps: Option<usize>,
    /// Fraction of the CFL bound when N is not given, in (0, 1].
    #[arg(long, value_name = "X")]
    cfl: Option<f64>,
    /// How the game's own equilibrium is found: omd, algorithm (the --algo run's own, to its
    /// tolerance), none.
    #[arg(long, value_name = "METHOD")]
    equilibrium: Option<String>,
    /// Relative exploitability the equilibrium run stops at (default 1e-6).
    #[arg(long, value_name = "X")]
    equilibrium_tolerance: Option<f64>,
    /// At most this many iterations of the equilibrium run (default 2000).
    #[arg(long, value_name = "N")]
    equilibrium_iterations: Option<usize>,
    /// Fail (exit 4) when Σ_k exploitability exceeds X.
    #[arg(long, value_name = "X")]
    max_exploitability: Option<f64>,
    /// Fail (exit 4) when a population's sup_t L1 distance to the PDE density exceeds X.
    #[arg(long, value_name = "X")]
    max_density_error: Option<f64>,
    /// Fail (exit 4) when a population's mean-velocity error against α* exceeds X.
    #[arg(long, value_name = "X")]
    max_control_error: Option<f64>,
    /// Write the report (HDF5: policy, flows, metrics, curves; layout in docs/rl.md).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Draw the pictures of the validation into this directory.
    #[arg(long, value_name = "DIR")]
    plots: Option<PathBuf>,
    /// Picture size in pixels.
    #[arg(long, value_name = "WxH", default_value = "800x600", value_parser = crate::parse_size)]
    size: (u32, u32),
    /// No notes on stderr (errors are still reported).
    #[arg(long, short)]
    quiet: bool,
}

impl ValidateArgs {
    /// The command line's `[rl]` keys, to lay over the configuration's.
    fn spec(&self) -> RlSpec {
        RlSpec {
            steps: self.steps,
            cfl: self.cfl,
            algorithm: self.algo.clone(),
            iterations: self.iterations,
            learning_rate: self.learning_rate,
            damping: self.damping,
            temperature: self.temperature,
            equilibrium: Some(EquilibriumSpec {
                method: self.equilibrium.clone(),
                tolerance: self.equilibrium_tolerance,
                max_iterations: self.equilibrium_iterations,
            }),
            thresholds: Some(ThresholdSpec {
                max_exploitability: self.max_exploitability,
                max_density_error: self.max_density_error,
                max_control_error: self.max_control_error,
            }),
            ..RlSpec::default()
        }
    }
}

/// Checks the `[rl]` table of `cfg` (for `mfg check`): every key, velocity set, the algorithm
/// and its parameters, the thresholds.
pub fn check_table(cfg: &mfg::config::Config, problem: &mfg::Problem) -> mfg::Result<()> {
    let spec = RlSpec::from_table(cfg.spec.rl.as_ref())?;
    spec.settings(problem, &[])?;
    spec.algorithm()?;
    spec.thresholds()?;
    Ok(())
}

/// Runs `mfg validate`; returns the exit code.
pub fn run(a: ValidateArgs) -> Result<u8, Failure> {
    let note = |s: &str| {
        if !a.quiet {
            eprintln!("{s}");
        }
    };
    // The problem and its PDE solution.
    let (saved, cfg) = crate::load(a.config.as_deref(), a.solution.as_deref())?;
    let (origin, problem, settings) = crate::build(&cfg)?;
    let spec = RlSpec::from_table(cfg.spec.rl.as_ref())
        .with_context(|| format!("in {}", origin.display()))
        .map_err(invalid)?
        .overridden_by(&a.spec());
    let overrides = match &a.velocities {
        Some(v) => parse_velocities(v).map_err(invalid)?,
        None => Vec::new(),
    };
    let rl = spec.settings(&problem, &overrides).map_err(invalid)?;
    let thresholds = spec.thresholds().map_err(invalid)?;
    let source = match (&a.policy, a.pde_policy) {
        (Some(path), _) => PolicySource::Imported(io::read_policy(path).map_err(file_error)?),
        (None, true) => PolicySource::Pde,
        (None, false) => PolicySource::Algorithm(spec.algorithm().map_err(invalid)?),
    };
    if let Some(path) = &a.out {
        crate::check_output_dir(path).map_err(invalid)?;
    }

    let (solution, reference) = match saved {
        Some(s) => {
            s.solution
                .iterate
                .check_shape(&problem)
                .with_context(|| format!("the solution of {}", s.header.path.display()))
                .map_err(invalid)?;
            let text = format!(
                "read from {} ({} after {} iterations)",
                s.header.path.display(),
                s.solution.termination.as_str(),
                s.solution.history.len()
            );
            (s.solution, text)
        }
        None => {
            note(&format!("solving {} ...", origin.display()));
            let sol = solve::solve(&problem, &settings)
                .with_context(|| format!("solving {}", origin.display()))
                .map_err(failure)?;
            let text = format!(
                "solved now ({}, {} after {} iterations, {:.2} s)",
                sol.method,
                sol.termination.as_str(),
                sol.history.len(),
                sol.seconds()
            );
            (sol, text)
        }
    };
    if solution.termination != Termination::Converged {
        note(&format!(
            "warning: the PDE reference did not converge ({}): the metrics against it include \
             its own error",
            solution.termination.as_str()
        ));
    }

    let start = Instant::now();
    let v = validate(&problem, &solution, &rl, &source).map_err(invalid)?;
    let seconds = start.elapsed().as_secs_f64();
    let checks = thresholds.check(&v);
    for n in &v.notes {
        note(&format!("note: {n}"));
    }
    print_validation(&v, &reference, seconds);

    if let Some(path) = &a.out {
        let ctx = ReportContext {
            reference: &reference,
            config: Some(&cfg),
            checks: &checks,
        };
        write_report(path, &problem, &v, &ctx).map_err(failure)?;
        note(&format!("wrote {}", path.display()));
    }
    if let Some(dir) = &a.plots {
        let start = Instant::now();
        let written =
            mfg::plot::rl::render_validation(&problem, &v, dir, a.size).map_err(failure)?;
        note(&format!(
            "{} pictures in {} ({:.2} s)",
            written.len(),
            dir.display(),
            start.elapsed().as_secs_f64()
        ));
    }
    if checks.is_empty() {
        return Ok(0);
    }
    let failed: Vec<String> = checks
        .iter()
        .filter(|c| !c.passed)
        .map(io::report::describe_check)
        .collect();
    if failed.is_empty() {
        println!("thresholds: all {} hold", checks.len());
        Ok(0)
    } else {
        println!(
            "thresholds: {} of {} fail: {}",
            failed.len(),
            checks.len(),
            failed.join("; ")
        );
        Ok(EXIT_THRESHOLD)
    }
}

fn print_validation(v: &Validation, reference: &str, seconds: f64) {
    let g = &v.game;
    println!("reference: the PDE solution, {reference}");
    println!(
        "game: N = {} steps of Δt = {:.4e}, CFL number {}",
        g.steps,
        g.dt,
        g.cfl
            .iter()
            .map(|c| format!("{c:.3}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (k, name) in v.names.iter().enumerate() {
        let set = mfg::rl::pde::VelocitySet::list(g.velocities[k].clone())
            .map(|s| describe_velocities(&s, g.dim))
            .unwrap_or_default();
        println!("  {name:<16} velocities: {set}");
    }
    println!("policy: {} ({:.2} s)", v.source, v.policy_seconds);
    if let Some(e) = &v.equilibrium {
        println!(
            "equilibrium: {}, relative exploitability {:.3e} after {} iterations{} ({:.2} s)",
            e.method,
            e.relative,
            e.iterations,
            if e.reached {
                ""
            } else {
                " (tolerance not reached)"
            },
            e.seconds
        );
    }
    println!(
        "exploitability {:.4e} (relative to the value scale {:.4}: {:.4e}); {:.2} s in all",
        v.exploitability, v.value_scale, v.relative_exploitability, seconds
    );
    let cell = |x: Option<f64>| x.map_or("—".to_string(), |x| format!("{x:.3e}"));
    let row = |m: &Metrics| {
        format!(
            "{:>10} {:>10} {:>10} {:>10}",
            cell(Some(m.density_l1)),
            cell(m.w1),
            cell(m.control_error),
            cell(Some(m.value_error))
        )
    };
    println!(
        "  {:<16} {:>10}   {:^43}   {:^43}",
        "", "", "against the PDE", "against the equilibrium"
    );
    let head = format!(
        "{:>10} {:>10} {:>10} {:>10}",
        "sup L1", "sup W1", "control", "value"
    );
    println!(
        "  {:<16} {:>10}   {head}   {head}",
        "population", "exploit."
    );
    for (k, name) in v.names.iter().enumerate() {
        let r = &v.metrics.against_reference[k];
        let e = v
            .metrics
            .against_equilibrium
            .as_ref()
            .map_or_else(|| format!("{:^43}", "(not computed)"), |e| row(&e[k]));
        println!(
            "  {name:<16} {:>10.3e}   {}   {e}",
            r.exploitability,
            row(r)
        );
    }
}
