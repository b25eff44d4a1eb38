//! TP002 fabricated-context: a context made up from nothing halfway down the path.

use super::cx::{Cx, Violation};
use super::{Finding, Level, Rule, Scope};

pub const RULE: Rule = Rule {
    code: "TP002",
    name: "fabricated-context",
    level: Level::Error,
    summary: "a thread context is created from nothing on the way to a tool",
    doc: include_str!("../../rules/TP002.md"),
    scope: Scope::EntryReachable,
    check,
};

struct Fabricated {
    /// The function (or closure) that makes it up.
    func: String,
    /// What makes it (`ThreadContext::default()`).
    what: String,
}

impl Violation for Fabricated {
    fn message(&self) -> String {
        format!(
            "`{}` makes up a thread context ({}) instead of deriving it from the caller's",
            self.func, self.what
        )
    }
    fn help(&self) -> String {
        "take the context as a parameter and derive from it (`ctx.child()`); only entry points and `#[threadlint_macros::origin]` functions may create one".into()
    }
    fn key(&self) -> String {
        self.what.clone()
    }
}

fn check(cx: Cx) -> Vec<Finding> {
    let mut out = Vec::new();
    for func in cx.fns() {
        if cx.is_origin(func.id) {
            continue;
        }
        for fab in &func.facts.fabricated {
            let node = func.node(fab.owner);
            if !cx.on_path(node) || cx.is_entry(node) {
                continue;
            }
            // A context handed out by an origin (`#[origin] fn nightly_conversation()`) is not
            // made up here.
            if let Some(call) = fab.call.and_then(|k| func.call(k)) {
                let targets = call.targets();
                if !targets.is_empty()
                    && targets
                        .iter()
                        .all(|&t| cx.is_declared_origin(cx.fn_of(t).0))
                {
                    continue;
                }
            }
            let v = Fabricated {
                func: cx.short_name(node),
                what: fab.what.clone(),
            };
            out.extend(cx.report(
                &RULE,
                &v,
                func.file(),
                fab.loc,
                Some(node),
                cx.path(node, None),
            ));
        }
    }
    out
}
