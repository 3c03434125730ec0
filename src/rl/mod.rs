//! Reinforcement learning on the discrete multi-population mean field game (RL.md): the game
//! abstraction ([`game`]), tabular policies and flows ([`policy`]), exact model-based tools
//! (forward flow, policy evaluation, best response, exploitability: [`exact`]), exact learning
//! algorithms with per-iteration records ([`algorithms`]), model-free tabular learners from
//! N-agent simulations ([`learn`]) and OpenSpiel's benchmark games ([`benchmarks`]), and the validation of a policy against the PDE solution of its problem
//! ([`validate`], the library side of `mfg validate`).
//!
//! Conventions: rewards are maximised; μ^k_t is a probability vector over population k's
//! states; exploitability is Σ_k μ0^k · (V^{k,BR}_0 − V^{k,π}_0) with both values against the
//! flow μ^π the profile itself induces (zero exactly at a Nash equilibrium).
//!
//! This module depends only on the numerical core (no file formats, plots or command line).

pub mod algorithms;
pub mod benchmarks;
pub mod exact;
pub mod game;
pub mod learn;
pub mod metrics;
pub mod pde;
pub mod policy;
pub mod validate;

pub use algorithms::{
    run, run_to_tolerance, Algorithm, BoltzmannIteration, DampedFixedPoint, FictitiousPlay,
    MirrorDescent, Record, ToleranceRun,
};
pub use exact::{assess, backward, exploitability, forward, tabulate, Assessment, Want};
pub use game::{Game, Kernel, KernelBuilder};
pub use learn::{
    deviation_gains, MeanFieldQLearning, QFictitiousPlay, QSettings, SimSettings, Simulation,
    Simulator,
};
pub use policy::{Flow, Policy, PolicyFunction, PopPolicy};
