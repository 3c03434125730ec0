//! Relaxed modified incomplete LU of a 5-point matrix A ([`FivePoint`]):
//! M = (I + L D⁻¹)(D + U), L and U the strict triangles of A (no fill), with pivots
//!
//!   d_i = a_ii - Σ_{j<i} (a_ij/d_j) [a_ji + ω Σ_{k>j, k≠i} a_jk]
//!
//! ω = 0 is D-ILU (diag M = diag A; equal to ILU(0) on non-periodic lattices), ω = 1 modified
//! ILU (the dropped fill lumped onto the diagonal, M 1 = A 1), a better preconditioner for
//! diffusion-dominated rows. The triangular sweeps run line by line, two x-lines at a time to
//! overlap their recurrences.
//!
//! The same pivots give the factors of Mᵀ = (I + Uᵀ D⁻¹)(D + Lᵀ), the incomplete LU of Aᵀ:
//! one factorisation preconditions A and Aᵀ.
//!
//! For an M-matrix A, D-ILU is a regular splitting A = M - N: M⁻¹ ≥ 0 and
//! N = offdiag(L D⁻¹ U) ≥ 0 ([`Milu::remainder`]), so the Richardson steps
//! x ← M⁻¹(N x + b) ([`Milu::richardson`]) map x ≥ 0 to x ≥ 0 when b ≥ 0, exactly in floating
//! point, and converge (ρ(M⁻¹N) < 1).

use crate::error::{Error, Result};
use crate::linalg::five_point::{FivePoint, Lattice, C, E, N, S, W};
use crate::linalg::LinearOperator;

/// A 5-point matrix's coefficient arrays (see [`FivePoint`]).
type Five = [Vec<f64>; 5];
/// Incomplete factors of a [`Five`]: every off-diagonal a_ij scaled by 1/d_min(i,j), i.e. the
/// strict lower part of L D⁻¹ and the strict upper part of D⁻¹ U.
type Scaled = [Vec<f64>; 4];

/// Settings of [`Milu`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MiluParams {
    /// Weight ω ∈ [0, 1] of the dropped fill lumped onto the pivots.
    pub omega: f64,
}

/// The incomplete factors of A (and, once [`Milu::factor_transpose`] ran, of Aᵀ); as a
/// [`LinearOperator`] it applies M⁻¹ and M⁻ᵀ.
#[derive(Debug, Clone)]
pub struct Milu {
    lat: Lattice,
    omega: f64,
    /// Pivots 1/d_i, shared by A and Aᵀ.
    inv_d: Vec<f64>,
    sc: Scaled,
    sc_t: Scaled,
    transpose_ready: bool,
}

impl Milu {
    /// Storage for the factors of a matrix on `lat`.
    pub fn new(lat: Lattice) -> Self {
        let n = lat.len();
        Milu {
            lat,
            omega: 0.0,
            inv_d: vec![0.0; n],
            sc: std::array::from_fn(|_| vec![0.0; n]),
            sc_t: std::array::from_fn(|_| vec![0.0; n]),
            transpose_ready: false,
        }
    }

    /// The pivots and factors of `a`; `scratch` (length n) is workspace. Errors on a pivot
    /// that is not positive and finite. The factors of Aᵀ are invalidated.
    pub fn factor(
        &mut self,
        a: &FivePoint,
        params: &MiluParams,
        scratch: &mut [f64],
    ) -> Result<()> {
        self.omega = params.omega;
        self.transpose_ready = false;
        if !dilu(&self.lat, &a.a, params.omega, scratch, &mut self.inv_d) {
            return Err(Error::linear_solve(
                "MILU",
                "non-positive or non-finite pivot in the incomplete LU",
            ));
        }
        scale(&self.lat, &a.a, &self.inv_d, &mut self.sc);
        Ok(())
    }

    /// The factors of Mᵀ from `at`, which must be the transpose of the matrix last factored
    /// (as [`FivePoint::transpose_into`] gives it).
    pub fn factor_transpose(&mut self, at: &FivePoint) {
        scale(&self.lat, &at.a, &self.inv_d, &mut self.sc_t);
        self.transpose_ready = true;
    }

    fn factors(&self, transpose: bool) -> &Scaled {
        assert!(
            !transpose || self.transpose_ready,
            "Milu::factor_transpose must run before solves with Mᵀ"
        );
        if transpose {
            &self.sc_t
        } else {
            &self.sc
        }
    }

    /// v ← M⁻¹ v, or M⁻ᵀ v with `transpose`.
    pub fn solve_in_place(&self, v: &mut [f64], transpose: bool) {
        let sc = self.factors(transpose);
        forward(&self.lat, sc, v);
        backward(&self.lat, sc, &self.inv_d, v);
    }

    /// out = N x for the D-ILU splitting A = M - N (or Aᵀ = Mᵀ - Nᵀ with `transpose`, `a`
    /// then being Aᵀ): every term is a product of two non-positive coefficients and x_k, so
    /// x ≥ 0 gives out ≥ 0 exactly.
    pub fn remainder(&self, a: &FivePoint, transpose: bool, x: &[f64], out: &mut [f64]) {
        assert!(
            self.omega == 0.0,
            "the splitting A = M - N needs D-ILU (ω = 0)"
        );
        remainder(&self.lat, &a.a, self.factors(transpose), x, out);
    }

    /// `steps` Richardson steps x ← M⁻¹(N x + b) of the D-ILU splitting of `a` (A, or Aᵀ with
    /// `transpose`); `t` is scratch.
    pub fn richardson(
        &self,
        a: &FivePoint,
        transpose: bool,
        b: &[f64],
        x: &mut [f64],
        t: &mut [f64],
        steps: usize,
    ) {
        for _ in 0..steps {
            self.remainder(a, transpose, x, t);
            t.iter_mut().zip(b).for_each(|(ti, bi)| *ti += bi);
            self.solve_in_place(t, transpose);
            x.copy_from_slice(t);
        }
    }
}

impl LinearOperator for Milu {
    fn len(&self) -> usize {
        self.lat.len()
    }

    /// y = M⁻¹ x.
    fn apply(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        y.copy_from_slice(x);
        self.solve_in_place(y, false);
        Ok(())
    }

    /// y = M⁻ᵀ x (needs [`Milu::factor_transpose`]).
    fn apply_transpose(&mut self, x: &[f64], y: &mut [f64]) -> Result<()> {
        if !self.transpose_ready {
            return Err(Error::linear_solve(
                "MILU",
                "the factors of the transpose were not computed",
            ));
        }
        y.copy_from_slice(x);
        self.solve_in_place(y, true);
        Ok(())
    }
}

/// Pivots of the incomplete factorisation M = (I + L D⁻¹)(D + U) (L, U: the strict triangles
/// of A), into `inv_d` as 1/d_i:
///
///   d_i = a_ii - Σ_{j<i} (a_ij/d_j) [a_ji + ω Σ_{k>j, k≠i} a_jk]
///
/// over the neighbours j < i. ω = 0 is D-ILU (diag M = diag A); ω = 1 is modified ILU (the
/// dropped fill is lumped onto the diagonal, so M 1 = A 1), a better preconditioner for
/// diffusion-dominated rows. `us` is scratch. Returns false on a pivot that is not positive
/// and finite.
///
/// For ω = 0 and an M-matrix with row sums ≥ σ > 0 every pivot satisfies d_i ≥ a_ii -
/// Σ_{j<i} |a_ij| (≥ σ + Σ_{j>i} |a_ij|): by induction, |a_ji|/d_j ≤ |a_ji| / Σ_{k>j}|a_jk|
/// ≤ 1 for i > j. For ω > 0 the pivots are smaller and are only checked.
fn dilu(lat: &Lattice, a: &Five, omega: f64, us: &mut [f64], inv_d: &mut [f64]) -> bool {
    let (nx, ny) = (lat.nx, lat.ny);
    // us_j = Σ_{k>j} a_jk, the upper off-diagonal row sum.
    for (j, u) in us.iter_mut().enumerate() {
        *u = a[E][j] + a[N][j];
    }
    for iy in 0..ny {
        let o = iy * nx;
        if lat.px {
            us[o + nx - 1] -= a[E][o + nx - 1];
            us[o] += a[W][o];
        }
    }
    if lat.py && ny > 1 {
        for k in 0..nx {
            us[(ny - 1) * nx + k] -= a[N][(ny - 1) * nx + k];
            us[k] += a[S][k];
        }
    }
    // The factor multiplying a_ij/d_j: a_ji + ω (us_j - a_ji).
    let g = |a_ji: f64, us_j: f64| a_ji + omega * (us_j - a_ji);
    for iy in 0..ny {
        let o = iy * nx;
        // Contributions of the line below (and the periodic wrap) vectorise; the west
        // recurrence is serial.
        let (done, rest) = inv_d.split_at_mut(o);
        let cur = &mut rest[..nx];
        cur.copy_from_slice(&a[C][o..o + nx]);
        if iy > 0 {
            let (as_, an, id, u) = (
                &a[S][o..o + nx],
                &a[N][o - nx..o],
                &done[o - nx..o],
                &us[o - nx..o],
            );
            for k in 0..nx {
                cur[k] -= as_[k] * g(an[k], u[k]) * id[k];
            }
        }
        if lat.py && iy == ny - 1 && iy > 0 {
            let (an, as0, id, u) = (&a[N][o..o + nx], &a[S][..nx], &done[..nx], &us[..nx]);
            for k in 0..nx {
                cur[k] -= an[k] * g(as0[k], u[k]) * id[k];
            }
        }
        let (aw, ae, u) = (&a[W][o..o + nx], &a[E][o..o + nx], &us[o..o + nx]);
        let mut prev = 1.0 / cur[0];
        cur[0] = prev;
        for k in 1..nx {
            let mut d = cur[k] - aw[k] * g(ae[k - 1], u[k - 1]) * prev;
            if lat.px && k == nx - 1 {
                d -= ae[k] * g(aw[0], u[0]) * cur[0];
            }
            prev = 1.0 / d;
            cur[k] = prev;
        }
        if !cur.iter().all(|v| v.is_finite() && *v > 0.0) {
            return false;
        }
    }
    true
}

/// The incomplete factors of `a` with pivots `inv_d` (see [`Scaled`]).
fn scale(lat: &Lattice, a: &Five, inv_d: &[f64], sc: &mut Scaled) {
    let (nx, ny) = (lat.nx, lat.ny);
    for dir in [W, E, S, N] {
        let (src, dst) = (&a[dir], &mut sc[dir]);
        for k in 0..src.len() {
            dst[k] = src[k] * inv_d[k];
        }
    }
    // Entries below the diagonal take the pivot of their column instead.
    for iy in 0..ny {
        let o = iy * nx;
        for k in 1..nx {
            sc[W][o + k] = a[W][o + k] * inv_d[o + k - 1];
        }
        if lat.px {
            sc[E][o + nx - 1] = a[E][o + nx - 1] * inv_d[o];
        }
        if iy > 0 {
            for k in 0..nx {
                sc[S][o + k] = a[S][o + k] * inv_d[o - nx + k];
            }
        }
        if lat.py && iy == ny - 1 && iy > 0 {
            for k in 0..nx {
                sc[N][o + k] = a[N][o + k] * inv_d[k];
            }
        }
    }
}

/// v ← (I + L D⁻¹)⁻¹ v.
///
/// Each x-line is a first-order recurrence, latency-bound; two lines are swept together with a
/// lag of one node (the upper line's node k needs the lower line's node k), so that two
/// independent dependency chains overlap.
fn forward(lat: &Lattice, sc: &Scaled, v: &mut [f64]) {
    let (nx, ny) = (lat.nx, lat.ny);
    let mut iy = 0;
    while iy < ny {
        let pair = iy + 1 < ny;
        let rows = if pair { 2 } else { 1 };
        // Couplings to finished lines: the line below, and line 0 across a periodic y wall.
        for l in iy..iy + rows {
            let o = l * nx;
            let (lo, hi) = v.split_at_mut(o);
            let cur = &mut hi[..nx];
            if l == iy && l > 0 {
                let (ss, prev) = (&sc[S][o..o + nx], &lo[o - nx..]);
                for k in 0..nx {
                    cur[k] -= ss[k] * prev[k];
                }
            }
            if lat.py && l == ny - 1 && l > 1 {
                let (sn, first) = (&sc[N][o..o + nx], &lo[..nx]);
                for k in 0..nx {
                    cur[k] -= sn[k] * first[k];
                }
            }
        }
        let o = iy * nx;
        let se_a = sc[E][o + nx - 1];
        if !pair {
            let cur = &mut v[o..o + nx];
            let sw = &sc[W][o..o + nx];
            let mut prev = cur[0];
            for k in 1..nx {
                prev = cur[k] - sw[k] * prev;
                cur[k] = prev;
            }
            if lat.px {
                cur[nx - 1] -= se_a * cur[0];
            }
            iy += 1;
            continue;
        }
        let (la, lb) = v[o..o + 2 * nx].split_at_mut(nx);
        let (swa, swb, ssb) = (
            &sc[W][o..o + nx],
            &sc[W][o + nx..o + 2 * nx],
            &sc[S][o + nx..o + 2 * nx],
        );
        let mut pa = la[0];
        let mut pb = lb[0] - ssb[0] * pa;
        lb[0] = pb;
        for k in 1..nx - 1 {
            pa = la[k] - swa[k] * pa;
            la[k] = pa;
            pb = lb[k] - ssb[k] * pa - swb[k] * pb;
            lb[k] = pb;
        }
        let k = nx - 1;
        pa = la[k] - swa[k] * pa;
        if lat.px {
            pa -= se_a * la[0];
        }
        la[k] = pa;
        pb = lb[k] - ssb[k] * pa - swb[k] * pb;
        if lat.px {
            pb -= sc[E][o + 2 * nx - 1] * lb[0];
        }
        lb[k] = pb;
        iy += 2;
    }
}

/// v ← (D + U)⁻¹ v, two lines at a time from the top as in [`forward`].
fn backward(lat: &Lattice, sc: &Scaled, inv_d: &[f64], v: &mut [f64]) {
    let (nx, ny) = (lat.nx, lat.ny);
    let mut top = ny;
    while top > 0 {
        let pair = top >= 2;
        let rows = if pair { 2 } else { 1 };
        let low = top - rows;
        // Lines low..top; the finished couplings: the line above `top - 1`, and the last line
        // across a periodic y wall for line 0.
        for l in low..top {
            let o = l * nx;
            let (lo, hi) = v.split_at_mut(o + nx);
            let cur = &mut lo[o..];
            let id = &inv_d[o..o + nx];
            for k in 0..nx {
                cur[k] *= id[k];
            }
            if l == top - 1 && l + 1 < ny {
                let (sn, next) = (&sc[N][o..o + nx], &hi[..nx]);
                for k in 0..nx {
                    cur[k] -= sn[k] * next[k];
                }
            }
            if lat.py && l == 0 && ny > 2 {
                let (ss, last) = (&sc[S][..nx], &hi[(ny - 2) * nx..]);
                for k in 0..nx {
                    cur[k] -= ss[k] * last[k];
                }
            }
        }
        if !pair {
            let o = low * nx;
            let cur = &mut v[o..o + nx];
            let se = &sc[E][o..o + nx];
            let mut next = cur[nx - 1];
            for k in (0..nx - 1).rev() {
                next = cur[k] - se[k] * next;
                cur[k] = next;
            }
            if lat.px {
                cur[0] -= sc[W][o] * cur[nx - 1];
            }
            top = low;
            continue;
        }
        // b: the lower line (it needs the upper line a's node k for its node k).
        let o = low * nx;
        let (lb, la) = v[o..o + 2 * nx].split_at_mut(nx);
        let (sea, seb, snb) = (
            &sc[E][o + nx..o + 2 * nx],
            &sc[E][o..o + nx],
            &sc[N][o..o + nx],
        );
        let mut na = la[nx - 1];
        let mut nb = lb[nx - 1] - snb[nx - 1] * na;
        lb[nx - 1] = nb;
        for k in (1..nx - 1).rev() {
            na = la[k] - sea[k] * na;
            la[k] = na;
            nb = lb[k] - snb[k] * na - seb[k] * nb;
            lb[k] = nb;
        }
        na = la[0] - sea[0] * na;
        if lat.px {
            na -= sc[W][o + nx] * la[nx - 1];
        }
        la[0] = na;
        nb = lb[0] - snb[0] * na - seb[0] * nb;
        if lat.px {
            nb -= sc[W][o] * lb[nx - 1];
        }
        lb[0] = nb;
        top = low;
    }
}

/// out = N x with N = M - A = offdiag(L D⁻¹ U) ≥ 0 the remainder of the D-ILU splitting:
/// (N x)_i = Σ_{j<i} (a_ij/d_j) Σ_{k>j, k≠i} a_jk x_k. Every term is a product of two
/// non-positive coefficients and x_k, so x ≥ 0 gives out ≥ 0 exactly.
fn remainder(lat: &Lattice, a: &Five, sc: &Scaled, x: &[f64], out: &mut [f64]) {
    for (i, o) in out.iter_mut().enumerate() {
        let mut acc = 0.0;
        for dj in [W, E, S, N] {
            let Some(j) = lat.nb(i, dj).filter(|&j| j < i) else {
                continue;
            };
            let mut inner = 0.0;
            for dk in [W, E, S, N] {
                if let Some(k) = lat.nb(j, dk).filter(|&k| k > j && k != i) {
                    inner += a[dk][j] * x[k];
                }
            }
            acc += sc[dj][i] * inner;
        }
        *o = acc;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::five_point::tests::{dense, lattices, random_m_matrix};
    use crate::linalg::testing::{dense_solve, rel_err, Lcg};
    use crate::linalg::vector::dot;

    fn factored(a: &FivePoint, omega: f64) -> Milu {
        let mut at = FivePoint::zeros(a.lat);
        a.transpose_into(&mut at);
        let mut m = Milu::new(a.lat);
        let mut us = vec![0.0; a.lat.len()];
        m.factor(a, &MiluParams { omega }, &mut us).unwrap();
        m.factor_transpose(&at);
        m
    }

    /// Modified ILU (ω = 1) keeps the row sums, M 1 = A 1, so M⁻¹(A 1) = 1; and the factors of
    /// Mᵀ are the transpose: ⟨M⁻¹x, y⟩ = ⟨x, M⁻ᵀy⟩, for every ω, on every edge lattice.
    #[test]
    fn row_sums_and_adjoint() {
        for (l, lat) in lattices().into_iter().enumerate() {
            let a = random_m_matrix(lat, 60 + l as u64, 0.5);
            let n = lat.len();
            let m = factored(&a, 1.0);
            let mut a1 = a.a[C].clone();
            for d in [W, E, S, N] {
                a1.iter_mut().zip(&a.a[d]).for_each(|(s, v)| *s += v);
            }
            m.solve_in_place(&mut a1, false);
            let ones = vec![1.0; n];
            assert!(rel_err(&a1, &ones) < 1e-13, "lattice {l}");
            for omega in [0.0, 0.95] {
                let mut m = factored(&a, omega);
                let (x, y) = (Lcg(1).vector(n, -0.5), Lcg(2).vector(n, -0.5));
                let (mut mx, mut mty) = (vec![0.0; n], vec![0.0; n]);
                m.apply(&x, &mut mx).unwrap();
                m.apply_transpose(&y, &mut mty).unwrap();
                let (p, q) = (dot(&mx, &y), dot(&x, &mty));
                assert!(
                    (p - q).abs() < 1e-13 * p.abs().max(1.0),
                    "lattice {l} ω {omega}"
                );
            }
        }
    }

    /// Richardson on the D-ILU splitting of an M-matrix: from x = 0 every iterate stays ≥ 0,
    /// N x ≥ 0, the iterates increase monotonically to A⁻¹b (b ≥ 0 with a zero entry), for A
    /// and Aᵀ, on a doubly periodic lattice.
    #[test]
    fn richardson_on_the_dilu_splitting_keeps_sign() {
        let lat = Lattice::new(13, 10, true, true).unwrap();
        let a = random_m_matrix(lat, 3, 5.0);
        let mut at = FivePoint::zeros(lat);
        a.transpose_into(&mut at);
        let m = factored(&a, 0.0);
        let n = lat.len();
        let mut b: Vec<f64> = (0..n)
            .map(|i| (-40.0 * ((i % 13) as f64 / 13.0 - 0.5).powi(2)).exp())
            .collect();
        b[5] = 0.0;
        for (transpose, mat) in [(false, &a), (true, &at)] {
            let exact = dense_solve(n, &dense(mat), &b);
            let (mut x, mut t) = (vec![0.0; n], vec![0.0; n]);
            let mut last = f64::INFINITY;
            for _ in 0..60 {
                m.remainder(mat, transpose, &x, &mut t);
                assert!(t.iter().all(|v| *v >= 0.0));
                let before = x.clone();
                m.richardson(mat, transpose, &b, &mut x, &mut t, 1);
                assert!(x.iter().all(|v| *v >= 0.0));
                assert!(x.iter().zip(&before).all(|(a, b)| a >= b));
                last = rel_err(&x, &exact);
            }
            assert!(
                last < 1e-12,
                "transpose {transpose}: Richardson did not converge: {last:e}"
            );
        }
    }

    /// A matrix that is not an M-matrix (a negative diagonal) has no positive pivots.
    #[test]
    fn a_non_positive_pivot_is_an_error() {
        let lat = Lattice::new(4, 3, false, false).unwrap();
        let mut a = random_m_matrix(lat, 1, 0.5);
        a.a[C][5] = -1.0;
        let mut m = Milu::new(lat);
        let e = m
            .factor(&a, &MiluParams { omega: 0.0 }, &mut vec![0.0; lat.len()])
            .unwrap_err()
            .to_string();
        assert!(e.contains("MILU") && e.contains("pivot"), "{e}");
        // Solves with Mᵀ need its factors first.
        let mut m = Milu::new(lat);
        m.factor(
            &random_m_matrix(lat, 2, 0.5),
            &MiluParams { omega: 0.0 },
            &mut [0.0; 12],
        )
        .unwrap();
        assert!(m.apply_transpose(&[0.0; 12], &mut [0.0; 12]).is_err());
    }
}
