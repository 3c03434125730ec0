//! The K-population mean field game of docs/math.md §1, before discretisation choices of the
//! solver: the grids, the populations (σ_k, H^k, V^k, g^k, m0^k) and the coupling
//! f^k(x, m^1..m^K).
//!
//! A [`Problem`] is built by a [`ProblemBuilder`], which owns the grid, samples every field on
//! it, checks every value and normalises each m0^k to unit discrete mass; its fields are private,
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

pub mod coupling;
pub mod hamiltonian;
pub mod population;

pub use coupling::{Coupling, NoCoupling};
pub use hamiltonian::Hamiltonian;
pub use population::{Population, PopulationBuilder};

use crate::error::{Error, Result};
use crate::grid::{Grid, TimeGrid};

/// The time structure of a problem. Only the finite horizon [0, T] on a [`TimeGrid`] exists so
/// far; discounted and stationary (ergodic) problems are to be added as further kinds.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Horizon {
    /// Finite horizon T with terminal cost g^k, on the problem's time grid.
    Finite,
}

/// A validated multi-population MFG on a space-time grid.
#[derive(Debug)]
pub struct Problem {
    grid: Grid,
    time: TimeGrid,
    horizon: Horizon,
    populations: Vec<Population>,
    coupling: Box<dyn Coupling>,
}

/// Builds a [`Problem`]: populations are added in order (population k is the k-th added), the
/// coupling defaults to [`NoCoupling`].
#[derive(Debug)]
pub struct ProblemBuilder<'a> {
    grid: Grid,
    time: TimeGrid,
    populations: Vec<PopulationBuilder<'a>>,
    coupling: Box<dyn Coupling>,
}

impl<'a> ProblemBuilder<'a> {
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
    /// density to Σ_i m0_i h^d = 1. Negative, non-finite or zero-mass initial densities are
    /// errors, never silently fixed.
    pub fn build(self) -> Result<Problem> {
        let grid = self.grid;
        let mut populations = Vec::with_capacity(self.populations.len());
        for (k, p) in self.populations.into_iter().enumerate() {
            let mut initial = p.initial.sample(&grid);
            check_field(&grid, &initial, &format!("population[{k}].initial"))?;
            if let Some((i, v)) = initial.iter().enumerate().find(|(_, v)| **v < 0.0) {
                return Err(Error::invalid(
                    format!("population[{k}].initial"),
                    format!("negative density {v} at {}", at(&grid, i)),
                ));
            }
            let mass = grid.integrate(&initial);
            if !(mass > 0.0 && mass.is_finite()) {
                return Err(Error::invalid(
                    format!("population[{k}].initial"),
                    format!("the density has mass {mass}: it must integrate to a positive number"),
                ));
            }
            initial.iter_mut().for_each(|v| *v /= mass);
            populations.push(Population {
                name: p.name,
                sigma: p.sigma,
                hamiltonian: p.hamiltonian,
                potential: p.potential.sample(&grid),
                terminal: p.terminal.sample(&grid),
                initial,
            });
        }
        let problem = Problem {
            grid,
            time: self.time,
            horizon: Horizon::Finite,
            populations,
            coupling: self.coupling,
        };
        problem.validate()?;
        Ok(problem)
    }
}

impl Problem {
    /// A builder on `grid` and `time` with no population yet and no coupling.
    pub fn builder<'a>(grid: Grid, time: TimeGrid) -> ProblemBuilder<'a> {
        ProblemBuilder {
            grid,
            time,
            populations: Vec::new(),
            coupling: Box::new(NoCoupling),
        }
    }

    /// The spatial grid.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The time grid.
    pub fn time(&self) -> &TimeGrid {
        &self.time
    }

    /// The time structure.
    pub fn horizon(&self) -> Horizon {
        self.horizon
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
            p.hamiltonian
                .validate(self.grid.dim(), &format!("{field}.hamiltonian"))?;
            check_field(&self.grid, &p.potential, &format!("{field}.potential"))?;
            check_field(&self.grid, &p.terminal, &format!("{field}.terminal"))?;
        }
        self.coupling.validate(self.k())
    }

    /// One-paragraph human summary.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "grid {}; T = {}, {} steps; coupling {}",
            self.grid.describe(),
            self.time.horizon,
            self.time.nt,
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
