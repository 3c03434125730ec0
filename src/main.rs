//! The `mfg` command line: solve, check.

use anyhow::Context;
use clap::{Parser, Subcommand};
use mfg::config::Config;
use mfg::solve::{self, Termination};
use std::path::PathBuf;
use std::process::ExitCode;

/// Multi-population mean field games: monotone finite differences, Picard iteration.
#[derive(Parser, Debug)]
#[command(name = "mfg", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve the problem a configuration file (TOML or YAML) describes and print a summary.
    Solve {
        /// Configuration file (.toml, .yaml, .yml).
        config: PathBuf,
        /// Outer method, overriding `solver.method` of the file (e.g. picard, fictitious-play).
        #[arg(long)]
        method: Option<String>,
    },
    /// Validate a configuration file without solving.
    Check {
        /// Configuration file (.toml, .yaml, .yml).
        config: PathBuf,
    },
}

/// Exit code for invalid input.
const EXIT_INVALID: u8 = 2;
/// Exit code for a solve that ended without converging.
const EXIT_NOT_CONVERGED: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(EXIT_INVALID)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Check { config } => {
            let cfg = Config::from_path(&config)?;
            let (problem, _settings) = cfg
                .build()
                .with_context(|| format!("in {}", config.display()))?;
            println!("{}: valid", config.display());
            println!("{}", problem.describe());
            Ok(ExitCode::SUCCESS)
        }
        Command::Solve { config, method } => {
            let mut cfg = Config::from_path(&config)?;
            if let Some(name) = method {
                cfg.spec.solver.method = name.parse()?;
            }
            let (problem, settings) = cfg
                .build()
                .with_context(|| format!("in {}", config.display()))?;
            let solution = solve::solve(&problem, &settings)?;
            print_summary(&problem, &solution);
            Ok(if solution.termination == Termination::Converged {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(EXIT_NOT_CONVERGED)
            })
        }
    }
}

fn print_summary(problem: &mfg::Problem, solution: &mfg::Solution) {
    let last = solution.last().copied().unwrap_or_default();
    println!(
        "{}: {} after {} iterations ({:.3} s)",
        solution.method,
        solution.termination.as_str(),
        solution.history.len(),
        solution.seconds()
    );
    println!(
        "final residual {:.3e} (HJB {:.3e}, FP {:.3e}); last change: u {:.3e}, m {:.3e}",
        last.residual, last.residual_hjb, last.residual_fp, last.delta_u, last.delta_m
    );
    for (k, p) in problem.populations.iter().enumerate() {
        let mass = solution.mass(problem, k);
        let drift = mass.iter().map(|v| (v - mass[0]).abs()).fold(0.0, f64::max);
        let min_m = solution.iterate.m[k]
            .as_slice()
            .iter()
            .fold(f64::INFINITY, |a, &v| a.min(v));
        println!(
            "  {:<16} mass {:.15} (max drift over time {:.1e}), min m {:.1e}",
            p.name,
            mass.last().copied().unwrap_or(f64::NAN),
            drift,
            min_m
        );
    }
}
