//! TP008 result-broadcast: a tool result sent to every connection instead of its requester.

use super::cx::{Cx, FnId, Func, Violation};
use super::{Finding, Level, Rule, Scope};
use crate::resolve::facts::{ChannelDir, Dep};

pub const RULE: Rule = Rule {
    code: "TP008",
    name: "result-broadcast",
    level: Level::Error,
    summary: "a value derived from a tool result is sent to every connection",
    doc: include_str!("../../rules/TP008.md"),
    scope: Scope::EntryReachable,
    check,
};

enum ResultBroadcast {
    /// The send itself: `to` is "a broadcast channel" or "every connection".
    Sends { send: String, to: &'static str },
    /// A call handing the result to a helper that broadcasts its parameter.
    HandsToHelper {
        call: String,
        helper: String,
        helper_qualified: String,
    },
}

impl Violation for ResultBroadcast {
    fn message(&self) -> String {
        match self {
            ResultBroadcast::Sends { send, to } => format!(
                "`{send}` sends a tool result to {to}: other users' sockets receive this conversation's data"
            ),
            ResultBroadcast::HandsToHelper { call, helper, .. } => format!(
                "`{call}` hands a tool result to `{helper}`, which sends it to every connection"
            ),
        }
    }
    fn help(&self) -> String {
        "send the result only to the requesting connection (its own sender or socket)".into()
    }
    fn key(&self) -> String {
        match self {
            ResultBroadcast::Sends { to, .. } => to.to_string(),
            ResultBroadcast::HandsToHelper {
                helper_qualified, ..
            } => helper_qualified.clone(),
        }
    }
}

/// Which functions return tool results (directly or through their callees): a worklist over
/// "returns what a function returning a tool result returns" (exact, linear).
fn returns_tool_result(cx: Cx) -> Vec<bool> {
    let mut ret: Vec<bool> = cx.fns().map(|f| cx.is_tool(f.id.node())).collect();
    // Only a function that returns the result of one of its calls can change.
    let mut returned_by: rustc_hash::FxHashMap<FnId, Vec<FnId>> = Default::default();
    for func in cx.fns().filter(|f| !ret[f.id.index()]) {
        for d in &func.facts.returns {
            let Dep::Call(k) = d else { continue };
            for t in func.call(*k).into_iter().flat_map(|c| c.fn_targets()) {
                returned_by.entry(t).or_default().push(func.id);
            }
        }
    }
    let mut work: Vec<FnId> = cx.fns().map(|f| f.id).filter(|f| ret[f.index()]).collect();
    while let Some(t) = work.pop() {
        for &f in returned_by.get(&t).map(Vec::as_slice).unwrap_or(&[]) {
            if !std::mem::replace(&mut ret[f.index()], true) {
                work.push(f);
            }
        }
    }
    ret
}

/// Is the value a tool result (a call of a tool, or of a function that returns one)?
fn tainted(cx: Cx, ret: &[bool], func: &Func, d: &Dep) -> bool {
    let Dep::Call(k) = d else { return false };
    func.call(*k).is_some_and(|c| {
        c.fn_targets()
            .any(|t| cx.is_tool(t.node()) || ret[t.index()])
    })
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    let broadcast = |op: &crate::resolve::facts::ChannelOp| {
        op.dir == ChannelDir::Send && op.broadcast && op.global
    };
    // Nothing is sent to everyone: nothing to follow (the common case, spared a scan of every call).
    let any_sink = cx
        .fns()
        .any(|f| !f.facts.sends_to_all.is_empty() || f.facts.channels.iter().any(broadcast));
    if !any_sink {
        return out;
    }
    let ret = returns_tool_result(cx);
    // Per function: the parameters whose values reach a broadcast (helpers).
    let mut broadcast_params: Vec<u64> = vec![0; ret.len()];
    for func in cx.fns() {
        let sinks = (func.facts.channels.iter())
            .filter(|op| broadcast(op))
            .map(|op| (op.call, &op.msg_deps, "a broadcast channel"))
            .chain((func.facts.sends_to_all.iter()).map(|s| (s.call, &s.deps, "every connection")));
        for (k, deps, to) in sinks {
            for d in deps.iter() {
                if let Dep::Param(i) = d {
                    if *i < 64 {
                        broadcast_params[func.id.index()] |= 1 << i;
                    }
                }
            }
            let Some(call) = func.call(k) else { continue };
            if deps.iter().any(|d| tainted(cx, &ret, &func, d)) {
                let v = ResultBroadcast::Sends {
                    send: call.text(),
                    to,
                };
                let path = cx.path(call.from, None);
                out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(call.from), path));
            }
        }
    }
    // Helpers that broadcast a parameter: the call that hands them a tool result.
    if broadcast_params.iter().all(|&m| m == 0) {
        return out;
    }
    for func in cx.fns() {
        for call in func.calls() {
            for t in call.fn_targets() {
                let mask = broadcast_params[t.index()];
                if mask == 0 {
                    continue;
                }
                let offset = call.self_offset(t);
                let hit = call.facts.arg_deps.iter().enumerate().any(|(ai, deps)| {
                    ai >= offset
                        && ai - offset < 64
                        && mask & (1 << (ai - offset)) != 0
                        && deps.iter().any(|d| tainted(cx, &ret, &func, d))
                });
                if hit {
                    let v = ResultBroadcast::HandsToHelper {
                        call: call.text(),
                        helper: cx.short_name(t.node()),
                        helper_qualified: cx.qualified_name(t.node()),
                    };
                    let path = cx.path(call.from, Some(t.node()));
                    out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(call.from), path));
                    break;
                }
            }
        }
    }
    out
}
