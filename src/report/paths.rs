//! `threadlint paths`: every entry → tool chain (one shortest path per pair), each handoff marked
//! passed ✓, dropped ✗ or unresolved ?. The seed's "six propagation points" table, for any codebase.

use std::fmt::Write;

use crate::analysis::search::{breadth_first, Visit};
use crate::analysis::{Analysis, Mark, Via};
use crate::report::Sources;

pub struct Chain {
    pub nodes: Vec<usize>,
    /// The handoff from `nodes[i]` to `nodes[i + 1]`.
    pub marks: Vec<Mark>,
}

/// At most this many chains are listed: N entries each reaching the same N tools make N² chains
/// (SPEC §10: output stays proportional to the input).
pub const MAX_CHAINS: usize = 10_000;

pub struct Chains {
    pub list: Vec<Chain>,
    /// Chains found past [`MAX_CHAINS`], not listed.
    pub omitted: usize,
}

/// One shortest path from each entry to each tool it reaches (the first [`MAX_CHAINS`]).
pub fn chains(a: &Analysis) -> Chains {
    let n = a.succ.len();
    let mut out = Vec::new();
    let mut omitted = 0;
    let mut pred: Vec<Option<(usize, Via)>> = vec![None; n];
    let mut seen = vec![false; n];
    // Chains start at the outermost entries (an upgrade handler, not the socket fn it hands to).
    for e in (0..n).filter(|&e| a.is_entry[e] && a.on_path[e] && a.from_entry[e].is_none()) {
        pred.iter_mut().for_each(|p| *p = None);
        seen.iter_mut().for_each(|s| *s = false);
        let mut tools = Vec::new();
        let visit = |x: usize| {
            if a.is_tool[x] && x != e {
                tools.push(x);
                Visit::Leaf
            } else {
                Visit::Expand
            }
        };
        breadth_first(
            &mut seen,
            [e],
            |x| &a.succ[x],
            visit,
            |x, s, via| {
                if !a.on_path[s] {
                    return false;
                }
                pred[s] = Some((x, via));
                true
            },
        );
        let room = MAX_CHAINS - out.len().min(MAX_CHAINS);
        omitted += tools.len().saturating_sub(room);
        tools.truncate(room);
        for t in tools {
            let mut nodes = vec![t];
            let mut marks = Vec::new();
            let mut cur = t;
            while let Some((p, via)) = pred[cur] {
                nodes.push(p);
                marks.push(a.mark(via));
                cur = p;
            }
            nodes.reverse();
            marks.reverse();
            out.push(Chain { nodes, marks });
        }
    }
    Chains { list: out, omitted }
}

/// The line that says chains were left out, if they were.
pub fn omitted_note(chains: &Chains) -> Option<String> {
    (chains.omitted > 0).then(|| {
        format!(
            "{} more chains are not shown: at most {MAX_CHAINS} are listed",
            chains.omitted
        )
    })
}

fn label(a: &Analysis, src: &Sources, n: usize) -> (String, String) {
    let node = &a.gr.graph.nodes[n];
    (
        a.short_name(n),
        format!("{}:{}", src.display(node.file), node.loc.line),
    )
}

pub fn text(a: &Analysis, all: &Chains, src: &Sources) -> String {
    let chains = &all.list;
    let mut s = String::new();
    for c in chains {
        for (i, &n) in c.nodes.iter().enumerate() {
            let (name, at) = label(a, src, n);
            let _ = write!(s, "{name} ({at})");
            if let Some(m) = c.marks.get(i) {
                let _ = write!(s, " {} → ", m.symbol());
            }
        }
        s.push('\n');
    }
    if chains.is_empty() {
        s.push_str("No entry reaches a tool.\n");
    }
    if let Some(note) = omitted_note(all) {
        let _ = writeln!(s, "… {note}.");
    }
    s
}

pub fn json(a: &Analysis, all: &Chains, src: &Sources) -> String {
    let v: Vec<serde_json::Value> = all
        .list
        .iter()
        .map(|c| {
            let steps: Vec<serde_json::Value> = c
                .nodes
                .iter()
                .enumerate()
                .map(|(i, &n)| {
                    let node = &a.gr.graph.nodes[n];
                    serde_json::json!({
                        "function": a.short_name(n),
                        "qualified": a.qualified_name(n),
                        "file": src.display(node.file),
                        "line": node.loc.line,
                        "handoff": c.marks.get(i).map(|m| match m {
                            Mark::Passed => "passed",
                            Mark::Dropped => "dropped",
                            Mark::Unknown => "unresolved",
                            Mark::Absent => "none",
                        }),
                    })
                })
                .collect();
            serde_json::json!({ "steps": steps })
        })
        .collect();
    let mut doc = serde_json::json!({ "version": 1, "chains": v });
    if all.omitted > 0 {
        doc["omitted"] = all.omitted.into();
    }
    serde_json::to_string_pretty(&doc).unwrap_or_default()
}

/// Nodes and edges of all chains, deduplicated, in order of first appearance, for the graph
/// formats.
fn graph(chains: &[Chain]) -> (Vec<usize>, Vec<(usize, usize, Mark)>) {
    let mut nodes = Vec::new();
    let mut edges: Vec<(usize, usize, Mark)> = Vec::new();
    let mut node_seen = rustc_hash::FxHashSet::default();
    let mut edge_seen = rustc_hash::FxHashSet::default();
    for c in chains {
        for &n in &c.nodes {
            if node_seen.insert(n) {
                nodes.push(n);
            }
        }
        for (i, m) in c.marks.iter().enumerate() {
            let e = (c.nodes[i], c.nodes[i + 1], *m);
            if edge_seen.insert(e) {
                edges.push(e);
            }
        }
    }
    (nodes, edges)
}

/// Text for a mermaid label: HTML-escaped with mermaid's entity codes (`<CodeRunner as Tool>::call`
/// stays text, not a tag), on one line.
fn mermaid_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("#amp;"),
            '<' => out.push_str("#lt;"),
            '>' => out.push_str("#gt;"),
            '"' => out.push_str("#quot;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text for a dot label inside `"…"`: backslashes, quotes and line breaks escaped.
fn dot_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
        .replace('\r', "")
}

pub fn mermaid(a: &Analysis, all: &Chains, src: &Sources) -> String {
    let (nodes, edges) = graph(&all.list);
    let mut s = String::from("flowchart LR\n");
    if let Some(note) = omitted_note(all) {
        let _ = writeln!(s, "    %% {note}");
    }
    for &n in &nodes {
        let (name, at) = label(a, src, n);
        let shape = if a.is_entry[n] {
            ("([", "])")
        } else if a.is_tool[n] {
            ("[[", "]]")
        } else {
            ("[", "]")
        };
        let text = format!(
            "{}<br/><small>{}</small>",
            mermaid_text(&name),
            mermaid_text(&at)
        );
        let _ = writeln!(s, "    n{n}{}\"{text}\"{}", shape.0, shape.1);
    }
    for (from, to, m) in &edges {
        let style = match m {
            Mark::Passed => format!("-->|{}|", m.symbol()),
            Mark::Dropped => format!("-.->|{} dropped|", m.symbol()),
            Mark::Unknown | Mark::Absent => format!("-.->|{}|", m.symbol()),
        };
        let _ = writeln!(s, "    n{from} {style} n{to}");
    }
    for (i, (_, _, m)) in edges.iter().enumerate() {
        if *m == Mark::Dropped {
            let _ = writeln!(s, "    linkStyle {i} stroke:#d33,stroke-width:2px");
        }
    }
    s
}

pub fn dot(a: &Analysis, all: &Chains, src: &Sources) -> String {
    let (nodes, edges) = graph(&all.list);
    let mut s = String::from(
        "digraph paths {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    if let Some(note) = omitted_note(all) {
        let _ = writeln!(s, "  // {note}");
    }
    for &n in &nodes {
        let (name, at) = label(a, src, n);
        let shape = if a.is_entry[n] {
            ", shape=oval"
        } else if a.is_tool[n] {
            ", shape=box3d"
        } else {
            ""
        };
        let _ = writeln!(
            s,
            "  n{n} [label=\"{}\\n{}\"{shape}];",
            dot_text(&name),
            dot_text(&at)
        );
    }
    for (from, to, m) in &edges {
        let attrs = match m {
            Mark::Passed => "label=\"✓\", color=darkgreen".to_string(),
            Mark::Dropped => "label=\"✗\", color=red, style=dashed".to_string(),
            Mark::Unknown => "label=\"?\", color=gray, style=dotted".to_string(),
            Mark::Absent => "label=\"·\", color=gray".to_string(),
        };
        let _ = writeln!(s, "  n{from} -> n{to} [{attrs}];");
    }
    s.push_str("}\n");
    s
}
