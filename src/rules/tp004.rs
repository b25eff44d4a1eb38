//! TP004 dropped-at-channel: a message without context is sent to a receiver that reaches a tool.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};
use crate::resolve::facts::ChannelDir;

pub const RULE: Rule = Rule {
    code: "TP004",
    name: "dropped-at-channel",
    level: Level::Error,
    summary:
        "a message sent on a channel carries no thread context, and its receiver reaches a tool",
    doc: include_str!("../../rules/TP004.md"),
    scope: Scope::EntryReachable,
    check,
};

struct DroppedAtChannel {
    send: String,
    /// The channel: its message type, qualified.
    channel: String,
    receiver: String,
    ctx: String,
}

impl Violation for DroppedAtChannel {
    fn message(&self) -> String {
        let short_key = crate::resolve::types::last_segment(&self.channel);
        format!(
            "`{}` sends a `{short_key}`, which carries no thread context, to `{}`, which reaches a tool (`{}` is in scope here)",
            self.send, self.receiver, self.ctx
        )
    }
    fn help(&self) -> String {
        format!("add the context to the message (a `thread_id` or `ThreadContext` field) and fill it from `{}`", self.ctx)
    }
    fn key(&self) -> String {
        self.channel.clone()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for func in cx.fns() {
        for op in &func.facts.channels {
            if op.dir != ChannelDir::Send
                || op.msg_carrier
                || op.broadcast
                || cx.deps_carry(func.id, &op.msg_deps)
            {
                continue;
            }
            let Some(key) = &op.key else { continue };
            let Some(call) = func.call(op.call) else {
                continue;
            };
            if !call.facts.ctx_in_scope {
                continue;
            }
            // Receivers that reach a tool and do not hold a context of their own.
            let Some((recv, _)) = cx.channel_receivers(func.id, op.call).find(|&(n, on_path)| {
                on_path && !cx.has_context(n) && !cx.func(cx.fn_of(n).0).facts.carrier_param
            }) else {
                continue;
            };
            let v = DroppedAtChannel {
                send: call.text(),
                channel: key.to_string(),
                receiver: cx.short_name(recv),
                ctx: (call.facts.ctx_name.as_deref())
                    .unwrap_or("the thread context")
                    .to_string(),
            };
            let path = cx.path(call.from, Some(recv));
            out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(call.from), path));
        }
    }
    out
}
