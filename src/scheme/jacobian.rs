//! The exact Jacobian of the discrete system F(u, m) = 0 of [`super::system`] (docs/math.md §4), for
//! Newton's method: its storage, its products and its entries.
//!
//! Unknowns x (see [`Layout`]): u^n_k for n = 0..Nt-1 (u^{Nt} = g^k is fixed) and m^{n+1}_k for
//! n = 0..Nt-1 (m^0 = m0^k is fixed), population by population, u-part first; row r of F belongs
//! to unknown r. The Jacobian, block by block, with Q_n = Q^k(u^n, m^{n+1}) the generator of the
//! HJB step:
//!
//! ```text
//! ∂F_H(k,n)/∂u(k,n)   = (1 + Δtρ_k)I - ΔtQ_n     ∂F_H(k,n)/∂u(k,n+1) = -I
//! ∂F_H(k,n)/∂m(j,n)   = Δt diag(∂Ĥ^k/∂m^j - s ∂f^k/∂m^j)          (coupling, node-local)
//! ∂F_F(k,n)/∂m(k,n)   = I - ΔtQ_nᵀ               ∂F_F(k,n)/∂m(k,n-1) = -I
//! ∂F_F(k,n)/∂u(k,n)   = -Δt ∂(Q_nᵀ m^{n+1})/∂u^n                   (transport)
//! ∂F_F(k,n)/∂m(j,n)  += -Δt ∂(Q_nᵀ m^{n+1}_k)/∂m^{n+1}_j            (density transport)
//! ```
//!
//! The transport block comes from the rates' dependence on u: the rate of node i towards its
//! lower neighbour on axis a is ν/h_a² + d⁻_a/h_a, towards the upper one ν/h_a² - d⁺_a/h_a, with
//! d = ∂Ĥ/∂p evaluated at the slopes of node i; so ∂rate/∂u involves the second derivatives
//! [`crate::problem::Hamiltonian::hessian`] and the slopes' stencil, and row i of the block
//! reaches the nodes within two stencil steps of i.
//!
//! The density-transport block exists only for populations whose Hamiltonian depends on the
//! densities (congestion, [`crate::problem::Congestion`]): their rates depend on m through
//! d^±(x_i, m_i, Du_i), so the flux Δt m^k_i rate(i, s) of node i also varies with every
//! population's density at node i, ∂d_r/∂m^j being
//! [`crate::problem::Hamiltonian::density_slopes`]. The block is node-local in its column:
//! column (j, i) reaches rows i and its neighbours.

use super::generator::{local_densities, one_sided, slopes, Generator};
use crate::field::Field;
use crate::grid::{Grid, NONE};
use crate::problem::Problem;
use rayon::prelude::*;

/// Index layout of the unknowns x (and of the equations: row r of F belongs to unknown r).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// K.
    pub populations: usize,
    /// Nt.
    pub steps: usize,
    /// Grid nodes N.
    pub nodes: usize,
}

impl Layout {
    /// The layout of `problem`'s unknowns.
    pub fn new(problem: &Problem) -> Self {
        Layout {
            populations: problem.k(),
            steps: problem.time().nt,
            nodes: problem.grid().len(),
        }
    }

    /// Length Nt·N of one population's u-block (or m-block).
    pub fn block(&self) -> usize {
        self.steps * self.nodes
    }

    /// Length K·Nt·N of the u-part (the m-part starts there).
    pub fn half(&self) -> usize {
        self.populations * self.block()
    }

    /// Number of unknowns 2·K·Nt·N.
    pub fn len(&self) -> usize {
        2 * self.half()
    }

    /// Never true for a valid problem.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Start of u^n_k.
    pub fn u(&self, k: usize, n: usize) -> usize {
        (k * self.steps + n) * self.nodes
    }

    /// Start of m^{n+1}_k.
    pub fn m(&self, k: usize, n: usize) -> usize {
        self.half() + (k * self.steps + n) * self.nodes
    }
}

/// Copies the unknowns of (u, m) into x.
pub fn gather(layout: &Layout, u: &[Field], m: &[Field], x: &mut [f64]) {
    let (b, nn) = (layout.block(), layout.nodes);
    let (xu, xm) = x.split_at_mut(layout.half());
    for k in 0..layout.populations {
        xu[k * b..(k + 1) * b].copy_from_slice(&u[k].as_slice()[..b]);
        xm[k * b..(k + 1) * b].copy_from_slice(&m[k].as_slice()[nn..nn + b]);
    }
}

/// Writes x into the unknown levels of (u, m) (u^{Nt} and m^0 are left as they are).
pub fn scatter(layout: &Layout, x: &[f64], u: &mut [Field], m: &mut [Field]) {
    let (b, nn) = (layout.block(), layout.nodes);
    let (xu, xm) = x.split_at(layout.half());
    for k in 0..layout.populations {
        u[k].as_mut_slice()[..b].copy_from_slice(&xu[k * b..(k + 1) * b]);
        m[k].as_mut_slice()[nn..nn + b].copy_from_slice(&xm[k * b..(k + 1) * b]);
    }
}

/// The exact Jacobian of F at one point, in block form (see the module documentation); built by
/// [`super::System::evaluate`], applied by [`Linearization::apply`], exported by [`Linearization::triplets`].
#[derive(Debug, Clone)]
pub struct Linearization {
    /// The layout of the unknowns.
    pub layout: Layout,
    /// Δt.
    pub dt: f64,
    /// The discount rate ρ_k of each population (∂F_H(k,n)/∂u(k,n) gains Δtρ_k I).
    pub discounts: Vec<f64>,
    dim: usize,
    /// Q_n of population k at `k·Nt + n`.
    pub gens: Vec<Generator>,
    /// Each population's grid with the links to its removed nodes cut (the slopes' stencil of
    /// the transport block).
    spaces: Vec<Grid>,
    /// Δt(∂Ĥ^k/∂m^j - s ∂f^k/∂m^j) at (x_i, m^{n+1}_i), at `((k·K + j)·Nt + n)·N + i`.
    coupling: Vec<f64>,
    /// Whether the (k, j) coupling block has any non-zero entry.
    coupling_used: Vec<bool>,
    /// Derivatives of the Δt-scaled fluxes Δt·m_i·rate(i, s) with respect to node i's slopes v_r
    /// (ordered as in [`crate::problem::Hamiltonian::hessian`]), at
    /// `((k·Nt + n)·N + i)·nv² + s·nv + r`, nv = 2d.
    transport: Vec<f64>,
    /// Derivatives of the Δt-scaled fluxes Δt·m^k_i·rate(i, s) with respect to m^j_i, at
    /// `((k·Nt + n)·N + i)·nv·K + s·K + j`; empty for a population whose Hamiltonian does not
    /// depend on the densities.
    density_transport: Vec<Vec<f64>>,
}

impl Linearization {
    /// An all-zero linearization for `problem` (allocates every buffer once).
    pub fn new(problem: &Problem) -> Self {
        let layout = Layout::new(problem);
        let (kk, nt, n) = (layout.populations, layout.steps, layout.nodes);
        let nv = 2 * problem.grid().dim();
        Linearization {
            layout,
            dt: problem.time().dt(),
            discounts: problem.populations().iter().map(|p| p.discount()).collect(),
            dim: problem.grid().dim(),
            gens: vec![Generator::zeros(problem.grid()); kk * nt],
            spaces: problem
                .populations()
                .iter()
                .map(|p| p.space().clone())
                .collect(),
            coupling: vec![0.0; kk * kk * nt * n],
            coupling_used: vec![true; kk * kk],
            transport: vec![0.0; kk * nt * n * nv * nv],
            density_transport: problem
                .populations()
                .iter()
                .map(|p| {
                    if p.hamiltonian().depends_on_density() {
                        vec![0.0; nt * n * nv * kk]
                    } else {
                        Vec::new()
                    }
                })
                .collect(),
        }
    }

    /// The per-population parts, for filling in parallel.
    pub(crate) fn parts(&mut self) -> Vec<LinearizationPart<'_>> {
        let l = self.layout;
        let (nt, b, kk) = (l.steps, l.block(), l.populations);
        let nv = 2 * self.dim;
        self.gens
            .chunks_mut(nt)
            .zip(self.coupling.chunks_mut(kk * b))
            .zip(self.transport.chunks_mut(b * nv * nv))
            .zip(self.density_transport.iter_mut())
            .map(
                |(((gens, coupling), transport), density_transport)| LinearizationPart {
                    gens,
                    coupling,
                    transport,
                    density_transport,
                },
            )
            .collect()
    }

    /// Marks the coupling blocks that are zero everywhere (the products skip them).
    pub(crate) fn detect_coupling_blocks(&mut self) {
        let l = self.layout;
        let len = l.block();
        for k in 0..l.populations {
            for j in 0..l.populations {
                let s = (k * l.populations + j) * len;
                self.coupling_used[k * l.populations + j] =
                    self.coupling[s..s + len].iter().any(|&v| v != 0.0);
            }
        }
    }

    /// Generator Q_n of population k.
    pub fn generator(&self, k: usize, n: usize) -> &Generator {
        &self.gens[k * self.layout.steps + n]
    }

    /// The coupling coefficients of block (k, j) at step n (one per node).
    pub fn coupling(&self, k: usize, j: usize, n: usize) -> &[f64] {
        let l = &self.layout;
        let s = ((k * l.populations + j) * l.steps + n) * l.nodes;
        &self.coupling[s..s + l.nodes]
    }

    /// Whether block (k, j) of the coupling is non-zero somewhere.
    pub fn coupling_used(&self, k: usize, j: usize) -> bool {
        self.coupling_used[k * self.layout.populations + j]
    }

    /// y = J x.
    pub fn apply(&self, grid: &Grid, x: &[f64], y: &mut [f64]) {
        let l = self.layout;
        let b = l.block();
        let (yu, ym) = y.split_at_mut(l.half());
        yu.par_chunks_mut(b)
            .zip(ym.par_chunks_mut(b))
            .enumerate()
            .for_each(|(k, (yu, ym))| {
                for n in 0..l.steps {
                    let lv = n * l.nodes..(n + 1) * l.nodes;
                    self.apply_hjb_row(grid, k, n, x, &mut yu[lv.clone()]);
                    self.apply_fp_row(grid, k, n, x, &mut ym[lv]);
                }
            });
    }

    /// y = (I - ΔtQ_n) x on one level.
    pub fn apply_step(&self, grid: &Grid, k: usize, n: usize, x: &[f64], y: &mut [f64]) {
        let gen = self.generator(k, n);
        let dt = self.dt;
        for (i, yi) in y.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != NONE {
                    acc += gen.rate(i, s) * (x[i] - x[j]);
                }
            }
            *yi = x[i] + dt * acc;
        }
    }

    /// y = (I - ΔtQ_nᵀ) x on one level.
    pub fn apply_step_transpose(&self, grid: &Grid, k: usize, n: usize, x: &[f64], y: &mut [f64]) {
        let gen = self.generator(k, n);
        let dt = self.dt;
        y.copy_from_slice(x);
        for i in 0..x.len() {
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != NONE {
                    let flow = dt * gen.rate(i, s) * x[i];
                    y[j] -= flow;
                    y[i] += flow;
                }
            }
        }
    }

    /// y += C_n x: the transport block of population k at step n applied to one level of u.
    pub fn add_transport(&self, grid: &Grid, k: usize, n: usize, x: &[f64], y: &mut [f64]) {
        let l = self.layout;
        let d = self.dim;
        let nv = 2 * d;
        let inv_h = [1.0 / grid.h(0), 1.0 / grid.h(d - 1)];
        let base = (k * l.steps + n) * l.nodes;
        let mut dv = [0.0; 4];
        let space = &self.spaces[k];
        for i in 0..l.nodes {
            let nb = space.neighbours(i);
            slopes(nb, x, i, &inv_h[..d], &mut dv);
            let g = &self.transport[(base + i) * nv * nv..(base + i + 1) * nv * nv];
            for (s, &j) in nb.iter().enumerate() {
                if j == NONE {
                    continue;
                }
                let row = &g[s * nv..(s + 1) * nv];
                let df: f64 = row.iter().zip(&dv[..nv]).map(|(a, b)| a * b).sum();
                y[j] -= df;
                y[i] += df;
            }
        }
    }

    /// y += E_n x: population k's density-transport block at step n applied to the densities
    /// of every population at that step, `xm(j)` being population j's level.
    pub fn add_density_transport<'x>(
        &self,
        k: usize,
        n: usize,
        xm: impl Fn(usize) -> &'x [f64],
        y: &mut [f64],
    ) {
        let e = &self.density_transport[k];
        if e.is_empty() {
            return;
        }
        let l = self.layout;
        let (kk, nv) = (l.populations, 2 * self.dim);
        let space = &self.spaces[k];
        for i in 0..l.nodes {
            let g = &e[(n * l.nodes + i) * nv * kk..(n * l.nodes + i + 1) * nv * kk];
            for (s, &nb) in space.neighbours(i).iter().enumerate() {
                if nb == NONE {
                    continue;
                }
                let df: f64 = (0..kk).map(|j| g[s * kk + j] * xm(j)[i]).sum();
                y[nb] -= df;
                y[i] += df;
            }
        }
    }

    /// out_m += E v_m on the m-half of a vector (every population and step).
    pub fn density_transport_product(&self, v: &[f64], out: &mut [f64]) {
        let l = self.layout;
        let (b, nn) = (l.block(), l.nodes);
        out.par_chunks_mut(b).enumerate().for_each(|(k, ok)| {
            for n in 0..l.steps {
                let at = |j: usize| &v[j * b + n * nn..j * b + (n + 1) * nn];
                self.add_density_transport(k, n, at, &mut ok[n * nn..(n + 1) * nn]);
            }
        });
    }

    fn apply_hjb_row(&self, grid: &Grid, k: usize, n: usize, x: &[f64], y: &mut [f64]) {
        let l = self.layout;
        let nn = l.nodes;
        let xu = &x[l.u(k, n)..l.u(k, n) + nn];
        self.apply_step(grid, k, n, xu, y);
        let rho_dt = self.discounts[k] * self.dt;
        if rho_dt != 0.0 {
            y.iter_mut().zip(xu).for_each(|(a, b)| *a += rho_dt * b);
        }
        if n + 1 < l.steps {
            let next = &x[l.u(k, n + 1)..l.u(k, n + 1) + nn];
            y.iter_mut().zip(next).for_each(|(a, b)| *a -= b);
        }
        for j in 0..l.populations {
            if !self.coupling_used(k, j) {
                continue;
            }
            let c = self.coupling(k, j, n);
            let xm = &x[l.m(j, n)..l.m(j, n) + nn];
            for i in 0..nn {
                y[i] += c[i] * xm[i];
            }
        }
    }

    fn apply_fp_row(&self, grid: &Grid, k: usize, n: usize, x: &[f64], y: &mut [f64]) {
        let l = self.layout;
        let nn = l.nodes;
        let xm = &x[l.m(k, n)..l.m(k, n) + nn];
        self.apply_step_transpose(grid, k, n, xm, y);
        if n > 0 {
            let prev = &x[l.m(k, n - 1)..l.m(k, n - 1) + nn];
            y.iter_mut().zip(prev).for_each(|(a, b)| *a -= b);
        }
        let xu = &x[l.u(k, n)..l.u(k, n) + nn];
        self.add_transport(grid, k, n, xu, y);
        self.add_density_transport(k, n, |j| &x[l.m(j, n)..l.m(j, n) + nn], y);
    }

    /// Calls `f(row, column, value)` for every entry of J (duplicates possible: two stencil
    /// paths can reach the same node, and they must be summed). With `structural`, every entry
    /// of the fixed sparsity pattern is emitted, zeros included, in an order that depends only
    /// on the grid (so that a factorisation's pattern can be reused); otherwise zero blocks and
    /// zero transport entries are skipped.
    pub fn for_each_entry(
        &self,
        grid: &Grid,
        structural: bool,
        mut f: impl FnMut(usize, usize, f64),
    ) {
        let l = self.layout;
        let d = self.dim;
        let nv = 2 * d;
        let dt = self.dt;
        let inv_h = [1.0 / grid.h(0), 1.0 / grid.h(d - 1)];
        for k in 0..l.populations {
            for n in 0..l.steps {
                let gen = self.generator(k, n);
                let (ru, rm) = (l.u(k, n), l.m(k, n));
                for i in 0..l.nodes {
                    // HJB row: ((1 + Δtρ)I - ΔtQ) u^n - u^{n+1} + coupling.
                    f(
                        ru + i,
                        ru + i,
                        1.0 + dt * (self.discounts[k] + gen.out_rate(i)),
                    );
                    for (s, &j) in grid.neighbours(i).iter().enumerate() {
                        if j != NONE {
                            f(ru + i, ru + j, -dt * gen.rate(i, s));
                        }
                    }
                    if n + 1 < l.steps {
                        f(ru + i, l.u(k, n + 1) + i, -1.0);
                    }
                    for j in 0..l.populations {
                        if structural || self.coupling_used(k, j) {
                            f(ru + i, l.m(j, n) + i, self.coupling(k, j, n)[i]);
                        }
                    }
                    // FP rows: (I - ΔtQᵀ) m^{n+1} - m^n; column i of Qᵀ is row i of Q.
                    f(rm + i, rm + i, 1.0 + dt * gen.out_rate(i));
                    for (s, &j) in grid.neighbours(i).iter().enumerate() {
                        if j != NONE {
                            f(rm + j, rm + i, -dt * gen.rate(i, s));
                        }
                    }
                    if n > 0 {
                        f(rm + i, l.m(k, n - 1) + i, -1.0);
                    }
                    // Transport: the flux i → nb(i, s) depends on the slopes v_r of node i.
                    let nb = self.spaces[k].neighbours(i);
                    let g =
                        &self.transport[((k * l.steps + n) * l.nodes + i) * nv * nv..][..nv * nv];
                    for (s, &j) in nb.iter().enumerate() {
                        if j == NONE {
                            continue;
                        }
                        for a in 0..d {
                            let (lo, hi) = (nb[2 * a], nb[2 * a + 1]);
                            // v_{2a} = (u_i - u_lo)/h, v_{2a+1} = (u_hi - u_i)/h.
                            let gm = g[s * nv + 2 * a] * inv_h[a];
                            let gp = g[s * nv + 2 * a + 1] * inv_h[a];
                            let mut put = |col: usize, v: f64| {
                                if structural || v != 0.0 {
                                    f(rm + j, ru + col, -v);
                                    f(rm + i, ru + col, v);
                                }
                            };
                            if lo != NONE {
                                put(i, gm);
                                put(lo, -gm);
                            }
                            if hi != NONE {
                                put(hi, gp);
                                put(i, -gp);
                            }
                        }
                    }
                    // Density transport: the same fluxes through the densities at node i.
                    let e = &self.density_transport[k];
                    if e.is_empty() {
                        continue;
                    }
                    let kk = l.populations;
                    let g = &e[(n * l.nodes + i) * nv * kk..][..nv * kk];
                    for (s, &j) in nb.iter().enumerate() {
                        if j == NONE {
                            continue;
                        }
                        for p in 0..kk {
                            let v = g[s * kk + p];
                            if structural || v != 0.0 {
                                let col = l.m(p, n) + i;
                                f(rm + j, col, -v);
                                f(rm + i, col, v);
                            }
                        }
                    }
                }
            }
        }
    }

    /// J as (row, column, value) triplets in the [`Layout`] order (duplicates to be summed).
    pub fn triplets(&self, grid: &Grid) -> Vec<(usize, usize, f64)> {
        let mut t = Vec::new();
        self.for_each_entry(grid, false, |r, c, v| t.push((r, c, v)));
        t
    }
}

/// Population k's share of a [`Linearization`], filled level by level by the evaluation of
/// the system ([`super::System::evaluate`]), so that populations are filled in parallel.
#[derive(Debug)]
pub struct LinearizationPart<'a> {
    /// Q_n of population k, n = 0..Nt-1 (written by the HJB step residual).
    pub(crate) gens: &'a mut [Generator],
    /// Coupling coefficients of rows k, at `(j·Nt + n)·N + i`.
    coupling: &'a mut [f64],
    /// Transport derivatives of population k, at `(n·N + i)·nv² + s·nv + r`.
    transport: &'a mut [f64],
    /// Density-transport derivatives of population k, at `(n·N + i)·nv·K + s·K + j` (empty
    /// without congestion).
    density_transport: &'a mut Vec<f64>,
}

impl LinearizationPart<'_> {
    /// Fills the coupling and transport entries of step n from u^n and the densities m^{n+1} of
    /// all populations, at coupling strength s.
    // Node i and population j index several arrays of different layouts at once.
    #[allow(clippy::needless_range_loop)]
    pub(crate) fn fill_level(
        &mut self,
        problem: &Problem,
        k: usize,
        n: usize,
        s: f64,
        un: &[f64],
        densities: &[&[f64]],
    ) {
        let grid = problem.grid();
        let pop = problem.population(k);
        let (nt, nn, kk) = (problem.time().nt, grid.len(), problem.k());
        let dt = problem.time().dt();
        let d = grid.dim();
        let nv = 2 * d;
        let inv_h = [1.0 / grid.h(0), 1.0 / grid.h(d - 1)];
        let mut mloc = vec![0.0; kk];
        let mut dham = vec![0.0; kk];
        let (mut pm, mut pp, mut hess) = ([0.0; 2], [0.0; 2], [0.0; 16]);
        let mut dslope = vec![0.0; nv * kk];
        let h = pop.hamiltonian();
        let space = pop.space();
        for i in 0..nn {
            if !pop.is_active(i) {
                // A removed node's or an exit's rows are trivial: no coupling, no transport.
                for j in 0..kk {
                    self.coupling[(j * nt + n) * nn + i] = 0.0;
                }
                self.transport[(n * nn + i) * nv * nv..(n * nn + i + 1) * nv * nv].fill(0.0);
                if !self.density_transport.is_empty() {
                    self.density_transport[(n * nn + i) * nv * kk..(n * nn + i + 1) * nv * kk]
                        .fill(0.0);
                }
                continue;
            }
            local_densities(densities, i, &mut mloc);
            let x = grid.point(i);
            let nb = space.neighbours(i);
            one_sided(nb, un, i, &inv_h[..d], &mut pm, &mut pp);
            h.density_gradient(&x[..d], &mloc, &pm[..d], &pp[..d], &mut dham);
            for j in 0..kk {
                let df = if s != 0.0 {
                    s * problem.coupling().derivative(k, j, &x[..d], &mloc)
                } else {
                    0.0
                };
                self.coupling[(j * nt + n) * nn + i] = dt * (dham[j] - df);
            }
            h.hessian(&x[..d], &mloc, &pm[..d], &pp[..d], &mut hess[..nv * nv]);
            let g = &mut self.transport[(n * nn + i) * nv * nv..(n * nn + i + 1) * nv * nv];
            let scale = dt * densities[k][i];
            // ∂rate/∂d per slot: rate(lower) = ν/h² + d⁻/h, rate(upper) = ν/h² - d⁺/h; 0 across
            // a wall.
            let mut sign = [0.0; 4];
            for (sl, sg) in sign.iter_mut().enumerate().take(nv) {
                if nb[sl] != NONE {
                    *sg = if sl % 2 == 0 { scale } else { -scale } * inv_h[sl / 2];
                }
            }
            for sl in 0..nv {
                for c in 0..nv {
                    g[sl * nv + c] = sign[sl] * hess[sl * nv + c];
                }
            }
            if !self.density_transport.is_empty() {
                h.density_slopes(&x[..d], &mloc, &pm[..d], &pp[..d], &mut dslope[..nv * kk]);
                let e = &mut self.density_transport[(n * nn + i) * nv * kk..][..nv * kk];
                for sl in 0..nv {
                    for j in 0..kk {
                        e[sl * kk + j] = sign[sl] * dslope[sl * kk + j];
                    }
                }
            }
        }
    }
}
