//! The K-population mean field game of MATH.md §1, before discretisation choices of the solver:
//! the grids, the populations (σ_k, H^k, V^k, g^k, m0^k) and the coupling f^k(x, m^1..m^K).
//!
//! [`Problem::new`] checks every field and normalises each m0^k to unit discrete mass; it is the
//! only way to build a `Problem`, so a `Problem` value is always valid.

pub mod coupling;
pub mod hamiltonian;
pub mod population;

pub use coupling::Coupling;
pub use hamiltonian::Hamiltonian;
pub use population::Population;

use crate::error::{Error, Result};
use crate::grid::{Grid, TimeGrid};

/// A validated multi-population MFG on a space-time grid.
#[derive(Debug)]
pub struct Problem {
    pub grid: Grid,
    pub time: TimeGrid,
    pub populations: Vec<Population>,
    pub coupling: Box<dyn Coupling>,
}

impl Problem {
    /// Validates the input and normalises every initial density to Σ_i m0_i h^d = 1.
    ///
    /// Negative, non-finite or zero-mass initial densities are errors, never silently fixed.
    pub fn new(
        grid: Grid,
        time: TimeGrid,
        mut populations: Vec<Population>,
        coupling: Box<dyn Coupling>,
    ) -> Result<Self> {
        for (k, p) in populations.iter_mut().enumerate() {
            check_field(&grid, &p.initial, &format!("population[{k}].initial"))?;
            if let Some((i, v)) = p.initial.iter().enumerate().find(|(_, v)| **v < 0.0) {
                return Err(Error::invalid(
                    format!("population[{k}].initial"),
                    format!("negative density {v} at {}", at(&grid, i)),
                ));
            }
            let mass = grid.integrate(&p.initial);
            if !(mass > 0.0 && mass.is_finite()) {
                return Err(Error::invalid(
                    format!("population[{k}].initial"),
                    format!("the density has mass {mass}: it must integrate to a positive number"),
                ));
            }
            p.initial.iter_mut().for_each(|v| *v /= mass);
        }
        let problem = Problem {
            grid,
            time,
            populations,
            coupling,
        };
        problem.validate()?;
        Ok(problem)
    }

    /// Number of populations K.
    pub fn k(&self) -> usize {
        self.populations.len()
    }

    /// Checks every field; the message names the offending one.
    pub fn validate(&self) -> Result<()> {
        if self.populations.is_empty() {
            return Err(Error::invalid(
                "population",
                "at least one population is needed",
            ));
        }
        let mut names = std::collections::HashSet::new();
        for (k, p) in self.populations.iter().enumerate() {
            let field = format!("population[{k}]");
            if p.name.is_empty() || p.name.contains('/') || p.name.contains('.') {
                return Err(Error::invalid(
                    format!("{field}.name"),
                    format!("{:?}: names must be non-empty, without '/' or '.'", p.name),
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
            check_field(&self.grid, &p.initial, &format!("{field}.initial"))?;
            let mass = self.grid.integrate(&p.initial);
            if (mass - 1.0).abs() > 1e-12 || p.initial.iter().any(|v| *v < 0.0) {
                return Err(Error::invalid(
                    format!("{field}.initial"),
                    format!("must be a density of unit mass (mass {mass})"),
                ));
            }
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
