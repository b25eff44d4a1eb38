//! TP010 unresolved-handoff: an on-path function makes a call the analysis cannot resolve.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP010",
    name: "unresolved-handoff",
    level: Level::Note,
    summary: "a call on the way to a tool could not be resolved, so the analysis cannot follow it",
    doc: include_str!("../../rules/TP010.md"),
    scope: Scope::Anywhere,
    check,
};

struct UnresolvedHandoff {
    callee: String,
    func: String,
    reason: String,
}

impl Violation for UnresolvedHandoff {
    fn message(&self) -> String {
        format!(
            "cannot follow `{}` from `{}`: {}",
            self.callee, self.func, self.reason
        )
    }
    fn help(&self) -> String {
        "annotate the receiver's type, or mark the handoff with a threadlint attribute".into()
    }
    fn key(&self) -> String {
        self.callee.clone()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for (from, u) in cx.unresolved() {
        if !cx.on_path(from) {
            continue;
        }
        // Only calls that might be a handoff towards a tool: a method whose workspace
        // namesakes lead to one, or a macro that could hide a call.
        let relevant = match &u.method {
            Some(m) => cx.methods_named(m).any(|c| cx.on_path(c.node())),
            None => u.callee.ends_with('!'),
        };
        if !relevant {
            continue;
        }
        let v = UnresolvedHandoff {
            callee: u.callee.clone(),
            func: cx.short_name(from),
            reason: u.reason.clone(),
        };
        let (file, _) = cx.site(from);
        out.extend(cx.report(&RULE, &v, file, u.loc, Some(from), Vec::new()));
    }
    // Sends left unfollowed because the run's budget of channel edges was spent.
    for (from, f, k) in cx.cut_sends() {
        let Some(call) = cx.func(f).call(k) else { continue };
        let v = UnresolvedHandoff {
            callee: call.text(),
            func: cx.short_name(from),
            reason: "not followed: this run's budget of channel edges was spent".into(),
        };
        out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(from), Vec::new()));
    }
    // Sends whose channel could not be traced: linked to receivers by message type only.
    for (from, f, k, key, receivers) in cx.typed_sends() {
        if !cx.on_path(from) && !receivers.iter().any(|&r| cx.on_path(r)) {
            continue;
        }
        let func = cx.func(f);
        let Some(call) = func.call(k) else { continue };
        let v = UnresolvedHandoff {
            callee: call.text(),
            func: cx.short_name(from),
            reason: format!(
                "its channel could not be traced; receivers of `{}` are linked by message type only",
                crate::resolve::types::last_segment(key)
            ),
        };
        out.extend(cx.report(&RULE, &v, call.file, call.loc(), Some(from), Vec::new()));
    }
    out
}
