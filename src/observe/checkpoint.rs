//! Checkpoints: the current iterate and history written to the result file every N outer
//! iterations, so that an interrupted or crashed run can be resumed (`mfg solve --resume`).

use crate::config::Config;
use crate::io::{self, Run, WriteOptions};
use crate::problem::Problem;
use crate::solve::{Control, Iterate, Observer, StepStats};
use std::path::PathBuf;
use std::time::Instant;

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
