//! The whole discrete system — all K populations, all time steps, u and m — as one equation
//! F(u, m) = 0 (docs/math.md §3.5), and the one place where F, its norms and its linearisation are
//! evaluated. Every outer method measures its iterate with [`System::evaluate`]: Picard and
//! Anderson for the stopping test, Newton for its residual and Jacobian.
//!
//! The equations, each row multiplied by Δt (so that the diagonal blocks are I - ΔtQ):
//!
//! ```text
//! F_H(k,n) = u^n - u^{n+1} - Δt (Q^k(u^n) u^n + ℓ^k(u^n) + s f^k(x, m^{n+1}) + V^k)
//! F_F(k,n) = m^{n+1} - m^n - Δt Q^k(u^n, m^{n+1})ᵀ m^{n+1}
//! ```
//!
//! for n = 0..Nt-1, with u^{Nt} = g^k and m^0 = m0^k fixed, and s = 1 (s < 1 scales the
//! coupling for continuation). Q^k u + ℓ^k = ν Δ_h u - Ĥ^k (see [`super::generator`]), so F_H is
//! the implicit HJB step of [`super::hjb`]. The norms of the stopping test
//! ([`Residual`]) are `hjb` = max |F_H| (units of u) and `fp` = max_n h^d Σ_i |F_F| (units of
//! mass), each also covering the fixed levels (a foreign iterate may violate them).

use super::generator::{local_densities, Generator};
use super::hjb::{HjbStep, StepBuffers, ROUND_OFF_FACTOR};
use super::jacobian::{Layout, LinearizationPart};
use super::{densities_at, nan_max, Linearization, Residual};
use crate::error::{Error, Result};
use crate::field::Field;
use crate::grid::Grid;
use crate::problem::Problem;
use rayon::prelude::*;

/// The unknowns of the discrete system: u^k and m^k on every time level, per population.
#[derive(Debug, Clone, PartialEq)]
pub struct Iterate {
    /// u^k, one field per population.
    pub u: Vec<Field>,
    /// m^k, one field per population.
    pub m: Vec<Field>,
}

impl Iterate {
    /// The standard cold start: m^k(t) = m0^k at every level, u^k(t) = g^k at every level.
    pub fn initial(problem: &Problem) -> Self {
        let levels = problem.time().nt + 1;
        Iterate {
            u: problem
                .populations()
                .iter()
                .map(|p| Field::constant_in_time(levels, p.terminal()))
                .collect(),
            m: problem
                .populations()
                .iter()
                .map(|p| Field::constant_in_time(levels, p.initial()))
                .collect(),
        }
    }

    /// Checks that the iterate's shape fits `problem` (e.g. one loaded from a file).
    pub fn check_shape(&self, problem: &Problem) -> Result<()> {
        let (k, levels, nodes) = (problem.k(), problem.time().nt + 1, problem.grid().len());
        let ok = self.u.len() == k
            && self.m.len() == k
            && self
                .u
                .iter()
                .chain(&self.m)
                .all(|f| f.levels() == levels && f.nodes() == nodes);
        if ok {
            Ok(())
        } else {
            Err(Error::invalid(
                "iterate",
                format!("shape does not match the problem ({k} populations, {levels} levels, {nodes} nodes)"),
            ))
        }
    }

    /// The density of population k where its agents are: m^k with its exit nodes, which hold
    /// the mass that has left through them, set to 0 (m^k itself when there is no exit). This
    /// is the density the files and pictures show.
    pub fn density(&self, problem: &Problem, k: usize) -> std::borrow::Cow<'_, Field> {
        let pop = problem.population(k);
        if !pop.has_exits() {
            return std::borrow::Cow::Borrowed(&self.m[k]);
        }
        std::borrow::Cow::Owned(self.masked_density(k, |i| !pop.is_exit(i)))
    }

    /// The mass of population k that has left, per exit node: m^k on its exit nodes, 0
    /// elsewhere (None without exits). `density + absorbed = m^k` exactly.
    pub fn absorbed(&self, problem: &Problem, k: usize) -> Option<Field> {
        let pop = problem.population(k);
        pop.has_exits()
            .then(|| self.masked_density(k, |i| pop.is_exit(i)))
    }

    fn masked_density(&self, k: usize, keep: impl Fn(usize) -> bool) -> Field {
        let mut out = self.m[k].clone();
        for n in 0..out.levels() {
            for (i, v) in out.level_mut(n).iter_mut().enumerate() {
                if !keep(i) {
                    *v = 0.0;
                }
            }
        }
        out
    }

    /// Per level, the mass of population k still inside and the cumulative mass that has left
    /// through the exits; they add up to the population's mass at every level.
    pub fn inside_and_exited(&self, problem: &Problem, k: usize) -> (Vec<f64>, Vec<f64>) {
        let (pop, m) = (problem.population(k), &self.m[k]);
        (0..m.levels())
            .map(|n| pop.inside_and_exited(problem.grid(), m.level(n)))
            .unzip()
    }

    /// True when every value of u and m is finite.
    pub fn is_finite(&self) -> bool {
        self.u.iter().chain(&self.m).all(Field::is_finite)
    }
}

/// F^k_i = s f^k(x_i, m(x_i)) + V^k(t_n, x_i) of HJB step n, for the densities `m_all` of
/// its level (m^{n+1}; s = 0 skips the coupling, which may be undefined at the cold start,
/// e.g. log 0).
pub fn running_cost(
    problem: &Problem,
    k: usize,
    n: usize,
    s: f64,
    m_all: &[&[f64]],
    out: &mut [f64],
) {
    let grid = problem.grid();
    let d = grid.dim();
    let pop = problem.population(k);
    let pot = pop.potential_at(n);
    let coupling = problem.coupling();
    let mut mloc = vec![0.0; m_all.len()];
    for (i, o) in out.iter_mut().enumerate() {
        // Removed nodes and exits cost nothing (u is fixed there); their m, 0 or the mass that
        // has left, is not a density f should see.
        let f = if s != 0.0 && pop.is_active(i) {
            local_densities(m_all, i, &mut mloc);
            let x = grid.point(i);
            s * coupling.cost(k, &x[..d], &mloc)
        } else {
            0.0
        };
        *o = f + pot[i];
    }
}

/// The running costs of population k for every HJB step at coupling strength 1: level n of
/// `out` holds F^k(m^{n+1}) (n < Nt).
pub fn running_costs(problem: &Problem, k: usize, m: &[Field], out: &mut Field) {
    for n in 0..problem.time().nt {
        running_cost(
            problem,
            k,
            n,
            1.0,
            &densities_at(m, n + 1),
            out.level_mut(n),
        );
    }
}

/// Where the running costs of an evaluation come from.
#[derive(Debug, Clone, Copy)]
pub enum Costs<'a> {
    /// Computed level by level at coupling strength s.
    Scaled(f64),
    /// Given per population (those of [`running_costs`] for this m; strength 1).
    Given(&'a [Field]),
}

impl Costs<'_> {
    fn scale(&self) -> f64 {
        match self {
            Costs::Scaled(s) => *s,
            Costs::Given(_) => 1.0,
        }
    }
}

/// What one [`System::evaluate`] computes besides the residual norms.
#[derive(Debug)]
pub struct Request<'a> {
    /// Running costs (and with them the coupling strength s).
    pub costs: Costs<'a>,
    /// F in the [`Layout`] order (Δt-scaled rows), when given.
    pub values: Option<&'a mut [f64]>,
    /// The Jacobian of F, when given.
    pub linearization: Option<&'a mut Linearization>,
}

impl<'a> Request<'a> {
    /// Only the residual norms, with the running costs `costs` of this m.
    pub fn norms(costs: &'a [Field]) -> Self {
        Request {
            costs: Costs::Given(costs),
            values: None,
            linearization: None,
        }
    }

    /// F and its Jacobian at coupling strength s (Newton).
    pub fn full(s: f64, values: &'a mut [f64], linearization: &'a mut Linearization) -> Self {
        Request {
            costs: Costs::Scaled(s),
            values: Some(values),
            linearization: Some(linearization),
        }
    }

    /// Only the residual norms at coupling strength s.
    pub fn scaled(s: f64) -> Self {
        Request {
            costs: Costs::Scaled(s),
            values: None,
            linearization: None,
        }
    }
}

/// Level-sized scratch of one population's evaluation.
#[derive(Debug, Clone)]
struct Scratch {
    step: StepBuffers,
    cost: Vec<f64>,
    qtm: Vec<f64>,
    gen: Generator,
}

impl Scratch {
    fn new(grid: &Grid) -> Self {
        Scratch {
            step: StepBuffers::new(grid),
            cost: vec![0.0; grid.len()],
            qtm: vec![0.0; grid.len()],
            gen: Generator::zeros(grid),
        }
    }
}

/// Evaluator of the discrete system of one problem (holds the per-population scratch).
#[derive(Debug, Clone)]
pub struct System {
    scratch: Vec<Scratch>,
}

impl System {
    /// An evaluator for `problem`.
    pub fn new(problem: &Problem) -> Self {
        System {
            scratch: (0..problem.k())
                .map(|_| Scratch::new(problem.grid()))
                .collect(),
        }
    }

    /// The residual norms at `x` with the running costs `costs` of its densities.
    pub fn residual(&mut self, problem: &Problem, x: &Iterate, costs: &[Field]) -> Residual {
        self.evaluate(problem, x, Request::norms(costs))
    }

    /// Evaluates the system at `x`: the residual norms, and F and its Jacobian when the request
    /// asks for them. Populations are evaluated in parallel.
    pub fn evaluate(&mut self, problem: &Problem, x: &Iterate, request: Request<'_>) -> Residual {
        let layout = Layout::new(problem);
        let b = layout.block();
        let kk = layout.populations;
        let costs = request.costs;
        type Chunks<'a> = Vec<Option<(&'a mut [f64], &'a mut [f64])>>;
        let mut values: Chunks<'_> = match request.values {
            Some(f) => {
                let (a, c) = f.split_at_mut(layout.half());
                a.chunks_mut(b).zip(c.chunks_mut(b)).map(Some).collect()
            }
            None => (0..kk).map(|_| None).collect(),
        };
        let mut lin = request.linearization;
        let mut parts: Vec<Option<LinearizationPart<'_>>> = match lin.as_deref_mut() {
            Some(l) => l.parts().into_iter().map(Some).collect(),
            None => (0..kk).map(|_| None).collect(),
        };
        let residuals: Vec<Residual> = self
            .scratch
            .par_iter_mut()
            .zip(values.par_iter_mut())
            .zip(parts.par_iter_mut())
            .enumerate()
            .map(|(k, ((sc, vals), part))| {
                let eval = PopulationEval {
                    problem,
                    k,
                    x,
                    costs,
                };
                eval.run(sc, vals.as_mut(), part.as_mut())
            })
            .collect();
        drop(parts);
        if let Some(l) = lin {
            l.detect_coupling_blocks();
        }
        residuals.iter().fold(Residual::default(), |a, r| Residual {
            hjb: nan_max(a.hjb, r.hjb),
            fp: nan_max(a.fp, r.fp),
            floor: a.floor.max(r.floor),
        })
    }
}

/// The evaluation of population k's rows.
struct PopulationEval<'a> {
    problem: &'a Problem,
    k: usize,
    x: &'a Iterate,
    costs: Costs<'a>,
}

impl PopulationEval<'_> {
    fn run(
        &self,
        sc: &mut Scratch,
        mut values: Option<&mut (&mut [f64], &mut [f64])>,
        mut lin: Option<&mut LinearizationPart<'_>>,
    ) -> Residual {
        let (problem, k) = (self.problem, self.k);
        let grid = problem.grid();
        let pop = problem.population(k);
        let (nt, nn) = (problem.time().nt, grid.len());
        let dt = problem.time().dt();
        let h_d = grid.cell_volume();
        let (u, m) = (&self.x.u[k], &self.x.m);
        let mut r = Residual::default();
        for n in 0..nt {
            let densities = densities_at(m, n + 1);
            let cost: &[f64] = match self.costs {
                Costs::Given(c) => c[k].level(n),
                Costs::Scaled(s) => {
                    running_cost(problem, k, n, s, &densities, &mut sc.cost);
                    &sc.cost
                }
            };
            let step = HjbStep::new(problem, k, n, u.level(n + 1), &densities, cost);
            let gen: &mut Generator = match lin.as_deref_mut() {
                Some(part) => &mut part.gens[n],
                None => &mut sc.gen,
            };
            let rh = step.residual(u.level(n), &mut sc.step, gen);
            gen.apply_transpose(grid, densities[k], &mut sc.qtm);
            let (mk, mnext) = (m[k].level(n), densities[k]);
            // The FP row's terms: m^{n+1}, m^n and Δt Qᵀm^{n+1} (‖Qᵀ‖₁ = 2 max_i |Q_ii|).
            let q = gen.max_out_rate();
            let fp_floor = ROUND_OFF_FACTOR
                * f64::EPSILON
                * (grid.l1(mk) + (1.0 + 2.0 * dt * q) * grid.l1(mnext));
            let u_max = u.level(n).iter().fold(0.0f64, |a, v| a.max(v.abs()));
            r.floor = r.floor.max(step.round_off_floor(u_max, gen)).max(fp_floor);
            let mut fp = 0.0;
            for i in 0..nn {
                fp += ((mnext[i] - mk[i]) - dt * sc.qtm[i]).abs();
            }
            if let Some((fu, fm)) = values.as_deref_mut() {
                let res = sc.step.residual();
                let out = &mut fu[n * nn..(n + 1) * nn];
                out.iter_mut().zip(res).for_each(|(o, r)| *o = dt * r);
                let out = &mut fm[n * nn..(n + 1) * nn];
                for i in 0..nn {
                    out[i] = (mnext[i] - mk[i]) - dt * sc.qtm[i];
                }
            }
            if let Some(part) = lin.as_deref_mut() {
                part.fill_level(problem, k, n, self.costs.scale(), u.level(n), &densities);
            }
            r.hjb = nan_max(r.hjb, dt * rh);
            r.fp = nan_max(r.fp, fp * h_d);
        }
        let term = u
            .level(nt)
            .iter()
            .zip(pop.terminal())
            .fold(0.0f64, |a, (x, y)| nan_max(a, (x - y).abs()));
        r.hjb = nan_max(r.hjb, term);
        let init: f64 = m[k]
            .level(0)
            .iter()
            .zip(pop.initial())
            .map(|(a, b)| (a - b).abs())
            .sum::<f64>()
            * h_d;
        r.fp = nan_max(r.fp, init);
        r
    }
}
