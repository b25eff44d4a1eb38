//! The rule context: what a rule sees of the analysis. Typed ids ([`FnId`] for a function,
//! [`NodeId`] for a node of the handoff graph — a function body or one of its closures —,
//! [`CallId`] for a call site), a view of each function and each call (syntax, resolution,
//! context facts, argument offset), the shared queries (entry-reachable, on-path, has a context,
//! can receive one, inside an ambient scope, the path to a tool), and [`Cx::report`], which makes
//! a [`Finding`] from a rule's typed [`Violation`].
//!
//! **Invariant:** read-only; a rule asks questions here and never indexes the analysis's arrays
//! itself, so the two id spaces (functions, nodes) cannot be confused.

use crate::analysis::graph::Unresolved;
use crate::analysis::search::{breadth_first, Visit};
use crate::analysis::{Analysis, Mark, Step};
use crate::index::{FnInfo, Index, Owner};
use crate::resolve::context::ContextModel;
use crate::resolve::facts::{CallFacts, Dep, FnFacts};
use crate::resolve::{CallRes, FnResolution};
use crate::syntax::summary::{Attr, CallSite, Callee, Loc};

use super::{Finding, Rule, Scope};

/// A function of the workspace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FnId(usize);

/// A node of the handoff graph: a function's body or one of its closures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(usize);

/// Call site `index` of function `func`'s body (closures included).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CallId {
    pub func: FnId,
    pub index: u32,
}

impl FnId {
    /// Its position in [`Cx::fns`], for a rule's own per-function tables.
    pub fn index(self) -> usize {
        self.0
    }

    /// The node of the function's own body.
    pub fn node(self) -> NodeId {
        NodeId(self.0)
    }
}

/// What a rule found: its fields make the message and the help, and its key (with the enclosing
/// function) makes the fingerprint (SPEC §8), so rewording a message never changes a fingerprint.
pub trait Violation {
    fn message(&self) -> String;
    fn help(&self) -> String;
    /// What the finding is about within its function: the callee, the task, the channel, the slot.
    fn key(&self) -> String;
}

/// Reusable marks for a rule's repeated searches (see [`Cx::scratch`]).
pub struct Scratch {
    seen: Vec<bool>,
    pred: Vec<Option<usize>>,
    touched: Vec<usize>,
}

/// The rule context.
#[derive(Clone, Copy)]
pub struct Cx<'c> {
    a: &'c Analysis<'c, 'c>,
}

/// A function with its definition, resolution and facts.
#[derive(Clone, Copy)]
pub struct Func<'c> {
    pub id: FnId,
    pub info: &'c FnInfo<'c>,
    pub res: &'c FnResolution,
    pub facts: &'c FnFacts,
    cx: Cx<'c>,
}

/// A call site with its syntax, resolution and facts.
#[derive(Clone, Copy)]
pub struct Call<'c> {
    pub id: CallId,
    /// The node the call is made in (the function body or the closure around it).
    pub from: NodeId,
    pub file: usize,
    pub syntax: &'c CallSite,
    pub res: &'c CallRes,
    pub facts: &'c CallFacts,
    cx: Cx<'c>,
}

impl<'c> Cx<'c> {
    pub fn new(a: &'c Analysis<'c, 'c>) -> Cx<'c> {
        Cx { a }
    }

    // ---- functions, calls, nodes ----

    pub fn func(self, f: FnId) -> Func<'c> {
        let a = self.a;
        Func {
            id: f,
            info: &a.gr.ix.fns[f.0],
            res: &a.gr.res.fns[f.0],
            facts: a.facts(f.0),
            cx: self,
        }
    }

    /// Every function of the workspace, in index order.
    pub fn fns(self) -> impl Iterator<Item = Func<'c>> {
        (0..self.a.gr.ix.fns.len()).map(move |f| self.func(FnId(f)))
    }

    pub fn node(self, f: FnId, closure: Option<u32>) -> NodeId {
        NodeId(self.a.node(f.0, closure))
    }

    /// Every node of the handoff graph.
    pub fn nodes(self) -> impl Iterator<Item = NodeId> {
        (0..self.a.succ.len()).map(NodeId)
    }

    /// Where a node is defined: its file and the location of its signature or closure.
    pub fn site(self, n: NodeId) -> (usize, Loc) {
        let node = &self.a.gr.graph.nodes[n.0];
        (node.file, node.loc)
    }

    /// The function a node belongs to, and its closure (`None`: the body itself).
    pub fn fn_of(self, n: NodeId) -> (FnId, Option<u32>) {
        let (f, c) = self.a.node_fn(n.0);
        (FnId(f), c)
    }

    /// For a method of a trait impl, the trait's declaration of it (when the trait declares it).
    pub fn trait_declaration(self, f: FnId) -> Option<FnId> {
        let ix = self.index();
        let info = &ix.fns[f.0];
        let Owner::Impl(i) = info.owner else {
            return None;
        };
        let t = ix.impls[i].trait_def?;
        ix.trait_methods
            .get(&t)?
            .iter()
            .copied()
            .find(|&m| ix.fns[m].def.name == info.def.name)
            .map(FnId)
    }

    pub fn index(self) -> &'c Index<'c> {
        &self.a.gr.ix
    }

    pub fn model(self) -> &'c ContextModel {
        &self.a.gr.model
    }

    /// The workspace has a context model (SPEC §3): a context type, a context name or an ambient
    /// key occurs in it (built in or configured).
    pub fn has_context_model(self) -> bool {
        self.model().adopted()
            || !self.model().carrier_adts.is_empty()
            || self
                .a
                .gr
                .res
                .fns
                .iter()
                .any(|r| r.facts.carrier_param || r.facts.owner_has_carrier.iter().any(|&c| c))
    }

    /// The calls the resolution could not follow, with the node each is made in.
    pub fn unresolved(self) -> impl Iterator<Item = (NodeId, &'c Unresolved)> {
        self.a
            .gr
            .graph
            .unresolved
            .iter()
            .map(|u| (NodeId(u.from), u))
    }

    /// The workspace methods named `name` (any type, any trait).
    pub fn methods_named(self, name: &str) -> impl Iterator<Item = FnId> + 'c {
        (self.index().methods_by_name.get(name))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|&f| FnId(f))
    }

    /// The nodes that receive from the channel a send (call `k` of `f`) is made on, each with
    /// whether what the send reaches there (the message's handlers) is on-path.
    pub fn channel_receivers(self, f: FnId, k: u32) -> impl Iterator<Item = (NodeId, bool)> + 'c {
        let a = self.a;
        a.chan_of_send
            .get(&(f.0, k))
            .and_then(|c| a.chan_receivers.get(c))
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(move |(r, reach)| (NodeId(*r), reach.iter().any(|&t| a.on_path[t])))
    }

    /// Sends not followed because the budget of channel edges was spent: (node, function, call).
    pub fn cut_sends(self) -> impl Iterator<Item = (NodeId, FnId, u32)> + 'c {
        self.a
            .cut_sends
            .iter()
            .map(|&(n, f, k)| (NodeId(n), FnId(f), k))
    }

    /// Sends whose channel could not be traced, linked to receivers by a workspace message type
    /// only: (the sending node, function, call, message type, receivers).
    pub fn typed_sends(self) -> impl Iterator<Item = (NodeId, FnId, u32, &'c str, Vec<NodeId>)> {
        self.a.typed_sends.iter().map(|(n, f, k, key, rs)| {
            let rs = rs.iter().map(|&r| NodeId(r)).collect();
            (NodeId(*n), FnId(*f), *k, key.as_str(), rs)
        })
    }

    // ---- roles and reachability (SPEC §3) ----

    pub fn is_entry(self, n: NodeId) -> bool {
        self.a.is_entry[n.0]
    }

    pub fn is_tool(self, n: NodeId) -> bool {
        self.a.is_tool[n.0]
    }

    /// The function may make up a context (an entry, a declared or configured origin).
    pub fn is_origin(self, f: FnId) -> bool {
        self.a.is_origin[f.0]
    }

    /// The function is declared an origin (`#[origin]`, `[origins]`).
    pub fn is_declared_origin(self, f: FnId) -> bool {
        self.a.declared_origin[f.0]
    }

    /// A tool is reachable from `n` (SPEC §3 "on-path": together with entry-reachability).
    pub fn on_path(self, n: NodeId) -> bool {
        self.a.on_path[n.0]
    }

    /// `n` needs context (SPEC §3): a tool that can receive one is reachable from it along
    /// handoffs that pass no origin and no per-conversation receiver.
    pub fn needs_context(self, n: NodeId) -> bool {
        self.a.needs_ctx[n.0]
    }

    /// `n` is reachable from an entry point through handoffs.
    pub fn entry_reachable(self, n: NodeId) -> bool {
        self.a.reached[n.0]
    }

    /// `n` has a context of its own: a carrier parameter, `self`, a local it creates, a capture.
    pub fn has_context(self, n: NodeId) -> bool {
        self.a.node_has_ctx(n.0)
    }

    /// The function can receive a context at all: a carrier parameter or `self`, or an ambient read.
    pub fn can_receive_context(self, f: FnId) -> bool {
        self.a.can_receive_ctx(f.0)
    }

    /// Code reachable from `n` (not through a spawn that leaves the scope) reads an ambient context.
    pub fn reaches_ambient(self, n: NodeId) -> bool {
        self.a.reaches_ambient[n.0]
    }

    /// The ambient keys read by nodes reachable from `n` along nodes that reach one, in the order
    /// a breadth-first search meets them.
    pub fn ambient_keys(self, n: NodeId) -> Vec<String> {
        let a = self.a;
        let mut seen = vec![false; a.succ.len()];
        let mut out: Vec<String> = Vec::new();
        breadth_first(
            &mut seen,
            [n.0],
            |x| &a.succ[x],
            |x| {
                let (f, owner) = a.node_fn(x);
                for (o, k) in &a.facts(f).ambient_reads {
                    if *o == owner && !out.iter().any(|s| s == &**k) {
                        out.push(k.to_string());
                    }
                }
                Visit::Expand
            },
            |_, s, _| a.reaches_ambient[s],
        );
        out
    }

    /// Do these dependencies include the result of a call that was given a carrier and returns
    /// something derived from it (`let anchor = resolve_anchor(thread_id.as_ref())`)?
    pub fn deps_carry(self, f: FnId, deps: &[Dep]) -> bool {
        self.a.deps_carry(f.0, deps)
    }

    // ---- paths and names ----

    /// The entry → … → `from` → `to` → … → tool path (`to`: the handoff the finding is about).
    pub fn path(self, from: NodeId, to: Option<NodeId>) -> Vec<Step> {
        self.a.path_through(from.0, to.map(|t| t.0))
    }

    /// Marks for repeated searches ([`Cx::chain_to_tool`]): only what a search touched is reset
    /// before the next, so one search per entry stays linear in what it visits.
    pub fn scratch(self) -> Scratch {
        let n = self.a.succ.len();
        Scratch {
            seen: vec![false; n],
            pred: vec![None; n],
            touched: Vec::new(),
        }
    }

    /// The nearest tool from `from` through nodes `through` accepts, and the shortest chain to
    /// it, each handoff marked dropped. `None` when no tool is reached that way.
    pub fn chain_to_tool(
        self,
        scratch: &mut Scratch,
        from: NodeId,
        through: impl Fn(NodeId) -> bool,
    ) -> Option<(NodeId, Vec<Step>)> {
        let a = self.a;
        let Scratch {
            seen,
            pred,
            touched,
        } = scratch;
        for &x in touched.iter() {
            seen[x] = false;
            pred[x] = None;
        }
        touched.clear();
        touched.push(from.0);
        let tool = breadth_first(
            seen,
            [from.0],
            |x| &a.succ[x],
            |x| {
                if a.is_tool[x] {
                    Visit::Stop
                } else {
                    Visit::Expand
                }
            },
            |x, s, _| {
                if !through(NodeId(s)) {
                    return false;
                }
                pred[s] = Some(x);
                touched.push(s);
                true
            },
        )?;
        let mut chain = vec![tool];
        while let Some(p) = pred[*chain.last().unwrap_or(&from.0)] {
            chain.push(p);
        }
        chain.reverse();
        let last = chain.len() - 1;
        let steps = (chain.iter().enumerate())
            .map(|(i, &x)| a.step(x, (i < last).then_some(Mark::Dropped)))
            .collect();
        Some((NodeId(tool), steps))
    }

    /// `MessageHandlerService::handle`, for messages.
    pub fn short_name(self, n: NodeId) -> String {
        self.a.short_name(n.0)
    }

    /// `chat::handler::MessageHandlerService::handle`.
    pub fn qualified_name(self, n: NodeId) -> String {
        self.a.qualified_name(n.0)
    }

    /// The first line of a source range, trimmed and shortened, for messages.
    pub fn text(self, file: usize, loc: Loc) -> String {
        self.a.source_text(file, loc)
    }

    /// The finding `v` of `rule` at `loc` in `file`, inside node `within` (`None`: outside any
    /// function), with the path that shows it.
    pub fn report(
        self,
        rule: &Rule,
        v: &impl Violation,
        file: usize,
        loc: Loc,
        within: Option<NodeId>,
        path: Vec<Step>,
    ) -> Option<Finding> {
        // A rule scoped to entry-reachable code reports nothing where no entry reaches.
        if rule.scope == Scope::EntryReachable && within.is_some_and(|n| !self.entry_reachable(n)) {
            return None;
        }
        let mut f = Finding::new(rule, file, loc, v.message(), v.help(), path);
        if let Some(n) = within {
            f.func = self.qualified_name(n);
        }
        f.key = v.key();
        Some(f)
    }
}

impl<'c> Func<'c> {
    pub fn file(&self) -> usize {
        self.info.file
    }

    /// The attribute `#[name]` (a threadlint attribute by any path or import: `entry`,
    /// `propagates` …) on the function.
    pub fn attr(&self, name: &str) -> Option<&'c Attr> {
        let ix = self.cx.index();
        let info = self.info;
        info.def
            .attrs
            .iter()
            .find(|at| ix.attr_name(info.module, at) == name)
    }

    /// The node of the body, or of closure `c`.
    pub fn node(&self, closure: Option<u32>) -> NodeId {
        self.cx.node(self.id, closure)
    }

    /// Its call sites in source order (none when it has no body).
    pub fn calls(self) -> impl Iterator<Item = Call<'c>> {
        let calls: &'c [CallSite] = self.info.def.body.as_ref().map_or(&[], |b| &b.calls);
        calls
            .iter()
            .enumerate()
            .map(move |(k, syntax)| self.call_at(k as u32, syntax))
    }

    /// Call site `k` (an index from its facts: `op.call`, `Dep::Call(k)`).
    pub fn call(self, k: u32) -> Option<Call<'c>> {
        let body = self.info.def.body.as_ref()?;
        body.calls.get(k as usize).map(|s| self.call_at(k, s))
    }

    fn call_at(self, k: u32, syntax: &'c CallSite) -> Call<'c> {
        let ku = k as usize;
        Call {
            id: CallId {
                func: self.id,
                index: k,
            },
            from: self.node(self.res.call_owner[ku]),
            file: self.info.file,
            syntax,
            res: &self.res.calls[ku],
            facts: &self.facts.calls[ku],
            cx: self.cx,
        }
    }
}

impl<'c> Call<'c> {
    pub fn loc(&self) -> Loc {
        self.syntax.loc
    }

    /// The call as written (first line), for messages.
    pub fn text(&self) -> String {
        self.cx.text(self.file, self.syntax.loc)
    }

    /// The workspace functions it may call (none for a closure, a constructor, an external).
    pub fn fn_targets(&self) -> impl Iterator<Item = FnId> + 'c {
        let targets: &'c [usize] = match self.res {
            CallRes::Fns { targets, .. } => targets,
            _ => &[],
        };
        targets.iter().map(|&t| FnId(t))
    }

    /// The nodes it may call: workspace functions, or the local closure it calls.
    pub fn targets(&self) -> Vec<NodeId> {
        match self.res {
            CallRes::Fns { targets, .. } => targets.iter().map(|&t| NodeId(t)).collect(),
            CallRes::Closure(c) => vec![self.cx.node(self.id.func, Some(*c))],
            _ => Vec::new(),
        }
    }

    /// Where target `t`'s parameters start among the call's arguments: 1 when a method is called
    /// by path (`Type::method(recv, …)`), else 0.
    pub fn self_offset(&self, t: FnId) -> usize {
        usize::from(
            matches!(self.syntax.callee, Callee::Path { .. })
                && self.cx.index().fns[t.0].def.self_param.is_some(),
        )
    }

    /// Made inside an ambient context scope (or in code only ever run inside one).
    pub fn in_ambient(&self) -> bool {
        self.cx.a.call_in_ambient(self.id.func.0, self.id.index)
    }

    /// Does one of these dependencies carry the context (see [`Cx::deps_carry`])?
    pub fn carries(&self, deps: &[Dep]) -> bool {
        self.cx.deps_carry(self.id.func, deps)
    }
}
