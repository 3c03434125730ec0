//! Invariants of the scheme (docs/math.md §3): mass conservation to round-off and positivity of the
//! FP step in 1D and 2D, the FP operator equal to the transpose of the HJB step Jacobian, the
//! Newton Jacobian equal to the derivative of the HJB residual, the structure-aware 1D solvers
//! equal to the general sparse LU, and K decoupled populations equal to K single solves.

use mfg::problem::coupling::{Linear, Log, Power, Sum};
use mfg::problem::hamiltonian::{Anisotropic, Power as PowerH, Quadratic};
use mfg::scheme::{
    self, generator, Generator, HjbStep, HjbSweep, StepBuffers, StepSolver, Workspace,
};
use mfg::solve::{MethodKind, Relaxation, Stopping};
use mfg::{Axis, Boundary, Field, Grid, Population, Problem, SolverSettings, TimeGrid};

fn settings(max_iterations: usize, theta: f64) -> SolverSettings {
    SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(theta)),
        stopping: Stopping {
            max_iterations,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    }
}

fn two_population_problem(grid: Grid, nt: usize) -> Problem {
    let d = grid.dim();
    let a = Population::builder("a", 0.4, Quadratic::new(1.0))
        .initial(|x| (-(x[0] - 0.3).powi(2) * 20.0).exp())
        .terminal(|x| (x[0] - 0.8).powi(2))
        .potential(move |x| if d == 2 { x[1] * x[1] } else { 0.0 });
    let hb: Box<dyn mfg::problem::Hamiltonian> = if d == 2 {
        Box::new(Anisotropic::new(vec![1.0, 3.0]))
    } else {
        Box::new(PowerH::new(1.6, 1.5))
    };
    let b = Population::boxed_builder("b", 0.3, hb)
        .initial(|x| (-(x[0] - 0.7).powi(2) * 30.0).exp() + 1e-3)
        .terminal(|x| (x[0] - 0.1).powi(2))
        .mass(2.5);
    let coupling = Sum(vec![
        Box::new(Linear::from_rows(&[vec![0.5, 1.0], vec![1.0, 0.5]])),
        Box::new(Log::diagonal(&[0.05, 0.05])),
    ]);
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .coupling(coupling)
        .build()
        .unwrap()
}

fn check_mass_and_positivity(problem: &Problem, iterations: usize) {
    let sol = mfg::solve(problem, &settings(iterations, 0.5)).unwrap();
    for k in 0..problem.k() {
        let mass = sol.mass(problem, k);
        let want = problem.population(k).mass();
        for (n, v) in mass.iter().enumerate() {
            assert!(
                (v - want).abs() <= 1e-12 * want,
                "population {k}, level {n}: mass {v} (drift {:e})",
                v - want
            );
        }
        let min = sol.iterate.m[k]
            .as_slice()
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        assert!(min >= 0.0, "population {k}: negative density {min:e}");
    }
}

#[test]
fn mass_and_positivity_1d_reflecting() {
    let grid = Grid::new_1d(0.0, 1.0, 80, Boundary::Reflecting).unwrap();
    check_mass_and_positivity(&two_population_problem(grid, 40), 8);
}

#[test]
fn mass_and_positivity_1d_periodic() {
    let grid = Grid::new_1d(0.0, 1.0, 80, Boundary::Periodic).unwrap();
    check_mass_and_positivity(&two_population_problem(grid, 40), 8);
}

#[test]
fn mass_and_positivity_2d() {
    let grid = Grid::new_2d(
        Axis::new(0.0, 1.0, 24, Boundary::Periodic),
        Axis::new(0.0, 1.0, 16, Boundary::Reflecting),
    )
    .unwrap();
    check_mass_and_positivity(&two_population_problem(grid, 12), 4);
}

/// A generator Q(u) for a rough u on `grid` (population "b" of the test problem).
fn generator_for(problem: &Problem, seed: u64) -> (Generator, Vec<f64>) {
    let grid = &problem.grid();
    let mut state = seed;
    let mut rnd = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    let u: Vec<f64> = (0..grid.len()).map(|_| 2.0 * rnd() - 1.0).collect();
    let m: Vec<Vec<f64>> = (0..problem.k())
        .map(|_| (0..grid.len()).map(|_| rnd()).collect())
        .collect();
    let m_all: Vec<&[f64]> = m.iter().map(|v| v.as_slice()).collect();
    let mut gen = Generator::zeros(grid);
    let mut ham = vec![0.0; grid.len()];
    generator::evaluate_level(
        grid,
        problem.population(1),
        0,
        &u,
        &m_all,
        &mut ham,
        &mut gen,
    );
    (gen, u)
}

fn grids() -> Vec<Grid> {
    vec![
        Grid::new_1d(0.0, 1.0, 17, Boundary::Reflecting).unwrap(),
        Grid::new_1d(0.0, 1.0, 17, Boundary::Periodic).unwrap(),
        Grid::new_2d(
            Axis::new(0.0, 1.0, 7, Boundary::Periodic),
            Axis::new(0.0, 2.0, 5, Boundary::Reflecting),
        )
        .unwrap(),
    ]
}

fn dense(n: usize, apply: impl Fn(&[f64], &mut [f64])) -> Vec<Vec<f64>> {
    // Column j of the matrix is apply(e_j).
    let mut cols = vec![vec![0.0; n]; n];
    let mut e = vec![0.0; n];
    for (j, col) in cols.iter_mut().enumerate() {
        e[j] = 1.0;
        apply(&e, col);
        e[j] = 0.0;
    }
    cols
}

#[test]
fn fp_operator_is_the_transpose_of_the_hjb_jacobian() {
    let dt = 0.01;
    for grid in grids() {
        let problem = two_population_problem(grid, 4);
        let grid = &problem.grid();
        let n = grid.len();
        let (gen, _) = generator_for(&problem, 7);
        // HJB step Jacobian J v = v/Δt - Q v; FP operator A m = m/Δt - Qᵀ m.
        let jac = dense(n, |v, out| {
            gen.apply(grid, v, out);
            out.iter_mut().zip(v).for_each(|(o, x)| *o = x / dt - *o);
        });
        let fp = dense(n, |v, out| {
            gen.apply_transpose(grid, v, out);
            out.iter_mut().zip(v).for_each(|(o, x)| *o = x / dt - *o);
        });
        let scale = 1.0 / dt + gen.max_out_rate();
        for i in 0..n {
            for j in 0..n {
                // jac[j][i] is J_ij (column j), fp[i][j] is A_ji.
                assert!(
                    (jac[j][i] - fp[i][j]).abs() <= 1e-14 * scale,
                    "J[{i}][{j}] = {} but A[{j}][{i}] = {}",
                    jac[j][i],
                    fp[i][j]
                );
            }
        }
        // And the solvers invert exactly these: a·(J⁻¹b) = (J⁻ᵀa)·b, J(J⁻¹b) = b.
        for solver in [
            StepSolver::new(grid).unwrap(),
            StepSolver::sparse(grid).unwrap(),
        ] {
            let mut s = solver;
            s.factor(grid, &gen, 1.0 / dt).unwrap();
            let a: Vec<f64> = (0..n).map(|i| (i as f64 * 0.7).sin()).collect();
            let b: Vec<f64> = (0..n).map(|i| (i as f64 * 1.3).cos()).collect();
            let (mut x, mut y) = (b.clone(), a.clone());
            s.solve(&mut x).unwrap();
            s.solve_transpose(&mut y).unwrap();
            let lhs: f64 = a.iter().zip(&x).map(|(p, q)| p * q).sum();
            let rhs: f64 = y.iter().zip(&b).map(|(p, q)| p * q).sum();
            assert!(
                (lhs - rhs).abs() <= 1e-12 * lhs.abs().max(1.0),
                "{lhs} vs {rhs}"
            );
            let mut jx = vec![0.0; n];
            gen.apply(grid, &x, &mut jx);
            for i in 0..n {
                let r = x[i] / dt - jx[i] - b[i];
                assert!(r.abs() <= 1e-11 * scale, "J x - b = {r:e} at {i}");
            }
        }
    }
}

#[test]
fn newton_jacobian_is_the_derivative_of_the_hjb_residual() {
    let dt = 0.02;
    for grid in grids() {
        let problem = two_population_problem(grid, 4);
        let grid = &problem.grid();
        let n = grid.len();
        let (_, u) = generator_for(&problem, 11);
        let u_next: Vec<f64> = u.iter().map(|v| 0.5 * v).collect();
        let m: Vec<Vec<f64>> = vec![vec![0.8; n], vec![1.2; n]];
        let m_all: Vec<&[f64]> = m.iter().map(|v| v.as_slice()).collect();
        let source = vec![0.3; n];
        let step = HjbStep {
            grid,
            population: problem.population(1),
            k: 1,
            n: 0,
            dt,
            u_next: &u_next,
            densities: &m_all,
            cost: &source,
            discount: 0.0,
        };
        let mut buf = StepBuffers::new(grid);
        let mut gen = Generator::zeros(grid);
        let mut residual = |u: &[f64], res: &mut [f64], gen: &mut Generator| {
            step.residual(u, &mut buf, gen);
            res.copy_from_slice(buf.residual());
        };
        let mut res = vec![0.0; n];
        residual(&u, &mut res, &mut gen);
        let jac = dense(n, |v, out| {
            gen.apply(grid, v, out);
            out.iter_mut().zip(v).for_each(|(o, x)| *o = x / dt - *o);
        });
        let eps = 1e-6;
        let (mut rp, mut rm) = (vec![0.0; n], vec![0.0; n]);
        let mut g2 = Generator::zeros(grid);
        for j in 0..n {
            let mut up = u.clone();
            up[j] += eps;
            residual(&up, &mut rp, &mut g2);
            let mut um = u.clone();
            um[j] -= eps;
            residual(&um, &mut rm, &mut g2);
            for i in 0..n {
                let fd = (rp[i] - rm[i]) / (2.0 * eps);
                let scale = jac[j][i].abs().max(1.0 / dt);
                assert!(
                    (fd - jac[j][i]).abs() <= 1e-6 * scale,
                    "dR_{i}/du_{j}: fd {fd} vs assembled {}",
                    jac[j][i]
                );
            }
        }
    }
}

#[test]
fn structure_aware_1d_solvers_match_sparse_lu() {
    for grid in grids().into_iter().filter(|g| g.dim() == 1) {
        let problem = two_population_problem(grid, 4);
        let grid = &problem.grid();
        let (gen, _) = generator_for(&problem, 3);
        let b: Vec<f64> = (0..grid.len()).map(|i| 1.0 + (i as f64).sin()).collect();
        let mut fast = StepSolver::new(grid).unwrap();
        let mut lu = StepSolver::sparse(grid).unwrap();
        assert!(!matches!(fast, StepSolver::Sparse(_)));
        for s in [&mut fast, &mut lu] {
            s.factor(grid, &gen, 50.0).unwrap();
        }
        for transpose in [false, true] {
            let (mut x, mut y) = (b.clone(), b.clone());
            if transpose {
                fast.solve_transpose(&mut x).unwrap();
                lu.solve_transpose(&mut y).unwrap();
            } else {
                fast.solve(&mut x).unwrap();
                lu.solve(&mut y).unwrap();
            }
            for (p, q) in x.iter().zip(&y) {
                assert!((p - q).abs() <= 1e-13 * q.abs().max(1e-3), "{p} vs {q}");
            }
        }
    }
}

#[test]
fn fp_sweep_solves_the_adjoint_of_the_final_hjb_linearisation() {
    // After a Picard step the FP residual (m^{n+1} - m^n)/Δt - Q(u^n)ᵀ m^{n+1}, with Q rebuilt
    // from the stored u, vanishes to round-off: the FP used the exact adjoint.
    let grid = Grid::new_1d(0.0, 1.0, 60, Boundary::Reflecting).unwrap();
    let problem = two_population_problem(grid, 30);
    let nt = problem.time().nt;
    let n = problem.grid().len();
    let dt = problem.time().dt();
    let m0: Vec<Field> = problem
        .populations()
        .iter()
        .map(|p| Field::constant_in_time(nt + 1, p.initial()))
        .collect();
    for k in 0..2 {
        let mut sources = Field::filled(nt, n, 0.0);
        scheme::running_costs(&problem, k, &m0, &mut sources);
        let mut u = Field::filled(nt + 1, n, 0.0);
        let mut gens = vec![Generator::zeros(problem.grid()); nt];
        let mut ws = Workspace::new(problem.grid(), Default::default()).unwrap();
        let hjb = scheme::HjbSettings::default();
        let sweep = HjbSweep {
            problem: &problem,
            k,
            m: &m0,
            costs: &sources,
        };
        sweep
            .solve(&mut u, &mut gens, &mut ws, &hjb, false)
            .unwrap();
        let mut m = Field::filled(nt + 1, n, 0.0);
        scheme::fp_sweep(&problem, k, &gens, &mut m, &mut ws).unwrap();
        let mut gen = Generator::zeros(problem.grid());
        let mut op = vec![0.0; n];
        let mut qtm = vec![0.0; n];
        for step in 0..nt {
            let m_next = scheme::densities_at(&m0, step + 1);
            generator::evaluate_level(
                problem.grid(),
                problem.population(k),
                step,
                u.level(step),
                &m_next,
                &mut op,
                &mut gen,
            );
            gen.apply_transpose(problem.grid(), m.level(step + 1), &mut qtm);
            let (now, next) = (m.level(step), m.level(step + 1));
            for (i, q) in qtm.iter().enumerate() {
                let r = (next[i] - now[i]) / dt - q;
                let scale = next[i].abs() / dt + gen.out_rate(i) * next[i];
                assert!(
                    r.abs() <= 1e-12 * scale.max(1.0),
                    "step {step} node {i}: {r:e}"
                );
            }
        }
    }
}

#[test]
fn decoupled_populations_equal_single_solves() {
    let grid = Grid::new_1d(-1.0, 1.0, 60, Boundary::Reflecting).unwrap();
    let time = TimeGrid::new(0.5, 20).unwrap();
    let make = |k: usize| {
        let c = [0.0, 0.4, -0.4][k];
        Population::builder(
            format!("p{k}"),
            0.3 + 0.1 * k as f64,
            Quadratic::new(1.0 + k as f64),
        )
        .initial(move |x| (-(x[0] - c).powi(2) * 10.0).exp())
        .terminal(move |x| (x[0] + c).powi(2))
    };
    let kappa = [0.1, 0.2, 0.15];
    let beta = 1.5;
    // Self-couplings only: A and κ diagonal, so no population sees another.
    let coupling = |ks: &[usize]| -> Box<dyn mfg::problem::Coupling> {
        let n = ks.len();
        let mut a = vec![vec![0.0; n]; n];
        for (r, &k) in ks.iter().enumerate() {
            a[r][r] = 0.5 * kappa[k];
        }
        Box::new(Sum(vec![
            Box::new(Linear::from_rows(&a)),
            Box::new(Power {
                kappa: ks.iter().map(|&k| kappa[k]).collect(),
                beta,
            }),
        ]))
    };
    // A fixed number of iterations (tolerances unreachable), so every run does the same steps.
    let s = SolverSettings {
        stopping: Stopping {
            max_iterations: 25,
            tol_u: 0.0,
            tol_m: 0.0,
            tol_residual: 0.0,
            ..Stopping::default()
        },
        method: MethodKind::Picard(Relaxation::Fixed(0.6)),
        ..SolverSettings::default()
    };
    let joint = (0..3)
        .fold(Problem::builder(grid.clone(), time), |b, k| {
            b.population(make(k))
        })
        .boxed_coupling(coupling(&[0, 1, 2]))
        .build()
        .unwrap();
    let joint_sol = mfg::solve(&joint, &s).unwrap();
    for k in 0..3 {
        let single = Problem::builder(grid.clone(), time)
            .population(make(k))
            .boxed_coupling(coupling(&[k]))
            .build()
            .unwrap();
        let sol = mfg::solve(&single, &s).unwrap();
        let du = sol.iterate.u[0].max_abs_diff(&joint_sol.iterate.u[k]);
        let dm = sol.iterate.m[0].max_abs_diff(&joint_sol.iterate.m[k]);
        assert!(
            du <= 1e-12 && dm <= 1e-12,
            "population {k}: |Δu| = {du:e}, |Δm| = {dm:e}"
        );
    }
}

/// The HJB step residual, which the scheme computes through the generator as
/// (u - u^{n+1})/Δt - Q(u)u - ℓ(u) - F, equals the direct form
/// (u - u^{n+1})/Δt - ν Δ_h u + Ĥ(x, m, D⁻u, D⁺u) - F, written here from the grid's
/// neighbours and the Hamiltonian's value alone: the diffusion carried by Q's rates is exactly
/// ν Δ_h.
#[test]
fn hjb_residual_through_the_generator_equals_the_direct_formula() {
    let dt = 0.03;
    for grid in grids() {
        let problem = two_population_problem(grid, 4);
        let grid = problem.grid();
        let (n, d) = (grid.len(), grid.dim());
        let (_, u) = generator_for(&problem, 5);
        let u_next: Vec<f64> = u.iter().map(|v| 0.7 * v + 0.1).collect();
        let m: Vec<Vec<f64>> = vec![vec![0.6; n], vec![1.4; n]];
        let m_all: Vec<&[f64]> = m.iter().map(|v| v.as_slice()).collect();
        let source: Vec<f64> = (0..n).map(|i| (i as f64 * 0.37).cos()).collect();
        for k in 0..2 {
            let pop = problem.population(k);
            let step = HjbStep {
                grid,
                population: pop,
                k,
                n: 0,
                dt,
                u_next: &u_next,
                densities: &m_all,
                cost: &source,
                discount: 0.0,
            };
            let mut buf = StepBuffers::new(grid);
            let norm = step.residual(&u, &mut buf, &mut Generator::zeros(grid));
            let mut worst = 0.0f64;
            for i in 0..n {
                let nb = grid.neighbours(i);
                let (mut pm, mut pp, mut lap) = ([0.0; 2], [0.0; 2], 0.0);
                for a in 0..d {
                    let h = grid.h(a);
                    let (lo, hi) = (nb[2 * a], nb[2 * a + 1]);
                    if lo != mfg::grid::NONE {
                        pm[a] = (u[i] - u[lo]) / h;
                        lap += (u[lo] - u[i]) / (h * h);
                    }
                    if hi != mfg::grid::NONE {
                        pp[a] = (u[hi] - u[i]) / h;
                        lap += (u[hi] - u[i]) / (h * h);
                    }
                }
                let x = grid.point(i);
                let mloc = [m[0][i], m[1][i]];
                let ham = pop.hamiltonian().value(&x[..d], &mloc, &pm[..d], &pp[..d]);
                let want = (u[i] - u_next[i]) / dt - pop.nu() * lap + ham - source[i];
                let scale = 1.0 / dt + pop.nu() * lap.abs() + ham.abs() + u[i].abs() / dt;
                let err = (buf.residual()[i] - want).abs() / scale;
                worst = worst.max(err);
            }
            assert!(
                worst <= 1e-13,
                "{}D population {k}: relative error {worst:e}",
                d
            );
            assert!(norm.is_finite());
        }
    }
}
