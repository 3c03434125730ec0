//! The discrete game of a PDE problem (RL.md §2): the Kushner–Dupuis Markov chain of the
//! monotone scheme, as a K-population game.
//!
//! States are the grid nodes x_i; the actions of population k are a finite set of velocities
//! α ∈ A^k ([`VelocitySet`], one per population, possibly lacking moves). Along every axis a the
//! chain jumps to the upper neighbour at rate ν_k/h_a² + (α_a)⁺/h_a and to the lower one at
//! ν_k/h_a² + (α_a)⁻/h_a (no rate across a reflecting wall), the upwind generator Q(α) of
//! MATH.md §2. One game step of length Δt is P = I + Δt Q(α), a stochastic matrix under the
//! CFL condition Δt · max_{i,α} |Q_ii(α)| ≤ 1, which is checked.
//!
//! Costs become rewards once, here: r^k_t(x, α) = −(L^k(x, m_t, α) + f^k(x, m_t) + V^k(x))·Δt
//! with L^k = (H^k)* the Lagrangian and m^j_t = μ^j_t / h^d (densities from the game's
//! probability vectors), and the terminal reward is −g^k(x). The game's initial distribution
//! is μ^k_0 = m0^k h^d. The horizon N = T/Δt covers the PDE's [0, T].

mod map;

pub(crate) use map::project_population;
pub use map::{flow_from_solution, policy_from_controls, policy_from_solution, softmax_policy};

use crate::error::{Error, Result};
use crate::grid::{Grid, NONE};
use crate::problem::Problem;
use crate::rl::game::{Game, Kernel};
use crate::rl::policy::Flow;
use std::borrow::Cow;

/// The velocities a population may choose (each a d-vector; the y entry is ignored in 1D).
#[derive(Debug, Clone, PartialEq)]
pub struct VelocitySet {
    velocities: Vec<[f64; 2]>,
    /// The per-axis values when the set is a product grid (projection uses them).
    axes: Option<[Vec<f64>; 2]>,
}

impl VelocitySet {
    /// The product grid of per-axis value lists (x, then y; give `[0.0]` on an axis along
    /// which the population cannot move). In 1D only the first list is used.
    pub fn product(x: Vec<f64>, y: Vec<f64>) -> Result<Self> {
        for (name, v) in [("x", &x), ("y", &y)] {
            if v.is_empty() || v.iter().any(|a| !a.is_finite()) {
                return Err(Error::invalid(
                    format!("velocities.{name}"),
                    "each axis needs at least one finite velocity",
                ));
            }
            if v.windows(2).any(|w| w[1] <= w[0]) {
                return Err(Error::invalid(
                    format!("velocities.{name}"),
                    "per-axis velocities must be strictly increasing",
                ));
            }
        }
        let velocities = y
            .iter()
            .flat_map(|&b| x.iter().map(move |&a| [a, b]))
            .collect();
        Ok(VelocitySet {
            velocities,
            axes: Some([x, y]),
        })
    }

    /// n evenly spaced values on [lo, hi] per axis (n = 1: the single value `lo`).
    pub fn uniform_axis(lo: f64, hi: f64, n: usize) -> Vec<f64> {
        if n <= 1 {
            return vec![lo];
        }
        (0..n)
            .map(|i| lo + (hi - lo) * i as f64 / (n - 1) as f64)
            .collect()
    }

    /// The 1D grid of n velocities on [−a_max, a_max].
    pub fn grid_1d(a_max: f64, n: usize) -> Result<Self> {
        Self::product(Self::uniform_axis(-a_max, a_max, n), vec![0.0])
    }

    /// The 2D grid of n × n velocities on [−a_max, a_max]².
    pub fn grid_2d(a_max: f64, n: usize) -> Result<Self> {
        let v = Self::uniform_axis(-a_max, a_max, n);
        Self::product(v.clone(), v)
    }

    /// An explicit list of velocities (projection then picks the nearest one).
    pub fn list(velocities: Vec<[f64; 2]>) -> Result<Self> {
        if velocities.is_empty() || velocities.iter().flatten().any(|a| !a.is_finite()) {
            return Err(Error::invalid(
                "velocities",
                "at least one velocity, every component finite",
            ));
        }
        Ok(VelocitySet {
            velocities,
            axes: None,
        })
    }

    /// The velocities, in action order.
    pub fn velocities(&self) -> &[[f64; 2]] {
        &self.velocities
    }

    /// Number of actions.
    pub fn len(&self) -> usize {
        self.velocities.len()
    }

    /// Always false (a set has at least one velocity).
    pub fn is_empty(&self) -> bool {
        self.velocities.is_empty()
    }

    /// Weights w_a ≥ 0, Σ w_a = 1, of a mixture of actions whose mean velocity is `alpha`
    /// (clamped to the grid's range): per axis the two neighbouring grid values, linearly
    /// weighted, so that in 1D the mean drift is reproduced exactly. Lists without a grid
    /// structure get the nearest velocity.
    pub fn project(&self, alpha: &[f64], dim: usize, out: &mut [f64]) {
        out.fill(0.0);
        let Some(axes) = &self.axes else {
            let dist = |v: &[f64; 2]| (0..dim).map(|a| (v[a] - alpha[a]).powi(2)).sum::<f64>();
            let best = (0..self.len())
                .min_by(|&i, &j| dist(&self.velocities[i]).total_cmp(&dist(&self.velocities[j])))
                .expect("non-empty");
            out[best] = 1.0;
            return;
        };
        let bracket = |v: &[f64], a: f64| -> [(usize, f64); 2] {
            if v.len() == 1 || a <= v[0] {
                return [(0, 1.0), (0, 0.0)];
            }
            if a >= v[v.len() - 1] {
                return [(v.len() - 1, 1.0), (0, 0.0)];
            }
            let j = v.partition_point(|&x| x <= a) - 1;
            let w = (a - v[j]) / (v[j + 1] - v[j]);
            [(j, 1.0 - w), (j + 1, w)]
        };
        let bx = bracket(&axes[0], alpha[0]);
        let by = if dim > 1 {
            bracket(&axes[1], alpha[1])
        } else {
            [(0, 1.0), (0, 0.0)]
        };
        let nx = axes[0].len();
        for &(iy, wy) in &by {
            for &(ix, wx) in &bx {
                out[ix + nx * iy] += wx * wy;
            }
        }
    }
}

/// How to build the game of a PDE problem.
#[derive(Debug, Clone, PartialEq)]
pub struct PdeGameSettings {
    /// One velocity set per population.
    pub velocities: Vec<VelocitySet>,
    /// Number of game steps N over [0, T]; `None`: the smallest N with Δt = T/N meeting
    /// `cfl` · (the CFL bound).
    pub steps: Option<usize>,
    /// Fraction of the CFL bound used when `steps` is `None` (in (0, 1]).
    pub cfl: f64,
}

impl PdeGameSettings {
    /// The same velocity set for every one of `k` populations, N from the CFL bound.
    pub fn uniform(k: usize, velocities: VelocitySet) -> Self {
        PdeGameSettings {
            velocities: vec![velocities; k],
            steps: None,
            cfl: 1.0,
        }
    }
}

/// The game of a PDE [`Problem`].
#[derive(Debug)]
pub struct PdeGame<'a> {
    problem: &'a Problem,
    velocities: Vec<VelocitySet>,
    steps: usize,
    dt: f64,
    cell: f64,
    max_rates: Vec<f64>,
    kernels: Vec<Kernel>,
    initial: Vec<Vec<f64>>,
}

/// Total jump rate out of node i with velocity α (−Q_ii), and the rate to each neighbour slot.
/// `drift` is the population's b (d values per node), upwinded on its own as in the PDE's
/// generator, so that the chain is the scheme's Q.
fn rates(
    grid: &Grid,
    nu: f64,
    drift: Option<&[f64]>,
    i: usize,
    alpha: &[f64; 2],
    out: &mut [f64; 4],
) -> f64 {
    let mut total = 0.0;
    let d = grid.dim();
    for a in 0..d {
        let h = grid.h(a);
        let diff = nu / (h * h);
        let nb = grid.neighbours(i);
        let b = drift.map_or(0.0, |b| b[i * d + a]);
        let up = diff + (alpha[a].max(0.0) + b.max(0.0)) / h;
        let down = diff + ((-alpha[a]).max(0.0) + (-b).max(0.0)) / h;
        out[2 * a] = if nb[2 * a] != NONE { down } else { 0.0 };
        out[2 * a + 1] = if nb[2 * a + 1] != NONE { up } else { 0.0 };
        total += out[2 * a] + out[2 * a + 1];
    }
    total
}

impl<'a> PdeGame<'a> {
    /// Builds the game; checks the velocity sets against the problem and the CFL condition
    /// (an error names the population, the largest rate and the step).
    pub fn new(problem: &'a Problem, settings: &PdeGameSettings) -> Result<Self> {
        let k_n = problem.k();
        if settings.velocities.len() != k_n {
            return Err(Error::invalid(
                "rl.velocities",
                format!(
                    "{} velocity sets for {k_n} populations",
                    settings.velocities.len()
                ),
            ));
        }
        if !(settings.cfl > 0.0 && settings.cfl <= 1.0) {
            return Err(Error::invalid(
                "rl.cfl",
                format!("{}: must lie in (0, 1]", settings.cfl),
            ));
        }
        if problem.has_exits() {
            // The game's kernel would need an absorbing cemetery state with its own reward.
            return Err(Error::invalid(
                "exits",
                "the discrete game of a problem with exits is not built yet: its states would \
                 need an absorbing state for the agents that have left",
            ));
        }
        if let Some(k) = (0..k_n).find(|&k| problem.population(k).is_time_dependent()) {
            // The game's kernels and rewards are built from the time-independent data.
            return Err(Error::invalid(
                format!("population[{k}].potential"),
                "the discrete game of a problem whose potential or drift depends on time is \
                 not built yet",
            ));
        }
        if let Some(k) = (0..k_n).find(|&k| problem.population(k).discount() != 0.0) {
            // The game's returns are undiscounted sums of rewards.
            return Err(Error::invalid(
                format!("population[{k}].discount"),
                "the discrete game of a discounted problem is not built yet: its returns are \
                 undiscounted",
            ));
        }
        for (k, p) in problem.populations().iter().enumerate() {
            // The game's distributions are probability vectors (μ = m h^d sums to 1).
            if p.mass() != 1.0 {
                return Err(Error::invalid(
                    format!("population[{k}].mass"),
                    format!(
                        "{}: the discrete game of population {:?} needs mass 1 (its states' \
                         probabilities sum to 1)",
                        p.mass(),
                        p.name()
                    ),
                ));
            }
        }
        let g = problem.grid();
        let mut buf = [0.0; 4];
        let max_rates: Vec<f64> = (0..k_n)
            .map(|k| {
                let nu = problem.population(k).nu();
                let space = problem.population(k).space();
                let drift = problem.population(k).drift();
                let mut m: f64 = 0.0;
                for i in 0..g.len() {
                    for v in settings.velocities[k].velocities() {
                        m = m.max(rates(space, nu, drift, i, v, &mut buf));
                    }
                }
                m
            })
            .collect();
        let t_end = problem.time().horizon;
        let rate = max_rates.iter().cloned().fold(0.0, f64::max);
        let steps = match settings.steps {
            Some(0) => return Err(Error::invalid("rl.steps", "at least one step")),
            Some(n) => n,
            None => ((t_end * rate / settings.cfl).ceil() as usize).max(1),
        };
        let dt = t_end / steps as f64;
        for (k, &r) in max_rates.iter().enumerate() {
            if dt * r > 1.0 + 1e-12 {
                return Err(Error::invalid(
                    format!("rl.population[{k}]"),
                    format!(
                        "CFL violated: Δt · max|Q_ii| = {dt:.4e} · {r:.4e} = {:.4} > 1 \
                         (population {:?}, {} steps over T = {t_end}); use at least {} steps",
                        dt * r,
                        problem.population(k).name(),
                        steps,
                        (t_end * r).ceil()
                    ),
                ));
            }
        }
        let kernels = (0..k_n)
            .map(|k| {
                let nu = problem.population(k).nu();
                // Links to a population's removed nodes are cut: those states are never
                // reached (their initial probability is 0) and walls reflect.
                let space = problem.population(k).space();
                let drift = problem.population(k).drift();
                let vel = settings.velocities[k].velocities();
                Kernel::from_rows(
                    g.len(),
                    vel.len(),
                    &format!("rl.population[{k}].kernel"),
                    |i, a, row| {
                        let total = rates(space, nu, drift, i, &vel[a], &mut buf);
                        row.push((i, (1.0 - dt * total).max(0.0)));
                        for (s, &j) in space.neighbours(i).iter().enumerate() {
                            if j != NONE && buf[s] > 0.0 {
                                row.push((j, dt * buf[s]));
                            }
                        }
                    },
                )
            })
            .collect::<Result<_>>()?;
        let cell = g.cell_volume();
        let initial = (0..k_n)
            .map(|k| {
                let m0 = &problem.population(k).initial();
                let mut mu: Vec<f64> = m0.iter().map(|v| v * cell).collect();
                let s: f64 = mu.iter().sum();
                mu.iter_mut().for_each(|v| *v /= s);
                mu
            })
            .collect();
        Ok(PdeGame {
            problem,
            velocities: settings.velocities.clone(),
            steps,
            dt,
            cell,
            max_rates,
            kernels,
            initial,
        })
    }

    /// The game step Δt.
    pub fn dt(&self) -> f64 {
        self.dt
    }

    /// Population k's CFL number Δt · max_{i,α} |Q_ii(α)| (at most 1).
    pub fn cfl_number(&self, k: usize) -> f64 {
        self.dt * self.max_rates[k]
    }

    /// The problem the game was built from.
    pub fn problem(&self) -> &Problem {
        self.problem
    }

    /// The grid (states are its nodes).
    pub fn grid(&self) -> &Grid {
        self.problem.grid()
    }

    /// Population k's velocity set.
    pub fn velocities(&self, k: usize) -> &VelocitySet {
        &self.velocities[k]
    }

    /// Cell volume h^d (μ = m h^d).
    pub fn cell_volume(&self) -> f64 {
        self.cell
    }

    /// Time of game level n.
    pub fn time(&self, n: usize) -> f64 {
        n as f64 * self.dt
    }
}

impl Game for PdeGame<'_> {
    fn populations(&self) -> usize {
        self.problem.k()
    }
    fn states(&self, _k: usize) -> usize {
        self.grid().len()
    }
    fn actions(&self, k: usize) -> usize {
        self.velocities[k].len()
    }
    fn horizon(&self) -> usize {
        self.steps
    }
    fn initial(&self, k: usize) -> Cow<'_, [f64]> {
        Cow::Borrowed(&self.initial[k])
    }
    fn transitions(&self, k: usize, _t: usize, _flow: &Flow) -> Result<Cow<'_, Kernel>> {
        Ok(Cow::Borrowed(&self.kernels[k]))
    }
    fn rewards(&self, k: usize, t: usize, flow: &Flow, out: &mut [f64]) -> Result<()> {
        let g = self.grid();
        let d = g.dim();
        let pop = self.problem.population(k);
        let vel = self.velocities[k].velocities();
        let k_n = self.problem.k();
        let mus: Vec<&[f64]> = (0..k_n).map(|j| flow.at(j, t)).collect();
        let mut m = vec![0.0; k_n];
        for (i, row) in out.chunks_mut(vel.len()).enumerate() {
            for (j, mj) in m.iter_mut().enumerate() {
                *mj = mus[j][i] / self.cell;
            }
            let x = g.point(i);
            let base = self.problem.coupling().cost(k, &x[..d], &m) + pop.potential()[i];
            for (r, v) in row.iter_mut().zip(vel) {
                let l = pop.hamiltonian().lagrangian(&x[..d], &m, &v[..d]);
                *r = -(l + base) * self.dt;
            }
        }
        Ok(())
    }
    fn terminal(&self, k: usize, _flow: &Flow, out: &mut [f64]) -> Result<()> {
        for (o, g) in out.iter_mut().zip(self.problem.population(k).terminal()) {
            *o = -g;
        }
        Ok(())
    }
    fn name(&self) -> String {
        format!("pde game ({} steps of {:.3e})", self.steps, self.dt)
    }
}
