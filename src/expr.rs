//! Math expressions of the configuration's fields (m0^k, V^k(t, x), g^k, b^k(t, x) as functions
//! of x, y and, where a field may depend on time, t), parsed and evaluated by `exmex`.
//!
//! On top of exmex's arithmetic and functions the language has comparisons `<`, `<=`, `>`,
//! `>=`, `==`, `!=` (value 1 when true, 0 when false; they bind looser than `+` and `-`, so
//! `x + 1 < y` compares sums), the logical `&&` and `||` (looser still, `&&` before `||`; a
//! non-zero operand is true), a selection `if(c, a, b)` (a where c ≠ 0, otherwise b; only the
//! selected branch is evaluated, so `if(x > 0, log(x), 0)` is finite everywhere) and named
//! parameters (`[parameters] door = 0.4`, then `x < door`), replaced by their values before
//! exmex sees the text.
//!
//! Three corrections of exmex's reading are made by a preprocessing layer: exmex gives unary
//! minus a higher priority than `^`, so it reads `-x^2` as (-x)² and `exp(-(x-a)^2)` as a
//! growing exponential. Everybody else (mathematics, Python, MATLAB, Fortran) reads -(x²). Before
//! exmex sees the text, every unary minus is rewritten as an explicit `(0-(…))` around the
//! operand it conventionally applies to: a power chain `primary ^ unary ^ …`, and `^` is made
//! right-associative (a^b^c = a^(b^c), which exmex would group as (a^b)^c). And exmex reads no
//! scientific notation (`1e-3`), so such numbers are handed to it in plain decimal form. Each
//! `if(c, a, b)` becomes a placeholder variable of the enclosing expression whose value is that
//! of the selected branch, each branch an expression of its own.

use crate::error::{Error, Result};
use exmex::{BinOp, Express, FlatEx, FloatOpsFactory, MakeOperators, Operator};
use std::collections::BTreeMap;

/// exmex's float operators plus the comparisons, at a priority below `+` (0) and `-` (1).
#[derive(Clone, Debug)]
struct Ops;

fn truth(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

impl MakeOperators<f64> for Ops {
    fn make<'a>() -> Vec<Operator<'a, f64>> {
        let mut ops = FloatOpsFactory::<f64>::make();
        let cmp = |repr: &'a str, apply: fn(f64, f64) -> f64| {
            Operator::make_bin(
                repr,
                BinOp {
                    apply,
                    prio: -1,
                    is_commutative: false,
                },
            )
        };
        ops.push(cmp("<=", |a, b| truth(a <= b)));
        ops.push(cmp(">=", |a, b| truth(a >= b)));
        ops.push(cmp("==", |a, b| truth(a == b)));
        ops.push(cmp("!=", |a, b| truth(a != b)));
        ops.push(cmp("<", |a, b| truth(a < b)));
        ops.push(cmp(">", |a, b| truth(a > b)));
        // Logical and / or of truth values (≠ 0 is true), looser than the comparisons and
        // `&&` tighter than `||`, as in C, Rust and Python.
        let logic = |repr: &'a str, prio: i64, apply: fn(f64, f64) -> f64| {
            Operator::make_bin(
                repr,
                BinOp {
                    apply,
                    prio,
                    is_commutative: true,
                },
            )
        };
        ops.push(logic("&&", -2, |a, b| truth(a != 0.0 && b != 0.0)));
        ops.push(logic("||", -3, |a, b| truth(a != 0.0 || b != 0.0)));
        ops
    }
}

type Flat = FlatEx<f64, Ops>;

/// Prefix of the placeholder variables that stand for `if(…)` selections.
const PLACEHOLDER: &str = "__if";

/// Named parameters shared by the expressions of a configuration (`[parameters]`).
pub type Parameters = BTreeMap<String, f64>;

/// Checks a parameter's name and value: an identifier that is no variable (`x`, `y`, `t`), no
/// function, operator or constant of the language and not reserved; a finite value. `field`
/// names the parameter in errors.
pub fn check_parameter(name: &str, value: f64, field: &str) -> Result<()> {
    let identifier = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !identifier {
        return Err(Error::invalid(
            field,
            format!(
                "{name:?}: a parameter name is a letter or '_' followed by letters, digits or '_'"
            ),
        ));
    }
    let taken = matches!(name, "x" | "y" | "t" | "if")
        || name.starts_with("__")
        || is_constant(name)
        || Ops::make().iter().any(|op| op.repr() == name);
    if taken {
        return Err(Error::invalid(
            field,
            format!("{name:?} is a variable, a function or a reserved name of the expressions"),
        ));
    }
    if !value.is_finite() {
        return Err(Error::invalid(
            field,
            format!("{value}: must be a finite number"),
        ));
    }
    Ok(())
}

/// One exmex expression whose variables are either the expression's public variables or
/// placeholders of `if` selections.
#[derive(Debug, Clone)]
struct Node {
    flat: Flat,
    /// Per exmex variable (in exmex's order): where its value comes from.
    slots: Vec<Slot>,
}

#[derive(Debug, Clone)]
enum Slot {
    /// The public variable with this index in [`Expression::var_names`].
    Var(usize),
    /// An `if(c, a, b)` selection.
    If(Box<[Node; 3]>),
}

/// A parsed expression and the variables it uses, in alphabetical order.
#[derive(Debug, Clone)]
pub struct Expression {
    root: Node,
    names: Vec<String>,
}

impl Expression {
    /// Parses `text` without parameters; `field` names it in errors.
    #[cfg(test)]
    pub fn parse(text: &str, field: &str) -> Result<Self> {
        Self::parse_with(text, field, &Parameters::new())
    }

    /// Parses `text` with the named `parameters` replaced by their values.
    pub fn parse_with(text: &str, field: &str, parameters: &Parameters) -> Result<Self> {
        let fail =
            |e: String| Error::invalid(field, format!("cannot parse the expression {text:?}: {e}"));
        let tokens = tokenize(text);
        let mut names = Vec::new();
        collect_names(&tokens, parameters, &mut names).map_err(fail)?;
        names.sort();
        names.dedup();
        let root = build_node(&tokens, parameters, &names).map_err(fail)?;
        Ok(Expression { root, names })
    }

    /// Variable names, in the order [`Expression::eval`] takes their values.
    pub fn var_names(&self) -> &[String] {
        &self.names
    }

    /// Value at the given variable values (exmex's message on failure).
    pub fn eval(&self, vars: &[f64]) -> std::result::Result<f64, String> {
        self.root.eval(vars)
    }
}

impl Node {
    fn eval(&self, vars: &[f64]) -> std::result::Result<f64, String> {
        let mut local = [0.0f64; 8];
        let mut heap = Vec::new();
        let values: &mut [f64] = if self.slots.len() <= local.len() {
            &mut local[..self.slots.len()]
        } else {
            heap.resize(self.slots.len(), 0.0);
            &mut heap
        };
        for (v, slot) in values.iter_mut().zip(&self.slots) {
            *v = match slot {
                Slot::Var(i) => vars[*i],
                Slot::If(branches) => {
                    let [c, a, b] = branches.as_ref();
                    if c.eval(vars)? != 0.0 {
                        a.eval(vars)?
                    } else {
                        b.eval(vars)?
                    }
                }
            };
        }
        self.flat.eval(values).map_err(|e| e.to_string())
    }
}

/// True when tokens[i] is an identifier used as a variable (not a function, not a parameter).
fn is_variable<'a>(t: &[Token<'a>], i: usize, parameters: &Parameters) -> Option<&'a str> {
    match t[i] {
        Token::Ident(name)
            if t.get(i + 1) != Some(&Token::Open)
                && !parameters.contains_key(name)
                && !is_constant(name) =>
        {
            Some(name)
        }
        _ => None,
    }
}

/// exmex's constant operators (not variables).
fn is_constant(name: &str) -> bool {
    matches!(name, "PI" | "π" | "E" | "e" | "TAU" | "τ")
}

fn collect_names(
    t: &[Token],
    parameters: &Parameters,
    names: &mut Vec<String>,
) -> std::result::Result<(), String> {
    for i in 0..t.len() {
        if let Some(name) = is_variable(t, i, parameters) {
            if name.starts_with("__") {
                return Err(format!("{name:?}: names starting with '__' are reserved"));
            }
            names.push(name.to_string());
        }
    }
    Ok(())
}

/// Splits the tokens between the parentheses of the group opening at `open` at its top-level
/// commas.
fn arguments<'t, 'a>(t: &'t [Token<'a>], open: usize, end: usize) -> Vec<&'t [Token<'a>]> {
    let inner = &t[open + 1..end.saturating_sub(1).max(open + 1)];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0usize, 0usize);
    for (j, tok) in inner.iter().enumerate() {
        match tok {
            Token::Open => depth += 1,
            Token::Close => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                parts.push(&inner[start..j]);
                start = j + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
}

/// Replaces every `if(c, a, b)` of `t` by a placeholder identifier (building its branches as
/// nodes) and every parameter by its value; then hands the text to exmex.
fn build_node(
    t: &[Token],
    parameters: &Parameters,
    names: &[String],
) -> std::result::Result<Node, String> {
    let mut rewritten: Vec<Token> = Vec::with_capacity(t.len());
    let mut ifs: Vec<[Node; 3]> = Vec::new();
    let mut placeholder_names: Vec<String> = Vec::new();
    let mut values: Vec<String> = Vec::new();
    let mut i = 0;
    // First pass: the placeholder and parameter texts must outlive the tokens that borrow them.
    while i < t.len() {
        if t[i] == Token::Ident("if") && t.get(i + 1) == Some(&Token::Open) {
            let end = group_end(t, i + 1);
            let args = arguments(t, i + 1, end);
            if args.len() != 3 || args.iter().any(|a| a.is_empty()) {
                return Err("if(condition, value, otherwise) takes three arguments".into());
            }
            let nodes = [
                build_node(args[0], parameters, names)?,
                build_node(args[1], parameters, names)?,
                build_node(args[2], parameters, names)?,
            ];
            ifs.push(nodes);
            placeholder_names.push(format!("{PLACEHOLDER}{}", ifs.len() - 1));
            i = end;
        } else {
            if let Token::Ident(name) = t[i] {
                if let Some(v) = parameters.get(name) {
                    if t.get(i + 1) != Some(&Token::Open) {
                        values.push(format!("{v:?}"));
                    }
                }
            }
            i += 1;
        }
    }
    let (mut n_if, mut n_par) = (0, 0);
    i = 0;
    while i < t.len() {
        if t[i] == Token::Ident("if") && t.get(i + 1) == Some(&Token::Open) {
            rewritten.push(Token::Ident(&placeholder_names[n_if]));
            n_if += 1;
            i = group_end(t, i + 1);
            continue;
        }
        match t[i] {
            Token::Ident(name)
                if parameters.contains_key(name) && t.get(i + 1) != Some(&Token::Open) =>
            {
                // A parenthesised number, so that `-door^2` keeps its meaning.
                rewritten.push(Token::Open);
                rewritten.push(Token::Atom(&values[n_par]));
                rewritten.push(Token::Close);
                n_par += 1;
            }
            ref tok => rewritten.push(tok.clone()),
        }
        i += 1;
    }
    let mut text = String::with_capacity(rewritten.len() * 4);
    emit(&rewritten, &mut text);
    let flat = Flat::parse(&text).map_err(|e| e.to_string())?;
    let mut ifs: Vec<Option<[Node; 3]>> = ifs.into_iter().map(Some).collect();
    let mut slots = Vec::with_capacity(flat.var_names().len());
    for name in flat.var_names() {
        if let Some(idx) = name.strip_prefix(PLACEHOLDER) {
            let idx: usize = idx.parse().map_err(|_| format!("bad placeholder {name}"))?;
            let nodes = ifs[idx].take().ok_or("placeholder used twice")?;
            slots.push(Slot::If(Box::new(nodes)));
        } else {
            let pos = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| format!("unknown name {name:?}"))?;
            slots.push(Slot::Var(pos));
        }
    }
    Ok(Node { flat, slots })
}

#[derive(Debug, Clone, PartialEq)]
enum Token<'a> {
    /// Number, identifier or any operator other than the ones below.
    Atom(&'a str),
    Ident(&'a str),
    Open,
    Close,
    Comma,
    Minus,
    Plus,
    Power,
    /// `*`, `/` and other binary operators.
    Op(&'a str),
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < text.len() {
        let c = text[i..].chars().next().expect("in bounds");
        let len = c.len_utf8();
        if c.is_whitespace() {
            i += len;
        } else if c.is_ascii_digit() || c == '.' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
                i += 1;
            }
            // Scientific notation: the sign of an exponent is part of the number.
            if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                let mut j = i + 1;
                if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                    j += 1;
                }
                if j < b.len() && b[j].is_ascii_digit() {
                    while j < b.len() && b[j].is_ascii_digit() {
                        j += 1;
                    }
                    i = j;
                }
            }
            out.push(Token::Atom(&text[start..i]));
        } else if c.is_alphabetic() || c == '_' {
            let start = i;
            while i < text.len() {
                let c = text[i..].chars().next().expect("in bounds");
                if c.is_alphanumeric() || c == '_' {
                    i += c.len_utf8();
                } else {
                    break;
                }
            }
            out.push(Token::Ident(&text[start..i]));
        } else if matches!(
            text.get(i..i + 2),
            Some("<=" | ">=" | "==" | "!=" | "&&" | "||")
        ) {
            out.push(Token::Op(&text[i..i + 2]));
            i += 2;
        } else {
            out.push(match c {
                '(' => Token::Open,
                ')' => Token::Close,
                ',' => Token::Comma,
                '-' => Token::Minus,
                '+' => Token::Plus,
                '^' => Token::Power,
                _ => Token::Op(&text[i..i + len]),
            });
            i += len;
        }
    }
    out
}

fn text_of<'a>(t: &Token<'a>) -> &'a str {
    match t {
        Token::Atom(s) | Token::Ident(s) | Token::Op(s) => s,
        Token::Open => "(",
        Token::Close => ")",
        Token::Comma => ",",
        Token::Minus => "-",
        Token::Plus => "+",
        Token::Power => "^",
    }
}

/// Index just past the parenthesis group opening at `i` (or the end if unbalanced: exmex then
/// reports the error).
fn group_end(t: &[Token], i: usize) -> usize {
    let mut depth = 0usize;
    for (j, tok) in t.iter().enumerate().skip(i) {
        match tok {
            Token::Open => depth += 1,
            Token::Close => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
    }
    t.len()
}

fn primary_end(t: &[Token], i: usize) -> usize {
    match t.get(i) {
        None => i,
        Some(Token::Open) => group_end(t, i),
        Some(Token::Ident(_)) if t.get(i + 1) == Some(&Token::Open) => group_end(t, i + 1),
        Some(_) => i + 1,
    }
}

/// End of the operand of a unary sign at `i`: unary := sign unary | power.
fn unary_end(t: &[Token], i: usize) -> usize {
    match t.get(i) {
        Some(Token::Minus | Token::Plus) => unary_end(t, i + 1),
        _ => power_end(t, i),
    }
}

/// power := primary ('^' unary)?  (right-associative through `unary`).
fn power_end(t: &[Token], i: usize) -> usize {
    let j = primary_end(t, i);
    if t.get(j) == Some(&Token::Power) {
        unary_end(t, j + 1)
    } else {
        j
    }
}

fn emit(t: &[Token], out: &mut String) {
    let mut i = 0;
    while i < t.len() {
        let unary = t[i] == Token::Minus
            && matches!(
                i.checked_sub(1).map(|p| &t[p]),
                None | Some(Token::Open | Token::Comma | Token::Minus | Token::Plus)
                    | Some(Token::Power | Token::Op(_))
            );
        if unary {
            let end = unary_end(t, i + 1);
            out.push_str("(0-(");
            emit(&t[i + 1..end], out);
            out.push_str("))");
            i = end;
        } else if t[i] == Token::Power {
            // Right-associative, as in mathematics and Python: a^b^c = a^(b^c); exmex would
            // group (a^b)^c.
            let end = unary_end(t, i + 1);
            out.push_str("^(");
            emit(&t[i + 1..end], out);
            out.push_str(") ");
            i = end;
        } else if let Token::Atom(num) = &t[i] {
            // exmex reads no scientific notation: give it the plain decimal form (Rust's
            // Display of f64 never uses an exponent and round-trips exactly).
            match num.parse::<f64>() {
                Ok(v) if num.contains(['e', 'E']) => out.push_str(&format!("{v}")),
                _ => out.push_str(num),
            }
            out.push(' ');
            i += 1;
        } else {
            out.push_str(text_of(&t[i]));
            // Keep identifiers and numbers apart (e.g. `x e`); exmex ignores the spaces.
            out.push(' ');
            i += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(text: &str, x: f64) -> f64 {
        let e = Expression::parse(text, "t").unwrap();
        let vars: Vec<f64> = e.var_names().iter().map(|_| x).collect();
        e.eval(&vars).unwrap()
    }

    #[test]
    fn unary_minus_binds_looser_than_power() {
        let x: f64 = 1.7;
        let cases: &[(&str, f64)] = &[
            ("-x^2", -x * x),
            ("-2^2", -4.0),
            ("exp(-(x-0.3)^2/0.01)", (-(x - 0.3f64).powi(2) / 0.01).exp()),
            ("2^-x^2", 2f64.powf(-(x * x))),
            ("x^-2", x.powi(-2)),
            ("--x", x),
            ("-(-x)^2", -(x * x)),
            ("(-x)^2", x * x),
            ("3-x^2", 3.0 - x * x),
            ("2*-x^2", -2.0 * x * x),
            ("-sin(x)^2", -x.sin().powi(2)),
            ("-x*x", -x * x),
            ("1e-3*x", 1e-3 * x),
            ("2.5E+2 - x", 250.0 - x),
            ("-x", -x),
            ("x - -x", 2.0 * x),
            ("atan2(-x, 1)", (-x).atan2(1.0)),
            ("2^3^2", 512.0),
            ("-PI", -std::f64::consts::PI),
            ("1e-300*x*1e300", x),
            ("3E2", 300.0),
        ];
        for (text, want) in cases {
            let got = eval(text, x);
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{text}: {got} vs {want}"
            );
        }
    }

    fn eval_at(text: &str, names: &[(&str, f64)], parameters: &Parameters) -> f64 {
        let e = Expression::parse_with(text, "f", parameters).unwrap();
        let vars: Vec<f64> = e
            .var_names()
            .iter()
            .map(|n| names.iter().find(|(m, _)| m == n).expect(n).1)
            .collect();
        e.eval(&vars).unwrap()
    }

    #[test]
    fn comparisons_are_zero_or_one_and_bind_looser_than_sums() {
        let none = Parameters::new();
        let cases: &[(&str, f64)] = &[
            ("x < 0.5", 1.0),
            ("x <= 0.25", 1.0),
            ("x > 0.25", 0.0),
            ("x >= 0.25", 1.0),
            ("x == 0.25", 1.0),
            ("x != 0.25", 0.0),
            ("x + 1 < 1", 0.0),
            ("1 - x > 0.5", 1.0),
            ("x < -1", 0.0),
            ("-x < 0", 1.0),
            ("2 * (x < 0.5) + 1", 3.0),
            ("(x > 0.1) * (x < 0.3)", 1.0),
            ("x > 0.1 && x < 0.3", 1.0),
            ("x > 0.1 && x > 0.3", 0.0),
            ("x < 0.1 || x > 0.2", 1.0),
            ("x < 0.1 || x > 0.3", 0.0),
            // && binds tighter than ||: 1 || (0 && 0) = 1, not (1 || 0) && 0 = 0.
            ("x > 0.1 || x > 1 && x > 2", 1.0),
            ("x + 1 > 1 && 2 * x < 1", 1.0),
            ("if(x > 0 && x < 1, 5, -5)", 5.0),
        ];
        for (text, want) in cases {
            assert_eq!(eval_at(text, &[("x", 0.25)], &none), *want, "{text}");
        }
    }

    #[test]
    fn if_selects_and_evaluates_only_the_selected_branch() {
        let none = Parameters::new();
        let f = "if(x > 0, log(x), -1)";
        assert!((eval_at(f, &[("x", 2.0)], &none) - 2f64.ln()).abs() < 1e-15);
        // log(-3) is NaN: the branch must not be evaluated.
        assert_eq!(eval_at(f, &[("x", -3.0)], &none), -1.0);
        let nested = "1 + if(x < 0, if(y < 0, 10, 20), 30*t) ^ 2";
        let at = |x, y| eval_at(nested, &[("x", x), ("y", y), ("t", 0.5)], &none);
        assert_eq!(at(-1.0, -1.0), 101.0);
        assert_eq!(at(-1.0, 1.0), 401.0);
        assert_eq!(at(1.0, 1.0), 226.0);
        let e = Expression::parse(nested, "f").unwrap();
        assert_eq!(e.var_names(), &["t", "x", "y"]);
        assert_eq!(eval_at("-if(x < 0, 2, 3)^2", &[("x", 1.0)], &none), -9.0);
        assert_eq!(eval_at("atan2(if(x<0,1,0), 1)", &[("x", 1.0)], &none), 0.0);
    }

    #[test]
    fn parameters_are_substituted_as_numbers() {
        let mut p = Parameters::new();
        p.insert("door".into(), 0.4);
        p.insert("depth".into(), -2.0);
        p.insert("tiny".into(), 1e-7);
        assert_eq!(eval_at("x < door", &[("x", 0.3)], &p), 1.0);
        assert_eq!(eval_at("depth^2", &[], &p), 4.0);
        assert_eq!(eval_at("-depth^2", &[], &p), -4.0);
        assert!((eval_at("tiny * x", &[("x", 3.0)], &p) - 3e-7).abs() < 1e-20);
        assert_eq!(eval_at("if(x < door, depth, 0)", &[("x", 0.1)], &p), -2.0);
        let e = Expression::parse_with("x*door + t", "f", &p).unwrap();
        assert_eq!(e.var_names(), &["t", "x"]);
    }

    #[test]
    fn parameter_names_are_checked() {
        check_parameter("door_2", 0.4, "parameters.door_2").unwrap();
        for bad in ["x", "t", "sin", "PI", "if", "__a", "2a", "a-b", ""] {
            let e = check_parameter(bad, 1.0, "parameters.p").unwrap_err();
            assert!(e.to_string().contains("parameters.p"), "{bad}: {e}");
        }
        let e = check_parameter("a", f64::NAN, "parameters.a").unwrap_err();
        assert!(e.to_string().contains("finite"), "{e}");
    }

    #[test]
    fn malformed_selections_and_reserved_names_are_errors() {
        for text in ["if(x, 1)", "if(x, 1, 2, 3)", "if(x,,2)", "__if0 + x"] {
            let e = Expression::parse(text, "population[1].potential").unwrap_err();
            let msg = e.to_string();
            assert!(msg.contains("population[1].potential"), "{text}: {msg}");
        }
    }

    #[test]
    fn parse_errors_name_the_field_and_text() {
        let e = Expression::parse("x +* 2)", "population[0].terminal").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("population[0].terminal") && msg.contains("x +* 2)"),
            "{msg}"
        );
    }
}
