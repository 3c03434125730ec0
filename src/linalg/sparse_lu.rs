//! Sparse LU with partial pivoting (faer's supernodal or simplicial factorisation, COLAMD
//! column ordering) for matrices whose pattern is fixed while their values change: the
//! implicit step matrix I/Δt - Q(u) (same stencil at every step) and Newton's space-time
//! Jacobian (same pattern at every Newton step).
//!
//! The CSC pattern is built once from the (row, column) list of the entries, duplicates
//! summed, and the symbolic analysis is computed once; every refactorisation writes the values
//! into the same buffers ([`SparseLu::assembler`], in the order of the entry list) and redoes
//! only the numeric factorisation. Optionally the unknowns are renumbered (P A Pᵀ, a
//! permutation that steers COLAMD's tie-breaking and the pivot search) and the matrix is
//! scaled (R A C with diagonal R, C: the factorised matrix is better conditioned; solves
//! undo both, so that [`SparseLu::solve`] always solves A x = b in the original numbering).

use crate::error::{Error, Result};
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::lu::{
    factorize_symbolic_lu, LuRef, LuSymbolicParams, NumericLu, SymbolicLu,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};

/// Settings of the factorisation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SparseLuParams {
    /// Run faer's factorisation and solves on the rayon pool (else sequentially).
    pub parallel: bool,
    /// Always use the supernodal factorisation: faer's simplicial one is several times
    /// slower on 2D stencils even where its flop-count heuristic picks it (measured on a
    /// 60 × 20 grid).
    pub force_supernodal: bool,
}

/// faer's sparse LU of a matrix with a fixed pattern (see the module documentation).
pub struct SparseLu {
    /// New position of every unknown (None: the identity).
    perm: Option<Vec<usize>>,
    col_ptr: Vec<usize>,
    row_idx: Vec<usize>,
    /// Value position of every entry of the construction list.
    slot: Vec<usize>,
    values: Vec<f64>,
    /// Row and column scaling of the last assembly (empty: none), original numbering.
    row_scale: Vec<f64>,
    col_scale: Vec<f64>,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    mem: MemBuffer,
    work: Vec<f64>,
    par: Par,
}

impl std::fmt::Debug for SparseLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseLu")
            .field("n", &self.len())
            .field("nnz", &self.values.len())
            .finish_non_exhaustive()
    }
}

/// Writes one assembly's values into a [`SparseLu`], entry by entry in the order of the
/// construction list (see [`SparseLu::assembler`]).
pub struct Assembler<'a> {
    values: &'a mut [f64],
    slot: &'a [usize],
    next: usize,
    scaling: Option<(&'a [f64], &'a [f64])>,
}

impl Assembler<'_> {
    /// Adds the value of the next entry, (row, col) in the original numbering.
    #[inline]
    pub fn add(&mut self, row: usize, col: usize, v: f64) {
        let p = self.slot[self.next];
        self.next += 1;
        self.values[p] += match self.scaling {
            None => v,
            Some((r, c)) => v * r[row] * c[col],
        };
    }
}

impl Drop for Assembler<'_> {
    fn drop(&mut self) {
        // A short assembly would leave stale zeros in the pattern: a bug in the caller.
        debug_assert!(
            std::thread::panicking() || self.next == self.slot.len(),
            "assembled {} of {} entries",
            self.next,
            self.slot.len()
        );
    }
}

impl SparseLu {
    /// The pattern of the n × n matrix with the given entries (duplicates allowed: their
    /// values are summed), renumbered by `perm` (old index → new index) if given, and its
    /// symbolic analysis.
    pub fn new(
        n: usize,
        entries: &[(usize, usize)],
        perm: Option<Vec<usize>>,
        params: SparseLuParams,
    ) -> Result<Self> {
        if let Some(p) = &perm {
            let mut seen = vec![false; n];
            if p.len() != n
                || !p
                    .iter()
                    .all(|&i| i < n && !std::mem::replace(&mut seen[i], true))
            {
                return Err(Error::invalid(
                    "sparse LU permutation",
                    format!("not a permutation of 0..{n}"),
                ));
            }
        }
        if let Some(&(r, c)) = entries.iter().find(|&&(r, c)| r >= n || c >= n) {
            return Err(Error::invalid(
                "sparse LU entries",
                format!("entry ({r}, {c}) outside the {n} × {n} matrix"),
            ));
        }
        let at = |i: usize| perm.as_ref().map_or(i, |p| p[i]);
        // Sort by (column, row) in the new numbering, then merge duplicates.
        let keys: Vec<(usize, usize)> = entries.iter().map(|&(r, c)| (at(c), at(r))).collect();
        let mut order: Vec<usize> = (0..keys.len()).collect();
        order.sort_unstable_by_key(|&e| keys[e]);
        let mut col_ptr = vec![0usize; n + 1];
        let mut row_idx = Vec::with_capacity(keys.len());
        let mut slot = vec![0usize; keys.len()];
        let mut last = (usize::MAX, usize::MAX);
        for &e in &order {
            let (c, r) = keys[e];
            if (c, r) != last {
                row_idx.push(r);
                col_ptr[c + 1] += 1;
                last = (c, r);
            }
            slot[e] = row_idx.len() - 1;
        }
        drop((keys, order));
        for c in 0..n {
            col_ptr[c + 1] += col_ptr[c];
        }
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &col_ptr, None, &row_idx);
        let mut sym_params = LuSymbolicParams::default();
        if params.force_supernodal {
            sym_params.supernodal_flop_ratio_threshold = SupernodalThreshold::FORCE_SUPERNODAL;
        }
        let symbolic = factorize_symbolic_lu(sym, sym_params)
            .map_err(|e| Error::linear_solve("sparse LU", format!("symbolic analysis: {e:?}")))?;
        let par = if params.parallel {
            Par::rayon(0)
        } else {
            Par::Seq
        };
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_lu_scratch::<f64>(par, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, par),
            symbolic.solve_transpose_in_place_scratch::<f64>(1, par),
        ]);
        let nnz = row_idx.len();
        Ok(SparseLu {
            work: if perm.is_some() {
                vec![0.0; n]
            } else {
                Vec::new()
            },
            perm,
            col_ptr,
            row_idx,
            slot,
            values: vec![0.0; nnz],
            row_scale: Vec::new(),
            col_scale: Vec::new(),
            symbolic,
            numeric: NumericLu::new(),
            mem: MemBuffer::new(req),
            par,
        })
    }

    /// Number of unknowns n.
    pub fn len(&self) -> usize {
        self.col_ptr.len() - 1
    }

    /// Whether n = 0.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of stored entries (duplicates merged).
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// Starts an assembly: zeroes the values and sets the scaling, (row, column) factors in
    /// the original numbering, that the assembled values and the solves apply. Every entry of
    /// the construction list must then be added once, in order, before [`SparseLu::factor`].
    pub fn assembler(&mut self, scaling: Option<(&[f64], &[f64])>) -> Assembler<'_> {
        self.values.fill(0.0);
        self.row_scale.clear();
        self.col_scale.clear();
        if let Some((r, c)) = scaling {
            assert!(r.len() == self.len() && c.len() == self.len());
            self.row_scale.extend_from_slice(r);
            self.col_scale.extend_from_slice(c);
        }
        let scaled = !self.row_scale.is_empty();
        Assembler {
            values: &mut self.values,
            slot: &self.slot,
            next: 0,
            scaling: scaled.then_some((&self.row_scale[..], &self.col_scale[..])),
        }
    }

    /// The numeric factorisation of the assembled values.
    pub fn factor(&mut self) -> Result<()> {
        let n = self.len();
        let sym = SymbolicSparseColMatRef::new_checked(n, n, &self.col_ptr, None, &self.row_idx);
        let mat = SparseColMatRef::new(sym, &self.values);
        self.symbolic
            .factorize_numeric_lu(
                &mut self.numeric,
                mat,
                self.par,
                MemStack::new(&mut self.mem),
                Default::default(),
            )
            .map_err(|e| {
                Error::linear_solve("sparse LU", format!("numeric factorisation: {e:?}"))
            })?;
        Ok(())
    }

    /// b ← A⁻¹ b.
    pub fn solve(&mut self, b: &mut [f64]) {
        self.solve_impl(b, false);
    }

    /// b ← A⁻ᵀ b.
    pub fn solve_transpose(&mut self, b: &mut [f64]) {
        self.solve_impl(b, true);
    }

    /// A = R⁻¹ P B Pᵀ C⁻¹ with B the factorised matrix: A⁻¹ = C Pᵀ B⁻¹ P R and
    /// A⁻ᵀ = R Pᵀ B⁻ᵀ P C.
    fn solve_impl(&mut self, b: &mut [f64], transpose: bool) {
        let (pre, post) = if transpose {
            (&self.col_scale, &self.row_scale)
        } else {
            (&self.row_scale, &self.col_scale)
        };
        b.iter_mut().zip(pre).for_each(|(v, s)| *v *= s);
        let n = b.len();
        let lu = LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let stack = MemStack::new(&mut self.mem);
        let rhs = match &self.perm {
            None => &mut b[..],
            Some(p) => {
                for (i, &pi) in p.iter().enumerate() {
                    self.work[pi] = b[i];
                }
                &mut self.work[..]
            }
        };
        let rhs = MatMut::from_column_major_slice_mut(rhs, n, 1);
        if transpose {
            lu.solve_transpose_in_place_with_conj(Conj::No, rhs, self.par, stack);
        } else {
            lu.solve_in_place_with_conj(Conj::No, rhs, self.par, stack);
        }
        if let Some(p) = &self.perm {
            for (i, &pi) in p.iter().enumerate() {
                b[i] = self.work[pi];
            }
        }
        b.iter_mut().zip(post).for_each(|(v, s)| *v *= s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::testing::{dense_solve, rel_err, transpose, Lcg};

    /// A random nonsymmetric sparse matrix with a nonzero diagonal, as an entry list with
    /// duplicates (some entries given twice, to be summed) and its dense row-major form.
    fn random_sparse(n: usize, seed: u64) -> (Vec<(usize, usize)>, Vec<f64>, Vec<f64>) {
        let mut rng = Lcg(seed);
        let (mut entries, mut values) = (Vec::new(), Vec::new());
        let mut dense = vec![0.0; n * n];
        for i in 0..n {
            for _ in 0..3 {
                let j = (rng.next() * n as f64) as usize;
                let v = rng.next() - 0.5;
                entries.push((i, j));
                values.push(v);
                dense[i * n + j] += v;
            }
            // Off-diagonal entries can be large: partial pivoting must swap rows.
            let v = 0.1 + rng.next();
            entries.push((i, i));
            values.push(v);
            dense[i * n + i] += v;
        }
        (entries, values, dense)
    }

    fn assemble(
        lu: &mut SparseLu,
        entries: &[(usize, usize)],
        values: &[f64],
        s: Option<(&[f64], &[f64])>,
    ) {
        let mut asm = lu.assembler(s);
        for (&(r, c), &v) in entries.iter().zip(values) {
            asm.add(r, c, v);
        }
    }

    /// Every combination of permutation and scaling, for A and Aᵀ, at n = 3 and a larger n,
    /// sequential and parallel: the solution of the original system, against a dense LU.
    #[test]
    fn solves_with_permutation_and_scaling_against_a_dense_lu() {
        for n in [3, 40] {
            let (entries, values, dense) = random_sparse(n, n as u64);
            let mut rng = Lcg(99);
            let keys: Vec<f64> = (0..n).map(|_| rng.next()).collect();
            let mut perm: Vec<usize> = (0..n).collect();
            perm.sort_by(|&i, &j| keys[i].total_cmp(&keys[j]));
            let rs: Vec<f64> = (0..n).map(|_| 10f64.powf(4.0 * rng.next() - 2.0)).collect();
            let cs: Vec<f64> = (0..n).map(|_| 10f64.powf(4.0 * rng.next() - 2.0)).collect();
            let b = rng.vector(n, -0.5);
            let x_ref = dense_solve(n, &dense, &b);
            let xt_ref = dense_solve(n, &transpose(n, &dense), &b);
            for permuted in [false, true] {
                for scaled in [false, true] {
                    for parallel in [false, true] {
                        let params = SparseLuParams {
                            parallel,
                            force_supernodal: !parallel,
                        };
                        let p = permuted.then(|| perm.clone());
                        let mut lu = SparseLu::new(n, &entries, p, params).unwrap();
                        assert!(lu.nnz() <= entries.len());
                        let s = scaled.then_some((&rs[..], &cs[..]));
                        assemble(&mut lu, &entries, &values, s);
                        lu.factor().unwrap();
                        let (mut x, mut xt) = (b.clone(), b.clone());
                        lu.solve(&mut x);
                        lu.solve_transpose(&mut xt);
                        let tag = format!("n {n} perm {permuted} scaled {scaled} par {parallel}");
                        assert!(rel_err(&x, &x_ref) < 1e-10, "{tag}");
                        assert!(rel_err(&xt, &xt_ref) < 1e-10, "{tag} transpose");
                    }
                }
            }
        }
    }

    /// New values into the same pattern: the refactorisation solves the new matrix.
    #[test]
    fn refactorisation_reuses_the_pattern() {
        let n = 25;
        let (entries, values, _) = random_sparse(n, 7);
        let mut lu = SparseLu::new(n, &entries, None, SparseLuParams::default()).unwrap();
        assemble(&mut lu, &entries, &values, None);
        lu.factor().unwrap();
        let values2: Vec<f64> = values.iter().map(|v| v * 1.5 + 0.01).collect();
        let mut dense2 = vec![0.0; n * n];
        for (&(r, c), &v) in entries.iter().zip(&values2) {
            dense2[r * n + c] += v;
        }
        assemble(&mut lu, &entries, &values2, None);
        lu.factor().unwrap();
        let b = Lcg(4).vector(n, 0.0);
        let mut x = b.clone();
        lu.solve(&mut x);
        assert!(rel_err(&x, &dense_solve(n, &dense2, &b)) < 1e-10);
    }

    #[test]
    fn bad_input_is_an_error() {
        let p = SparseLuParams::default();
        assert!(SparseLu::new(2, &[(0, 0), (1, 2)], None, p).is_err());
        assert!(SparseLu::new(2, &[(0, 0), (1, 1)], Some(vec![0, 0]), p).is_err());
        // A structurally singular matrix (an empty column) fails in the factorisation.
        let mut lu = SparseLu::new(2, &[(0, 0), (1, 0)], None, p).unwrap();
        {
            let mut a = lu.assembler(None);
            a.add(0, 0, 1.0);
            a.add(1, 0, 1.0);
        }
        let e = lu.factor();
        assert!(e.is_err(), "singular matrix factorised");
    }
}
