//! One agent type k: its diffusion σ_k (ν_k = σ_k²/2), Hamiltonian H^k, running potential
//! V^k(x), terminal cost g^k(x), mass M_k and initial density m0^k (Σ_i m0_i h^d = M_k), all
//! sampled on the grid nodes.
//!
//! A [`Population`] only exists inside a validated [`super::Problem`]; it is described by a
//! [`PopulationBuilder`], whose fields are functions of the coordinates (or sampled values) that
//! the problem builder samples on its grid.

use super::hamiltonian::Hamiltonian;
use super::region::Region;
use crate::grid::Grid;

/// A population (agent type) of a validated problem. Field values live on the grid nodes
/// (x fastest).
#[derive(Debug)]
pub struct Population {
    pub(super) name: String,
    pub(super) sigma: f64,
    pub(super) hamiltonian: Box<dyn Hamiltonian>,
    pub(super) potential: Vec<f64>,
    pub(super) terminal: Vec<f64>,
    pub(super) initial: Vec<f64>,
    pub(super) mass: f64,
    /// Whether node i belongs to the population's state space S^k.
    pub(super) live: Vec<bool>,
    /// The grid restricted to S^k (links to removed nodes cut).
    pub(super) space: Grid,
    /// Whether some node is removed (region or obstacles).
    pub(super) masked: bool,
    /// The drift b(x_i), d values per node (node-major), when the population has one.
    pub(super) drift: Option<Vec<f64>>,
    /// Whether node i is an exit of S^k (absorbing, u = ψ^k).
    pub(super) exit: Vec<bool>,
    /// The exit cost ψ^k(x_i) (0 on removed nodes).
    pub(super) exit_cost: Vec<f64>,
    /// Live and not an exit: the nodes where an agent is in play.
    pub(super) active: Vec<bool>,
    pub(super) has_exits: bool,
    /// Discount rate ρ_k ≥ 0 of the HJB (ρu added to it).
    pub(super) discount: f64,
    /// V^k(t_n, x_i) at every time level, level-major, when V depends on time.
    pub(super) potential_levels: Option<Vec<f64>>,
    /// b^k(t_n, x_i), level-major then node-major (d values per node), when b depends on time.
    pub(super) drift_levels: Option<Vec<f64>>,
}

impl Population {
    /// Describes a population with diffusion σ and Hamiltonian H; by default V = 0, g = 0 and a
    /// uniform initial density. Hand it to [`super::ProblemBuilder::population`].
    pub fn builder<'a>(
        name: impl Into<String>,
        sigma: f64,
        hamiltonian: impl Hamiltonian + 'static,
    ) -> PopulationBuilder<'a> {
        Self::boxed_builder(name, sigma, Box::new(hamiltonian))
    }

    /// [`Population::builder`] with an already boxed Hamiltonian (e.g. one chosen at run time).
    pub fn boxed_builder<'a>(
        name: impl Into<String>,
        sigma: f64,
        hamiltonian: Box<dyn Hamiltonian>,
    ) -> PopulationBuilder<'a> {
        PopulationBuilder {
            name: name.into(),
            sigma,
            hamiltonian,
            potential: Source::Constant(0.0),
            terminal: Source::Constant(0.0),
            initial: Source::Constant(1.0),
            mass: 1.0,
            region: None,
            drift: None,
            exit_cost: Source::Constant(0.0),
            discount: 0.0,
            potential_levels: None,
            drift_levels: None,
        }
    }

    /// Name, used for output groups and messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Diffusion σ ≥ 0.
    pub fn sigma(&self) -> f64 {
        self.sigma
    }

    /// Viscosity ν = σ²/2.
    pub fn nu(&self) -> f64 {
        0.5 * self.sigma * self.sigma
    }

    /// The Hamiltonian H^k.
    pub fn hamiltonian(&self) -> &dyn Hamiltonian {
        self.hamiltonian.as_ref()
    }

    /// Running potential V^k(x_i), added to the coupling cost f^k (at t = 0 when it depends
    /// on time: see [`Population::potential_at`]).
    pub fn potential(&self) -> &[f64] {
        &self.potential
    }

    /// V^k(t_n, x_i) of time level n, the potential of HJB step n (implicit in time, like the
    /// step's u^n).
    pub fn potential_at(&self, n: usize) -> &[f64] {
        let nodes = self.potential.len();
        match &self.potential_levels {
            Some(v) => &v[n * nodes..(n + 1) * nodes],
            None => &self.potential,
        }
    }

    /// Whether V^k or b^k depends on time.
    pub fn is_time_dependent(&self) -> bool {
        self.potential_levels.is_some() || self.drift_levels.is_some()
    }

    /// V^k at every time level (level-major), when it depends on time.
    pub fn potential_levels(&self) -> Option<&[f64]> {
        self.potential_levels.as_deref()
    }

    /// b^k at every time level (level-major, then d values per node), when it depends on time.
    pub fn drift_levels(&self) -> Option<&[f64]> {
        self.drift_levels.as_deref()
    }

    /// The drift b^k(t_n, ·) of time level n (d values per node), if the population has one.
    pub fn drift_at(&self, n: usize) -> Option<&[f64]> {
        match (&self.drift_levels, &self.drift) {
            (Some(v), Some(b)) => Some(&v[n * b.len()..(n + 1) * b.len()]),
            (_, b) => b.as_deref(),
        }
    }

    /// Terminal cost g^k(x_i).
    pub fn terminal(&self) -> &[f64] {
        &self.terminal
    }

    /// Initial density m0^k(x_i), normalised to Σ_i m0_i h^d = M_k ([`Population::mass`]).
    pub fn initial(&self) -> &[f64] {
        &self.initial
    }

    /// The population's mass M_k > 0 (1 unless set): Σ_i m_i h^d at every time level.
    pub fn mass(&self) -> f64 {
        self.mass
    }

    /// The mask of the population's state space S^k: its region minus the obstacles. Removed
    /// nodes hold u = 0 and m = 0 and no rate leads to them.
    pub fn live(&self) -> &[bool] {
        &self.live
    }

    /// Whether node i belongs to S^k.
    #[inline]
    pub fn is_live(&self, i: usize) -> bool {
        self.live[i]
    }

    /// Whether some node of the grid is removed from S^k.
    pub fn is_masked(&self) -> bool {
        self.masked
    }

    /// The discount rate ρ_k ≥ 0: the agent minimises E[∫ e^{-ρt} (L + F) dt + e^{-ρT} g], and
    /// the HJB gains the term ρu (the step matrix becomes (1/Δt + ρ)I − Q).
    pub fn discount(&self) -> f64 {
        self.discount
    }

    /// The exit nodes of S^k (the problem's exits on live nodes): absorbing states of the
    /// chain, where u^k = ψ^k and m^k accumulates the mass that has left through the node
    /// (see [`super::exit`]).
    pub fn exits(&self) -> &[bool] {
        &self.exit
    }

    /// Whether node i is an exit of S^k.
    #[inline]
    pub fn is_exit(&self, i: usize) -> bool {
        self.exit[i]
    }

    /// Whether some node of S^k is an exit.
    pub fn has_exits(&self) -> bool {
        self.has_exits
    }

    /// The exit cost ψ^k(x_i) (the value of u^k on exit nodes; 0 elsewhere is not meaningful).
    pub fn exit_cost(&self) -> &[f64] {
        &self.exit_cost
    }

    /// Whether an agent at node i is in play: the node is live and not an exit. Elsewhere the
    /// scheme's row is trivial (no rate, no running cost).
    #[inline]
    pub fn is_active(&self, i: usize) -> bool {
        self.active[i]
    }

    /// The mass inside (Σ over live non-exit nodes of m_i h^d) and the mass that has left
    /// (Σ over exit nodes) of one level of m^k.
    pub fn inside_and_exited(&self, grid: &Grid, m: &[f64]) -> (f64, f64) {
        let (mut inside, mut out) = (0.0, 0.0);
        for (i, v) in m.iter().enumerate() {
            if self.exit[i] {
                out += v;
            } else {
                inside += v;
            }
        }
        let cell = grid.cell_volume();
        (inside * cell, out * cell)
    }

    /// The drift b(x_i) of the agents' dynamics dX = (α + b) dt + σ dW, d values per node
    /// (node-major: b_a(x_i) at `i·d + a`), when the population has one. The Hamiltonian
    /// becomes H(x, p) − b·p; the scheme upwinds the drift into the rates of Q.
    pub fn drift(&self) -> Option<&[f64]> {
        self.drift.as_deref()
    }

    /// The grid as population k sees it: the problem's grid with every link to a removed node
    /// cut ([`Grid::restricted`]), so that the mask boundary is a no-flux wall.
    pub fn space(&self) -> &Grid {
        &self.space
    }
}

/// A field as a function of the coordinates x (a slice of length d).
pub(super) type FieldFn<'a> = dyn Fn(&[f64]) -> f64 + 'a;

/// Where the values of a field come from: sampled when the problem is built, on its grid.
pub(super) enum Source<'a> {
    Constant(f64),
    Function(Box<FieldFn<'a>>),
    Values(Vec<f64>),
}

impl Source<'_> {
    pub(super) fn sample(self, grid: &Grid) -> Vec<f64> {
        match self {
            Source::Constant(c) => vec![c; grid.len()],
            Source::Function(f) => grid.sample(f),
            Source::Values(v) => v,
        }
    }
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Constant(c) => write!(f, "Constant({c})"),
            Source::Function(_) => f.write_str("Function(..)"),
            Source::Values(v) => write!(f, "Values({} nodes)", v.len()),
        }
    }
}

/// The description of a population before validation: functions of the coordinates x (a slice
/// of length d) or values per node, sampled on the problem's grid by
/// [`super::ProblemBuilder::build`].
#[derive(Debug)]
pub struct PopulationBuilder<'a> {
    pub(super) name: String,
    pub(super) sigma: f64,
    pub(super) hamiltonian: Box<dyn Hamiltonian>,
    pub(super) potential: Source<'a>,
    pub(super) terminal: Source<'a>,
    pub(super) initial: Source<'a>,
    pub(super) mass: f64,
    pub(super) region: Option<Region>,
    pub(super) drift: Option<DriftSource<'a>>,
    pub(super) exit_cost: Source<'a>,
    pub(super) discount: f64,
    pub(super) potential_levels: Option<TimeSource<'a>>,
    pub(super) drift_levels: Option<TimeSource<'a>>,
}

/// `f(t, x, v)` writes the values of a field of (t, x) at one node.
type TimeFn<'a> = Box<dyn Fn(f64, &[f64], &mut [f64]) + 'a>;

/// A field of (t, x): a function, or values at every time level and node (level-major; for a
/// drift d values per node).
pub(super) enum TimeSource<'a> {
    Function(TimeFn<'a>),
    Values(Vec<f64>),
}

impl std::fmt::Debug for TimeSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TimeSource::Function(_) => f.write_str("Function(..)"),
            TimeSource::Values(v) => write!(f, "Values({} entries)", v.len()),
        }
    }
}

impl TimeSource<'_> {
    /// The values at the times `times` on `grid`, `per_node` values per node.
    pub(super) fn sample(self, grid: &Grid, times: &[f64], per_node: usize) -> Vec<f64> {
        match self {
            TimeSource::Values(v) => v,
            TimeSource::Function(f) => {
                let d = grid.dim();
                let mut out = vec![0.0; times.len() * grid.len() * per_node];
                for (n, &t) in times.iter().enumerate() {
                    let level =
                        &mut out[n * grid.len() * per_node..(n + 1) * grid.len() * per_node];
                    for (i, v) in level.chunks_mut(per_node).enumerate() {
                        f(t, &grid.point(i)[..d], v);
                    }
                }
                out
            }
        }
    }
}

/// A vector field as a function of the coordinates: `f(x, b)` writes one value per axis.
pub(super) type VectorFn<'a> = dyn Fn(&[f64], &mut [f64]) + 'a;

/// A drift as a function of the coordinates (b_a(x) for each axis a), or d values per node.
pub(super) enum DriftSource<'a> {
    Function(Box<VectorFn<'a>>),
    Values(Vec<f64>),
}

impl std::fmt::Debug for DriftSource<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DriftSource::Function(_) => f.write_str("Function(..)"),
            DriftSource::Values(v) => write!(f, "Values({} entries)", v.len()),
        }
    }
}

impl DriftSource<'_> {
    pub(super) fn sample(self, grid: &Grid) -> Vec<f64> {
        let d = grid.dim();
        match self {
            DriftSource::Values(v) => v,
            DriftSource::Function(f) => {
                let mut out = vec![0.0; grid.len() * d];
                for (i, b) in out.chunks_mut(d).enumerate() {
                    f(&grid.point(i)[..d], b);
                }
                out
            }
        }
    }
}

impl<'a> PopulationBuilder<'a> {
    /// Restricts the population to a region (a [`super::region::Shape`] or a node mask); the
    /// problem's obstacles are removed from it too.
    pub fn region(mut self, region: impl Into<Region>) -> Self {
        self.region = Some(region.into());
        self
    }

    /// The mass M_k > 0 (default 1): m0^k is normalised to Σ_i m0_i h^d = M_k.
    pub fn mass(mut self, mass: f64) -> Self {
        self.mass = mass;
        self
    }

    /// A drift b(x): `f(x, b)` writes b_a(x) for each axis a (the agents move with α + b).
    pub fn drift(mut self, f: impl Fn(&[f64], &mut [f64]) + 'a) -> Self {
        self.drift = Some(DriftSource::Function(Box::new(f)));
        self
    }

    /// A drift as d values per node, node-major (b_a(x_i) at `i·d + a`).
    pub fn drift_values(mut self, v: Vec<f64>) -> Self {
        self.drift = Some(DriftSource::Values(v));
        self
    }

    /// A time-dependent potential V(t, x) (replaces [`PopulationBuilder::potential`]).
    pub fn potential_t(mut self, f: impl Fn(f64, &[f64]) -> f64 + 'a) -> Self {
        self.potential_levels = Some(TimeSource::Function(Box::new(move |t, x, v| {
            v[0] = f(t, x)
        })));
        self
    }

    /// V(t_n, x_i) at every level n = 0..=Nt and node i, level-major.
    pub fn potential_levels_values(mut self, v: Vec<f64>) -> Self {
        self.potential_levels = Some(TimeSource::Values(v));
        self
    }

    /// A time-dependent drift: `f(t, x, b)` writes b_a(t, x) for each axis a (replaces
    /// [`PopulationBuilder::drift`]).
    pub fn drift_t(mut self, f: impl Fn(f64, &[f64], &mut [f64]) + 'a) -> Self {
        self.drift_levels = Some(TimeSource::Function(Box::new(f)));
        self
    }

    /// b(t_n, x_i) at every level n = 0..=Nt, level-major, d values per node.
    pub fn drift_levels_values(mut self, v: Vec<f64>) -> Self {
        self.drift_levels = Some(TimeSource::Values(v));
        self
    }

    /// The discount rate ρ ≥ 0 (default 0): the HJB gains ρu.
    pub fn discount(mut self, rho: f64) -> Self {
        self.discount = rho;
        self
    }

    /// The exit cost ψ^k(x) paid on leaving through an exit of the problem (default 0).
    pub fn exit_cost(mut self, f: impl Fn(&[f64]) -> f64 + 'a) -> Self {
        self.exit_cost = Source::Function(Box::new(f));
        self
    }

    /// ψ^k as one value per grid node.
    pub fn exit_cost_values(mut self, v: Vec<f64>) -> Self {
        self.exit_cost = Source::Values(v);
        self
    }

    /// V^k as a function of the coordinates.
    pub fn potential(mut self, f: impl Fn(&[f64]) -> f64 + 'a) -> Self {
        self.potential = Source::Function(Box::new(f));
        self
    }

    /// g^k as a function of the coordinates.
    pub fn terminal(mut self, f: impl Fn(&[f64]) -> f64 + 'a) -> Self {
        self.terminal = Source::Function(Box::new(f));
        self
    }

    /// m0^k (unnormalised) as a function of the coordinates.
    pub fn initial(mut self, f: impl Fn(&[f64]) -> f64 + 'a) -> Self {
        self.initial = Source::Function(Box::new(f));
        self
    }

    /// V^k as one value per grid node.
    pub fn potential_values(mut self, v: Vec<f64>) -> Self {
        self.potential = Source::Values(v);
        self
    }

    /// g^k as one value per grid node.
    pub fn terminal_values(mut self, v: Vec<f64>) -> Self {
        self.terminal = Source::Values(v);
        self
    }

    /// m0^k (unnormalised) as one value per grid node.
    pub fn initial_values(mut self, v: Vec<f64>) -> Self {
        self.initial = Source::Values(v);
        self
    }
}
