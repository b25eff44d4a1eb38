//! TP004 dropped-at-channel: a message without context is sent to a receiver that reaches a tool.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;
use crate::resolve::facts::ChannelDir;

pub const RULE: Rule = Rule {
    code: "TP004",
    name: "dropped-at-channel",
    level: Level::Error,
    summary:
        "a message sent on a channel carries no thread context, and its receiver reaches a tool",
    doc: include_str!("../../rules/TP004.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(body) = &info.def.body else { continue };
        let r = &a.gr.res.fns[f];
        for op in &r.facts.channels {
            if op.dir != ChannelDir::Send
                || op.msg_carrier
                || op.broadcast
                || a.deps_carry(f, &op.msg_deps)
            {
                continue;
            }
            let Some(key) = &op.key else { continue };
            let cf = &r.facts.calls[op.call as usize];
            if !cf.ctx_in_scope {
                continue;
            }
            // Receivers that reach a tool and do not hold a context of their own.
            let Some(recv) = a.receivers.get(key).and_then(|rs| {
                rs.iter().copied().find(|&n| {
                    let (rf, _) = a.node_fn(n);
                    a.on_path[n] && !a.node_has_ctx(n) && !a.facts(rf).carrier_param
                })
            }) else {
                continue;
            };
            let call = &body.calls[op.call as usize];
            let from = a.node(f, r.call_owner[op.call as usize]);
            let ctx = cf.ctx_name.as_deref().unwrap_or("the thread context");
            let short_key = crate::resolve::types::last_segment(key);
            out.push(Finding::new(
                &RULE,
                info.file,
                call.loc,
                format!(
                    "`{}` sends a `{short_key}`, which carries no thread context, to `{}`, which reaches a tool (`{ctx}` is in scope here)",
                    a.source_text(info.file, call.loc),
                    a.short_name(recv)
                ),
                format!("add the context to the message (a `thread_id` or `ThreadContext` field) and fill it from `{ctx}`"),
                a.path_through(from, Some(recv)),
            ).keyed(a, from, key.to_string()));
        }
    }
    out
}
