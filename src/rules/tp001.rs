//! TP001 dropped-at-call: a function that has context calls an on-path function and passes none.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;
use crate::resolve::CallRes;

pub const RULE: Rule = Rule {
    code: "TP001",
    name: "dropped-at-call",
    level: Level::Error,
    summary: "a call on the way to a tool passes no thread context while one is in scope",
    doc: include_str!("../../rules/TP001.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let ix = &a.gr.ix;
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(body) = &info.def.body else { continue };
        let r = &a.gr.res.fns[f];
        for (k, cf) in r.facts.calls.iter().enumerate() {
            if !cf.ctx_in_scope
                || cf.passes()
                || cf.spawn
                || cf.arg_deps.iter().any(|d| a.deps_carry(f, d))
            {
                continue;
            }
            let call = &body.calls[k];
            let closure_node;
            let targets: &[usize] = match &r.calls[k] {
                CallRes::Fns { targets, .. } => targets,
                CallRes::Closure(c) => {
                    closure_node = [a.node(f, Some(*c))];
                    &closure_node
                }
                _ => continue,
            };
            // The callee must lead to a tool, and must not get the context another way.
            let dropped = |t: usize| {
                if !a.on_path[t]
                    || (a.call_in_ambient(f, k as u32) && a.reaches_ambient[t])
                    || a.is_entry[t]
                {
                    return false;
                }
                let (tf, _) = a.node_fn(t);
                // Methods of the context type itself, and tools that cannot take a context
                // at all (TP005 reports those), are not drops at the call.
                let own = match ix.fns[tf].owner {
                    crate::index::Owner::Impl(i) => ix.impls[i]
                        .self_adt
                        .is_some_and(|d| a.gr.model.context_adts.contains(&d)),
                    _ => false,
                };
                let toolless = a.is_tool[t] && !a.can_receive_ctx(tf);
                if own || toolless {
                    return false;
                }
                // `#[propagates(p)]` on the callee: whatever is passed as `p` is the context.
                let tdef = ix.fns[tf].def;
                let Some(p) = tdef
                    .attrs
                    .iter()
                    .find(|at| ix.attr_name(ix.fns[tf].module, at) == "propagates")
                else {
                    return true;
                };
                let name = p.args.trim();
                let offset = usize::from(
                    matches!(call.callee, crate::syntax::summary::Callee::Path { .. })
                        && tdef.self_param.is_some(),
                );
                let index = if name == "self" {
                    None
                } else {
                    tdef.params
                        .iter()
                        .position(|q| q.name.as_deref() == Some(name))
                };
                match index {
                    Some(i) => call.args.len() <= i + offset,
                    None => !matches!(call.callee, crate::syntax::summary::Callee::Method { .. }),
                }
            };
            let Some(&t) = targets.iter().find(|&&t| dropped(t)) else {
                continue;
            };
            let from = a.node(f, r.call_owner[k]);
            let ctx = cf.ctx_name.as_deref().unwrap_or("a thread context");
            let text = a.source_text(info.file, call.loc);
            let callee = a.short_name(t);
            out.push(Finding::new(
                &RULE,
                info.file,
                call.loc,
                format!("`{ctx}` is in scope, but `{text}` passes no thread context"),
                format!("pass `{ctx}` (or a context derived from it, like `{ctx}.child()`) to `{callee}`, which leads to a tool"),
                a.path_through(from, Some(t)),
            ).keyed(a, from, a.qualified_name(t)));
        }
    }
    out
}
