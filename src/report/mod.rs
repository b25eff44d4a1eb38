//! Rendering findings for people (`human`, `concise`) and machines (`json`).
//!
//! **Architecture invariant:** the last stage: renders findings that are final (suppressed,
//! levelled, fingerprinted); it decides nothing about what is reported.

use std::fmt::Write;

use crate::analysis::Analysis;
use crate::diagnostic::display_path;
use crate::rules::{Finding, Level};

pub struct Sources {
    root: std::path::PathBuf,
    pub files: Vec<std::path::PathBuf>,
}

impl Sources {
    pub fn from_parts(root: std::path::PathBuf, files: Vec<std::path::PathBuf>) -> Sources {
        Sources { root, files }
    }

    pub fn new(a: &Analysis) -> Sources {
        Sources {
            root: a.gr.ix.project.root.clone(),
            files: a
                .gr
                .ix
                .parsed
                .files
                .iter()
                .map(|f| f.path.clone())
                .collect(),
        }
    }
    /// The workspace root as a `file://` URI ending in `/` (SARIF's `%SRCROOT%`).
    pub fn root_uri(&self) -> String {
        let abs = std::fs::canonicalize(&self.root).unwrap_or_else(|_| self.root.clone());
        let mut s = abs.to_string_lossy().replace('\\', "/");
        if !s.ends_with('/') {
            s.push('/');
        }
        if !s.starts_with('/') {
            s.insert(0, '/');
        }
        format!("file://{}", uri_path(&s))
    }

    /// A file's SARIF `uri`: its path relative to the root, percent-encoded.
    pub fn uri(&self, file: usize) -> String {
        self.files
            .get(file)
            .map(|p| {
                let rel = p.strip_prefix(&self.root).unwrap_or(p);
                uri_path(&rel.to_string_lossy().replace('\\', "/"))
            })
            .unwrap_or_default()
    }

    pub fn display(&self, file: usize) -> String {
        self.files
            .get(file)
            .map(|p| display_path(p, &self.root))
            .unwrap_or_default()
    }
}

/// A path as a URI path (RFC 3986): every byte but the unreserved characters and `/` is
/// percent-encoded (`my tool#1 50%.rs` → `my%20tool%231%2050%25.rs`).
pub fn uri_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

pub fn concise(findings: &[Finding], src: &Sources) -> String {
    let mut s = String::new();
    for f in findings {
        let _ = writeln!(
            s,
            "{}:{}:{}: {} [{}] {}",
            src.display(f.file),
            f.loc.line,
            f.loc.col,
            f.code,
            f.level.as_str(),
            f.message
        );
    }
    s
}

pub fn summary(findings: &[Finding], src: &Sources) -> String {
    let count = |l: Level| findings.iter().filter(|f| f.level == l).count();
    let (e, w, n) = (
        count(Level::Error),
        count(Level::Warning),
        count(Level::Note),
    );
    let files: std::collections::BTreeSet<usize> = findings.iter().map(|f| f.file).collect();
    let _ = src;
    if findings.is_empty() {
        return "No problems found.".into();
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if e > 0 {
        parts.push(plural(e, "error"));
    }
    if w > 0 {
        parts.push(plural(w, "warning"));
    }
    if n > 0 {
        parts.push(plural(n, "note"));
    }
    format!(
        "Found {} ({}) in {}.",
        plural(findings.len(), "problem"),
        parts.join(", "),
        plural(files.len(), "file")
    )
}

#[derive(serde::Serialize)]
struct JsonFinding<'a> {
    rule: &'a str,
    name: &'a str,
    level: &'a str,
    message: &'a str,
    file: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    help: &'a str,
    fingerprint: String,
    path: Vec<JsonStep<'a>>,
}

#[derive(serde::Serialize)]
struct JsonStep<'a> {
    function: &'a str,
    file: String,
    line: u32,
    column: u32,
    handoff: Option<&'a str>,
}

/// The files a run could not read as Rust (`parse-error` diagnostics): not analyzed, so a clean
/// report is not a clean file (SPEC §7).
pub fn unparsed<'d>(diags: &[&'d crate::diagnostic::Diag]) -> Vec<&'d crate::diagnostic::Diag> {
    diags
        .iter()
        .copied()
        .filter(|d| d.kind == "parse-error")
        .collect()
}

/// The summary line, saying how many files could not be parsed (they are listed above it).
pub fn summary_with_unparsed(findings: &[Finding], src: &Sources, unparsed: usize) -> String {
    let files = match unparsed {
        1 => "1 file did not parse".to_string(),
        n => format!("{n} files did not parse"),
    };
    match (findings.is_empty(), unparsed) {
        (_, 0) => summary(findings, src),
        (true, _) => format!(
            "No problems found in the code that was read, but {files}, and what did not parse was not analyzed (listed above)."
        ),
        (false, _) => format!(
            "{} {files}, and what did not parse was not analyzed (listed above).",
            summary(findings, src)
        ),
    }
}

/// JSON, with the files that could not be parsed (`"unparsed"`, left out when there are none).
pub fn json(findings: &[Finding], src: &Sources, unparsed: &[&crate::diagnostic::Diag]) -> String {
    let items: Vec<JsonFinding> = findings
        .iter()
        .map(|f| JsonFinding {
            rule: f.code,
            name: f.name,
            level: f.level.as_str(),
            message: &f.message,
            file: src.display(f.file),
            line: f.loc.line,
            column: f.loc.col,
            end_line: f.loc.end_line,
            end_column: f.loc.end_col,
            help: &f.help,
            fingerprint: f.fingerprint.clone(),
            path: f
                .path
                .iter()
                .map(|s| JsonStep {
                    function: &s.node,
                    file: src.display(s.file),
                    line: s.loc.line,
                    column: s.loc.col,
                    handoff: s.mark.map(|m| match m {
                        crate::analysis::Mark::Passed => "passed",
                        crate::analysis::Mark::Dropped => "dropped",
                        crate::analysis::Mark::Unknown => "unresolved",
                        crate::analysis::Mark::Absent => "none",
                    }),
                })
                .collect(),
        })
        .collect();
    let mut v = serde_json::json!({
        "version": 1,
        "findings": items,
        "summary": {
            "errors": findings.iter().filter(|f| f.level == Level::Error).count(),
            "warnings": findings.iter().filter(|f| f.level == Level::Warning).count(),
            "notes": findings.iter().filter(|f| f.level == Level::Note).count(),
        }
    });
    if !unparsed.is_empty() {
        v["summary"]["unparsed"] = unparsed.len().into();
        v["unparsed"] = unparsed
            .iter()
            .map(|d| {
                let file = crate::diagnostic::display_path(&d.file, &src.root);
                serde_json::json!({
                    "file": crate::diagnostic::escape_controls(&file),
                    "line": d.loc.map(|l| l.line),
                    "column": d.loc.map(|l| l.col),
                    "kind": d.kind.as_str(),
                    "message": crate::diagnostic::escape_controls(&d.message),
                })
            })
            .collect();
    }
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

fn sarif_level(l: Level) -> &'static str {
    match l {
        Level::Error => "error",
        Level::Warning => "warning",
        _ => "note",
    }
}

/// The first paragraph of a section of a rule's doc (`## What it does`), as plain text.
fn doc_section(doc: &str, heading: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for line in doc.lines() {
        if line.starts_with("## ") {
            if inside {
                break;
            }
            inside = line.trim_start_matches("## ").trim() == heading;
            continue;
        }
        if inside {
            if line.trim().is_empty() && !out.is_empty() {
                break;
            }
            if !line.trim().is_empty() {
                if !out.is_empty() {
                    out.push(' ');
                }
                out.push_str(line.trim());
            }
        }
    }
    out
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_string()
    } else {
        s.chars().take(max - 1).collect::<String>() + "…"
    }
}

/// The input problems of a run (files skipped or cut, manifests and limits) as SARIF
/// `toolExecutionNotifications`: a pull request cannot hide a file from the report by breaking
/// it. A file outside the workspace is named in the message only (no absolute URI).
fn notifications(diags: &[&crate::diagnostic::Diag], src: &Sources) -> Vec<serde_json::Value> {
    use serde_json::json;
    diags
        .iter()
        .map(|d| {
            let mut n = json!({
                "level": match d.severity {
                    crate::diagnostic::Severity::Error => "error",
                    crate::diagnostic::Severity::Warning => "warning",
                    crate::diagnostic::Severity::Note => "note",
                },
                "descriptor": { "id": d.kind.as_str() },
                "message": { "text": crate::diagnostic::escape_controls(&d.message) },
            });
            let Ok(rel) = d.file.strip_prefix(&src.root) else {
                n["message"]["text"] =
                    crate::diagnostic::escape_controls(&d.render(&src.root)).into();
                return n;
            };
            {
                let mut phys = json!({
                    "artifactLocation": {
                        "uri": uri_path(&rel.to_string_lossy().replace('\\', "/")),
                        "uriBaseId": "%SRCROOT%",
                    },
                });
                if let Some(l) = d.loc {
                    phys["region"] =
                        json!({ "startLine": l.line.max(1), "startColumn": l.col.max(1) });
                }
                n["locations"] = json!([{ "physicalLocation": phys }]);
            }
            n
        })
        .collect()
}

/// SARIF 2.1.0 for GitHub code scanning. `diags`: the run's input problems (see
/// [`notifications`]).
pub fn sarif(findings: &[Finding], src: &Sources, diags: &[&crate::diagnostic::Diag]) -> String {
    use serde_json::json;
    let rules: Vec<serde_json::Value> = crate::rules::RULES
        .iter()
        .map(|r| {
            let full = doc_section(r.doc, "What it does");
            json!({
                "id": r.code,
                "name": r.name,
                "shortDescription": { "text": clip(r.summary, 1024) },
                "fullDescription": { "text": clip(if full.is_empty() { r.summary } else { &full }, 1024) },
                "help": { "text": clip(&r.doc.replace("```rust", "```"), 1024 * 8), "markdown": r.doc },
                "helpUri": format!("https://github.com/threadlint/threadlint/blob/main/rules/{}.md", r.code),
                "defaultConfiguration": { "level": sarif_level(r.level) },
                "properties": { "tags": ["threadlint", "concurrency", "security", "multi-tenant"], "precision": "high" },
            })
        })
        .collect();
    let location = |file: usize, loc: crate::syntax::summary::Loc, message: Option<&str>| {
        let mut v = json!({
            "physicalLocation": {
                "artifactLocation": { "uri": src.uri(file), "uriBaseId": "%SRCROOT%" },
                "region": {
                    "startLine": loc.line.max(1),
                    "startColumn": loc.col.max(1),
                    "endLine": loc.end_line.max(loc.line).max(1),
                    "endColumn": if loc.end_line == loc.line { loc.end_col.max(loc.col + 1) } else { loc.end_col.max(1) },
                }
            }
        });
        if let Some(m) = message {
            v["message"] = json!({ "text": m });
        }
        v
    };
    let results: Vec<serde_json::Value> = findings
        .iter()
        .map(|f| {
            let index = crate::rules::RULES.iter().position(|r| r.code == f.code).unwrap_or(0);
            let steps: Vec<serde_json::Value> = f
                .path
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let handoff = s.mark.map(|m| format!(" ({})", m.symbol())).unwrap_or_default();
                    json!({
                        "location": location(s.file, s.loc, Some(&format!("{}. {}{handoff}", i + 1, s.node))),
                        "nestingLevel": 0,
                        "executionOrder": i + 1,
                    })
                })
                .collect();
            let related: Vec<serde_json::Value> = f
                .path
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    let mut l = location(s.file, s.loc, Some(&format!("step {}: {}", i + 1, s.node)));
                    l["id"] = json!(i + 1);
                    l
                })
                .collect();
            let mut r = json!({
                "ruleId": f.code,
                "ruleIndex": index,
                "level": sarif_level(f.level),
                "message": { "text": format!("{} — {}", f.message, f.help) },
                "locations": [location(f.file, f.loc, None)],
                "partialFingerprints": { "threadlintFingerprint/v2": f.fingerprint },
            });
            if !steps.is_empty() {
                r["codeFlows"] = json!([{ "threadFlows": [{ "locations": steps }] }]);
                r["relatedLocations"] = json!(related);
            }
            r
        })
        .collect();
    let root = src.root_uri();
    serde_json::to_string_pretty(&json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "threadlint",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/threadlint/threadlint",
                "rules": rules,
            }},
            "originalUriBaseIds": { "%SRCROOT%": { "uri": root } },
            "columnKind": "unicodeCodePoints",
            "invocations": [{
                "executionSuccessful": true,
                "toolExecutionNotifications": notifications(diags, src),
            }],
            "results": results,
        }]
    }))
    .unwrap_or_default()
}

/// `::error file=…,line=…::…` workflow commands for GitHub Actions.
pub fn github(findings: &[Finding], src: &Sources) -> String {
    use crate::diagnostic::{github_data as data, github_property as prop};
    let mut s = String::new();
    for f in findings {
        let cmd = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
            _ => "notice",
        };
        let _ = writeln!(
            s,
            "::{cmd} file={},line={},col={},endLine={},endColumn={},title={}::{}",
            prop(&src.display(f.file)),
            f.loc.line,
            f.loc.col,
            f.loc.end_line,
            f.loc.end_col,
            prop(&format!("{} {}", f.code, f.name)),
            data(&format!("{} ({})", f.message, f.help))
        );
    }
    s
}

/// `--statistics`: findings per rule.
pub fn statistics(findings: &[Finding]) -> String {
    let mut s = String::new();
    for r in crate::rules::RULES {
        let n = findings.iter().filter(|f| f.code == r.code).count();
        if n > 0 {
            let _ = writeln!(s, "{n:>5}  {}  {}", r.code, r.name);
        }
    }
    s
}

/// Should the human report use colour? `--color always|never`, else `NO_COLOR` / `CLICOLOR_FORCE`,
/// else whether stdout is a terminal.
pub fn use_color(choice: &str) -> bool {
    use std::io::IsTerminal;
    match choice {
        "always" => true,
        "never" => false,
        _ => {
            if std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty()) {
                false
            } else if std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0")
            {
                true
            } else {
                std::io::stdout().is_terminal()
            }
        }
    }
}

/// The human report: a miette snippet per finding, the path as numbered steps, a summary.
pub fn human_miette(findings: &[Finding], src: &Sources, color: bool) -> String {
    let mut s = String::new();
    // Each file is read, made visible and indexed by line once; a snippet reads only its lines.
    let mut texts: std::collections::HashMap<usize, snippet::SourceText> =
        std::collections::HashMap::new();
    for f in findings {
        let text = texts.entry(f.file).or_insert_with(|| {
            snippet::SourceText::new(
                src.files
                    .get(f.file)
                    .and_then(|p| crate::bounded::read_text(p, crate::bounded::Kind::Source).ok())
                    .map(|t| crate::diagnostic::visible_controls(&t).into_owned())
                    .unwrap_or_default(),
            )
        });
        let severity = match f.level {
            Level::Error => miette::Severity::Error,
            Level::Warning => miette::Severity::Warning,
            _ => miette::Severity::Advice,
        };
        s.push_str(&snippet::miette_snippet(
            &src.display(f.file),
            text,
            f.loc,
            &f.message,
            &format!("threadlint::{}", f.code),
            severity,
            &f.help,
            snippet::label_for(f.code),
            color,
        ));
        if !f.path.is_empty() {
            s.push_str("  path:\n");
            for (i, st) in f.path.iter().enumerate() {
                let mark = st
                    .mark
                    .map(|m| format!(" {}", m.symbol()))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "    {:>2}. {} ({}:{}){mark}",
                    i + 1,
                    st.node,
                    src.display(st.file),
                    st.loc.line
                );
            }
        }
        s.push('\n');
    }
    s
}

pub mod baseline;
pub mod snippet;
pub use snippet::{miette_snippet, SourceText};
pub mod paths;
