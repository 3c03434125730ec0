//! The result file of a stationary problem (layout: `docs/hdf5-layout.md`, "Stationary
//! results"): per population u^k, m^k and α^k on the ([y_j,] x_i) grid without a time axis,
//! the constant λ^k (the ergodic cost, 0 for a discounted population), the state space, the
//! drift and V^k; the root attribute `horizon = "stationary"`, no `/time` group; `/history`
//! and the provenance attributes as for a finite horizon.

use super::populations::{live_and_drift, population_group, space_scales, static_field};
use super::read::open_hdf5;
use super::write::{
    coupling, field_shape, grids, history, replace_hdf5, root_attributes, with_new_file, Ending,
    Meta, Storage,
};
use super::{scales, Header, RunState, AXES};
use crate::config::Config;
use crate::io::{Error, Result};
use crate::problem::{Horizon, Monotonicity, Problem};
use crate::solve::stationary::StationarySolution;
use crate::solve::Termination;
use ::hdf5 as h5;
use std::path::Path;

/// A stationary result read back: its header (`time` is `None`, every population has its λ)
/// and the solution.
#[derive(Debug, Clone)]
pub struct SavedStationary {
    /// Everything but the fields.
    pub header: Header,
    /// u^k, m^k, λ^k, the history and the termination.
    pub solution: StationarySolution,
}

/// Writes the stationary `solution` of `problem` to `path`, atomically and under the output
/// lock, as [`super::write`] does for a finite horizon (the same guarantees on errors). The
/// fields are small (one value per node): they are stored whole with checksums, uncompressed
/// (there are no write options).
pub fn write_stationary(
    path: impl AsRef<Path>,
    problem: &Problem,
    solution: &StationarySolution,
    config: Option<&Config>,
) -> Result<()> {
    let path = path.as_ref();
    let nodes = problem.grid().len();
    let fits = solution.u.len() == problem.k()
        && solution.m.len() == problem.k()
        && solution.lambda.len() == problem.k()
        && solution
            .u
            .iter()
            .chain(&solution.m)
            .all(|f| f.len() == nodes);
    if problem.horizon() != Horizon::Stationary || !fits {
        return Err(Error::Damaged {
            path: path.to_path_buf(),
            what: "refusing to write: the solution is not a stationary solution of this \
                   stationary problem (wrong horizon, population count or node count)"
                .into(),
        });
    }
    replace_hdf5(path, |tmp| {
        with_new_file(tmp, |w, file| {
            let end = Ending {
                history: &solution.history,
                method: &solution.method,
                state: RunState::Finished(solution.termination),
                detail: solution.detail.as_deref(),
                events: &[],
            };
            root_attributes(w, file, problem, &end, config, None)?;
            grids(w, file, problem)?;
            coupling(
                w,
                file,
                problem,
                &Monotonicity::at_stationary(problem, &solution.m),
            )?;
            let grid = problem.grid();
            let shape = field_shape(grid, 1)[1..].to_vec();
            let pops = w.group(file, "populations")?;
            for (k, p) in problem.populations().iter().enumerate() {
                let name = p.name();
                let pg = population_group(w, &pops, k, p)?;
                w.attr_f64(&pg, "lambda", solution.lambda[k])?;
                let kind = if p.discount() > 0.0 {
                    "discounted: rho u - nu Lap u + H = F"
                } else {
                    "ergodic: -nu Lap u + H + lambda = F, sum(u) h^d = 0"
                };
                w.attr_str(&pg, "stationary_kind", kind)?;
                let space = space_scales(w, &pg, grid)?;
                let dims: Vec<&h5::Dataset> = space.iter().collect();
                let field = |w: &mut super::write::Writer<'_>, f: &str, data: &[f64], m: Meta| {
                    let d = w.array(&pg, f, &shape, data, Storage::Whole)?;
                    scales::attach(w.path, &d, &dims)?;
                    w.meta(&d, &m)
                };
                field(
                    w,
                    "m",
                    &solution.m[k],
                    Meta {
                        long_name: &format!("density of {name}"),
                        units: "1",
                        description: &format!(
                            "stationary density m^k(x) of {name}, sum(m) h^d = mass"
                        ),
                    },
                )?;
                field(
                    w,
                    "u",
                    &solution.u[k],
                    Meta {
                        long_name: &format!("value function of {name}"),
                        units: "1",
                        description: &format!("stationary value function u^k(x) of {name}"),
                    },
                )?;
                for (a, alpha) in solution.controls(problem, k).iter().enumerate() {
                    field(
                        w,
                        &format!("alpha_{}", AXES[a]),
                        alpha,
                        Meta {
                            long_name: &format!("velocity of {name} along {}", AXES[a]),
                            units: "1",
                            description: &format!(
                                "optimal feedback alpha = -dH/dp along {} of {name} (upwind, as \
                                 the scheme uses it)",
                                AXES[a]
                            ),
                        },
                    )?;
                }
                live_and_drift(w, &pg, p, &shape, &dims)?;
                static_field(
                    w,
                    &pg,
                    "potential",
                    p.potential(),
                    &shape,
                    &dims,
                    "running potential V^k",
                )?;
            }
            history(w, file, &solution.history)
        })
        .and_then(|()| super::read::read_header_of(tmp).map(drop))
    })
}

/// Reads a stationary result back: the same u^k, m^k, λ^k and history that were written, bit
/// for bit. A finite-horizon file is refused with a clear error (read it with [`super::read`]).
pub fn read_stationary(path: impl AsRef<Path>) -> Result<SavedStationary> {
    let path = path.as_ref();
    let header = super::read::read_header_of(path)?;
    if header.time.is_some() {
        return Err(Error::Damaged {
            path: path.to_path_buf(),
            what: "not a stationary result: it has a time axis (read it with io::read)".into(),
        });
    }
    let (file, _) = open_hdf5(path)?;
    let pops = file.group("populations").map_err(|e| Error::Damaged {
        path: path.to_path_buf(),
        what: format!("group /populations: {e}"),
    })?;
    let (mut u, mut m, mut lambda) = (Vec::new(), Vec::new(), Vec::new());
    for p in &header.populations {
        let read = |f: &str| {
            pops.group(&p.name)
                .and_then(|g| g.dataset(f))
                .and_then(|d| d.read_raw::<f64>())
                .map_err(|e| Error::Damaged {
                    path: path.to_path_buf(),
                    what: format!("dataset /populations/{}/{f}: {e}", p.name),
                })
        };
        u.push(read("u")?);
        m.push(read("m")?);
        lambda.push(p.lambda.unwrap_or(f64::NAN));
    }
    let termination = match header.state {
        RunState::Finished(t) => t,
        RunState::InProgress => Termination::Interrupted,
    };
    let solution = StationarySolution {
        u,
        m,
        lambda,
        termination,
        detail: header.detail.clone(),
        history: header.history.clone(),
        method: header.method.clone(),
    };
    Ok(SavedStationary { header, solution })
}
