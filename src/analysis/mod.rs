//! Propagation analysis: roles (entries, tools, origins), the handoff graph (calls, closures,
//! spawns, channels), what reaches a tool ("on-path"), what an entry reaches, and the paths attached
//! to findings. Everything here is polynomial: breadth-first searches over the graph, never an
//! enumeration of paths.
//!
//! **Architecture invariant:** takes a [`Program`] (index, context model, knowledge, resolution,
//! graph) and computes per-node facts once; it does not read files or call rules.

use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::analysis::graph::{EdgeKind, NodeKind};
use crate::config::{fn_pattern_matches, Config};
use crate::index::{FnId, Owner};
use crate::resolve::facts::{ChannelDir, Endpoint, FnFacts};
use crate::resolve::CallRes;
use crate::syntax::summary::{Loc, Ty};

/// Everything the analysis works from: the index, the context model, framework knowledge, call
/// resolutions with their context facts, and the call graph.
pub struct Program<'s> {
    pub ix: crate::index::Index<'s>,
    pub model: crate::resolve::context::ContextModel,
    pub know: crate::config::knowledge::Knowledge,
    pub res: crate::resolve::Resolution,
    pub graph: graph::CallGraph,
    /// What building it had to leave out (see [`crate::resolve::Resolution::limit_dispatch`]).
    pub diags: Vec<crate::diagnostic::Diag>,
}

/// How an edge of the handoff graph came about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// Call #k of function f.
    Call(FnId, u32),
    /// Function (or closure) defines closure #c of function f.
    Closure(FnId, u32),
    /// A send (call #k of f) on a channel received at the target.
    Channel(FnId, u32),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Mark {
    /// ✓ the context is passed.
    Passed,
    /// ✗ the context is dropped.
    Dropped,
    /// ? the analysis cannot tell.
    Unknown,
    /// · no context exists yet at this handoff (nothing to pass).
    Absent,
}

impl Mark {
    pub fn symbol(self) -> &'static str {
        match self {
            Mark::Passed => "✓",
            Mark::Dropped => "✗",
            Mark::Unknown => "?",
            Mark::Absent => "·",
        }
    }
}

#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Step {
    pub node: String,
    pub file: usize,
    pub loc: Loc,
    /// How the context fares on the handoff from this step to the next (`None` on the last step).
    pub mark: Option<Mark>,
}

pub struct Analysis<'g, 's> {
    pub gr: &'g Program<'s>,
    pub cfg: &'g Config,
    pub succ: Vec<Vec<(usize, Via)>>,
    pub is_entry: Vec<bool>,
    pub is_tool: Vec<bool>,
    /// Per function: contexts may be created here.
    pub is_origin: Vec<bool>,
    /// Per function: declared an origin (`#[origin]`, `[origins]`): what it returns is not made up
    /// by its caller.
    pub declared_origin: Vec<bool>,
    /// Node reaches a tool.
    pub on_path: Vec<bool>,
    /// Node is reachable from an entry, with the edge it was first reached by.
    pub from_entry: Vec<Option<(usize, Via)>>,
    /// An entry that another function hands to (a socket fn behind an upgrade handler).
    pub inner_entry: Vec<bool>,
    pub reached: Vec<bool>,
    /// Next step towards the nearest tool.
    pub to_tool: Vec<Option<(usize, Via)>>,
    /// Node reads an ambient context (task-local/thread-local), or reaches one that does.
    pub reaches_ambient: Vec<bool>,
    /// Node runs inside an ambient scope (called from one, not through a spawn).
    pub in_ambient: Vec<bool>,
    /// Node needs context (SPEC §3): a tool that can receive one is reachable from it along
    /// handoffs that pass no origin and no per-conversation receiver.
    pub needs_ctx: Vec<bool>,
    /// Node receives from a channel and holds its own carrier (from its parameters, `self` or
    /// captures): a per-conversation receiver (SPEC §3). Context is established there, so what
    /// lies beyond it is no reason to blame a sender.
    pub per_conv: Vec<bool>,
    /// Per workspace message type: the nodes that receive it (for the by-type fallback).
    pub receivers: FxHashMap<String, Vec<usize>>,
    /// Per send (function, call): its channel.
    pub chan_of_send: FxHashMap<(FnId, u32), u32>,
    /// Per channel: its receivers, each with the nodes a send reaches there (the callees of the
    /// message's handlers, or the receiving node).
    pub chan_receivers: FxHashMap<u32, Vec<Reach>>,
    /// Sends not followed because the budget of channel edges was spent (TP010 reports them).
    pub cut_sends: Vec<(usize, FnId, u32)>,
    /// Sends whose channel could not be traced to a receiver, linked by a workspace message type
    /// only: (node, function, call, message type, receivers). Unresolved handoffs, not edges.
    pub typed_sends: Vec<(usize, FnId, u32, String, Vec<usize>)>,
    /// Per function: bit i set when its return value is derived from parameter i.
    pub returns_param: Vec<u64>,
    sources: Mutex<FxHashMap<usize, Vec<String>>>,
}

impl<'g, 's> Analysis<'g, 's> {
    pub fn new(gr: &'g Program<'s>, cfg: &'g Config) -> Analysis<'g, 's> {
        let g = &gr.graph;
        let n = g.nodes.len();
        let mut a = Analysis {
            gr,
            cfg,
            succ: vec![Vec::new(); n],
            is_entry: vec![false; n],
            is_tool: vec![false; n],
            is_origin: vec![false; gr.ix.fns.len()],
            declared_origin: vec![false; gr.ix.fns.len()],
            on_path: vec![false; n],
            from_entry: vec![None; n],
            inner_entry: vec![false; n],
            reached: vec![false; n],
            to_tool: vec![None; n],
            reaches_ambient: vec![false; n],
            in_ambient: vec![false; n],
            needs_ctx: vec![false; n],
            receivers: FxHashMap::default(),
            chan_of_send: FxHashMap::default(),
            chan_receivers: FxHashMap::default(),
            cut_sends: Vec::new(),
            per_conv: vec![false; n],
            typed_sends: Vec::new(),
            returns_param: Vec::new(),
            sources: Mutex::new(FxHashMap::default()),
        };
        a.returns_param = gr.res.fns.iter().map(|r| r.facts.returns_carrier).collect();
        a.build_edges();
        a.find_roles();
        a.reachability();
        a
    }

    pub fn facts(&self, f: FnId) -> &FnFacts {
        &self.gr.res.fns[f].facts
    }

    /// The node of function `f`'s body (`None`) or of its closure `c`.
    pub fn node(&self, f: FnId, owner: Option<u32>) -> usize {
        self.gr.graph.node_of(f, owner)
    }

    /// (function, closure) of a node.
    pub fn node_fn(&self, n: usize) -> (FnId, Option<u32>) {
        match self.gr.graph.nodes[n].kind {
            NodeKind::Fn { func } => (func, None),
            NodeKind::Closure { func, index, .. } => (func, Some(index)),
        }
    }

    fn build_edges(&mut self) {
        let g = &self.gr.graph;
        // Each node's list is made at its final size (channel edges may add a few).
        let mut degree = vec![0u32; self.succ.len()];
        for e in &g.edges {
            degree[e.from] += 1;
        }
        for (s, d) in self.succ.iter_mut().zip(degree) {
            s.reserve_exact(d as usize);
        }
        for e in &g.edges {
            let (f, _) = self.node_fn(e.from);
            let via = match (e.kind, e.call) {
                (EdgeKind::Closure, _) => {
                    let (tf, c) = self.node_fn(e.to);
                    let c = c.unwrap_or(0);
                    // A closure the function builds and returns (a factory's product) does not
                    // run there: calling the factory is no handoff into it.
                    if self.facts(tf).returned_closures.contains(&c) {
                        continue;
                    }
                    Via::Closure(tf, c)
                }
                (_, Some(k)) => Via::Call(f, k),
                (_, None) => continue,
            };
            self.succ[e.from].push((e.to, via));
        }
        self.link_channels();
    }

    /// Channels by identity (SPEC §3): the ends each body traces ([`Endpoint`]) are joined
    /// through the links of every body into channels; a send reaches the receivers of its own
    /// channel. A send whose channel has no receiver the analysis can see may be linked by
    /// message type only when that type is the workspace's and both crates end up in one binary;
    /// such a link is not an edge but an unresolved handoff (`?`, TP010), never a drop.
    fn link_channels(&mut self) {
        let mut ids: FxHashMap<&Endpoint, u32> = FxHashMap::default();
        let mut parent: Vec<u32> = Vec::new();
        fn find(parent: &mut [u32], mut x: u32) -> u32 {
            while parent[x as usize] != x {
                let p = parent[parent[x as usize] as usize];
                parent[x as usize] = p;
                x = p;
            }
            x
        }
        let mut id = |e: &'g Endpoint, parent: &mut Vec<u32>| -> u32 {
            *ids.entry(e).or_insert_with(|| {
                parent.push(parent.len() as u32);
                (parent.len() - 1) as u32
            })
        };
        let fns = &self.gr.res.fns;
        for r in fns.iter() {
            for (a, b) in &r.facts.chan_links {
                let (x, y) = (id(a, &mut parent), id(b, &mut parent));
                let (x, y) = (find(&mut parent, x), find(&mut parent, y));
                if x != y {
                    parent[x as usize] = y;
                }
            }
        }
        // Receivers by channel, and by message type for the fallback.
        let mut by_channel: FxHashMap<u32, Vec<Reach>> = FxHashMap::default();
        let mut sends = Vec::new();
        for (f, r) in fns.iter().enumerate() {
            for op in &r.facts.channels {
                let owner = r.call_owner.get(op.call as usize).copied().flatten();
                let node = self.node(f, owner);
                let channel = op.endpoint.as_ref().map(|e| {
                    let x = id(e, &mut parent);
                    find(&mut parent, x)
                });
                match op.dir {
                    ChannelDir::Recv => {
                        self.per_conv[node] = self.holds_own_ctx(node);
                        // What a send reaches: the functions the handlers of the message call
                        // (not the rest of a loop that also serves a socket or a timer); the
                        // receiving node itself when it holds its own carrier (context is
                        // established there) or when no use of the message could be traced.
                        // A handler that stashes the message (`queue.push_back(job)`) leaves it
                        // to whatever reads the collection later: the whole receiving node.
                        let reach: Vec<usize> =
                            if self.per_conv[node] || op.handlers.is_empty() || op.stashed {
                                vec![node]
                            } else {
                                let mut v: Vec<usize> = op
                                    .handlers
                                    .iter()
                                    .flat_map(|&h| self.call_targets(f, h))
                                    .collect();
                                v.sort_unstable();
                                v.dedup();
                                v
                            };
                        if let Some(c) = channel {
                            by_channel.entry(c).or_default().push((node, reach));
                        }
                        if let (Some(key), true) = (&op.key, op.msg_adt) {
                            self.receivers.entry(key.clone()).or_default().push(node);
                        }
                    }
                    ChannelDir::Send => sends.push((node, f, op, channel)),
                }
            }
        }
        let gr = self.gr;
        let krate = |node: usize| {
            let f = match gr.graph.nodes[node].kind {
                NodeKind::Fn { func } | NodeKind::Closure { func, .. } => func,
            };
            gr.ix.modules[gr.ix.fns[f].module].krate
        };
        let binaries = std::cell::OnceCell::new();
        // Per channel, the nodes its sends reach, deduplicated once (not per send).
        let mut targets_of: FxHashMap<u32, Vec<usize>> = FxHashMap::default();
        let mut budget = CHANNEL_EDGE_BUDGET;
        for (node, f, op, channel) in sends {
            if let Some(c) = channel.filter(|c| by_channel.contains_key(c)) {
                let targets = targets_of.entry(c).or_insert_with(|| {
                    let mut v: Vec<usize> = by_channel[&c]
                        .iter()
                        .flat_map(|(_, reach)| reach.iter().copied())
                        .collect();
                    v.sort_unstable();
                    v.dedup();
                    v
                });
                let n = targets.iter().filter(|&&t| t != node).count();
                if n > budget {
                    // Spent: the send is reported as unresolved (TP010), not followed.
                    self.cut_sends.push((node, f, op.call));
                    continue;
                }
                budget -= n;
                for &t in targets.iter().filter(|&&t| t != node) {
                    self.succ[node].push((t, Via::Channel(f, op.call)));
                }
                self.chan_of_send.insert((f, op.call), c);
                continue;
            }
            // No receiver of its own channel is known: by type, as an unresolved handoff.
            let Some(key) = op.key.as_ref().filter(|_| op.msg_adt) else {
                continue;
            };
            let here = krate(node);
            let binaries = binaries.get_or_init(|| Binaries::new(gr.ix.project));
            let typed: Vec<usize> = self
                .receivers
                .get(key)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&r| r != node && binaries.together(here, krate(r)))
                .take(MAX_TYPED_RECEIVERS)
                .collect();
            if !typed.is_empty() {
                self.typed_sends
                    .push((node, f, op.call, key.clone(), typed));
            }
        }
        self.chan_receivers = by_channel;
    }

    fn find_roles(&mut self) {
        let ix = &self.gr.ix;
        let know = &self.gr.know;
        let tool_traits: Vec<&str> = know
            .tool_traits()
            .chain(
                self.cfg
                    .tools
                    .traits
                    .iter()
                    .map(|t| crate::resolve::types::last_segment(t)),
            )
            .collect();
        // Each function's roles on its own, in parallel: (entry, tool, declared origin, origin).
        let role = |f: usize| {
            let info = &ix.fns[f];
            let def = info.def;
            // The qualified name, made only when a configured pattern needs it.
            let qname = std::cell::OnceCell::new();
            let configured = |patterns: &[String]| {
                patterns
                    .iter()
                    .any(|p| fn_pattern_matches(p, qname.get_or_init(|| ix.fn_qname(f))))
            };
            let attr = |name: &str| {
                def.attrs
                    .iter()
                    .any(|a| ix.attr_name(info.module, a) == name)
            };
            // Entries: WebSocket parameters, `accept_async` callers, annotations, config.
            let param_names = || def.params.iter().filter_map(|p| ty_last(&p.ty));
            let mut entry = param_names().any(|t| know.entry_param_types.iter().any(|e| e == t))
                || know
                    .entry_param_sets
                    .iter()
                    .any(|set| set.iter().all(|s| param_names().any(|t| t == s)))
                || attr("entry")
                || configured(&self.cfg.entries.functions);
            if let Owner::Impl(i) = info.owner {
                if let Some(t) = &ix.impls[i].def.trait_ {
                    // `Trait::method`, compared without making the string.
                    let (tn, mn) = (t.last_name(), &*def.name);
                    entry |= know.entry_trait_methods.iter().any(|k| {
                        k.len() == tn.len() + 2 + mn.len()
                            && k.starts_with(tn)
                            && k[tn.len()..].starts_with("::")
                            && k.ends_with(mn)
                    });
                }
            }
            if !entry {
                entry = self.gr.res.fns[f].calls_accept;
            }
            // Tools.
            let non_self_params = def.params.len();
            let mut tool = know.tool_attributes.iter().any(|t| attr(t))
                || configured(&self.cfg.tools.functions);
            match info.owner {
                Owner::Impl(i) => {
                    if let Some(t) = &ix.impls[i].def.trait_ {
                        tool |= tool_traits.contains(&t.last_name()) && non_self_params > 0;
                    }
                }
                Owner::Trait(t) => {
                    tool |= tool_traits.contains(&&*ix.defs[t].name) && non_self_params > 0;
                }
                Owner::Free => {}
            }
            // Origins: entries, `#[origin]`, config, the context type's own impls.
            let own_impl = match info.owner {
                Owner::Impl(i) => ix.impls[i]
                    .self_adt
                    .is_some_and(|d| self.gr.model.context_adts.contains(&d)),
                _ => false,
            };
            let declared_origin = attr("origin") || configured(&self.cfg.origins.functions);
            (
                entry,
                tool,
                declared_origin,
                entry || own_impl || declared_origin,
            )
        };
        let roles: Vec<(bool, bool, bool, bool)> = {
            use rayon::prelude::*;
            (0..ix.fns.len()).into_par_iter().map(role).collect()
        };
        for (f, (entry, tool, declared_origin, origin)) in roles.into_iter().enumerate() {
            self.is_entry[f] = entry;
            self.is_tool[f] = tool;
            self.declared_origin[f] = declared_origin;
            self.is_origin[f] = origin;
        }
        // Closures given to `on_upgrade` are entries too (they link the upgrade to the socket fn).
        for (f, r) in self.gr.res.fns.iter().enumerate() {
            let Some(body) = &ix.fns[f].def.body else {
                continue;
            };
            for (c, handoff) in r.closure_handoff.iter().enumerate() {
                let Some((call, _)) = handoff else { continue };
                if let Some(crate::syntax::summary::Callee::Method { name, .. }) =
                    body.calls.get(*call as usize).map(|c| &c.callee)
                {
                    if know.upgrade_methods.iter().any(|m| m == &**name) {
                        let n = self.node(f, Some(c as u32));
                        self.is_entry[n] = true;
                    }
                }
            }
        }
    }

    fn reachability(&mut self) {
        let n = self.succ.len();
        // Predecessors in one flat list, node by node: `pred(x)` is a slice of it.
        let mut start = vec![0usize; n + 1];
        for es in &self.succ {
            for &(to, _) in es {
                start[to + 1] += 1;
            }
        }
        for i in 0..n {
            start[i + 1] += start[i];
        }
        let mut fill = start.clone();
        let mut flat = vec![(0usize, Via::Closure(0, 0)); start[n]];
        for (from, es) in self.succ.iter().enumerate() {
            for &(to, via) in es {
                flat[fill[to]] = (from, via);
                fill[to] += 1;
            }
        }
        let pred = |x: usize| &flat[start[x]..start[x + 1]];
        let succ = &self.succ;
        let gr = self.gr;
        // Towards tools (reverse), remembering the next step.
        let per_conv = &self.per_conv;
        let tools: Vec<usize> = (0..n).filter(|&i| self.is_tool[i]).collect();
        let to_tool = &mut self.to_tool;
        breadth_first(&mut self.on_path, tools, pred, expand, |x, p, via| {
            // A send into a per-conversation receiver does not make the sender on-path.
            if into_receiver(per_conv, via, x) {
                return false;
            }
            to_tool[p] = Some((x, via));
            true
        });
        // From entries (forward), remembering the predecessor. Outer entries first (an upgrade
        // handler before the socket function it hands to), so paths start there.
        let mut inner = vec![false; n];
        for (x, es) in succ.iter().enumerate() {
            for &(s, _) in es {
                if self.is_entry[s] && s != x {
                    inner[s] = true;
                }
            }
        }
        for pass in 0..2 {
            let seeds: Vec<usize> = (0..n)
                .filter(|&i| self.is_entry[i] && (pass == 1 || !inner[i]))
                .collect();
            let from_entry = &mut self.from_entry;
            let per_conv = &self.per_conv;
            breadth_first(
                &mut self.reached,
                seeds,
                |x| &succ[x],
                expand,
                |x, s, via| {
                    // A per-conversation receiver is reached where it is started with its
                    // conversation, not through the channel: the channel's identity is a
                    // type's field, shared by every instance (every connection's writer), so a
                    // send into one is no evidence that an entry runs that receiver.
                    if into_receiver(per_conv, via, s) {
                        return false;
                    }
                    from_entry[s] = Some((x, via));
                    true
                },
            );
        }
        self.inner_entry = inner;
        // Ambient readers, and what reaches them. A spawned closure that does not re-enter the
        // scope does not pass it on.
        let readers: Vec<usize> = gr
            .res
            .fns
            .iter()
            .enumerate()
            .flat_map(|(f, r)| {
                r.facts
                    .ambient_reads
                    .iter()
                    .map(move |(owner, _)| gr.graph.node_of(f, *owner))
            })
            .collect();
        let spawned = |f: FnId, c: u32| {
            gr.res.fns[f]
                .facts
                .closures
                .get(c as usize)
                .is_some_and(|cf| cf.spawned)
        };
        breadth_first(
            &mut self.reaches_ambient,
            readers,
            pred,
            expand,
            |_, _, via| !matches!(via, Via::Closure(f, c) if spawned(f, c)),
        );
        // Code running inside an ambient scope: scope closures and calls made in a scope, and
        // what they call (not through spawns or channels: a new task leaves the scope).
        let mut scoped: Vec<usize> = Vec::new();
        for (f, r) in gr.res.fns.iter().enumerate() {
            let calls: &[crate::resolve::facts::CallFacts] = if r.facts.any_call_in_ambient {
                &r.facts.calls
            } else {
                &[]
            };
            for (k, cf) in calls.iter().enumerate() {
                if cf.in_ambient {
                    scoped.extend(self.call_targets(f, k as u32));
                }
            }
            for (c, cf) in r.facts.closures.iter().enumerate() {
                if cf.in_ambient {
                    scoped.push(self.node(f, Some(c as u32)));
                }
            }
        }
        breadth_first(
            &mut self.in_ambient,
            scoped,
            |x| &succ[x],
            expand,
            |_, _, via| match via {
                Via::Call(..) => true,
                Via::Closure(f, c) => !spawned(f, c),
                Via::Channel(..) => false,
            },
        );
        // What needs context: back from the tools that can receive one, never into an origin
        // (it makes its own).
        let mut needs = vec![false; n];
        {
            // The origin's own body: its closures (a task it spawns) make no context.
            let origin = |x: usize| match self.node_fn(x) {
                (f, None) => self.is_origin[f],
                _ => false,
            };
            let seeds: Vec<usize> = (0..n)
                .filter(|&x| {
                    self.is_tool[x] && self.can_receive_ctx(self.node_fn(x).0) && !origin(x)
                })
                .collect();
            let per_conv = &self.per_conv;
            breadth_first(&mut needs, seeds, pred, expand, |x, p, via| {
                !origin(p) && !into_receiver(per_conv, via, x)
            });
        }
        self.needs_ctx = needs;
    }

    /// Is call #k of f made inside an ambient scope?
    pub fn call_in_ambient(&self, f: FnId, k: u32) -> bool {
        let r = &self.gr.res.fns[f];
        r.facts
            .calls
            .get(k as usize)
            .is_some_and(|cf| cf.in_ambient)
            || self.in_ambient[self.node(f, r.call_owner.get(k as usize).copied().flatten())]
    }

    /// Does this node have a context of its own (a carrier parameter, `self`, a local it creates)?
    pub fn node_has_ctx(&self, n: usize) -> bool {
        let (f, owner) = self.node_fn(n);
        let facts = self.facts(f);
        match owner {
            None => {
                facts.carrier_param || facts.owner_has_carrier.first().copied().unwrap_or(false)
            }
            Some(c) => {
                facts
                    .owner_has_carrier
                    .get(c as usize + 1)
                    .copied()
                    .unwrap_or(false)
                    || facts
                        .closures
                        .get(c as usize)
                        .is_some_and(|cf| !cf.captured.is_empty())
            }
        }
    }

    /// The node holds a carrier it did not make up: a carrier parameter or `self` (a body), a
    /// captured carrier (a closure).
    fn holds_own_ctx(&self, n: usize) -> bool {
        let (f, owner) = self.node_fn(n);
        let facts = self.facts(f);
        match owner {
            None => facts.carrier_param,
            Some(c) => facts
                .closures
                .get(c as usize)
                .is_some_and(|cf| !cf.captured.is_empty()),
        }
    }

    /// Can this function receive context at all: a carrier parameter or `self`, or an ambient read?
    pub fn can_receive_ctx(&self, f: FnId) -> bool {
        let def = self.gr.ix.fns[f].def;
        if def.body.is_some() {
            let facts = self.facts(f);
            if facts.carrier_param {
                return true;
            }
        } else {
            let model = &self.gr.model;
            let by_param = def.params.iter().any(|p| {
                p.name.as_ref().is_some_and(|n| model.is_context_name(n))
                    || ty_mentions(&p.ty, &model.type_names)
            });
            if by_param {
                return true;
            }
        }
        self.reaches_ambient[f]
    }

    /// The qualified name of a node, shortened for messages (`MessageHandlerService::handle`).
    pub fn short_name(&self, n: usize) -> String {
        short(&self.qualified_name(n))
    }

    /// The qualified name of node `n` (`chat::engine::Engine::run::{closure#0}`).
    pub fn qualified_name(&self, n: usize) -> String {
        self.gr.graph.node_name(&self.gr.ix, n)
    }

    /// The text of a source range (first line only, trimmed), for messages.
    pub fn source_text(&self, file: usize, loc: Loc) -> String {
        let mut cache = self.sources.lock().unwrap_or_else(|e| e.into_inner());
        let lines = cache.entry(file).or_insert_with(|| {
            crate::bounded::read_text(
                &self.gr.ix.parsed.files[file].path,
                crate::bounded::Kind::Source,
            )
            .map(|t| t.lines().map(String::from).collect())
            .unwrap_or_default()
        });
        let Some(line) = lines.get(loc.line.saturating_sub(1) as usize) else {
            return String::new();
        };
        let start = loc.col.saturating_sub(1) as usize;
        let text: String = if loc.end_line == loc.line {
            line.chars()
                .skip(start)
                .take(loc.end_col.saturating_sub(loc.col) as usize)
                .collect()
        } else {
            line.chars().skip(start).collect::<String>() + " …"
        };
        let text = crate::diagnostic::escape_controls(text.trim());
        if text.chars().count() > 90 {
            text.chars().take(87).collect::<String>() + "…"
        } else {
            text
        }
    }

    /// The entry → … → node → … → tool path through `via` (the handoff the finding is about).
    pub fn path_through(&self, from: usize, to: Option<usize>) -> Vec<Step> {
        let mut before = Vec::new();
        let mut cur = from;
        let mut guard = 0;
        while let Some((p, via)) = self.from_entry[cur] {
            before.push((p, via));
            cur = p;
            guard += 1;
            if guard > 10_000 {
                break;
            }
        }
        before.reverse();
        let mut steps: Vec<Step> = before
            .iter()
            .map(|&(n, via)| self.step(n, Some(self.mark(via))))
            .collect();
        // The finding's own step (its handoff is the drop), then on towards the nearest tool.
        let mut cur = match to {
            Some(t) => {
                steps.push(self.step(from, Some(Mark::Dropped)));
                t
            }
            None => from,
        };
        let mut guard = 0;
        while let Some((next, via)) = self.to_tool[cur] {
            steps.push(self.step(cur, Some(self.mark(via))));
            cur = next;
            guard += 1;
            if guard > 10_000 {
                break;
            }
        }
        steps.push(self.step(cur, None));
        steps
    }

    /// The path step of node `n`, with the mark of the handoff out of it.
    pub fn step(&self, n: usize, mark: Option<Mark>) -> Step {
        let node = &self.gr.graph.nodes[n];
        Step {
            node: self.short_name(n),
            file: node.file,
            loc: node.loc,
            mark,
        }
    }

    /// Is the context passed on this handoff?
    pub fn mark(&self, via: Via) -> Mark {
        match via {
            Via::Call(f, k) => {
                let facts = self.facts(f);
                match facts.calls.get(k as usize) {
                    Some(cf) if cf.passes() || self.call_in_ambient(f, k) => Mark::Passed,
                    Some(cf) if !cf.ctx_in_scope => Mark::Absent,
                    Some(_) => Mark::Dropped,
                    None => Mark::Unknown,
                }
            }
            Via::Closure(f, c) => {
                let facts = self.facts(f);
                match facts.closures.get(c as usize) {
                    Some(cf) if !cf.captured.is_empty() || cf.in_ambient => Mark::Passed,
                    Some(cf) if cf.parent_ctx && !cf.spawned => Mark::Passed,
                    Some(cf) if !cf.parent_ctx => Mark::Absent,
                    Some(_) => Mark::Dropped,
                    None => Mark::Unknown,
                }
            }
            Via::Channel(f, k) => {
                let facts = self.facts(f);
                match facts.channels.iter().find(|o| o.call == k) {
                    Some(op) if op.msg_carrier => Mark::Passed,
                    Some(op) if !facts.calls[op.call as usize].ctx_in_scope => Mark::Absent,
                    Some(_) => Mark::Dropped,
                    None => Mark::Unknown,
                }
            }
        }
    }

    /// Do these dependencies include the result of a call that was given a carrier and returns
    /// something derived from it (`let anchor = resolve_anchor(thread_id.as_ref())`)?
    pub fn deps_carry(&self, f: FnId, deps: &[crate::resolve::facts::Dep]) -> bool {
        let r = &self.gr.res.fns[f];
        deps.iter().any(|d| {
            let crate::resolve::facts::Dep::Call(k) = d else {
                return false;
            };
            let Some(cf) = r.facts.calls.get(*k as usize) else {
                return false;
            };
            if cf.arg_carrier == 0 {
                return false;
            }
            let Some(CallRes::Fns { targets, .. }) = r.calls.get(*k as usize) else {
                return false;
            };
            let body = self.gr.ix.fns[f].def.body.as_ref();
            let is_path = body
                .and_then(|b| b.calls.get(*k as usize))
                .is_some_and(|c| matches!(c.callee, crate::syntax::summary::Callee::Path { .. }));
            targets.iter().any(|&t| {
                let offset = u32::from(is_path && self.gr.ix.fns[t].def.self_param.is_some());
                let mask = if offset == 1 {
                    cf.arg_carrier >> 1
                } else {
                    cf.arg_carrier
                };
                self.returns_param.get(t).is_some_and(|&rp| rp & mask != 0)
            })
        })
    }

    /// The functions call #k of f may reach.
    pub fn call_targets(&self, f: FnId, k: u32) -> Vec<usize> {
        match self.gr.res.fns[f].calls.get(k as usize) {
            Some(CallRes::Fns { targets, .. }) => targets.to_vec(),
            Some(CallRes::Closure(c)) => vec![self.node(f, Some(*c))],
            _ => Vec::new(),
        }
    }
}

/// `chat::handler::MessageHandlerService::handle` → `MessageHandlerService::handle`.
pub fn short(qname: &str) -> String {
    let parts: Vec<&str> = qname.split("::").collect();
    // `…::handle_socket::{closure#0}`: name the closure by its function.
    let closures = parts
        .iter()
        .rev()
        .take_while(|p| p.starts_with('{'))
        .count();
    if closures > 0 && closures < parts.len() {
        let base = short(&parts[..parts.len() - closures].join("::"));
        return format!("{base}::{}", parts[parts.len() - closures..].join("::"));
    }
    let keep = parts
        .iter()
        .rposition(|p| {
            p.starts_with('<') || p.chars().next().is_some_and(|c| c.is_ascii_uppercase())
        })
        .unwrap_or(parts.len().saturating_sub(1));
    let from = keep.min(parts.len().saturating_sub(1));
    parts[from..].join("::")
}

pub fn ty_last(t: &Ty) -> Option<&str> {
    match t.peel() {
        Ty::Path(p) => Some(p.last_name()),
        _ => None,
    }
}

fn ty_mentions(t: &Ty, names: &[crate::syntax::summary::Name]) -> bool {
    match t.peel() {
        Ty::Path(p) => {
            names.iter().any(|n| n == p.last_name())
                || p.segs
                    .iter()
                    .any(|s| s.args.iter().any(|a| ty_mentions(a, names)))
        }
        Ty::Tuple(ts) => ts.iter().any(|t| ty_mentions(t, names)),
        _ => false,
    }
}

pub mod graph;
pub mod search;

use search::{breadth_first, expand};

/// The edge is a send into a per-conversation receiver (`to`): context is established there,
/// so the searches for on-path, needs-context and entry reach do not cross it.
fn into_receiver(per_conv: &[bool], via: Via, to: usize) -> bool {
    matches!(via, Via::Channel(..)) && per_conv[to]
}

/// At most this many channel edges in all (sends × what they reach): past it, a send is an
/// unresolved handoff (TP010), so a pull request cannot make the graph quadratic.
const CHANNEL_EDGE_BUDGET: usize = 1 << 21;
/// At most this many by-type receivers are named for one untraced send.
const MAX_TYPED_RECEIVERS: usize = 16;

/// A receiver of a channel and the nodes a send reaches there.
pub type Reach = (usize, Vec<usize>);

/// Which workspace crates end up in one binary: a crate with both in its dependency closure (a
/// binary, or any crate that depends on both, counted generously).
struct Binaries {
    /// Per crate: the crates it depends on, itself included (transitively).
    closure: Vec<Vec<bool>>,
}

impl Binaries {
    fn new(project: &crate::discover::Project) -> Binaries {
        let n = project.crates.len();
        let mut closure = vec![vec![false; n]; n];
        for (c, row) in closure.iter_mut().enumerate() {
            let mut stack = vec![c];
            while let Some(x) = stack.pop() {
                if std::mem::replace(&mut row[x], true) {
                    continue;
                }
                stack.extend(
                    project.crates[x]
                        .externs
                        .values()
                        .copied()
                        .filter(|&d| d < n),
                );
            }
        }
        Binaries { closure }
    }

    fn together(&self, a: usize, b: usize) -> bool {
        a == b
            || self.closure.iter().any(|row| {
                row.get(a).copied().unwrap_or(false) && row.get(b).copied().unwrap_or(false)
            })
    }
}
