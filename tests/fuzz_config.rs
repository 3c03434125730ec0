//! A fuzz corpus over the configuration reader, generated from the shipped examples: every key
//! deleted, every value retyped (number ↔ string ↔ table ↔ array), extreme numbers (0, −1,
//! 1e300, NaN, ±∞, i64::MAX, 2⁶³ as a float) at every number, broken expressions at every
//! string, and the texts cut short and garbled, each in TOML and in YAML. Every mutation is
//! parsed and built (the problem sampled, the memory estimate checked) in this process:
//! none may panic (a panic is caught and reported; an abort would kill the test), and every
//! rejection must say where ([`names_a_place`]): the mutated key, the line of a syntax or type
//! error, or the configuration field whose value is refused.

use mfg::config::{Config, Format};
use std::path::Path;
use toml::Value;

/// The shipped examples, coarsened so that the thousands of builds stay fast.
fn examples() -> Vec<(&'static str, Value)> {
    ["two_groups_1d.toml", "corridor_2d.toml"]
        .into_iter()
        .map(|name| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("examples")
                .join(name);
            let mut v: Value = toml::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
            v["grid"]["x"]["n"] = Value::Integer(12);
            if let Some(y) = v["grid"].get_mut("y") {
                y["n"] = Value::Integer(6);
            }
            v["time"]["steps"] = Value::Integer(4);
            (name, v)
        })
        .collect()
}

/// A path to a value: table keys and array indices.
#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn leaves(v: &Value, prefix: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    match v {
        Value::Table(t) => {
            for (k, child) in t {
                prefix.push(Step::Key(k.clone()));
                out.push(prefix.clone());
                leaves(child, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                prefix.push(Step::Index(i));
                out.push(prefix.clone());
                leaves(child, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

fn get_mut<'a>(v: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(v, |v, s| match s {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

/// The key a rejection must name: the last key of the path (for an array element, the key of
/// the array).
fn key_of(path: &[Step]) -> String {
    path.iter()
        .rev()
        .find_map(|s| match s {
            Step::Key(k) => Some(k.clone()),
            Step::Index(_) => None,
        })
        .unwrap_or_default()
}

/// One mutated configuration: its text, format, and the word its rejection must contain.
struct Case {
    label: String,
    text: String,
    format: Format,
    names: Vec<String>,
}

/// Adds the TOML and the YAML text of `v` to `out`.
fn push(out: &mut Vec<Case>, label: String, v: &Value, key: String) {
    let names = vec![key];
    out.push(Case {
        label: format!("{label} (toml)"),
        text: toml::to_string(v).unwrap(),
        format: Format::Toml,
        names: names.clone(),
    });
    out.push(Case {
        label: format!("{label} (yaml)"),
        text: serde_norway::to_string(v).unwrap(),
        format: Format::Yaml,
        names,
    });
}

fn cases() -> Vec<Case> {
    let mut out = Vec::new();
    let extreme = [
        Value::Integer(0),
        Value::Integer(-1),
        Value::Float(1e300),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::Float(f64::NEG_INFINITY),
        Value::Integer(i64::MAX),
        Value::Float(9.3e18),
    ];
    let broken = [
        "x +",
        "sin(",
        "1/0",
        "x ** 2",
        "exp(1000 * x)",
        "nan",
        "",
        "z",
    ];
    for (name, base) in examples() {
        let mut paths = Vec::new();
        leaves(&base, &mut Vec::new(), &mut paths);
        for path in &paths {
            let key = key_of(path);
            let here = format!("{name}: {path:?}");
            // Deleted.
            let mut v = base.clone();
            let (last, parent) = path.split_last().unwrap();
            match (get_mut(&mut v, parent), last) {
                (Value::Table(t), Step::Key(k)) => {
                    t.remove(k);
                }
                (Value::Array(a), Step::Index(i)) => {
                    a.remove(*i);
                }
                _ => unreachable!(),
            }
            push(&mut out, format!("{here} deleted"), &v, key.clone());
            // Retyped.
            let original = get_mut(&mut base.clone(), path).clone();
            let retypes: Vec<Value> = match original {
                Value::String(_) => vec![Value::Integer(1), Value::Array(vec![])],
                Value::Integer(_) | Value::Float(_) => {
                    vec![
                        Value::String("abc".into()),
                        Value::Table(Default::default()),
                    ]
                }
                Value::Boolean(_) => vec![Value::String("yes".into())],
                Value::Array(_) => vec![Value::String("[1, 2]".into()), Value::Float(2.0)],
                Value::Table(_) => vec![Value::Float(1.0), Value::Array(vec![])],
                Value::Datetime(_) => vec![Value::Integer(0)],
            };
            for (i, r) in retypes.into_iter().enumerate() {
                let mut v = base.clone();
                *get_mut(&mut v, path) = r;
                push(&mut out, format!("{here} retyped {i}"), &v, key.clone());
            }
            // Extreme numbers and broken expressions.
            match original {
                Value::Integer(_) | Value::Float(_) => {
                    for (i, e) in extreme.iter().enumerate() {
                        let mut v = base.clone();
                        *get_mut(&mut v, path) = e.clone();
                        push(&mut out, format!("{here} extreme {i}"), &v, key.clone());
                    }
                }
                Value::String(_) => {
                    for b in broken {
                        let mut v = base.clone();
                        *get_mut(&mut v, path) = Value::String(b.into());
                        push(&mut out, format!("{here} = {b:?}"), &v, key.clone());
                    }
                }
                _ => {}
            }
        }
        // Texts cut short and garbled: the error must say where.
        let text = toml::to_string(&base).unwrap();
        let bytes = text.as_bytes();
        for i in 1..40 {
            let at = bytes.len() * i / 41;
            let at = (0..=at).rev().find(|&j| text.is_char_boundary(j)).unwrap();
            let cut = text[..at].to_string();
            out.push(Case {
                label: format!("{name} cut at {at}"),
                text: cut,
                format: Format::Toml,
                names: vec!["line".into(), "missing".into(), "expected".into()],
            });
            let garbled = format!("{}]]=\u{0}\"{{{}", &text[..at], &text[at..]);
            out.push(Case {
                label: format!("{name} garbled at {at}"),
                text: garbled,
                format: Format::Toml,
                names: vec!["line".into()],
            });
        }
    }
    out
}

/// Whether a rejection says where: the mutated key itself, the position of a syntax or type
/// error (`line N`, with the offending line quoted), or the configuration field whose value it
/// refuses (`invalid grid.x.max: …`; a mutation may surface in another field, e.g. a huge
/// `grid.x.max` leaves `population[0].initial` without mass).
fn names_a_place(error: &str, keys: &[String]) -> bool {
    const FIELDS: [&str; 7] = [
        "grid",
        "time",
        "population",
        "coupling",
        "solver",
        "output",
        "rl",
    ];
    keys.iter()
        .any(|k| !k.is_empty() && error.contains(k.as_str()))
        || error.contains("line ")
        || error
            .split("invalid ")
            .skip(1)
            .any(|rest| FIELDS.iter().any(|f| rest.starts_with(f)))
}

#[test]
fn a_thousand_mutated_configurations_never_panic_and_every_rejection_names_the_key() {
    let cases = cases();
    assert!(cases.len() >= 1000, "only {} mutations", cases.len());
    let (mut accepted, mut rejected) = (0usize, 0usize);
    let mut panics = Vec::new();
    let mut unnamed = Vec::new();
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    for c in &cases {
        let result = std::panic::catch_unwind(|| {
            let mut cfg = Config::parse(&c.text, c.format, Path::new("fuzz.toml"))
                .map_err(|e| e.to_string())?;
            // Never allocate much, whatever the mutation asks for.
            if cfg.spec.solver.memory_limit.is_none() {
                cfg.spec.solver.memory_limit = Some("256 MiB".into());
            }
            cfg.build().map(drop).map_err(|e| e.to_string())
        });
        match result {
            Err(_) => panics.push(c.label.clone()),
            Ok(Ok(())) => accepted += 1,
            Ok(Err(e)) => {
                rejected += 1;
                if !names_a_place(&e, &c.names) {
                    unnamed.push(format!("{}: {e}", c.label));
                }
            }
        }
    }
    std::panic::set_hook(hook);
    eprintln!(
        "{} mutations: {accepted} accepted, {rejected} rejected, {} panics",
        cases.len(),
        panics.len()
    );
    assert!(panics.is_empty(), "panics on: {panics:#?}");
    assert!(
        unnamed.is_empty(),
        "{} rejections do not name the key:\n{}",
        unnamed.len(),
        unnamed.join("\n")
    );
    assert!(accepted > 0 && rejected > 0);
}
