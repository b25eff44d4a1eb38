//! Problems with the input itself (a file that does not parse, a missing module file, a broken
//! manifest). Findings of the rules are a different type; these are reported beside them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A source range, 1-based lines and 1-based columns (columns count chars, like rustc).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
    pub end_line: u32,
    pub end_col: u32,
}

impl Loc {
    /// A zero-width location at one point (1-based line and column).
    pub fn point(line: u32, col: u32) -> Loc {
        Loc {
            line,
            col,
            end_line: line,
            end_col: col,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Note,
    Warning,
    Error,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Diag {
    pub severity: Severity,
    /// A short stable kind: `parse-error`, `missing-module`, `manifest`, `io`, …
    pub kind: smol_str::SmolStr,
    pub file: PathBuf,
    pub loc: Option<Loc>,
    pub message: String,
}

impl Diag {
    pub fn new(
        severity: Severity,
        kind: &'static str,
        file: impl Into<PathBuf>,
        loc: Option<Loc>,
        message: impl Into<String>,
    ) -> Diag {
        Diag {
            severity,
            kind: smol_str::SmolStr::new_static(kind),
            file: file.into(),
            loc,
            message: message.into(),
        }
    }

    /// `path:line:col: severity[kind]: message`, with `path` relative to `root` where possible.
    pub fn render(&self, root: &Path) -> String {
        let file = display_path(&self.file, root);
        let sev = match self.severity {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        match self.loc {
            Some(l) => format!(
                "{file}:{}:{}: {sev}[{}]: {}",
                l.line, l.col, self.kind, self.message
            ),
            None => format!("{file}: {sev}[{}]: {}", self.kind, self.message),
        }
    }
}

/// A path relative to `root` when it is inside it, else as given; always with `/`.
pub fn display_path(p: &Path, root: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        s
    }
}

/// The point at a byte offset in `text`.
pub fn point_at(text: &str, offset: usize) -> Loc {
    let (line, col) = line_col(text, offset);
    Loc::point(line, col)
}

/// 1-based line and column of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = offset.min(text.len());
    let before = &text[..floor_char_boundary(text, offset)];
    let line = before.matches('\n').count() as u32 + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u32 + 1;
    (line, col)
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Diagnostics of the manifests and of the files, in a stable order (by file, then location).
pub fn sorted<'d>(project: &'d [Diag], files: &'d [Diag]) -> Vec<&'d Diag> {
    let mut d: Vec<&Diag> = project.iter().chain(files).collect();
    d.sort_by(|a, b| (&a.file, a.loc).cmp(&(&b.file, b.loc)));
    d
}
