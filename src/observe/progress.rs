//! A progress display on stderr for a running solve: iteration, residual, the changes of u
//! and m, the contraction rate of the residual and the speed; a redrawn bar (indicatif) on a
//! terminal, plain log lines otherwise.
//!
//! The bar advances toward convergence, not toward `max_iterations`: the run converges when
//! ‖Δu‖ ≤ tol_u, ‖Δm‖ ≤ tol_m and the residual ≤ tol_residual all hold, so its position is the
//! smallest, over the three, of the distance covered on a log scale from the first iterate's
//! value v₀ to the tolerance, log(v₀/v) / log(v₀/tol) clamped to [0, 1]. The ETA extrapolates
//! each criterion's recent geometric rate to its tolerance ([`eta_iterations`]).

use crate::solve::{Control, Iterate, Observer, Solution, StepStats, Stopping, Termination};
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
    tolerances: [f64; 3],
    position: f64,
    start: Instant,
    started_at: usize,
    last_line: Option<Instant>,
    first: bool,
    /// Minimum time between two plain log lines.
    pub interval: Duration,
}

impl Progress {
    /// A progress display for a solve stopped by `stopping`.
    pub fn new(stopping: &Stopping, mode: ProgressMode) -> Self {
        let max_iterations = stopping.max_iterations;
        let mode = match mode {
            ProgressMode::Auto if std::io::stderr().is_terminal() => ProgressMode::Bar,
            ProgressMode::Auto => ProgressMode::Lines,
            m => m,
        };
        let bar = (mode == ProgressMode::Bar).then(|| {
            let bar = indicatif::ProgressBar::with_draw_target(
                Some(BAR_LENGTH),
                indicatif::ProgressDrawTarget::stderr(),
            );
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {bar:30} {percent:>3}% of the way to the \
                 tolerances  {msg}",
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
            tolerances: [stopping.tol_residual, stopping.tol_u, stopping.tol_m],
            position: 0.0,
            start: Instant::now(),
            started_at: 0,
            last_line: None,
            first: true,
            interval: Duration::from_secs(1),
        }
    }

    /// How far the run has come toward convergence, in [0, 1] (1 once converged).
    pub fn position(&self) -> f64 {
        self.position
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
        let eta = match eta_iterations(history, self.tolerances) {
            Some(n) if speed > 0.0 => format!("ETA {:.0} s", n / speed),
            _ => "ETA -".to_string(),
        };
        format!(
            "it {}  residual {:.3e}  Δu {:.2e}  Δm {:.2e}  rate {rate}/it  {speed:.2} it/s  {eta}",
            history.len(),
            s.residual,
            s.delta_u,
            s.delta_m
        )
    }
}

/// Units of the bar (its position is [`Progress::position`] × this).
const BAR_LENGTH: u64 = 1000;

/// The values the three stopping criteria test, in the order of the tolerances
/// (residual, Δu, Δm).
fn criteria(s: &StepStats) -> [f64; 3] {
    [s.residual, s.delta_u, s.delta_m]
}

/// The distance covered toward convergence (see the module documentation), in [0, 1].
pub fn convergence_fraction(history: &[StepStats], tolerances: [f64; 3]) -> f64 {
    let (Some(first), Some(last)) = (history.first(), history.last()) else {
        return 0.0;
    };
    let (v0, v) = (criteria(first), criteria(last));
    (0..3)
        .map(|c| {
            let tol = tolerances[c];
            if v[c] <= tol {
                1.0
            } else if !(v[c].is_finite() && v0[c].is_finite()) || v0[c] <= tol {
                0.0
            } else {
                ((v0[c] / v[c]).ln() / (v0[c] / tol).ln()).clamp(0.0, 1.0)
            }
        })
        .fold(1.0, f64::min)
}

/// Iterations still needed if every criterion above its tolerance keeps its geometric rate of
/// the last (up to) 5 iterations; `None` when one of them is not decreasing.
pub fn eta_iterations(history: &[StepStats], tolerances: [f64; 3]) -> Option<f64> {
    if history.len() < 2 {
        return None;
    }
    let last = criteria(history.last()?);
    let mut most = 0.0f64;
    for c in 0..3 {
        if last[c] <= tolerances[c] {
            continue;
        }
        let rate = recent_rate(history, |s| criteria(s)[c]).filter(|&r| r < 1.0)?;
        most = most.max((last[c] / tolerances[c]).ln() / -rate.ln());
    }
    Some(most)
}

/// Geometric mean of the ratios of `value` over the last (up to) 5 iterations, when both ends
/// are positive and finite.
fn recent_rate(history: &[StepStats], value: impl Fn(&StepStats) -> f64) -> Option<f64> {
    let n = history.len();
    if n < 2 {
        return None;
    }
    let j = (n - 1).min(5);
    let (a, b) = (value(&history[n - 1 - j]), value(&history[n - 1]));
    (a > 0.0 && b > 0.0 && a.is_finite() && b.is_finite()).then(|| (b / a).powf(1.0 / j as f64))
}

/// Geometric mean of the residual ratios over the last (up to) 5 iterations.
pub fn contraction_rate(history: &[StepStats]) -> Option<f64> {
    recent_rate(history, |s| s.residual)
}

impl Observer for Progress {
    fn step(&mut self, _iterate: &Iterate, history: &[StepStats]) -> Control {
        self.record(history)
    }

    fn finish(&mut self, solution: &Solution) {
        self.done(solution.termination, &solution.history);
    }
}

impl Progress {
    /// Shows the progress after the last step of `history` (what [`Observer::step`] does,
    /// for solvers without an [`Iterate`], such as the stationary one).
    pub fn record(&mut self, history: &[StepStats]) -> Control {
        if self.first {
            // Speed counts the iterations of this process only (a resumed run starts late).
            self.first = false;
            self.started_at = history.len().saturating_sub(1);
        }
        // Never moves back: a residual that rises for a while does not undo shown progress.
        self.position = self
            .position
            .max(convergence_fraction(history, self.tolerances));
        match self.mode {
            ProgressMode::Bar => {
                if let Some(b) = &self.bar {
                    b.set_position((self.position * BAR_LENGTH as f64) as u64);
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

    /// Ends the display: the run ended with `termination` after `history`.
    pub fn done(&mut self, termination: Termination, history: &[StepStats]) {
        // Converged also counts when the residual stopped at its round-off floor above the
        // tolerance.
        if termination == Termination::Converged {
            self.position = 1.0;
        }
        if let Some(b) = self.bar.take() {
            b.set_position((self.position * BAR_LENGTH as f64) as u64);
            b.finish_and_clear();
        }
        if self.mode == ProgressMode::Lines {
            eprintln!(
                "{} after {} iterations  {}",
                termination.as_str(),
                history.len(),
                self.describe(history)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(residual: f64, delta_u: f64, delta_m: f64) -> StepStats {
        StepStats {
            residual,
            delta_u,
            delta_m,
            ..StepStats::default()
        }
    }

    /// Residual and changes halving every iteration from 1 toward 1e-10.
    fn halving(n: usize) -> Vec<StepStats> {
        (0..n)
            .map(|i| {
                let v = 0.5f64.powi(i as i32);
                step(v, v, v)
            })
            .collect()
    }

    #[test]
    fn the_position_is_the_log_distance_to_the_slowest_tolerance() {
        let tol = [1e-10; 3];
        let h = halving(11);
        let expect = 10.0 * 2f64.ln() / 1e10f64.ln();
        assert!((convergence_fraction(&h, tol) - expect).abs() < 1e-12);
        // Δm still at its first value: no progress whatever the residual did.
        let mut h2 = h.clone();
        h2.last_mut().unwrap().delta_m = 1.0;
        assert_eq!(convergence_fraction(&h2, tol), 0.0);
        // All criteria below their tolerances: the end of the bar.
        assert_eq!(convergence_fraction(&halving(40), tol), 1.0);
        // 2^-k reaches 1e-10 at k = 33.2: 10 iterations done, 23.2 to go.
        let eta = eta_iterations(&h, tol).unwrap();
        assert!(
            (eta - (1e-10f64.ln() / 0.5f64.ln() - 10.0)).abs() < 1e-9,
            "{eta}"
        );
        // A criterion that does not decrease has no ETA.
        let flat: Vec<StepStats> = (0..6).map(|_| step(1.0, 1.0, 1.0)).collect();
        assert_eq!(eta_iterations(&flat, tol), None);
    }

    #[test]
    fn the_bar_reaches_its_end_at_convergence() {
        let cfg = crate::config::Config::from_toml_str(
            r#"
[grid]
x = { min = -1.0, max = 1.0, n = 21 }
[time]
horizon = 0.5
steps = 10
[[population]]
name = "a"
sigma = 0.4
initial = { profile = "gaussian", mean = 0.0, std = 0.3 }
terminal = "x^2"
[solver]
method = "picard"
[solver.picard]
relaxation = 0.5
"#,
        )
        .unwrap();
        let (problem, settings) = cfg.build().unwrap();
        let mut p = Progress::new(&settings.stopping, ProgressMode::Quiet);
        let s = crate::solve::solve_with(&problem, &settings, None, &mut p).unwrap();
        assert_eq!(s.termination, Termination::Converged);
        assert_eq!(p.position(), 1.0);
        // And an unconverged run stops short of it.
        let mut capped = settings.clone();
        capped.stopping.max_iterations = 3;
        let mut p = Progress::new(&capped.stopping, ProgressMode::Quiet);
        let s = crate::solve::solve_with(&problem, &capped, None, &mut p).unwrap();
        assert_ne!(s.termination, Termination::Converged);
        assert!(p.position() > 0.0 && p.position() < 1.0, "{}", p.position());
    }
}
