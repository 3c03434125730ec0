//! `mfg`: multi-population (heterogeneous-agent) mean field games.
//!
//! K agent types share a space; type k solves
//!
//! ```text
//! -∂t u^k - ν_k Δu^k + H^k(x, ∇u^k, m) = f^k(x, m^1..m^K) + V^k(x),   u^k(T) = g^k
//!  ∂t m^k - ν_k Δm^k - div(m^k ∂p H^k(x, ∇u^k, m)) = 0,               m^k(0) = m0^k
//! ```
//!
//! discretised by the monotone finite-difference scheme of Achdou and Capuzzo-Dolcetta, whose
//! FP operator is the exact adjoint of the linearised HJB operator (see `docs`/MATH.md).
//!
//! Layers, dependencies pointing down: [`config`] → [`solve`] → [`scheme`] → [`problem`] →
//! [`grid`], with [`error`] at the bottom. Above the core: [`io`] (HDF5 result files), [`plot`]
//! (pictures) and [`observe`] (progress, checkpoints, Ctrl-C), which the core never imports.

pub mod config;
pub mod error;
pub mod field;
pub mod grid;
pub mod io;
pub mod observe;
pub mod plot;
pub mod problem;
pub mod scheme;
pub mod solve;

pub use error::{Error, Result};
pub use field::Field;
pub use grid::{Axis, Boundary, Grid, TimeGrid};
pub use problem::{Population, Problem};
pub use solve::{solve, Iterate, Solution, SolverSettings, Termination};
