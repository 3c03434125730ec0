//! Model-free tabular learning on any [`crate::rl::Game`] (RL.md §3): the N-agent simulator
//! whose agents feel their own empirical distributions ([`simulator`]), per-type tabular
//! Q-learning — mean-field Q-learning with two time scales and fictitious play with learnt best
//! responses ([`qlearning`], on the per-type buffers and tables of [`replay`]).
//!
//! Everything is seeded: for a given seed and settings the results are the same bit for bit
//! whatever the number of threads.

pub mod qlearning;
pub mod replay;
mod sampling;
pub mod simulator;

pub use qlearning::{
    Epsilon, LearnRecord, Learnt, MeanFieldQLearning, QFictitiousPlay, QSettings, QTables,
    ReplayBuffer, Transition,
};
pub use simulator::{
    Behaviour, Environment, FnPolicy, ReturnStats, SimSettings, Simulation, Simulator,
    DEFAULT_CHUNK,
};
