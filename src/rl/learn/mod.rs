//! Model-free tabular learning on any [`crate::rl::Game`] (RL.md §3): the N-agent simulator
//! whose agents feel their own empirical distributions ([`simulator`]).
//!
//! Everything is seeded: for a given seed and settings the results are the same bit for bit
//! whatever the number of threads.

mod sampling;
pub mod simulator;

pub use simulator::{
    Behaviour, Environment, FnPolicy, ReturnStats, SimSettings, Simulation, Simulator,
    DEFAULT_CHUNK,
};
