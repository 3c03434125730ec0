//! Criterion benches of the outer methods on the benchmark problems of `tests/common/models/benchmarks.rs` (`data/benchmarks/`)
//! (solve from the cold start to 1e-10), and of the pieces of one Newton step: evaluation of
//! the residual with the Jacobian, and one GMRES solve.
//!
//! `cargo bench --bench methods` (the large cases of the performance record are in
//! `examples/performance.rs`: criterion's repetitions would take hours there).

#[path = "../tests/common/mod.rs"]
mod common;

use common::models::benchmarks as problems;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use mfg::linalg::GmresParams;
use mfg::scheme::{Costs, Layout, Linearization, Request, System};
use mfg::solve::spacetime::{Krylov, Preconditioner};
use mfg::solve::{solve, Iterate};
use std::time::Duration;

fn methods(c: &mut Criterion) {
    let mut g = c.benchmark_group("solve");
    g.sample_size(10).measurement_time(Duration::from_secs(10));
    let cases = [
        ("1d-201x100", problems::crowds_1d(201, 100)),
        ("2d-32x32x32", problems::crossing_2d(32, 32)),
    ];
    for (name, problem) in &cases {
        for method in ["picard", "anderson", "newton"] {
            let settings = problems::method(method);
            g.bench_with_input(BenchmarkId::new(method, name), problem, |b, p| {
                b.iter(|| {
                    let s = solve(p, &settings).unwrap();
                    assert_eq!(s.termination, mfg::Termination::Converged);
                    s.history.len()
                })
            });
        }
    }
    g.finish();
}

fn newton_pieces(c: &mut Criterion) {
    let mut g = c.benchmark_group("newton-step");
    g.sample_size(10);
    let cases = [
        (
            "1d-401x200",
            problems::crowds_1d(401, 200),
            Preconditioner::Exact,
        ),
        (
            "2d-32x32x32",
            problems::crossing_2d(32, 32),
            Preconditioner::Exact,
        ),
        (
            "2d-32x32x32-mg",
            problems::crossing_2d(32, 32),
            Preconditioner::Multigrid,
        ),
    ];
    for (name, problem, pc) in &cases {
        let layout = Layout::new(problem);
        let it = Iterate::initial(problem);
        let mut lin = Linearization::new(problem);
        let mut system = System::new(problem);
        let mut f = vec![0.0; layout.len()];
        g.bench_function(BenchmarkId::new("evaluate+jacobian", name), |b| {
            b.iter(|| {
                system.evaluate(
                    problem,
                    &it,
                    Request {
                        costs: Costs::Scaled(1.0),
                        values: Some(&mut f),
                        linearization: Some(&mut lin),
                    },
                )
            })
        });
        let params = GmresParams {
            restart: 40,
            max_iterations: 100,
            rel_tol: 0.0,
            abs_tol: 0.0,
        };
        let mut kr = Krylov::new(problem, params, *pc, Default::default()).unwrap();
        let mut d = vec![0.0; layout.len()];
        let tol = 1e-6 * f.iter().map(|v| v * v).sum::<f64>().sqrt();
        g.bench_function(BenchmarkId::new("refresh+gmres-1e-6", name), |b| {
            b.iter(|| {
                kr.refresh(problem.grid(), &lin).unwrap();
                kr.solve(problem.grid(), &lin, &f, &mut d, tol, None)
                    .unwrap()
                    .iterations
            })
        });
    }
    g.finish();
}

criterion_group!(benches, methods, newton_pieces);
criterion_main!(benches);
