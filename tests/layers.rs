//! The stages point one way (ARCHITECTURE.md): a module may use its own stage and the stages
//! before it, never a later one. This test reads every `crate::` path in `src/` (outside comments
//! and the `#[cfg(test)]` module that closes a file) and fails on one that points backwards.

use std::path::Path;

/// The stages in the order the data flows. Modules on one line share a rank.
const STAGES: &[&[&str]] = &[
    &["diagnostic", "bounded"],
    &["config"],
    &["discover"],
    &["cache"],
    &["syntax"],
    &["index"],
    &["resolve"],
    &["analysis"],
    &["rules"],
    &["suppress"],
    &["report"],
    &["driver"],
    &["cli", "fuzzing"],
];

fn rank(stage: &str) -> Option<usize> {
    STAGES.iter().position(|s| s.contains(&stage))
}

/// The stage a file under `src/` belongs to (`src/resolve/collect.rs` → `resolve`); `None` for
/// the crate root and the binaries, which may use anything.
fn stage_of(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?;
    let stage = first.strip_suffix(".rs").unwrap_or(first);
    (stage != "lib" && stage != "main" && stage != "bin").then(|| stage.to_string())
}

/// Every `crate::NAME` in the code of `text`, with its line number.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    // An open `use crate::{…` group (it may span lines): its text so far and its first line.
    let mut group: Option<(String, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split(" //").next().unwrap_or(code);
        if let Some((g, _)) = &mut group {
            g.push_str(code);
        } else if let Some(rest) = code
            .strip_prefix("use crate::{")
            .or_else(|| code.strip_prefix("pub use crate::{"))
        {
            group = Some((rest.to_string(), i + 1));
        }
        if let Some((g, at)) = &group {
            if let Some(names) = group_names(g) {
                out.extend(names.into_iter().map(|n| (*at, n)));
                group = None;
            }
            continue;
        }
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().last();
            rest = &rest[at + "crate::".len()..];
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '"') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push((i + 1, name));
            }
        }
    }
    out
}

/// The first name of each top-level item of a `use crate::{…}` group (`a, b::{c, d}` → `a`, `b`),
/// given the text after its `{`; `None` while the group is not closed yet.
fn group_names(text: &str) -> Option<Vec<String>> {
    let (mut depth, mut names, mut item) = (0usize, Vec::new(), String::new());
    let flush = |item: &mut String, names: &mut Vec<String>| {
        let name: String = item
            .trim()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            names.push(name);
        }
        item.clear();
    };
    for c in text.chars() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                flush(&mut item, &mut names);
                return Some(names);
            }
            '}' => depth -= 1,
            ',' if depth == 0 => flush(&mut item, &mut names),
            _ if depth == 0 => item.push(c),
            _ => {}
        }
    }
    None
}

fn rs_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rs_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_imports_a_later_stage() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    files.sort();
    let mut bad = Vec::new();
    let mut seen = 0;
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let Some(stage) = stage_of(rel) else { continue };
        let own = rank(&stage)
            .unwrap_or_else(|| panic!("{}: stage `{stage}` is not in STAGES", rel.display()));
        let text = std::fs::read_to_string(f).unwrap();
        for (line, name) in crate_paths(&text) {
            seen += 1;
            if let Some(r) = rank(&name) {
                if r > own {
                    bad.push(format!(
                        "src/{}:{line}: `{stage}` uses `crate::{name}`, a later stage",
                        rel.display()
                    ));
                }
            }
        }
    }
    assert!(seen > 100, "the scan found only {seen} crate paths");
    assert!(
        bad.is_empty(),
        "imports that point backwards:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_scan_sees_backward_imports() {
    let text = "use crate::rules::Finding;\n// crate::driver in a comment\nuse crate::{config, report::Sources};\nuse crate::{\n    analysis::{graph, Program},\n    suppress,\n};\n#[cfg(test)]\nuse crate::cli;\n";
    let found = crate_paths(text);
    let names: Vec<&str> = found.iter().map(|(_, n)| n.as_str()).collect();
    assert_eq!(names, ["rules", "config", "report", "analysis", "suppress"]);
    assert_eq!(found[3].0, 4);
}

#[test]
fn no_source_file_is_over_1200_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rs_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > 1200).then(|| format!("{} ({n} lines)", f.display()))
        })
        .collect();
    assert!(long.is_empty(), "split these files: {long:?}");
}
