//! Restarted GMRES(m) with right preconditioning (Saad, *Iterative Methods for Sparse Linear
//! Systems*, §9.3.2): minimises the true residual ‖b - A x‖₂ over x₀ + M⁻¹K_j(A M⁻¹, r₀).
//! Modified Gram-Schmidt with one re-orthogonalisation pass when cancellation is detected,
//! Givens rotations for the small least-squares problem. faer 0.24 has no GMRES.
//!
//! Vectors are long (10⁶-10⁷ entries): the vector kernels of [`crate::linalg::vector`] run in
//! parallel chunks.

use crate::error::Result;
use crate::linalg::vector::{axpy, divide_into, norm, project_out, scale};
use crate::linalg::LinearOperator;

/// Stopping rule and size of one GMRES solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GmresParams {
    /// Krylov basis size before a restart (memory: restart + 1 vectors).
    pub restart: usize,
    /// Cap on the total number of iterations (matrix-vector products).
    pub max_iterations: usize,
    /// Stop when ‖r‖ ≤ max(rel_tol·‖b‖, abs_tol).
    pub rel_tol: f64,
    /// Absolute floor of the stopping test.
    pub abs_tol: f64,
}

/// What a solve did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct GmresInfo {
    /// Iterations (matrix-vector products) done, over all restarts.
    pub iterations: usize,
    /// ‖b‖₂.
    pub initial: f64,
    /// Final residual estimate ‖b - A x‖₂ (recomputed exactly at every restart).
    pub residual: f64,
    /// Whether the stopping test was met.
    pub converged: bool,
}

/// Workspace of GMRES (the basis is kept between solves).
#[derive(Debug, Default)]
pub struct Gmres {
    basis: Vec<Vec<f64>>,
    w: Vec<f64>,
    z: Vec<f64>,
}

impl Gmres {
    /// A solver with empty workspace (it grows to the first system).
    pub fn new() -> Self {
        Self::default()
    }

    /// Solves A x = b from the initial guess in `x`, right-preconditioned by `prec`, which
    /// applies M⁻¹ (both must be linear and fixed during the solve: no flexible variant).
    /// Returns the statistics; non-convergence within the cap is reported, not an error;
    /// errors come only from the operators.
    pub fn solve<A, M>(
        &mut self,
        op: &mut A,
        prec: &mut M,
        b: &[f64],
        x: &mut [f64],
        params: &GmresParams,
    ) -> Result<GmresInfo>
    where
        A: LinearOperator + ?Sized,
        M: LinearOperator + ?Sized,
    {
        let n = b.len();
        let m = params.restart.max(1);
        // Basis vectors are allocated on first use: most solves need far fewer than `restart`.
        if self.basis.is_empty() {
            self.basis.push(Vec::new());
        }
        self.basis[0].resize(n, 0.0);
        self.w.resize(n, 0.0);
        self.z.resize(n, 0.0);
        let bnorm = norm(b);
        let target = (params.rel_tol * bnorm).max(params.abs_tol);
        let mut info = GmresInfo {
            initial: bnorm,
            ..Default::default()
        };
        // Hessenberg matrix (column-major, (m+1) × m), rotations, right-hand side g.
        let mut h = vec![0.0; (m + 1) * m];
        let (mut cs, mut sn, mut g) = (vec![0.0; m], vec![0.0; m], vec![0.0; m + 1]);
        loop {
            // r = b - A x (x = 0 needs no product).
            let r = &mut self.basis[0];
            if x.iter().all(|v| *v == 0.0) {
                r.copy_from_slice(b);
            } else {
                op.apply(x, &mut self.w)?;
                r.iter_mut()
                    .zip(b.iter().zip(&self.w))
                    .for_each(|(r, (b, w))| *r = b - w);
            }
            let beta = norm(r);
            info.residual = beta;
            if beta <= target || !beta.is_finite() {
                info.converged = beta <= target;
                return Ok(info);
            }
            if info.iterations >= params.max_iterations {
                return Ok(info);
            }
            scale(1.0 / beta, r);
            g.fill(0.0);
            g[0] = beta;
            let mut j_done = 0;
            for j in 0..m {
                if info.iterations >= params.max_iterations {
                    break;
                }
                info.iterations += 1;
                prec.apply(&self.basis[j], &mut self.z)?;
                op.apply(&self.z, &mut self.w)?;
                let wnorm0 = norm(&self.w);
                let col = &mut h[j * (m + 1)..(j + 1) * (m + 1)];
                col.fill(0.0);
                // Classical Gram-Schmidt, fused over the basis (two passes over memory instead
                // of 2(j+1)), repeated once when the vector lost most of its length (CGS2).
                let mut hn = 0.0;
                for pass in 0..2 {
                    let hs = project_out(&self.basis[..=j], &mut self.w);
                    for (c, v) in col.iter_mut().zip(&hs) {
                        *c += v;
                    }
                    hn = norm(&self.w);
                    if pass == 0 && hn > 0.5 * wnorm0 {
                        break;
                    }
                }
                col[j + 1] = hn;
                if hn > 0.0 {
                    if self.basis.len() < j + 2 {
                        self.basis.push(Vec::new());
                    }
                    let next = &mut self.basis[j + 1];
                    next.resize(n, 0.0);
                    divide_into(&self.w, hn, next);
                }
                // Apply the previous rotations, then a new one zeroing col[j+1].
                for i in 0..j {
                    let t = cs[i] * col[i] + sn[i] * col[i + 1];
                    col[i + 1] = -sn[i] * col[i] + cs[i] * col[i + 1];
                    col[i] = t;
                }
                let den = (col[j] * col[j] + col[j + 1] * col[j + 1]).sqrt();
                if den == 0.0 {
                    cs[j] = 1.0;
                    sn[j] = 0.0;
                } else {
                    cs[j] = col[j] / den;
                    sn[j] = col[j + 1] / den;
                }
                col[j] = den;
                col[j + 1] = 0.0;
                g[j + 1] = -sn[j] * g[j];
                g[j] *= cs[j];
                j_done = j + 1;
                info.residual = g[j + 1].abs();
                if info.residual <= target || hn == 0.0 {
                    break;
                }
            }
            // y = H⁻¹ g (upper triangular), x += M⁻¹ V y.
            let mut y = vec![0.0; j_done];
            for i in (0..j_done).rev() {
                let mut s = g[i];
                for (l, yl) in y.iter().enumerate().skip(i + 1) {
                    s -= h[l * (m + 1) + i] * yl;
                }
                y[i] = s / h[i * (m + 1) + i];
            }
            self.w.fill(0.0);
            for (i, yi) in y.iter().enumerate() {
                axpy(*yi, &self.basis[i], &mut self.w);
            }
            prec.apply(&self.w, &mut self.z)?;
            axpy(1.0, &self.z, x);
            if info.residual <= target && j_done < m {
                // Converged inside the cycle: the estimate is exact up to round-off.
                info.converged = true;
                return Ok(info);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::testing::{dense_solve, rel_err, Lcg};
    use crate::linalg::{FnOperator, Identity};

    /// A nonsymmetric tridiagonal system, with and without a Jacobi preconditioner, and with
    /// restarts: the solution satisfies A x = b.
    #[test]
    fn solves_a_nonsymmetric_system() {
        let n = 200;
        let apply = |v: &[f64], y: &mut [f64]| {
            for i in 0..n {
                let mut s = (3.0 + (i % 7) as f64) * v[i];
                if i > 0 {
                    s -= 1.3 * v[i - 1];
                }
                if i + 1 < n {
                    s -= 0.6 * v[i + 1];
                }
                y[i] = s;
            }
        };
        let b: Vec<f64> = (0..n).map(|i| ((i * 13 % 17) as f64) - 8.0).collect();
        for (restart, jacobi) in [(50, false), (50, true), (5, true)] {
            let mut x = vec![0.0; n];
            let mut g = Gmres::new();
            let mut op = FnOperator::new(n, |v: &[f64], y: &mut [f64]| {
                apply(v, y);
                Ok(())
            });
            let mut prec = FnOperator::new(n, |r: &[f64], z: &mut [f64]| {
                for i in 0..n {
                    z[i] = if jacobi {
                        r[i] / (3.0 + (i % 7) as f64)
                    } else {
                        r[i]
                    };
                }
                Ok(())
            });
            let params = GmresParams {
                restart,
                max_iterations: 500,
                rel_tol: 1e-12,
                abs_tol: 0.0,
            };
            let info = g.solve(&mut op, &mut prec, &b, &mut x, &params).unwrap();
            assert!(info.converged, "{info:?}");
            let mut ax = vec![0.0; n];
            apply(&x, &mut ax);
            let err = ax
                .iter()
                .zip(&b)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            assert!(err < 1e-9, "restart {restart}: residual {err}");
        }
    }

    /// A strongly non-normal matrix (I + 2 × shift + random upper part, ‖A‖ ≫ 1/‖A⁻¹‖): full
    /// GMRES reaches the dense solution in at most n iterations; with a restart too short to
    /// capture it, the cap is reported as non-convergence, with the residual reached.
    #[test]
    fn non_normal_matrix_full_and_restarted() {
        for n in [3, 12] {
            let mut rng = Lcg(n as u64);
            let mut a = vec![0.0; n * n];
            for i in 0..n {
                a[i * n + i] = 1.0;
                if i + 1 < n {
                    a[i * n + i + 1] = 2.0;
                }
                for j in i + 2..n {
                    a[i * n + j] = 0.3 * rng.next();
                }
            }
            let b = rng.vector(n, -0.5);
            let matvec = |v: &[f64], y: &mut [f64]| {
                for i in 0..n {
                    y[i] = (0..n).map(|j| a[i * n + j] * v[j]).sum();
                }
                Ok(())
            };
            let solve = |params: &GmresParams| {
                let mut x = vec![0.0; n];
                let info = Gmres::new()
                    .solve(
                        &mut FnOperator::new(n, matvec),
                        &mut Identity(n),
                        &b,
                        &mut x,
                        params,
                    )
                    .unwrap();
                (info, x)
            };
            let params = GmresParams {
                restart: n,
                max_iterations: n + 1,
                rel_tol: 1e-13,
                abs_tol: 0.0,
            };
            let (info, x) = solve(&params);
            assert!(info.converged && info.iterations <= n, "n {n}: {info:?}");
            assert!(rel_err(&x, &dense_solve(n, &a, &b)) < 1e-10, "n {n}");
            if n > 3 {
                let (info, _) = solve(&GmresParams {
                    restart: 2,
                    max_iterations: 6,
                    ..params
                });
                assert!(!info.converged && info.iterations == 6, "{info:?}");
                assert!(info.residual > 1e-13 * info.initial && info.residual.is_finite());
            }
        }
    }

    /// An operator error aborts the solve and is returned.
    #[test]
    fn operator_errors_propagate() {
        let mut op = FnOperator::new(4, |_: &[f64], _: &mut [f64]| {
            Err(crate::Error::linear_solve("test", "refused"))
        });
        let params = GmresParams {
            restart: 4,
            max_iterations: 4,
            rel_tol: 1e-10,
            abs_tol: 0.0,
        };
        let e = Gmres::new()
            .solve(&mut op, &mut Identity(4), &[1.0; 4], &mut [0.0; 4], &params)
            .unwrap_err();
        assert!(e.to_string().contains("refused"), "{e}");
    }
}
