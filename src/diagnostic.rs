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
        let message = escape_controls(&self.message);
        match self.loc {
            Some(l) => format!(
                "{file}:{}:{}: {sev}[{}]: {message}",
                l.line, l.col, self.kind
            ),
            None => format!("{file}: {sev}[{}]: {message}", self.kind),
        }
    }

    /// The diagnostic as a GitHub workflow command (`::error file=…::…`), every part escaped.
    pub fn render_github(&self, root: &Path) -> String {
        let (data, prop) = (github_data, github_property);
        let cmd = match self.severity {
            Severity::Note => "notice",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let at = self
            .loc
            .map(|l| format!(",line={},col={}", l.line, l.col))
            .unwrap_or_default();
        format!(
            "::{cmd} file={}{at},title={}::{}",
            prop(&display_path(&self.file, root)),
            prop(&format!("threadlint {}", self.kind)),
            data(&escape_controls(&self.message))
        )
    }
}

/// A path relative to `root` when it is inside it, else as given; always with `/`, and with
/// control characters escaped ([`escape_controls`]).
pub fn display_path(p: &Path, root: &Path) -> String {
    let rel = p.strip_prefix(root).unwrap_or(p);
    let s = rel.to_string_lossy().replace('\\', "/");
    if s.is_empty() {
        ".".into()
    } else {
        escape_controls(&s)
    }
}

/// Line and paragraph separators and bidi controls: harmless bytes that change how a line reads.
fn is_invisible_format(c: char) -> bool {
    matches!(
        c,
        '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
    ) || ('\u{202a}'..='\u{202e}').contains(&c)
        || ('\u{2066}'..='\u{2069}').contains(&c)
}

/// A GitHub workflow command's message, escaped (`%`, CR, LF).
pub fn github_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A GitHub workflow command's property value, escaped (also `:` and `,`).
pub fn github_property(s: &str) -> String {
    github_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Text from the analyzed code (a file name, a quoted call) made safe to print: control
/// characters (C0, DEL, C1: newlines, ESC, BEL …), line and paragraph separators and bidi
/// controls become `\u{…}`, so no output line can be forged (`::stop-commands::`) and no escape
/// sequence reaches a terminal.
pub fn escape_controls(s: &str) -> String {
    let unsafe_char = |c: char| c.is_control() || is_invisible_format(c);
    if !s.chars().any(unsafe_char) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
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

/// A whole source text made safe to quote in a terminal snippet, keeping its lines and every
/// character's column: each control character but newline and tab becomes one visible
/// character (`␛` for ESC, `␍` for CR, `�` for the rest and for bidi controls).
pub fn visible_controls(text: &str) -> std::borrow::Cow<'_, str> {
    let bad = |c: char| (c.is_control() && c != '\n' && c != '\t') || is_invisible_format(c);
    if !text.chars().any(bad) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            c if !bad(c) => c,
            c if (c as u32) < 0x20 => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            _ => '\u{fffd}',
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped() {
        assert_eq!(
            escape_controls("a\nb\x1b[2J\u{202e}c"),
            "a\\u{a}b\\u{1b}[2J\\u{202e}c"
        );
        assert_eq!(escape_controls("plain `x` → y"), "plain `x` → y");
        assert_eq!(visible_controls("a\x1b]0\x07\nb\tc"), "a␛]0␇\nb\tc");
        let d = Diag::new(
            Severity::Error,
            "parse-error",
            "x\n::stop-commands::pwn\n.rs",
            None,
            "m",
        );
        assert!(!d.render(Path::new("/")).contains('\n'));
        assert!(d
            .render_github(Path::new("/"))
            .starts_with("::error file=x\\u{a}%3A%3Astop"));
    }
}
