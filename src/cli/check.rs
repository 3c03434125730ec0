//! What `mfg check` prints besides "valid": the discrete system a solve would set up (nodes,
//! levels, unknowns 2 K (Nt + 1) N), the method (for `auto`: what it will run and why), and the
//! memory estimate of
//! [`mfg::solve::MemoryEstimate`] against the limit, so that a problem too large for the machine
//! is seen before it is started, and the Lasry–Lions monotonicity diagnostic of the coupling at
//! the initial densities ([`Monotonicity`]), with its warning when it fails.

use mfg::problem::Monotonicity;
use mfg::solve::auto::Plan;
use mfg::solve::budget::{available_memory, bytes};
use mfg::solve::stationary::StationarySettings;
use mfg::solve::{MethodKind, Relaxation, Sizes};
use mfg::{Problem, SolverSettings};

/// The method as a user would name it in the configuration, with its main parameter.
pub fn method_name(settings: &SolverSettings) -> String {
    match settings.method {
        MethodKind::Auto(_) => "auto".into(),
        MethodKind::Picard(Relaxation::Fixed(t)) => format!("picard (relaxation θ = {t})"),
        MethodKind::Picard(Relaxation::Adaptive) => "picard (adaptive relaxation)".into(),
        MethodKind::Picard(Relaxation::FictitiousPlay) => "fictitious-play (θ = 1/(n+1))".into(),
        MethodKind::Anderson(a) => format!("anderson (depth {})", a.depth),
        MethodKind::Newton(n) => format!("newton ({:?} linear solver)", n.linear_solver)
            .replace("Auto", "auto")
            .replace("Direct", "direct")
            .replace("Krylov", "krylov"),
    }
}

/// The lines `mfg check` prints about the solve the configuration describes.
pub fn plan(problem: &Problem, settings: &SolverSettings) -> Result<Vec<String>, mfg::Error> {
    let sizes = Sizes::of(problem);
    let e = settings.memory_estimate(&sizes)?;
    let nodes: usize = problem.grid().axes().iter().map(|a| a.n).product();
    let limit = match settings.memory_limit {
        Some(l) => format!("limit {}", bytes(l)),
        None => match available_memory() {
            Some(a) => format!("{} available", bytes(a)),
            None => "available memory unknown".into(),
        },
    };
    let method = match settings.method {
        MethodKind::Auto(a) => Plan::of(&sizes, settings, &a)?.describe(),
        _ => method_name(settings),
    };
    Ok(vec![
        format!(
            "unknowns: {} = 2 × {} populations × {} levels × {nodes} nodes",
            e.unknowns,
            sizes.populations,
            sizes.steps + 1
        ),
        format!(
            "method: {method}, at most {} iterations",
            settings.stopping.max_iterations
        ),
        format!(
            "memory: about {} (fields {}, step solver {}, Newton {}); {limit}",
            bytes(e.total()),
            bytes(e.fields),
            bytes(e.step),
            bytes(e.newton)
        ),
        Monotonicity::at_initial(problem).describe(),
    ])
}

/// The lines `mfg check` prints about a stationary solve: the unknowns (u^k, m^k on every
/// node, λ^k for the ergodic populations) and the relaxation's limits.
pub fn plan_stationary(problem: &Problem, settings: &StationarySettings) -> Vec<String> {
    let nodes = problem.grid().len();
    let kinds: Vec<String> = problem
        .populations()
        .iter()
        .map(|p| {
            if p.discount() > 0.0 {
                format!("{} discounted (rho = {})", p.name(), p.discount())
            } else {
                format!("{} ergodic (unknown lambda)", p.name())
            }
        })
        .collect();
    let ergodic = problem
        .populations()
        .iter()
        .filter(|p| p.discount() == 0.0)
        .count();
    vec![
        format!("stationary: {}", kinds.join(", ")),
        format!(
            "unknowns: {} = 2 × {} populations × {nodes} nodes + {ergodic} constants lambda",
            2 * problem.k() * nodes + ergodic,
            problem.k()
        ),
        format!(
            "method: damped relaxation with policy-iteration HJB solves (sparse LU), at most {} \
             iterations",
            settings.max_iterations
        ),
        Monotonicity::at_initial(problem).describe(),
    ]
}
