//! The `mfg` command line: solve, check, plot, inspect, validate.

mod cli;

use anyhow::{anyhow, Context};
use clap::{Parser, Subcommand};
use cli::output::OutputSpec;
use mfg::config::Config;
use mfg::files::OutputLock;
use mfg::io::{self, Run, WriteOptions};
use mfg::observe::{Chain, Checkpoint, Interrupt, Progress, ProgressMode};
use mfg::plot::{self, PlotOptions, View};
use mfg::solve::{self, Observer, Termination};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

const EXIT_CODES: &str = "\
Exit codes:
  0    solved and converged (or: command succeeded)
  1    runtime failure: the solver failed (e.g. a linear solve) or a file could not be written
  2    invalid input: bad configuration, bad option, or a file that is missing, not an mfg
       result, or damaged
  3    the solve ended without converging (max iterations, divergence, non-finite values,
       an inner HJB solve that failed);
       the results are saved when --out is given
  4    mfg validate: a threshold (--max-exploitability, --max-density-error,
       --max-control-error or [rl.thresholds]) does not hold; the report is still written
  130  interrupted by Ctrl-C; the current state is saved when --out is given and can be
       continued with `mfg solve --resume FILE`";

/// Multi-population mean field games: the monotone finite-difference scheme, solved by Picard,
/// fictitious play, Anderson or Newton; HDF5 results, pictures, validation of RL policies.
#[derive(Parser, Debug)]
#[command(name = "mfg", version, about, long_about = None, after_help = EXIT_CODES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Solve the problem a configuration file (TOML or YAML) describes, print a summary, and
    /// optionally save the result (HDF5) and pictures.
    #[command(after_help = EXIT_CODES)]
    Solve {
        /// Configuration file (.toml, .yaml, .yml). Optional with --resume: the configuration
        /// stored in the resumed file is used.
        #[arg(required_unless_present = "resume")]
        config: Option<PathBuf>,
        /// Outer method, overriding `solver.method` of the file (e.g. picard, fictitious-play).
        #[arg(long)]
        method: Option<String>,
        /// Write the result to this HDF5 file (atomically: a temporary file, then a rename).
        /// With --resume the default is the resumed file.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Continue the run saved in this file (a checkpoint, an interrupted or an unconverged
        /// run) instead of starting from the cold start.
        #[arg(long, value_name = "FILE")]
        resume: Option<PathBuf>,
        /// Save the current iterate and history to the output file every N iterations
        /// (overrides `[output] checkpoint_every`; 0 disables).
        #[arg(long, value_name = "N")]
        checkpoint_every: Option<usize>,
        /// Draw the pictures of the result into this directory.
        #[arg(long, value_name = "DIR")]
        plots: Option<PathBuf>,
        /// Picture size in pixels.
        #[arg(long, value_name = "WxH", default_value = "800x600", value_parser = parse_size)]
        size: (u32, u32),
        /// No progress display and no notes on stderr (errors are still reported).
        #[arg(long, short)]
        quiet: bool,
        /// Memory the solve may use, e.g. "8 GiB" (overrides `solver.memory_limit`; default:
        /// the memory available when it starts). Larger problems are refused before solving.
        #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
        memory_limit: Option<String>,
    },
    /// Validate a configuration file without solving, and say what the solve would set up
    /// (unknowns, method, estimated memory).
    Check {
        /// Configuration file (.toml, .yaml, .yml).
        config: PathBuf,
        /// Memory the solve may use, e.g. "8 GiB" (as for `mfg solve`).
        #[arg(long, value_name = "SIZE", value_parser = parse_memory)]
        memory_limit: Option<String>,
    },
    /// Draw the pictures of a saved result (without solving again).
    #[command(after_help = EXIT_CODES)]
    Plot {
        /// Result file written by `mfg solve --out`.
        file: PathBuf,
        /// Output directory (created if needed).
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Picture size in pixels.
        #[arg(long, value_name = "WxH", default_value = "800x600", value_parser = parse_size)]
        size: (u32, u32),
        /// Times of the snapshots, comma-separated (default: `[output] snapshot_times` of the
        /// stored configuration, else 0, T/3, 2T/3, T).
        #[arg(long, value_name = "T1,T2,...", value_delimiter = ',')]
        times: Option<Vec<f64>>,
    },
    /// Print what a result file holds: problem, grid, populations, outcome, history tail.
    #[command(after_help = EXIT_CODES)]
    Inspect {
        /// Result file written by `mfg solve --out`.
        file: PathBuf,
        /// Number of history rows to print.
        #[arg(long, default_value_t = 5)]
        tail: usize,
        /// Also print the stored configuration text.
        #[arg(long)]
        config: bool,
    },
    /// Validate a policy on the discrete game of a problem against its PDE solution and the
    /// game's own equilibrium: exploitability, density, control and value errors (docs/rl.md).
    #[command(after_help = EXIT_CODES)]
    Validate(Box<cli::validate::ValidateArgs>),
}

fn parse_memory(s: &str) -> Result<String, String> {
    mfg::solve::budget::parse_bytes(s, "--memory-limit")
        .map(|_| s.to_string())
        .map_err(|e| e.to_string())
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s:?}: expected WIDTHxHEIGHT, e.g. 800x600"))?;
    let p = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("{s:?}: {e}"));
    let size = (p(w)?, p(h)?);
    if size.0 < plot::MIN_SIZE.0 || size.1 < plot::MIN_SIZE.1 {
        return Err(format!(
            "{s:?}: at least {}x{} is needed",
            plot::MIN_SIZE.0,
            plot::MIN_SIZE.1
        ));
    }
    Ok(size)
}

/// Exit code for runtime failures.
const EXIT_FAILURE: u8 = 1;
/// Exit code for invalid input.
const EXIT_INVALID: u8 = 2;
/// Exit code for a solve that ended without converging.
const EXIT_NOT_CONVERGED: u8 = 3;
/// Exit code for an interrupted solve (128 + SIGINT, the shell convention).
const EXIT_INTERRUPTED: u8 = 130;

/// An error with the exit code it maps to.
struct Failure {
    code: u8,
    error: anyhow::Error,
}

fn invalid(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: EXIT_INVALID,
        error: e.into(),
    }
}

fn failure(e: impl Into<anyhow::Error>) -> Failure {
    Failure {
        code: EXIT_FAILURE,
        error: e.into(),
    }
}

/// Reading a result file: a missing, foreign or damaged file is invalid input; a system error
/// (permissions), an HDF5 error or another writer is a runtime failure.
fn file_error(e: io::Error) -> Failure {
    match e {
        io::Error::Io { .. }
        | io::Error::System { .. }
        | io::Error::Hdf5 { .. }
        | io::Error::File(_) => failure(e),
        e => invalid(e),
    }
}

fn main() -> ExitCode {
    // Rust ignores SIGPIPE, which turns `mfg inspect run.h5 | head` into a panic on the next
    // print; restore the default so a closed pipe ends the process quietly, as for other tools.
    #[cfg(unix)]
    // SAFETY: called first thing in main, before any other thread exists.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            eprintln!("error: {}", report(&f.error));
            ExitCode::from(f.code)
        }
    }
}

/// The error and its causes, `a: b: c`, each cause once: most library errors already say their
/// cause in their own message.
fn report(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let c = cause.to_string();
        if !text.contains(&c) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&c);
        }
    }
    text
}

fn run(cli: Cli) -> Result<u8, Failure> {
    match cli.command {
        Command::Check {
            config,
            memory_limit,
        } => {
            let mut cfg = Config::from_path(&config).map_err(invalid)?;
            if memory_limit.is_some() {
                cfg.spec.solver.memory_limit = memory_limit;
            }
            let (problem, settings) = cfg
                .build()
                .with_context(|| format!("in {}", config.display()))
                .map_err(invalid)?;
            OutputSpec::of(&cfg)
                .with_context(|| format!("in {}", config.display()))
                .map_err(invalid)?;
            cli::validate::check_table(&cfg, &problem)
                .with_context(|| format!("in {}", config.display()))
                .map_err(invalid)?;
            for n in cfg.notes_for(&problem) {
                eprintln!("note: {n}");
            }
            println!("{}: valid", config.display());
            println!("{}", problem.describe());
            let plan = if problem.horizon() == mfg::problem::Horizon::Stationary {
                let s = cfg
                    .spec
                    .stationary_settings()
                    .with_context(|| format!("in {}", config.display()))
                    .map_err(invalid)?;
                cli::check::plan_stationary(&problem, &s)
            } else {
                cli::check::plan(&problem, &settings).map_err(invalid)?
            };
            for line in plan {
                println!("{line}");
            }
            Ok(0)
        }
        Command::Solve {
            config,
            method,
            out,
            resume,
            checkpoint_every,
            plots,
            size,
            quiet,
            memory_limit,
        } => solve_command(SolveArgs {
            config,
            method,
            out,
            resume,
            checkpoint_every,
            plots,
            size,
            quiet,
            memory_limit,
        }),
        Command::Plot {
            file,
            out,
            size,
            times,
        } => cli::plot::run(&file, &out, size, times),
        Command::Inspect { file, tail, config } => {
            // Every array is read (one time level at a time): damaged data are reported here,
            // not when the file is next used.
            let header = io::verify(&file).map_err(file_error)?;
            cli::inspect::print(&header, tail, config);
            Ok(0)
        }
        Command::Validate(args) => cli::validate::run(*args),
    }
}

struct SolveArgs {
    config: Option<PathBuf>,
    method: Option<String>,
    out: Option<PathBuf>,
    resume: Option<PathBuf>,
    checkpoint_every: Option<usize>,
    plots: Option<PathBuf>,
    size: (u32, u32),
    quiet: bool,
    memory_limit: Option<String>,
}

fn solve_command(a: SolveArgs) -> Result<u8, Failure> {
    let note = |s: &str| {
        if !a.quiet {
            eprintln!("{s}");
        }
    };
    // The run to continue, if any.
    let (saved, mut cfg) = load(a.config.as_deref(), a.resume.as_deref())?;
    if let Some(name) = &a.method {
        cfg.spec.solver.method = name.parse().map_err(invalid)?;
    }
    if a.memory_limit.is_some() {
        cfg.spec.solver.memory_limit = a.memory_limit.clone();
    }
    let (origin, problem, settings) = build(&cfg)?;
    let output = OutputSpec::of(&cfg)
        .with_context(|| format!("in {}", origin.display()))
        .map_err(invalid)?;
    for n in cfg.notes_for(&problem) {
        note(&format!("note: {n}"));
    }
    let out = a.out.clone().or_else(|| a.resume.clone());
    let every = a.checkpoint_every.or(output.checkpoint_every).unwrap_or(0);
    if a.checkpoint_every.unwrap_or(0) > 0 && out.is_none() {
        return Err(invalid(anyhow!(
            "--checkpoint-every needs --out FILE to write the checkpoints to"
        )));
    }
    // The output lock, held until the last write: a second writer of the same file (another
    // solve, a resume) fails at once instead of silently overwriting this one's result.
    let _lock = match &out {
        Some(path) => {
            check_output_dir(path).map_err(invalid)?;
            let lock = OutputLock::acquire(path).map_err(failure)?;
            for n in lock.notices() {
                note(&format!("note: {n}"));
            }
            Some(lock)
        }
        None => {
            if every > 0 {
                note("note: [output] checkpoint_every is ignored without --out FILE");
            }
            None
        }
    };
    if problem.horizon() == mfg::problem::Horizon::Stationary {
        return cli::stationary::solve(&a, &cfg, &origin, &problem, out.as_deref());
    }
    let resume_state = match &saved {
        Some(s) => {
            if s.header.config_text.as_deref() != Some(cfg.text.as_str()) && a.config.is_some() {
                note(&format!(
                    "note: {} differs from the configuration stored in {}; continuing from the \
                     stored iterate anyway",
                    origin.display(),
                    s.header.path.display()
                ));
            }
            s.solution
                .iterate
                .check_shape(&problem)
                .with_context(|| {
                    format!(
                        "cannot resume {} with {}",
                        s.header.path.display(),
                        origin.display()
                    )
                })
                .map_err(invalid)?;
            note(&format!(
                "resuming {} after {} iterations ({})",
                s.header.path.display(),
                s.solution.history.len(),
                s.header.state.as_str()
            ));
            Some(s.resume_state())
        }
        None => None,
    };
    let options = WriteOptions {
        compression: output.deflate_level(),
    };
    let method_name = settings
        .build(&problem)
        .map_err(invalid)?
        .name()
        .to_string();

    // Observers: Ctrl-C, progress, checkpoints.
    let mut interrupt = Interrupt::new();
    interrupt
        .install_ctrlc(out.is_some())
        .map_err(|e| failure(anyhow!("cannot install the Ctrl-C handler: {e}")))?;
    let mode = if a.quiet {
        ProgressMode::Quiet
    } else {
        ProgressMode::Auto
    };
    let mut progress = Progress::new(&settings.stopping, mode);
    let mut checkpoint = match (&out, every) {
        (Some(path), n) if n > 0 => {
            let mut c = Checkpoint::new(path, n, &problem, Some(&cfg), &method_name, options);
            c.quiet = a.quiet;
            Some(c)
        }
        _ => None,
    };
    let solution = {
        let mut list: Vec<&mut dyn Observer> = vec![&mut interrupt, &mut progress];
        if let Some(c) = checkpoint.as_mut() {
            list.push(c);
        }
        let mut chain = Chain(list);
        solve::solve_with(&problem, &settings, resume_state, &mut chain)
            .with_context(|| format!("solving {}", origin.display()))
            .map_err(failure)?
    };
    if let Some(c) = &checkpoint {
        if c.written > 0 {
            let skipped = match c.skipped {
                0 => String::new(),
                n => format!(", {n} due ones skipped to stay within the budget"),
            };
            note(&format!(
                "{} checkpoints written ({:.3} s, {:.1} % of the solve{skipped})",
                c.written,
                c.seconds,
                100.0 * c.fraction()
            ));
        }
    }

    // Save, draw, summarise.
    if let Some(path) = &out {
        let start = Instant::now();
        io::write(
            path,
            &problem,
            &Run::finished(&solution),
            Some(&cfg),
            &options,
        )
        .map_err(failure)?;
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
    let names = problem.names();
    // Not suppressed by --quiet: the saved fields must not be mistaken for densities.
    for w in solution.density_warnings(&names) {
        eprintln!("warning: {w}");
    }
    if let Some(dir) = &a.plots {
        let controls: Vec<_> = (0..names.len())
            .map(|k| solution.controls(&problem, k))
            .collect();
        let live = problem.live_masks();
        let exits: Vec<Vec<bool>> = problem
            .populations()
            .iter()
            .map(|p| p.exits().to_vec())
            .collect();
        let shown = mfg::plot::displayed(&solution, Some(&exits));
        let view = View {
            grid: problem.grid(),
            time: problem.time(),
            names: &names,
            solution: &shown,
            controls: Some(&controls),
            live: Some(&live),
            exits: Some(&exits),
        };
        let options = PlotOptions {
            size: a.size,
            times: output.snapshot_times.clone(),
            ..PlotOptions::default()
        };
        cli::plot::after_solve(dir, &note, || plot::render_all(&view, dir, &options))?;
    }
    print_summary(&problem, &solution);
    Ok(match solution.termination {
        Termination::Converged => 0,
        Termination::Interrupted => EXIT_INTERRUPTED,
        _ => EXIT_NOT_CONVERGED,
    })
}

/// The run saved in `file` (if given) and the configuration: `config`, else the one stored in
/// the file.
fn load(
    config: Option<&Path>,
    file: Option<&Path>,
) -> Result<(Option<io::Saved>, Config), Failure> {
    let saved = match file {
        Some(path) => Some(io::read(path).map_err(file_error)?),
        None => None,
    };
    let cfg = match (config, &saved) {
        (Some(path), _) => Config::from_path(path).map_err(invalid)?,
        (None, Some(s)) => s.header.config().map_err(invalid)?,
        (None, None) => {
            return Err(invalid(anyhow!(
                "give a configuration file, or a result file to take it from"
            )))
        }
    };
    Ok((saved, cfg))
}

/// Where `cfg` came from (for messages) and the problem and settings it describes.
fn build(cfg: &Config) -> Result<(PathBuf, mfg::Problem, mfg::SolverSettings), Failure> {
    let origin = cfg
        .path
        .clone()
        .unwrap_or_else(|| PathBuf::from("the stored configuration"));
    let (problem, settings) = cfg
        .build()
        .with_context(|| format!("in {}", origin.display()))
        .map_err(invalid)?;
    Ok((origin, problem, settings))
}

/// Creates the directory of `path` if needed and checks the target before solving, so that a
/// long solve does not end in a failed write.
fn check_output_dir(path: &Path) -> anyhow::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir).map_err(|e| {
        anyhow!(
            "{}: cannot create the directory {}: {e}",
            path.display(),
            dir.display()
        )
    })?;
    if let Ok(meta) = std::fs::metadata(path) {
        if !meta.is_file() {
            return Err(anyhow!(
                "{}: exists and is not a regular file (a directory, a FIFO or a device):                  refusing to replace it",
                path.display()
            ));
        }
    }
    // Never replace someone else's file: an existing target must be an mfg result (a damaged
    // one, e.g. truncated, may be replaced).
    if path.exists() {
        if let Err(e @ (io::Error::NotHdf5 { .. } | io::Error::NotMfg { .. })) =
            io::read_header(path)
        {
            return Err(anyhow!("refusing to overwrite it: {e}"));
        }
    }
    Ok(())
}

fn print_summary(problem: &mfg::Problem, solution: &mfg::Solution) {
    let last = solution.last().copied().unwrap_or_default();
    let monotonicity = mfg::problem::Monotonicity::at_solution(problem, &solution.iterate.m);
    println!(
        "{}: {} after {} iterations ({:.3} s)",
        solution.method,
        solution.termination.as_str(),
        solution.history.len(),
        solution.seconds()
    );
    for e in &solution.events {
        println!("{e}");
    }
    if let Some(d) = &solution.detail {
        println!("{d}");
    }
    println!(
        "final residual {:.3e} (HJB {:.3e}, FP {:.3e}); last change: u {:.3e}, m {:.3e}",
        last.residual, last.residual_hjb, last.residual_fp, last.delta_u, last.delta_m
    );
    for (k, p) in problem.populations().iter().enumerate() {
        let mass = solution.mass(problem, k);
        let drift = mass.iter().map(|v| (v - mass[0]).abs()).fold(0.0, f64::max);
        let min_m = solution.min_density(k);
        println!(
            "  {:<16} mass {:.15} (max drift over time {:.1e}), min m {:.1e}",
            p.name(),
            mass.last().copied().unwrap_or(f64::NAN),
            drift,
            min_m
        );
        if p.has_exits() {
            let (inside, exited) = solution.iterate.inside_and_exited(problem, k);
            println!(
                "  {:<16} at T: inside {:.6}, left through the exits {:.6}",
                "",
                inside.last().copied().unwrap_or(f64::NAN),
                exited.last().copied().unwrap_or(f64::NAN)
            );
        }
    }
    println!("{}", monotonicity.describe());
}
