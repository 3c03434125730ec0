//! The K-population mean field game of docs/math.md §1, before discretisation choices of the
//! solver: the grids, the populations (σ_k, H^k, V^k, g^k, m0^k) and the coupling
//! f^k(x, m^1..m^K).
//!
//! A [`Problem`] is built by a [`ProblemBuilder`], which owns the grid, samples every field on
//! it, checks every value and normalises each m0^k to the population's mass (1 unless set with
//! [`PopulationBuilder::mass`]); its fields are private,
//! so a `Problem` value is always valid.
//!
//! ```
//! # fn main() -> mfg::Result<()> {
//! use mfg::problem::{coupling::Linear, hamiltonian::Quadratic};
//! use mfg::{Boundary, Grid, Population, Problem, TimeGrid};
//!
//! let grid = Grid::new_1d(-1.0, 1.0, 51, Boundary::Reflecting)?;
//! let problem = Problem::builder(grid, TimeGrid::new(0.5, 20)?)
//!     .population(
//!         Population::builder("walkers", 0.3, Quadratic::new(1.0))
//!             .initial(|x| (-(x[0] + 0.5).powi(2) / 0.02).exp())
//!             .terminal(|x| (x[0] - 0.5).powi(2)),
//!     )
//!     .coupling(Linear::from_rows(&[vec![1.0]]))
//!     .build()?;
//! assert_eq!(problem.k(), 1);
//! assert!((problem.grid().integrate(problem.population(0).initial()) - 1.0).abs() < 1e-12);
//! # Ok(())
//! # }
//! ```

pub mod congestion;
pub mod coupling;
pub mod exit;
pub mod hamiltonian;
pub mod monotonicity;
pub mod population;
pub mod region;
pub mod segregation;

pub use congestion::Congestion;
pub use coupling::{Coupling, NoCoupling};
pub use exit::{Exit, Side};
pub use hamiltonian::Hamiltonian;
pub use monotonicity::Monotonicity;
pub use population::{Population, PopulationBuilder};
pub use region::{Region, Shape};
pub use segregation::Segregation;

use crate::error::{Error, Result};
use crate::grid::{Grid, TimeGrid};

/// The time structure of a problem. Discounting is per population (ρ_k,
/// [`PopulationBuilder::discount`]) in both kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Horizon {
    /// Finite horizon T with terminal cost g^k, on the problem's time grid; solved by
    /// [`crate::solve::solve`].
    Finite,
    /// No time: the stationary system of docs/geometry.md ("Stationary problems"), ergodic
    /// (with the constant λ^k) for ρ_k = 0 and discounted for ρ_k > 0; solved by
    /// [`crate::solve::stationary::solve_stationary`]. Terminal costs are not part of it, and
    /// [`Problem::time`] is a nominal one-step grid that no stationary computation reads.
    Stationary,
}

impl Horizon {
    /// `finite` or `stationary`, as configurations and result files spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Horizon::Finite => "finite",
            Horizon::Stationary => "stationary",
        }
    }
}

/// A validated multi-population MFG on a space-time grid.
#[derive(Debug)]
pub struct Problem {
    grid: Grid,
    time: TimeGrid,
    horizon: Horizon,
    populations: Vec<Population>,
    coupling: Box<dyn Coupling>,
    /// Nodes removed for every population.
    obstacles: Vec<bool>,
    /// Exit nodes (absorbing, u = exit cost) of every population that lives there.
    exits: Vec<bool>,
}

/// Builds a [`Problem`]: populations are added in order (population k is the k-th added), the
/// coupling defaults to [`NoCoupling`].
#[derive(Debug)]
pub struct ProblemBuilder<'a> {
    grid: Grid,
    time: TimeGrid,
    horizon: Horizon,
    populations: Vec<PopulationBuilder<'a>>,
    coupling: Box<dyn Coupling>,
    obstacles: Vec<Region>,
    exits: Vec<Exit>,
}

impl<'a> ProblemBuilder<'a> {
    /// The time grid the problem is built on (nominal for a stationary one).
    pub fn time(&self) -> &TimeGrid {
        &self.time
    }

    /// Adds an obstacle: its nodes are removed from every population's state space.
    pub fn obstacle(mut self, region: impl Into<Region>) -> Self {
        self.obstacles.push(region.into());
        self
    }

    /// Adds an exit: on its nodes every population living there leaves the domain, at its exit
    /// cost ψ^k ([`PopulationBuilder::exit_cost`]).
    pub fn exit(mut self, exit: Exit) -> Self {
        self.exits.push(exit);
        self
    }

    /// Adds a population.
    pub fn population(mut self, population: PopulationBuilder<'a>) -> Self {
        self.populations.push(population);
        self
    }

    /// Sets the coupling f^k(x, m^1..m^K).
    pub fn coupling(mut self, coupling: impl Coupling + 'static) -> Self {
        self.coupling = Box::new(coupling);
        self
    }

    /// Sets an already boxed coupling (e.g. one chosen at run time).
    pub fn boxed_coupling(mut self, coupling: Box<dyn Coupling>) -> Self {
        self.coupling = coupling;
        self
    }

    /// Samples every field on the grid, validates everything and normalises every initial
    /// density to Σ_i m0_i h^d = M_k, the population's mass. Negative, non-finite or zero-mass
    /// initial densities are errors, never silently fixed; so is a population of mass 0 (it
    /// would stay empty: no transition between populations can fill it).
    pub fn build(self) -> Result<Problem> {
        let grid = self.grid;
        let mut obstacles = vec![false; grid.len()];
        for (j, o) in self.obstacles.iter().enumerate() {
            let mask = o.mask(&grid, &format!("obstacles[{j}]"))?;
            obstacles.iter_mut().zip(mask).for_each(|(a, b)| *a |= b);
        }
        let mut exits = vec![false; grid.len()];
        for (j, e) in self.exits.iter().enumerate() {
            let mask = e.mask(&grid, &format!("exit[{j}]"))?;
            exits.iter_mut().zip(mask).for_each(|(a, b)| *a |= b);
        }
        if let Some(i) = (0..grid.len()).find(|&i| exits[i] && obstacles[i]) {
            return Err(Error::invalid(
                "exit",
                format!("an exit and an obstacle share the node at {}", at(&grid, i)),
            ));
        }
        let mut populations = Vec::with_capacity(self.populations.len());
        for (k, p) in self.populations.into_iter().enumerate() {
            check_mass(k, &p.name, p.mass)?;
            let field = format!("population[{k}]");
            let mut live = match &p.region {
                Some(r) => r.mask(&grid, &format!("{field}.region"))?,
                None => vec![true; grid.len()],
            };
            live.iter_mut().zip(&obstacles).for_each(|(l, o)| *l &= !o);
            if !live.contains(&true) {
                return Err(Error::invalid(
                    format!("{field}.region"),
                    format!(
                        "the region of population {:?} selects no node of the grid (after \
                         removing the obstacles)",
                        p.name
                    ),
                ));
            }
            // A stationary problem has no initial density: the uniform one on the state space
            // stands in for it (the stationary solver starts from it).
            let mut initial = match self.horizon {
                Horizon::Stationary => live.iter().map(|&l| f64::from(u8::from(l))).collect(),
                Horizon::Finite => p.initial.sample(&grid),
            };
            check_field(&grid, &initial, &format!("{field}.initial"))?;
            if let Some((i, v)) = initial.iter().enumerate().find(|(_, v)| **v < 0.0) {
                return Err(Error::invalid(
                    format!("{field}.initial"),
                    format!("negative density {v} at {}", at(&grid, i)),
                ));
            }
            if let Some(i) = (0..grid.len()).find(|&i| !live[i] && initial[i] != 0.0) {
                let place = if obstacles[i] {
                    "inside an obstacle"
                } else {
                    "outside the population's region"
                };
                return Err(Error::invalid(
                    format!("{field}.initial"),
                    format!(
                        "density {} at {}, {place}: the initial density must be 0 on removed \
                         nodes (e.g. write it with if(…))",
                        initial[i],
                        at(&grid, i)
                    ),
                ));
            }
            let exit: Vec<bool> = live.iter().zip(&exits).map(|(l, e)| *l && *e).collect();
            // Agents that start on an exit have left at t = 0: m0 counts those inside only.
            initial.iter_mut().zip(&exit).for_each(|(v, e)| {
                if *e {
                    *v = 0.0
                }
            });
            let mass = grid.integrate(&initial);
            if !(mass > 0.0 && mass.is_finite()) {
                return Err(Error::invalid(
                    format!("{field}.initial"),
                    format!("the density has mass {mass}: it must integrate to a positive number"),
                ));
            }
            let scale = p.mass / mass;
            initial.iter_mut().for_each(|v| *v *= scale);
            // Removed nodes hold u = 0: their costs are never seen, so they are stored as 0.
            let on_live = |mut v: Vec<f64>| {
                v.iter_mut().zip(&live).for_each(|(x, l)| {
                    if !l {
                        *x = 0.0
                    }
                });
                v
            };
            let mut potential = p.potential.sample(&grid);
            let mut terminal = p.terminal.sample(&grid);
            check_field(&grid, &potential, &format!("{field}.potential"))?;
            check_field(&grid, &terminal, &format!("{field}.terminal"))?;
            let exit_cost = on_live(p.exit_cost.sample(&grid));
            check_field(&grid, &exit_cost, &format!("{field}.exit_cost"))?;
            // An exit node is absorbing with no running cost and u = ψ from the terminal level
            // on, so the backward sweep keeps the Dirichlet value at every level.
            for (i, _) in exit.iter().enumerate().filter(|(_, e)| **e) {
                potential[i] = 0.0;
                terminal[i] = exit_cost[i];
            }
            let active: Vec<bool> = live.iter().zip(&exit).map(|(l, e)| *l && !e).collect();
            let has_exits = exit.contains(&true);
            let masked = live.contains(&false);
            let times = self.time.levels();
            let potential_levels = match p.potential_levels {
                Some(src) => {
                    let mut v = src.sample(&grid, &times, 1);
                    check_levels(&grid, &v, times.len(), 1, &format!("{field}.potential"))?;
                    // Like V itself: no running cost where no agent is in play.
                    for level in v.chunks_mut(grid.len()) {
                        level.iter_mut().zip(&active).for_each(|(x, a)| {
                            if !a {
                                *x = 0.0
                            }
                        });
                    }
                    potential.copy_from_slice(&v[..grid.len()]);
                    Some(v)
                }
                None => None,
            };
            let drift_levels = match p.drift_levels {
                Some(src) => {
                    let d = grid.dim();
                    let v = src.sample(&grid, &times, d);
                    check_levels(&grid, &v, times.len(), d, &format!("{field}.drift"))?;
                    Some(v)
                }
                None => None,
            };
            let drift = match (&drift_levels, p.drift) {
                (Some(v), _) => Some(v[..grid.len() * grid.dim()].to_vec()),
                (None, Some(src)) => Some(check_drift(&grid, src.sample(&grid), &field)?),
                (None, None) => None,
            };
            populations.push(Population {
                name: p.name,
                sigma: p.sigma,
                hamiltonian: p.hamiltonian,
                potential: on_live(potential),
                terminal: on_live(terminal),
                initial,
                mass: p.mass,
                space: grid.restricted(&live),
                live,
                masked,
                drift,
                exit,
                exit_cost,
                active,
                has_exits,
                discount: p.discount,
                potential_levels,
                drift_levels,
            });
        }
        let problem = Problem {
            grid,
            time: self.time,
            horizon: self.horizon,
            populations,
            coupling: self.coupling,
            obstacles,
            exits,
        };
        problem.validate()?;
        if problem.horizon == Horizon::Stationary {
            problem.check_stationary()?;
        }
        Ok(problem)
    }
}

impl Problem {
    /// A builder on `grid` and `time` with no population yet and no coupling.
    pub fn builder<'a>(grid: Grid, time: TimeGrid) -> ProblemBuilder<'a> {
        ProblemBuilder {
            grid,
            time,
            horizon: Horizon::Finite,
            populations: Vec::new(),
            coupling: Box::new(NoCoupling),
            obstacles: Vec::new(),
            exits: Vec::new(),
        }
    }

    /// A builder of a stationary problem ([`Horizon::Stationary`]) on `grid`: the same
    /// populations, coupling, regions and obstacles as a finite one, without time (the
    /// populations' terminal costs are ignored, and their initial densities replaced by the
    /// uniform density of their mass on their state spaces).
    pub fn stationary_builder<'a>(grid: Grid) -> ProblemBuilder<'a> {
        let nominal = TimeGrid::new(1.0, 1).expect("T = 1 with one step is a valid time grid");
        let mut b = Problem::builder(grid, nominal);
        b.horizon = Horizon::Stationary;
        b
    }

    /// The spatial grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The time grid (a nominal one for a [`Horizon::Stationary`] problem).
    pub fn time(&self) -> &TimeGrid {
        &self.time
    }

    /// The time structure.
    pub fn horizon(&self) -> Horizon {
        self.horizon
    }

    /// Refuses, naming the field, what the stationary system cannot express: exits (all the
    /// mass would leave, no stationary density exists) and costs or drifts that depend on t.
    /// Checked when a stationary problem is built, and by the stationary solver for a finite
    /// problem whose stationary version it is asked for.
    pub fn check_stationary(&self) -> Result<()> {
        if self.has_exits() {
            return Err(Error::invalid(
                "exit",
                "a stationary problem with exits has no stationary density (all the mass \
                 leaves); solve it on a finite horizon",
            ));
        }
        for (k, p) in self.populations.iter().enumerate() {
            if p.is_time_dependent() {
                return Err(Error::invalid(
                    format!("population[{k}].potential"),
                    "a stationary problem needs a potential and a drift that do not depend on t",
                ));
            }
        }
        Ok(())
    }

    /// The population names, in order.
    pub fn names(&self) -> Vec<String> {
        self.populations.iter().map(|p| p.name.clone()).collect()
    }

    /// Each population's state space ([`Population::live`]), in order.
    pub fn live_masks(&self) -> Vec<Vec<bool>> {
        self.populations.iter().map(|p| p.live().to_vec()).collect()
    }

    /// The exit nodes of the domain (true: exit), whichever population lives there.
    pub fn exits(&self) -> &[bool] {
        &self.exits
    }

    /// Whether the domain has an exit.
    pub fn has_exits(&self) -> bool {
        self.exits.contains(&true)
    }

    /// The nodes removed by obstacles, for every population (true: removed).
    pub fn obstacles(&self) -> &[bool] {
        &self.obstacles
    }

    /// The populations, in order.
    pub fn populations(&self) -> &[Population] {
        &self.populations
    }

    /// Population k.
    pub fn population(&self, k: usize) -> &Population {
        &self.populations[k]
    }

    /// The coupling f^k(x, m).
    pub fn coupling(&self) -> &dyn Coupling {
        self.coupling.as_ref()
    }

    /// Number of populations K.
    pub fn k(&self) -> usize {
        self.populations.len()
    }

    /// Checks every field; the message names the offending one.
    fn validate(&self) -> Result<()> {
        if self.populations.is_empty() {
            return Err(Error::invalid(
                "population",
                "at least one population is needed",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (k, p) in self.populations.iter().enumerate() {
            let field = format!("population[{k}]");
            // The name becomes an HDF5 group name and a file name of the pictures: no path
            // separators, no NUL (HDF5 strings are C strings), no control characters.
            if p.name.is_empty()
                || p.name.contains(['/', '.', '\\'])
                || p.name.chars().any(char::is_control)
            {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!(
                        "{:?}: names must be non-empty, without '/', '.', '\\' or control \
                         characters (such as NUL)",
                        p.name
                    ),
                ));
            }
            if !names.insert(p.name.as_str()) {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("{:?} is used by two populations", p.name),
                ));
            }
            if !(p.sigma.is_finite() && p.sigma >= 0.0) {
                return Err(Error::invalid(
                    format!("{field}.sigma"),
                    format!("{}: the diffusion must be a finite number ≥ 0", p.sigma),
                ));
            }
            if !(p.discount.is_finite() && p.discount >= 0.0) {
                return Err(Error::invalid(
                    format!("{field}.discount"),
                    format!(
                        "{}: the discount rate must be a finite number ≥ 0",
                        p.discount
                    ),
                ));
            }
            p.hamiltonian
                .validate(self.grid.dim(), &format!("{field}.hamiltonian"))?;
            p.hamiltonian
                .check_populations(self.k(), &format!("{field}.hamiltonian"))?;
            check_field(&self.grid, &p.potential, &format!("{field}.potential"))?;
            check_field(&self.grid, &p.terminal, &format!("{field}.terminal"))?;
        }
        self.coupling.validate(self.k())
    }

    /// One-paragraph human summary.
    pub fn describe(&self) -> String {
        let time = match self.horizon {
            Horizon::Stationary => "stationary".to_string(),
            Horizon::Finite => format!("T = {}, {} steps", self.time.horizon, self.time.nt),
        };
        let mut s = format!(
            "grid {}; {time}; coupling {}",
            self.grid.describe(),
            self.coupling.describe()
        );
        for p in &self.populations {
            s.push_str(&format!(
                "\n  {}: sigma = {}, H = {}",
                p.name,
                p.sigma,
                p.hamiltonian.describe()
            ));
        }
        s
    }
}

/// Checks a field given at every time level: `levels` × nodes × `per_node` finite values.
fn check_levels(grid: &Grid, v: &[f64], levels: usize, per_node: usize, field: &str) -> Result<()> {
    let want = levels * grid.len() * per_node;
    if v.len() != want {
        return Err(Error::invalid(
            field,
            format!(
                "{} values given over time: {levels} levels × {} nodes × {per_node} are needed",
                v.len(),
                grid.len()
            ),
        ));
    }
    if let Some(j) = v.iter().position(|x| !x.is_finite()) {
        let (n, i) = (j / (grid.len() * per_node), (j / per_node) % grid.len());
        return Err(Error::invalid(
            field,
            format!(
                "{} at {}, time level {n}: must be finite",
                v[j],
                at(grid, i)
            ),
        ));
    }
    Ok(())
}

fn check_drift(grid: &Grid, b: Vec<f64>, field: &str) -> Result<Vec<f64>> {
    let d = grid.dim();
    if b.len() != grid.len() * d {
        return Err(Error::invalid(
            format!("{field}.drift"),
            format!("{} values for {} nodes × {d} axes", b.len(), grid.len()),
        ));
    }
    if let Some((j, v)) = b.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(
            format!("{field}.drift"),
            format!(
                "b[{}] = {v} at {}: the drift must be finite",
                j % d,
                at(grid, j / d)
            ),
        ));
    }
    Ok(b)
}

fn check_mass(k: usize, name: &str, mass: f64) -> Result<()> {
    if mass == 0.0 {
        return Err(Error::invalid(
            format!("population[{k}].mass"),
            format!(
                "population {name:?} starts empty (mass 0) and would stay empty: no transition \
                 between populations can fill it"
            ),
        ));
    }
    if !(mass > 0.0 && mass.is_finite()) {
        return Err(Error::invalid(
            format!("population[{k}].mass"),
            format!("{mass}: the mass of population {name:?} must be a finite number > 0"),
        ));
    }
    Ok(())
}

fn at(grid: &Grid, i: usize) -> String {
    let p = grid.point(i);
    if grid.dim() == 1 {
        format!("x = {:.6}", p[0])
    } else {
        format!("(x, y) = ({:.6}, {:.6})", p[0], p[1])
    }
}

fn check_field(grid: &Grid, values: &[f64], field: &str) -> Result<()> {
    if values.len() != grid.len() {
        return Err(Error::invalid(
            field,
            format!("{} values for a grid of {} nodes", values.len(), grid.len()),
        ));
    }
    if let Some((i, v)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(Error::invalid(field, format!("{v} at {}", at(grid, i))));
    }
    Ok(())
}
