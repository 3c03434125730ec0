//! Small numerical helpers of the reference solutions: RK4 for the ODEs of the exact cases, a
//! dense solve for shooting, the observed order of convergence.
// Small dense numerical kernels read best with explicit indices.
#![allow(clippy::needless_range_loop)]

/// Right-hand side of y' = f(t, y), written into the last argument.
pub type Rhs = dyn Fn(f64, &[f64], &mut [f64]);

/// Observed order of convergence between two grids whose steps differ by `ratio`.
pub fn order(coarse_err: f64, fine_err: f64, ratio: f64) -> f64 {
    (coarse_err / fine_err).ln() / ratio.ln()
}

/// Classic RK4 for y' = f(t, y) from t0 to t1 in `steps` steps.
pub fn rk4(f: &Rhs, y0: &[f64], t0: f64, t1: f64, steps: usize) -> Vec<f64> {
    let n = y0.len();
    let h = (t1 - t0) / steps as f64;
    let mut y = y0.to_vec();
    let (mut k1, mut k2, mut k3, mut k4, mut tmp) = (
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
        vec![0.0; n],
    );
    for s in 0..steps {
        let t = t0 + s as f64 * h;
        f(t, &y, &mut k1);
        for i in 0..n {
            tmp[i] = y[i] + 0.5 * h * k1[i];
        }
        f(t + 0.5 * h, &tmp, &mut k2);
        for i in 0..n {
            tmp[i] = y[i] + 0.5 * h * k2[i];
        }
        f(t + 0.5 * h, &tmp, &mut k3);
        for i in 0..n {
            tmp[i] = y[i] + h * k3[i];
        }
        f(t + h, &tmp, &mut k4);
        for i in 0..n {
            y[i] += h / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i]);
        }
    }
    y
}

/// Solves the small dense system A x = b (Gaussian elimination with partial pivoting).
pub fn dense_solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n)
            .max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))
            .unwrap();
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            for k in c..n {
                a[r][k] -= f * a[c][k];
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    x
}
