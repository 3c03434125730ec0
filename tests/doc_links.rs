//! The repository's documentation points only inside the repository, and every pointer resolves:
//! - every relative link and image in README.md and docs/*.md names an existing file inside the
//!   repository, and a `#anchor` names a heading of the target Markdown file (GitHub's slugs);
//! - every mention of a file under docs/ in the comments of src/, tests/, examples/ and benches/
//!   names an existing file, and a `docs/NAME.md §N` reference names an existing numbered section.

use std::collections::HashSet;
use std::fs;
use std::path::{Component, Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Lines outside fenced code blocks, with their 1-based numbers.
fn prose_lines(text: &str) -> Vec<(usize, &str)> {
    let mut fence: Option<&str> = None;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        let marker = ["```", "~~~"].into_iter().find(|m| t.starts_with(m));
        match (fence, marker) {
            (None, Some(m)) => fence = Some(m),
            (Some(f), Some(m)) if f == m => fence = None,
            (None, None) => out.push((i + 1, line)),
            _ => {}
        }
    }
    out
}

/// The line without its inline code spans (a run of n backticks up to the next run of n).
fn strip_inline_code(line: &str) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find('`') {
        out.push_str(&rest[..start]);
        let ticks = rest[start..].chars().take_while(|&c| c == '`').count();
        let after = &rest[start + ticks..];
        let close = "`".repeat(ticks);
        match after.find(&close) {
            Some(end) => rest = &after[end + ticks..],
            None => {
                out.push_str(&rest[start..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// Link targets of one prose line: inline links and images `[text](target "title")` and
/// reference definitions `[label]: target`.
fn link_targets(line: &str) -> Vec<String> {
    let line = strip_inline_code(line);
    let mut targets = Vec::new();
    let trimmed = line.trim_start();
    if trimmed.starts_with('[') {
        if let Some(p) = trimmed.find("]:") {
            if let Some(t) = trimmed[p + 2..].split_whitespace().next() {
                targets.push(t.trim_matches(['<', '>']).to_string());
            }
        }
    }
    let mut rest = line.as_str();
    while let Some(p) = rest.find("](") {
        let after = &rest[p + 2..];
        let mut depth = 0usize;
        let end = after
            .char_indices()
            .find(|&(_, c)| match c {
                '(' => {
                    depth += 1;
                    false
                }
                ')' if depth == 0 => true,
                ')' => {
                    depth -= 1;
                    false
                }
                _ => false,
            })
            .map_or(after.len(), |(i, _)| i);
        let inner = after[..end].trim();
        let target = inner.split_whitespace().next().unwrap_or("");
        targets.push(target.trim_matches(['<', '>']).to_string());
        rest = &after[end..];
    }
    targets
}

/// GitHub's anchor of a heading: lower case, letters, digits, `-` and `_` kept, spaces turned
/// into `-`, everything else dropped.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .trim_end_matches('#')
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The ATX headings of a Markdown text (outside code blocks), without their `#` marks.
fn headings(text: &str) -> Vec<String> {
    prose_lines(text)
        .into_iter()
        .filter_map(|(_, l)| {
            let hashes = l.chars().take_while(|&c| c == '#').count();
            ((1..=6).contains(&hashes) && l[hashes..].starts_with(' '))
                .then(|| l[hashes..].trim().to_string())
        })
        .collect()
}

/// The anchors GitHub gives the headings of `text` (repeated slugs get `-1`, `-2`, …).
fn anchors(text: &str) -> HashSet<String> {
    let mut seen = HashSet::new();
    for h in headings(text) {
        let base = slug(&h);
        let mut s = base.clone();
        let mut n = 0;
        while seen.contains(&s) {
            n += 1;
            s = format!("{base}-{n}");
        }
        seen.insert(s);
    }
    seen
}

/// Section numbers of a Markdown text: `## 3. Title` gives "3", `### 3.1 Title` gives "3.1".
fn section_numbers(text: &str) -> HashSet<String> {
    headings(text)
        .iter()
        .filter_map(|h| {
            let num: String = h
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let num = num.trim_end_matches('.');
            (!num.is_empty()).then(|| num.to_string())
        })
        .collect()
}

/// `path` made lexically normal (`.` and `..` resolved), or None if it climbs above its start.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::Normal(p) => out.push(p),
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(out)
}

/// Problems with the links of one Markdown text; `dir` is its directory relative to the
/// repository root `root`. Returns the problems and the number of relative links checked.
fn check_markdown(root: &Path, dir: &Path, name: &str, text: &str) -> (Vec<String>, usize) {
    let mut problems = Vec::new();
    let mut checked = 0;
    for (n, line) in prose_lines(text) {
        for target in link_targets(line) {
            let at = format!("{name}:{n}: link `{target}`");
            if target.is_empty() {
                problems.push(format!("{at}: empty target"));
                continue;
            }
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            let (path, anchor) = match target.split_once('#') {
                Some((p, a)) => (p, Some(a)),
                None => (target.as_str(), None),
            };
            let (rel, body) = if path.is_empty() {
                (PathBuf::from(name), text.to_string())
            } else {
                let Some(rel) = normalise(&dir.join(path)) else {
                    problems.push(format!("{at}: points outside the repository"));
                    continue;
                };
                let full = root.join(&rel);
                if !full.exists() {
                    problems.push(format!("{at}: {} does not exist", rel.display()));
                    continue;
                }
                let body = if rel.extension().is_some_and(|e| e == "md") {
                    fs::read_to_string(&full).unwrap_or_default()
                } else {
                    String::new()
                };
                (rel, body)
            };
            if let Some(a) = anchor {
                if !anchors(&body).contains(a) {
                    problems.push(format!("{at}: no heading `#{a}` in {}", rel.display()));
                }
            }
        }
    }
    (problems, checked)
}

/// Problems with the mentions of docs/ files in one source text: every `docs/NAME` must exist,
/// and a `docs/NAME.md §N` must name a numbered section of that file.
fn check_mentions(root: &Path, name: &str, text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let mut rest = line;
        while let Some(p) = rest.find("docs/") {
            let after = &rest[p + 5..];
            let file: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "_-./".contains(*c))
                .collect();
            let file = file.trim_end_matches('.');
            rest = &after[file.len()..];
            if file.is_empty() {
                continue;
            }
            let at = format!("{name}:{}: docs/{file}", n + 1);
            let path = root.join("docs").join(file);
            let Ok(body) = fs::read_to_string(&path) else {
                if !path.exists() {
                    problems.push(format!("{at} does not exist"));
                }
                continue;
            };
            if let Some(section) = rest.trim_start().strip_prefix('§') {
                let num: String = section
                    .chars()
                    .take_while(|c| c.is_ascii_digit() || *c == '.')
                    .collect();
                let num = num.trim_end_matches('.');
                if !section_numbers(&body).contains(num) {
                    problems.push(format!("{at} has no section {num}"));
                }
            }
        }
    }
    problems
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs" || e == "toml") {
            out.push(p);
        }
    }
}

#[test]
fn markdown_links_resolve_inside_the_repository() {
    let root = root();
    let mut docs: Vec<PathBuf> = vec![PathBuf::from("README.md")];
    let mut md: Vec<PathBuf> = fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(&root).unwrap().to_path_buf())
        .collect();
    md.sort();
    assert!(
        md.iter().any(|p| p.ends_with("math.md")),
        "docs/math.md is missing"
    );
    docs.extend(md);
    let (mut problems, mut checked) = (Vec::new(), 0);
    for rel in &docs {
        let text = fs::read_to_string(root.join(rel)).unwrap();
        let dir = rel.parent().unwrap_or(Path::new(""));
        let name = rel.to_str().unwrap();
        let (p, c) = check_markdown(&root, dir, name, &text);
        problems.extend(p);
        checked += c;
    }
    println!("{checked} relative links checked in {} files", docs.len());
    // README alone links its docs and six pictures: a parser that finds nothing is broken.
    assert!(checked >= 15, "only {checked} links found");
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn source_comments_name_existing_docs_and_sections() {
    let root = root();
    let mut files = Vec::new();
    for d in ["src", "tests", "examples", "benches"] {
        files_under(&root.join(d), &mut files);
    }
    files.push(root.join("Cargo.toml"));
    // This file names broken references on purpose (the checkers' own test).
    let this = root.join(file!());
    files.retain(|f| *f != this);
    let mut problems = Vec::new();
    let mut mentions = 0;
    for f in &files {
        let text = fs::read_to_string(f).unwrap();
        mentions += text.matches("docs/").count();
        let name = f.strip_prefix(&root).unwrap().display().to_string();
        problems.extend(check_mentions(&root, &name, &text));
    }
    assert!(mentions > 0, "no source mentions docs/ at all");
    assert!(
        problems.is_empty(),
        "dangling references:\n{}",
        problems.join("\n")
    );
}

/// The checkers themselves: they must report what is broken, not only pass on good input.
#[test]
fn checkers_report_broken_links() {
    let root = root();
    let text = "# Title\n\n## 3.5 The residual (of it)\n\nSee [a](missing.md), [b](#title), \
                [c](#nope), [d](../../outside.md), ![e](img/none.png), [f](https://x.org), \
                `[g](ignored.md)`, [h](math.md#no-such-heading), [j](#35-the-residual-of-it) \
                and [k](newton.md).\n```\n[i](inside-a-fence.md)\n```\n[ref]: also-missing.md\n";
    let (problems, checked) = check_markdown(&root, Path::new("docs"), "docs/t.md", text);
    let joined = problems.join("\n");
    assert_eq!(checked, 9, "{joined}");
    for bad in [
        "`missing.md`",
        "`#nope`",
        "`../../outside.md`: points outside",
        "`img/none.png`",
        "`also-missing.md`",
        "`math.md#no-such-heading`",
    ] {
        assert!(joined.contains(bad), "{bad} not reported:\n{joined}");
    }
    for good in [
        "`#title`",
        "`#35-the",
        "`newton.md`",
        "ignored.md",
        "inside-a-fence",
    ] {
        assert!(!joined.contains(good), "{good} reported:\n{joined}");
    }
    assert_eq!(problems.len(), 6, "{joined}");

    assert_eq!(
        slug("3.5 The residual of the whole discrete system"),
        "35-the-residual-of-the-whole-discrete-system"
    );
    assert_eq!(
        slug("2. Linear solves (`src/solve/spacetime.rs`)"),
        "2-linear-solves-srcsolvespacetimers"
    );

    let src = "//! see docs/math.md §3.2 and docs/math.md §42, docs/nothing.md, docs/img/\n";
    let problems = check_mentions(&root, "x.rs", src);
    let joined = problems.join("\n");
    assert!(
        joined.contains("docs/math.md has no section 42"),
        "{joined}"
    );
    assert!(
        joined.contains("docs/nothing.md does not exist"),
        "{joined}"
    );
    assert_eq!(problems.len(), 2, "{joined}");
}
