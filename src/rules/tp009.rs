//! TP009 unused-suppression: an `allow` that suppresses nothing, a suppression without a reason,
//! or a declared `#[entry]` that reaches no tool.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP009",
    name: "unused-suppression",
    level: Level::Warning,
    summary:
        "a suppression suppresses nothing or gives no reason, or a declared entry reaches no tool",
    doc: include_str!("../../rules/TP009.md"),
    scope: Scope::Anywhere,
    check,
};

struct EntryReachesNoTool {
    entry: String,
}

impl Violation for EntryReachesNoTool {
    fn message(&self) -> String {
        format!(
            "`{}` is declared an entry point but reaches no tool",
            self.entry
        )
    }
    fn help(&self) -> String {
        "remove the annotation, or check that the calls towards the tools resolve (`threadlint debug callgraph`)".into()
    }
    fn key(&self) -> String {
        "entry".into()
    }
}

/// Declared entries that reach no tool. Unused suppressions and suppressions without a reason are
/// found by the suppression stage, which reports them with this rule's code
/// (see `crate::suppress`).
fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for func in cx.fns() {
        let Some(attr) = func.attr("entry") else {
            continue;
        };
        if cx.on_path(func.id.node()) {
            continue;
        }
        let v = EntryReachesNoTool {
            entry: cx.short_name(func.id.node()),
        };
        out.extend(cx.report(
            &RULE,
            &v,
            func.file(),
            attr.loc,
            Some(func.id.node()),
            Vec::new(),
        ));
    }
    out
}
