//! TP005 tool-without-context: a tool reachable from an entry has no way to receive context.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;
use crate::index::Owner;

pub const RULE: Rule = Rule {
    code: "TP005",
    name: "tool-without-context",
    level: Level::Warning,
    summary: "a tool reachable from a WebSocket entry cannot receive a thread context",
    doc: include_str!("../../rules/TP005.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    // A project that has no context model yet gets no TP005/TP006 flood: adopt a context type
    // (`ThreadContext`, `[context] types`, `#[threadlint_macros::context]`) to enable them.
    if !a.gr.model.adopted() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut reported: Vec<usize> = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        if !a.is_tool[f] || !a.reached[f] || a.can_receive_ctx(f) {
            continue;
        }
        // Report at the trait's declaration of the method when the trait declares it.
        let at = match info.owner {
            Owner::Impl(i) => ix.impls[i]
                .trait_def
                .and_then(|t| ix.trait_methods.get(&t))
                .and_then(|ms| {
                    ms.iter()
                        .copied()
                        .find(|&m| ix.fns[m].def.name == info.def.name)
                })
                .unwrap_or(f),
            _ => f,
        };
        if at != f && a.can_receive_ctx(at) {
            // The trait takes a context; this impl simply ignores it — not this rule's business.
            continue;
        }
        if reported.contains(&at) {
            continue;
        }
        reported.push(at);
        let decl = &ix.fns[at];
        out.push(Finding::new(
            &RULE,
            decl.file,
            decl.def.loc,
            format!(
                "tool `{}` is reachable from a WebSocket entry but has no way to receive a thread context",
                a.short_name(at)
            ),
            "add a `ctx: &ThreadContext` parameter (or hold the context in `self`) so results can be attributed to the right conversation".into(),
            a.path_through(f, None),
        ).keyed(a, at, ""));
    }
    out
}
