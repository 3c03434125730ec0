//! Test models: problems paired with what is known about their answers.
//!
//! - [`congestion`]: two crowds with congestion Hamiltonians (cross weights), 1D and 2D;
//! - [`crossing`]: two populations crossing each other in 1D and 2D, any coupling (the Newton,
//!   Anderson and Jacobian tests);
//! - [`geometry`]: populations on regions of the grid and obstacles (the masked variants of
//!   the crossing problems, and a single population posed on a region or on the region alone);
//! - [`benchmarks`]: the problems of the performance record and the criterion benches, read from
//!   `data/benchmarks/`, and the methods as the record runs them;
//! - [`case_b`]: docs/math.md §6 case B, K = 2 with log couplings and its exact Gaussian solution;
//! - [`exits`]: the stationary exit problem (Hopf–Cole) and populations leaving a corridor and
//!   a room through doors;
//! - [`hopf_cole`]: docs/math.md §6 case C, the HJB alone against the Hopf–Cole solution;
//! - [`two_groups`]: the 1D K = 2 monotone problem of the reinforcement-learning tests.

pub mod benchmarks;
pub mod case_b;
pub mod congestion;
pub mod crossing;
pub mod exits;
pub mod geometry;
pub mod hopf_cole;
pub mod two_groups;
