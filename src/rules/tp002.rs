//! TP002 fabricated-context: a context made up from nothing halfway down the path.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;

pub const RULE: Rule = Rule {
    code: "TP002",
    name: "fabricated-context",
    level: Level::Error,
    summary: "a thread context is created from nothing on the way to a tool",
    doc: include_str!("../../rules/TP002.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        if a.is_origin[f] {
            continue;
        }
        for fab in &a.facts(f).fabricated {
            let node = a.node(f, fab.owner);
            if !a.on_path[node] || a.is_entry[node] {
                continue;
            }
            // A context handed out by an origin (`#[origin] fn nightly_conversation()`) is not made up here.
            if let Some(k) = fab.call {
                let targets = a.call_targets(f, k);
                if !targets.is_empty() && targets.iter().all(|&t| a.declared_origin[a.node_fn(t).0])
                {
                    continue;
                }
            }
            out.push(Finding::new(
                &RULE,
                info.file,
                fab.loc,
                format!(
                    "`{}` makes up a thread context ({}) instead of deriving it from the caller's",
                    a.short_name(node),
                    fab.what
                ),
                "take the context as a parameter and derive from it (`ctx.child()`); only entry points and `#[threadlint_macros::origin]` functions may create one".into(),
                a.path_through(node, None),
            ).keyed(a, node, fab.what.clone()));
        }
    }
    out
}
