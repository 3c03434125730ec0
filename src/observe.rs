//! Observers for [`crate::solve::solve_with`]: side effects during a solve, never part of the
//! result.
//!
//! - [`Progress`]: a progress bar on stderr when it is a terminal, plain log lines otherwise;
//! - [`Checkpoint`]: writes the current iterate and history to the result file every N
//!   iterations (atomically: see [`crate::io::atomic`]);
//! - [`Interrupt`]: turns Ctrl-C (or any flag) into [`Control::Stop`], so that the driver ends
//!   with [`crate::Termination::Interrupted`] and the caller can save the state;
//! - [`Chain`]: several observers at once.

use crate::config::Config;
use crate::io::{self, Run, WriteOptions};
use crate::problem::Problem;
use crate::solve::{Control, Iterate, Observer, Solution, StepStats};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Runs several observers; stops when any of them asks to.
pub struct Chain<'a>(pub Vec<&'a mut dyn Observer>);

impl Observer for Chain<'_> {
    fn step(&mut self, iterate: &Iterate, history: &[StepStats]) -> Control {
        let mut control = Control::Continue;
        for o in self.0.iter_mut() {
            if o.step(iterate, history) == Control::Stop {
                control = Control::Stop;
            }
        }
        control
    }

    fn finish(&mut self, solution: &Solution) {
        for o in self.0.iter_mut() {
            o.finish(solution);
        }
    }
}

/// Stops the solve once its flag is set (by Ctrl-C, a signal or another thread).
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    flag: Arc<AtomicBool>,
}

impl Interrupt {
    pub fn new() -> Self {
        Self::default()
    }

    /// The flag: storing `true` stops the solve after the current iteration.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// True once the flag is set.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::SeqCst)
    }

    /// Installs the process-wide Ctrl-C handler (SIGINT, and SIGTERM/SIGHUP): the first Ctrl-C sets the flag
    /// (the solve ends after the current iteration and the caller saves the state); a second
    /// one exits at once with code 130 (a file being written stays a temporary file, the one
    /// under the final name is untouched). Call at most once per process.
    pub fn install_ctrlc(&self) -> Result<(), ctrlc::Error> {
        let flag = self.flag.clone();
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                eprintln!("\ninterrupted again: exiting without saving");
                std::process::exit(130);
            }
            eprintln!(
                "\ninterrupt: stopping after the current iteration and saving the state \
                 (Ctrl-C again to quit at once)"
            );
        })
    }
}

impl Observer for Interrupt {
    fn step(&mut self, _iterate: &Iterate, _history: &[StepStats]) -> Control {
        if self.is_set() {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

/// How [`Progress`] shows itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProgressMode {
    /// A bar when stderr is a terminal, plain lines otherwise.
    Auto,
    /// A redrawn progress bar.
    Bar,
    /// One log line at most every `interval`, plus the first and the last iteration.
    Lines,
    /// Nothing.
    Quiet,
}

/// Progress display on stderr: iteration, residual, changes, contraction rate and speed.
pub struct Progress {
    mode: ProgressMode,
    bar: Option<indicatif::ProgressBar>,
    max_iterations: usize,
    start: Instant,
    started_at: usize,
    last_line: Option<Instant>,
    first: bool,
    /// Minimum time between two plain log lines.
    pub interval: Duration,
}

impl Progress {
    /// A progress display for a solve of at most `max_iterations` iterations.
    pub fn new(max_iterations: usize, mode: ProgressMode) -> Self {
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Lines,
            m => m,
        };
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(max_iterations as u64),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} {msg}",
            )
            .expect("valid template");
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Progress {
            mode,
            bar,
            max_iterations,
            start: Instant::now(),
            started_at: 0,
            last_line: None,
            first: true,
            interval: Duration::from_secs(1),
        }
    }

    /// The mode in use (`Auto` resolved).
    pub fn mode(&self) -> ProgressMode {
        self.mode
    }

    /// Prints a line without disturbing the bar.
    pub fn println(&self, line: &str) {
        match &self.bar {
            Some(b) => b.println(line),
            None if self.mode != ProgressMode::Quiet => eprintln!("{line}"),
            None => {}
        }
    }

    fn describe(&self, history: &[StepStats]) -> String {
        let s = history.last().copied().unwrap_or_default();
        let done = history.len().saturating_sub(self.started_at);
        let elapsed = self.start.elapsed().as_secs_f64();
        let speed = if elapsed > 0.0 {
            done as f64 / elapsed
        } else {
            0.0
        };
        let rate = contraction_rate(history).map_or_else(|| "-".to_string(), |r| format!("{r:.3}"));
        format!(
            "residual {:.3e}  Δu {:.2e}  Δm {:.2e}  rate {rate}/it  {speed:.2} it/s",
            s.residual, s.delta_u, s.delta_m
        )
    }
}

/// Geometric mean of the residual ratios over the last (up to) 5 iterations.
pub fn contraction_rate(history: &[StepStats]) -> Option<f64> {
    let n = history.len();
    if n < 2 {
        return None;
    }
    let j = (n - 1).min(5);
    let (a, b) = (history[n - 1 - j].residual, history[n - 1].residual);
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| (b / a).powf(1.0 / j as f64))
}

impl Observer for Progress {
    fn step(&mut self, _iterate: &Iterate, history: &[StepStats]) -> Control {
        if self.first {
            // Speed counts the iterations of this process only (a resumed run starts late).
            self.first = false;
            self.started_at = history.len().saturating_sub(1);
        }
        match self.mode {
            ProgressMode::Bar => {
                if let Some(b) = &self.bar {
                    b.set_position(history.len() as u64);
                    b.set_message(self.describe(history));
                }
            }
            ProgressMode::Lines => {
                let due = self.last_line.is_none_or(|t| t.elapsed() >= self.interval);
                if due {
                    eprintln!(
                        "iteration {}/{}  {}",
                        history.len(),
                        self.max_iterations,
                        self.describe(history)
                    );
                    self.last_line = Some(Instant::now());
                }
            }
            _ => {}
        }
        Control::Continue
    }

    fn finish(&mut self, solution: &Solution) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
        if self.mode == ProgressMode::Lines {
            eprintln!(
                "{} after {} iterations  {}",
                solution.termination.as_str(),
                solution.history.len(),
                self.describe(&solution.history)
            );
        }
    }
}

/// Writes the current iterate and history to `path` every `every` iterations.
pub struct Checkpoint<'a> {
    path: PathBuf,
    every: usize,
    problem: &'a Problem,
    config: Option<&'a Config>,
    method: String,
    options: WriteOptions,
    /// Number of checkpoints written.
    pub written: usize,
    /// Total seconds spent writing them.
    pub seconds: f64,
    /// The last write error, if any (the solve goes on; the final write reports it again).
    pub error: Option<io::Error>,
    /// Messages (checkpoint failures) are printed here unless quiet.
    pub quiet: bool,
}

impl<'a> Checkpoint<'a> {
    /// A checkpoint observer writing `problem`'s state under `method`'s name to `path`.
    pub fn new(
        path: impl Into<PathBuf>,
        every: usize,
        problem: &'a Problem,
        config: Option<&'a Config>,
        method: impl Into<String>,
        options: WriteOptions,
    ) -> Self {
        Checkpoint {
            path: path.into(),
            every: every.max(1),
            problem,
            config,
            method: method.into(),
            options,
            written: 0,
            seconds: 0.0,
            error: None,
            quiet: false,
        }
    }
}

impl Observer for Checkpoint<'_> {
    fn step(&mut self, iterate: &Iterate, history: &[StepStats]) -> Control {
        if history.is_empty() || history.len() % self.every != 0 {
            return Control::Continue;
        }
        let start = Instant::now();
        let run = Run::checkpoint(iterate, history, &self.method);
        match io::write(&self.path, self.problem, &run, self.config, &self.options) {
            Ok(()) => {
                self.written += 1;
                self.error = None;
            }
            Err(e) => {
                if !self.quiet {
                    eprintln!("warning: checkpoint not written: {e}");
                }
                self.error = Some(e);
            }
        }
        self.seconds += start.elapsed().as_secs_f64();
        Control::Continue
    }
}
