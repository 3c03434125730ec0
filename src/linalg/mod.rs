//! Linear algebra below the scheme: the solvers of A x = b and Aᵀ x = b that the implicit
//! time steps (A = I/Δt - Q(u), an M-matrix) and Newton's space-time system (its Jacobian J)
//! need, with no knowledge of generators, populations or the FP/HJB policy built on top.
//!
//! - [`vector`]: the vector kernels (dot, norm, axpy, scaling), in parallel chunks for long
//!   vectors;
//! - [`tridiagonal`]: Thomas elimination and its cyclic (Sherman–Morrison) variant;
//! - [`sparse_lu`]: faer's sparse LU on a pattern built once from (row, column) entries, with
//!   an optional permutation and row/column scaling;
//! - [`five_point`], [`milu`]: structured 5-point storage on an Nx × Ny lattice and its relaxed
//!   modified incomplete LU with line-by-line triangular sweeps;
//! - [`bicgstab`], [`gmres`], [`multigrid`]: iterative methods.
//!
//! Conventions (after faer): every iterative method takes an `XxxParams` (settings) and
//! returns an `XxxInfo` (iterations, residual reached, converged). Not reaching the tolerance
//! is reported in the info, never as an error; errors are broken invariants — a zero or
//! non-finite pivot, a failed factorisation, an operator that cannot do what was asked — as
//! [`crate::Error::LinearSolve`] naming the solver. Operators and preconditioners are
//! [`LinearOperator`]s: a preconditioner is the operator x ↦ M⁻¹x. Methods are generic over
//! them (static dispatch: no virtual call per entry or per sweep). Workspaces are explicit
//! structs kept between solves.

pub mod bicgstab;
pub mod five_point;
pub mod gmres;
pub mod milu;
pub mod multigrid;
pub mod sparse_lu;
pub mod tridiagonal;
pub mod vector;

pub use bicgstab::{Bicgstab, BicgstabInfo, BicgstabParams};
pub use five_point::{FivePoint, Lattice};
pub use gmres::{Gmres, GmresInfo, GmresParams};
pub use milu::{Milu, MiluParams};
pub use multigrid::{Multigrid, MultigridInfo, MultigridParams};
pub use sparse_lu::{SparseLu, SparseLuParams};
pub use tridiagonal::{Cyclic, Tridiagonal};

use crate::error::{Error, Result};

/// A linear map of ℝⁿ: y = A x and y = Aᵀ x.
///
/// `&mut self` lets an operator keep scratch (a multigrid hierarchy's level vectors, the work
/// vectors of a matrix-free composition). Matrix-free compositions whose factors have no
/// transpose (the space-time Schur complement) keep the default [`apply_transpose`], which
/// returns an error: none of the Krylov methods here needs it.
///
/// [`apply_transpose`]: LinearOperator::apply_transpose
pub trait LinearOperator {
    /// n, the length of x and y.
    fn len(&self) -> usize;

    /// Whether n = 0.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// y = A x.
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()>;

    /// y = Aᵀ x.
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        let _ = (x, y);
        Err(Error::linear_solve(
            "operator",
            "this operator has no transpose",
        ))
    }
}

impl<T: LinearOperator + ?Sized> LinearOperator for &mut T {
    fn len(&self) -> usize {
        (**self).len()
    }
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        (**self).apply(x, y)
    }
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        (**self).apply_transpose(x, y)
    }
}

/// Aᵀ as an operator: solving with `Transposed(&mut a)` solves Aᵀ x = b.
#[derive(Debug)]
pub struct Transposed<A>(pub A);

impl<A: LinearOperator> LinearOperator for Transposed<A> {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.0.apply_transpose(x, y)
    }
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.0.apply(x, y)
    }
}

/// The identity (no preconditioning).
#[derive(Debug, Clone, Copy)]
pub struct Identity(pub usize);

impl LinearOperator for Identity {
    fn len(&self) -> usize {
        self.0
    }
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        y.copy_from_slice(x);
        Ok(())
    }
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        self.apply(x, y)
    }
}

/// A matrix-free operator y = A x given by a closure (no transpose).
pub struct FnOperator<F> {
    len: usize,
    apply: F,
}

impl<F: FnMut(&[f64], &mut [f64]) -> Result<()>> FnOperator<F> {
    /// An operator of `len` unknowns applying `apply(x, y)`: y ← A x.
    pub fn new(len: usize, apply: F) -> Self {
        FnOperator { len, apply }
    }
}

impl<F> std::fmt::Debug for FnOperator<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FnOperator")
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

impl<F: FnMut(&[f64], &mut [f64]) -> Result<()>> LinearOperator for FnOperator<F> {
    fn len(&self) -> usize {
        self.len
    }
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        (self.apply)(x, y)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    //! Seeded random matrices and a dense reference solver for the unit tests.

    /// A seeded generator of uniform numbers in [0, 1) (no dependency needed).
    pub struct Lcg(pub u64);

    impl Lcg {
        pub fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }

        pub fn vector(&mut self, n: usize, shift: f64) -> Vec<f64> {
            (0..n).map(|_| self.next() + shift).collect()
        }
    }

    /// Solves the dense system a x = b (row-major a) with nalgebra's LU.
    pub fn dense_solve(n: usize, a: &[f64], b: &[f64]) -> Vec<f64> {
        let m = nalgebra::DMatrix::from_row_slice(n, n, a);
        let x = m
            .lu()
            .solve(&nalgebra::DVector::from_column_slice(b))
            .expect("non-singular reference matrix");
        x.as_slice().to_vec()
    }

    /// Row-major transpose.
    pub fn transpose(n: usize, a: &[f64]) -> Vec<f64> {
        let mut t = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                t[j * n + i] = a[i * n + j];
            }
        }
        t
    }

    /// max |a - b| / max |b|.
    pub fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        let d = a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        d / b.iter().fold(0.0f64, |m, y| m.max(y.abs()))
    }
}
