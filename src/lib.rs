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
//! FP operator is the exact adjoint of the linearised HJB operator. The repository's
//! `docs/math.md` states the equations, sign conventions, the scheme and the exact solutions the
//! tests check.
//!
//! # Example
//!
//! Two populations on a line with log self- and cross-congestion:
//!
//! ```
//! # fn main() -> mfg::Result<()> {
//! use mfg::problem::{coupling::Log, hamiltonian::Quadratic};
//! use mfg::{Boundary, Grid, Population, Problem, SolverSettings, Termination, TimeGrid};
//!
//! let grid = Grid::new_1d(-2.0, 2.0, 101, Boundary::Reflecting)?;
//! let problem = Problem::builder(grid, TimeGrid::new(1.0, 50)?)
//!     .population(
//!         Population::builder("a", 0.4, Quadratic::new(1.0))
//!             .initial(|x| (-(x[0] + 0.5).powi(2) / 0.05).exp())
//!             .terminal(|x| (x[0] - 1.0).powi(2)),
//!     )
//!     .population(
//!         Population::builder("b", 0.3, Quadratic::new(3.0))
//!             .initial(|x| (-(x[0] - 0.5).powi(2) / 0.05).exp()),
//!     )
//!     .coupling(Log::from_rows(&[vec![0.1, 0.05], vec![0.05, 0.1]]))
//!     .build()?;
//! let solution = mfg::solve(&problem, &SolverSettings::default())?;
//! assert_eq!(solution.termination, Termination::Converged);
//! # Ok(())
//! # }
//! ```
//!
//! Layers, dependencies pointing down: [`config`] → [`mod@solve`] → [`scheme`] → [`problem`] and
//! [`linalg`] (which know nothing of each other) → [`grid`], with [`error`] at the bottom.
//! Above the core, which never imports them: `io` (HDF5 result files, cargo feature `hdf5`),
//! `plot` (pictures, feature `plot`) and [`observe`] (interruption; progress with feature
//! `cli`, checkpoints with feature `hdf5`). All three
//! features are on by default; `default-features = false` leaves the numerical core, which links
//! no C library.
//! [`rl`] (the discrete game of a problem, OpenSpiel's benchmark games, exact learning and
//! exploitability) builds on the core and needs none of those.
//!
//! The module `guide` (the repository's `docs/guide.md`; default features) walks through the
//! library with examples that run as doctests: building a problem, choosing a method, reading
//! u, m and α, result files, one's own Hamiltonian and coupling, observing a run.

#![warn(missing_docs)]

pub mod config;
pub mod error;
pub(crate) mod expr;
pub mod field;
pub mod files;
pub mod grid;
// The guide's examples write result files, so it needs `io`.
#[cfg(feature = "hdf5")]
pub mod guide;
#[cfg(feature = "hdf5")]
pub mod io;
pub mod linalg;
pub mod observe;
#[cfg(feature = "plot")]
pub mod plot;
pub mod problem;
pub mod rl;
pub mod scheme;
pub mod solve;

pub use error::{Error, Result};
pub use field::Field;
pub use grid::{Axis, Boundary, Grid, TimeGrid};
pub use problem::{Population, Problem};
pub use solve::{solve, Iterate, Solution, SolverSettings, Termination};
