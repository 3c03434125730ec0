//! Checkpoints: the current iterate (u^k, m^k) and history written to the result file during the
//! solve, so that an interrupted or crashed run can be resumed (`mfg solve --resume`).
//!
//! A checkpoint is due every N outer iterations, and is written only while the time spent
//! writing stays within a budget (5 % of the solve's wall time by default): a write that would
//! exceed it is skipped, so a fast iteration with a large state is checkpointed on a time
//! cadence (at least 20 write durations apart) instead of every N iterations. Checkpoints store
//! only what resuming needs (u, m and the history, uncompressed); the final write stores
//! everything, compressed as configured.

use crate::config::Config;
use crate::io::{self, Run, WriteOptions};
use crate::problem::Problem;
use crate::solve::{Control, Iterate, Observer, StepStats};
use std::path::PathBuf;
use std::time::Instant;

/// Writes the current iterate and history to `path` every `every` iterations, within the time
/// budget.
pub struct Checkpoint<'a> {
    path: PathBuf,
    every: usize,
    problem: &'a Problem,
    config: Option<&'a Config>,
    method: String,
    options: WriteOptions,
    /// Fraction of the wall time since the observer was created that writing may take.
    pub budget: f64,
    started: Instant,
    /// Duration of the last write (the estimate of the next one).
    last_write: f64,
    /// Number of checkpoints written.
    pub written: usize,
    /// Number of due checkpoints skipped to stay within the budget.
    pub skipped: usize,
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
            budget: 0.05,
            started: Instant::now(),
            last_write: 0.0,
            written: 0,
            skipped: 0,
            seconds: 0.0,
            error: None,
            quiet: false,
        }
    }

    /// The fraction of the wall time since the observer's creation spent writing.
    pub fn fraction(&self) -> f64 {
        self.seconds / self.started.elapsed().as_secs_f64().max(f64::MIN_POSITIVE)
    }

    /// Whether a write now keeps the writing time within the budget (the first one is always
    /// made: its cost is not known before).
    fn affordable(&self) -> bool {
        let elapsed = self.started.elapsed().as_secs_f64();
        self.written == 0 || self.seconds + self.last_write <= self.budget * elapsed
    }
}

impl Observer for Checkpoint<'_> {
    fn step(&mut self, iterate: &Iterate, history: &[StepStats]) -> Control {
        if history.is_empty() || !history.len().is_multiple_of(self.every) {
            return Control::Continue;
        }
        if !self.affordable() {
            self.skipped += 1;
            return Control::Continue;
        }
        let start = Instant::now();
        let run = Run::checkpoint(iterate, history, &self.method);
        // Uncompressed: deflate halves the write speed of these fields for a ~15 % smaller
        // file, a poor trade for a file that the next checkpoint replaces.
        let mut options = self.options;
        options.compression = None;
        match io::write(&self.path, self.problem, &run, self.config, &options) {
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
        self.last_write = start.elapsed().as_secs_f64();
        self.seconds += self.last_write;
        Control::Continue
    }
}
