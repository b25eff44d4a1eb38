//! Context facts of one function body, gathered during the resolution walk (one pass over the
//! events, sharing its types): which values carry context where, what each call passes, what
//! closures capture, where contexts are made up, written to shared state, sent or spawned.
//! The rules decide from these facts and the call graph; they never see syntax.

use crate::index::{DefId, FnId};
use crate::syntax::summary::{Body, Event, Loc, Name, VExpr};

/// Where a channel end comes from, as far as one function body can tell: the analysis joins the
/// links between these (SPEC §3 "Channel") into channels, and a send reaches the receivers of
/// its own channel only.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// Made by call #k of function f (`mpsc::channel()`): both of its ends.
    Made(FnId, u32),
    /// A field of a workspace type (`self.tx`, `Handle { tx }`, a variant's field).
    Field(DefId, Name),
    /// Parameter i of function f (`self` not counted).
    Param(FnId, u32),
    /// What function f returns (`fn sender(&self) -> Sender<Msg>`).
    Ret(FnId),
}

/// Where a value comes from, for taint (tool results) and parameter flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dep {
    Call(u32),
    Param(u32),
}

/// At most this many dependencies are tracked per value.
pub const MAX_DEPS: usize = 24;

pub fn merge_deps(into: &mut Vec<Dep>, from: &[Dep]) {
    for d in from {
        if into.len() >= MAX_DEPS {
            return;
        }
        if !into.contains(d) {
            into.push(*d);
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct CallFacts {
    /// A carrier is available where the call is made.
    pub ctx_in_scope: bool,
    /// The name of a carrier in scope (`ctx`, `self.thread_id`), for messages.
    pub ctx_name: Option<Name>,
    /// The receiver is a carrier (`session.run()` where the session holds the context).
    pub recv_carrier: bool,
    /// Bit i: argument i is a carrier (closures: they capture one).
    pub arg_carrier: u64,
    /// Bit i: argument i is a literal or made up on the spot (for context parameters).
    pub arg_fabricated: u64,
    /// Inside an ambient context scope (`CURRENT.scope(ctx, …)`, after a thread-local set).
    pub in_ambient: bool,
    /// The call is a spawn (tokio, std, rayon, `JoinSet` …).
    pub spawn: bool,
    /// Dependencies of each argument (taint); arguments past the last one with dependencies
    /// have no entry.
    pub arg_deps: Vec<Vec<Dep>>,
}

impl CallFacts {
    pub fn passes(&self) -> bool {
        self.recv_carrier || self.arg_carrier != 0
    }
}

#[derive(Clone, Debug, Default)]
pub struct ClosureFacts {
    /// Captured places that carry context (`ctx`, `req.thread_id`).
    pub captured: Vec<String>,
    /// Handed to a spawn API: a new task, so lexical context does not flow in uncaptured.
    pub spawned: bool,
    /// The future of `KEY.scope(v, fut)`: an ambient scope for `KEY`.
    pub scope_of: Option<Name>,
    /// Context is lexically available at the closure's start (its parent has a carrier).
    pub parent_ctx: bool,
    /// The ambient scope the closure runs in (inherited unless spawned).
    pub in_ambient: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChannelDir {
    Send,
    Recv,
}

#[derive(Clone, Debug)]
pub struct ChannelOp {
    pub call: u32,
    pub dir: ChannelDir,
    /// The message type (display name), when known.
    pub key: Option<String>,
    pub broadcast: bool,
    /// The sender belongs to application state (or cannot be told apart from it), as opposed
    /// to a channel made for this request or owned by a per-request object.
    pub global: bool,
    pub msg_carrier: bool,
    pub msg_deps: Vec<Dep>,
    /// The channel end the call is made on, when it can be traced.
    pub endpoint: Option<Endpoint>,
    /// The message type is defined in the workspace (a by-type link is allowed for it).
    pub msg_adt: bool,
    /// For a receive: the later calls of the body that use what was received (its handlers).
    pub handlers: Vec<u32>,
    /// For a receive: a handler keeps the message for later (`queue.push_back(job)`), so the
    /// whole receiving function handles it.
    pub stashed: bool,
}

#[derive(Clone, Debug)]
pub struct Fabricated {
    pub owner: Option<u32>,
    /// The call that makes the value, when it is a call (an origin's result is not made up).
    pub call: Option<u32>,
    pub loc: Loc,
    /// What makes the value (`ThreadContext::default()`), for the message.
    pub what: String,
}

#[derive(Clone, Debug)]
pub struct SharedWrite {
    pub owner: Option<u32>,
    pub loc: Loc,
    /// The slot written (`state.current_thread`, `static LAST`, thread-local `CURRENT`).
    pub slot: String,
    pub value: String,
}

#[derive(Clone, Debug)]
pub struct SendToAll {
    pub call: u32,
    pub deps: Vec<Dep>,
}

#[derive(Clone, Debug, Default)]
pub struct FnFacts {
    pub calls: Vec<CallFacts>,
    pub closures: Vec<ClosureFacts>,
    /// Carriers bound in each owner (index 0: the function body, i + 1: closure i), params included.
    pub owner_has_carrier: Vec<bool>,
    /// A parameter (or `self`) carries context.
    pub carrier_param: bool,
    pub fabricated: Vec<Fabricated>,
    pub shared_writes: Vec<SharedWrite>,
    /// Owners that read an ambient context, and the key read.
    pub ambient_reads: Vec<(Option<u32>, Name)>,
    pub channels: Vec<ChannelOp>,
    /// Channel ends that are the same channel: a field or parameter given one, a function
    /// returning one.
    pub chan_links: Vec<(Endpoint, Endpoint)>,
    pub sends_to_all: Vec<SendToAll>,
    /// Closures the function returns (`Arc::new(move |req| …)` as its value): built here, run by
    /// whoever calls the result.
    pub returned_closures: Vec<u32>,
    /// Dependencies of the values the function returns.
    pub returns: Vec<Dep>,
    /// Bit i: the function returns a carrier derived from parameter i (`fn anchor(tid) -> String`).
    pub returns_carrier: u64,
    /// Some call of the function is made inside an ambient scope (`calls[k].in_ambient`).
    pub any_call_in_ambient: bool,
}

/// For each closure: the places (`ctx`, `req.prompt`) its body uses that are bound outside it.
pub fn closure_places(body: &Body) -> Vec<Vec<VExpr>> {
    let n = body.closures.len();
    if n == 0 {
        return Vec::new();
    }
    let mut places: Vec<Vec<VExpr>> = vec![Vec::new(); n];
    let mut bound: Vec<Vec<Name>> = vec![Vec::new(); n];
    let mut open: Vec<u32> = Vec::new();
    let mut found: Vec<VExpr> = Vec::new();
    for ev in &body.events {
        match ev {
            Event::ClosureStart(c) => open.push(*c),
            Event::ClosureEnd(_) => {
                open.pop();
            }
            _ => {}
        }
        // Only what happens inside a closure is a capture.
        if open.is_empty() {
            continue;
        }
        found.clear();
        match ev {
            Event::Bind(b) => collect_places(&b.value, &mut found),
            Event::Call(id) => {
                if let Some(call) = body.calls.get(*id as usize) {
                    if let crate::syntax::summary::Callee::Method { recv, .. } = &call.callee {
                        collect_places(recv, &mut found);
                    }
                    if let crate::syntax::summary::Callee::Path { path, .. } = &call.callee {
                        if path.is_single() {
                            found.push(VExpr::Local(Name::new(path.last_name())));
                        }
                    }
                    for a in &call.args {
                        collect_places(a, &mut found);
                    }
                }
            }
            Event::Assign(a) => {
                collect_places(&a.place, &mut found);
                collect_places(&a.value, &mut found);
            }
            Event::Return(v) => collect_places(v, &mut found),
            _ => {}
        }
        // A use is a capture unless the closure bound the name before it (in event order: a
        // later `let host = Arc::clone(&host)` in another arm does not undo an earlier use).
        for p in &found {
            let Some(r) = root_name(p) else { continue };
            for &c in &open {
                let c = c as usize;
                if !bound[c].iter().any(|b| b == r) && !places[c].contains(p) {
                    places[c].push(p.clone());
                }
            }
        }
        if let Event::Bind(b) = ev {
            for &c in &open {
                bound[c as usize].push(b.name.clone());
            }
        }
    }
    // Closures and async blocks capture disjoint fields (edition 2021): `req.prompt` is not `req`.
    places
}

/// The local at the root of a place (`req` in `req.prompt.len`).
pub fn root_name(v: &VExpr) -> Option<&Name> {
    match v {
        VExpr::Local(n) => Some(n),
        VExpr::Field(b, _) | VExpr::TupleField(b, _) => root_name(b),
        _ => None,
    }
}

/// Maximal places rooted at a local: `a.b.c` is one place, not three.
fn collect_places(v: &VExpr, out: &mut Vec<VExpr>) {
    match v {
        VExpr::Local(_) => out.push(v.clone()),
        VExpr::Field(..) | VExpr::TupleField(..) if root_name(v).is_some() => out.push(v.clone()),
        VExpr::Field(b, _)
        | VExpr::TupleField(b, _)
        | VExpr::Index(b)
        | VExpr::Unwrap(b)
        | VExpr::Elem(b) => collect_places(b, out),
        VExpr::Struct(s) => {
            for (_, f) in &s.fields {
                collect_places(f, out);
            }
            if let Some(r) = &s.rest {
                collect_places(r, out);
            }
        }
        VExpr::Tuple(vs) => {
            for x in vs {
                collect_places(x, out);
            }
        }
        _ => {}
    }
}
