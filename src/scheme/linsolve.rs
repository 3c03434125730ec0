//! Linear solves with the implicit-step matrix J = I/Δt - Q(u) (HJB Newton step) and with its
//! transpose Jᵀ (FP step). J is an M-matrix, strictly diagonally dominant by rows (row sums
//! 1/Δt), so elimination without pivoting is stable and the solution of Jᵀm = b with b ≥ 0 is
//! ≥ 0.
//!
//! - 1D reflecting: J is tridiagonal; Thomas elimination, O(N), and one factorisation serves both
//!   J and Jᵀ (A = LU, Aᵀ = UᵀLᵀ).
//! - 1D periodic: cyclic tridiagonal; Sherman-Morrison on top of the tridiagonal solver.
//!   ([`LinearSolver::Iterative`] also runs in 1D, as a single x-line, mainly for testing.)
//! - 2D, direct ([`LinearSolver::Direct`]): faer's sparse LU. The pattern of J never changes
//!   (the 5-point stencil), so the column ordering and symbolic analysis are computed once per
//!   grid and only the numeric factorisation is redone, into a reused buffer. faer factors Jᵀ
//!   (the CSR arrays of J read as CSC): Jᵀ is column diagonally dominant, so partial pivoting
//!   keeps the diagonal pivots and the FP solve Jᵀm = b is sign-preserving elimination.
//! - 2D, iterative ([`LinearSolver::Iterative`], the default in 2D): BiCGSTAB, right-
//!   preconditioned by an incomplete factorisation M = (I + L D⁻¹)(D + U) of J (L, U: its strict
//!   triangles, so no fill), on structured 5-point storage (one coefficient array per direction,
//!   line-by-line loops, two x-lines per triangular sweep to overlap their recurrences). The
//!   pivots D are relaxed modified ILU, ω = 0.95 of the dropped fill lumped onto the diagonal
//!   (`dilu`): at 128² it needs ~18 iterations where plain ILU(0) needs 30.
//!   Positivity of FP solves: with ω = 0 (D-ILU, equal to ILU(0) on non-periodic grids) M is a
//!   regular splitting of the M-matrix J: M⁻¹ ≥ 0 and N = M - J = offdiag(L D⁻¹ U) ≥ 0 (all
//!   pivots d_i ≥ 1/Δt), and the same holds for Jᵀ with Mᵀ. Krylov iterates carry no sign
//!   guarantee, so an FP solve (b ≥ 0) whose BiCGSTAB result has a negative entry is clamped at
//!   0 and polished by Richardson steps x ← M⁻ᵀ(Nᵀx + b) of that splitting, which map x ≥ 0 to
//!   x ≥ M⁻ᵀb ≥ 0 exactly in floating point (every operation adds non-negative terms). The FP
//!   result is then rescaled by the known mass Δt Σ b / Σ x (a factor 1 + O(tolerance)), so
//!   mass is conserved to round-off whatever the iteration's residual. When BiCGSTAB does not
//!   converge, faer's LU of the same matrix solves.
//!   The HJB Newton step passes an absolute residual target (see [`StepSolver::solve_to`]): the
//!   Newton loop re-evaluates the nonlinear residual exactly, so the linear solve only has to
//!   bring its residual below the Newton tolerance, not to round-off.

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

/// Which solver the implicit steps use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum LinearSolver {
    /// The fastest path that keeps the scheme's invariants: tridiagonal elimination in 1D,
    /// [`LinearSolver::Iterative`] in 2D.
    #[default]
    Auto,
    /// Exact elimination: tridiagonal in 1D, faer's sparse LU in 2D.
    Direct,
    /// MILU-preconditioned BiCGSTAB on the structured stencil (1D and 2D), with the
    /// positivity polish and the LU fallback of the module documentation.
    Iterative,
}

impl LinearSolver {
    /// Configuration spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            LinearSolver::Auto => "auto",
            LinearSolver::Direct => "direct",
            LinearSolver::Iterative => "iterative",
        }
    }
}

impl std::str::FromStr for LinearSolver {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "auto" => Ok(LinearSolver::Auto),
            "direct" => Ok(LinearSolver::Direct),
            "iterative" => Ok(LinearSolver::Iterative),
            _ => Err(Error::invalid(
                "solver.linear.step_solver",
                format!("{s:?}: expected one of auto, direct, iterative"),
            )),
        }
    }
}

/// Solver for J = I/Δt - Q and Jᵀ on one grid, with its workspace.
#[derive(Debug)]
pub enum StepSolver {
    Tridiagonal(Tridiagonal),
    Cyclic(Cyclic),
    Sparse(Box<SparseLu>),
    Iterative(Box<IluBicgstab>),
}

impl StepSolver {
    /// The default ([`LinearSolver::Auto`]) solver for `grid`.
    pub fn new(grid: &Grid) -> Result<Self> {
        Self::with_choice(grid, LinearSolver::Auto)
    }

    /// The solver `choice` selects for `grid`.
    pub fn with_choice(grid: &Grid, choice: LinearSolver) -> Result<Self> {
        match (choice, grid.dim()) {
            (LinearSolver::Auto | LinearSolver::Direct, 1) => {
                let n = grid.len();
                Ok(match grid.axes()[0].boundary {
                    Boundary::Reflecting => StepSolver::Tridiagonal(Tridiagonal::new(n)),
                    Boundary::Periodic => StepSolver::Cyclic(Cyclic::new(n)),
                })
            }
            (LinearSolver::Direct, _) => Self::sparse(grid),
            (LinearSolver::Auto | LinearSolver::Iterative, _) => {
                Self::iterative(grid, IterativeSettings::default())
            }
        }
    }

    /// The general sparse LU path on any grid (the 1D fast paths are checked against it).
    pub fn sparse(grid: &Grid) -> Result<Self> {
        Ok(StepSolver::Sparse(Box::new(SparseLu::new(grid)?)))
    }

    /// MILU-preconditioned BiCGSTAB on any grid.
    pub fn iterative(grid: &Grid, settings: IterativeSettings) -> Result<Self> {
        Ok(StepSolver::Iterative(Box::new(IluBicgstab::new(
            grid, settings,
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

    /// Solves J x = b in place, to the accuracy of a direct solve.
    pub fn solve(&mut self, b: &mut [f64]) -> Result<()> {
        self.solve_to(b, 0.0)
    }

    /// Solves J x = b in place; an iterative solver may stop once ‖b - J x‖₂ ≤ `abs_tol`
    /// (direct solvers ignore it).
    pub fn solve_to(&mut self, b: &mut [f64], abs_tol: f64) -> Result<()> {
        match self {
            StepSolver::Tridiagonal(t) => t.solve(b),
            StepSolver::Cyclic(c) => c.solve(b),
            StepSolver::Sparse(s) => s.solve(b, true),
            StepSolver::Iterative(s) => return s.solve(b, false, abs_tol),
        }
        Ok(())
    }

    /// Solves Jᵀ x = b in place. With b ≥ 0 (an FP step) the result is ≥ 0 and
    /// Σ x = Δt Σ b to round-off.
    pub fn solve_transpose(&mut self, b: &mut [f64]) -> Result<()> {
        match self {
            StepSolver::Tridiagonal(t) => t.solve_transpose(b),
            StepSolver::Cyclic(c) => c.solve_transpose(b),
            StepSolver::Sparse(s) => s.solve(b, false),
            StepSolver::Iterative(s) => return s.solve(b, true, 0.0),
        }
        Ok(())
    }

    /// Counters of the iterative solver (None for the direct ones).
    pub fn stats(&self) -> Option<IterativeStats> {
        match self {
            StepSolver::Iterative(s) => Some(s.stats),
            _ => None,
        }
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

/// Neighbour directions of the structured storage; they coincide with the grid's slots
/// 2·axis + (0 lower, 1 upper).
const W: usize = 0;
const E: usize = 1;
const S: usize = 2;
const N: usize = 3;
/// Index of the diagonal among the five coefficient arrays.
const C: usize = 4;

/// Shape of the tensor grid as the structured loops see it: Nx × Ny nodes, i = ix + Nx·iy
/// (Ny = 1 in 1D), periodic or not per axis.
#[derive(Debug, Clone, Copy)]
struct Lattice {
    nx: usize,
    ny: usize,
    px: bool,
    py: bool,
}

impl Lattice {
    fn new(grid: &Grid) -> Self {
        let ax = grid.axes();
        let lat = Lattice {
            nx: ax[0].n,
            ny: if ax.len() > 1 { ax[1].n } else { 1 },
            px: ax[0].boundary == Boundary::Periodic,
            py: ax.len() > 1 && ax[1].boundary == Boundary::Periodic,
        };
        // The loops hard-code the grid's numbering; a change there must not go unnoticed.
        for i in 0..grid.len() {
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                assert_eq!(lat.nb(i, s).unwrap_or(NONE), j, "grid numbering changed");
            }
        }
        lat
    }

    fn len(&self) -> usize {
        self.nx * self.ny
    }

    /// Neighbour of node i in direction `dir`, None across a wall.
    fn nb(&self, i: usize, dir: usize) -> Option<usize> {
        let (nx, ny) = (self.nx, self.ny);
        let (ix, iy) = (i % nx, i / nx);
        match dir {
            W if ix > 0 => Some(i - 1),
            W if self.px => Some(i + nx - 1),
            E if ix + 1 < nx => Some(i + 1),
            E if self.px => Some(i + 1 - nx),
            S if iy > 0 => Some(i - nx),
            S if self.py => Some(i + (ny - 1) * nx),
            N if iy + 1 < ny => Some(i + nx),
            N if self.py => Some(ix),
            _ => None,
        }
    }
}

/// A 5-point matrix in gather form: `a[dir][i]` multiplies x at node i's neighbour in
/// direction `dir` (0 across a wall), `a[C][i]` is the diagonal.
type Five = [Vec<f64>; 5];
/// Incomplete factors of a [`Five`]: every off-diagonal a_ij scaled by 1/d_min(i,j), i.e. the
/// strict lower part of L D⁻¹ and the strict upper part of D⁻¹ U.
type Scaled = [Vec<f64>; 4];

/// y = A x.
fn apply(lat: &Lattice, a: &Five, x: &[f64], y: &mut [f64]) {
    let (nx, ny) = (lat.nx, lat.ny);
    let m = nx - 2;
    // A neighbour line across a wall is replaced by the line itself: its coefficients are 0.
    for iy in 0..ny {
        let o = iy * nx;
        let so = match iy {
            0 if lat.py => (ny - 1) * nx,
            0 => o,
            _ => o - nx,
        };
        let no = match iy + 1 {
            t if t < ny => o + nx,
            _ if lat.py => 0,
            _ => o,
        };
        let r = o..o + nx;
        let (xc, xs, xn) = (&x[r.clone()], &x[so..so + nx], &x[no..no + nx]);
        let (c, aw, ae, as_, an) = (
            &a[C][r.clone()],
            &a[W][r.clone()],
            &a[E][r.clone()],
            &a[S][r.clone()],
            &a[N][r.clone()],
        );
        let yl = &mut y[r];
        for k in 0..nx {
            yl[k] = c[k] * xc[k] + as_[k] * xs[k] + an[k] * xn[k];
        }
        let (yi, awi, aei, xm, xp) = (
            &mut yl[1..nx - 1],
            &aw[1..nx - 1],
            &ae[1..nx - 1],
            &xc[..m],
            &xc[2..],
        );
        for k in 0..m {
            yi[k] += awi[k] * xm[k] + aei[k] * xp[k];
        }
        let (wl, er) = if lat.px { (nx - 1, 0) } else { (0, nx - 1) };
        yl[0] += aw[0] * xc[wl] + ae[0] * xc[1];
        yl[nx - 1] += aw[nx - 1] * xc[nx - 2] + ae[nx - 1] * xc[er];
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

/// Clamps x at 0, then `steps` Richardson steps x ← M⁻¹(N x + b) of the D-ILU splitting: with
/// b ≥ 0 each maps x ≥ 0 to x ≥ M⁻¹b ≥ 0, every operation adding non-negative terms, and
/// contracts the error (ρ(M⁻¹N) < 1 for a regular splitting of an M-matrix).
#[allow(clippy::too_many_arguments)]
fn polish(
    lat: &Lattice,
    a: &Five,
    sc: &Scaled,
    inv_d: &[f64],
    b: &[f64],
    x: &mut [f64],
    t: &mut [f64],
    steps: usize,
) {
    x.iter_mut().for_each(|v| *v = v.max(0.0));
    for _ in 0..steps {
        remainder(lat, a, sc, x, t);
        t.iter_mut().zip(b).for_each(|(ti, bi)| *ti += bi);
        forward(lat, sc, t);
        backward(lat, sc, inv_d, t);
        x.copy_from_slice(t);
    }
}

/// Aᵀ in gather form: (Aᵀ)_{i, nb(i, dir)} = A_{nb(i, dir), i}, the coefficient of the
/// neighbour in the opposite direction.
fn transpose(lat: &Lattice, a: &Five, at: &mut Five) {
    at[C].copy_from_slice(&a[C]);
    for (dir, opp) in [(W, E), (E, W), (S, N), (N, S)] {
        for (i, v) in at[dir].iter_mut().enumerate() {
            *v = lat.nb(i, dir).map_or(0.0, |j| a[opp][j]);
        }
    }
}

/// ‖A‖∞, the largest absolute row sum.
fn max_row_sum(a: &Five) -> f64 {
    (0..a[C].len())
        .map(|i| a.iter().map(|c| c[i].abs()).sum::<f64>())
        .fold(0.0, f64::max)
}

/// Dot product with four partial sums (vectorises; the order differs from a plain sum).
fn dot4(a: &[f64], b: &[f64]) -> f64 {
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

fn norm(a: &[f64]) -> f64 {
    dot4(a, a).sqrt()
}

/// Largest mass correction factor |f - 1| an FP solve may apply: a converged solve needs
/// O(rel_tol); anything beyond this bound sends the step to the LU.
const MASS_CORRECTION_LIMIT: f64 = 1e-10;

/// Parameters of [`IluBicgstab`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IterativeSettings {
    /// Stop when ‖b - A x‖₂ ≤ rel_tol ‖b‖₂ (or the caller's absolute target, if larger).
    pub rel_tol: f64,
    /// BiCGSTAB iterations per solve before the LU fallback takes over.
    pub max_iterations: usize,
    /// Richardson steps of the positivity polish of an FP solve.
    pub polish_steps: usize,
    /// Rescale an FP result (b ≥ 0) to the exact mass Δt Σ b.
    pub conserve_mass: bool,
    /// Weight ω of the dropped fill lumped onto the pivots: 0 is D-ILU (diag M = diag J), 1 is
    /// modified ILU (M 1 = J 1). The default 0.95 cut the iterations at 128² from 30 to 18.
    pub milu: f64,
}

impl Default for IterativeSettings {
    fn default() -> Self {
        IterativeSettings {
            rel_tol: 5e-15,
            max_iterations: 100,
            polish_steps: 2,
            conserve_mass: true,
            milu: 0.95,
        }
    }
}

/// Counters of an [`IluBicgstab`] since its creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IterativeStats {
    pub solves: usize,
    /// BiCGSTAB iterations, all solves.
    pub iterations: usize,
    /// Solves handed to the LU because BiCGSTAB did not converge (or an FP result needed a
    /// mass correction beyond `MASS_CORRECTION_LIMIT`).
    pub fallbacks: usize,
    /// FP solves whose BiCGSTAB result had a negative entry and was polished.
    pub polishes: usize,
}

/// BiCGSTAB for J x = b or Jᵀ x = b, right-preconditioned by (relaxed modified) ILU, on
/// structured storage.
pub struct IluBicgstab {
    lat: Lattice,
    settings: IterativeSettings,
    inv_dt: f64,
    j: Five,
    j_sc: Scaled,
    /// Jᵀ and its factors, built on the first transposed solve after a factorisation.
    jt: Five,
    jt_sc: Scaled,
    jt_current: bool,
    /// ‖J‖∞ and ‖Jᵀ‖∞.
    norms: [f64; 2],
    /// Pivots 1/d_i, shared by J and Jᵀ: the preconditioner of Jᵀ is Mᵀ.
    inv_d: Vec<f64>,
    work: [Vec<f64>; 7],
    stencil: Stencil,
    /// The LU fallback, created on first use; `lu_current` when it holds the current J.
    lu: Option<Box<SparseLu>>,
    lu_current: bool,
    pub stats: IterativeStats,
}

impl std::fmt::Debug for IluBicgstab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IluBicgstab")
            .field("nx", &self.lat.nx)
            .field("ny", &self.lat.ny)
            .field("settings", &self.settings)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl IluBicgstab {
    fn new(grid: &Grid, settings: IterativeSettings) -> Result<Self> {
        let lat = Lattice::new(grid);
        let n = lat.len();
        if lat.nx < 3 {
            return Err(Error::LinearSolve(
                "the structured solver needs Nx ≥ 3".into(),
            ));
        }
        let zeros5 = || std::array::from_fn(|_| vec![0.0; n]);
        let zeros4 = || std::array::from_fn(|_| vec![0.0; n]);
        Ok(IluBicgstab {
            lat,
            settings,
            inv_dt: 0.0,
            j: zeros5(),
            j_sc: zeros4(),
            jt: zeros5(),
            jt_sc: zeros4(),
            jt_current: false,
            norms: [0.0; 2],
            inv_d: vec![0.0; n],
            work: std::array::from_fn(|_| vec![0.0; n]),
            stencil: Stencil::new(grid),
            lu: None,
            lu_current: false,
            stats: IterativeStats::default(),
        })
    }

    fn factor(&mut self, grid: &Grid, gen: &Generator, inv_dt: f64) -> Result<()> {
        let slots = 2 * grid.dim();
        self.inv_dt = inv_dt;
        for i in 0..self.lat.len() {
            let mut out = 0.0;
            for (s, &nb) in grid.neighbours(i).iter().enumerate() {
                let r = if nb != NONE { gen.rate(i, s) } else { 0.0 };
                self.j[s][i] = -r;
                out += r;
            }
            for s in slots..4 {
                self.j[s][i] = 0.0;
            }
            self.j[C][i] = inv_dt + out;
        }
        let us = &mut self.work[0];
        if !dilu(&self.lat, &self.j, self.settings.milu, us, &mut self.inv_d) {
            return Err(Error::LinearSolve(
                "non-positive or non-finite pivot in the incomplete LU of the step matrix".into(),
            ));
        }
        scale(&self.lat, &self.j, &self.inv_d, &mut self.j_sc);
        self.norms[0] = max_row_sum(&self.j);
        self.jt_current = false;
        self.lu_current = false;
        Ok(())
    }

    fn solve(&mut self, b: &mut [f64], transpose_op: bool, abs_tol: f64) -> Result<()> {
        self.stats.solves += 1;
        if transpose_op && !self.jt_current {
            transpose(&self.lat, &self.j, &mut self.jt);
            scale(&self.lat, &self.jt, &self.inv_d, &mut self.jt_sc);
            self.norms[1] = max_row_sum(&self.jt);
            self.jt_current = true;
        }
        let fp = transpose_op && b.iter().all(|v| *v >= 0.0);
        let target = abs_tol.max(self.settings.rel_tol * norm(b));
        let [mut x, w1, w2, w3, w4, w5, w6] = std::mem::take(&mut self.work);
        let mut ws = [w1, w2, w3, w4, w5, w6];
        let (a, sc, a_norm) = if transpose_op {
            (&self.jt, &self.jt_sc, self.norms[1])
        } else {
            (&self.j, &self.j_sc, self.norms[0])
        };
        let (ok, its) = bicgstab(
            &self.lat,
            a,
            sc,
            &self.inv_d,
            a_norm,
            b,
            &mut x,
            target,
            self.settings.max_iterations,
            &mut ws,
        );
        self.stats.iterations += its;
        let mut ok = ok;
        if ok && fp {
            if x.iter().any(|v| *v < 0.0) {
                self.stats.polishes += 1;
                let [t, us, ..] = &mut ws;
                self.polish_transpose(b, &mut x, t, us);
            }
            if self.settings.conserve_mass {
                // Σ_i (Jᵀx)_i = Σ_i x_i/Δt: the exact solution has mass Δt Σ b.
                let (mass, sx) = (b.iter().sum::<f64>() / self.inv_dt, x.iter().sum::<f64>());
                // The solve converged, so |f - 1| ≤ |Σ r|/Σ b is of the size of its tolerance;
                // a larger correction would hide a bad solve, which the LU redoes instead.
                let f = mass / sx;
                if sx > 0.0 && (f - 1.0).abs() <= MASS_CORRECTION_LIMIT {
                    x.iter_mut().for_each(|v| *v *= f);
                } else if mass > 0.0 {
                    ok = false;
                }
            }
        }
        let result = if ok {
            b.copy_from_slice(&x);
            Ok(())
        } else {
            self.stats.fallbacks += 1;
            self.solve_lu(b, transpose_op)
        };
        let [w1, w2, w3, w4, w5, w6] = ws;
        self.work = [x, w1, w2, w3, w4, w5, w6];
        result
    }

    /// Makes an approximate solution x of Jᵀx = b (b ≥ 0) non-negative: clamp, then Richardson
    /// steps of the D-ILU splitting of Jᵀ (see [`polish`]); `t`, `us` are scratch. Needs Jᵀ
    /// built (`jt_current`).
    fn polish_transpose(&self, b: &[f64], x: &mut [f64], t: &mut [f64], us: &mut [f64]) {
        let (lat, a, steps) = (&self.lat, &self.jt, self.settings.polish_steps);
        if self.settings.milu == 0.0 {
            polish(lat, a, &self.jt_sc, &self.inv_d, b, x, t, steps);
            return;
        }
        // The sign argument needs the regular splitting of D-ILU; MILU pivots do not give one.
        // This path is rare, so its factors are not kept.
        let n = x.len();
        let (mut inv_d, mut sc): (Vec<f64>, Scaled) =
            (vec![0.0; n], std::array::from_fn(|_| vec![0.0; n]));
        // D-ILU pivots of an M-matrix are ≥ its row sums (see `dilu`); were they not, the
        // clamped x would still be ≥ 0, only less accurate.
        if dilu(lat, a, 0.0, us, &mut inv_d) {
            scale(lat, a, &inv_d, &mut sc);
            polish(lat, a, &sc, &inv_d, b, x, t, steps);
        } else {
            x.iter_mut().for_each(|v| *v = v.max(0.0));
        }
    }

    /// The direct solve of the current J or Jᵀ (faer's LU, factorised on demand).
    fn solve_lu(&mut self, b: &mut [f64], transpose_op: bool) -> Result<()> {
        if self.lu.is_none() {
            self.lu = Some(Box::new(SparseLu::with_stencil(self.stencil.clone())?));
        }
        let lu = self.lu.as_mut().expect("created above");
        if !self.lu_current {
            let w = lu.stencil.slots + 1;
            for i in 0..self.lat.len() {
                for s in 0..lu.stencil.slots {
                    let p = lu.stencil.pos[i * w + s];
                    if p != usize::MAX {
                        lu.values[p] = self.j[s][i];
                    }
                }
                lu.values[lu.stencil.diag(i)] = self.j[C][i];
            }
            lu.factor_values()?;
            self.lu_current = true;
        }
        lu.solve(b, !transpose_op);
        Ok(())
    }
}

/// Right-preconditioned BiCGSTAB for A x = b from x = 0, until ‖b - A x‖₂ ≤ target (checked
/// on the true residual); `a_norm` = ‖A‖∞. Returns (converged, iterations).
#[allow(clippy::too_many_arguments)]
fn bicgstab(
    lat: &Lattice,
    a: &Five,
    sc: &Scaled,
    inv_d: &[f64],
    a_norm: f64,
    b: &[f64],
    x: &mut [f64],
    target: f64,
    max_iterations: usize,
    ws: &mut [Vec<f64>; 6],
) -> (bool, usize) {
    let [r, r0, p, v, s, t] = ws;
    x.fill(0.0);
    r.copy_from_slice(b);
    let bnorm = norm(r);
    if bnorm <= target {
        return (true, 0);
    }
    // Round-off bounds the attainable residual by about ε (‖A‖ ‖x‖ + ‖b‖): a relative target
    // below that would stall and end in the LU fallback (seen on fine 1D grids, where
    // ‖A‖ ‖x‖ ≫ ‖b‖).
    let floor = |x: &[f64]| 2.0 * f64::EPSILON * (a_norm * norm(x) + bnorm);
    let accept = |res: f64, x: &[f64]| res <= target || (res <= 1e3 * target && res <= floor(x));
    let mut it = 0;
    // Restarts from the true residual when the recursive one has drifted from it.
    for _restart in 0..3 {
        r0.copy_from_slice(r);
        p.fill(0.0);
        v.fill(0.0);
        let (mut rho, mut alpha, mut omega) = (1.0, 1.0, 1.0);
        let mut rnorm = f64::INFINITY;
        while it < max_iterations {
            it += 1;
            let rho_new = dot4(r0, r);
            if rho_new == 0.0 || omega == 0.0 || !rho_new.is_finite() {
                break;
            }
            let beta = (rho_new / rho) * (alpha / omega);
            rho = rho_new;
            // s holds the preconditioned direction p̂ here.
            for k in 0..p.len() {
                p[k] = r[k] + beta * (p[k] - omega * v[k]);
            }
            s.copy_from_slice(p);
            forward(lat, sc, s);
            backward(lat, sc, inv_d, s);
            apply(lat, a, s, v);
            let r0v = dot4(r0, v);
            if r0v == 0.0 || !r0v.is_finite() {
                break;
            }
            alpha = rho / r0v;
            for k in 0..x.len() {
                x[k] += alpha * s[k];
                s[k] = r[k] - alpha * v[k];
            }
            let snorm = norm(s);
            if accept(snorm, x) {
                r.copy_from_slice(s);
                rnorm = snorm;
                break;
            }
            // t holds ŝ = M⁻¹s; A ŝ goes into r, free until its update.
            t.copy_from_slice(s);
            forward(lat, sc, t);
            backward(lat, sc, inv_d, t);
            apply(lat, a, t, r);
            let tt = dot4(r, r);
            omega = if tt > 0.0 { dot4(r, s) / tt } else { 0.0 };
            for k in 0..x.len() {
                x[k] += omega * t[k];
                r[k] = s[k] - omega * r[k];
            }
            rnorm = norm(r);
            if accept(rnorm, x) {
                break;
            }
        }
        if !accept(rnorm, x) {
            return (false, it);
        }
        apply(lat, a, x, t);
        for k in 0..r.len() {
            r[k] = b[k] - t[k];
        }
        if accept(norm(r), x) {
            return (true, it);
        }
    }
    (false, it)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grid::Axis;

    /// A seeded generator of uniform numbers in [0, 1) (no dependency needed).
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self) -> f64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 11) as f64 / (1u64 << 53) as f64
        }
    }

    const DT: f64 = 1.0 / 64.0;

    fn grid(nx: usize, ny: usize, bx: Boundary, by: Boundary) -> Grid {
        let x = Axis::new(0.0, 1.0, nx, bx);
        if ny == 1 {
            Grid::new(vec![x]).unwrap()
        } else {
            Grid::new_2d(x, Axis::new(0.0, 1.0, ny, by)).unwrap()
        }
    }

    /// Q(u) of a quadratic Hamiltonian for a random smooth u (a few random sine modes, slopes
    /// of order `amp`), as the HJB step builds it.
    pub(crate) fn random_generator(grid: &Grid, seed: u64, amp: f64) -> Generator {
        let mut rng = Lcg(seed);
        let modes: Vec<[f64; 4]> = (0..4)
            .map(|_| {
                [
                    (1.0 + 3.0 * rng.next()).floor(),
                    (3.0 * rng.next()).floor(),
                    std::f64::consts::TAU * rng.next(),
                    amp * (rng.next() - 0.5),
                ]
            })
            .collect();
        let u = grid.sample(|p| {
            let y = p.get(1).copied().unwrap_or(0.0);
            modes
                .iter()
                .map(|[kx, ky, ph, c]| {
                    c / kx * (std::f64::consts::TAU * (kx * p[0] + ky * y) + ph).sin()
                })
                .sum()
        });
        super::super::generator::quadratic_generator(grid, 0.25, &u)
    }

    fn rel_err(a: &[f64], b: &[f64]) -> f64 {
        let d = a
            .iter()
            .zip(b)
            .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()));
        d / b.iter().fold(0.0f64, |m, y| m.max(y.abs()))
    }

    fn grids() -> Vec<Grid> {
        use Boundary::{Periodic as P, Reflecting as R};
        vec![
            grid(40, 1, R, R),
            grid(40, 1, P, R),
            grid(12, 9, R, R),
            grid(13, 10, P, R),
            grid(11, 14, R, P),
            grid(9, 9, P, P),
            grid(64, 64, R, R),
            grid(64, 64, P, P),
        ]
    }

    #[test]
    fn iterative_matches_lu_on_random_generators() {
        for (g, grid) in grids().iter().enumerate() {
            let gen = random_generator(grid, 7 + g as u64, 4.0);
            let mut lu = StepSolver::sparse(grid).unwrap();
            let mut it = StepSolver::iterative(grid, IterativeSettings::default()).unwrap();
            lu.factor(grid, &gen, 1.0 / DT).unwrap();
            it.factor(grid, &gen, 1.0 / DT).unwrap();
            let mut rng = Lcg(100 + g as u64);
            let b: Vec<f64> = (0..grid.len()).map(|_| rng.next() - 0.3).collect();
            let (mut x_lu, mut x_it) = (b.clone(), b.clone());
            lu.solve(&mut x_lu).unwrap();
            it.solve(&mut x_it).unwrap();
            let e = rel_err(&x_it, &x_lu);
            assert!(e < 1e-12, "grid {g}: J solve error {e:e}");
            let bp: Vec<f64> = b.iter().map(|v| v + 0.3).collect();
            let (mut x_lu, mut x_it) = (bp.clone(), bp.clone());
            lu.solve_transpose(&mut x_lu).unwrap();
            it.solve_transpose(&mut x_it).unwrap();
            let e = rel_err(&x_it, &x_lu);
            assert!(e < 1e-12, "grid {g}: Jᵀ solve error {e:e}");
            let s = it.stats().unwrap();
            assert_eq!(s.fallbacks, 0, "grid {g}: {s:?}");
        }
    }

    /// Sixteen FP steps from a narrow Gaussian (m ≈ 1e-80 and below in the far corners).
    /// Returns the solver's counters.
    fn fp_steps(grid: &Grid, settings: IterativeSettings, seed: u64, tol: f64) -> IterativeStats {
        let mut m = grid.sample(|p| {
            let r2: f64 = p.iter().map(|x| (x - 0.3) * (x - 0.3)).sum();
            (-r2 / (2.0 * 0.035 * 0.035)).exp()
        });
        assert!(m.iter().cloned().fold(1.0, f64::min) < 1e-80);
        let mass0: f64 = m.iter().sum();
        let mut it = StepSolver::iterative(grid, settings).unwrap();
        let mut lu = StepSolver::sparse(grid).unwrap();
        for n in 0..16 {
            let gen = random_generator(grid, 31 * n + seed, 4.0);
            it.factor(grid, &gen, 1.0 / DT).unwrap();
            lu.factor(grid, &gen, 1.0 / DT).unwrap();
            let mut b: Vec<f64> = m.iter().map(|v| v / DT).collect();
            let mut x_lu = b.clone();
            lu.solve_transpose(&mut x_lu).unwrap();
            it.solve_transpose(&mut b).unwrap();
            assert!(b.iter().all(|v| *v >= 0.0), "step {n}: negative m");
            let e = rel_err(&b, &x_lu);
            assert!(e < tol, "step {n}: error {e:e}");
            let drift = (b.iter().sum::<f64>() - m.iter().sum::<f64>()).abs() / mass0;
            assert!(drift < 1e-13, "step {n}: mass drift {drift:e}");
            m = b;
        }
        it.stats().unwrap()
    }

    #[test]
    fn fp_steps_keep_sign_and_mass_with_far_tails() {
        use Boundary::{Periodic as P, Reflecting as R};
        for (g, grid) in [grid(64, 64, R, R), grid(32, 24, P, R), grid(200, 1, R, R)]
            .iter()
            .enumerate()
        {
            let s = fp_steps(grid, IterativeSettings::default(), g as u64, 1e-12);
            assert_eq!(s.fallbacks, 0, "grid {g}: {s:?}");
        }
    }

    #[test]
    fn positivity_polish_repairs_negative_entries() {
        // BiCGSTAB's FP results are rarely negative in practice, even at loose tolerances, so
        // the polish is fed a perturbed exact solution directly, with negative far tails.
        let grid = grid(32, 24, Boundary::Periodic, Boundary::Reflecting);
        let gen = random_generator(&grid, 13, 6.0);
        // The default (MILU) settings: the polish must build its own D-ILU splitting.
        let mut s = IluBicgstab::new(&grid, IterativeSettings::default()).unwrap();
        s.factor(&grid, &gen, 1.0 / DT).unwrap();
        let (mut t, mut us) = (s.work[0].clone(), s.work[1].clone());
        transpose(&s.lat, &s.j, &mut s.jt);
        scale(&s.lat, &s.jt, &s.inv_d, &mut s.jt_sc);
        let b: Vec<f64> = grid.sample(|p| {
            let r2: f64 = p.iter().map(|x| (x - 0.3) * (x - 0.3)).sum();
            (-r2 / (2.0 * 0.035 * 0.035)).exp() / DT
        });
        let mut exact = b.clone();
        let mut lu = StepSolver::sparse(&grid).unwrap();
        lu.factor(&grid, &gen, 1.0 / DT).unwrap();
        lu.solve_transpose(&mut exact).unwrap();
        let mut rng = Lcg(17);
        let scale_x = exact.iter().cloned().fold(0.0, f64::max);
        let mut x: Vec<f64> = exact
            .iter()
            .map(|v| v + 1e-9 * scale_x * (rng.next() - 0.5))
            .collect();
        assert!(x.iter().filter(|v| **v < 0.0).count() > 10);
        let before = rel_err(&x, &exact);
        s.polish_transpose(&b, &mut x, &mut t, &mut us);
        assert!(x.iter().all(|v| *v > 0.0), "the polish left m ≤ 0");
        let after = rel_err(&x, &exact);
        assert!(after < 0.5 * before, "{before:e} -> {after:e}");
    }

    #[test]
    fn richardson_on_the_dilu_splitting_keeps_sign() {
        let grid = grid(13, 10, Boundary::Periodic, Boundary::Periodic);
        let gen = random_generator(&grid, 3, 6.0);
        let dilu_only = IterativeSettings {
            milu: 0.0,
            ..Default::default()
        };
        let mut s = IluBicgstab::new(&grid, dilu_only).unwrap();
        s.factor(&grid, &gen, 1.0 / DT).unwrap();
        let mut b: Vec<f64> = grid.sample(|p| (-40.0 * (p[0] - 0.5).powi(2)).exp());
        b[5] = 0.0;
        let mut lu = StepSolver::sparse(&grid).unwrap();
        lu.factor(&grid, &gen, 1.0 / DT).unwrap();
        let mut exact = b.clone();
        lu.solve(&mut exact).unwrap();
        let (mut x, mut t) = (vec![0.0; grid.len()], vec![0.0; grid.len()]);
        let mut last = f64::INFINITY;
        for _ in 0..60 {
            remainder(&s.lat, &s.j, &s.j_sc, &x, &mut t);
            assert!(t.iter().all(|v| *v >= 0.0));
            t.iter_mut().zip(&b).for_each(|(ti, bi)| *ti += bi);
            forward(&s.lat, &s.j_sc, &mut t);
            backward(&s.lat, &s.j_sc, &s.inv_d, &mut t);
            assert!(t.iter().all(|v| *v >= 0.0));
            // From x = 0 ≤ x*, the iterates increase monotonically to x*.
            assert!(t.iter().zip(&x).all(|(a, b)| a >= b));
            x.copy_from_slice(&t);
            last = rel_err(&x, &exact);
        }
        assert!(last < 1e-12, "Richardson did not converge: {last:e}");
    }

    #[test]
    fn lu_fallback_takes_over_when_bicgstab_stops_short() {
        let grid = grid(20, 16, Boundary::Reflecting, Boundary::Periodic);
        let gen = random_generator(&grid, 5, 4.0);
        let settings = IterativeSettings {
            max_iterations: 1,
            ..Default::default()
        };
        let mut it = StepSolver::iterative(&grid, settings).unwrap();
        let mut lu = StepSolver::sparse(&grid).unwrap();
        it.factor(&grid, &gen, 1.0 / DT).unwrap();
        lu.factor(&grid, &gen, 1.0 / DT).unwrap();
        let b: Vec<f64> = grid.sample(|p| 1.0 + p[0] * p[1]);
        for transpose in [false, true] {
            let (mut x_it, mut x_lu) = (b.clone(), b.clone());
            if transpose {
                it.solve_transpose(&mut x_it).unwrap();
                lu.solve_transpose(&mut x_lu).unwrap();
            } else {
                it.solve(&mut x_it).unwrap();
                lu.solve(&mut x_lu).unwrap();
            }
            assert!(rel_err(&x_it, &x_lu) < 1e-13);
        }
        assert_eq!(it.stats().unwrap().fallbacks, 2);
        // A new factorisation must reach the fallback too.
        let gen2 = random_generator(&grid, 6, 4.0);
        it.factor(&grid, &gen2, 1.0 / DT).unwrap();
        lu.factor(&grid, &gen2, 1.0 / DT).unwrap();
        let (mut x_it, mut x_lu) = (b.clone(), b.clone());
        it.solve(&mut x_it).unwrap();
        lu.solve(&mut x_lu).unwrap();
        assert!(rel_err(&x_it, &x_lu) < 1e-13);
    }

    #[test]
    fn absolute_target_stops_early() {
        let grid = grid(32, 32, Boundary::Reflecting, Boundary::Reflecting);
        let gen = random_generator(&grid, 9, 4.0);
        let mut it = StepSolver::iterative(&grid, IterativeSettings::default()).unwrap();
        it.factor(&grid, &gen, 1.0 / DT).unwrap();
        let b: Vec<f64> = grid.sample(|p| (6.0 * p[0]).sin() * p[1]);
        let mut x = b.clone();
        it.solve_to(&mut x, 1e-6 * norm(&b)).unwrap();
        let loose = it.stats().unwrap().iterations;
        let mut y = b.clone();
        it.solve(&mut y).unwrap();
        let full = it.stats().unwrap().iterations - loose;
        assert!(loose < full, "{loose} vs {full}");
        let Some(StepSolver::Iterative(s)) = Some(&it) else {
            unreachable!()
        };
        let mut r = vec![0.0; grid.len()];
        apply(&s.lat, &s.j, &x, &mut r);
        r.iter_mut().zip(&b).for_each(|(ri, bi)| *ri = bi - *ri);
        assert!(norm(&r) <= 1e-6 * norm(&b));
    }
}
