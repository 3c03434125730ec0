//! Methods made of methods, so that warm starts and fallbacks are not the business of any one
//! method: [`Sequence`] runs one method for the first iterations of a run and another after
//! them (e.g. a few Picard iterations to bring the density tails near the equilibrium's before
//! Newton); [`WithFallback`] runs a method and, whenever one of its steps stalls
//! ([`Outcome::Stalled`]), a second one for a few iterations before returning to the first;
//! [`Switch`] runs a method until it stalls, diverges or uses up its share of the iterations,
//! then another one for the rest of the run, and says why ([`Method::take_event`]).
//! Sub-methods are built on first use ([`Lazy`]): a fallback that is never needed costs nothing.

use super::{Iterate, Method, Outcome, StepMeasure};
use crate::error::Result;
use crate::problem::Problem;

/// Builds a method for a problem.
pub type Builder = Box<dyn FnOnce(&Problem) -> Result<Box<dyn Method>> + Send>;

/// A method built when its first step is taken.
pub struct Lazy {
    name: &'static str,
    state: LazyState,
}

enum LazyState {
    Pending(Option<Builder>),
    Ready(Box<dyn Method>),
}

impl std::fmt::Debug for Lazy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let built = matches!(self.state, LazyState::Ready(_));
        f.debug_struct("Lazy")
            .field("name", &self.name)
            .field("built", &built)
            .finish()
    }
}

impl Lazy {
    /// A method named `name` that `build` creates on first use.
    pub fn new(name: &'static str, build: Builder) -> Self {
        Lazy {
            name,
            state: LazyState::Pending(Some(build)),
        }
    }

    fn method(&mut self, problem: &Problem) -> Result<&mut dyn Method> {
        if let LazyState::Pending(build) = &mut self.state {
            let build = build.take().expect("a pending method has its builder");
            self.state = LazyState::Ready(build(problem)?);
        }
        match &mut self.state {
            LazyState::Ready(m) => Ok(m.as_mut()),
            LazyState::Pending(_) => unreachable!("built above"),
        }
    }
}

impl Method for Lazy {
    fn name(&self) -> &'static str {
        self.name
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        self.method(problem)?.step(problem, iterate, iteration)
    }

    fn iterate_changed(&mut self) {
        if let LazyState::Ready(m) = &mut self.state {
            m.iterate_changed();
        }
    }

    fn take_event(&mut self) -> Option<String> {
        match &mut self.state {
            LazyState::Ready(m) => m.take_event(),
            LazyState::Pending(_) => None,
        }
    }
}

/// `first` for the iterations 0..`steps` of the run (counted over resumed runs too), `then`
/// after them. The run is named after `then`.
pub struct Sequence {
    first: Box<dyn Method>,
    steps: usize,
    then: Box<dyn Method>,
    in_first: bool,
}

impl std::fmt::Debug for Sequence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequence")
            .field("first", &self.first.name())
            .field("steps", &self.steps)
            .field("then", &self.then.name())
            .finish()
    }
}

impl Sequence {
    /// `first` for `steps` iterations, then `then`.
    pub fn new(first: Box<dyn Method>, steps: usize, then: Box<dyn Method>) -> Self {
        Sequence {
            first,
            steps,
            then,
            in_first: true,
        }
    }
}

impl Method for Sequence {
    fn name(&self) -> &'static str {
        self.then.name()
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        if iteration < self.steps {
            return self.first.step(problem, iterate, iteration);
        }
        if self.in_first {
            self.in_first = false;
            self.then.iterate_changed();
        }
        self.then.step(problem, iterate, iteration)
    }

    fn iterate_changed(&mut self) {
        self.first.iterate_changed();
        self.then.iterate_changed();
    }

    fn take_event(&mut self) -> Option<String> {
        self.first.take_event().or_else(|| self.then.take_event())
    }
}

/// `primary`, and `fallback` for the `steps` iterations after every stalled step of `primary`.
/// The run is named after `primary`.
pub struct WithFallback {
    primary: Box<dyn Method>,
    fallback: Box<dyn Method>,
    steps: usize,
    left: usize,
}

impl std::fmt::Debug for WithFallback {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithFallback")
            .field("primary", &self.primary.name())
            .field("fallback", &self.fallback.name())
            .field("steps", &self.steps)
            .field("left", &self.left)
            .finish()
    }
}

impl WithFallback {
    /// `primary` with `fallback` for `steps` iterations after each stall.
    pub fn new(primary: Box<dyn Method>, fallback: Box<dyn Method>, steps: usize) -> Self {
        WithFallback {
            primary,
            fallback,
            steps,
            left: 0,
        }
    }
}

impl Method for WithFallback {
    fn name(&self) -> &'static str {
        self.primary.name()
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        if self.left > 0 {
            self.left -= 1;
            let measure = self.fallback.step(problem, iterate, iteration)?;
            if self.left == 0 {
                self.primary.iterate_changed();
            }
            return Ok(measure);
        }
        let measure = self.primary.step(problem, iterate, iteration)?;
        if measure.outcome == Outcome::Stalled && self.steps > 0 {
            self.left = self.steps;
            self.fallback.iterate_changed();
        }
        Ok(measure)
    }

    fn iterate_changed(&mut self) {
        self.primary.iterate_changed();
        self.fallback.iterate_changed();
    }

    fn take_event(&mut self) -> Option<String> {
        self.primary
            .take_event()
            .or_else(|| self.fallback.take_event())
    }
}

/// Stalled steps in a row after which [`Switch`] leaves its first method.
pub const SWITCH_STALLS: usize = 3;
/// Growth of the residual over its best value after which [`Switch`] counts its first method
/// as diverging.
pub const SWITCH_GROWTH: f64 = 1e3;
/// Steps over which [`Switch`] expects its first method to have cut its best residual by
/// [`SWITCH_PROGRESS`]: Newton on the evacuation example (a monotone linear coupling with
/// exits) hovers at residual 3–8 for 200 steps (470 s) where adaptive Picard converges in 35
/// (1.5 s); with this test auto leaves Newton after 17 steps. A steadily converging method cuts
/// its residual by far more than half in 15 steps (Picard at rate 0.95 does).
pub const SWITCH_WINDOW: usize = 15;
/// The factor of [`SWITCH_WINDOW`].
pub const SWITCH_PROGRESS: f64 = 0.5;

/// `first` until it stalls [`SWITCH_STALLS`] times in a row, its residual grows beyond
/// [`SWITCH_GROWTH`] times its best value, its best residual has not fallen below
/// [`SWITCH_PROGRESS`] times what it was [`SWITCH_WINDOW`] steps earlier, an inner solve fails or a non-finite value appears
/// in its step (the iterate is then unchanged and the step counts as stalled), or it has taken
/// `share` steps; `then` for the rest of the run. The switch, with its reason, is reported by
/// [`Method::take_event`]. The run is named after the method in use.
///
/// With [`Switch::restarting`], `then` starts from the iterate the run started from (the cold
/// start, or the resumed state) when `first` failed rather than ran out of its share: the
/// iterate a stalled or diverging Newton leaves behind can be a worse start than the run's own
/// (measured on the segregation example: Anderson from the cold start converges in 67
/// iterations, from where Newton gave up it does not in 484).
pub struct Switch {
    first: Box<dyn Method>,
    then: Box<dyn Method>,
    share: usize,
    taken: usize,
    stalls: usize,
    /// The best residual after each step of `first` (the last one is the best so far).
    bests: Vec<f64>,
    switched: bool,
    event: Option<String>,
    /// Whether a failed `first` hands `then` the starting iterate.
    restart: bool,
    /// The iterate before the first step (kept only with `restart`).
    start: Option<Iterate>,
}

impl std::fmt::Debug for Switch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Switch")
            .field("first", &self.first.name())
            .field("then", &self.then.name())
            .field("share", &self.share)
            .field("switched", &self.switched)
            .finish()
    }
}

impl Switch {
    /// `first` for at most `share` steps, then `then`.
    pub fn new(first: Box<dyn Method>, share: usize, then: Box<dyn Method>) -> Self {
        Switch {
            first,
            then,
            share,
            taken: 0,
            stalls: 0,
            bests: Vec::new(),
            switched: false,
            event: None,
            restart: false,
            start: None,
        }
    }

    /// As [`Switch::new`], and when `first` fails (stalls, diverges, makes no progress, fails
    /// an inner solve, meets a non-finite value) `then` starts from the iterate the run
    /// started from. Costs one copy of the iterate for the whole of `first`'s run.
    pub fn restarting(first: Box<dyn Method>, share: usize, then: Box<dyn Method>) -> Self {
        Switch {
            restart: true,
            ..Self::new(first, share, then)
        }
    }

    /// Why `first` should be left after a step that measured `m`, if it should, and whether
    /// that is a failure of `first` (every reason but the share cap).
    fn reason(&mut self, m: &StepMeasure) -> Option<(String, bool)> {
        let name = self.first.name();
        match m.outcome {
            Outcome::Stalled => self.stalls += 1,
            Outcome::InnerSolveFailed {
                population,
                step,
                residual,
                ..
            } => {
                return Some((
                    format!(
                    "{name}: the HJB Newton iteration of population {population} failed at time \
                     step {step} (residual {residual:.3e})"
                ),
                    true,
                ))
            }
            Outcome::NonFinite { what, .. } => {
                return Some((format!("{name}: non-finite value in {what}"), true))
            }
            Outcome::Advanced => self.stalls = 0,
        }
        let r = m.residual.norm();
        if self.stalls >= SWITCH_STALLS {
            return Some((
                format!(
                    "{name} stalled {} times in a row (residual {r:.3e})",
                    self.stalls
                ),
                true,
            ));
        }
        let best = self.bests.last().copied().unwrap_or(f64::INFINITY);
        if r.is_finite() && r > SWITCH_GROWTH * best {
            return Some((
                format!(
                "{name} diverges: residual {r:.3e}, more than {SWITCH_GROWTH:.0e} times its best \
                 {best:.3e}"
            ),
                true,
            ));
        }
        let best = best.min(r);
        self.bests.push(best);
        let window_ago = self.bests.len().checked_sub(SWITCH_WINDOW + 1);
        if let Some(before) = window_ago.map(|i| self.bests[i]) {
            if before.is_finite() && best > SWITCH_PROGRESS * before {
                return Some((
                    format!(
                        "{name} makes no progress: its best residual {best:.3e} is more than \
                     {SWITCH_PROGRESS} times the {before:.3e} of {SWITCH_WINDOW} iterations ago"
                    ),
                    true,
                ));
            }
        }
        if self.taken >= self.share {
            return Some((
                format!(
                    "{name} did not converge in its share of {} iterations (residual {r:.3e})",
                    self.share
                ),
                false,
            ));
        }
        None
    }
}

impl Method for Switch {
    fn name(&self) -> &'static str {
        if self.switched {
            self.then.name()
        } else {
            self.first.name()
        }
    }

    fn step(
        &mut self,
        problem: &Problem,
        iterate: &mut Iterate,
        iteration: usize,
    ) -> Result<StepMeasure> {
        if self.switched {
            return self.then.step(problem, iterate, iteration);
        }
        if self.restart && self.taken == 0 {
            self.start = Some(iterate.clone());
        }
        let measure = self.first.step(problem, iterate, iteration)?;
        self.taken += 1;
        if let Some((reason, failed)) = self.reason(&measure) {
            self.switched = true;
            let restarted = match self.start.take() {
                Some(start) if failed => {
                    *iterate = start;
                    "; it starts from the run's starting point"
                }
                _ => "",
            };
            self.then.iterate_changed();
            self.event = Some(format!(
                "switched to {}: {reason}{restarted}",
                self.then.name()
            ));
            if matches!(
                measure.outcome,
                Outcome::InnerSolveFailed { .. } | Outcome::NonFinite { .. }
            ) {
                // The iterate is unchanged: the next method takes this step from it.
                return self.then.step(problem, iterate, iteration);
            }
        }
        Ok(measure)
    }

    fn iterate_changed(&mut self) {
        self.first.iterate_changed();
        self.then.iterate_changed();
    }

    fn take_event(&mut self) -> Option<String> {
        self.event
            .take()
            .or_else(|| self.first.take_event())
            .or_else(|| self.then.take_event())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::problem::hamiltonian::Quadratic;
    use crate::problem::Population;
    use crate::scheme::Residual;
    use crate::{Boundary, Grid, TimeGrid};

    /// A method whose k-th step reports `residual(k)` and changes nothing.
    struct Scripted(&'static str, fn(usize) -> f64, usize);

    impl Method for Scripted {
        fn name(&self) -> &'static str {
            self.0
        }
        fn step(&mut self, _: &Problem, _: &mut Iterate, _: usize) -> Result<StepMeasure> {
            self.2 += 1;
            Ok(StepMeasure {
                residual: Residual {
                    hjb: (self.1)(self.2),
                    ..Residual::default()
                },
                ..StepMeasure::default()
            })
        }
    }

    /// The step after which `Switch` leaves a first method reporting `residual`, and why.
    fn switch_after(residual: fn(usize) -> f64) -> Option<(usize, String)> {
        let grid = Grid::new_1d(0.0, 1.0, 5, Boundary::Reflecting).unwrap();
        let problem = Problem::builder(grid, TimeGrid::new(1.0, 2).unwrap())
            .population(Population::builder("a", 0.5, Quadratic::new(1.0)))
            .build()
            .unwrap();
        let mut it = Iterate::initial(&problem);
        let first = Box::new(Scripted("first", residual, 0));
        let then = Box::new(Scripted("then", |_| 0.0, 0));
        let mut s = Switch::new(first, 100, then);
        for k in 1..=60 {
            s.step(&problem, &mut it, k).unwrap();
            if let Some(e) = s.take_event() {
                return Some((k, e));
            }
        }
        None
    }

    #[test]
    fn a_method_that_hovers_is_left_after_the_progress_window() {
        // Fluctuating between 3 and 5 without a new best below half of an old one.
        let (k, why) = switch_after(|k| 4.0 + (k as f64).sin()).unwrap();
        assert_eq!(k, SWITCH_WINDOW + 1, "{why}");
        assert!(why.contains("first makes no progress"), "{why}");
    }

    #[test]
    fn a_method_converging_at_rate_095_is_kept() {
        // 0.95^15 = 0.46 < 1/2: slow linear convergence is progress.
        assert_eq!(switch_after(|k| 0.95f64.powi(k as i32)), None);
    }

    #[test]
    fn a_residual_that_explodes_is_divergence() {
        let (k, why) = switch_after(|k| 10f64.powi(k as i32)).unwrap();
        assert_eq!(k, 5, "{why}");
        assert!(why.contains("diverges"), "{why}");
    }

    /// A method that moves u by 1 each step and reports `residual(k)`.
    struct Drifting(fn(usize) -> f64, usize);

    impl Method for Drifting {
        fn name(&self) -> &'static str {
            "drifting"
        }
        fn step(&mut self, _: &Problem, it: &mut Iterate, _: usize) -> Result<StepMeasure> {
            self.1 += 1;
            it.u[0].as_mut_slice().iter_mut().for_each(|v| *v += 1.0);
            Ok(StepMeasure {
                residual: Residual {
                    hjb: (self.0)(self.1),
                    ..Residual::default()
                },
                ..StepMeasure::default()
            })
        }
    }

    /// How far u has moved from the start when `then` takes over, for a failing (hovering)
    /// first method and one that only ran out of its share of 5 steps.
    fn moved_at_switch(restarting: bool, residual: fn(usize) -> f64) -> (f64, String) {
        let grid = Grid::new_1d(0.0, 1.0, 5, Boundary::Reflecting).unwrap();
        let problem = Problem::builder(grid, TimeGrid::new(1.0, 2).unwrap())
            .population(Population::builder("a", 0.5, Quadratic::new(1.0)))
            .build()
            .unwrap();
        let start = Iterate::initial(&problem);
        let mut it = start.clone();
        let first = Box::new(Drifting(residual, 0));
        let then = Box::new(Scripted("then", |_| 0.0, 0));
        let mut s = if restarting {
            Switch::restarting(first, 5, then)
        } else {
            Switch::new(first, 5, then)
        };
        for k in 1..=60 {
            s.step(&problem, &mut it, k).unwrap();
            if let Some(e) = s.take_event() {
                return (it.u[0].max_abs_diff(&start.u[0]), e);
            }
        }
        panic!("no switch");
    }

    #[test]
    fn a_restarting_switch_hands_a_failure_the_starting_iterate() {
        let diverging = |k: usize| 10f64.powi(k as i32);
        let (moved, why) = moved_at_switch(true, diverging);
        assert_eq!(moved, 0.0, "{why}");
        assert!(
            why.contains("starts from the run's starting point"),
            "{why}"
        );
        // Without restarting, the fallback continues where the first method stopped.
        let (moved, why) = moved_at_switch(false, diverging);
        assert_eq!(moved, 5.0, "{why}");
        // Running out of its share is not a failure: the progress made is kept.
        let (moved, why) = moved_at_switch(true, |k| 0.9f64.powi(k as i32));
        assert_eq!(moved, 5.0, "{why}");
        assert!(
            why.contains("share") && !why.contains("starting point"),
            "{why}"
        );
    }
}
