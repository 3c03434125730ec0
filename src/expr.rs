//! Math expressions of the configuration's fields (m0^k, V^k, g^k as functions of x, y),
//! parsed and evaluated by `exmex`, with one correction: exmex gives unary minus a higher
//! priority than `^`, so it reads `-x^2` as (-x)² and `exp(-(x-a)^2)` as a growing exponential.
//! Everybody else (mathematics, Python, MATLAB, Fortran) reads -(x²). Before exmex sees the
//! text, every unary minus is rewritten as an explicit `(0-(…))` around the operand it
//! conventionally applies to: a power chain `primary ^ unary ^ …`, and `^` is made
//! right-associative (a^b^c = a^(b^c), which exmex would group as (a^b)^c). And
//! exmex reads no scientific notation (`1e-3`), so such numbers are handed to it in plain
//! decimal form.

use crate::error::{Error, Result};
use exmex::{Express, FlatEx};

/// A parsed expression and the variables it uses, in exmex's (alphabetical) order.
#[derive(Debug, Clone)]
pub struct Expression {
    flat: FlatEx<f64>,
}

impl Expression {
    /// Parses `text`; `field` names it in errors.
    pub fn parse(text: &str, field: &str) -> Result<Self> {
        let rewritten = conventional_unary_minus(text);
        let flat = exmex::parse::<f64>(&rewritten).map_err(|e| {
            Error::invalid(field, format!("cannot parse the expression {text:?}: {e}"))
        })?;
        Ok(Expression { flat })
    }

    /// Variable names, in the order [`Expression::eval`] takes their values.
    pub fn var_names(&self) -> &[String] {
        self.flat.var_names()
    }

    /// Value at the given variable values (exmex's message on failure).
    pub fn eval(&self, vars: &[f64]) -> std::result::Result<f64, String> {
        self.flat.eval(vars).map_err(|e| e.to_string())
    }
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

/// Rewrites every unary minus of `text` as an explicit `(0-(…))` around its conventional
/// operand.
pub fn conventional_unary_minus(text: &str) -> String {
    let tokens = tokenize(text);
    let mut out = String::with_capacity(text.len() * 2);
    emit(&tokens, &mut out);
    out
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
