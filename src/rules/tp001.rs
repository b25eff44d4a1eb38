//! TP001 dropped-at-call: a function that has context calls a function that needs context and
//! passes none.

use super::cx::{Call, Cx, NodeId, Violation};
use super::{Finding, Level, Rule, Scope};
use crate::syntax::summary::Callee;

pub const RULE: Rule = Rule {
    code: "TP001",
    name: "dropped-at-call",
    level: Level::Error,
    summary: "a call on the way to a tool passes no thread context while one is in scope",
    doc: include_str!("../../rules/TP001.md"),
    scope: Scope::EntryReachable,
    check,
};

struct DroppedAtCall {
    /// The context in scope (`ctx`, `self.thread_id`).
    ctx: String,
    /// The call as written.
    call: String,
    /// The callee, short and qualified.
    callee: String,
    callee_qualified: String,
}

impl Violation for DroppedAtCall {
    fn message(&self) -> String {
        format!(
            "`{}` is in scope, but `{}` passes no thread context",
            self.ctx, self.call
        )
    }
    fn help(&self) -> String {
        let DroppedAtCall { ctx, callee, .. } = self;
        format!("pass `{ctx}` (or a context derived from it, like `{ctx}.child()`) to `{callee}`, which leads to a tool")
    }
    fn key(&self) -> String {
        self.callee_qualified.clone()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for func in cx.fns() {
        for call in func.calls() {
            let cf = call.facts;
            if !cf.ctx_in_scope
                || cf.passes()
                || cf.spawn
                || cf.arg_deps.iter().any(|d| call.carries(d))
            {
                continue;
            }
            let Some(t) = call.targets().into_iter().find(|&t| dropped(cx, &call, t)) else {
                continue;
            };
            let v = DroppedAtCall {
                ctx: cf
                    .ctx_name
                    .as_deref()
                    .unwrap_or("a thread context")
                    .to_string(),
                call: call.text(),
                callee: cx.short_name(t),
                callee_qualified: cx.qualified_name(t),
            };
            let path = cx.path(call.from, Some(t));
            out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(call.from), path));
        }
    }
    out
}

/// The callee needs context and does not get it another way. An entry, an origin (the context
/// type's own methods included), a tool that cannot take a context (TP005 reports it) or code
/// whose tools all cannot: none of them needs one.
fn dropped(cx: Cx, call: &Call, t: NodeId) -> bool {
    if !cx.needs_context(t) || (call.in_ambient() && cx.reaches_ambient(t)) || cx.is_entry(t) {
        return false;
    }
    let (tf, _) = cx.fn_of(t);
    let target = cx.func(tf);
    // `#[propagates(p)]` on the callee: whatever is passed as `p` is the context.
    let Some(p) = target.attr("propagates") else {
        return true;
    };
    let name = p.args.trim();
    let index = if name == "self" {
        None
    } else {
        target
            .info
            .def
            .params
            .iter()
            .position(|q| q.name.as_deref() == Some(name))
    };
    match index {
        Some(i) => call.syntax.args.len() <= i + call.self_offset(tf),
        None => !matches!(call.syntax.callee, Callee::Method { .. }),
    }
}
