//! A policy from outside (a PyTorch or OpenSpiel run, a file written by hand), as read from a
//! policy file, checked against the problem and turned into a profile of its game:
//!
//! - tabular: π^k_t(a | s) shaped (N, S, A) with the velocity of every action, (A,) or (A, d);
//!   it fixes the population's action set and the game's steps N (Δt = T/N);
//! - feedback: α^k(t_ℓ, x) shaped (Nt+1, [Ny,] Nx, d) on the problem's time levels and grid,
//!   projected on the population's velocity set like the PDE's α* (per axis the two
//!   neighbouring velocities, so that the mean velocity is α where α lies in the set's range).
//!
//! Errors name the dataset and the offending entry, indexed as NumPy indexes the dataset.

use super::Settings;
use crate::error::{Error, Result};
use crate::field::Field;
use crate::problem::Problem;
use crate::rl::pde::{project_population, PdeGame, VelocitySet};
use crate::rl::policy::{Policy, PopPolicy};
use crate::rl::Game;

/// The contents of a policy file (see `docs/rl.md`).
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedFile {
    /// The file, for messages.
    pub path: String,
    /// The file's free-text `source` attribute, if any.
    pub source: Option<String>,
    /// The horizon T the policy was made for.
    pub horizon: f64,
    /// One policy per population.
    pub policies: Vec<ImportedPolicy>,
}

/// One population's policy.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportedPolicy {
    /// The population's name (its group in the file).
    pub population: String,
    /// Its policy, as stored.
    pub data: Imported,
}

/// A tabular or a feedback policy, as stored (row-major).
#[derive(Debug, Clone, PartialEq)]
pub enum Imported {
    /// π^k_t(a | s) with the velocity of every action.
    Tabular {
        /// e.g. `/policies/walkers/pi`.
        dataset: String,
        /// Its shape as stored, (N, S, A) when valid.
        shape: Vec<usize>,
        /// Its entries, row-major.
        pi: Vec<f64>,
        /// e.g. `/policies/walkers/velocities`.
        velocities_dataset: String,
        /// Its shape as stored, (A,) in 1D or (A, d).
        velocities_shape: Vec<usize>,
        /// Its entries, row-major.
        velocities: Vec<f64>,
    },
    /// α^k(t_ℓ, x) on the problem's time levels and grid.
    Feedback {
        /// e.g. `/policies/walkers/alpha`.
        dataset: String,
        /// Its shape as stored, `(Nt+1, [Ny,] Nx, d)` when valid.
        shape: Vec<usize>,
        /// Its entries, row-major.
        alpha: Vec<f64>,
    },
}

impl ImportedPolicy {
    /// Population `name`'s tabular policy `pi` with the velocity of each action, as a policy
    /// file stores it (d = `dim` components per velocity).
    pub fn tabular(name: &str, pi: &PopPolicy, velocities: &[[f64; 2]], dim: usize) -> Self {
        ImportedPolicy {
            population: name.to_string(),
            data: Imported::Tabular {
                dataset: format!("/policies/{name}/pi"),
                shape: vec![pi.horizon(), pi.states(), pi.actions()],
                pi: pi.as_slice().to_vec(),
                velocities_dataset: format!("/policies/{name}/velocities"),
                velocities_shape: vec![velocities.len(), dim],
                velocities: velocities.iter().flat_map(|v| v[..dim].to_vec()).collect(),
            },
        }
    }

    /// Population `name`'s feedback, one field per axis on `grid` (levels t_ℓ of the problem),
    /// as a policy file stores it: `(levels, [Ny,] Nx, d)`.
    pub fn feedback(name: &str, alpha: &[Field], grid: &crate::grid::Grid) -> Self {
        let d = alpha.len();
        let levels = alpha.first().map_or(0, Field::levels);
        let mut shape = vec![levels];
        shape.extend(grid.axes().iter().rev().map(|a| a.n));
        shape.push(d);
        let n = grid.len();
        let mut data = Vec::with_capacity(levels * n * d);
        for l in 0..levels {
            for i in 0..n {
                data.extend(alpha.iter().map(|f| f.level(l)[i]));
            }
        }
        ImportedPolicy {
            population: name.to_string(),
            data: Imported::Feedback {
                dataset: format!("/policies/{name}/alpha"),
                shape,
                alpha: data,
            },
        }
    }
}

impl Imported {
    fn dataset(&self) -> &str {
        match self {
            Imported::Tabular { dataset, .. } | Imported::Feedback { dataset, .. } => dataset,
        }
    }
}

/// An imported file checked against the problem: per population its policy and, for tabular
/// ones, its velocity set; the steps N the tabular policies fix.
#[derive(Debug)]
pub(super) struct Resolved<'f> {
    file: &'f ImportedFile,
    /// Index into `file.policies` per population.
    order: Vec<usize>,
    velocities: Vec<Option<VelocitySet>>,
    steps: Option<(usize, String)>,
}

/// The flat index `[a, b, …]` of entry `i` of a row-major array of `shape`.
fn index(shape: &[usize], mut i: usize) -> String {
    let mut idx = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        idx[d] = i % n.max(1);
        i /= n.max(1);
    }
    let parts: Vec<String> = idx.iter().map(|v| v.to_string()).collect();
    format!("[{}]", parts.join(", "))
}

fn shape_text(shape: &[usize]) -> String {
    let parts: Vec<String> = shape.iter().map(|v| v.to_string()).collect();
    format!("({})", parts.join(", "))
}

impl<'f> Resolved<'f> {
    pub(super) fn new(
        file: &'f ImportedFile,
        problem: &Problem,
        settings: &Settings,
    ) -> Result<Self> {
        let t = problem.time().horizon;
        if (file.horizon - t).abs() > 1e-9 * t || !file.horizon.is_finite() {
            return Err(Error::invalid(
                format!("{}: attribute horizon", file.path),
                format!(
                    "the policy was made for T = {}, the problem has T = {t}",
                    file.horizon
                ),
            ));
        }
        let names: Vec<&str> = problem.populations().iter().map(|p| p.name()).collect();
        if let Some(p) = file
            .policies
            .iter()
            .find(|p| !names.contains(&p.population.as_str()))
        {
            return Err(Error::invalid(
                format!("{}: {}", file.path, p.data.dataset()),
                format!(
                    "no population is called {:?} (populations: {})",
                    p.population,
                    names.join(", ")
                ),
            ));
        }
        let mut order = Vec::with_capacity(names.len());
        for name in &names {
            let found: Vec<usize> = (0..file.policies.len())
                .filter(|&i| file.policies[i].population == *name)
                .collect();
            match found.as_slice() {
                [i] => order.push(*i),
                [] => {
                    return Err(Error::invalid(
                        format!("{}: /policies/{name}", file.path),
                        format!(
                            "no policy for population {name:?}: give /policies/{name}/pi \
                             (tabular) or /policies/{name}/alpha (feedback)"
                        ),
                    ))
                }
                _ => {
                    return Err(Error::invalid(
                        format!("{}: /policies/{name}", file.path),
                        "both a tabular pi and a feedback alpha: give one of them",
                    ))
                }
            }
        }
        let (grid, dim) = (problem.grid(), problem.grid().dim());
        let mut velocities = vec![None; names.len()];
        let mut steps: Option<(usize, String)> = None;
        for (k, &i) in order.iter().enumerate() {
            let field = |d: &str| format!("{}: {d}", file.path);
            match &file.policies[i].data {
                Imported::Tabular {
                    dataset,
                    shape,
                    velocities_dataset,
                    velocities_shape,
                    velocities: v,
                    ..
                } => {
                    let a = velocities_shape.first().copied().unwrap_or(0);
                    let ok = match velocities_shape.as_slice() {
                        [_] => dim == 1,
                        [_, c] => *c == dim,
                        _ => false,
                    };
                    if !ok || a == 0 {
                        return Err(Error::invalid(
                            field(velocities_dataset),
                            format!(
                                "shape {}; the velocities of the actions are shaped (A,) in \
                                 1D or (A, d) with d = {dim} here",
                                shape_text(velocities_shape)
                            ),
                        ));
                    }
                    if let Some(j) = v.iter().position(|x| !x.is_finite()) {
                        return Err(Error::invalid(
                            field(velocities_dataset),
                            format!(
                                "entry {} is {}: velocities must be finite",
                                index(velocities_shape, j),
                                v[j]
                            ),
                        ));
                    }
                    let list: Vec<[f64; 2]> = v
                        .chunks(dim)
                        .map(|c| [c[0], if dim > 1 { c[1] } else { 0.0 }])
                        .collect();
                    let set = VelocitySet::list(list)?;
                    let want = (grid.len(), a);
                    match shape.as_slice() {
                        [n, s, aa] if (*s, *aa) == want && *n >= 1 => {
                            if let Some((m, from)) = &steps {
                                if m != n {
                                    return Err(Error::invalid(
                                        field(dataset),
                                        format!(
                                            "{n} steps, but {from} has {m}: the game has one \
                                             time step for every population"
                                        ),
                                    ));
                                }
                            }
                            steps = Some((*n, dataset.clone()));
                        }
                        _ => {
                            return Err(Error::invalid(
                                field(dataset),
                                format!(
                                    "shape {}; the game needs (N, S, A) = (steps, {}, {a}) \
                                     with S = the {} grid nodes{} and A = the {a} actions of \
                                     {velocities_dataset}",
                                    shape_text(shape),
                                    grid.len(),
                                    grid.len(),
                                    if dim == 2 { " (s = ix + Nx·iy)" } else { "" },
                                ),
                            ))
                        }
                    }
                    if let Some(given) = &settings.velocities[k] {
                        if given.velocities() != set.velocities() {
                            return Err(Error::invalid(
                                field(velocities_dataset),
                                format!(
                                    "the velocities of {} are fixed by the policy file; the \
                                     velocity set given for it differs (leave it out)",
                                    names[k]
                                ),
                            ));
                        }
                    }
                    velocities[k] = Some(set);
                }
                Imported::Feedback { dataset, shape, .. } => {
                    let mut want = vec![problem.time().nt + 1];
                    want.extend(grid.axes().iter().rev().map(|a| a.n));
                    want.push(dim);
                    if *shape != want {
                        return Err(Error::invalid(
                            field(dataset),
                            format!(
                                "shape {}; a feedback α is shaped (Nt+1, {}d) = {} on the \
                                 problem's time levels and grid",
                                shape_text(shape),
                                if dim == 2 { "Ny, Nx, " } else { "Nx, " },
                                shape_text(&want)
                            ),
                        ));
                    }
                }
            }
        }
        if let (Some((n, from)), Some(s)) = (&steps, settings.steps) {
            if *n != s {
                return Err(Error::invalid(
                    format!("{}: {from}", file.path),
                    format!("the policy has {n} steps, the settings ask for {s}"),
                ));
            }
        }
        Ok(Resolved {
            file,
            order,
            velocities,
            steps,
        })
    }

    /// The velocity set population k's tabular policy fixes.
    pub(super) fn velocities(&self, k: usize) -> Option<&VelocitySet> {
        self.velocities[k].as_ref()
    }

    /// The steps the tabular policies fix.
    pub(super) fn steps(&self) -> Option<usize> {
        self.steps.as_ref().map(|s| s.0)
    }

    /// A game error (a CFL violation) put in terms of the file.
    pub(super) fn explain_game_error(&self, e: Error) -> Error {
        match (&self.steps, e) {
            (Some((n, from)), Error::Invalid { field, reason }) => {
                // Name the dataset of the population the game refused, when it is tabular.
                let dataset = (0..self.order.len())
                    .find(|k| field == format!("rl.population[{k}]"))
                    .map(|k| &self.file.policies[self.order[k]].data)
                    .filter(|d| matches!(d, Imported::Tabular { .. }))
                    .map_or(from.as_str(), Imported::dataset);
                Error::invalid(
                    format!("{}: {dataset}", self.file.path),
                    format!("the policy's {n} steps do not make a valid game: {field}: {reason}"),
                )
            }
            (_, e) => e,
        }
    }

    /// The profile on `game`, and notes (feedback values outside a velocity set's range).
    pub(super) fn policy(&self, game: &PdeGame) -> Result<(Policy, Vec<String>)> {
        let grid = game.grid();
        let (dim, nodes) = (grid.dim(), grid.len());
        let mut notes = Vec::new();
        let mut pops = Vec::with_capacity(self.order.len());
        for (k, &i) in self.order.iter().enumerate() {
            let field = |d: &str| format!("{}: {d}", self.file.path);
            let shape = (game.horizon(), game.states(k), game.actions(k));
            match &self.file.policies[i].data {
                Imported::Tabular { dataset, pi, .. } => {
                    pops.push(PopPolicy::from_table(&field(dataset), shape, pi.clone())?);
                }
                Imported::Feedback {
                    dataset,
                    shape: s,
                    alpha,
                } => {
                    if let Some(j) = alpha.iter().position(|x| !x.is_finite()) {
                        return Err(Error::invalid(
                            field(dataset),
                            format!("entry {} is {}: α must be finite", index(s, j), alpha[j]),
                        ));
                    }
                    let levels = s[0];
                    let fields: Vec<Field> = (0..dim)
                        .map(|a| {
                            let v = alpha.iter().skip(a).step_by(dim).copied().collect();
                            Field::from_vec(nodes, v)
                        })
                        .collect();
                    if let Some(n) = outside(game.velocities(k), &fields, dim, levels) {
                        notes.push(format!(
                            "{dataset}: α lies outside the velocity range of {} at {n}; \
                             the policy plays the nearest velocity there",
                            self.file.policies[i].population
                        ));
                    }
                    let mut pop = PopPolicy::uniform(shape.1, shape.2, shape.0);
                    project_population(game, k, &fields, &mut pop);
                    pops.push(pop);
                }
            }
        }
        Ok((Policy { pops }, notes))
    }

    /// "policy file PATH (SOURCE): a tabular, b feedback".
    pub(super) fn describe(&self) -> String {
        let parts: Vec<String> = self
            .order
            .iter()
            .map(|&i| {
                let p = &self.file.policies[i];
                let kind = match p.data {
                    Imported::Tabular { .. } => "tabular π",
                    Imported::Feedback { .. } => "feedback α",
                };
                format!("{} {kind}", p.population)
            })
            .collect();
        let source = self
            .file
            .source
            .as_ref()
            .map_or(String::new(), |s| format!(" ({s})"));
        format!(
            "policy file {}{source}: {}",
            self.file.path,
            parts.join(", ")
        )
    }
}

/// How many (level, node) entries of the feedback, on the levels the game uses, lie outside the
/// per-axis range of `set`, as "N of M entries (largest |α| …)"; `None` when none does.
fn outside(set: &VelocitySet, alpha: &[Field], dim: usize, levels: usize) -> Option<String> {
    let v = set.velocities();
    let (mut count, mut worst, mut total) = (0usize, 0.0f64, 0usize);
    for (a, f) in alpha.iter().enumerate().take(dim) {
        let lo = v.iter().map(|w| w[a]).fold(f64::INFINITY, f64::min);
        let hi = v.iter().map(|w| w[a]).fold(f64::NEG_INFINITY, f64::max);
        for l in 0..levels.saturating_sub(1) {
            for &x in f.level(l) {
                total += 1;
                if x < lo - 1e-12 || x > hi + 1e-12 {
                    count += 1;
                    worst = worst.max(x.abs());
                }
            }
        }
    }
    (count > 0).then(|| format!("{count} of {total} entries (largest |α| {worst:.3})"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indices_are_numpy_indices() {
        assert_eq!(index(&[2, 3, 4], 0), "[0, 0, 0]");
        assert_eq!(index(&[2, 3, 4], 23), "[1, 2, 3]");
        assert_eq!(index(&[2, 3, 4], 5), "[0, 1, 1]");
    }
}
