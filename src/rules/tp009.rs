//! TP009 unused-suppression: an `allow` that suppresses nothing, a suppression without a reason,
//! or a declared `#[entry]` that reaches no tool.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;

pub const RULE: Rule = Rule {
    code: "TP009",
    name: "unused-suppression",
    level: Level::Warning,
    summary:
        "a suppression suppresses nothing or gives no reason, or a declared entry reaches no tool",
    doc: include_str!("../../rules/TP009.md"),
    check,
};

/// Declared entries that reach no tool. Unused suppressions and suppressions without a reason are
/// found by the suppression stage, which reports them with this rule's code
/// (see `crate::suppress`).
fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(attr) = info
            .def
            .attrs
            .iter()
            .find(|at| ix.attr_name(info.module, at) == "entry")
        else {
            continue;
        };
        if a.on_path[f] {
            continue;
        }
        out.push(Finding::new(
            &RULE,
            info.file,
            attr.loc,
            format!("`{}` is declared an entry point but reaches no tool", a.short_name(f)),
            "remove the annotation, or check that the calls towards the tools resolve (`threadlint debug callgraph`)".into(),
            Vec::new(),
        ).keyed(a, f, "entry"));
    }
    out
}

pub fn finding(
    file: usize,
    loc: crate::syntax::summary::Loc,
    message: String,
    help: String,
    key: String,
) -> Finding {
    Finding::new(&RULE, file, loc, message, help, Vec::new()).keyed_at_file(key)
}
