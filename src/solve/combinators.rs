//! Methods made of methods, so that warm starts and fallbacks are not the business of any one
//! method: [`Sequence`] runs one method for the first iterations of a run and another after
//! them (e.g. a few Picard iterations to bring the density tails near the equilibrium's before
//! Newton); [`WithFallback`] runs a method and, whenever one of its steps stalls
//! ([`Outcome::Stalled`]), a second one for a few iterations before returning to the first.
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
}
