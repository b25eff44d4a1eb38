//! TP005 tool-without-context: a tool reachable from an entry has no way to receive context.

use super::cx::{Cx, FnId, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP005",
    name: "tool-without-context",
    level: Level::Warning,
    summary: "a tool reachable from a WebSocket entry cannot receive a thread context",
    doc: include_str!("../../rules/TP005.md"),
    scope: Scope::Anywhere,
    check,
};

struct ToolWithoutContext {
    tool: String,
}

impl Violation for ToolWithoutContext {
    fn message(&self) -> String {
        format!(
            "tool `{}` is reachable from a WebSocket entry but has no way to receive a thread context",
            self.tool
        )
    }
    fn help(&self) -> String {
        "add a `ctx: &ThreadContext` parameter (or hold the context in `self`) so results can be attributed to the right conversation".into()
    }
    /// The tool is the finding's function; nothing more to say.
    fn key(&self) -> String {
        String::new()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    // A project with no context model gets no TP005 flood: TP006 says, once per entry, that
    // there is nothing to check yet.
    if !cx.has_context_model() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut reported: Vec<FnId> = Vec::new();
    for func in cx.fns() {
        let f = func.id;
        if !cx.is_tool(f.node()) || !cx.entry_reachable(f.node()) || cx.can_receive_context(f) {
            continue;
        }
        // Report at the trait's declaration of the method when the trait declares it.
        let trait_decl = cx.trait_declaration(f).map(|m| cx.func(m));
        let at = trait_decl.unwrap_or(func);
        if at.id != f && cx.can_receive_context(at.id) {
            // The trait takes a context; this impl simply ignores it — not this rule's business.
            continue;
        }
        if reported.contains(&at.id) {
            continue;
        }
        reported.push(at.id);
        let v = ToolWithoutContext {
            tool: cx.short_name(at.id.node()),
        };
        let path = cx.path(f.node(), None);
        out.extend(cx.report(
            &RULE,
            &v,
            at.file(),
            at.info.def.loc,
            Some(at.id.node()),
            path,
        ));
    }
    out
}
