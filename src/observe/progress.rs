//! A progress display on stderr for a running solve: iteration, residual, the changes of u
//! and m, the contraction rate of the residual and the speed; a redrawn bar (indicatif) on a
//! terminal, plain log lines otherwise.

use crate::solve::{Control, Iterate, Observer, Solution, StepStats};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

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
