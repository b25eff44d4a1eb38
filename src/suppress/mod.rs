//! Suppressions (SPEC §5): `// threadlint: allow(TP001) reason: …` on the line or the line above,
//! and `#[threadlint_macros::allow(TP001, reason = "…")]` on an item. A reason is required;
//! unused suppressions are reported (TP009).
//!
//! **Architecture invariant:** runs after every rule and owns the reporting of TP009's
//! suppression findings (as ruff's noqa checker owns RUF100); rules never call it.

use crate::analysis::Analysis;
use crate::rules::{self, Finding};
use crate::syntax::summary::Loc;

struct Suppression {
    file: usize,
    loc: Loc,
    first_line: u32,
    last_line: u32,
    codes: Vec<String>,
    has_reason: bool,
    used: bool,
    form: &'static str,
}

fn codes_in(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| {
            w.len() == 5 && w.starts_with("TP") && w[2..].chars().all(|c| c.is_ascii_digit())
        })
        .map(String::from)
        .collect()
}

/// `TP001, reason = "why"` (as attribute tokens): a non-empty reason string.
fn has_attr_reason(args: &str) -> bool {
    args.split_once("reason")
        .and_then(|(_, rest)| rest.split_once('"'))
        .is_some_and(|(_, rest)| rest.split('"').next().is_some_and(|r| !r.trim().is_empty()))
}

fn collect(a: &Analysis) -> Vec<Suppression> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (file, sf) in ix.parsed.files.iter().enumerate() {
        for c in &sf.summary.allows {
            out.push(Suppression {
                file,
                loc: Loc {
                    line: c.line,
                    col: c.col,
                    end_line: c.line,
                    end_col: c.col,
                },
                first_line: c.line,
                last_line: c.line + 1,
                codes: c.codes.iter().map(|s| s.to_string()).collect(),
                has_reason: c.reason.is_some(),
                used: false,
                form: "comment",
            });
        }
    }
    let mut item =
        |file: usize, module: usize, attrs: &[crate::syntax::summary::Attr], span: Loc| {
            for at in attrs {
                // `threadlint_macros::allow(…)`, `tl::allow(…)`, a renamed import of it; not rustc's `#[allow]`.
                if ix.attr_name(module, at) != "allow" || !ix.is_threadlint_attr(module, at) {
                    continue;
                }
                out.push(Suppression {
                    file,
                    loc: at.loc,
                    first_line: span.line.min(at.loc.line),
                    last_line: span.end_line,
                    codes: codes_in(&at.args),
                    has_reason: has_attr_reason(&at.args),
                    used: false,
                    form: "attribute",
                });
            }
        };
    for f in &ix.fns {
        item(f.file, f.module, &f.def.attrs, f.def.item_loc);
    }
    for im in &ix.impls {
        item(im.file, im.module, &im.def.attrs, im.def.loc);
    }
    out
}

/// Drop suppressed findings; add TP009 for suppressions that are unused or give no reason.
pub fn apply(a: &Analysis, findings: &mut Vec<Finding>) {
    let mut sups = collect(a);
    findings.retain(|f| {
        let mut keep = true;
        for s in sups.iter_mut() {
            if s.file == f.file
                && (s.first_line..=s.last_line).contains(&f.loc.line)
                && s.codes.iter().any(|c| c == f.code)
            {
                s.used = true;
                keep = false;
            }
        }
        keep
    });
    for s in &sups {
        let codes = s.codes.join(", ");
        if s.codes.is_empty() {
            findings.push(suppression_finding(
                s.file,
                s.loc,
                format!("this threadlint {} names no rule", s.form),
                "name the rules to allow: `allow(TP001)`".into(),
                format!("{} names no rule", s.form),
            ));
            continue;
        }
        if let Some(bad) = s.codes.iter().find(|c| rules::rule(c).is_none()) {
            findings.push(suppression_finding(
                s.file,
                s.loc,
                format!("`{bad}` is not a threadlint rule"),
                "see `threadlint rules` for the list".into(),
                format!("{} allow({codes}) unknown {bad}", s.form),
            ));
        }
        if !s.has_reason {
            findings.push(suppression_finding(
                s.file,
                s.loc,
                format!("`allow({codes})` gives no reason"),
                match s.form {
                    "comment" => "say why: `// threadlint: allow(TP001) reason: <why>`".into(),
                    _ => "say why: `#[threadlint_macros::allow(TP001, reason = \"<why>\")]`".into(),
                },
                format!("{} allow({codes}) no reason", s.form),
            ));
        }
        if !s.used {
            findings.push(suppression_finding(
                s.file,
                s.loc,
                format!("`allow({codes})` suppresses nothing"),
                "remove the suppression".into(),
                format!("{} allow({codes}) unused", s.form),
            ));
        }
    }
}

/// A TP009 finding of this stage (an unused or unexplained `allow`), about `key`.
fn suppression_finding(
    file: usize,
    loc: crate::syntax::summary::Loc,
    message: String,
    help: String,
    key: String,
) -> Finding {
    let mut f = Finding::new(
        &rules::UNUSED_SUPPRESSION,
        file,
        loc,
        message,
        help,
        Vec::new(),
    );
    f.key = key;
    f
}
