//! One agent type k: its diffusion σ_k (ν_k = σ_k²/2), Hamiltonian H^k, running potential
//! V^k(x), terminal cost g^k(x) and initial density m0^k, all sampled on the grid nodes.

use super::hamiltonian::Hamiltonian;
use crate::grid::Grid;

/// A population (agent type). Field values live on the grid nodes (x fastest).
#[derive(Debug)]
pub struct Population {
    /// Name, used for output groups and messages.
    pub name: String,
    /// Diffusion σ ≥ 0; the viscosity is ν = σ²/2.
    pub sigma: f64,
    pub hamiltonian: Box<dyn Hamiltonian>,
    /// Running potential V^k(x_i), added to the coupling cost f^k.
    pub potential: Vec<f64>,
    /// Terminal cost g^k(x_i).
    pub terminal: Vec<f64>,
    /// Initial density m0^k(x_i); [`super::Problem::new`] normalises it to Σ m0_i h^d = 1.
    pub initial: Vec<f64>,
}

impl Population {
    /// A population on `grid` with zero potential and terminal cost and a uniform initial
    /// density; set the fields with the `with_*` builders.
    pub fn new(
        grid: &Grid,
        name: impl Into<String>,
        sigma: f64,
        hamiltonian: impl Hamiltonian + 'static,
    ) -> Self {
        Population {
            name: name.into(),
            sigma,
            hamiltonian: Box::new(hamiltonian),
            potential: vec![0.0; grid.len()],
            terminal: vec![0.0; grid.len()],
            initial: vec![1.0; grid.len()],
        }
    }

    /// Viscosity ν = σ²/2.
    pub fn nu(&self) -> f64 {
        0.5 * self.sigma * self.sigma
    }

    /// Sets V^k from a function of the coordinates.
    pub fn with_potential(mut self, grid: &Grid, f: impl Fn(&[f64]) -> f64) -> Self {
        self.potential = grid.sample(f);
        self
    }

    /// Sets g^k from a function of the coordinates.
    pub fn with_terminal(mut self, grid: &Grid, f: impl Fn(&[f64]) -> f64) -> Self {
        self.terminal = grid.sample(f);
        self
    }

    /// Sets m0^k (unnormalised) from a function of the coordinates.
    pub fn with_initial(mut self, grid: &Grid, f: impl Fn(&[f64]) -> f64) -> Self {
        self.initial = grid.sample(f);
        self
    }
}
