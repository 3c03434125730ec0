//! Problems on restricted state spaces (docs/geometry.md): a population confined to a region of a
//! larger grid, obstacles removing nodes for everybody, and the same problems posed on the
//! region alone, for the region = sub-grid, wall and Jacobian tests.

use mfg::grid::{Axis, Boundary, Grid, TimeGrid};
use mfg::problem::coupling::Coupling;
use mfg::problem::hamiltonian::{Anisotropic, Power, Quadratic};
use mfg::problem::{Population, Problem, Shape};
use mfg::solve::{MethodKind, Relaxation, SolverSettings, Stopping};

/// Exactly `iterations` damped Picard iterations (θ = 0.5, no tolerance can stop them): two
/// problems whose discrete equations agree then follow the same iterates to round-off.
pub fn fixed_picard(iterations: usize) -> SolverSettings {
    SolverSettings {
        method: MethodKind::Picard(Relaxation::Fixed(0.5)),
        stopping: Stopping {
            max_iterations: iterations,
            tol_u: 0.0,
            tol_m: 0.0,
            tol_residual: 0.0,
            ..Stopping::default()
        },
        ..SolverSettings::default()
    }
}

/// The region of population "a" in the masked crossing problems: a box without a disc.
pub fn region_2d() -> Shape {
    Shape::Difference {
        from: Box::new(Shape::rect(&[0.2, 0.0], &[1.7, 1.0])),
        remove: vec![Shape::disc(&[1.0, 0.5], 0.22)],
    }
}

/// An obstacle of both populations in the masked 2D crossing problem.
pub fn obstacle_2d() -> Shape {
    Shape::Polygon {
        vertices: vec![[0.2, 0.6], [0.8, 0.6], [0.5, 1.0]],
    }
}

/// 1D: "a" lives on [-0.6, 0.7] minus the obstacle [0.1, 0.25]; "b" everywhere but the
/// obstacle. Same fields as the crossing problem, zero on removed nodes.
pub fn masked_1d(nx: usize, nt: usize, c: Box<dyn Coupling>) -> Problem {
    let grid = Grid::new_1d(-1.0, 1.0, nx, Boundary::Reflecting).unwrap();
    let region = Shape::rect(&[-0.6], &[0.7]);
    let obstacle = Shape::rect(&[0.1], &[0.25]);
    let (r, o) = (region.clone(), obstacle.clone());
    let a = Population::builder("a", 0.5, Quadratic::new(1.0))
        .initial(move |x| {
            if r.contains(x) && !o.contains(x) {
                (-(x[0] + 0.4).powi(2) / 0.08).exp() + 0.05
            } else {
                0.0
            }
        })
        .terminal(|x| (x[0] - 0.5).powi(2))
        .potential(|x| 0.2 * x[0] * x[0])
        .region(region);
    let o = obstacle.clone();
    let b = Population::builder("b", 0.4, Power::new(1.5, 1.3))
        .initial(move |x| {
            if o.contains(x) {
                0.0
            } else {
                (-(x[0] - 0.3).powi(2) / 0.05).exp() + 0.02
            }
        })
        .terminal(|x| 0.8 * (x[0] + 0.4).powi(2));
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .obstacle(obstacle)
        .boxed_coupling(c)
        .build()
        .unwrap()
}

/// 2D: "a" on [`region_2d`], both populations without [`obstacle_2d`].
pub fn masked_2d(nx: usize, ny: usize, nt: usize, c: Box<dyn Coupling>) -> Problem {
    masked_2d_drift(nx, ny, nt, c, false)
}

/// [`masked_2d`], with a drift b(x) for both populations when `drift` (a rotating wind for
/// "a", a constant one for "b", so that both signs of every component occur).
pub fn masked_2d_drift(
    nx: usize,
    ny: usize,
    nt: usize,
    c: Box<dyn Coupling>,
    drift: bool,
) -> Problem {
    let grid = Grid::new_2d(
        Axis::new(0.0, 2.0, nx, Boundary::Reflecting),
        Axis::new(0.0, 1.0, ny, Boundary::Periodic),
    )
    .unwrap();
    let (r, o) = (region_2d(), obstacle_2d());
    let a = Population::builder("a", 0.5, Quadratic::new(1.0))
        .initial(move |x| {
            if r.contains(x) && !o.contains(x) {
                (-((x[0] - 0.5).powi(2) + (x[1] - 0.5).powi(2)) / 0.1).exp() + 0.05
            } else {
                0.0
            }
        })
        .terminal(|x| (x[0] - 1.6).powi(2))
        .region(region_2d());
    let o = obstacle_2d();
    let b = Population::builder("b", 0.4, Anisotropic::new(vec![1.0, 3.0]))
        .initial(move |x| {
            if o.contains(x) {
                0.0
            } else {
                (-((x[0] - 1.5).powi(2) + (x[1] - 0.4).powi(2)) / 0.1).exp() + 0.05
            }
        })
        .terminal(|x| (x[0] - 0.4).powi(2) + 0.3 * (x[1] - 0.5).powi(2));
    let (a, b) = if drift {
        (
            a.drift(|x, b| {
                b[0] = 0.8 * (std::f64::consts::TAU * x[1]).sin();
                b[1] = -0.6 * (x[0] - 1.0);
            }),
            b.drift(|_, b| {
                b[0] = -0.5;
                b[1] = 0.3;
            }),
        )
    } else {
        (a, b)
    };
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(a)
        .population(b)
        .obstacle(obstacle_2d())
        .boxed_coupling(c)
        .build()
        .unwrap()
}

/// One population with a Gaussian start and a quadratic target on `grid`, restricted to
/// `region` when given (the fields are those of the grid's coordinates, so that the restricted
/// problem and the problem posed on the region alone see the same values).
pub fn single(grid: Grid, nt: usize, region: Option<Shape>) -> Problem {
    let d = grid.dim();
    let inside = region.clone();
    let mut a = Population::builder("a", 0.4, Quadratic::new(1.0))
        .initial(move |x| {
            if inside.as_ref().is_some_and(|r| !r.contains(x)) {
                return 0.0;
            }
            let r2: f64 = (0..d).map(|a| (x[a] - 0.35).powi(2)).sum();
            (-r2 / 0.02).exp() + 0.1
        })
        .terminal(move |x| (0..d).map(|a| (x[a] - 0.6).powi(2)).sum())
        .potential(|x| 0.5 * x[0]);
    if let Some(r) = region {
        a = a.region(r);
    }
    Problem::builder(grid, TimeGrid::new(0.4, nt).unwrap())
        .population(a)
        .coupling(mfg::problem::coupling::Log::diagonal(&[0.05]))
        .build()
        .unwrap()
}
