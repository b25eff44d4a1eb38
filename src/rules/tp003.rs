//! TP003 dropped-at-spawn: a spawned task reaches a tool but captures no context.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;

pub const RULE: Rule = Rule {
    code: "TP003",
    name: "dropped-at-spawn",
    level: Level::Error,
    summary: "a spawned task or thread reaches a tool without the thread context",
    doc: include_str!("../../rules/TP003.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(body) = &info.def.body else { continue };
        let r = &a.gr.res.fns[f];
        for (c, handoff) in r.closure_handoff.iter().enumerate() {
            let Some((k, _)) = *handoff else { continue };
            let cf = &r.facts.calls[k as usize];
            if !cf.spawn {
                continue;
            }
            let node = a.node(f, Some(c as u32));
            if !a.on_path[node] {
                continue;
            }
            let clo = &r.facts.closures[c];
            let own_ctx = r
                .facts
                .owner_has_carrier
                .get(c + 1)
                .copied()
                .unwrap_or(false);
            let call = &body.calls[k as usize];
            let from = a.node(f, r.call_owner[k as usize]);
            let spawn_text = a.source_text(info.file, call.loc);
            if cf.ctx_in_scope && clo.captured.is_empty() && !own_ctx {
                let ctx = cf.ctx_name.as_deref().unwrap_or("the thread context");
                out.push(Finding::new(
                    &RULE,
                    info.file,
                    call.loc,
                    format!("`{spawn_text}` starts a task that reaches a tool, but it captures no thread context (`{ctx}` is in scope)"),
                    format!("move a clone of `{ctx}` into the task (`let ctx = {ctx}.clone();` before it, then use `ctx` inside)"),
                    a.path_through(from, Some(node)),
                ).keyed(a, from, a.qualified_name(node)));
            } else if a.call_in_ambient(f, k) && a.reaches_ambient[node] && clo.scope_of.is_none() {
                let keys = ambient_keys(a, node);
                out.push(Finding::new(
                    &RULE,
                    info.file,
                    call.loc,
                    format!(
                        "`{spawn_text}` leaves the ambient context scope: the task reaches code that reads {}, which the new task does not have",
                        keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
                    ),
                    "re-enter the scope in the task: `tokio::spawn(KEY.scope(ctx.clone(), async move { … }))`".into(),
                    a.path_through(from, Some(node)),
                ).keyed(a, from, a.qualified_name(node)));
            }
        }
    }
    out
}

/// The ambient keys read by functions reachable from `node` (bounded search).
fn ambient_keys(a: &Analysis, node: usize) -> Vec<String> {
    let mut seen = vec![false; a.succ.len()];
    let mut stack = vec![node];
    let mut out = Vec::new();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n], true) {
            continue;
        }
        let (f, owner) = a.node_fn(n);
        for (o, k) in &a.facts(f).ambient_reads {
            if *o == owner && !out.contains(&k.to_string()) {
                out.push(k.to_string());
            }
        }
        for &(s, _) in &a.succ[n] {
            if a.reaches_ambient[s] {
                stack.push(s);
            }
        }
    }
    out
}
