//! Writing the per-population groups of a finite-horizon result file (layout:
//! `docs/hdf5-layout.md`): u^k, m^k and α^k on the (t_n, [y_j,] x_i) grid, the exit records
//! (mass absorbed per exit node, cumulative exited mass), the time-dependent costs and drifts,
//! and the fields that do not depend on time (state space, drift, m0^k, V^k, g^k), whose
//! writers the stationary layout shares.

use super::scales;
use super::write::{axis_meta, field_shape, Meta, Storage, Writer, T_META};
use super::{Run, RunState, AXES};
use crate::io::Result;
use crate::problem::{Population, Problem};
use crate::solve::{Solution, Termination};
use ::hdf5 as h5;

pub(super) fn populations(
    w: &mut Writer<'_>,
    file: &h5::File,
    problem: &Problem,
    run: &Run<'_>,
    deflate: Option<u8>,
) -> Result<()> {
    let grid = problem.grid();
    let levels = problem.time().nt + 1;
    let shape = field_shape(grid, levels);
    let pops = w.group(file, "populations")?;
    // Controls are derived data: a checkpoint stores only what resuming needs (u, m), the
    // final write adds α. They come from a `Solution` view of the iterate.
    let view = match run.state {
        RunState::Finished(_) => Some(Solution {
            iterate: run.iterate.clone(),
            history: Vec::new(),
            termination: Termination::Interrupted,
            detail: None,
            method: String::new(),
            events: Vec::new(),
        }),
        RunState::InProgress => None,
    };
    for (k, p) in problem.populations().iter().enumerate() {
        let name = p.name();
        let pg = population_group(w, &pops, k, p)?;
        let t = w.scale(&pg, "t", &problem.time().levels(), &T_META, Some("T"))?;
        let space = space_scales(w, &pg, grid)?;
        let mut dims: Vec<&h5::Dataset> = vec![&t];
        dims.extend(space.iter());
        let storage = Storage::Chunked(deflate);
        let field = |w: &mut Writer<'_>, f: &str, data: &[f64], meta: Meta<'_>| {
            let d = w.array(&pg, f, &shape, data, storage)?;
            scales::attach(w.path, &d, &dims)?;
            w.meta(&d, &meta)
        };
        let m_desc = format!(
            "density m^k(t_n, x) of {name}, normalised so that sum(m) h^d = mass on every level"
        );
        let u_desc = format!("value function u^k(t_n, x) of {name}");
        let m_desc = if p.has_exits() {
            format!(
                "{m_desc} minus the mass that has left; 0 on exit nodes (the mass that has left \
                 is in `exited`)"
            )
        } else {
            m_desc
        };
        field(
            w,
            "m",
            run.iterate.density(problem, k).as_slice(),
            Meta {
                long_name: &format!("density of {name}"),
                units: "1",
                description: &m_desc,
            },
        )?;
        field(
            w,
            "u",
            run.iterate.u[k].as_slice(),
            Meta {
                long_name: &format!("value function of {name}"),
                units: "1",
                description: &u_desc,
            },
        )?;
        if let Some(view) = &view {
            for (a, alpha) in view.controls(problem, k).iter().enumerate() {
                let desc = format!(
                    "optimal feedback alpha = -dH/dp along {} of {name} (upwind, as the scheme \
                     uses it); level Nt repeats level Nt-1",
                    AXES[a]
                );
                field(
                    w,
                    &format!("alpha_{}", AXES[a]),
                    alpha.as_slice(),
                    Meta {
                        long_name: &format!("velocity of {name} along {}", AXES[a]),
                        units: "1",
                        description: &desc,
                    },
                )?;
            }
        }
        let lshape = &shape[1..];
        live_and_drift(w, &pg, p, lshape, &dims[1..])?;
        if p.has_exits() {
            let exit: Vec<u8> = p.exits().iter().map(|&e| u8::from(e)).collect();
            let d = w.array(&pg, "exit", lshape, &exit, Storage::Whole)?;
            scales::attach(w.path, &d, &dims[1..])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("exits of {name}"),
                    units: "1",
                    description: "1 at the exit nodes of the population's state space, where \
                                  u = exit_cost and the density is absorbed",
                },
            )?;
            let d = w.array(&pg, "exit_cost", lshape, p.exit_cost(), Storage::Whole)?;
            scales::attach(w.path, &d, &dims[1..])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("exit cost of {name}"),
                    units: "1",
                    description: "psi^k(x): the value of u on exit nodes (meaningful there only)",
                },
            )?;
            if let Some(absorbed) = run.iterate.absorbed(problem, k) {
                field(
                    w,
                    "absorbed",
                    absorbed.as_slice(),
                    Meta {
                        long_name: &format!("mass of {name} that has left, per exit node"),
                        units: "1",
                        description: "cumulative mass density that has left through each exit \
                                      node by t_n (0 off the exits); m + absorbed is the density \
                                      of the absorbed chain, sum(m + absorbed) h^d = mass",
                    },
                )?;
            }
            let (_, exited) = run.iterate.inside_and_exited(problem, k);
            let d = w.array(&pg, "exited", &shape[..1], &exited, Storage::Whole)?;
            scales::attach(w.path, &d, &dims[..1])?;
            w.meta(
                &d,
                &Meta {
                    long_name: &format!("mass of {name} that has left"),
                    units: "1",
                    description: "cumulative mass that has left through the exits by t_n; \
                                  sum(m) h^d + exited = mass on every level",
                },
            )?;
        }
        if let Some(v) = p.potential_levels() {
            field(
                w,
                "potential_t",
                v,
                Meta {
                    long_name: &format!("running potential of {name} over time"),
                    units: "1",
                    description: "V^k(t_n, x), the potential of HJB step n; `potential` is its \
                                  level 0",
                },
            )?;
        }
        if let Some(b) = p.drift_levels() {
            let dim = grid.dim();
            for (a, axis) in AXES.iter().enumerate().take(dim) {
                let component: Vec<f64> = b.iter().skip(a).step_by(dim).copied().collect();
                field(
                    w,
                    &format!("drift_{axis}_t"),
                    &component,
                    Meta {
                        long_name: &format!("drift of {name} along {axis} over time"),
                        units: "1",
                        description: &format!(
                            "b(t_n, x) of the dynamics dX = (alpha + b) dt + sigma dW; \
                             drift_{axis} is its level 0"
                        ),
                    },
                )?;
            }
        }
        for (f, data, what) in [
            (
                "initial",
                p.initial(),
                "initial density m0^k as sampled and normalised",
            ),
            ("potential", p.potential(), "running potential V^k"),
            ("terminal", p.terminal(), "terminal cost g^k"),
        ] {
            static_field(w, &pg, f, data, lshape, &dims[1..], what)?;
        }
    }
    Ok(())
}

/// `/populations/<name>` of population k with its scalar attributes (σ, ν, mass, discount,
/// the Hamiltonian and its parameters).
pub(super) fn population_group(
    w: &Writer<'_>,
    pops: &h5::Group,
    k: usize,
    p: &Population,
) -> Result<h5::Group> {
    let pg = w.group(pops, p.name())?;
    w.attr_u64(&pg, "index", k as u64)?;
    w.attr_f64(&pg, "sigma", p.sigma())?;
    w.attr_f64(&pg, "nu", p.nu())?;
    w.attr_f64(&pg, "mass", p.mass())?;
    w.attr_f64(&pg, "discount", p.discount())?;
    w.attr_str(&pg, "hamiltonian", &p.hamiltonian().describe())?;
    w.attr_str(&pg, "hamiltonian_kind", p.hamiltonian().name())?;
    for (param, value) in p.hamiltonian().parameters() {
        w.attr_f64(&pg, &format!("hamiltonian_{param}"), value)?;
    }
    Ok(pg)
}

/// The space coordinates again, inside a population group, slowest first ([y,] x): a netCDF
/// group sees the dimensions of its ancestors only, so `xarray.open_dataset(file, group=...)`
/// needs them there.
pub(super) fn space_scales(
    w: &mut Writer<'_>,
    pg: &h5::Group,
    grid: &crate::Grid,
) -> Result<Vec<h5::Dataset>> {
    let mut space = Vec::new();
    for (a, axis) in grid.axes().iter().enumerate().rev() {
        let axis_name = AXES[a].to_uppercase();
        space.push(w.scale(pg, AXES[a], &axis.nodes(), axis_meta(a), Some(&axis_name))?);
    }
    Ok(space)
}

/// A field of one value per node (`shape` [Ny,] Nx on the space scales `dims`) described as
/// `what`.
pub(super) fn static_field<T: h5::H5Type>(
    w: &mut Writer<'_>,
    pg: &h5::Group,
    name: &str,
    data: &[T],
    shape: &[usize],
    dims: &[&h5::Dataset],
    what: &str,
) -> Result<()> {
    let d = w.array(pg, name, shape, data, Storage::Whole)?;
    scales::attach(w.path, &d, dims)?;
    let population = pg.name();
    let population = population.rsplit('/').next().unwrap_or_default();
    w.meta(
        &d,
        &Meta {
            long_name: &format!("{} of {population}", what.split(':').next().unwrap_or(what)),
            units: "1",
            description: what,
        },
    )
}

/// The population's state space (`live`) and its time-independent drift (`drift_x`, …).
pub(super) fn live_and_drift(
    w: &mut Writer<'_>,
    pg: &h5::Group,
    p: &Population,
    shape: &[usize],
    dims: &[&h5::Dataset],
) -> Result<()> {
    let live: Vec<u8> = p.live().iter().map(|&l| u8::from(l)).collect();
    static_field(
        w,
        pg,
        "live",
        &live,
        shape,
        dims,
        "state space: 1 at the nodes of the population's state space (its region minus the \
         obstacles), 0 at removed nodes, where u = m = 0",
    )?;
    if let Some(b) = p.drift() {
        let dim = shape.len();
        for (a, axis) in AXES.iter().enumerate().take(dim) {
            let component: Vec<f64> = b.iter().skip(a).step_by(dim).copied().collect();
            static_field(
                w,
                pg,
                &format!("drift_{axis}"),
                &component,
                shape,
                dims,
                &format!("drift along {axis}: b(x) of the dynamics dX = (alpha + b) dt + sigma dW"),
            )?;
        }
    }
    Ok(())
}
