//! Criterion benches of the scheme's building blocks on a case-B-like two-population problem
//! (log self- and cross-congestion, quadratic potentials): one backward HJB sweep (Newton per
//! time step), one forward FP sweep, and one whole Picard iteration (K = 2 HJB + FP sweeps in
//! parallel, relaxation, residual), at three sizes in 1D and in 2D.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mfg::problem::coupling::Log;
use mfg::problem::hamiltonian::Quadratic;
use mfg::scheme::{self, Generator, HjbSettings, Workspace};
use mfg::solve::{Iterate, Method, Picard, Relaxation};
use mfg::{Axis, Boundary, Field, Grid, Population, Problem, TimeGrid};

fn problem(dim: usize, n: usize, nt: usize) -> Problem {
    let axis = Axis::new(-2.0, 2.0, n, Boundary::Reflecting);
    let grid = if dim == 1 {
        Grid::new(vec![axis]).unwrap()
    } else {
        Grid::new_2d(axis, axis).unwrap()
    };
    let kappa = Log::from_rows(&[vec![0.1, 0.05], vec![0.05, 0.1]]);
    (0..2)
        .fold(
            Problem::builder(grid, TimeGrid::new(1.0, nt).unwrap()),
            |b, k| {
                let c = if k == 0 { -0.5 } else { 0.5 };
                b.population(
                    Population::builder(format!("p{k}"), 0.5, Quadratic::new(1.0 + k as f64))
                        .initial(move |x| {
                            (-x.iter().map(|v| (v - c).powi(2)).sum::<f64>() * 8.0).exp()
                        })
                        .potential(move |x| 0.5 * x.iter().map(|v| (v + c).powi(2)).sum::<f64>())
                        .terminal(move |x| x.iter().map(|v| (v + c).powi(2)).sum::<f64>()),
                )
            },
        )
        .coupling(kappa)
        .build()
        .unwrap()
}

fn sizes() -> Vec<(usize, usize, usize)> {
    vec![
        (1, 101, 50),
        (1, 201, 100),
        (1, 401, 200),
        (2, 16, 16),
        (2, 32, 32),
        (2, 64, 64),
    ]
}

fn label(dim: usize, n: usize, nt: usize) -> String {
    if dim == 1 {
        format!("1d_{n}x{nt}")
    } else {
        format!("2d_{n}^2x{nt}")
    }
}

fn sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("sweep");
    group.sample_size(10);
    for (dim, n, nt) in sizes() {
        let p = problem(dim, n, nt);
        let it = Iterate::initial(&p);
        let len = p.grid().len();
        let mut sources = Field::filled(nt, len, 0.0);
        scheme::running_costs(&p, 0, &it.m, &mut sources);
        let mut ws = Workspace::new(p.grid(), Default::default()).unwrap();
        let mut gens = vec![Generator::zeros(p.grid()); nt];
        let mut u = it.u[0].clone();
        let hjb = HjbSettings::default();
        group.bench_with_input(BenchmarkId::new("hjb", label(dim, n, nt)), &(), |b, _| {
            b.iter(|| {
                u.clone_from(&it.u[0]);
                let sweep = scheme::HjbSweep {
                    problem: &p,
                    k: 0,
                    m: &it.m,
                    costs: &sources,
                };
                sweep
                    .solve(&mut u, &mut gens, &mut ws, &hjb, false)
                    .unwrap()
            })
        });
        let mut m = it.m[0].clone();
        group.bench_with_input(BenchmarkId::new("fp", label(dim, n, nt)), &(), |b, _| {
            b.iter(|| scheme::fp_sweep(&p, 0, &gens, &mut m, &mut ws).unwrap())
        });
    }
    group.finish();
}

fn picard_iteration(c: &mut Criterion) {
    let mut group = c.benchmark_group("picard_iteration");
    group.sample_size(10);
    for (dim, n, nt) in sizes() {
        let p = problem(dim, n, nt);
        let mut method = Picard::new(&p, Relaxation::Fixed(0.5), HjbSettings::default()).unwrap();
        // Start from a settled iterate: a few iterations in, as most iterations of a solve are.
        let mut it = Iterate::initial(&p);
        for i in 0..3 {
            method.step(&p, &mut it, i).unwrap();
        }
        group.bench_with_input(
            BenchmarkId::from_parameter(label(dim, n, nt)),
            &(),
            |b, _| {
                b.iter(|| {
                    let mut local = it.clone();
                    method.step(&p, &mut local, 3).unwrap()
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, sweeps, picard_iteration);
criterion_main!(benches);
