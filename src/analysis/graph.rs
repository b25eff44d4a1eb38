//! The call graph: functions and closures as nodes, calls (and closure definitions) as edges that
//! keep their call-site location. Unresolved calls are kept beside it with their reason.

use serde::Serialize;

use crate::diagnostic::display_path;
use crate::index::{FnId, Index};
use crate::resolve::{CallRes, Resolution};
use crate::syntax::summary::{ClosureKind, Loc};

#[derive(Clone, Debug, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum NodeKind {
    Fn {
        func: usize,
    },
    Closure {
        func: usize,
        index: u32,
        closure: ClosureKind,
    },
}

/// A function or closure. Its qualified name is made on demand ([`CallGraph::node_name`]).
#[derive(Clone, Debug, Serialize)]
pub struct Node {
    #[serde(flatten)]
    pub kind: NodeKind,
    pub file: usize,
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeKind {
    /// A direct call.
    Call,
    /// A call through a trait object or generic: one edge per impl.
    Dispatch,
    /// A function defines a closure or async block (handed to `via` when it is an argument).
    Closure,
    /// A local closure called by name.
    ClosureCall,
}

#[derive(Clone, Debug, Serialize)]
pub struct Edge {
    pub from: usize,
    pub to: usize,
    pub kind: EdgeKind,
    /// Call index in the owning function's body (for `closure` edges: the call it is handed to).
    pub call: Option<u32>,
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize)]
pub struct Unresolved {
    pub from: usize,
    pub callee: String,
    /// For a method call: the method's name.
    #[serde(skip)]
    pub method: Option<crate::syntax::summary::Name>,
    pub reason: String,
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize)]
pub struct External {
    pub from: usize,
    pub path: crate::syntax::summary::Name,
    pub loc: Loc,
}

#[derive(Debug, Default, Serialize)]
pub struct CallGraph {
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub unresolved: Vec<Unresolved>,
    /// Calls that leave the workspace (`tokio::spawn`, `_::len`): counted here, listed on demand
    /// by [`externals`].
    pub external_count: usize,
    /// FnId → node (the same index: fn nodes come first).
    #[serde(skip)]
    pub closure_base: Vec<usize>,
}

impl CallGraph {
    pub fn build(ix: &Index, res: &Resolution) -> CallGraph {
        use rayon::prelude::*;
        let mut g = CallGraph::default();
        // Function nodes first, then each function's closures: made in parallel, in that order.
        (0..ix.fns.len())
            .into_par_iter()
            .map(|f| {
                let info = &ix.fns[f];
                Node {
                    kind: NodeKind::Fn { func: f },
                    file: info.file,
                    loc: info.def.loc,
                }
            })
            .collect_into_vec(&mut g.nodes);
        let closures: Vec<Vec<Node>> = (0..ix.fns.len())
            .into_par_iter()
            .map(|f| {
                let info = &ix.fns[f];
                let Some(body) = &info.def.body else {
                    return Vec::new();
                };
                body.closures
                    .iter()
                    .enumerate()
                    .map(|(i, c)| Node {
                        kind: NodeKind::Closure {
                            func: f,
                            index: i as u32,
                            closure: c.kind,
                        },
                        file: info.file,
                        loc: c.loc,
                    })
                    .collect()
            })
            .collect();
        // The nodes, edges and unresolved calls are joined into vectors of their final size: grown
        // by doubling, each step would copy them to fresh pages.
        g.nodes.reserve_exact(closures.iter().map(Vec::len).sum());
        g.closure_base.reserve_exact(closures.len());
        for cs in closures {
            g.closure_base.push(g.nodes.len());
            g.nodes.extend(cs);
        }
        // Each function's edges, in parallel, then joined in function order.
        let parts: Vec<FnEdges> = (0..ix.fns.len())
            .into_par_iter()
            .map(|f| FnEdges::of(ix, res, f, g.closure_base[f]))
            .collect();
        g.edges
            .reserve_exact(parts.iter().map(|p| p.edges.len()).sum());
        g.unresolved
            .reserve_exact(parts.iter().map(|p| p.unresolved.len()).sum());
        for p in parts {
            g.edges.extend(p.edges);
            g.unresolved.extend(p.unresolved);
            g.external_count += p.external;
        }
        g
    }

    /// The node of function `f`'s body (`None`) or of its closure `c`.
    pub fn node_of(&self, f: FnId, owner: Option<u32>) -> usize {
        match owner {
            None => f,
            Some(c) => self.closure_base[f] + c as usize,
        }
    }

    /// The qualified name of node `n` (`chat::engine::Engine::run::{closure#0}`).
    pub fn node_name(&self, ix: &Index, n: usize) -> String {
        match self.nodes[n].kind {
            NodeKind::Fn { func } => ix.fn_qname(func),
            NodeKind::Closure { func, index, .. } => {
                format!("{}::{{closure#{index}}}", ix.fn_qname(func))
            }
        }
    }
}

/// The edges, unresolved calls and external-call count that leave one function's body.
#[derive(Default)]
struct FnEdges {
    edges: Vec<Edge>,
    unresolved: Vec<Unresolved>,
    external: usize,
}

impl FnEdges {
    fn of(ix: &Index, res: &Resolution, f: FnId, base: usize) -> FnEdges {
        let mut g = FnEdges::default();
        let info = &ix.fns[f];
        let Some(body) = &info.def.body else {
            return g;
        };
        let r = &res.fns[f];
        let owner_node = |o: Option<u32>| o.map_or(f, |c| base + c as usize);
        let targets: usize = r
            .calls
            .iter()
            .map(|c| match c {
                CallRes::Fns { targets, .. } => targets.len(),
                CallRes::Closure(_) => 1,
                _ => 0,
            })
            .sum();
        g.edges.reserve_exact(body.closures.len() + targets);
        for (i, c) in body.closures.iter().enumerate() {
            g.edges.push(Edge {
                from: owner_node(c.parent),
                to: base + i,
                kind: EdgeKind::Closure,
                call: r
                    .closure_handoff
                    .get(i)
                    .copied()
                    .flatten()
                    .map(|(call, _)| call),
                loc: c.loc,
            });
        }
        for (ci, call) in body.calls.iter().enumerate() {
            let from = owner_node(r.call_owner.get(ci).copied().flatten());
            match &r.calls[ci] {
                CallRes::Fns { targets, dispatch } => {
                    for &t in targets.iter() {
                        g.edges.push(Edge {
                            from,
                            to: t,
                            kind: if *dispatch {
                                EdgeKind::Dispatch
                            } else {
                                EdgeKind::Call
                            },
                            call: Some(ci as u32),
                            loc: call.loc,
                        });
                    }
                }
                CallRes::Closure(c) => g.edges.push(Edge {
                    from,
                    to: base + *c as usize,
                    kind: EdgeKind::ClosureCall,
                    call: Some(ci as u32),
                    loc: call.loc,
                }),
                CallRes::Constructor => {}
                CallRes::External(_) => g.external += 1,
                CallRes::Unresolved(reason) => g.unresolved.push(Unresolved {
                    from,
                    callee: call.callee_text(),
                    method: match &call.callee {
                        crate::syntax::summary::Callee::Method { name, .. } => Some(name.clone()),
                        _ => None,
                    },
                    reason: reason.clone(),
                    loc: call.loc,
                }),
            }
        }
        // Macros whose input could not be read stay opaque, and say so.
        let mut owner: Vec<u32> = Vec::new();
        for ev in &body.events {
            match ev {
                crate::syntax::summary::Event::ClosureStart(c) => owner.push(*c),
                crate::syntax::summary::Event::ClosureEnd(_) => {
                    owner.pop();
                }
                crate::syntax::summary::Event::OpaqueMacro(m) => {
                    let (name, loc) = &**m;
                    g.unresolved.push(Unresolved {
                        from: owner_node(owner.last().copied()),
                        callee: format!("{name}!"),
                        method: None,
                        reason: "macro input is not Rust that can be read".into(),
                        loc: *loc,
                    })
                }
                _ => {}
            }
        }
        g
    }
}

/// A view of the graph with file paths, for output.
#[derive(Serialize)]
pub struct GraphReport<'a> {
    pub files: Vec<String>,
    pub nodes: Vec<NamedNode<'a>>,
    pub edges: &'a [Edge],
    pub unresolved: &'a [Unresolved],
    pub external: Vec<External>,
}

/// A node with its name, for output.
#[derive(Serialize)]
pub struct NamedNode<'a> {
    pub name: String,
    #[serde(flatten)]
    pub node: &'a Node,
}

/// Every call that leaves the workspace, for the JSON view.
pub fn externals(g: &CallGraph, ix: &Index, res: &Resolution) -> Vec<External> {
    let mut out = Vec::new();
    for (f, info) in ix.fns.iter().enumerate() {
        let Some(body) = &info.def.body else { continue };
        let r = &res.fns[f];
        for (ci, call) in body.calls.iter().enumerate() {
            if let CallRes::External(p) = &r.calls[ci] {
                let owner = r.call_owner.get(ci).copied().flatten();
                out.push(External {
                    from: owner.map_or(f, |c| g.closure_base[f] + c as usize),
                    path: p.clone(),
                    loc: call.loc,
                });
            }
        }
    }
    out
}

pub fn to_json(g: &CallGraph, ix: &Index, res: &Resolution) -> String {
    let root = &ix.project.root;
    let report = GraphReport {
        files: ix
            .parsed
            .files
            .iter()
            .map(|f| display_path(&f.path, root))
            .collect(),
        nodes: (0..g.nodes.len())
            .map(|n| NamedNode {
                name: g.node_name(ix, n),
                node: &g.nodes[n],
            })
            .collect(),
        edges: &g.edges,
        unresolved: &g.unresolved,
        external: externals(g, ix, res),
    };
    serde_json::to_string_pretty(&report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn dot_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

pub fn to_dot(g: &CallGraph, ix: &Index) -> String {
    use std::fmt::Write;
    let root = &ix.project.root;
    let mut s = String::from(
        "digraph callgraph {\n  rankdir=LR;\n  node [shape=box, fontname=\"monospace\"];\n",
    );
    // Only nodes that take part in an edge or an unresolved call, to keep pictures readable.
    let mut used = vec![false; g.nodes.len()];
    for e in &g.edges {
        used[e.from] = true;
        used[e.to] = true;
    }
    for u in &g.unresolved {
        used[u.from] = true;
    }
    for (i, n) in g.nodes.iter().enumerate() {
        if !used[i] {
            continue;
        }
        let file = display_path(&ix.parsed.files[n.file].path, root);
        let shape = match n.kind {
            NodeKind::Closure { .. } => ", style=rounded",
            NodeKind::Fn { .. } => "",
        };
        let _ = writeln!(
            s,
            "  n{i} [label=\"{}\\n{}:{}\"{shape}];",
            dot_escape(&g.node_name(ix, i)),
            dot_escape(&file),
            n.loc.line
        );
    }
    for e in &g.edges {
        let style = match e.kind {
            EdgeKind::Call => "",
            EdgeKind::Dispatch => " [style=bold, label=\"dyn\"]",
            EdgeKind::Closure => " [style=dotted]",
            EdgeKind::ClosureCall => " [style=dashed]",
        };
        let _ = writeln!(s, "  n{} -> n{}{style};", e.from, e.to);
    }
    for (i, u) in g.unresolved.iter().enumerate() {
        let _ = writeln!(
            s,
            "  u{i} [label=\"? {}\", shape=plaintext];\n  n{} -> u{i} [style=dashed, color=gray];",
            dot_escape(&u.callee),
            u.from
        );
    }
    s.push_str("}\n");
    s
}

pub fn to_text(g: &CallGraph, ix: &Index) -> String {
    use std::fmt::Write;
    let root = &ix.project.root;
    let mut out_edges: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for (i, e) in g.edges.iter().enumerate() {
        out_edges[e.from].push(i);
    }
    let mut unresolved: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    for (i, u) in g.unresolved.iter().enumerate() {
        unresolved[u.from].push(i);
    }
    let mut s = String::new();
    for (i, n) in g.nodes.iter().enumerate() {
        if out_edges[i].is_empty() && unresolved[i].is_empty() {
            continue;
        }
        let file = display_path(&ix.parsed.files[n.file].path, root);
        let _ = writeln!(s, "{} ({file}:{})", g.node_name(ix, i), n.loc.line);
        for &e in &out_edges[i] {
            let e = &g.edges[e];
            let arrow = match e.kind {
                EdgeKind::Call => "→",
                EdgeKind::Dispatch => "⇒ dyn",
                EdgeKind::Closure => "↳ defines",
                EdgeKind::ClosureCall => "→ closure",
            };
            let _ = writeln!(
                s,
                "    {arrow} {}  (line {})",
                g.node_name(ix, e.to),
                e.loc.line
            );
        }
        for &u in &unresolved[i] {
            let u = &g.unresolved[u];
            let _ = writeln!(s, "    ? {}  (line {}): {}", u.callee, u.loc.line, u.reason);
        }
    }
    s
}
