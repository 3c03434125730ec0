//! Vector kernels of the iterative methods: ⟨a, b⟩, ‖a‖₂, y += αx, x ← αx, and the fused
//! projection of classical Gram–Schmidt. Space-time vectors are long (10⁶–10⁷ entries), so
//! the kernels run in parallel chunks of [`CHUNK`] entries above [`PARALLEL_MIN`]. A chunk's dot
//! product is a plain left-to-right sum: the space-time Krylov methods run on it, and the line
//! search of a cold-start Newton step on a log coupling is decided at round-off level, so their
//! results are kept bit for bit. The per-step BiCGSTAB, on vectors of one time level, uses
//! [`dot4`] (four partial sums, vectorised). Parallel sums are combined in chunk order, so
//! results do not depend on the thread count or scheduling.

use rayon::prelude::*;

/// Entries per parallel chunk.
pub const CHUNK: usize = 1 << 15;

/// Length from which [`dot`] and [`axpy`] run in parallel.
pub const PARALLEL_MIN: usize = 4 * CHUNK;

/// ⟨a, b⟩ = Σ a_i b_i, serially, left to right.
#[inline]
fn dot_serial(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// ⟨a, b⟩ with four partial sums, serially: the loop vectorises (a left-to-right sum is one
/// dependency chain), several times faster on the short vectors of one time step, and differs
/// from [`dot`] by round-off only. The step solver's BiCGSTAB runs on it.
#[inline]
pub fn dot4(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    let mut acc = [0.0; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for l in 0..4 {
            acc[l] += x[l] * y[l];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// ‖a‖₂ through [`dot4`].
#[inline]
pub fn norm4(a: &[f64]) -> f64 {
    dot4(a, a).sqrt()
}

/// ⟨a, b⟩ = Σ a_i b_i.
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    debug_assert_eq!(a.len(), b.len());
    if a.len() < PARALLEL_MIN {
        return dot_serial(a, b);
    }
    // The chunk sums are added in chunk order, not in rayon's scheduling-dependent reduction
    // tree: the result does not depend on the thread count or on work stealing.
    let partial: Vec<f64> = a
        .par_chunks(CHUNK)
        .zip(b.par_chunks(CHUNK))
        .map(|(x, y)| dot_serial(x, y))
        .collect();
    partial.iter().sum()
}

/// ‖a‖₂.
#[inline]
pub fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}

/// y += α x.
#[inline]
pub fn axpy(alpha: f64, x: &[f64], y: &mut [f64]) {
    debug_assert_eq!(x.len(), y.len());
    if x.len() < PARALLEL_MIN {
        y.iter_mut().zip(x).for_each(|(b, a)| *b += alpha * a);
        return;
    }
    y.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(y, x)| y.iter_mut().zip(x).for_each(|(b, a)| *b += alpha * a));
}

/// x ← α x.
pub fn scale(alpha: f64, x: &mut [f64]) {
    x.par_chunks_mut(CHUNK)
        .for_each(|c| c.iter_mut().for_each(|v| *v *= alpha));
}

/// y = x / d (a division, not a multiplication by 1/d: GMRES normalises its basis this way).
pub fn divide_into(x: &[f64], d: f64, y: &mut [f64]) {
    y.par_chunks_mut(CHUNK)
        .zip(x.par_chunks(CHUNK))
        .for_each(|(a, b)| a.iter_mut().zip(b).for_each(|(p, q)| *p = q / d));
}

/// h_i = ⟨w, v_i⟩ for every basis vector v_i, then w -= Σ h_i v_i (one classical Gram–Schmidt
/// pass); chunk by chunk, so that each vector is read from memory twice in all. Returns h.
pub fn project_out(basis: &[Vec<f64>], w: &mut [f64]) -> Vec<f64> {
    let partial: Vec<Vec<f64>> = (0..w.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let r = c * CHUNK..((c + 1) * CHUNK).min(w.len());
            let wc = &w[r.clone()];
            basis
                .iter()
                .map(|v| dot_serial(&v[r.clone()], wc))
                .collect::<Vec<f64>>()
        })
        .collect();
    // Summed in chunk order, as in [`dot`].
    let mut h = vec![0.0; basis.len()];
    for p in &partial {
        h.iter_mut().zip(p).for_each(|(x, y)| *x += y);
    }
    w.par_chunks_mut(CHUNK).enumerate().for_each(|(c, wc)| {
        let off = c * CHUNK;
        for (v, hi) in basis.iter().zip(&h) {
            let vc = &v[off..off + wc.len()];
            wc.iter_mut().zip(vc).for_each(|(a, b)| *a -= hi * b);
        }
    });
    h
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::testing::Lcg;

    /// The serial and the parallel paths against a plain sum, at lengths around the chunk and
    /// the parallel threshold (remainders of every size).
    #[test]
    fn kernels_match_plain_loops_at_edge_lengths() {
        let mut rng = Lcg(3);
        for n in [
            0,
            1,
            3,
            4,
            5,
            7,
            CHUNK + 3,
            PARALLEL_MIN - 1,
            PARALLEL_MIN + 5,
        ] {
            let a = rng.vector(n, -0.5);
            let b = rng.vector(n, -0.5);
            let plain: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            let scale_ = a.iter().map(|x| x.abs()).sum::<f64>().max(1.0);
            assert!((dot(&a, &b) - plain).abs() <= 1e-14 * scale_, "n = {n}");
            let mut y = b.clone();
            axpy(0.75, &a, &mut y);
            assert!(y
                .iter()
                .zip(&a)
                .zip(&b)
                .all(|((y, a), b)| *y == b + 0.75 * a));
            let mut z = a.clone();
            scale(-2.0, &mut z);
            assert!(z.iter().zip(&a).all(|(z, a)| *z == -2.0 * a));
            divide_into(&a, 3.0, &mut z);
            assert!(z.iter().zip(&a).all(|(z, a)| *z == a / 3.0));
        }
    }

    /// Long vectors: the same bits whatever the number of threads.
    #[test]
    fn parallel_sums_do_not_depend_on_the_thread_count() {
        let n = 3 * PARALLEL_MIN + 11;
        let mut rng = Lcg(8);
        let (a, b) = (rng.vector(n, -0.5), rng.vector(n, -0.5));
        let basis = vec![rng.vector(n, 0.0), rng.vector(n, -1.0)];
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut w = a.clone();
                (dot(&a, &b), project_out(&basis, &mut w), w)
            })
        };
        let one = run(1);
        for threads in [2, 3, 7] {
            let other = run(threads);
            assert_eq!(one.0.to_bits(), other.0.to_bits(), "{threads} threads");
            assert_eq!(one.1, other.1, "{threads} threads");
            assert_eq!(one.2, other.2, "{threads} threads");
        }
    }

    #[test]
    fn projection_leaves_a_vector_orthogonal_to_an_orthonormal_basis() {
        let n = CHUNK + 17;
        let mut rng = Lcg(5);
        // Two orthonormal vectors: disjoint supports.
        let mut v0 = vec![0.0; n];
        let mut v1 = vec![0.0; n];
        v0[..n / 2].iter_mut().for_each(|v| *v = 1.0);
        v1[n / 2..].iter_mut().for_each(|v| *v = 1.0);
        let (s0, s1) = (norm(&v0), norm(&v1));
        v0.iter_mut().for_each(|v| *v /= s0);
        v1.iter_mut().for_each(|v| *v /= s1);
        let w0 = rng.vector(n, -0.2);
        let mut w = w0.clone();
        let basis = vec![v0, v1];
        let h = project_out(&basis, &mut w);
        assert!((h[0] - dot(&basis[0], &w0)).abs() < 1e-12);
        assert!((h[1] - dot(&basis[1], &w0)).abs() < 1e-12);
        for v in &basis {
            assert!(dot(v, &w).abs() < 1e-10);
        }
    }
}
