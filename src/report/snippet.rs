//! Source snippets of the human report, rendered by miette.
//!
//! Invariant: rendering a snippet costs the size of the lines it shows, never the size of the
//! file (SPEC §10). Each file is indexed by line once ([`SourceText`]); miette is handed only an
//! [`Excerpt`] of the lines around the finding, which reports the file's own line numbers, and a
//! line too long to show whole is cut to a window around the span.

use crate::syntax::summary::Loc;

/// A file's text with the byte offset where each line starts.
pub struct SourceText {
    text: String,
    starts: Vec<usize>,
}

/// Lines of context kept around a finding's line: more than miette shows (one before, one
/// after), so that what it reads is exactly what it would read from the whole file.
const CONTEXT: usize = 3;

/// A line longer than this is shown cut to a window around the span.
const LONG_LINE: usize = 512;

/// Bytes of a long line kept on each side of the span, and of the span itself.
const WINDOW: usize = 100;
const MAX_SPAN: usize = 200;

impl SourceText {
    pub fn new(text: String) -> SourceText {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceText { text, starts }
    }

    /// Byte offset where 0-based line `l` starts (the text's end past the last line).
    fn start(&self, l: usize) -> usize {
        self.starts.get(l).copied().unwrap_or(self.text.len())
    }

    /// Byte offset where line `l` ends, without its newline.
    fn end(&self, l: usize) -> usize {
        let next = self.start(l + 1);
        if next > self.start(l) && self.text.as_bytes()[next - 1] == b'\n' {
            next - 1
        } else {
            next
        }
    }

    /// Byte offset of 1-based (line, char column), within that line; past the line's end: the end.
    fn offset(&self, line: u32, col: u32) -> usize {
        let l = line as usize - 1;
        if l >= self.starts.len() {
            return self.text.len();
        }
        let (s, e) = (self.start(l), self.end(l));
        self.text[s..e]
            .char_indices()
            .nth(col.saturating_sub(1) as usize)
            .map_or(e, |(b, _)| s + b)
    }

    /// The excerpt miette is given for a span on `loc`, and the span within it.
    fn excerpt(&self, loc: Loc) -> (Excerpt, miette::SourceSpan) {
        let line = loc.line.max(1);
        let start = self.offset(line, loc.col.max(1));
        let end = if loc.end_line == loc.line && loc.end_col > loc.col {
            self.offset(line, loc.end_col)
        } else {
            // Multi-line spans: underline to the end of the first line.
            self.end(line as usize - 1).max(start)
        };
        let l = (line as usize - 1).min(self.starts.len().saturating_sub(1));
        let long = (l.saturating_sub(1)..=l + 1)
            .filter(|&k| k < self.starts.len())
            .any(|k| self.end(k) - self.start(k) > LONG_LINE);
        if !long {
            let first = l.saturating_sub(CONTEXT);
            let base = self.start(first);
            let text = self.text[base..self.start(l + CONTEXT + 1)].to_string();
            let span = (start - base, end.saturating_sub(start).max(1)).into();
            return (
                Excerpt {
                    text,
                    first_line: first,
                    first_col: 0,
                },
                span,
            );
        }
        // One long line: a window around the span, its cut ends marked.
        let (ls, le) = (self.start(l), self.end(l));
        let end = ceil_boundary(&self.text, end.min(start + MAX_SPAN));
        let from = if start - ls > WINDOW + 20 {
            floor_boundary(&self.text, start - WINDOW)
        } else {
            ls
        };
        let to = ceil_boundary(&self.text, (end + WINDOW).min(le));
        let prefix = if from > ls { "…" } else { "" };
        let suffix = if to < le { "…" } else { "" };
        let text = format!("{prefix}{}{suffix}", &self.text[from..to]);
        let span = (
            prefix.len() + start - from,
            end.saturating_sub(start).max(1),
        )
            .into();
        (
            Excerpt {
                text,
                first_line: l,
                first_col: from - ls - prefix.len(),
            },
            span,
        )
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while !s.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Some lines of a file, which miette reads as the file: line numbers (and the columns of a
/// line cut at its start) are shifted back to the file's.
struct Excerpt {
    text: String,
    first_line: usize,
    /// Bytes of the first line left out before the excerpt starts.
    first_col: usize,
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &miette::SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let c = self.text.as_str().read_span(span, before, after)?;
        let col = if c.line() == 0 {
            c.column() + self.first_col
        } else {
            c.column()
        };
        Ok(Box::new(miette::MietteSpanContents::new(
            c.data(),
            *c.span(),
            c.line() + self.first_line,
            col,
            c.line_count(),
        )))
    }
}

#[derive(Debug)]
struct MietteFinding {
    message: String,
    code: String,
    severity: miette::Severity,
    help: String,
    source: miette::NamedSource<Excerpt>,
    span: miette::SourceSpan,
    label: &'static str,
}

impl std::fmt::Debug for Excerpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Excerpt(line {})", self.first_line + 1)
    }
}

impl std::fmt::Display for MietteFinding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteFinding {}

impl miette::Diagnostic for MietteFinding {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.code))
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(
            miette::LabeledSpan::new_primary_with_span(Some(self.label.to_string()), self.span),
        )))
    }
}

pub fn label_for(code: &str) -> &'static str {
    match code {
        "TP001" => "the thread context is dropped here",
        "TP002" => "a context made up from nothing",
        "TP003" => "this task starts without the context",
        "TP004" => "this message carries no context",
        "TP005" => "this tool cannot receive a context",
        "TP006" => "no context is ever established from here",
        "TP007" => "written into state every connection shares",
        "TP008" => "a tool result goes to every connection",
        "TP009" => "this suppression",
        _ => "this call cannot be followed",
    }
}

/// Render one located problem with miette: a rustc-style snippet, a label, help.
#[allow(clippy::too_many_arguments)]
pub fn miette_snippet(
    file_name: &str,
    text: &SourceText,
    loc: Loc,
    message: &str,
    code: &str,
    severity: miette::Severity,
    help: &str,
    label: &'static str,
    color: bool,
) -> String {
    let (excerpt, span) = text.excerpt(loc);
    let diag = MietteFinding {
        message: message.to_string(),
        code: code.to_string(),
        severity,
        help: help.to_string(),
        source: miette::NamedSource::new(file_name, excerpt),
        span,
        label,
    };
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(110);
    let mut out = String::new();
    let _ = handler.render_report(&mut out, &diag);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(text: &str, loc: Loc) -> String {
        miette_snippet(
            "f.rs",
            &SourceText::new(text.to_string()),
            loc,
            "m",
            "c",
            miette::Severity::Warning,
            "h",
            "here",
            false,
        )
    }

    fn at(line: u32, col: u32, end_col: u32) -> Loc {
        Loc {
            line,
            col,
            end_line: line,
            end_col,
        }
    }

    /// The excerpt shows the file's line numbers and columns, deep in a big file.
    #[test]
    fn an_excerpt_keeps_the_file_s_positions() {
        let mut text = "// filler\n".repeat(5000);
        text.push_str("fn f() { call(); }\n// after\n");
        let out = render(&text, at(5001, 10, 14));
        assert!(out.contains("[f.rs:5001:10]"), "{out}");
        assert!(out.contains("5001 │ fn f() { call(); }"), "{out}");
        assert!(out.contains("5000 │ // filler"), "{out}");
        assert!(out.contains("5002 │ // after"), "{out}");
        assert!(!out.contains("4999"), "{out}");
    }

    /// A minified line is shown as a window around the span, its column still the file's.
    #[test]
    fn a_long_line_is_cut_around_the_span() {
        let text = format!("{}call(){}\n", "x".repeat(5000), "y".repeat(5000));
        let out = render(&text, at(1, 5001, 5005));
        assert!(out.contains("[f.rs:1:5001]"), "{out}");
        assert!(
            out.contains("…xxxx") && out.contains("call()yyyy") && out.contains("y…"),
            "{out}"
        );
        assert!(out.len() < 2000, "{} bytes", out.len());
    }

    /// Positions past the end of a line or of the file do not panic.
    #[test]
    fn positions_out_of_range_are_clamped() {
        render("fn f() {}\n", at(1, 40, 50));
        render("fn f() {}\n", at(9, 1, 2));
        render("", at(1, 1, 1));
        render("é€😀\n", at(1, 2, 3));
    }
}
