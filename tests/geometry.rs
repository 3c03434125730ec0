//! Populations on restricted state spaces (docs/geometry.md): a region is a
//! sub-grid with no-flux walls, obstacles remove nodes for everybody, and the scheme's
//! invariants (positivity, mass per connected component, adjointness) hold on the masks.

mod common;

use common::models::crossing::{mixed, perturbed};
use common::models::geometry::{fixed_picard, masked_1d, masked_2d, single};
use mfg::grid::NONE;
use mfg::problem::hamiltonian::Quadratic;
use mfg::problem::{Population, Problem, Shape};
use mfg::scheme::{generator, Generator, StepSolverKind};
use mfg::solve::newton::NewtonSolverKind;
use mfg::solve::{MethodKind, NewtonSettings, Stopping};
use mfg::{Axis, Boundary, Grid, SolverSettings, TimeGrid};

fn picard(iterations: usize) -> SolverSettings {
    let mut s = fixed_picard(iterations);
    s.hjb.linear_solver = StepSolverKind::Direct;
    s
}

fn newton() -> SolverSettings {
    let mut s = SolverSettings {
        method: MethodKind::Newton(NewtonSettings {
            linear_solver: NewtonSolverKind::Direct,
            ..NewtonSettings::default()
        }),
        stopping: Stopping {
            tol_u: 1e-12,
            tol_m: 1e-12,
            tol_residual: 1e-12,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    };
    s.hjb.linear_solver = StepSolverKind::Direct;
    s
}

/// Solves the problem restricted to `region` on `full` and the same problem on `sub` (the
/// region alone) and compares them node by node; removed nodes must hold u = 0, m = 0.
fn region_is_a_sub_grid(full: Grid, sub: Grid, region: Shape, settings: &SolverSettings) {
    let nt = 12;
    let (pf, ps) = (single(full, nt, Some(region)), single(sub, nt, None));
    let (sf, ss) = (
        mfg::solve(&pf, settings).unwrap(),
        mfg::solve(&ps, settings).unwrap(),
    );
    let (gf, gs) = (pf.grid(), ps.grid());
    let live = pf.population(0).live();
    let map: Vec<usize> = (0..gf.len()).filter(|&i| live[i]).collect();
    assert_eq!(
        map.len(),
        gs.len(),
        "the region has as many nodes as the sub-grid"
    );
    let (mut du, mut dm) = (0.0f64, 0.0f64);
    for n in 0..=nt {
        let (uf, us) = (sf.iterate.u[0].level(n), ss.iterate.u[0].level(n));
        let (mf, ms) = (sf.iterate.m[0].level(n), ss.iterate.m[0].level(n));
        for (j, &i) in map.iter().enumerate() {
            let (p, q) = (gf.point(i), gs.point(j));
            assert!((p[0] - q[0]).abs() < 1e-12 && (p[1] - q[1]).abs() < 1e-12);
            du = du.max((uf[i] - us[j]).abs() / us[j].abs().max(1.0));
            dm = dm.max((mf[i] - ms[j]).abs() / ms[j].abs().max(1.0));
        }
        for i in (0..gf.len()).filter(|&i| !live[i]) {
            assert_eq!((uf[i], mf[i]), (0.0, 0.0), "removed node {i}, level {n}");
        }
    }
    eprintln!(
        "{} iterations: max relative |Δu| {du:.2e}, |Δm| {dm:.2e}",
        sf.history.len()
    );
    assert!(du <= 1e-12 && dm <= 1e-12, "|Δu| {du:e}, |Δm| {dm:e}");
}

fn grid_1d(min: f64, max: f64, n: usize) -> Grid {
    Grid::new_1d(min, max, n, Boundary::Reflecting).unwrap()
}

fn grid_2d(min: f64, max: f64, n: usize) -> Grid {
    let a = Axis::new(min, max, n, Boundary::Reflecting);
    Grid::new_2d(a, a).unwrap()
}

#[test]
fn region_equals_sub_grid_1d_picard() {
    let region = Shape::rect(&[0.25], &[0.75]);
    region_is_a_sub_grid(
        grid_1d(0.0, 1.0, 40),
        grid_1d(0.25, 0.75, 20),
        region,
        &picard(25),
    );
}

#[test]
fn region_equals_sub_grid_1d_newton() {
    let region = Shape::rect(&[0.25], &[0.75]);
    region_is_a_sub_grid(
        grid_1d(0.0, 1.0, 40),
        grid_1d(0.25, 0.75, 20),
        region,
        &newton(),
    );
}

#[test]
fn region_equals_sub_grid_2d_picard() {
    let region = Shape::rect(&[0.25, 0.25], &[0.75, 0.75]);
    region_is_a_sub_grid(
        grid_2d(0.0, 1.0, 16),
        grid_2d(0.25, 0.75, 8),
        region,
        &picard(12),
    );
}

#[test]
fn region_equals_sub_grid_2d_newton() {
    let region = Shape::rect(&[0.25, 0.25], &[0.75, 0.75]);
    region_is_a_sub_grid(
        grid_2d(0.0, 1.0, 16),
        grid_2d(0.25, 0.75, 8),
        region,
        &newton(),
    );
}

/// A wall splitting the domain: the target lies on the right, half of the crowd starts on the
/// left; no mass crosses, each side keeps its own, none ever enters the wall.
fn wall_keeps_each_half(grid: Grid, wall: Shape, nt: usize) {
    let d = grid.dim();
    let w = wall.clone();
    let pop = Population::builder("a", 0.5, Quadratic::new(1.0))
        .initial(move |x| {
            if w.contains(x) {
                0.0
            } else {
                1.0 + (-(x[0] - 0.4).powi(2) / 0.05).exp()
            }
        })
        .terminal(move |x| 3.0 * (x[0] - 1.8).powi(2) + if d == 2 { x[1] } else { 0.0 });
    let problem = Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(pop)
        .obstacle(wall.clone())
        .coupling(mfg::problem::coupling::Linear::from_rows(&[vec![0.5]]))
        .build()
        .unwrap();
    let mut settings = picard(6);
    settings.hjb.linear_solver = StepSolverKind::Auto;
    let sol = mfg::solve(&problem, &settings).unwrap();
    let g = problem.grid();
    let h_d = g.cell_volume();
    let side = |x: f64| x < 1.0;
    let half = |level: &[f64], left: bool| -> f64 {
        (0..g.len())
            .filter(|&i| side(g.point(i)[0]) == left)
            .map(|i| level[i])
            .sum::<f64>()
            * h_d
    };
    let m = &sol.iterate.m[0];
    let (left0, right0) = (half(m.level(0), true), half(m.level(0), false));
    assert!(left0 > 0.3 && right0 > 0.3);
    for n in 0..=nt {
        let level = m.level(n);
        let (l, r) = (half(level, true), half(level, false));
        assert!(
            (l - left0).abs() <= 1e-12 && (r - right0).abs() <= 1e-12,
            "level {n}: left {l} (was {left0}), right {r} (was {right0})"
        );
        for i in (0..g.len()).filter(|&i| wall.contains(&g.point(i)[..g.dim()])) {
            assert_eq!(
                level[i], 0.0,
                "mass entered the wall at node {i}, level {n}"
            );
        }
        assert!(level.iter().all(|v| *v >= 0.0));
    }
    // The crowd does move towards the target: the right half's density profile changes.
    let moved: f64 = (0..g.len())
        .map(|i| (m.level(nt)[i] - m.level(0)[i]).abs())
        .sum::<f64>()
        * h_d;
    assert!(moved > 1e-2, "the density hardly moved ({moved:e})");
}

#[test]
fn obstacle_wall_splits_the_domain_1d() {
    wall_keeps_each_half(grid_1d(0.0, 2.0, 60), Shape::rect(&[0.95], &[1.05]), 20);
}

#[test]
fn obstacle_wall_splits_the_domain_2d() {
    let grid = Grid::new_2d(
        Axis::new(0.0, 2.0, 24, Boundary::Reflecting),
        Axis::new(0.0, 1.0, 10, Boundary::Periodic),
    )
    .unwrap();
    wall_keeps_each_half(grid, Shape::rect(&[0.95, 0.0], &[1.05, 1.0]), 10);
}

/// Q(u) of a masked population: no rate out of or into a removed node, rows sum to zero, and
/// the FP operator it defines is the transpose of the HJB one (dense check).
#[test]
fn masked_generator_is_a_generator_on_the_live_nodes() {
    for problem in [masked_1d(20, 3, mixed()), masked_2d(9, 6, 3, mixed())] {
        let g = problem.grid();
        let n = g.len();
        let it = perturbed(&problem);
        for k in 0..problem.k() {
            let pop = problem.population(k);
            assert!(
                pop.is_masked() && pop.live().contains(&false),
                "population {k}"
            );
            let m: Vec<&[f64]> = it.m.iter().map(|f| f.level(1)).collect();
            let mut gen = Generator::zeros(g);
            let mut op = vec![0.0; n];
            generator::evaluate_level(g, pop, 0, it.u[k].level(0), &m, &mut op, &mut gen);
            for (i, op_i) in op.iter().enumerate() {
                for (s, &j) in g.neighbours(i).iter().enumerate() {
                    let cut = !pop.is_live(i) || (j != NONE && !pop.is_live(j));
                    if cut {
                        assert_eq!(gen.rate(i, s), 0.0, "rate {i} -> {j}");
                    } else if j != NONE && problem.population(k).sigma() > 0.0 {
                        assert!(gen.rate(i, s) > 0.0);
                    }
                }
                if !pop.is_live(i) {
                    assert_eq!(*op_i, 0.0);
                }
            }
            // ⟨Q v, w⟩ = ⟨v, Qᵀ w⟩ for every pair of unit vectors.
            let (mut qv, mut qtw) = (vec![0.0; n], vec![0.0; n]);
            let mut e = vec![0.0; n];
            let mut dense = vec![vec![0.0; n]; n];
            for (j, col) in dense.iter_mut().enumerate() {
                e[j] = 1.0;
                gen.apply(g, &e, &mut qv);
                col.copy_from_slice(&qv);
                e[j] = 0.0;
            }
            for i in 0..n {
                e[i] = 1.0;
                gen.apply_transpose(g, &e, &mut qtw);
                e[i] = 0.0;
                // dense[j][i] = (Q e_j)_i = Q_ij must equal (Qᵀ e_i)_j.
                for (j, col) in dense.iter().enumerate() {
                    assert!((col[i] - qtw[j]).abs() <= 1e-12 * (1.0 + qtw[j].abs()));
                }
            }
            let sums: f64 = (0..n)
                .map(|i| (0..n).map(|j| dense[j][i]).sum::<f64>().abs())
                .fold(0.0, f64::max);
            assert!(
                sums <= 1e-10 * gen.max_out_rate().max(1.0),
                "row sums {sums:e}"
            );
        }
    }
}

/// Picard and Newton solve the masked crossing problems: densities stay on the live nodes and
/// keep their mass, and the two methods agree.
#[test]
fn masked_problems_solve_with_picard_and_newton() {
    let problem = masked_2d(12, 8, 6, mixed());
    let mut p = picard(400);
    p.stopping = Stopping::default();
    p.hjb.linear_solver = StepSolverKind::Auto;
    let sp = mfg::solve(&problem, &p).unwrap();
    let mut n = newton();
    n.hjb.linear_solver = StepSolverKind::Auto;
    n.stopping = Stopping::default();
    let sn = mfg::solve(&problem, &n).unwrap();
    for (k, pop) in problem.populations().iter().enumerate() {
        for s in [&sp, &sn] {
            assert_eq!(s.termination, mfg::solve::Termination::Converged);
            for (lvl, mass) in s.mass(&problem, k).iter().enumerate() {
                assert!((mass - pop.mass()).abs() <= 1e-12, "level {lvl}: {mass}");
            }
            let m = s.iterate.m[k].as_slice();
            let nn = problem.grid().len();
            for (idx, v) in m.iter().enumerate() {
                assert!(*v >= 0.0 && (pop.is_live(idx % nn) || *v == 0.0));
            }
        }
        let du = sp.iterate.u[k]
            .as_slice()
            .iter()
            .zip(sn.iterate.u[k].as_slice())
            .fold(0.0f64, |a, (x, y)| a.max((x - y).abs()));
        assert!(
            du < 1e-8,
            "population {k}: Picard and Newton differ by {du:e}"
        );
    }
}
