//! Right-preconditioned BiCGSTAB (van der Vorst 1992; Saad, *Iterative Methods for Sparse
//! Linear Systems*, §7.4.2) for A x = b from x = 0: the iterates minimise nothing, so the
//! stopping test is checked on the true residual ‖b - A x‖₂, recomputed when the recursive
//! one claims convergence; when the two have drifted apart the method restarts from the true
//! residual (at most [`RESTARTS`] times).
//!
//! Round-off bounds the attainable residual by about ε (‖A‖ ‖x‖ + ‖b‖): a target below that
//! would stall, so a residual within 10³ of the target that has reached this floor is accepted
//! ([`BicgstabParams::operator_norm`] gives ‖A‖∞).

use crate::error::Result;
use crate::linalg::vector::{dot4 as dot, norm4 as norm};
use crate::linalg::LinearOperator;

/// Passes through the iteration from the true residual (the first one included).
pub const RESTARTS: usize = 3;

/// Settings of one solve.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BicgstabParams {
    /// Stop when ‖b - A x‖₂ ≤ max(rel_tol ‖b‖₂, abs_tol).
    pub rel_tol: f64,
    /// Absolute floor of the stopping test.
    pub abs_tol: f64,
    /// Iterations (two operator and two preconditioner products each) over all restarts.
    pub max_iterations: usize,
    /// ‖A‖∞ (or an upper estimate) for the round-off floor; 0 counts ‖b‖ only.
    pub operator_norm: f64,
}

/// What a solve did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct BicgstabInfo {
    /// Iterations done.
    pub iterations: usize,
    /// ‖b - A x‖₂ at the end: the true residual when converged, else the last one computed.
    pub residual: f64,
    /// Whether the stopping test was met.
    pub converged: bool,
}

/// Workspace of BiCGSTAB (six vectors of length n, kept between solves).
#[derive(Debug, Clone, Default)]
pub struct Bicgstab {
    work: [Vec<f64>; 6],
}

impl Bicgstab {
    /// A solver for systems of n unknowns (its work vectors grow on demand).
    pub fn new(n: usize) -> Self {
        Bicgstab {
            work: std::array::from_fn(|_| vec![0.0; n]),
        }
    }

    /// Two work vectors, free for the caller's use between solves (their contents are
    /// overwritten by the next solve).
    pub fn scratch(&mut self) -> (&mut [f64], &mut [f64]) {
        let [a, b, ..] = &mut self.work;
        (a, b)
    }

    /// Solves A x = b from x = 0 (`x` is output only), right-preconditioned by `m`, which
    /// applies M⁻¹. Not converging within the cap is reported in the info; errors come only
    /// from the operators.
    pub fn solve<A, M>(
        &mut self,
        a: &mut A,
        m: &mut M,
        b: &[f64],
        x: &mut [f64],
        params: &BicgstabParams,
    ) -> Result<BicgstabInfo>
    where
        A: LinearOperator + ?Sized,
        M: LinearOperator + ?Sized,
    {
        let n = b.len();
        for w in &mut self.work {
            w.resize(n, 0.0);
        }
        // Slices, not the Vecs: the fused loops below then keep pointers and lengths in
        // registers and vectorise (through the Vecs, a store may alias their headers).
        let [r, r0, p, v, s, t] = self.work.each_mut().map(|w| &mut w[..]);
        x.fill(0.0);
        r.copy_from_slice(b);
        let bnorm = norm(r);
        let target = params.abs_tol.max(params.rel_tol * bnorm);
        let mut info = BicgstabInfo {
            residual: bnorm,
            ..Default::default()
        };
        if bnorm <= target {
            info.converged = true;
            return Ok(info);
        }
        let a_norm = params.operator_norm;
        let floor = |x: &[f64]| 2.0 * f64::EPSILON * (a_norm * norm(x) + bnorm);
        let accept =
            |res: f64, x: &[f64]| res <= target || (res <= 1e3 * target && res <= floor(x));
        let mut it = 0;
        for _restart in 0..RESTARTS {
            r0.copy_from_slice(r);
            p.fill(0.0);
            v.fill(0.0);
            let (mut rho, mut alpha, mut omega) = (1.0, 1.0, 1.0);
            let mut rnorm = f64::INFINITY;
            while it < params.max_iterations {
                it += 1;
                let rho_new = dot(r0, r);
                if rho_new == 0.0 || omega == 0.0 || !rho_new.is_finite() {
                    break;
                }
                let beta = (rho_new / rho) * (alpha / omega);
                rho = rho_new;
                for ((p, r), v) in p.iter_mut().zip(&*r).zip(&*v) {
                    *p = r + beta * (*p - omega * v);
                }
                // s holds the preconditioned direction p̂ = M⁻¹p here.
                m.apply(p, s)?;
                a.apply(s, v)?;
                let r0v = dot(r0, v);
                if r0v == 0.0 || !r0v.is_finite() {
                    break;
                }
                alpha = rho / r0v;
                for (((x, s), r), v) in x.iter_mut().zip(s.iter_mut()).zip(&*r).zip(&*v) {
                    *x += alpha * *s;
                    *s = r - alpha * v;
                }
                let snorm = norm(s);
                if accept(snorm, x) {
                    r.copy_from_slice(s);
                    rnorm = snorm;
                    break;
                }
                // t holds ŝ = M⁻¹s; A ŝ goes into r, free until its update.
                m.apply(s, t)?;
                a.apply(t, r)?;
                let tt = dot(r, r);
                omega = if tt > 0.0 { dot(r, s) / tt } else { 0.0 };
                for (((x, r), s), t) in x.iter_mut().zip(r.iter_mut()).zip(&*s).zip(&*t) {
                    *x += omega * t;
                    *r = s - omega * *r;
                }
                rnorm = norm(r);
                if accept(rnorm, x) {
                    break;
                }
            }
            info.iterations = it;
            info.residual = rnorm;
            if !accept(rnorm, x) {
                return Ok(info);
            }
            a.apply(x, t)?;
            for ((r, b), t) in r.iter_mut().zip(b).zip(&*t) {
                *r = b - t;
            }
            info.residual = norm(r);
            if accept(info.residual, x) {
                info.converged = true;
                return Ok(info);
            }
        }
        Ok(info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::five_point::tests::{dense, lattices, random_m_matrix};
    use crate::linalg::five_point::{FivePoint, Lattice};
    use crate::linalg::testing::{dense_solve, rel_err, transpose, Lcg};
    use crate::linalg::{Identity, Milu, MiluParams, Transposed};

    fn params(a: &FivePoint) -> BicgstabParams {
        BicgstabParams {
            rel_tol: 1e-13,
            abs_tol: 0.0,
            max_iterations: 200,
            operator_norm: a.norm_inf(),
        }
    }

    /// MILU-preconditioned BiCGSTAB against a dense LU for A and Aᵀ, on every edge lattice
    /// (a 3-node line, periodic wraps on either axis); unpreconditioned too.
    #[test]
    fn milu_bicgstab_matches_a_dense_lu() {
        for (l, lat) in lattices().into_iter().enumerate() {
            let mut a = random_m_matrix(lat, 100 + l as u64, 0.3);
            let mut at = FivePoint::zeros(lat);
            a.transpose_into(&mut at);
            let n = lat.len();
            let d = dense(&a);
            let b = Lcg(7 + l as u64).vector(n, -0.4);
            let mut milu = Milu::new(lat);
            let mut scratch = vec![0.0; n];
            milu.factor(&a, &MiluParams { omega: 0.95 }, &mut scratch)
                .unwrap();
            milu.factor_transpose(&at);
            let mut ws = Bicgstab::new(n);
            let mut x = vec![0.0; n];
            let p = params(&a);
            let info = ws.solve(&mut a, &mut milu, &b, &mut x, &p).unwrap();
            assert!(info.converged, "lattice {l}: {info:?}");
            assert!(rel_err(&x, &dense_solve(n, &d, &b)) < 1e-11, "lattice {l}");
            // Aᵀ: the explicit transpose with Mᵀ, and the transposed views.
            let xt_ref = dense_solve(n, &transpose(n, &d), &b);
            let info = ws
                .solve(&mut at, &mut Transposed(&mut milu), &b, &mut x, &p)
                .unwrap();
            assert!(
                info.converged && rel_err(&x, &xt_ref) < 1e-11,
                "lattice {l}"
            );
            let info = ws
                .solve(&mut Transposed(&mut a), &mut Identity(n), &b, &mut x, &p)
                .unwrap();
            assert!(
                info.converged && rel_err(&x, &xt_ref) < 1e-11,
                "lattice {l}"
            );
        }
    }

    /// A cap below what the system needs: the info says so (with the residual reached), the
    /// call does not fail.
    #[test]
    fn non_convergence_is_reported_in_the_info() {
        let lat = Lattice::new(24, 20, false, true).unwrap();
        let mut a = random_m_matrix(lat, 5, 1e-3);
        let n = lat.len();
        let b = Lcg(1).vector(n, -0.5);
        let mut x = vec![0.0; n];
        let p = BicgstabParams {
            max_iterations: 2,
            ..params(&a)
        };
        let info = Bicgstab::new(n)
            .solve(&mut a, &mut Identity(n), &b, &mut x, &p)
            .unwrap();
        assert!(!info.converged, "{info:?}");
        assert_eq!(info.iterations, 2);
        assert!(info.residual.is_finite() && info.residual > 1e-13 * norm(&b));
        // A zero right-hand side converges at once, to x = 0.
        let info = Bicgstab::new(n)
            .solve(&mut a, &mut Identity(n), &vec![0.0; n], &mut x, &p)
            .unwrap();
        assert!(info.converged && info.iterations == 0 && x.iter().all(|v| *v == 0.0));
    }
}
