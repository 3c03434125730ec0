//! The generator Q(u) of docs/math.md §3.2: linearising the upwind HJB operator
//! -νΔ_h u + Ĥ(x, m, Du) around u gives -Q(u), where Q is the generator of a continuous-time
//! Markov chain on the grid nodes. Its jump rate from node i to its neighbour through slot
//! s = 2a + (0 lower, 1 upper) is
//!
//!   q_{i→lower} = ν/h_a² + d⁻_a/h_a,      q_{i→upper} = ν/h_a² - d⁺_a/h_a,
//!
//! with d^± = ∂Ĥ/∂p^± at node i (≥ 0 and ≤ 0 by monotonicity, so every rate is ≥ 0), and
//! Q_ii = -Σ_s q_{i→s}: rows sum to zero. On a population restricted to a state space S^k
//! (docs/geometry.md) the neighbours are those of [`crate::problem::Population::space`]: a link to a
//! removed node carries no rate and its slope is 0, as across a reflecting wall, and a removed
//! node is an isolated trivial row (no rate, operator 0). Q is the single object behind the HJB Newton
//! Jacobian I/Δt - Q, the FP step (its transpose) and the RL transition kernel I + ΔtQ.

use crate::grid::{Grid, NONE};
use crate::problem::Population;

/// Jump rates of Q(u) per node and neighbour slot; the diagonal is implied (rows sum to 0).
#[derive(Debug, Clone, PartialEq)]
pub struct Generator {
    slots: usize,
    rates: Vec<f64>,
}

impl Generator {
    /// An all-zero generator on `grid`.
    pub fn zeros(grid: &Grid) -> Self {
        let slots = 2 * grid.dim();
        Generator {
            slots,
            rates: vec![0.0; grid.len() * slots],
        }
    }

    /// Rate of the jump from node i through neighbour slot s (0 across a wall).
    #[inline]
    pub fn rate(&self, i: usize, slot: usize) -> f64 {
        self.rates[i * self.slots + slot]
    }

    /// Rates of node i, one per slot.
    #[inline]
    pub fn rates(&self, i: usize) -> &[f64] {
        &self.rates[i * self.slots..(i + 1) * self.slots]
    }

    /// Total jump rate out of node i, i.e. -Q_ii.
    #[inline]
    pub fn out_rate(&self, i: usize) -> f64 {
        self.rates(i).iter().sum()
    }

    /// Largest total jump rate max_i |Q_ii| (the RL kernel I + ΔtQ is a stochastic matrix when
    /// Δt times this is ≤ 1).
    pub fn max_out_rate(&self) -> f64 {
        (0..self.rates.len() / self.slots)
            .map(|i| self.out_rate(i))
            .fold(0.0, f64::max)
    }

    /// out = Q v.
    pub fn apply(&self, grid: &Grid, v: &[f64], out: &mut [f64]) {
        for (i, o) in out.iter_mut().enumerate() {
            let mut acc = 0.0;
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != NONE {
                    acc += self.rate(i, s) * (v[j] - v[i]);
                }
            }
            *o = acc;
        }
    }

    /// out = Qᵀ m: the mass flowing into each node minus the mass leaving it.
    pub fn apply_transpose(&self, grid: &Grid, m: &[f64], out: &mut [f64]) {
        out.fill(0.0);
        for i in 0..m.len() {
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != NONE {
                    let flow = self.rate(i, s) * m[i];
                    out[j] += flow;
                    out[i] -= flow;
                }
            }
        }
    }

    /// Q as (row, column, value) triplets, diagonal included (for tests and export).
    pub fn triplets(&self, grid: &Grid) -> Vec<(usize, usize, f64)> {
        let mut t = Vec::with_capacity(self.rates.len() + grid.len());
        for i in 0..grid.len() {
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != NONE {
                    t.push((i, j, self.rate(i, s)));
                }
            }
            t.push((i, i, -self.out_rate(i)));
        }
        t
    }

    /// Rates, mutable (node-major, `2d` slots per node).
    pub(crate) fn rates_mut(&mut self) -> &mut [f64] {
        &mut self.rates
    }
}

/// One-sided slopes of node i per axis, p⁻_a = D⁻u_i and p⁺_a = D⁺u_i. Across a reflecting
/// wall the ghost value equals u_i, so the slope there is 0.
#[inline(always)]
pub(crate) fn one_sided(
    nb: &[usize],
    u: &[f64],
    i: usize,
    inv_h: &[f64],
    pm: &mut [f64; 2],
    pp: &mut [f64; 2],
) {
    for (a, ih) in inv_h.iter().enumerate() {
        let (lo, hi) = (nb[2 * a], nb[2 * a + 1]);
        pm[a] = if lo != NONE { (u[i] - u[lo]) * ih } else { 0.0 };
        pp[a] = if hi != NONE { (u[hi] - u[i]) * ih } else { 0.0 };
    }
}

/// The densities of all populations at node i, into `out` (length K).
#[inline(always)]
pub(crate) fn local_densities(m_all: &[&[f64]], i: usize, out: &mut [f64]) {
    for (o, m) in out.iter_mut().zip(m_all) {
        *o = m[i];
    }
}

/// The slopes of [`one_sided`] in the order v = (p⁻_0, p⁺_0, p⁻_1, p⁺_1) of
/// [`crate::problem::Hamiltonian::hessian`].
#[inline]
pub(crate) fn slopes(nb: &[usize], u: &[f64], i: usize, inv_h: &[f64], v: &mut [f64; 4]) {
    let (mut pm, mut pp) = ([0.0; 2], [0.0; 2]);
    one_sided(nb, u, i, inv_h, &mut pm, &mut pp);
    for a in 0..inv_h.len() {
        v[2 * a] = pm[a];
        v[2 * a + 1] = pp[a];
    }
}

/// Evaluates the generator Q(u) of one time level into `gen`, and into `op` the HJB operator
/// computed from it,
///
///   op_i = -(Q(u)u)_i - ℓ_i = -ν Δ_h u_i + Ĥ(x_i, m_i, D⁻u_i, D⁺u_i),
///
/// where ℓ_i = Σ_a (d⁻_a p⁻_a + d⁺_a p⁺_a) - Ĥ is the running cost of the chain's jumps (the
/// discrete Legendre transform at the optimal rates): since (Q(u)u)_i = ν Δ_h u_i -
/// Σ_a (d⁻_a p⁻_a + d⁺_a p⁺_a), diffusion and drift enter the scheme only through the rates of
/// Q. `m_all[j]` is population j's density at the level the Hamiltonian sees (m^{n+1} for u^n);
/// `level` = n is the time level of u (a time-dependent drift is taken at t_n).
pub fn evaluate_level(
    grid: &Grid,
    pop: &Population,
    level: usize,
    u: &[f64],
    m_all: &[&[f64]],
    op: &mut [f64],
    gen: &mut Generator,
) {
    let d = grid.dim();
    let nu = pop.nu();
    let inv_h: [f64; 2] = [1.0 / grid.h(0), 1.0 / grid.h(d - 1)];
    let diff: [f64; 2] = [nu * inv_h[0] * inv_h[0], nu * inv_h[1] * inv_h[1]];
    let mut mloc = vec![0.0; m_all.len()];
    let (mut pm, mut pp, mut dm, mut dp) = ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
    let slots = 2 * d;
    let h = pop.hamiltonian();
    let rates = gen.rates_mut();
    // The population's own neighbour table: links to removed nodes are cut, so the slopes
    // across a mask boundary vanish and no rate leads out of S^k (a no-flux wall).
    let space = pop.space();
    let drift = pop.drift_at(level);
    for i in 0..grid.len() {
        if !pop.is_active(i) {
            // A removed node is a trivial row: no rate, operator 0, so u stays 0 there; so is
            // an exit, an absorbing state where u keeps its terminal value ψ.
            rates[i * slots..(i + 1) * slots].fill(0.0);
            op[i] = 0.0;
            continue;
        }
        let nb = space.neighbours(i);
        one_sided(nb, u, i, &inv_h[..d], &mut pm, &mut pp);
        local_densities(m_all, i, &mut mloc);
        let x = grid.point(i);
        let value = h.value_and_gradient(
            &x[..d],
            &mloc,
            &pm[..d],
            &pp[..d],
            &mut dm[..d],
            &mut dp[..d],
        );
        let value = match drift {
            Some(b) => value + add_drift(&b[i * d..(i + 1) * d], &pm, &pp, &mut dm, &mut dp),
            None => value,
        };
        let r = &mut rates[i * slots..(i + 1) * slots];
        // Σ_s rate_s (u_i - u_j) - ℓ_i, accumulated per axis.
        let mut acc = value;
        for a in 0..d {
            let (lo, hi) = (nb[2 * a], nb[2 * a + 1]);
            acc -= dm[a] * pm[a] + dp[a] * pp[a];
            if lo != NONE {
                r[2 * a] = diff[a] + dm[a] * inv_h[a];
                acc += r[2 * a] * (u[i] - u[lo]);
            } else {
                r[2 * a] = 0.0;
            }
            if hi != NONE {
                r[2 * a + 1] = diff[a] - dp[a] * inv_h[a];
                acc += r[2 * a + 1] * (u[i] - u[hi]);
            } else {
                r[2 * a + 1] = 0.0;
            }
        }
        op[i] = acc;
    }
}

/// Adds the upwinded drift term −b·p of H(x, p) − b·p to the derivatives (d⁻, d⁺) of Ĥ at one
/// node and returns its value: −b_a⁺ p⁺_a + b_a⁻ p⁻_a per axis, monotone (non-decreasing in
/// p⁻, non-increasing in p⁺) and consistent. In the rates it adds b_a⁺/h_a towards the upper
/// and b_a⁻/h_a towards the lower neighbour: the chain moves with α + b. Its contribution to
/// Σ_a (d⁻p⁻ + d⁺p⁺) equals its contribution to Ĥ, so the running cost ℓ of the jumps — the
/// Lagrangian of the control α — does not see it.
#[inline]
fn add_drift(b: &[f64], pm: &[f64; 2], pp: &[f64; 2], dm: &mut [f64; 2], dp: &mut [f64; 2]) -> f64 {
    let mut value = 0.0;
    for (a, &ba) in b.iter().enumerate() {
        let (up, down) = (ba.max(0.0), (-ba).max(0.0));
        value += down * pm[a] - up * pp[a];
        dm[a] += down;
        dp[a] -= up;
    }
    value
}

/// The optimal feedback α_a(x_i) = -∂_{p_a}H at every node of one level, from Ĥ's upwind
/// derivatives; `alpha[a]` receives axis a.
pub fn controls_level(
    grid: &Grid,
    pop: &Population,
    u: &[f64],
    m_all: &[&[f64]],
    alpha: &mut [Vec<f64>],
) {
    let d = grid.dim();
    let inv_h: [f64; 2] = [1.0 / grid.h(0), 1.0 / grid.h(d - 1)];
    let mut mloc = vec![0.0; m_all.len()];
    let (mut pm, mut pp, mut dm, mut dp, mut al) =
        ([0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2], [0.0; 2]);
    let space = pop.space();
    for i in 0..grid.len() {
        if !pop.is_active(i) {
            alpha.iter_mut().for_each(|axis| axis[i] = 0.0);
            continue;
        }
        one_sided(space.neighbours(i), u, i, &inv_h[..d], &mut pm, &mut pp);
        local_densities(m_all, i, &mut mloc);
        let x = grid.point(i);
        pop.hamiltonian().gradient(
            &x[..d],
            &mloc,
            &pm[..d],
            &pp[..d],
            &mut dm[..d],
            &mut dp[..d],
        );
        crate::problem::hamiltonian::control(&dm[..d], &dp[..d], &mut al[..d]);
        for (axis, v) in alpha.iter_mut().zip(al) {
            axis[i] = v;
        }
    }
}

/// Q(u) of a quadratic Hamiltonian (cost 1) with diffusion σ, for solver tests that need a
/// realistic generator.
#[cfg(test)]
pub(crate) fn quadratic_generator(grid: &Grid, sigma: f64, u: &[f64]) -> Generator {
    use crate::problem::{hamiltonian::Quadratic, Problem};
    let problem = Problem::builder(grid.clone(), crate::grid::TimeGrid::new(1.0, 1).unwrap())
        .population(Population::builder("t", sigma, Quadratic::new(1.0)))
        .build()
        .expect("a valid test problem");
    let m = vec![1.0; grid.len()];
    let mut op = vec![0.0; grid.len()];
    let mut gen = Generator::zeros(grid);
    evaluate_level(grid, problem.population(0), 0, u, &[&m], &mut op, &mut gen);
    gen
}
