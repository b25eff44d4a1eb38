//! TP010 unresolved-handoff: an on-path function makes a call the analysis cannot resolve.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;

pub const RULE: Rule = Rule {
    code: "TP010",
    name: "unresolved-handoff",
    level: Level::Note,
    summary: "a call on the way to a tool could not be resolved, so the analysis cannot follow it",
    doc: include_str!("../../rules/TP010.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let g = &a.gr.graph;
    let mut out = Vec::new();
    for u in &g.unresolved {
        if !a.on_path[u.from] {
            continue;
        }
        // Only calls that might be a handoff towards a tool: a method whose workspace
        // namesakes lead to one, or a macro that could hide a call.
        let relevant = match &u.method {
            Some(m) => {
                a.gr.ix
                    .methods_by_name
                    .get(m)
                    .is_some_and(|cands| cands.iter().any(|&c| a.on_path[c]))
            }
            None => u.callee.ends_with('!'),
        };
        if !relevant {
            continue;
        }
        let node = &g.nodes[u.from];
        out.push(
            Finding::new(
                &RULE,
                node.file,
                u.loc,
                format!(
                    "cannot follow `{}` from `{}`: {}",
                    u.callee,
                    a.short_name(u.from),
                    u.reason
                ),
                "annotate the receiver's type, or mark the handoff with a threadlint attribute"
                    .into(),
                Vec::new(),
            )
            .keyed(a, u.from, u.callee.to_string()),
        );
    }
    out
}
