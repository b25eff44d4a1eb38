//! TP008 result-broadcast: a tool result sent to every connection instead of its requester.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;
use crate::index::FnId;
use crate::resolve::facts::{ChannelDir, Dep};
use crate::resolve::CallRes;

pub const RULE: Rule = Rule {
    code: "TP008",
    name: "result-broadcast",
    level: Level::Error,
    summary: "a value derived from a tool result is sent to every connection",
    doc: include_str!("../../rules/TP008.md"),
    check,
};

/// Which functions return tool results (directly or through their callees): a fixed point.
fn returns_tool_result(a: &Analysis) -> Vec<bool> {
    let ix = &a.gr.ix;
    let mut ret: Vec<bool> = (0..ix.fns.len()).map(|f| a.is_tool[f]).collect();
    // Only a function that returns the result of one of its calls can change.
    let candidates: Vec<FnId> = (0..ix.fns.len())
        .filter(|&f| !ret[f] && a.facts(f).returns.iter().any(|d| matches!(d, Dep::Call(_))))
        .collect();
    // A worklist over "returns what a function returning a tool result returns": a candidate is
    // marked when one of its returned calls may reach a marked function (exact, linear).
    let mut returned_by: rustc_hash::FxHashMap<FnId, Vec<FnId>> = Default::default();
    for &f in &candidates {
        for d in &a.facts(f).returns {
            if let Dep::Call(k) = d {
                if let Some(CallRes::Fns { targets, .. }) = a.gr.res.fns[f].calls.get(*k as usize) {
                    for &t in targets.iter() {
                        returned_by.entry(t).or_default().push(f);
                    }
                }
            }
        }
    }
    let mut work: Vec<FnId> = (0..ix.fns.len()).filter(|&f| ret[f]).collect();
    while let Some(t) = work.pop() {
        for &f in returned_by.get(&t).map(Vec::as_slice).unwrap_or(&[]) {
            if !ret[f] {
                ret[f] = true;
                work.push(f);
            }
        }
    }
    ret
}

fn tainted(a: &Analysis, ret: &[bool], f: FnId, d: &Dep) -> bool {
    match d {
        Dep::Call(k) => match a.gr.res.fns[f].calls.get(*k as usize) {
            Some(CallRes::Fns { targets, .. }) => targets.iter().any(|&t| a.is_tool[t] || ret[t]),
            _ => false,
        },
        Dep::Param(_) => false,
    }
}

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    // Nothing is sent to everyone: nothing to follow (the common case, spared a scan of every call).
    let any_sink = a.gr.res.fns.iter().any(|r| {
        !r.facts.sends_to_all.is_empty()
            || r.facts
                .channels
                .iter()
                .any(|op| op.dir == ChannelDir::Send && op.broadcast && op.global)
    });
    if !any_sink {
        return out;
    }
    let ret = returns_tool_result(a);
    // Per function: the parameters whose values reach a broadcast (helpers).
    let mut broadcast_params: Vec<u64> = vec![0; ix.fns.len()];
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(body) = &info.def.body else { continue };
        let r = &a.gr.res.fns[f];
        let sinks = r
            .facts
            .channels
            .iter()
            .filter(|op| op.dir == ChannelDir::Send && op.broadcast && op.global)
            .map(|op| (op.call, &op.msg_deps, "a broadcast channel"))
            .chain(
                r.facts
                    .sends_to_all
                    .iter()
                    .map(|s| (s.call, &s.deps, "every connection")),
            );
        for (call, deps, to) in sinks {
            for d in deps.iter() {
                if let Dep::Param(i) = d {
                    if *i < 64 {
                        broadcast_params[f] |= 1 << i;
                    }
                }
            }
            if deps.iter().any(|d| tainted(a, &ret, f, d)) {
                let c = &body.calls[call as usize];
                let node = a.node(f, r.call_owner[call as usize]);
                out.push(Finding::new(
                    &RULE,
                    info.file,
                    c.loc,
                    format!(
                        "`{}` sends a tool result to {to}: other users' sockets receive this conversation's data",
                        a.source_text(info.file, c.loc)
                    ),
                    "send the result only to the requesting connection (its own sender or socket)".into(),
                    a.path_through(node, None),
                ).keyed(a, node, to.to_string()));
            }
        }
    }
    // Helpers that broadcast a parameter: the call that hands them a tool result.
    if broadcast_params.iter().all(|&m| m == 0) {
        return out;
    }
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(body) = &info.def.body else { continue };
        let r = &a.gr.res.fns[f];
        for (k, call) in body.calls.iter().enumerate() {
            let CallRes::Fns { targets, .. } = &r.calls[k] else {
                continue;
            };
            let cf = &r.facts.calls[k];
            for &t in targets {
                let mask = broadcast_params[t];
                if mask == 0 {
                    continue;
                }
                let offset = usize::from(
                    matches!(call.callee, crate::syntax::summary::Callee::Path { .. })
                        && ix.fns[t].def.self_param.is_some(),
                );
                let hit = cf.arg_deps.iter().enumerate().any(|(ai, deps)| {
                    ai >= offset
                        && ai - offset < 64
                        && mask & (1 << (ai - offset)) != 0
                        && deps.iter().any(|d| tainted(a, &ret, f, d))
                });
                if hit {
                    let node = a.node(f, r.call_owner[k]);
                    out.push(Finding::new(
                        &RULE,
                        info.file,
                        call.loc,
                        format!(
                            "`{}` hands a tool result to `{}`, which sends it to every connection",
                            a.source_text(info.file, call.loc),
                            a.short_name(t)
                        ),
                        "send the result only to the requesting connection (its own sender or socket)".into(),
                        a.path_through(node, Some(t)),
                    ).keyed(a, node, a.qualified_name(t)));
                    break;
                }
            }
        }
    }
    out
}
