//! Factor + solve of one implicit step, J = I/Δt - Q(u) (HJB Newton step) and Jᵀ (FP step), on
//! square 2D grids, for each linear solver path. Q comes from a smooth random u and a quadratic
//! Hamiltonian, Δt = 1/64 as in `data/benchmarks/sq64.toml`. Iteration counts of the iterative
//! path are printed to stderr.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mfg::grid::{Axis, Boundary, Grid, TimeGrid};
use mfg::problem::hamiltonian::Quadratic;
use mfg::problem::{Population, Problem};
use mfg::scheme::generator::evaluate_level;
use mfg::scheme::step_solver::IterativeSettings;
use mfg::scheme::{Generator, StepSolver};
use std::hint::black_box;

const DT: f64 = 1.0 / 64.0;

fn setup(n: usize) -> (Grid, Generator, Vec<f64>, Vec<f64>) {
    let ax = Axis::new(0.0, 1.0, n, Boundary::Reflecting);
    let grid = Grid::new_2d(ax, ax).unwrap();
    let u = grid.sample(|p| {
        0.8 * (std::f64::consts::TAU * p[0] + 0.4).sin() * (3.1 * p[1]).cos()
            + 0.3 * (12.6 * p[1] + 1.0).sin()
            - 2.0 * (p[0] - 0.9).powi(2)
    });
    let problem = Problem::builder(grid.clone(), TimeGrid::new(1.0, 1).unwrap())
        .population(Population::builder("b", 0.25, Quadratic::new(1.0)))
        .build()
        .unwrap();
    let pop = problem.population(0);
    let m = vec![1.0; grid.len()];
    let mut ham = vec![0.0; grid.len()];
    let mut gen = Generator::zeros(&grid);
    evaluate_level(&grid, pop, 0, &u, &[&m], &mut ham, &mut gen);
    // A Newton right-hand side (mixed signs) and an FP one (a density over Δt, ≥ 0).
    let b_hjb = grid.sample(|p| (9.0 * p[0]).sin() * (1.0 + p[1]));
    let b_fp = grid.sample(|p| {
        let r2 = (p[0] - 0.2).powi(2) + (p[1] - 0.5).powi(2);
        (-r2 / 0.02).exp() / DT
    });
    (grid, gen, b_hjb, b_fp)
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("step_solver");
    group.sample_size(20);
    group.measurement_time(std::time::Duration::from_secs(3));
    for n in [32, 64, 128] {
        let (grid, gen, b_hjb, b_fp) = setup(n);
        let bnorm = b_hjb.iter().map(|v| v * v).sum::<f64>().sqrt();
        type Make = fn(&Grid) -> StepSolver;
        // The default iterative path (relaxed MILU) and plain D-ILU = ILU(0) for comparison.
        let paths: [(&str, Make); 3] = [
            ("direct-lu", |g| StepSolver::sparse(g).unwrap()),
            ("ilu-bicgstab", |g| {
                StepSolver::iterative(g, IterativeSettings::default()).unwrap()
            }),
            ("dilu-bicgstab", |g| {
                let s = IterativeSettings {
                    milu: 0.0,
                    ..Default::default()
                };
                StepSolver::iterative(g, s).unwrap()
            }),
        ];
        for (name, make) in paths {
            // (label, transpose, absolute target relative to ‖b‖)
            for (what, transpose, abs) in [
                ("J", false, 0.0),
                ("J-1e-6", false, 1e-6),
                ("JT", true, 0.0),
            ] {
                if name == "direct-lu" && abs > 0.0 {
                    continue;
                }
                let mut s = make(&grid);
                let b = if transpose { &b_fp } else { &b_hjb };
                let mut x = b.clone();
                let id = BenchmarkId::new(format!("{name}/{what}"), format!("{n}x{n}"));
                group.bench_function(id, |bch| {
                    bch.iter(|| {
                        s.factor(&grid, &gen, 1.0 / DT).unwrap();
                        x.copy_from_slice(b);
                        if transpose {
                            s.solve_transpose(&mut x).unwrap();
                        } else {
                            s.solve_to(&mut x, abs * bnorm).unwrap();
                        }
                        black_box(&x);
                    })
                });
                if let Some(st) = s.stats().filter(|st| st.solves > 0) {
                    eprintln!(
                        "{name}/{what} {n}x{n}: {:.1} iterations/solve, {} fallbacks, {} polishes",
                        st.iterations as f64 / st.solves as f64,
                        st.fallbacks,
                        st.polishes
                    );
                }
            }
        }
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
