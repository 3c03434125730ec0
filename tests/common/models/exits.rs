//! Problems with exits (docs/geometry.md): the stationary exit problem with its Hopf–Cole
//! solution, and two populations leaving a 1D corridor and a 2D room with a pillar and two doors.

use mfg::grid::{Axis, Boundary, Grid, TimeGrid};
use mfg::problem::coupling::Coupling;
use mfg::problem::hamiltonian::{Anisotropic, Quadratic};
use mfg::problem::{Exit, Population, Problem, Shape, Side};

/// The stationary exit problem −ν u'' + ½ u'² = 1 on (−L, L), u(±L) = 0: the expected time to
/// leave, u(x) = −2ν log[cosh(x/(√2 ν)) / cosh(L/(√2 ν))] (w = e^{−u/(2ν)} solves
/// w'' = w/(2ν²)).
pub fn hopf_cole_exit_exact(nu: f64, l: f64, x: f64) -> f64 {
    let c = 1.0 / (2f64.sqrt() * nu);
    -2.0 * nu * ((c * x).cosh() / (c * l).cosh()).ln()
}

/// The exit problem on n nodes placed so that the first and the last sit on x = ∓L (the
/// axis extends half a cell beyond), both exits with cost 0, running cost V = 1, H = ½|p|², no
/// coupling. With `stationary_terminal` the terminal cost is the exact stationary solution (so
/// every level approximates it); otherwise g = 0 and u(0) approaches it as T grows.
pub fn hopf_cole_exit(
    nu: f64,
    l: f64,
    n: usize,
    horizon: f64,
    nt: usize,
    stationary_terminal: bool,
) -> Problem {
    let h = 2.0 * l / (n - 1) as f64;
    let grid = Grid::new_1d(-l - 0.5 * h, l + 0.5 * h, n, Boundary::Reflecting).unwrap();
    let sigma = (2.0 * nu).sqrt();
    let mut a = Population::builder("a", sigma, Quadratic::new(1.0))
        .potential(|_| 1.0)
        .initial(|x| (-x[0] * x[0] / 0.1).exp());
    if stationary_terminal {
        a = a.terminal(move |x| hopf_cole_exit_exact(nu, l, x[0]));
    }
    Problem::builder(grid, TimeGrid::new(horizon, nt).unwrap())
        .population(a)
        .exit(Exit::side(Side::XMin))
        .exit(Exit::side(Side::XMax))
        .build()
        .unwrap()
}

/// 1D, K = 2: both populations start in the corridor [0, 1] and may leave at x = 1 (exit costs
/// 0 and 0.3); "b" may also leave through an interior door region around x = 0.3 (at exit cost
/// 0.5), which "a" cannot reach: its region stops before it.
pub fn corridor_1d(nx: usize, nt: usize, c: Box<dyn Coupling>) -> Problem {
    corridor(nx, nt, c, [0.0, 0.0])
}

/// [`corridor_1d`] with discount rates ρ = (0.8, 2.0).
pub fn corridor_1d_discounted(nx: usize, nt: usize, c: Box<dyn Coupling>) -> Problem {
    corridor(nx, nt, c, [0.8, 2.0])
}

fn corridor(nx: usize, nt: usize, c: Box<dyn Coupling>, rho: [f64; 2]) -> Problem {
    let grid = Grid::new_1d(0.0, 1.0, nx, Boundary::Reflecting).unwrap();
    let a = Population::builder("a", 0.4, Quadratic::new(1.0))
        .initial(|x| {
            if x[0] >= 0.4 {
                (-(x[0] - 0.6).powi(2) / 0.02).exp() + 0.05
            } else {
                0.0
            }
        })
        .potential(|_| 0.5)
        .discount(rho[0])
        .region(Shape::rect(&[0.4], &[1.0]));
    let b = Population::builder("b", 0.3, Quadratic::new(1.5))
        .initial(|x| (-(x[0] - 0.5).powi(2) / 0.05).exp() + 0.02)
        .potential(|x| 0.3 + 0.2 * x[0])
        .terminal(|x| (x[0] - 0.4).powi(2))
        .exit_cost(|x| if x[0] > 0.5 { 0.3 } else { 0.5 })
        .discount(rho[1]);
    Problem::builder(grid, TimeGrid::new(0.6, nt).unwrap())
        .population(a)
        .population(b)
        .exit(Exit::side(Side::XMax))
        .exit(Exit::Region(Shape::disc(&[0.3], 0.03).into()))
        .boxed_coupling(c)
        .build()
        .unwrap()
}

/// 2D, K = 2: a room [0, 2] × [0, 1] with a pillar, a door in the right wall (y ∈ [0.4, 0.6])
/// and one in the bottom wall (x ∈ [0.3, 0.6]); "walkers" and slower "wheelchairs"
/// (anisotropic cost), the latter paying more at the bottom door.
pub fn room_2d(nx: usize, ny: usize, nt: usize, c: Box<dyn Coupling>) -> Problem {
    let grid = Grid::new_2d(
        Axis::new(0.0, 2.0, nx, Boundary::Reflecting),
        Axis::new(0.0, 1.0, ny, Boundary::Reflecting),
    )
    .unwrap();
    let pillar = Shape::disc(&[1.2, 0.5], 0.15);
    let p = pillar.clone();
    let walkers = Population::builder("walkers", 0.4, Quadratic::new(1.0))
        .initial(move |x| {
            if p.contains(x) {
                0.0
            } else {
                (-((x[0] - 0.6).powi(2) + (x[1] - 0.6).powi(2)) / 0.05).exp() + 0.05
            }
        })
        .potential(|_| 1.0);
    let p = pillar.clone();
    let wheelchairs = Population::builder("wheelchairs", 0.3, Anisotropic::new(vec![2.0, 3.0]))
        .initial(move |x| {
            if p.contains(x) {
                0.0
            } else {
                (-((x[0] - 1.0).powi(2) + (x[1] - 0.3).powi(2)) / 0.05).exp() + 0.05
            }
        })
        .potential(|_| 1.0)
        .exit_cost(|x| if x[1] < 0.2 { 0.4 } else { 0.0 });
    Problem::builder(grid, TimeGrid::new(0.5, nt).unwrap())
        .population(walkers)
        .population(wheelchairs)
        .obstacle(pillar)
        .exit(Exit::door(Side::XMax, 0.4, 0.6))
        .exit(Exit::door(Side::YMin, 0.3, 0.6))
        .boxed_coupling(c)
        .build()
        .unwrap()
}
