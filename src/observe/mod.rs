//! Observers for [`crate::solve::solve_with`]: side effects during a solve, never part of the
//! result.
//!
//! - [`Interrupt`]: turns Ctrl-C (or any flag) into [`Control::Stop`], so that the driver ends
//!   with [`crate::Termination::Interrupted`] and the caller can save the state;
//! - [`Chain`]: several observers at once;
//! - `Progress` (feature `cli`): a progress bar on stderr when it is a terminal, plain log
//!   lines otherwise;
//! - `Checkpoint` (feature `hdf5`): writes the current iterate and history to the result file
//!   every N iterations (atomically: see `crate::files::atomic`).

#[cfg(feature = "hdf5")]
mod checkpoint;
#[cfg(feature = "cli")]
mod progress;

#[cfg(feature = "hdf5")]
pub use checkpoint::Checkpoint;
#[cfg(feature = "cli")]
pub use progress::{contraction_rate, Progress, ProgressMode};

use crate::solve::{Control, Iterate, Observer, Solution, StepStats};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

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
    /// A flag that is not set.
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
    /// one exits at once with code 130, after removing the temporary file of a write in
    /// progress (the file under the final name is untouched). Call at most once per process.
    /// `saving` says whether the caller will save the state (it has an output file), so that
    /// the message does not promise what will not happen.
    #[cfg(feature = "cli")]
    pub fn install_ctrlc(&self, saving: bool) -> Result<(), ctrlc::Error> {
        let flag = self.flag.clone();
        ctrlc::set_handler(move || {
            if flag.swap(true, Ordering::SeqCst) {
                // Files under their final names stay as they are; the temporary file of a
                // write in progress and the output locks go with the process.
                crate::files::abandon_all();
                eprintln!("\ninterrupted again: exiting without saving");
                std::process::exit(130);
            }
            if saving {
                eprintln!(
                    "\ninterrupt: stopping after the current iteration and saving the state \
                     (Ctrl-C again to quit at once)"
                );
            } else {
                eprintln!(
                    "\ninterrupt: stopping after the current iteration; nothing is saved (no \
                     --out FILE) (Ctrl-C again to quit at once)"
                );
            }
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
