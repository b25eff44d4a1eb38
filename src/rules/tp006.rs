//! TP006 entry-without-context: an entry reaches a tool and no context is ever established.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP006",
    name: "entry-without-context",
    level: Level::Warning,
    summary:
        "a WebSocket entry reaches a tool along a path on which no thread context is established",
    doc: include_str!("../../rules/TP006.md"),
    scope: Scope::Anywhere,
    check,
};

struct EntryWithoutContext {
    entry: String,
    tool: String,
    tool_qualified: String,
    /// The workspace has no context model at all (SPEC §3 "No context model").
    no_model: bool,
}

impl Violation for EntryWithoutContext {
    fn message(&self) -> String {
        if self.no_model {
            format!(
                "entry `{}` reaches tool `{}`, but no context type, context name or ambient key occurs in this workspace, so nothing can be checked",
                self.entry, self.tool
            )
        } else {
            format!(
                "entry `{}` reaches tool `{}`, but no thread context is established anywhere on the way",
                self.entry, self.tool
            )
        }
    }
    fn help(&self) -> String {
        if self.no_model {
            "say what identifies a conversation in threadlint.toml: `[context] types = [\"SessionId\"]`, `names = [\"session_id\"]` or `ambient = [\"crate::CURRENT_SESSION\"]`".into()
        } else {
            "create the conversation's context here (from the connection or the first message) and pass it down".into()
        }
    }
    fn key(&self) -> String {
        self.tool_qualified.clone()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    // No context model: one finding per entry that reaches a tool, never "No problems found".
    let no_model = !cx.has_context_model();
    let mut scratch = cx.scratch();
    for e in cx.nodes() {
        if !cx.is_entry(e) || cx.has_context(e) {
            continue;
        }
        // Through nodes without a context of their own; other entries stop the search (the one
        // nearest the tool reports).
        let through = |s| !cx.is_entry(s) && !cx.has_context(s);
        let Some((tool, path)) = cx.chain_to_tool(&mut scratch, e, through) else {
            continue;
        };
        let v = EntryWithoutContext {
            entry: cx.short_name(e),
            tool: cx.short_name(tool),
            tool_qualified: cx.qualified_name(tool),
            no_model,
        };
        let (file, loc) = cx.site(e);
        out.extend(cx.report(&RULE, &v, file, loc, Some(e), path));
    }
    out
}
