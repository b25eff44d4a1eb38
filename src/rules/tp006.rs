//! TP006 entry-without-context: an entry reaches a tool and no context is ever established.

use super::{Finding, Level, Rule};
use crate::analysis::Analysis;

pub const RULE: Rule = Rule {
    code: "TP006",
    name: "entry-without-context",
    level: Level::Warning,
    summary:
        "a WebSocket entry reaches a tool along a path on which no thread context is established",
    doc: include_str!("../../rules/TP006.md"),
    check,
};

fn check(a: &Analysis) -> Vec<Finding> {
    let mut out = Vec::new();
    if !a.gr.model.adopted() {
        return out;
    }
    let n = a.succ.len();
    // One search per entry; the marks are shared and only the nodes a search touched are reset.
    let mut seen = vec![false; n];
    let mut pred: Vec<Option<usize>> = vec![None; n];
    let mut touched: Vec<usize> = Vec::new();
    for e in 0..n {
        if !a.is_entry[e] || a.node_has_ctx(e) {
            continue;
        }
        for &x in &touched {
            seen[x] = false;
            pred[x] = None;
        }
        touched.clear();
        // Search through nodes without a context of their own; stop at other entries (the one
        // nearest the tool reports).
        let mut q = std::collections::VecDeque::from([e]);
        seen[e] = true;
        touched.push(e);
        let mut found = None;
        while let Some(x) = q.pop_front() {
            if a.is_tool[x] {
                found = Some(x);
                break;
            }
            for &(s, _) in &a.succ[x] {
                if seen[s] || a.is_entry[s] || a.node_has_ctx(s) {
                    continue;
                }
                seen[s] = true;
                pred[s] = Some(x);
                touched.push(s);
                q.push_back(s);
            }
        }
        let Some(tool) = found else { continue };
        let node = &a.gr.graph.nodes[e];
        let mut chain = vec![tool];
        while let Some(p) = pred[*chain.last().unwrap_or(&e)] {
            chain.push(p);
        }
        chain.reverse();
        let path = chain
            .iter()
            .enumerate()
            .map(|(i, &x)| {
                let nd = &a.gr.graph.nodes[x];
                crate::analysis::Step {
                    node: a.short_name(x),
                    file: nd.file,
                    loc: nd.loc,
                    mark: (i + 1 < chain.len()).then_some(crate::analysis::Mark::Dropped),
                }
            })
            .collect();
        out.push(Finding::new(
            &RULE,
            node.file,
            node.loc,
            format!(
                "entry `{}` reaches tool `{}`, but no thread context is established anywhere on the way",
                a.short_name(e),
                a.short_name(tool)
            ),
            "create the conversation's context here (from the connection or the first message) and pass it down".into(),
            path,
        ).keyed(a, e, a.qualified_name(tool)));
    }
    out
}
