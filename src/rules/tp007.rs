//! TP007 context-in-shared-state: a carrier written into state every connection shares.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;

pub const RULE: Rule = Rule {
    code: "TP007",
    name: "context-in-shared-state",
    level: Level::Error,
    summary: "a thread context is parked in state shared by all connections",
    doc: include_str!("../../rules/TP007.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        for w in &a.facts(f).shared_writes {
            let node = a.node(f, w.owner);
            out.push(Finding::new(
                &RULE,
                info.file,
                w.loc,
                format!(
                    "`{}` writes the thread context (`{}`) into {}, a single slot shared by every connection",
                    a.short_name(node),
                    w.value,
                    w.slot
                ),
                "keep the context with the conversation (pass it, or store it in a map keyed by its thread id)".into(),
                a.path_through(node, None),
            ).keyed(a, node, w.slot.clone()));
        }
    }
    out
}
