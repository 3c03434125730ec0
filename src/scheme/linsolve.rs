//! Linear solves with the implicit-step matrix J = I/Δt - Q(u) (HJB Newton step) and with its
//! transpose Jᵀ (FP step). J is an M-matrix, strictly diagonally dominant by rows (row sums
//! 1/Δt), so elimination without pivoting is stable and the solution of Jᵀm = b with b ≥ 0 is
//! ≥ 0.
//!
//! - 1D reflecting: J is tridiagonal; Thomas elimination, O(N), and one factorisation serves both
//!   J and Jᵀ (A = LU, Aᵀ = UᵀLᵀ).
//! - 1D periodic: cyclic tridiagonal; Sherman-Morrison on top of the tridiagonal solver.
//! - 2D, direct: faer's sparse LU. The pattern of J never changes (the 5-point stencil), so the
//!   column ordering and symbolic analysis are computed once per grid and only the numeric
//!   factorisation is redone, into a reused buffer. faer factors Jᵀ (the CSR arrays of J read
//!   as CSC): Jᵀ is column diagonally dominant, so partial pivoting keeps the diagonal pivots
//!   and the FP solve Jᵀm = b is sign-preserving elimination.
//! - 2D, iterative: BiCGSTAB preconditioned by ILU(0) of J on the same pattern, for grids where
//!   a factorisation per step costs too much; solved to a relative residual far below the
//!   discretisation error, with the LU as fallback when it stalls.

use super::generator::Generator;
use crate::error::{Error, Result};
use crate::grid::{Boundary, Grid, NONE};
use faer::dyn_stack::{MemBuffer, MemStack, StackReq};
use faer::sparse::linalg::lu::{
    factorize_symbolic_lu, LuRef, LuSymbolicParams, NumericLu, SymbolicLu,
};
use faer::sparse::linalg::SupernodalThreshold;
use faer::sparse::{SparseColMatRef, SymbolicSparseColMatRef};
use faer::{Conj, MatMut, Par};

/// Solver for J = I/Δt - Q and Jᵀ on one grid, with its workspace.
#[derive(Debug)]
pub enum StepSolver {
    Tridiagonal(Tridiagonal),
    Cyclic(Cyclic),
    Sparse(Box<SparseLu>),
    Iterative(Box<IluBicgstab>),
}

impl StepSolver {
    /// The structure-aware solver for `grid`: (cyclic) tridiagonal in 1D, sparse LU in 2D.
    pub fn new(grid: &Grid) -> Result<Self> {
        if grid.dim() == 1 {
            let n = grid.len();
            Ok(match grid.axes()[0].boundary {
                Boundary::Reflecting => StepSolver::Tridiagonal(Tridiagonal::new(n)),
                Boundary::Periodic => StepSolver::Cyclic(Cyclic::new(n)),
            })
        } else {
            Self::sparse(grid)
        }
    }

    /// The general sparse LU path on any grid (the 1D fast paths are checked against it).
    pub fn sparse(grid: &Grid) -> Result<Self> {
        Ok(StepSolver::Sparse(Box::new(SparseLu::new(grid)?)))
    }

    /// ILU(0)-preconditioned BiCGSTAB on any grid, relative tolerance `tol`.
    pub fn iterative(grid: &Grid, tol: f64) -> Result<Self> {
        Ok(StepSolver::Iterative(Box::new(IluBicgstab::new(
            grid, tol,
        )?)))
    }

    /// Factorises J = diag(inv_dt) - Q for the generator `gen`.
    pub fn factor(&mut self, grid: &Grid, gen: &Generator, inv_dt: f64) -> Result<()> {
        match self {
            StepSolver::Tridiagonal(t) => {
                t.load(gen, inv_dt);
                t.factor()
            }
            StepSolver::Cyclic(c) => c.factor(gen, inv_dt),
            StepSolver::Sparse(s) => s.factor(grid, gen, inv_dt),
            StepSolver::Iterative(s) => s.factor(grid, gen, inv_dt),
        }
    }

    /// Solves J x = b in place.
    pub fn solve(&mut self, b: &mut [f64]) -> Result<()> {
        match self {
            StepSolver::Tridiagonal(t) => t.solve(b),
            StepSolver::Cyclic(c) => c.solve(b),
            StepSolver::Sparse(s) => s.solve(b, true),
            StepSolver::Iterative(s) => return s.solve(b, false),
        }
        Ok(())
    }

    /// Solves Jᵀ x = b in place.
    pub fn solve_transpose(&mut self, b: &mut [f64]) -> Result<()> {
        match self {
            StepSolver::Tridiagonal(t) => t.solve_transpose(b),
            StepSolver::Cyclic(c) => c.solve_transpose(b),
            StepSolver::Sparse(s) => s.solve(b, false),
            StepSolver::Iterative(s) => return s.solve(b, true),
        }
        Ok(())
    }
}

/// Tridiagonal A with sub-diagonal `a` (a_i multiplies x_{i-1}), diagonal `b`, super-diagonal
/// `c` (c_i multiplies x_{i+1}), factorised as A = LU without pivoting.
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
    fn new(n: usize) -> Self {
        Tridiagonal {
            a: vec![0.0; n],
            b: vec![0.0; n],
            c: vec![0.0; n],
            l: vec![0.0; n],
            inv_d: vec![0.0; n],
        }
    }

    /// Loads J = I/Δt - Q for a 1D generator (slot 0: lower neighbour, slot 1: upper).
    fn load(&mut self, gen: &Generator, inv_dt: f64) {
        for i in 0..self.b.len() {
            let (lo, hi) = (gen.rate(i, 0), gen.rate(i, 1));
            self.a[i] = -lo;
            self.c[i] = -hi;
            self.b[i] = inv_dt + lo + hi;
        }
        // The corners (periodic wrap) are not part of the band; Cyclic handles them.
        self.a[0] = 0.0;
        let n = self.b.len();
        self.c[n - 1] = 0.0;
    }

    fn factor(&mut self) -> Result<()> {
        let n = self.b.len();
        self.inv_d[0] = 1.0 / self.b[0];
        for i in 1..n {
            self.l[i] = self.a[i] * self.inv_d[i - 1];
            self.inv_d[i] = 1.0 / (self.b[i] - self.l[i] * self.c[i - 1]);
        }
        if self.inv_d.iter().any(|v| !(v.is_finite() && *v != 0.0)) {
            return Err(Error::LinearSolve(
                "zero or non-finite pivot in the tridiagonal step matrix".into(),
            ));
        }
        Ok(())
    }

    fn solve(&self, x: &mut [f64]) {
        let n = x.len();
        for i in 1..n {
            x[i] -= self.l[i] * x[i - 1];
        }
        x[n - 1] *= self.inv_d[n - 1];
        for i in (0..n - 1).rev() {
            x[i] = (x[i] - self.c[i] * x[i + 1]) * self.inv_d[i];
        }
    }

    fn solve_transpose(&self, x: &mut [f64]) {
        // Aᵀ = Uᵀ Lᵀ: Uᵀ is lower bidiagonal (diagonal d, sub-diagonal c_{i-1}), Lᵀ unit upper
        // bidiagonal (super-diagonal l_{i+1}).
        let n = x.len();
        x[0] *= self.inv_d[0];
        for i in 1..n {
            x[i] = (x[i] - self.c[i - 1] * x[i - 1]) * self.inv_d[i];
        }
        for i in (0..n - 1).rev() {
            x[i] -= self.l[i + 1] * x[i + 1];
        }
    }
}

/// Cyclic tridiagonal A (1D periodic) = T + u vᵀ (Sherman-Morrison) with γ = -A_00,
/// u = (γ, 0, …, A_{n-1,0}), v = (1, 0, …, A_{0,n-1}/γ); T stays diagonally dominant.
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
    fn new(n: usize) -> Self {
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

    fn factor(&mut self, gen: &Generator, inv_dt: f64) -> Result<()> {
        let n = self.t.b.len();
        self.t.load(gen, inv_dt);
        let alpha = -gen.rate(0, 0); // A[0][n-1]
        let beta = -gen.rate(n - 1, 1); // A[n-1][0]
        let gamma = -self.t.b[0];
        self.t.b[0] -= gamma;
        self.t.b[n - 1] -= alpha * beta / gamma;
        self.t.factor()?;
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
            return Err(Error::LinearSolve(
                "singular cyclic step matrix (Sherman-Morrison)".into(),
            ));
        }
        Ok(())
    }

    fn solve(&self, x: &mut [f64]) {
        self.t.solve(x);
        let s = dot(&self.v, x) / self.den;
        x.iter_mut().zip(&self.z).for_each(|(xi, zi)| *xi -= s * zi);
    }

    fn solve_transpose(&self, x: &mut [f64]) {
        self.t.solve_transpose(x);
        let s = dot(&self.u, x) / self.den_t;
        x.iter_mut()
            .zip(&self.zt)
            .for_each(|(xi, zi)| *xi -= s * zi);
    }
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// The CSR pattern of J on a grid's stencil (row i: node i and its neighbours, sorted), and
/// the position of every stencil entry in the value array. The pattern is symmetric.
#[derive(Debug, Clone)]
struct Stencil {
    n: usize,
    slots: usize,
    row_ptr: Vec<usize>,
    col_idx: Vec<usize>,
    /// Position of J(i, neighbour through slot s) at `i * (slots+1) + s` (usize::MAX across a
    /// wall) and of J(i, i) at `i * (slots+1) + slots`.
    pos: Vec<usize>,
}

impl Stencil {
    fn new(grid: &Grid) -> Self {
        let n = grid.len();
        let slots = 2 * grid.dim();
        let mut row_ptr = Vec::with_capacity(n + 1);
        let mut col_idx = Vec::with_capacity(n * (slots + 1));
        let mut pos = vec![usize::MAX; n * (slots + 1)];
        row_ptr.push(0);
        for i in 0..n {
            let start = col_idx.len();
            let nb = grid.neighbours(i);
            let mut cols: Vec<usize> = nb.iter().copied().filter(|&c| c != NONE).collect();
            cols.push(i);
            cols.sort_unstable();
            cols.dedup();
            col_idx.extend_from_slice(&cols);
            let find = |c: usize| start + cols.binary_search(&c).expect("stencil entry");
            for (s, &j) in nb.iter().enumerate() {
                if j != NONE {
                    pos[i * (slots + 1) + s] = find(j);
                }
            }
            pos[i * (slots + 1) + slots] = find(i);
            row_ptr.push(col_idx.len());
        }
        Stencil {
            n,
            slots,
            row_ptr,
            col_idx,
            pos,
        }
    }

    /// Writes the entries of J = I/Δt - Q in CSR order.
    fn fill(&self, grid: &Grid, gen: &Generator, inv_dt: f64, values: &mut [f64]) {
        let w = self.slots + 1;
        for i in 0..self.n {
            let mut out = 0.0;
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != NONE {
                    let r = gen.rate(i, s);
                    values[self.pos[i * w + s]] = -r;
                    out += r;
                }
            }
            values[self.pos[i * w + self.slots]] = inv_dt + out;
        }
    }

    fn diag(&self, i: usize) -> usize {
        self.pos[i * (self.slots + 1) + self.slots]
    }
}

/// faer's sparse LU of Jᵀ on the stencil pattern, symbolic analysis computed once.
pub struct SparseLu {
    stencil: Stencil,
    values: Vec<f64>,
    symbolic: SymbolicLu<usize>,
    numeric: NumericLu<usize, f64>,
    mem: MemBuffer,
}

impl std::fmt::Debug for SparseLu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SparseLu")
            .field("n", &self.stencil.n)
            .field("nnz", &self.values.len())
            .finish_non_exhaustive()
    }
}

impl SparseLu {
    fn new(grid: &Grid) -> Result<Self> {
        Self::with_stencil(Stencil::new(grid))
    }

    fn with_stencil(stencil: Stencil) -> Result<Self> {
        let n = stencil.n;
        // The CSR arrays of J are the CSC arrays of Jᵀ.
        let sym =
            SymbolicSparseColMatRef::new_checked(n, n, &stencil.row_ptr, None, &stencil.col_idx);
        // faer's simplicial LU is several times slower than its supernodal one on these
        // stencils even when its flop-count heuristic picks it (measured: 2D 60x20 grid).
        let params = LuSymbolicParams {
            supernodal_flop_ratio_threshold: SupernodalThreshold::FORCE_SUPERNODAL,
            ..Default::default()
        };
        let symbolic = factorize_symbolic_lu(sym, params)
            .map_err(|e| Error::LinearSolve(format!("symbolic LU: {e:?}")))?;
        let req = StackReq::any_of(&[
            symbolic.factorize_numeric_lu_scratch::<f64>(Par::Seq, Default::default()),
            symbolic.solve_in_place_scratch::<f64>(1, Par::Seq),
        ]);
        let values = vec![0.0; stencil.col_idx.len()];
        Ok(SparseLu {
            stencil,
            values,
            symbolic,
            numeric: NumericLu::new(),
            mem: MemBuffer::new(req),
        })
    }

    /// A factorised LU of the matrix with CSR `values` on `stencil`.
    fn from_stencil(stencil: Stencil, values: &[f64]) -> Result<Self> {
        let mut lu = Self::with_stencil(stencil)?;
        lu.values.copy_from_slice(values);
        lu.factor_values()?;
        Ok(lu)
    }

    fn factor(&mut self, grid: &Grid, gen: &Generator, inv_dt: f64) -> Result<()> {
        self.stencil.fill(grid, gen, inv_dt, &mut self.values);
        self.factor_values()
    }

    fn factor_values(&mut self) -> Result<()> {
        let n = self.stencil.n;
        let sym = SymbolicSparseColMatRef::new_checked(
            n,
            n,
            &self.stencil.row_ptr,
            None,
            &self.stencil.col_idx,
        );
        let mat = SparseColMatRef::new(sym, &self.values);
        self.symbolic
            .factorize_numeric_lu(
                &mut self.numeric,
                mat,
                Par::Seq,
                MemStack::new(&mut self.mem),
                Default::default(),
            )
            .map_err(|e| Error::LinearSolve(format!("numeric LU: {e:?}")))?;
        Ok(())
    }

    /// Solves Jᵀx = b (`transpose_of_factored = false`) or J x = b (`true`): faer holds Jᵀ.
    fn solve(&mut self, b: &mut [f64], transpose_of_factored: bool) {
        let lu = LuRef::new_unchecked(&self.symbolic, &self.numeric);
        let rhs = MatMut::from_column_major_slice_mut(b, self.stencil.n, 1);
        let stack = MemStack::new(&mut self.mem);
        if transpose_of_factored {
            lu.solve_transpose_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
        } else {
            lu.solve_in_place_with_conj(Conj::No, rhs, Par::Seq, stack);
        }
    }
}

/// BiCGSTAB for J x = b or Jᵀ x = b, right-preconditioned by ILU(0) of J (of Jᵀ: its
/// transpose), with faer's LU as fallback when the iteration stalls.
pub struct IluBicgstab {
    stencil: Stencil,
    tol: f64,
    /// J in CSR order.
    values: Vec<f64>,
    /// ILU(0) factors in CSR order: strict lower part L (unit diagonal implied), upper part U.
    ilu: Vec<f64>,
    /// For each strictly lower entry (i, k), in elimination order: its position, the position
    /// of the pivot (k, k), and the (i, j) ← (i, j) - l_ik u_kj updates it triggers.
    elim: Vec<(usize, usize, std::ops::Range<usize>)>,
    updates: Vec<(usize, usize)>,
    work: [Vec<f64>; 7],
    fallback: Option<SparseLu>,
    /// Statistics: solves and total BiCGSTAB iterations, fallbacks used.
    pub solves: usize,
    pub iterations: usize,
    pub fallbacks: usize,
}

impl std::fmt::Debug for IluBicgstab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IluBicgstab")
            .field("n", &self.stencil.n)
            .field("tol", &self.tol)
            .field("solves", &self.solves)
            .field("iterations", &self.iterations)
            .field("fallbacks", &self.fallbacks)
            .finish_non_exhaustive()
    }
}

impl IluBicgstab {
    fn new(grid: &Grid, tol: f64) -> Result<Self> {
        let stencil = Stencil::new(grid);
        let (rp, ci) = (&stencil.row_ptr, &stencil.col_idx);
        let mut elim = Vec::new();
        let mut updates = Vec::new();
        for i in 0..stencil.n {
            for p_ik in rp[i]..rp[i + 1] {
                let k = ci[p_ik];
                if k >= i {
                    break;
                }
                let start = updates.len();
                for p_ij in p_ik + 1..rp[i + 1] {
                    let j = ci[p_ij];
                    if let Ok(off) = ci[rp[k]..rp[k + 1]].binary_search(&j) {
                        updates.push((p_ij, rp[k] + off));
                    }
                }
                elim.push((p_ik, stencil.diag(k), start..updates.len()));
            }
        }
        let nnz = ci.len();
        let n = stencil.n;
        Ok(IluBicgstab {
            stencil,
            tol,
            values: vec![0.0; nnz],
            ilu: vec![0.0; nnz],
            elim,
            updates,
            work: std::array::from_fn(|_| vec![0.0; n]),
            fallback: None,
            solves: 0,
            iterations: 0,
            fallbacks: 0,
        })
    }

    fn factor(&mut self, grid: &Grid, gen: &Generator, inv_dt: f64) -> Result<()> {
        self.stencil.fill(grid, gen, inv_dt, &mut self.values);
        self.ilu.copy_from_slice(&self.values);
        for (p_ik, p_kk, ups) in &self.elim {
            let l = self.ilu[*p_ik] / self.ilu[*p_kk];
            self.ilu[*p_ik] = l;
            for &(p_ij, p_kj) in &self.updates[ups.clone()] {
                self.ilu[p_ij] -= l * self.ilu[p_kj];
            }
        }
        if (0..self.stencil.n).any(|i| {
            let d = self.ilu[self.stencil.diag(i)];
            !(d.is_finite() && d > 0.0)
        }) {
            return Err(Error::LinearSolve(
                "non-positive pivot in ILU(0) of the step matrix".into(),
            ));
        }
        if let Some(f) = self.fallback.as_mut() {
            // Keep the fallback's matrix current only when it is in use (it was needed once).
            f.factor(grid, gen, inv_dt)?;
        }
        Ok(())
    }

    /// y = J x or y = Jᵀ x.
    fn apply(&self, x: &[f64], y: &mut [f64], transpose: bool) {
        let (rp, ci, v) = (&self.stencil.row_ptr, &self.stencil.col_idx, &self.values);
        if transpose {
            y.fill(0.0);
            for i in 0..self.stencil.n {
                for p in rp[i]..rp[i + 1] {
                    y[ci[p]] += v[p] * x[i];
                }
            }
        } else {
            for i in 0..self.stencil.n {
                y[i] = (rp[i]..rp[i + 1]).map(|p| v[p] * x[ci[p]]).sum();
            }
        }
    }

    /// x ← (LU)⁻¹ x, or (LU)⁻ᵀ x.
    fn precondition(&self, x: &mut [f64], transpose: bool) {
        let (rp, ci, a) = (&self.stencil.row_ptr, &self.stencil.col_idx, &self.ilu);
        let n = self.stencil.n;
        if !transpose {
            for i in 0..n {
                let mut s = x[i];
                for p in rp[i]..rp[i + 1] {
                    if ci[p] >= i {
                        break;
                    }
                    s -= a[p] * x[ci[p]];
                }
                x[i] = s;
            }
            for i in (0..n).rev() {
                let mut s = x[i];
                for p in (rp[i]..rp[i + 1]).rev() {
                    if ci[p] <= i {
                        break;
                    }
                    s -= a[p] * x[ci[p]];
                }
                x[i] = s / a[self.stencil.diag(i)];
            }
        } else {
            // (LU)ᵀ = UᵀLᵀ: forward with Uᵀ (column-oriented on U's rows), back with Lᵀ.
            for i in 0..n {
                let xi = x[i] / a[self.stencil.diag(i)];
                x[i] = xi;
                for p in (rp[i]..rp[i + 1]).rev() {
                    if ci[p] <= i {
                        break;
                    }
                    x[ci[p]] -= a[p] * xi;
                }
            }
            for i in (0..n).rev() {
                let xi = x[i];
                for p in rp[i]..rp[i + 1] {
                    if ci[p] >= i {
                        break;
                    }
                    x[ci[p]] -= a[p] * xi;
                }
            }
        }
    }

    fn solve(&mut self, b: &mut [f64], transpose: bool) -> Result<()> {
        self.solves += 1;
        if let Some(f) = self.fallback.as_mut() {
            f.solve(b, !transpose);
            return Ok(());
        }
        let n = self.stencil.n;
        let [mut x, mut r, mut r0, mut p, mut v, mut s, mut t] = std::mem::take(&mut self.work);
        // Initial guess: the preconditioned right-hand side.
        x.copy_from_slice(b);
        self.precondition(&mut x, transpose);
        self.apply(&x, &mut t, transpose);
        for i in 0..n {
            r[i] = b[i] - t[i];
        }
        let bnorm = norm(b);
        let target = self.tol * bnorm;
        r0.copy_from_slice(&r);
        p.fill(0.0);
        v.fill(0.0);
        let (mut rho, mut alpha, mut omega) = (1.0, 1.0, 1.0);
        let max_iter = 200;
        let mut converged = norm(&r) <= target || bnorm == 0.0;
        let mut it = 0;
        while !converged && it < max_iter {
            it += 1;
            let rho_new = dot(&r0, &r);
            if rho_new == 0.0 || omega == 0.0 {
                break;
            }
            let beta = (rho_new / rho) * (alpha / omega);
            rho = rho_new;
            for i in 0..n {
                p[i] = r[i] + beta * (p[i] - omega * v[i]);
            }
            // s temporarily holds the preconditioned direction p̂.
            s.copy_from_slice(&p);
            self.precondition(&mut s, transpose);
            self.apply(&s, &mut v, transpose);
            let r0v = dot(&r0, &v);
            if r0v == 0.0 {
                break;
            }
            alpha = rho / r0v;
            for i in 0..n {
                x[i] += alpha * s[i];
                s[i] = r[i] - alpha * v[i];
            }
            if norm(&s) <= target {
                r.copy_from_slice(&s);
                converged = true;
                break;
            }
            // t holds the preconditioned ŝ, then A ŝ goes into r (free until updated).
            t.copy_from_slice(&s);
            self.precondition(&mut t, transpose);
            self.apply(&t, &mut r, transpose);
            let tt = dot(&r, &r);
            omega = if tt > 0.0 { dot(&r, &s) / tt } else { 0.0 };
            for i in 0..n {
                x[i] += omega * t[i];
                r[i] = s[i] - omega * r[i];
            }
            converged = norm(&r) <= target;
        }
        self.iterations += it;
        self.work = [x, r, r0, p, v, s, t];
        if converged {
            b.copy_from_slice(&self.work[0]);
        } else {
            // Rare: switch to the direct solver for the rest of this workspace's life.
            self.fallbacks += 1;
            let mut lu = SparseLu::from_stencil(self.stencil.clone(), &self.values)?;
            lu.solve(b, !transpose);
            self.fallback = Some(lu);
        }
        Ok(())
    }
}

fn norm(a: &[f64]) -> f64 {
    dot(a, a).sqrt()
}
