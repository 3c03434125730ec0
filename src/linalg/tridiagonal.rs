//! Tridiagonal systems (the implicit step matrix on a 1D grid): Thomas elimination A = LU
//! without pivoting, O(n), one factorisation serving A x = b and Aᵀ x = b (Aᵀ = UᵀLᵀ); and the
//! cyclic tridiagonal matrix of a periodic grid by Sherman–Morrison on top of it.
//!
//! Elimination without pivoting is stable for the matrices it is meant for: M-matrices that
//! are strictly diagonally dominant by rows (I/Δt - Q has row sums 1/Δt), whose pivots stay
//! ≥ the row sums; a zero or non-finite pivot is reported as an error.

use crate::error::{Error, Result};
use crate::linalg::vector::dot;

/// Tridiagonal A with sub-diagonal `a` (a_i multiplies x_{i-1}), diagonal `b`, super-diagonal
/// `c` (c_i multiplies x_{i+1}), factorised as A = LU without pivoting. a_0 and c_{n-1} lie
/// outside the matrix and are never read.
#[derive(Debug, Clone)]
pub struct Tridiagonal {
    a: Vec<f64>,
    b: Vec<f64>,
    c: Vec<f64>,
    /// L's sub-diagonal l_i (unit diagonal).
    l: Vec<f64>,
    /// Inverse of U's diagonal (its super-diagonal is c): solves multiply instead of divide.
    inv_d: Vec<f64>,
}

impl Tridiagonal {
    /// An n × n tridiagonal matrix, all zero.
    pub fn new(n: usize) -> Self {
        Tridiagonal {
            a: vec![0.0; n],
            b: vec![0.0; n],
            c: vec![0.0; n],
            l: vec![0.0; n],
            inv_d: vec![0.0; n],
        }
    }

    /// Number of rows n.
    pub fn len(&self) -> usize {
        self.b.len()
    }

    /// Whether n = 0.
    pub fn is_empty(&self) -> bool {
        self.b.is_empty()
    }

    /// The bands (a, b, c), to be filled before [`Tridiagonal::factor`].
    pub fn bands_mut(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        (&mut self.a, &mut self.b, &mut self.c)
    }

    /// A = LU.
    pub fn factor(&mut self) -> Result<()> {
        let n = self.b.len();
        if n == 0 {
            return Ok(());
        }
        self.factor_with_ends(self.b[0], self.b[n - 1])
    }

    /// The factorisation of A with its first and last diagonal entries replaced by `b0` and
    /// `bn` (the Sherman–Morrison splitting of [`Cyclic`]); `b` itself is left as it is.
    fn factor_with_ends(&mut self, b0: f64, bn: f64) -> Result<()> {
        let n = self.b.len();
        let diag = |i: usize| match i {
            0 => b0,
            _ if i == n - 1 => bn,
            _ => self.b[i],
        };
        self.inv_d[0] = 1.0 / diag(0);
        for i in 1..n {
            self.l[i] = self.a[i] * self.inv_d[i - 1];
            self.inv_d[i] = 1.0 / (diag(i) - self.l[i] * self.c[i - 1]);
        }
        if self.inv_d.iter().any(|v| !(v.is_finite() && *v != 0.0)) {
            return Err(Error::linear_solve(
                "tridiagonal",
                "zero or non-finite pivot",
            ));
        }
        Ok(())
    }

    /// x ← A⁻¹ x.
    pub fn solve(&self, x: &mut [f64]) {
        let n = x.len();
        if n == 0 {
            return;
        }
        for i in 1..n {
            x[i] -= self.l[i] * x[i - 1];
        }
        x[n - 1] *= self.inv_d[n - 1];
        for i in (0..n - 1).rev() {
            x[i] = (x[i] - self.c[i] * x[i + 1]) * self.inv_d[i];
        }
    }

    /// x ← A⁻ᵀ x.
    pub fn solve_transpose(&self, x: &mut [f64]) {
        // Aᵀ = Uᵀ Lᵀ: Uᵀ is lower bidiagonal (diagonal d, sub-diagonal c_{i-1}), Lᵀ unit upper
        // bidiagonal (super-diagonal l_{i+1}).
        let n = x.len();
        if n == 0 {
            return;
        }
        x[0] *= self.inv_d[0];
        for i in 1..n {
            x[i] = (x[i] - self.c[i - 1] * x[i - 1]) * self.inv_d[i];
        }
        for i in (0..n - 1).rev() {
            x[i] -= self.l[i + 1] * x[i + 1];
        }
    }
}

/// Cyclic tridiagonal A (a periodic 1D grid): the bands of [`Tridiagonal`] plus the corners
/// a_0 = A_{0,n-1} and c_{n-1} = A_{n-1,0}. Solved as A = T + u vᵀ (Sherman–Morrison) with
/// γ = -A_00, u = (γ, 0, …, A_{n-1,0}), v = (1, 0, …, A_{0,n-1}/γ): T differs from A's band
/// in T_00 = A_00 - γ and T_{n-1,n-1} = A_{n-1,n-1} - A_{n-1,0}A_{0,n-1}/γ and stays
/// diagonally dominant.
#[derive(Debug, Clone)]
pub struct Cyclic {
    t: Tridiagonal,
    u: Vec<f64>,
    v: Vec<f64>,
    /// T⁻¹u and T⁻ᵀv.
    z: Vec<f64>,
    zt: Vec<f64>,
    /// 1 + v·T⁻¹u and 1 + u·T⁻ᵀv.
    den: f64,
    den_t: f64,
}

impl Cyclic {
    /// An n × n cyclic tridiagonal matrix, all zero; [`Cyclic::factor`] needs n ≥ 2.
    pub fn new(n: usize) -> Self {
        Cyclic {
            t: Tridiagonal::new(n),
            u: vec![0.0; n],
            v: vec![0.0; n],
            z: vec![0.0; n],
            zt: vec![0.0; n],
            den: 1.0,
            den_t: 1.0,
        }
    }

    /// Number of rows n.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Whether n = 0.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }

    /// The bands (a, b, c) with the corners a_0 = A_{0,n-1} and c_{n-1} = A_{n-1,0}.
    pub fn bands_mut(&mut self) -> (&mut [f64], &mut [f64], &mut [f64]) {
        self.t.bands_mut()
    }

    /// Factorises the tridiagonal part and the Sherman–Morrison correction of the corners.
    pub fn factor(&mut self) -> Result<()> {
        let n = self.t.len();
        if n < 2 {
            return Err(Error::invalid(
                "cyclic tridiagonal",
                format!("{n} rows: the corners need n ≥ 2"),
            ));
        }
        let alpha = self.t.a[0]; // A[0][n-1]
        let beta = self.t.c[n - 1]; // A[n-1][0]
        let gamma = -self.t.b[0];
        self.t
            .factor_with_ends(self.t.b[0] - gamma, self.t.b[n - 1] - alpha * beta / gamma)?;
        self.u.fill(0.0);
        self.v.fill(0.0);
        self.u[0] = gamma;
        self.u[n - 1] = beta;
        self.v[0] = 1.0;
        self.v[n - 1] = alpha / gamma;
        self.z.copy_from_slice(&self.u);
        self.t.solve(&mut self.z);
        self.zt.copy_from_slice(&self.v);
        self.t.solve_transpose(&mut self.zt);
        self.den = 1.0 + dot(&self.v, &self.z);
        self.den_t = 1.0 + dot(&self.u, &self.zt);
        if self.den == 0.0 || self.den_t == 0.0 {
            return Err(Error::linear_solve(
                "cyclic tridiagonal",
                "singular matrix (Sherman–Morrison denominator 0)",
            ));
        }
        Ok(())
    }

    /// x ← A⁻¹ x.
    pub fn solve(&self, x: &mut [f64]) {
        self.t.solve(x);
        let s = dot(&self.v, x) / self.den;
        x.iter_mut().zip(&self.z).for_each(|(xi, zi)| *xi -= s * zi);
    }

    /// x ← A⁻ᵀ x.
    pub fn solve_transpose(&self, x: &mut [f64]) {
        self.t.solve_transpose(x);
        let s = dot(&self.u, x) / self.den_t;
        x.iter_mut()
            .zip(&self.zt)
            .for_each(|(xi, zi)| *xi -= s * zi);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::testing::{dense_solve, rel_err, transpose, Lcg};

    /// Random strictly diagonally dominant M-matrix bands (corners included), as a dense
    /// row-major matrix too (the corners only when `cyclic`).
    fn random_bands(n: usize, seed: u64, cyclic: bool) -> ([Vec<f64>; 3], Vec<f64>) {
        let mut rng = Lcg(seed);
        let a: Vec<f64> = (0..n).map(|_| -2.0 * rng.next()).collect();
        let c: Vec<f64> = (0..n).map(|_| -2.0 * rng.next()).collect();
        let b: Vec<f64> = (0..n).map(|i| 0.1 + rng.next() - a[i] - c[i]).collect();
        let mut dense = vec![0.0; n * n];
        for i in 0..n {
            dense[i * n + i] = b[i];
            if i > 0 {
                dense[i * n + i - 1] += a[i];
            } else if cyclic {
                dense[n - 1] += a[0];
            }
            if i + 1 < n {
                dense[i * n + i + 1] += c[i];
            } else if cyclic {
                dense[i * n] += c[i];
            }
        }
        ([a, b, c], dense)
    }

    fn load(bands: (&mut [f64], &mut [f64], &mut [f64]), src: &[Vec<f64>; 3]) {
        bands.0.copy_from_slice(&src[0]);
        bands.1.copy_from_slice(&src[1]);
        bands.2.copy_from_slice(&src[2]);
    }

    #[test]
    fn thomas_and_sherman_morrison_match_a_dense_lu() {
        for n in [2, 3, 4, 7, 50] {
            for cyclic in [false, true] {
                let (bands, dense) = random_bands(n, 11 + n as u64, cyclic);
                let b = Lcg(n as u64).vector(n, -0.5);
                let (mut x, mut xt) = (b.clone(), b.clone());
                if cyclic {
                    let mut s = Cyclic::new(n);
                    load(s.bands_mut(), &bands);
                    s.factor().unwrap();
                    s.solve(&mut x);
                    s.solve_transpose(&mut xt);
                } else {
                    let mut s = Tridiagonal::new(n);
                    load(s.bands_mut(), &bands);
                    s.factor().unwrap();
                    s.solve(&mut x);
                    s.solve_transpose(&mut xt);
                }
                let e = rel_err(&x, &dense_solve(n, &dense, &b));
                assert!(e < 1e-13, "n {n} cyclic {cyclic}: {e:e}");
                let et = rel_err(&xt, &dense_solve(n, &transpose(n, &dense), &b));
                assert!(et < 1e-13, "n {n} cyclic {cyclic} transpose: {et:e}");
            }
        }
    }

    #[test]
    fn a_zero_pivot_is_an_error() {
        let mut t = Tridiagonal::new(3);
        let (a, b, c) = t.bands_mut();
        a.copy_from_slice(&[0.0, 1.0, 1.0]);
        b.copy_from_slice(&[1.0, 1.0, 1.0]);
        c.copy_from_slice(&[1.0, 1.0, 0.0]);
        // Second pivot: 1 - 1·1 = 0.
        let e = t.factor().unwrap_err().to_string();
        assert!(e.contains("tridiagonal") && e.contains("pivot"), "{e}");
        let mut t = Tridiagonal::new(3);
        t.bands_mut().1.copy_from_slice(&[1.0, f64::NAN, 1.0]);
        assert!(t.factor().is_err());
        assert!(Cyclic::new(1).factor().is_err());
    }
}
