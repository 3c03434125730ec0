//! The library side of `mfg validate` through the policy-file layout (docs/rl.md): the PDE's own
//! feedback α*, written as a policy file and read back, is validated exactly like the PDE policy
//! and its exploitability vanishes under refinement (h, Δt_RL and the velocity spacing refined
//! together, as in tests/rl_pde.rs); a policy of agents standing still is reported far from
//! both references and fails the thresholds; bad policy files (shapes, sums, signs, NaN, a CFL
//! violation, missing populations) are errors naming the dataset and the offending entry.

mod common;
mod rl_common;

use mfg::io::{read_policy, write_policy};
use mfg::rl::validate::{
    validate, EquilibriumMethod, Imported, ImportedFile, ImportedPolicy, PolicySource, Settings,
    Thresholds, Validation,
};
use mfg::{Problem, Solution, SolverSettings};
use rl_common::{order, problem_1d, velocities_1d};
use std::path::Path;

const LEVELS: [usize; 3] = [10, 20, 40];

fn solved(n: usize) -> (Problem, Solution) {
    let p = problem_1d(n);
    let sol = mfg::solve(&p, &SolverSettings::default()).unwrap();
    (p, sol)
}

/// The velocities of tests/rl_pde.rs, no equilibrium run unless asked.
fn settings(n: usize) -> Settings {
    let mut s = Settings::new(2);
    s.velocities = vec![Some(velocities_1d(n)); 2];
    s.equilibrium.method = EquilibriumMethod::None;
    s
}

/// The PDE's feedback α* of every population as a policy file's contents.
fn feedback_file(problem: &Problem, sol: &Solution) -> ImportedFile {
    ImportedFile {
        path: String::new(),
        source: Some("the PDE solution's α*".into()),
        horizon: problem.time().horizon,
        policies: (0..problem.k())
            .map(|k| {
                let name = problem.population(k).name();
                ImportedPolicy::feedback(name, &sol.controls(problem, k), problem.grid())
            })
            .collect(),
    }
}

/// The tabular policy of a validation as a policy file's contents.
fn tabular_file(problem: &Problem, v: &Validation) -> ImportedFile {
    ImportedFile {
        path: String::new(),
        source: None,
        horizon: problem.time().horizon,
        policies: (0..problem.k())
            .map(|k| {
                ImportedPolicy::tabular(
                    &v.names[k],
                    v.policy.population(k),
                    &v.game.velocities[k],
                    1,
                )
            })
            .collect(),
    }
}

/// Writes `file` to `path`, reads it back and validates it.
fn through_file(
    path: &Path,
    file: &ImportedFile,
    problem: &Problem,
    sol: &Solution,
    s: &Settings,
) -> Result<Validation, String> {
    write_policy(path, file).map_err(|e| e.to_string())?;
    let read = read_policy(path).map_err(|e| e.to_string())?;
    assert_eq!(read.policies.len(), file.policies.len());
    validate(problem, sol, s, &PolicySource::Imported(read)).map_err(|e| e.to_string())
}

#[test]
fn pde_policy_through_a_policy_file_has_vanishing_exploitability() {
    let dir = tempfile::tempdir().unwrap();
    let (mut expl, mut dens) = (vec![], vec![]);
    for &n in &LEVELS {
        let (p, sol) = solved(n);
        let s = settings(n);
        let pde = validate(&p, &sol, &s, &PolicySource::Pde).unwrap();
        let path = dir.path().join(format!("alpha_{n}.h5"));
        let fb = through_file(&path, &feedback_file(&p, &sol), &p, &sol, &s).unwrap();
        // The file holds α* to the bit and is projected like the PDE policy: the same profile.
        assert_eq!(fb.policy, pde.policy, "n = {n}");
        assert_eq!(fb.exploitability, pde.exploitability);
        assert!(fb.source.contains("feedback"), "{}", fb.source);
        let path = dir.path().join(format!("pi_{n}.h5"));
        let tab = through_file(&path, &tabular_file(&p, &pde), &p, &sol, &s).unwrap();
        assert_eq!(tab.policy, pde.policy, "n = {n}");
        assert_eq!(tab.game, pde.game);
        let d = fb
            .metrics
            .against_reference
            .iter()
            .map(|m| m.density_l1)
            .fold(0.0, f64::max);
        println!(
            "n = {n}: {} steps, exploitability {:.3e} (relative {:.3e}), sup_t L1 {d:.3e}",
            fb.game.steps, fb.exploitability, fb.relative_exploitability
        );
        expl.push(fb.exploitability);
        dens.push(d);
    }
    assert!(
        order(expl[0], expl[1]) > 1.5 && order(expl[1], expl[2]) > 1.5,
        "{expl:?}"
    );
    assert!(
        order(dens[0], dens[1]) > 0.8 && order(dens[1], dens[2]) > 0.8,
        "{dens:?}"
    );
}

#[test]
fn standing_still_is_far_from_both_references() {
    let n = 20;
    let (p, sol) = solved(n);
    let mut s = settings(n);
    let pde = validate(&p, &sol, &s, &PolicySource::Pde).unwrap();
    let mut file = tabular_file(&p, &pde);
    for pol in &mut file.policies {
        let Imported::Tabular { pi, velocities, .. } = &mut pol.data else {
            unreachable!()
        };
        let zero = velocities.iter().position(|v| *v == 0.0).unwrap();
        let a = velocities.len();
        for (i, x) in pi.iter_mut().enumerate() {
            *x = if i % a == zero { 1.0 } else { 0.0 };
        }
    }
    s.equilibrium.method = EquilibriumMethod::MirrorDescent;
    let dir = tempfile::tempdir().unwrap();
    let still = through_file(&dir.path().join("still.h5"), &file, &p, &sol, &s).unwrap();
    let eq = still.equilibrium.as_ref().unwrap();
    assert!(eq.reached, "relative {:.3e}", eq.relative);
    let against = still.metrics.against_equilibrium.as_ref().unwrap();
    for (k, e) in against.iter().enumerate() {
        let r = &still.metrics.against_reference[k];
        println!(
            "{}: sup_t L1 {:.3} (PDE), {:.3} (equilibrium); control error {:.3}",
            still.names[k],
            r.density_l1,
            e.density_l1,
            r.control_error.unwrap()
        );
        assert!(r.density_l1 > 0.6 && e.density_l1 > 0.6);
        assert!(r.control_error.unwrap() > 0.2);
        let pde_k = &pde.metrics.against_reference[k];
        assert!(pde_k.density_l1 < 0.1 && pde_k.control_error.unwrap() < 0.1);
    }
    println!(
        "exploitability: standing still {:.3e}, PDE policy {:.3e}, equilibrium {:.3e} after {} \
         iterations",
        still.exploitability, pde.exploitability, eq.exploitability, eq.iterations
    );
    assert!(still.exploitability > 0.3);
    assert!(still.exploitability > 10.0 * pde.exploitability);
    let limits = Thresholds {
        max_exploitability: Some(0.05),
        max_density_error: Some(0.1),
        max_control_error: Some(0.1),
    };
    let checks = limits.check(&still);
    assert_eq!(checks.len(), 5);
    assert!(checks.iter().all(|c| !c.passed), "{checks:?}");
    assert!(limits.check(&pde).iter().all(|c| c.passed));
}

/// The error of validating `file` (written and read back), as text.
fn file_error(
    dir: &Path,
    name: &str,
    file: &ImportedFile,
    p: &Problem,
    sol: &Solution,
    s: &Settings,
) -> String {
    let path = dir.join(format!("{name}.h5"));
    match through_file(&path, file, p, sol, s) {
        Ok(_) => panic!("{name}: accepted"),
        Err(e) => e,
    }
}

fn tabular(file: &mut ImportedFile, k: usize) -> (&mut Vec<usize>, &mut Vec<f64>) {
    match &mut file.policies[k].data {
        Imported::Tabular { shape, pi, .. } => (shape, pi),
        Imported::Feedback { .. } => unreachable!(),
    }
}

fn feedback(file: &mut ImportedFile, k: usize) -> (&mut Vec<usize>, &mut Vec<f64>) {
    match &mut file.policies[k].data {
        Imported::Feedback { shape, alpha, .. } => (shape, alpha),
        Imported::Tabular { .. } => unreachable!(),
    }
}

#[test]
fn bad_policy_files_name_the_dataset_and_the_entry() {
    let n = 10;
    let (p, sol) = solved(n);
    let s = settings(n);
    let pde = validate(&p, &sol, &s, &PolicySource::Pde).unwrap();
    let (steps, nodes, actions) = (pde.game.steps, 10, pde.game.velocities[0].len());
    let good = tabular_file(&p, &pde);
    let dir = tempfile::tempdir().unwrap();
    let err = |name: &str, f: &ImportedFile| file_error(dir.path(), name, f, &p, &sol, &s);
    let has = |e: &str, parts: &[&str]| {
        assert!(parts.iter().all(|x| e.contains(x)), "{parts:?} not in: {e}");
    };

    let mut f = good.clone();
    let (shape, pi) = tabular(&mut f, 1);
    shape[1] = nodes + 1;
    pi.extend(vec![0.0; steps * actions]);
    let e = err("shape", &f);
    has(
        &e,
        &[
            "invalid",
            "/policies/b/pi",
            "shape",
            "(N, S, A)",
            "(steps, 10,",
        ],
    );

    let mut f = good.clone();
    let (_, pi) = tabular(&mut f, 0);
    let i = 3 * nodes * actions + 4 * actions;
    pi[i] += 0.01;
    let e = err("sum", &f);
    has(&e, &["/policies/a/pi", "row [3, 4, :]", "sums to", "1e-9"]);

    let mut f = good.clone();
    let (_, pi) = tabular(&mut f, 0);
    pi[i] = -0.25;
    pi[i + 1] += 0.25;
    let e = err("negative entry", &f);
    has(&e, &["/policies/a/pi", "[3, 4, 0]", "-0.25", "≥ 0"]);

    let mut f = good.clone();
    tabular(&mut f, 1).1[7] = f64::NAN;
    let e = err("nan", &f);
    has(&e, &["/policies/b/pi", "[0, 0, 7]", "NaN"]);

    // Too few steps for the velocities: Δt · max|Q_ii| > 1.
    let mut f = good.clone();
    for k in 0..2 {
        let (shape, pi) = tabular(&mut f, k);
        shape[0] = steps / 4;
        pi.truncate(steps / 4 * nodes * actions);
    }
    let e = err("cfl", &f);
    has(&e, &["/policies/a/pi", "CFL violated", "steps"]);

    let mut f = good.clone();
    let (shape, pi) = tabular(&mut f, 1);
    shape[0] = steps - 1;
    pi.truncate((steps - 1) * nodes * actions);
    let e = err("steps", &f);
    has(&e, &["/policies/b/pi", "steps", "/policies/a/pi"]);

    let mut f = good.clone();
    f.policies.pop();
    let e = err("missing", &f);
    has(&e, &["/policies/b", "no policy for population \"b\""]);

    let mut f = good.clone();
    f.horizon = 1.0;
    has(&err("horizon", &f), &["horizon", "T = 0.5"]);

    let mut f = good.clone();
    if let Imported::Tabular { velocities, .. } = &mut f.policies[0].data {
        velocities[2] = f64::INFINITY;
    }
    has(
        &err("velocities", &f),
        &["/policies/a/velocities", "[2, 0]", "finite"],
    );

    let fb = feedback_file(&p, &sol);
    let mut f = fb.clone();
    let (shape, alpha) = feedback(&mut f, 0);
    shape[0] -= 1;
    alpha.truncate(shape[0] * nodes);
    has(
        &err("feedback shape", &f),
        &["/policies/a/alpha", "shape (10, 10, 1)", "(11, 10, 1)"],
    );

    let mut f = fb.clone();
    feedback(&mut f, 1).1[2 * nodes + 3] = f64::NAN;
    has(
        &err("feedback nan", &f),
        &["/policies/b/alpha", "[2, 3, 0]", "NaN", "finite"],
    );
}

/// A report holds the policy in the policy-file layout (validating it again gives the same
/// numbers), the flows, every metric and the curves, as written.
#[test]
fn report_reads_back() {
    use mfg::io::{write_report, ReportContext};
    use mfg::rl::validate::{AlgorithmKind, AlgorithmSettings};
    let n = 10;
    let (p, sol) = solved(n);
    let mut s = settings(n);
    s.equilibrium.method = EquilibriumMethod::MirrorDescent;
    let mut algo = AlgorithmSettings::new(AlgorithmKind::FictitiousPlay);
    algo.iterations = 30;
    let v = validate(&p, &sol, &s, &PolicySource::Algorithm(algo)).unwrap();
    assert_eq!(v.curve.len(), 30);
    let limits = Thresholds {
        max_exploitability: Some(1.0),
        max_density_error: Some(1e-6),
        max_control_error: None,
    };
    let checks = limits.check(&v);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.h5");
    let ctx = ReportContext {
        reference: "solved now",
        config: None,
        checks: &checks,
    };
    write_report(&path, &p, &v, &ctx).unwrap();

    let back = read_policy(&path).unwrap();
    s.equilibrium.method = EquilibriumMethod::None;
    let again = validate(&p, &sol, &s, &PolicySource::Imported(back)).unwrap();
    assert_eq!(again.policy, v.policy);
    assert_eq!(again.exploitability, v.exploitability);

    let f = hdf5::File::open(&path).unwrap();
    let attr = |name: &str| f.attr(name).unwrap().read_scalar::<f64>().unwrap();
    assert_eq!(attr("exploitability"), v.exploitability);
    for (group, m) in [
        ("pde", &v.metrics.against_reference),
        (
            "equilibrium",
            v.metrics.against_equilibrium.as_ref().unwrap(),
        ),
    ] {
        let read = |d: &str| {
            f.dataset(&format!("metrics/{group}/{d}"))
                .unwrap()
                .read_raw::<f64>()
                .unwrap()
        };
        let col = |g: fn(&mfg::rl::metrics::Metrics) -> f64| m.iter().map(g).collect::<Vec<_>>();
        assert_eq!(read("exploitability"), col(|m| m.exploitability));
        assert_eq!(read("density_l1"), col(|m| m.density_l1));
        assert_eq!(read("w1"), col(|m| m.w1.unwrap()));
        assert_eq!(read("control_error"), col(|m| m.control_error.unwrap()));
        assert_eq!(read("value_error"), col(|m| m.value_error));
    }
    let mu = f.dataset("populations/b/mu").unwrap();
    assert_eq!(mu.shape(), vec![v.game.steps + 1, n]);
    assert_eq!(mu.read_raw::<f64>().unwrap(), v.flow.population(1));
    let curve = f
        .dataset("curve/exploitability")
        .unwrap()
        .read_raw::<f64>()
        .unwrap();
    let want: Vec<f64> = v.curve.iter().map(|c| c.exploitability).collect();
    assert_eq!(curve, want);
    let eq = f.group("equilibrium").unwrap();
    assert_eq!(
        eq.attr("iterations").unwrap().read_scalar::<u64>().unwrap(),
        v.equilibrium.as_ref().unwrap().iterations as u64
    );
    let t = f.group("thresholds").unwrap();
    assert_eq!(t.attr("passed").unwrap().read_scalar::<u64>().unwrap(), 0);
    let failed = t
        .attr("failed")
        .unwrap()
        .read_raw::<hdf5::types::VarLenUnicode>()
        .unwrap();
    assert_eq!(failed.len(), 2, "{failed:?}");
    assert!(failed[0].as_str().starts_with("max_density_error of a:"));
}
