//! Rendering findings for people (`human`, `concise`) and machines (`json`).

use std::fmt::Write;
use std::path::Path;

use crate::analysis::Analysis;
use crate::diagnostic::display_path;
use crate::rules::{Finding, Level};

pub struct Sources {
    root: std::path::PathBuf,
    files: Vec<std::path::PathBuf>,
}

impl Sources {
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
    pub fn display(&self, file: usize) -> String {
        self.files
            .get(file)
            .map(|p| display_path(p, &self.root))
            .unwrap_or_default()
    }
    fn line(&self, file: usize, line: u32) -> Option<String> {
        let p: &Path = self.files.get(file)?;
        let text = std::fs::read_to_string(p).ok()?;
        text.lines()
            .nth(line.saturating_sub(1) as usize)
            .map(String::from)
    }
}

pub fn human(findings: &[Finding], src: &Sources) -> String {
    let mut s = String::new();
    for f in findings {
        let file = src.display(f.file);
        let _ = writeln!(s, "{}[{}]: {}", f.level.as_str(), f.code, f.message);
        let _ = writeln!(s, "  --> {file}:{}:{}", f.loc.line, f.loc.col);
        if let Some(line) = src.line(f.file, f.loc.line) {
            let num = f.loc.line.to_string();
            let pad = " ".repeat(num.len());
            let start = f.loc.col.saturating_sub(1) as usize;
            let width = if f.loc.end_line == f.loc.line {
                f.loc.end_col.saturating_sub(f.loc.col).max(1) as usize
            } else {
                line.chars().count().saturating_sub(start).max(1)
            };
            let _ = writeln!(s, "{pad} |");
            let _ = writeln!(s, "{num} | {line}");
            let _ = writeln!(s, "{pad} | {}{}", " ".repeat(start), "^".repeat(width));
            let _ = writeln!(s, "{pad} = help: {}", f.help);
            if !f.path.is_empty() {
                let _ = writeln!(s, "{pad} = path:");
                for (i, st) in f.path.iter().enumerate() {
                    let mark = st
                        .mark
                        .map(|m| format!(" {}", m.symbol()))
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "{pad}     {}. {} ({}:{}){mark}",
                        i + 1,
                        st.node,
                        src.display(st.file),
                        st.loc.line
                    );
                }
            }
        }
        s.push('\n');
    }
    s
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

pub fn json(findings: &[Finding], src: &Sources) -> String {
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
    serde_json::to_string_pretty(&serde_json::json!({
        "version": 1,
        "findings": items,
        "summary": {
            "errors": findings.iter().filter(|f| f.level == Level::Error).count(),
            "warnings": findings.iter().filter(|f| f.level == Level::Warning).count(),
            "notes": findings.iter().filter(|f| f.level == Level::Note).count(),
        }
    }))
    .unwrap_or_default()
}
