//! TP007 context-in-shared-state: a carrier written into state every connection shares.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP007",
    name: "context-in-shared-state",
    level: Level::Error,
    summary: "a thread context is parked in state shared by all connections",
    doc: include_str!("../../rules/TP007.md"),
    scope: Scope::EntryReachable,
    check,
};

struct ContextInSharedState {
    func: String,
    /// The context written (`ctx.clone()`).
    value: String,
    /// The slot (`state.current_thread`, `static LAST`).
    slot: String,
}

impl Violation for ContextInSharedState {
    fn message(&self) -> String {
        format!(
            "`{}` writes the thread context (`{}`) into {}, a single slot shared by every connection",
            self.func, self.value, self.slot
        )
    }
    fn help(&self) -> String {
        "keep the context with the conversation (pass it, or store it in a map keyed by its thread id)".into()
    }
    fn key(&self) -> String {
        self.slot.clone()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for func in cx.fns() {
        for w in &func.facts.shared_writes {
            let node = func.node(w.owner);
            let v = ContextInSharedState {
                func: cx.short_name(node),
                value: w.value.clone(),
                slot: w.slot.clone(),
            };
            out.extend(cx.report(
                &RULE,
                &v,
                func.file(),
                w.loc,
                Some(node),
                cx.path(node, None),
            ));
        }
    }
    out
}
