//! The rules, one file each (SPEC §4). A rule reads the analysis through the rule context
//! ([`cx::Cx`]: typed ids, function and call views, the shared queries) and returns
//! [`Finding`]s made from its typed [`cx::Violation`]. Their documentation lives in
//! `rules/TPxxx.md`.
//!
//! Adding a rule: one line in `codes/src/lib.rs` (`TP011 => tp011`: the code, which the macros
//! crate validates `allow(…)` against, and the module, which this file then declares and lists in
//! [`RULES`]), `src/rules/tp011.rs` (its `RULE`, a violation type, `check`), `rules/TP011.md`,
//! and a pair of fixtures under `fixtures/rules/` (one that fires, one that must not).
//!
//! **Architecture invariant:** rules are independent (run in parallel, in any order) and only
//! report; suppressions, levels and fingerprints are applied after them by the driver.

use serde::Serialize;

use crate::analysis::{Analysis, Step};

pub mod cx;
use crate::syntax::summary::Loc;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Allow,
    Note,
    Warning,
    Error,
}

impl Level {
    pub fn parse(s: &str) -> Option<Level> {
        match s {
            "allow" => Some(Level::Allow),
            "note" => Some(Level::Note),
            "warning" => Some(Level::Warning),
            "error" => Some(Level::Error),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Allow => "allow",
            Level::Note => "note",
            Level::Warning => "warning",
            Level::Error => "error",
        }
    }
}

#[derive(Debug)]
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    /// One line: what it finds.
    pub summary: &'static str,
    /// The rule's documentation (`rules/TPxxx.md`).
    pub doc: &'static str,
    /// Where its findings may lie.
    pub scope: Scope,
    check: fn(cx::Cx) -> Vec<Finding>,
}

/// Where a rule's findings may lie (SPEC §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Only in functions an entry point reaches, with a path that starts at one: code no entry
    /// reaches (a CLI, a TUI, start-up wiring, a client of the server) gets none of them.
    EntryReachable,
    /// Anywhere the rule's own condition holds (a tool, an entry, a suppression, a note).
    Anywhere,
}

/// Declares each rule's module and lists its `RULE` in [`RULES`], in code order. The list is
/// `threadlint_codes`' (its `for_each_rule!`), so a code added there is a rule here; a unit test
/// checks each module's `RULE` has its code.
macro_rules! rules {
    ($($m:ident),* $(,)?) => {
        $(mod $m;)*
        pub static RULES: &[Rule] = &[$($m::RULE),*];
    };
}

threadlint_codes::for_each_rule!();

/// TP009, which the suppression stage also reports (unused or unexplained suppressions).
pub(crate) use tp009::RULE as UNUSED_SUPPRESSION;

pub fn rule(code: &str) -> Option<&'static Rule> {
    RULES.iter().find(|r| r.code.eq_ignore_ascii_case(code))
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub level: Level,
    pub message: String,
    /// Index of the file in the analysis (see `Analysis::gr.ix.parsed.files`).
    pub file: usize,
    pub loc: Loc,
    pub help: String,
    pub path: Vec<Step>,
    /// The qualified name of the function (or closure) the finding is in.
    pub func: String,
    /// What the finding is about within that function: the callee, the spawned task, the
    /// channel, the context (SPEC §8). With `func`, it makes the fingerprint.
    pub key: String,
    /// Unique per finding; unchanged when lines move, code is reformatted or a message is
    /// reworded (set by [`finish`]).
    pub fingerprint: String,
}

impl Finding {
    pub fn new(
        rule: &Rule,
        file: usize,
        loc: Loc,
        message: String,
        help: String,
        path: Vec<Step>,
    ) -> Finding {
        Finding {
            code: rule.code,
            name: rule.name,
            level: rule.level,
            message,
            file,
            loc,
            help,
            path,
            func: String::new(),
            key: String::new(),
            fingerprint: String::new(),
        }
    }
}

/// Run every rule. Suppressions and levels are later stages (see [`crate::driver::findings`]).
pub fn run_all(a: &Analysis) -> Vec<Finding> {
    use rayon::prelude::*;
    let cx = cx::Cx::new(a);
    let per_rule: Vec<Vec<Finding>> = RULES.par_iter().map(|r| (r.check)(cx)).collect();
    per_rule.into_iter().flatten().collect()
}

/// The configured levels (`[rules]`), then findings in file and line order without duplicates.
pub fn finish(a: &Analysis, out: &mut Vec<Finding>) {
    for f in out.iter_mut() {
        if let Some(l) = a.cfg.rules.get(f.code).and_then(|l| Level::parse(l)) {
            f.level = l;
        }
    }
    out.retain(|f| f.level != Level::Allow);
    let files = &a.gr.ix.parsed.files;
    out.sort_by(|x, y| {
        (&files[x.file].path, x.loc, x.code).cmp(&(&files[y.file].path, y.loc, y.code))
    });
    out.dedup_by(|x, y| {
        x.file == y.file && x.loc == y.loc && x.code == y.code && x.message == y.message
    });
    let root = &a.gr.ix.project.root;
    let paths: Vec<String> = files
        .iter()
        .map(|f| crate::diagnostic::display_path(&f.path, root))
        .collect();
    fingerprint_all(out, &paths);
}

/// Give each finding its fingerprint: a hash of the rule, the file (relative to the workspace
/// root), the enclosing function, the key, and the occurrence number of that combination in
/// source order (the second `run(text)` dropped in one function is occurrence 1).
pub fn fingerprint_all(findings: &mut [Finding], paths: &[String]) {
    let mut seen: rustc_hash::FxHashMap<(&str, usize, &str, &str), u32> = Default::default();
    let fingerprints: Vec<String> = findings
        .iter()
        .map(|f| {
            let n = seen.entry((f.code, f.file, &f.func, &f.key)).or_insert(0);
            let mut bytes = Vec::new();
            for part in [f.code, &paths[f.file], &f.func, &f.key, &n.to_string()] {
                bytes.extend_from_slice(part.as_bytes());
                bytes.push(0);
            }
            *n += 1;
            format!("{:016x}", crate::cache::content_hash(&bytes) as u64)
        })
        .collect();
    for (f, fp) in findings.iter_mut().zip(fingerprints) {
        f.fingerprint = fp;
    }
}

#[cfg(test)]
mod tests {
    use super::RULES;

    /// The rule table and `threadlint-codes` list the same codes in the same order.
    #[test]
    fn rules_are_the_codes_in_order() {
        let rules: Vec<&str> = RULES.iter().map(|r| r.code).collect();
        let codes: Vec<&str> = threadlint_codes::Code::ALL
            .iter()
            .map(|c| c.as_str())
            .collect();
        assert_eq!(rules, codes);
    }
}
