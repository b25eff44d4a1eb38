//! TP003 dropped-at-spawn: a spawned task reaches a tool but captures no context, or leaves the
//! ambient scope its code reads.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP003",
    name: "dropped-at-spawn",
    level: Level::Error,
    summary: "a spawned task or thread reaches a tool without the thread context",
    doc: include_str!("../../rules/TP003.md"),
    scope: Scope::EntryReachable,
    check,
};

enum DroppedAtSpawn {
    /// The task captures nothing of the context in scope.
    NoCapture {
        spawn: String,
        ctx: String,
        task: String,
    },
    /// The task leaves the ambient scope whose keys its code reads.
    LeavesScope {
        spawn: String,
        keys: Vec<String>,
        task: String,
    },
}

impl Violation for DroppedAtSpawn {
    fn message(&self) -> String {
        match self {
            DroppedAtSpawn::NoCapture { spawn, ctx, .. } => format!("`{spawn}` starts a task that reaches a tool, but it captures no thread context (`{ctx}` is in scope)"),
            DroppedAtSpawn::LeavesScope { spawn, keys, .. } => format!(
                "`{spawn}` leaves the ambient context scope: the task reaches code that reads {}, which the new task does not have",
                keys.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        }
    }
    fn help(&self) -> String {
        match self {
            DroppedAtSpawn::NoCapture { ctx, .. } => format!("move a clone of `{ctx}` into the task (`let ctx = {ctx}.clone();` before it, then use `ctx` inside)"),
            DroppedAtSpawn::LeavesScope { .. } => "re-enter the scope in the task: `tokio::spawn(KEY.scope(ctx.clone(), async move { … }))`".into(),
        }
    }
    fn key(&self) -> String {
        match self {
            DroppedAtSpawn::NoCapture { task, .. } | DroppedAtSpawn::LeavesScope { task, .. } => {
                task.clone()
            }
        }
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for func in cx.fns() {
        for (c, handoff) in func.res.closure_handoff.iter().enumerate() {
            let Some(call) = handoff.and_then(|(k, _)| func.call(k)) else {
                continue;
            };
            if !call.facts.spawn {
                continue;
            }
            let task = func.node(Some(c as u32));
            if !cx.on_path(task) {
                continue;
            }
            let clo = &func.facts.closures[c];
            let own_ctx = func
                .facts
                .owner_has_carrier
                .get(c + 1)
                .copied()
                .unwrap_or(false);
            let v = if call.facts.ctx_in_scope && clo.captured.is_empty() && !own_ctx {
                DroppedAtSpawn::NoCapture {
                    spawn: call.text(),
                    ctx: (call.facts.ctx_name.as_deref())
                        .unwrap_or("the thread context")
                        .to_string(),
                    task: cx.qualified_name(task),
                }
            } else if call.in_ambient() && cx.reaches_ambient(task) && clo.scope_of.is_none() {
                DroppedAtSpawn::LeavesScope {
                    spawn: call.text(),
                    keys: cx.ambient_keys(task),
                    task: cx.qualified_name(task),
                }
            } else {
                continue;
            };
            let path = cx.path(call.from, Some(task));
            out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(call.from), path));
        }
    }
    out
}
