//! Model-free tabular learning on any [`crate::rl::Game`] (RL.md §3): the N-agent simulator
//! whose agents feel their own empirical distributions ([`simulator`]), per-type tabular
//! Q-learning — mean-field Q-learning with two time scales and fictitious play with learnt best
//! responses ([`qlearning`], on the per-type buffers and tables of [`replay`]) — and the
//! N-player evaluation of a mean-field policy, the gain of a single deviating agent as N grows
//! ([`deviation`]).
//!
//! Everything is seeded: for a given seed and settings the results are the same bit for bit
//! whatever the number of threads.

pub mod deviation;
pub mod qlearning;
pub mod replay;
mod sampling;
pub mod simulator;

pub use deviation::{deviation_gains, fit_rate, DeviationGain, DeviationSettings, RateFit};
pub use qlearning::{
    Epsilon, LearnRecord, Learnt, MeanFieldQLearning, QFictitiousPlay, QSettings, QTables,
    ReplayBuffer, Transition,
};
pub use simulator::{
    Behaviour, Environment, FnPolicy, ReturnStats, SimSettings, Simulation, Simulator,
    DEFAULT_CHUNK,
};
