//! The problem part of a configuration: `[grid]`, `[time]`, the `[[population]]` entries (σ_k,
//! H^k, V^k, g^k, m0^k) and `[coupling]` (f^k), turned into a validated [`Problem`] by
//! [`Spec::build_problem`] through [`Problem::builder`]. The closed serde enums here
//! (Hamiltonian kinds, coupling terms) map onto the library's `Box<dyn …>` extension points.

use super::fields::{one, FieldSpec, RegionSpec};
use super::Spec;
use crate::error::{Error, Result};
use crate::grid::{Axis, Boundary, Grid, TimeGrid};
use crate::problem::coupling::{self, Coupling};
use crate::problem::hamiltonian::{self, Hamiltonian};
use crate::problem::{Exit, Population, Problem, Side};
use crate::solve::{Sizes, SolverSettings};
use serde::{Deserialize, Serialize};

/// `[grid]`: one axis (1D) or two (2D).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GridSpec {
    /// The x axis.
    pub x: AxisSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    /// The y axis (2D grids).
    pub y: Option<AxisSpec>,
}

/// One axis: bounds, node count and boundary kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AxisSpec {
    /// Lower end.
    pub min: f64,
    /// Upper end.
    pub max: f64,
    /// Number of cell-centred nodes.
    pub n: usize,
    #[serde(default = "default_boundary")]
    /// Boundary condition (default reflecting).
    pub boundary: Boundary,
}

fn is_one(v: &f64) -> bool {
    *v == 1.0
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

fn is_zero_field(f: &FieldSpec) -> bool {
    *f == FieldSpec::Constant(0.0)
}

fn default_boundary() -> Boundary {
    Boundary::Reflecting
}

/// `[time]`: `kind` (`finite`, the default, or `stationary`), and for a finite problem the
/// horizon T and the number of steps Nt (a stationary one has neither).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSpec {
    /// The kind of problem in time.
    #[serde(default, skip_serializing_if = "TimeKind::is_finite")]
    pub kind: TimeKind,
    /// Horizon T (finite problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub horizon: Option<f64>,
    /// Number of time steps Nt (finite problems).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steps: Option<usize>,
}

/// `[time] kind`: a finite horizon [0, T], or the stationary (ergodic or discounted) problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeKind {
    /// [0, T] on Nt steps, with terminal costs.
    #[default]
    Finite,
    /// No time: ergodic for the populations with discount 0, discounted for the others.
    Stationary,
}

impl TimeKind {
    fn is_finite(&self) -> bool {
        *self == TimeKind::Finite
    }
}

impl TimeSpec {
    /// The time grid of a finite problem (`None` for a stationary one), each missing or
    /// superfluous key an error naming it.
    pub fn grid(&self) -> Result<Option<TimeGrid>> {
        match self.kind {
            TimeKind::Finite => {
                let need = |key: &str| {
                    Error::invalid(
                        format!("time.{key}"),
                        "missing: a finite-horizon problem needs time.horizon and time.steps \
                         (or time.kind = \"stationary\")",
                    )
                };
                let horizon = self.horizon.ok_or_else(|| need("horizon"))?;
                let steps = self.steps.ok_or_else(|| need("steps"))?;
                Ok(Some(TimeGrid::new(horizon, steps)?))
            }
            TimeKind::Stationary => {
                for (key, given) in [
                    ("horizon", self.horizon.is_some()),
                    ("steps", self.steps.is_some()),
                ] {
                    if given {
                        return Err(Error::invalid(
                            format!("time.{key}"),
                            "a stationary problem (time.kind = \"stationary\") has no horizon \
                             and no time steps: remove the key",
                        ));
                    }
                }
                Ok(None)
            }
        }
    }

    /// Nt, or 1 for a stationary problem (for the memory estimate).
    fn steps_or_one(&self) -> usize {
        self.steps.unwrap_or(1)
    }
}

/// One `[[population]]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PopulationSpec {
    /// Name (output groups, messages).
    pub name: String,
    /// Diffusion σ ≥ 0 (ν = σ²/2).
    pub sigma: f64,
    #[serde(default)]
    /// Hamiltonian (default quadratic, cost 1).
    pub hamiltonian: HamiltonianSpec,
    /// Initial density m0 (normalised to the mass); required on a finite horizon, not used by
    /// a stationary problem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial: Option<FieldSpec>,
    #[serde(default = "one", skip_serializing_if = "is_one")]
    /// Mass M > 0 of the population (default 1): Σ_i m0_i h^d = M.
    pub mass: f64,
    #[serde(default = "FieldSpec::zero")]
    /// Running potential V (default 0).
    pub potential: FieldSpec,
    #[serde(default = "FieldSpec::zero")]
    /// Terminal cost g (default 0).
    pub terminal: FieldSpec,
    /// Drift b(x), one field per axis (the agents move with α + b).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub drift: Option<Vec<FieldSpec>>,
    /// The region the population lives on (default: the whole grid), minus the obstacles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionSpec>,
    /// Discount rate ρ ≥ 0 of the HJB (default 0): the cost of time t is weighted by e^{−ρt}.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub discount: f64,
    /// The exit cost ψ paid on leaving through an exit (default 0).
    #[serde(default = "FieldSpec::zero", skip_serializing_if = "is_zero_field")]
    pub exit_cost: FieldSpec,
}

/// One `[[exit]]`: `side = "x-max"` (optionally `span = [a, b]` along the other axis, a door in
/// a 2D wall) or `region = …` (a shape or an expression, e.g. a door region in the interior).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExitSpec {
    /// A side of the domain: `x-min`, `x-max`, `y-min` or `y-max`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub side: Option<Side>,
    /// The range [a, b] of the other coordinate along the side (2D).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<[f64; 2]>,
    /// A region of exit nodes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<RegionSpec>,
}

impl ExitSpec {
    fn build(&self, grid: &Grid, field: &str, pars: &crate::expr::Parameters) -> Result<Exit> {
        match (&self.side, &self.region) {
            (Some(side), None) => Ok(Exit::Side {
                side: *side,
                span: self.span,
            }),
            (None, Some(r)) if self.span.is_none() => Ok(Exit::Region(r.build(
                grid,
                &format!("{field}.region"),
                pars,
            )?)),
            (None, Some(_)) => Err(Error::invalid(
                format!("{field}.span"),
                "a span goes with a side, not with a region",
            )),
            (Some(_), Some(_)) => Err(Error::invalid(
                field,
                "give either `side` (with an optional `span`) or `region`, not both",
            )),
            (None, None) => Err(Error::invalid(
                field,
                "an exit needs `side` (e.g. \"x-max\", with an optional `span`) or `region`",
            )),
        }
    }
}

/// `hamiltonian = { kind = "...", ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum HamiltonianSpec {
    /// |p|²/(2 cost).
    Quadratic {
        #[serde(default = "one")]
        /// Cost of moving c.
        cost: f64,
    },
    /// Σ_a p_a²/(2 costs\[a\]).
    Anisotropic {
        /// Cost of moving along each axis.
        costs: Vec<f64>,
    },
    /// |p|^q/(q cost).
    Power {
        /// Growth exponent q > 1.
        q: f64,
        #[serde(default = "one")]
        /// Cost of moving c.
        cost: f64,
    },
    /// Congestion: |p|^q/(q cost (epsilon + Σ_j weights\[j\] m^j)^alpha), q = 2 unless given.
    Congestion {
        #[serde(default = "one")]
        /// Cost of moving c in the open.
        cost: f64,
        /// Growth exponent q > 1 of the power-law variant (default 2: the quadratic one).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        q: Option<f64>,
        /// The congestion exponent α, in [0, 4(q−1)/q].
        alpha: f64,
        /// ε > 0 in ε + Σ_j w_j m^j.
        epsilon: f64,
        /// One weight w_j ≥ 0 per population (default: 1 for the population itself, 0 for
        /// the others).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weights: Option<Vec<f64>>,
    },
}

impl Default for HamiltonianSpec {
    fn default() -> Self {
        HamiltonianSpec::Quadratic { cost: 1.0 }
    }
}

impl HamiltonianSpec {
    /// The Hamiltonian of population `k` of `populations`.
    fn build(&self, k: usize, populations: usize) -> Box<dyn Hamiltonian> {
        match self {
            HamiltonianSpec::Quadratic { cost } => Box::new(hamiltonian::Quadratic::new(*cost)),
            HamiltonianSpec::Anisotropic { costs } => {
                Box::new(hamiltonian::Anisotropic::new(costs.clone()))
            }
            HamiltonianSpec::Power { q, cost } => Box::new(hamiltonian::Power::new(*q, *cost)),
            HamiltonianSpec::Congestion {
                cost,
                q,
                alpha,
                epsilon,
                weights,
            } => {
                let base: Box<dyn Hamiltonian> = match q {
                    None => Box::new(hamiltonian::Quadratic::new(*cost)),
                    Some(q) => Box::new(hamiltonian::Power::new(*q, *cost)),
                };
                let weights = weights.clone().unwrap_or_else(|| {
                    (0..populations)
                        .map(|j| if j == k { 1.0 } else { 0.0 })
                        .collect()
                });
                Box::new(hamiltonian::Congestion::boxed(
                    base, weights, *epsilon, *alpha,
                ))
            }
        }
    }
}

/// `[coupling]`: any combination of the shipped couplings, summed.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CouplingSpec {
    /// A (K×K): f^k += Σ_j A_kj m^j.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linear: Option<Vec<Vec<f64>>>,
    /// κ: a K-vector (self-congestion κ_k log m^k) or a K×K matrix (Σ_j κ_kj log m^j).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log: Option<VectorOrMatrix>,
    /// f^k += κ_k (m^k)^β.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub power: Option<PowerSpec>,
    /// f^k += κ_k s_δ(a_k − m^k/(Σ_j m^j + η)): Schelling-type segregation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub segregation: Option<SegregationSpec>,
}

/// `segregation = { threshold = [...], strength = [...], eta = ..., width = ... }`
/// ([`crate::problem::Segregation`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegregationSpec {
    /// a_k ∈ (0, 1), one per population: the smallest tolerated fraction of one's own type.
    pub threshold: Vec<f64>,
    /// κ_k ≥ 0, one per population.
    pub strength: Vec<f64>,
    /// η > 0 in m^k/(Σ_j m^j + η) (default 1e-3).
    #[serde(default = "default_eta")]
    pub eta: f64,
    /// The smoothing width δ > 0 of the positive part (default 0.02).
    #[serde(default = "default_width")]
    pub width: f64,
}

fn default_eta() -> f64 {
    1e-3
}

fn default_width() -> f64 {
    0.02
}

/// A vector (the diagonal) or a full matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(
    untagged,
    expecting = "a list of K numbers (the diagonal) or a K×K matrix (a list of K lists of K numbers)"
)]
pub enum VectorOrMatrix {
    /// The diagonal (self-couplings only).
    Vector(Vec<f64>),
    /// The full K×K matrix.
    Matrix(Vec<Vec<f64>>),
}

/// `power = { kappa = [...], beta = ... }`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PowerSpec {
    /// κ_k, one per population.
    pub kappa: Vec<f64>,
    /// Exponent β > 0.
    pub beta: f64,
}

impl CouplingSpec {
    fn build(&self) -> Box<dyn Coupling> {
        let mut terms: Vec<Box<dyn Coupling>> = Vec::new();
        if let Some(a) = &self.linear {
            terms.push(Box::new(coupling::Linear::from_rows(a)));
        }
        match &self.log {
            Some(VectorOrMatrix::Vector(v)) => terms.push(Box::new(coupling::Log::diagonal(v))),
            Some(VectorOrMatrix::Matrix(a)) => terms.push(Box::new(coupling::Log::from_rows(a))),
            None => {}
        }
        if let Some(p) = &self.power {
            terms.push(Box::new(coupling::Power {
                kappa: p.kappa.clone(),
                beta: p.beta,
            }));
        }
        if let Some(s) = &self.segregation {
            terms.push(Box::new(crate::problem::Segregation {
                threshold: s.threshold.clone(),
                strength: s.strength.clone(),
                eta: s.eta,
                width: s.width,
            }));
        }
        if terms.len() == 1 {
            terms.pop().expect("one term")
        } else {
            Box::new(coupling::Sum(terms))
        }
    }

    fn check_rows(&self, k: usize) -> Result<()> {
        let check = |rows: &Vec<Vec<f64>>, field: &str| -> Result<()> {
            for (r, row) in rows.iter().enumerate() {
                if row.len() != k || rows.len() != k {
                    return Err(Error::invalid(
                        format!("coupling.{field}"),
                        format!(
                            "row {r} has {} entries and there are {} rows: a {k}x{k} matrix is needed",
                            row.len(),
                            rows.len()
                        ),
                    ));
                }
            }
            if rows.len() != k {
                return Err(Error::invalid(
                    format!("coupling.{field}"),
                    format!("{} rows: a {k}x{k} matrix is needed", rows.len()),
                ));
            }
            Ok(())
        };
        if let Some(a) = &self.linear {
            check(a, "linear")?;
        }
        match &self.log {
            Some(VectorOrMatrix::Matrix(a)) => check(a, "log")?,
            Some(VectorOrMatrix::Vector(v)) if v.len() != k => {
                return Err(Error::invalid(
                    "coupling.log",
                    format!("{} values for {k} populations", v.len()),
                ))
            }
            _ => {}
        }
        Ok(())
    }
}

impl Spec {
    /// Builds and validates the problem (grid, horizon, populations, coupling), after checking
    /// that a solve with the `[solver]` settings fits in memory.
    pub fn build_problem(&self) -> Result<Problem> {
        self.build_problem_for(&self.solver.build()?)
    }

    /// [`Spec::build_problem`] with the solver settings already built: the memory estimate of
    /// solving it with `settings` is checked against their limit before any field is sampled.
    pub(crate) fn build_problem_for(&self, settings: &SolverSettings) -> Result<Problem> {
        let g = &self.grid;
        let axis = |a: &AxisSpec| Axis::new(a.min, a.max, a.n, a.boundary);
        let mut axes = vec![axis(&g.x)];
        if let Some(y) = &g.y {
            axes.push(axis(y));
        }
        if self.populations.is_empty() {
            return Err(Error::invalid(
                "population",
                "at least one [[population]] is needed",
            ));
        }
        // Before anything is allocated: the grid's own arrays grow with the nodes too.
        let sizes = Sizes {
            nodes: [g.x.n, g.y.as_ref().map_or(1, |y| y.n)],
            dim: axes.len(),
            steps: self.time.steps_or_one(),
            populations: self.populations.len(),
        };
        sizes.check(settings)?;
        let grid = Grid::new(axes)?;
        let time_grid = self.time.grid()?;
        self.coupling.check_rows(self.populations.len())?;
        let pars = &self.parameters;
        for (name, value) in pars {
            crate::expr::check_parameter(name, *value, &format!("parameters.{name}"))?;
        }
        let mut builder = match time_grid {
            Some(t) => Problem::builder(grid.clone(), t),
            None => Problem::stationary_builder(grid.clone()),
        };
        let time = *builder.time();
        for (k, p) in self.populations.iter().enumerate() {
            let field = format!("population[{k}]");
            // A stationary problem has no initial density: its builder puts the uniform one in
            // place of whatever is given here (a note says that `initial` is not used).
            let placeholder = FieldSpec::Constant(1.0);
            let initial = match (&p.initial, time_grid) {
                (_, None) => &placeholder,
                (Some(f), Some(_)) => f,
                (None, Some(_)) => {
                    return Err(Error::invalid(
                        format!("{field}.initial"),
                        "missing: a finite-horizon problem needs the initial density of every \
                         population",
                    ))
                }
            };
            let mut pop = Population::boxed_builder(
                p.name.clone(),
                p.sigma,
                p.hamiltonian.build(k, self.populations.len()),
            );
            let times = time.levels();
            if let Some(b) = &p.drift {
                pop = match sample_drift_in_time(b, &grid, &times, &field, pars)? {
                    Some(levels) => pop.drift_levels_values(levels),
                    None => pop.drift_values(sample_drift(b, &grid, &field, pars)?),
                };
            }
            let potential_field = format!("{field}.potential");
            pop = match p
                .potential
                .sample_in_time(&grid, &times, &potential_field, pars)?
            {
                Some(levels) => pop.potential_levels_values(levels),
                None => pop.potential_values(p.potential.sample(&grid, &potential_field, pars)?),
            };
            if let Some(r) = &p.region {
                pop = pop.region(r.build(&grid, &format!("{field}.region"), pars)?);
            }
            builder = builder.population(
                pop.terminal_values(p.terminal.sample(
                    &grid,
                    &format!("{field}.terminal"),
                    pars,
                )?)
                .initial_values(initial.sample(&grid, &format!("{field}.initial"), pars)?)
                .exit_cost_values(
                    p.exit_cost
                        .sample(&grid, &format!("{field}.exit_cost"), pars)?,
                )
                .mass(p.mass)
                .discount(p.discount),
            );
        }
        for (j, o) in self.obstacles.iter().enumerate() {
            builder = builder.obstacle(o.build(&grid, &format!("obstacles[{j}]"), pars)?);
        }
        for (j, e) in self.exits.iter().enumerate() {
            builder = builder.exit(e.build(&grid, &format!("exit[{j}]"), pars)?);
        }
        builder.boxed_coupling(self.coupling.build()).build()
    }

    /// Replaces the resolution (nodes per axis, time steps): used to run shipped examples
    /// on coarse grids in CI, or to refine them.
    pub fn with_resolution(mut self, nx: usize, ny: Option<usize>, steps: usize) -> Self {
        self.grid.x.n = nx;
        if let (Some(y), Some(n)) = (self.grid.y.as_mut(), ny) {
            y.n = n;
        }
        if self.time.kind == TimeKind::Finite {
            self.time.steps = Some(steps);
        }
        self
    }
}

/// When some component of the drift uses t: b(t_n, x_i) at every level, level-major, d values
/// per node (a component without t repeats its values at every level).
fn sample_drift_in_time(
    b: &[FieldSpec],
    grid: &Grid,
    times: &[f64],
    field: &str,
    pars: &crate::expr::Parameters,
) -> Result<Option<Vec<f64>>> {
    let d = grid.dim();
    let mut per_axis = Vec::with_capacity(b.len());
    for (a, spec) in b.iter().enumerate() {
        per_axis.push(spec.sample_in_time(grid, times, &format!("{field}.drift[{a}]"), pars)?);
    }
    if b.len() != d || per_axis.iter().all(Option::is_none) {
        return Ok(None);
    }
    let nodes = grid.len();
    let mut out = vec![0.0; times.len() * nodes * d];
    for (a, levels) in per_axis.into_iter().enumerate() {
        let levels = match levels {
            Some(v) => v,
            None => {
                let v = b[a].sample(grid, &format!("{field}.drift[{a}]"), pars)?;
                v.repeat(times.len())
            }
        };
        for (j, v) in levels.into_iter().enumerate() {
            out[j * d + a] = v;
        }
    }
    Ok(Some(out))
}

/// The drift fields of one population (one per axis) as d values per node, node-major.
fn sample_drift(
    b: &[FieldSpec],
    grid: &Grid,
    field: &str,
    pars: &crate::expr::Parameters,
) -> Result<Vec<f64>> {
    let d = grid.dim();
    if b.len() != d {
        return Err(Error::invalid(
            format!("{field}.drift"),
            format!("{} components for a {d}D grid: one per axis", b.len()),
        ));
    }
    let mut out = vec![0.0; grid.len() * d];
    for (a, spec) in b.iter().enumerate() {
        let values = spec.sample(grid, &format!("{field}.drift[{a}]"), pars)?;
        for (i, v) in values.into_iter().enumerate() {
            out[i * d + a] = v;
        }
    }
    Ok(out)
}
