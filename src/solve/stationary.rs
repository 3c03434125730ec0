//! Stationary problems (docs/geometry.md, "Stationary problems"): the time-independent system
//! of the scheme of docs/math.md §3 for every population k, either **ergodic** (ρ_k = 0)
//!
//!   −ν_k Δ_h u^k + Ĥ^k(x, D u^k, m) + λ^k = F^k(m),   Q(u^k)ᵀ m^k = 0,
//!   Σ_i m^k_i h^d = M_k,   Σ_i u^k_i h^d = 0,
//!
//! with the unknown constant λ^k (the long-run average cost), or **discounted** (ρ_k > 0)
//!
//!   ρ_k u^k − ν_k Δ_h u^k + Ĥ^k(x, D u^k, m) = F^k(m),   Q(u^k)ᵀ m^k = 0,   Σ_i m^k_i h^d = M_k.
//!
//! These are exactly the equations a steady regime of the finite-horizon scheme satisfies
//! (u^n = u^{n+1} + λΔt, m^{n+1} = m^n), so the middle of a long horizon approaches their
//! solution (the turnpike property, tested). The kernels are handled by bordering, not by a
//! regularisation: Q(u) has the constants in its kernel, so the ergodic HJB Jacobian −Q(u) is
//! bordered with the column of λ and the row of the normalisation; Qᵀ has a one-dimensional
//! kernel on each connected state space, so the FP matrix −Qᵀ is bordered with the mass row and
//! a multiplier column (whose value is 0 at the solution, since every column of Qᵀ sums to 0).
//!
//! The method is a relaxation (Picard / fictitious play): given m, each population's HJB is
//! solved by policy iteration (Newton with the bordered Jacobian, exact since ∂(op)/∂u = −Q(u)),
//! its FP by one bordered linear solve, and m is updated with the adaptive damping of
//! [`super::damping`]. Newton on the whole bordered (u, λ, m) system is not implemented yet.

use super::damping::AdaptiveTheta;
use super::{Control, StepStats, Termination};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::linalg::sparse_lu::{SparseLu, SparseLuParams};
use crate::problem::Problem;
use crate::scheme::generator::{evaluate_level, Generator};
use crate::scheme::running_cost;

/// Stopping rule and inner tolerances of the stationary relaxation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationarySettings {
    /// Outer iteration cap.
    pub max_iterations: usize,
    /// Converged needs max_k h^d Σ|Δm^k| ≤ tol_m …
    pub tol_m: f64,
    /// … and the residual of the stationary system ≤ max(tol_residual, 10 × its round-off
    /// bound).
    pub tol_residual: f64,
    /// Policy iteration of each HJB solve: until max|R| ≤ hjb_tol (1 + max|u|).
    pub hjb_tol: f64,
    /// Policy iterations per HJB solve before it counts as failed.
    pub hjb_max_iterations: usize,
}

impl Default for StationarySettings {
    fn default() -> Self {
        StationarySettings {
            max_iterations: 500,
            tol_m: 1e-10,
            tol_residual: 1e-10,
            hjb_tol: 1e-13,
            hjb_max_iterations: 100,
        }
    }
}

/// The result of a stationary solve: per population its u, m and λ (0 for a discounted one).
#[derive(Debug, Clone, PartialEq)]
pub struct StationarySolution {
    /// u^k at every node.
    pub u: Vec<Vec<f64>>,
    /// m^k at every node (Σ m^k h^d = M_k).
    pub m: Vec<Vec<f64>>,
    /// λ^k, the ergodic constant (0 for a discounted population).
    pub lambda: Vec<f64>,
    /// How the iteration ended.
    pub termination: Termination,
    /// Why, when it did not converge.
    pub detail: Option<String>,
    /// One entry per outer iteration: `delta_u` and `delta_m` the changes of u and m,
    /// `residual` (`residual_hjb`, `residual_fp`) that of the stationary system at the new
    /// iterate ([`residual`]), `theta` the damping, `inner_iterations` the policy iterations of
    /// the step's HJB solves (all populations).
    pub history: Vec<StepStats>,
    /// `relaxation`: the method that produced it.
    pub method: String,
}

impl StationarySolution {
    /// The optimal feedback α^k = −∂_p Ĥ^k at every node, one vector per axis (the velocity the
    /// stationary FP equation transports m^k with).
    pub fn controls(&self, problem: &Problem, k: usize) -> Vec<Vec<f64>> {
        let grid = problem.grid();
        let m_all: Vec<&[f64]> = self.m.iter().map(|v| v.as_slice()).collect();
        let mut out = vec![vec![0.0; grid.len()]; grid.dim()];
        crate::scheme::generator::controls_level(
            grid,
            problem.population(k),
            &self.u[k],
            &m_all,
            &mut out,
        );
        out
    }
}

/// The residual of the stationary system: its HJB and FP parts and the round-off bound below
/// which the HJB part cannot be computed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StationaryResidual {
    /// max_k max_i |ρu + op + λ − F| over the active nodes.
    pub hjb: f64,
    /// max_k h^d Σ_i |Q(u^k)ᵀ m^k|.
    pub fp: f64,
    /// The HJB part's round-off bound (see [`StationarySettings::tol_residual`]).
    pub floor: f64,
}

impl StationaryResidual {
    /// The larger part (NaN if either is NaN).
    pub fn norm(&self) -> f64 {
        crate::scheme::nan_max(self.hjb, self.fp)
    }
}

/// Whether population k's stationary problem is ergodic (ρ_k = 0) or discounted.
fn ergodic(problem: &Problem, k: usize) -> bool {
    problem.population(k).discount() == 0.0
}

/// max|op + ρu + λ − F| over the active nodes (the HJB part of the residual) for population k,
/// and a bound on its round-off, ε (‖F‖∞ + |λ| + (2q + ρ)‖u‖∞) with q the largest out-rate of
/// Q(u) (as for the implicit step, docs/math.md §3.3): on fine grids q ~ ν/h² makes the residual
/// uncomputable below it.
fn hjb_residual(
    problem: &Problem,
    k: usize,
    u: &[f64],
    lambda: f64,
    m_all: &[&[f64]],
    gen: &mut Generator,
    out: &mut [f64],
) -> (f64, f64) {
    let pop = problem.population(k);
    let mut cost = vec![0.0; u.len()];
    running_cost(problem, k, 0, 1.0, m_all, &mut cost);
    evaluate_level(problem.grid(), pop, 0, u, m_all, out, gen);
    let rho = pop.discount();
    let mut max = 0.0f64;
    for (i, r) in out.iter_mut().enumerate() {
        *r = if pop.is_active(i) {
            *r + rho * u[i] + lambda - cost[i]
        } else {
            u[i]
        };
        max = crate::scheme::nan_max(max, r.abs());
    }
    let abs_max = |v: &[f64]| v.iter().fold(0.0f64, |a, x| a.max(x.abs()));
    let floor = f64::EPSILON
        * (abs_max(&cost) + lambda.abs() + (2.0 * gen.max_out_rate() + rho) * abs_max(u));
    (max, floor)
}

/// The residual of the stationary system at (u, λ, m): the largest over the populations of
/// the HJB residual (units of u) and of h^d Σ_i |(Q(u^k)ᵀ m^k)_i| (units of mass); and the
/// largest round-off bound of the HJB residuals.
pub fn residual(
    problem: &Problem,
    u: &[Vec<f64>],
    lambda: &[f64],
    m: &[Vec<f64>],
) -> StationaryResidual {
    let grid = problem.grid();
    let m_all: Vec<&[f64]> = m.iter().map(|v| v.as_slice()).collect();
    let mut gen = Generator::zeros(grid);
    let mut buf = vec![0.0; grid.len()];
    let mut out = StationaryResidual {
        hjb: 0.0,
        fp: 0.0,
        floor: 0.0,
    };
    for k in 0..problem.k() {
        let (r, f) = hjb_residual(problem, k, &u[k], lambda[k], &m_all, &mut gen, &mut buf);
        gen.apply_transpose(grid, &m[k], &mut buf);
        let fp = buf.iter().map(|v| v.abs()).sum::<f64>() * grid.cell_volume();
        out.hjb = crate::scheme::nan_max(out.hjb, r);
        out.fp = crate::scheme::nan_max(out.fp, fp);
        out.floor = out.floor.max(f);
    }
    out
}

/// Solves population k's stationary HJB for the densities `m_all` by policy iteration from
/// (u, λ); returns the iterations taken, Q(u) of the solution left in `work.gen`.
fn solve_hjb(
    problem: &Problem,
    k: usize,
    m_all: &[&[f64]],
    u: &mut [f64],
    lambda: &mut f64,
    work: &mut Work,
    settings: &StationarySettings,
) -> Result<usize> {
    let Work { gen, hjb: lu, .. } = work;
    let grid = problem.grid();
    let pop = problem.population(k);
    let n = grid.len();
    let bordered = ergodic(problem, k);
    let hd = grid.cell_volume();
    let rho = pop.discount();
    let mut res = vec![0.0; n];
    for it in 0..=settings.hjb_max_iterations {
        let (r, floor) = hjb_residual(problem, k, u, *lambda, m_all, gen, &mut res);
        let u_max = u.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let norm: f64 = if bordered {
            u.iter()
                .enumerate()
                .filter(|&(i, _)| pop.is_active(i))
                .map(|(_, v)| v)
                .sum::<f64>()
                * hd
        } else {
            0.0
        };
        if !r.is_finite() {
            return Err(Error::invalid(
                format!("population[{k}]"),
                format!("the stationary HJB residual is {r} (policy iteration {it})"),
            ));
        }
        // Ten times the round-off bound: policy iteration then only stirs the last digits.
        let target = (settings.hjb_tol * (1.0 + u_max)).max(10.0 * floor);
        if r <= target && norm.abs() <= settings.hjb_tol.max(16.0 * f64::EPSILON * u_max) {
            return Ok(it);
        }
        if it == settings.hjb_max_iterations {
            break;
        }
        // J = ρI − Q(u). Ergodic: J·1 = 0 on the state space, so the Newton step (δu, δλ) with
        // J δu + δλ 1 = −R is unique up to a constant in δu; the constant is fixed by taking
        // δu_r = 0 at the anchor node r, whose column of J is replaced by δλ's column of ones
        // (a single dense column, which the fill-reducing ordering puts last; a bordered row
        // of the normalisation would be dense too and fills the factors in), and restored
        // afterwards by the shift that makes Σ u h^d = 0.
        let anchor = if bordered { anchor(pop, n) } else { None };
        let mut entries = Vec::with_capacity(n * (2 * grid.dim() + 2));
        let mut values = Vec::with_capacity(entries.capacity());
        for i in 0..n {
            if !pop.is_active(i) {
                entries.push((i, i));
                values.push(1.0);
                continue;
            }
            if Some(i) != anchor {
                entries.push((i, i));
                values.push(gen.out_rate(i) + rho);
            }
            for (s, &j) in grid.neighbours(i).iter().enumerate() {
                if j != crate::grid::NONE && Some(j) != anchor {
                    entries.push((i, j));
                    values.push(-gen.rate(i, s));
                }
            }
            if let Some(r) = anchor {
                entries.push((i, r));
                values.push(1.0);
            }
        }
        let mut step: Vec<f64> = res.iter().map(|v| -v).collect();
        lu.solve(n, &entries, &values, &mut step, &format!("population[{k}]"))?;
        if let Some(r) = anchor {
            *lambda += std::mem::replace(&mut step[r], 0.0);
        }
        for (ui, d) in u.iter_mut().zip(&step) {
            *ui += d;
        }
        if bordered {
            let live = (0..n).filter(|&i| pop.is_active(i)).count() as f64;
            let mean = (0..n)
                .filter(|&i| pop.is_active(i))
                .map(|i| u[i])
                .sum::<f64>()
                / live;
            for i in (0..n).filter(|&i| pop.is_active(i)) {
                u[i] -= mean;
            }
        }
    }
    Err(Error::invalid(
        format!("population[{k}]"),
        format!(
            "the stationary HJB policy iteration did not converge in {} iterations",
            settings.hjb_max_iterations
        ),
    ))
}

/// What one population's solves reuse from one iteration to the next: the generator Q(u) and
/// the LU of its HJB step matrix and of its FP matrix.
struct Work {
    gen: Generator,
    hjb: CachedLu,
    fp: CachedLu,
}

/// A sparse LU that keeps its symbolic analysis while the pattern stays the same: the matrices
/// of policy iteration and of the FP solve of one population keep their pattern from one
/// iteration to the next, so only their values are refactorised.
#[derive(Default)]
struct CachedLu(Option<(Vec<(usize, usize)>, SparseLu)>);

impl CachedLu {
    /// Solves A x = b for the n × n matrix with `entries` and `values` (b overwritten by x).
    fn solve(
        &mut self,
        n: usize,
        entries: &[(usize, usize)],
        values: &[f64],
        b: &mut [f64],
        field: &str,
    ) -> Result<()> {
        if !matches!(&self.0, Some((known, _)) if known.as_slice() == entries) {
            let lu = SparseLu::new(n, entries, None, SparseLuParams::default())?;
            self.0 = Some((entries.to_vec(), lu));
        }
        let Some((_, lu)) = self.0.as_mut() else {
            unreachable!("set above")
        };
        {
            let mut a = lu.assembler(None);
            for (&(r, c), &v) in entries.iter().zip(values) {
                a.add(r, c, v);
            }
        }
        lu.factor().map_err(|e| {
            Error::invalid(
                field,
                format!(
                    "the stationary system is singular ({e}): is the state space split into \
                     parts that do not communicate?"
                ),
            )
        })?;
        lu.solve(b);
        Ok(())
    }
}

/// The anchor node of population k's state space: its first live node.
fn anchor(pop: &crate::problem::Population, n: usize) -> Option<usize> {
    (0..n).find(|&i| pop.is_active(i))
}

/// The stationary density of the chain with generator `gen` on population k's state space:
/// Qᵀ m = 0 with Σ m h^d = M_k. The equations of Qᵀ m = 0 sum to zero (every row of Q does),
/// so the one of the anchor node r is implied by the others and is replaced by m_r = 1; the
/// solution is then scaled to the mass (m_r > 0 on a state space whose nodes communicate).
fn solve_fp(problem: &Problem, k: usize, work: &mut Work) -> Result<Vec<f64>> {
    let Work { gen, fp: lu, .. } = work;
    let grid = problem.grid();
    let pop = problem.population(k);
    let n = grid.len();
    let r = anchor(pop, n).ok_or_else(|| {
        Error::invalid(
            format!("population[{k}].region"),
            "the state space has no node",
        )
    })?;
    let mut entries = Vec::new();
    let mut values = Vec::new();
    entries.push((r, r));
    values.push(1.0);
    for i in 0..n {
        if !pop.is_active(i) {
            entries.push((i, i));
            values.push(1.0);
            continue;
        }
        // Column i of −Qᵀ is row i of −Q.
        if i != r {
            entries.push((i, i));
            values.push(gen.out_rate(i));
        }
        for (s, &j) in grid.neighbours(i).iter().enumerate() {
            if j != crate::grid::NONE && j != r && pop.is_active(j) {
                entries.push((j, i));
                values.push(-gen.rate(i, s));
            }
        }
    }
    let mut m = vec![0.0; n];
    m[r] = 1.0;
    lu.solve(n, &entries, &values, &mut m, &format!("population[{k}]"))?;
    let scale = pop.mass() / (m.iter().sum::<f64>() * grid.cell_volume());
    m.iter_mut().for_each(|v| *v *= scale);
    Ok(m)
}

/// Solves the stationary problem of `problem` (ergodic for the populations with ρ_k = 0,
/// discounted for the others) by the damped relaxation of the module documentation, from
/// the uniform density on each state space (a stationary problem has no initial density) and
/// u = 0. The time grid and the terminal costs of `problem` are not used.
pub fn solve_stationary(
    problem: &Problem,
    settings: &StationarySettings,
) -> Result<StationarySolution> {
    solve_stationary_with(problem, settings, &mut |_| Control::Continue)
}

/// [`solve_stationary`], calling `on_step` with the history after every outer iteration: it
/// may stop the solve ([`Control::Stop`]: the result ends as [`Termination::Interrupted`]),
/// e.g. on Ctrl-C, or draw a progress bar.
pub fn solve_stationary_with(
    problem: &Problem,
    settings: &StationarySettings,
    on_step: &mut dyn FnMut(&[StepStats]) -> Control,
) -> Result<StationarySolution> {
    problem.check_stationary()?;
    let start = std::time::Instant::now();
    let grid = problem.grid();
    let (n, kk) = (grid.len(), problem.k());
    let hd = grid.cell_volume();
    let mut m: Vec<Vec<f64>> = problem
        .populations()
        .iter()
        .map(|p| {
            let live = (0..n).filter(|&i| p.is_active(i)).count() as f64;
            (0..n)
                .map(|i| {
                    if p.is_active(i) {
                        p.mass() / (live * hd)
                    } else {
                        0.0
                    }
                })
                .collect()
        })
        .collect();
    let mut u = vec![vec![0.0; n]; kk];
    let mut lambda = vec![0.0; kk];
    let mut work: Vec<Work> = (0..kk)
        .map(|_| Work {
            gen: Generator::zeros(grid),
            hjb: CachedLu::default(),
            fp: CachedLu::default(),
        })
        .collect();
    let mut damping = AdaptiveTheta::default();
    let mut history = Vec::new();
    let mut termination = Termination::MaxIterations;
    let mut detail = None;
    for iteration in 1..=settings.max_iterations {
        let u_old = u.clone();
        let m_all: Vec<&[f64]> = m.iter().map(|v| v.as_slice()).collect();
        let mut inner = 0;
        let mut best = Vec::with_capacity(kk);
        for k in 0..kk {
            let solved = solve_hjb(
                problem,
                k,
                &m_all,
                &mut u[k],
                &mut lambda[k],
                &mut work[k],
                settings,
            )
            .and_then(|it| {
                inner += it;
                solve_fp(problem, k, &mut work[k])
            });
            match solved {
                Ok(m_br) => best.push(m_br),
                Err(e) => {
                    termination = Termination::InnerSolveFailed;
                    detail = Some(e.to_string());
                    break;
                }
            }
        }
        if termination == Termination::InnerSolveFailed {
            break;
        }
        let theta = damping.theta();
        let new: Vec<Vec<f64>> = m
            .iter()
            .zip(&best)
            .map(|(old, br)| {
                old.iter()
                    .zip(br)
                    .map(|(o, b)| (1.0 - theta) * o + theta * b)
                    .collect()
            })
            .collect();
        let delta_m = m
            .iter()
            .zip(&new)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()).sum::<f64>() * hd)
            .fold(0.0, f64::max);
        let res = residual(problem, &u, &lambda, &new);
        let r = res.norm();
        let tol_residual = settings.tol_residual.max(10.0 * res.floor);
        let as_fields = |v: &[Vec<f64>]| -> Vec<Field> {
            v.iter().map(|x| Field::from_vec(n, x.clone())).collect()
        };
        let (old_f, new_f) = (as_fields(&m), as_fields(&new));
        let old_refs: Vec<&Field> = old_f.iter().collect();
        // Residuals below a tenth of the tolerance are not judged (round-off).
        damping.update(&old_refs, &new_f, hd, delta_m, r, 0.1 * tol_residual);
        m = new;
        let delta_u = u
            .iter()
            .zip(&u_old)
            .flat_map(|(a, b)| a.iter().zip(b).map(|(x, y)| (x - y).abs()))
            .fold(0.0, crate::scheme::nan_max);
        history.push(StepStats {
            iteration,
            delta_u,
            delta_m,
            residual: r,
            residual_hjb: res.hjb,
            residual_fp: res.fp,
            seconds: start.elapsed().as_secs_f64(),
            inner_iterations: inner,
            theta,
        });
        if !r.is_finite() {
            termination = Termination::NonFinite;
            break;
        }
        if delta_m <= settings.tol_m && r <= tol_residual {
            termination = Termination::Converged;
            break;
        }
        if on_step(&history) == Control::Stop {
            termination = Termination::Interrupted;
            break;
        }
    }
    if termination != Termination::Converged && detail.is_none() {
        detail = history.last().map(|s| {
            format!(
                "stopped after {} iterations with residual {:.3e} and density change {:.3e}",
                history.len(),
                s.residual,
                s.delta_m
            )
        });
    }
    Ok(StationarySolution {
        u,
        m,
        lambda,
        termination,
        detail,
        history,
        method: "relaxation".to_string(),
    })
}
