//! Remarks on a configuration that are not errors but that a user should read before trusting
//! a run: parameters that have no effect (the amplitude of an initial density, which is
//! normalised to unit mass), data that break a periodic axis (a potential V^k or terminal cost
//! g^k that jumps across the periodic boundary, so the problem is not the periodic one the user
//! meant), and first-order populations (σ = 0), on which the best-response iteration does not
//! contract.

use super::fields::{FieldSpec, Profile};
use super::Spec;
use crate::grid::{Boundary, Grid};
use crate::problem::Problem;

/// A jump across a periodic boundary larger than this many times the largest jump between
/// neighbours inside the domain is reported.
const JUMP_FACTOR: f64 = 3.0;

/// The remarks on `spec`, whose problem `problem` was built from it.
pub(super) fn field_notes(spec: &Spec, problem: &Problem) -> Vec<String> {
    let mut out = Vec::new();
    for (k, (ps, p)) in spec
        .populations
        .iter()
        .zip(problem.populations())
        .enumerate()
    {
        let field = format!("population[{k}]");
        let stationary = problem.horizon() == crate::problem::Horizon::Stationary;
        if stationary && ps.initial.is_some() {
            out.push(format!(
                "{field}.initial is not used: a stationary problem has no initial density (its \
                 solution does not depend on one)"
            ));
        }
        if stationary && ps.terminal != FieldSpec::zero() {
            out.push(format!(
                "{field}.terminal is not used: a stationary problem has no terminal cost"
            ));
        }
        if let Some(FieldSpec::Profile(Profile::Gaussian { amplitude, .. })) = &ps.initial {
            if *amplitude != 1.0 {
                out.push(format!(
                    "{field}.initial.amplitude = {amplitude} has no effect: initial densities \
                     are normalised to unit mass"
                ));
            }
        }
        let costs = [("potential", p.potential()), ("terminal", p.terminal())];
        for (name, values) in &costs[..if stationary { 1 } else { 2 }] {
            for axis in periodic_jumps(problem.grid(), values) {
                out.push(format!(
                    "{field}.{name} is not periodic along {axis}, which is a periodic axis: it \
                     jumps across the boundary by far more than between neighbouring nodes"
                ));
            }
        }
        if p.sigma() == 0.0 && problem.grid().dim() == 2 {
            out.push(format!(
                "{field}.sigma = 0: a first-order problem; Picard and Anderson iterations do not \
                 contract on it (expect a rate near 1 per iteration): use method = \"newton\" or \
                 a small diffusion"
            ));
        }
    }
    out
}

/// The periodic axes (`x`, `y`) across whose boundary `values` jump by more than
/// [`JUMP_FACTOR`] times their largest jump between interior neighbours along that axis.
fn periodic_jumps(grid: &Grid, values: &[f64]) -> Vec<&'static str> {
    let axes = grid.axes();
    let nx = axes[0].n;
    let ny = axes.get(1).map_or(1, |a| a.n);
    let at = |i: usize, j: usize| values[i + nx * j];
    let scale = values.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let mut out = Vec::new();
    for (a, axis) in axes.iter().enumerate() {
        if axis.boundary != Boundary::Periodic || axis.n < 3 {
            continue;
        }
        let (mut inner, mut across) = (0.0f64, 0.0f64);
        let (n_along, n_other) = if a == 0 { (nx, ny) } else { (ny, nx) };
        for o in 0..n_other {
            let v = |s: usize| if a == 0 { at(s, o) } else { at(o, s) };
            for s in 0..n_along - 1 {
                inner = inner.max((v(s + 1) - v(s)).abs());
            }
            across = across.max((v(0) - v(n_along - 1)).abs());
        }
        if across > JUMP_FACTOR * inner && across > 1e-12 * scale {
            out.push(["x", "y"][a]);
        }
    }
    out
}
