//! Call resolution: for every call site of every function body, what it calls. Receiver types are
//! followed through the body's events (bindings, fields, constructors, return types, wrappers);
//! calls through `dyn Trait`, `impl Trait` and generic `T: Trait` reach every impl in the
//! workspace. A call that stays unresolved keeps its reason.
//!
//! **Architecture invariant:** one resolution for every command (no mode flags). The same walk
//! gathers each body's context facts (`collect.rs`; the data types are in [`facts`]), with
//! [`context`] saying what a context is; types and lookup live in [`types`] and `lookup.rs`.

use rayon::prelude::*;

use crate::config::knowledge::Knowledge;
use crate::index::{DefId, DefKind, FnId, Index, Ns, Owner, PathRes, Res};
use crate::resolve::context::ContextModel;
use crate::resolve::facts::*;
use crate::resolve::types::{
    elem_ty, index_ty, is_deref_wrapper, is_iter_producer, known_method, unwrap_ty, RTy, TyCx,
};
use crate::syntax::summary::*;

#[derive(Clone, Debug, PartialEq)]
pub enum CallRes {
    /// Workspace functions. `dispatch`: through a trait object or generic (every impl).
    Fns {
        /// Shared between the calls of one trait method (an edge list per impl set, not per call).
        targets: std::sync::Arc<[FnId]>,
        dispatch: bool,
    },
    /// Closure #n of the same body, called through a local binding.
    Closure(u32),
    /// A tuple-struct or enum-variant constructor.
    Constructor,
    /// Outside the workspace, by path as far as known (`tokio::spawn`, `_::len`).
    External(Name),
    Unresolved(String),
}

#[derive(Clone, Debug, Default)]
pub struct FnResolution {
    pub calls: Vec<CallRes>,
    /// The closure each call is made in (`None`: the function body itself).
    pub call_owner: Vec<Option<u32>>,
    /// For each closure: the call it is handed to as an argument (call index, argument index).
    pub closure_handoff: Vec<Option<(u32, u32)>>,
    /// Some call goes to a WebSocket accept function (`accept_async`): the function is an entry.
    pub calls_accept: bool,
    /// Context facts (carriers, captures, fabrications, shared writes, channels).
    pub facts: FnFacts,
}

pub struct Resolution {
    pub fns: Vec<FnResolution>,
}

/// Calls through a trait object or generic that were not followed because the run's budget of
/// dispatch edges was spent ([`Resolution::limit_dispatch`]).
pub struct DispatchCut {
    /// The first such call: its function and call index.
    pub first: (FnId, usize),
    pub calls: usize,
    pub budget: usize,
}

impl Resolution {
    /// Keep the edges of calls through trait objects and generics within `budget` in all: a call
    /// has an edge to every implementation, so N implementations called from N places cost N²
    /// (SPEC §10). Calls are taken in function order; a call that no longer fits is unresolved,
    /// with the reason, instead of followed. Real servers use a few percent of any budget this
    /// sets (zeroclaw: 26k edges).
    pub fn limit_dispatch(&mut self, budget: usize) -> Option<DispatchCut> {
        let mut left = budget;
        let mut cut: Option<DispatchCut> = None;
        for (f, r) in self.fns.iter_mut().enumerate() {
            for (ci, c) in r.calls.iter_mut().enumerate() {
                let CallRes::Fns {
                    targets,
                    dispatch: true,
                } = c
                else {
                    continue;
                };
                if targets.len() <= left {
                    left -= targets.len();
                    continue;
                }
                *c = CallRes::Unresolved(format!(
                    "a call through a trait object or generic with {} implementations, not followed: the run's budget of {budget} such edges is spent",
                    targets.len()
                ));
                let cut = cut.get_or_insert(DispatchCut {
                    first: (f, ci),
                    calls: 0,
                    budget,
                });
                cut.calls += 1;
            }
        }
        cut
    }
}

/// The budget of dispatch edges for a workspace of `source_bytes` bytes of Rust: proportional
/// to the input, with a floor no real server comes near.
pub fn dispatch_budget(source_bytes: u64) -> usize {
    (source_bytes as usize).max(1 << 20)
}

/// What resolution needs that does not depend on the context model: field types (see
/// [`Index::prepare_field_types`]) and return types. Made while the model is built.
pub struct Prepared {
    /// Return types that do not depend on the receiver (`Self`) or generics, by function.
    rets: Vec<Option<RTy>>,
    /// Field types of every non-generic ADT, by definition.
    fields: Vec<crate::resolve::types::FieldTys>,
}

/// Resolve once, in parallel, the field types and the return types every call site looks up.
pub fn prepare(ix: &Index) -> Prepared {
    let fields = ix.prepare_field_types();
    let rets: Vec<Option<RTy>> = (0..ix.fns.len())
        .into_par_iter()
        .map(|f| {
            let def = ix.fns[f].def;
            let ret = def.ret.as_ref()?;
            let owner_generics: &[Generic] = match ix.fns[f].owner {
                Owner::Impl(i) => &ix.impls[i].def.generics,
                Owner::Trait(t) => match ix.defs[t].kind {
                    DefKind::Trait(td) => &td.generics,
                    _ => &[],
                },
                Owner::Free => &[],
            };
            if !owner_generics.is_empty() || mentions_self_or_generic(ret, def) {
                return None;
            }
            let cx = TyCx {
                module: ix.fns[f].module,
                self_ty: None,
                generics: &[],
                subst: &[],
            };
            Some(ix.resolve_ty(ret, &cx))
        })
        .collect();
    Prepared { rets, fields }
}

/// Resolve every call, function by function, in parallel, and gather the context facts of each
/// body in the same walk.
pub fn resolve_all(
    ix: &Index,
    prepared: &Prepared,
    model: &ContextModel,
    know: &Knowledge,
) -> Resolution {
    let rets = &prepared.rets;
    let fns = (0..ix.fns.len())
        .into_par_iter()
        .map_init(Scratch::default, |scratch, f| match &ix.fns[f].def.body {
            Some(body) => {
                let mut w = Walker::new(ix, f, model, know, body);
                w.rets = rets;
                w.fields = &prepared.fields;
                w.take_scratch(scratch);
                let out = w.run();
                w.give_scratch(scratch);
                out
            }
            None => FnResolution::default(),
        })
        .collect();
    Resolution { fns }
}

/// Does a written return type mention `Self` or a generic parameter (of any kind)?
fn mentions_self_or_generic(t: &Ty, def: &FnDef) -> bool {
    match t {
        Ty::Path(p) => p.segs.iter().any(|s| {
            &*s.name == "Self"
                || (p.segs.len() == 1
                    && s.name.len() <= 2
                    && s.name.chars().all(|c| c.is_ascii_uppercase()))
                || def.generics.iter().any(|g| g.name == s.name)
                || s.args.iter().any(|a| mentions_self_or_generic(a, def))
        }),
        Ty::Ref(t) | Ty::Slice(t) => mentions_self_or_generic(t, def),
        Ty::Tuple(ts) => ts.iter().any(|t| mentions_self_or_generic(t, def)),
        Ty::Bounds(_) => true,
        _ => false,
    }
}

struct Local {
    name: Name,
    ty: RTy,
    carrier: bool,
    /// A carrier that makes its owner "have" context (not one that holds it only deep inside).
    strong: bool,
    deps: Vec<Dep>,
    /// 0: the function body; i + 1: closure i.
    owner: usize,
    /// An element of a collection in shared state (a connection among all connections).
    all_conns: bool,
    /// Who holds this value (for channel senders: application state, or a request's object).
    holder: Holder,
    /// The channel it is an end of, when it is one.
    ep: Option<Endpoint>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Holder {
    Unknown,
    /// A parameter of the function.
    Param,
    /// Made here (`broadcast::channel(16)`).
    Fresh,
    /// A field of (or a getter on) this workspace type.
    Adt(DefId),
}

struct Walker<'a, 's> {
    ix: &'a Index<'s>,
    /// The function being walked.
    fid: FnId,
    /// The first `MAX_HANDLED` receives of the body (indices into `facts.channels`).
    recv_ops: Vec<usize>,
    /// Receiver-independent return types, by function.
    rets: &'a [Option<RTy>],
    fields: &'a [crate::resolve::types::FieldTys],
    model: &'a ContextModel,
    know: &'a Knowledge,
    body: &'s Body,
    def: &'s FnDef,
    closures: &'s [ClosureDef],
    module: usize,
    self_ty: Option<RTy>,
    generics: Vec<&'s [Generic]>,
    /// The working lists (scopes, per-call types, carriers …), kept by the thread between functions.
    s: Scratch,
    /// The function body runs inside an ambient context (a thread-local was set).
    fn_ambient: bool,
    places: Vec<Vec<VExpr>>,
    out: FnResolution,
}

/// A walker's working lists, kept by each worker thread from one function to the next so that
/// they are not allocated, filled and freed once per function.
#[derive(Default)]
struct Scratch {
    scopes: Vec<Vec<Local>>,
    /// Emptied scope lists, for the next block.
    free_scopes: Vec<Vec<Local>>,
    /// Locals whose scope ended, newest last: a block's value can name them
    /// (`let e = match r { Ok(out) => Event { out }, … }`).
    dead: Vec<Local>,
    /// Where each name's live bindings are (scope, position), newest last: a lookup costs one
    /// hash, not a scan of every local in the body.
    by_name: rustc_hash::FxHashMap<Name, Vec<(u32, u32)>>,
    /// Where the live strong carriers are (scope, position), newest last.
    strong_at: Vec<(u32, u32)>,
    call_tys: Vec<RTy>,
    call_carrier: Vec<bool>,
    call_deps: Vec<Vec<Dep>>,
    closure_stack: Vec<u32>,
    /// Carriers currently bound, per owner.
    carriers: Vec<u32>,
    /// Closures passed to `TL.with(…)` of a thread-local: the thread-local's name.
    tl_scope: Vec<Option<Name>>,
    /// The implementations of each trait method called so far (they do not depend on the
    /// function, so they are kept for the thread's whole run): every call through `dyn Trait`
    /// shares one list instead of building its own.
    dispatch: std::cell::RefCell<rustc_hash::FxHashMap<(DefId, Name), Impls>>,
}

impl Scratch {
    /// Empties every list, keeping its room (and the scope lists, for reuse).
    fn clear(&mut self) {
        for mut l in self.scopes.drain(..) {
            l.clear();
            self.free_scopes.push(l);
        }
        self.dead.clear();
        self.by_name.clear();
        self.strong_at.clear();
        self.call_tys.clear();
        self.call_carrier.clear();
        self.call_deps.clear();
        self.closure_stack.clear();
        self.carriers.clear();
        self.tl_scope.clear();
    }
}

/// The implementations a call of one trait method may reach (`None`: no such method).
type Impls = Option<std::sync::Arc<[FnId]>>;

enum Lookup {
    Fns(std::sync::Arc<[FnId]>, bool),
    Known(RTy),
    External(Name),
    NotFound(String),
}

/// Methods that read a guarded value: `*x.lock().unwrap() = v` writes into `x`.
const GUARD_METHODS: &[&str] = &[
    "lock",
    "write",
    "read",
    "borrow_mut",
    "get_mut",
    "unwrap",
    "expect",
    "as_mut",
    "deref_mut",
    "blocking_lock",
    "blocking_write",
    "lock_owned",
    "write_owned",
];

/// Methods on a carrier whose result is not context (`ctx.user_id.len()` is not a context).
const NON_DERIVING: &[&str] = &[
    "len",
    "is_empty",
    "is_some",
    "is_none",
    "is_ok",
    "is_err",
    "eq",
    "ne",
    "cmp",
    "hash",
    "fmt",
    "elapsed",
    "elapsed_ms",
    "user_id",
    "lock",
    "read",
    "write",
];

impl<'a, 's> Walker<'a, 's> {
    fn new(
        ix: &'a Index<'s>,
        f: FnId,
        model: &'a ContextModel,
        know: &'a Knowledge,
        body: &'s Body,
    ) -> Self {
        let info = &ix.fns[f];
        let mut generics: Vec<&'s [Generic]> = vec![&info.def.generics];
        let self_ty = match info.owner {
            Owner::Free => None,
            Owner::Impl(i) => {
                let im = &ix.impls[i];
                generics.push(&im.def.generics);
                let gens = [&im.def.generics[..]];
                let cx = TyCx {
                    module: im.module,
                    self_ty: None,
                    generics: &gens,
                    subst: &[],
                };
                Some(ix.resolve_ty(&im.def.self_ty, &cx))
            }
            Owner::Trait(t) => {
                if let DefKind::Trait(td) = ix.defs[t].kind {
                    generics.push(&td.generics);
                }
                Some(RTy::Dyn(vec![t], Vec::new()))
            }
        };
        Walker {
            ix,
            fid: f,
            recv_ops: Vec::new(),
            rets: &[],
            fields: &[],
            model,
            know,
            body,
            def: info.def,
            closures: &body.closures,
            module: info.module,
            self_ty,
            generics,
            s: Scratch::default(),
            fn_ambient: false,
            places: Vec::new(),
            out: FnResolution::default(),
        }
    }

    fn take_scratch(&mut self, s: &mut Scratch) {
        self.s = std::mem::take(s);
    }

    /// Hands the working lists back, emptied, for the thread's next function.
    fn give_scratch(mut self, s: &mut Scratch) {
        self.s.clear();
        *s = self.s;
    }

    fn owner(&self) -> usize {
        self.s.closure_stack.last().map_or(0, |&c| c as usize + 1)
    }

    /// Is a carrier available to code running in `owner`?
    fn owner_ctx(&self, owner: usize) -> bool {
        if self.s.carriers[owner] > 0 {
            return true;
        }
        if owner == 0 {
            return false;
        }
        let cf = &self.out.facts.closures[owner - 1];
        !cf.captured.is_empty() || (cf.parent_ctx && !cf.spawned)
    }

    /// The closure an argument hands over, also through wrappers (`async {…}.instrument(s)`,
    /// `Box::pin(async {…})`).
    fn handed_closure(&self, a: &VExpr) -> Option<u32> {
        let mut cur = a;
        for _ in 0..8 {
            if let Some(cl) = self.closure_value(cur) {
                return Some(cl);
            }
            let VExpr::Call(j) = cur else { return None };
            let call = self.body.calls.get(*j as usize)?;
            cur = match &call.callee {
                Callee::Method { recv, .. } => recv,
                Callee::Path { .. } if call.args.len() == 1 => &call.args[0],
                _ => return None,
            };
        }
        None
    }

    /// The closure a value is (`eval(v)` is `RTy::Closure`), without copying a type.
    fn closure_value(&self, v: &VExpr) -> Option<u32> {
        let t = match v {
            VExpr::Closure(id) => return Some(*id),
            VExpr::Call(id) => self.s.call_tys.get(*id as usize),
            VExpr::Local(n) => match self.local(n) {
                Some(l) => Some(&l.ty),
                None => return None,
            },
            _ => return self.eval(v).closure(),
        };
        t.and_then(RTy::closure)
    }

    /// A carrier visible in `owner`, innermost first, for messages.
    fn carrier_name(&self, owner: usize) -> Option<Name> {
        let visible = |l: &Local| {
            l.strong
                && (l.owner == owner || owner == 0 || {
                    let cf = &self.out.facts.closures[owner - 1];
                    cf.parent_ctx && !cf.spawned
                })
        };
        // Prefer a context by type or name (`ctx`, `thread_id`) over a value that merely carries one.
        let strong =
            |l: &Local| self.model.is_context(&l.ty) || self.model.is_context_name(&l.name);
        // Only strong carriers can be visible: their own short list, newest first.
        let scopes = &self.s.scopes;
        let mut locals = self
            .s
            .strong_at
            .iter()
            .rev()
            .filter_map(|&(sc, p)| scopes.get(sc as usize)?.get(p as usize));
        if let Some(l) = locals.clone().find(|l| visible(l) && strong(l)) {
            return Some(l.name.clone());
        }
        if let Some(l) = locals.find(|l| visible(l)) {
            return Some(l.name.clone());
        }
        if owner > 0 {
            return self.out.facts.closures[owner - 1]
                .captured
                .first()
                .map(Name::new);
        }
        None
    }

    fn owner_ambient(&self, owner: usize) -> bool {
        if owner == 0 {
            self.fn_ambient
        } else {
            self.out.facts.closures[owner - 1].in_ambient
        }
    }

    fn set_owner_ambient(&mut self, owner: usize) {
        if owner == 0 {
            self.fn_ambient = true;
        } else {
            self.out.facts.closures[owner - 1].in_ambient = true;
        }
    }

    fn in_async(&self) -> bool {
        self.def.is_async
            || self.s.closure_stack.iter().any(|&c| {
                self.closures[c as usize].is_async
                    || self.closures[c as usize].kind == ClosureKind::AsyncBlock
            })
    }

    fn run(&mut self) -> FnResolution {
        let body = self.body;
        let n_calls = body.calls.len();
        let n_closures = body.closures.len();
        // Empty until the call's event is reached (an empty string does not allocate).
        self.out.calls = vec![CallRes::Unresolved(String::new()); n_calls];
        self.out.call_owner = vec![None; n_calls];
        self.out.closure_handoff = vec![None; n_closures];
        self.out.facts.calls = vec![CallFacts::default(); n_calls];
        self.out.facts.closures = vec![ClosureFacts::default(); n_closures];
        self.out.facts.owner_has_carrier = vec![false; n_closures + 1];
        self.s.call_tys.resize(n_calls, RTy::Unknown);
        self.s.call_carrier.resize(n_calls, false);
        self.s.call_deps.resize(n_calls, Vec::new());
        self.s.carriers.resize(n_closures + 1, 0);
        self.s.tl_scope.resize(n_closures, None);
        self.places = closure_places(body);
        let mut params_open = true;
        for ev in &body.events {
            match ev {
                Event::Enter => {
                    let scope = self.s.free_scopes.pop().unwrap_or_default();
                    self.s.scopes.push(scope);
                }
                Event::Exit => {
                    if let Some(mut scope) = self.s.scopes.pop() {
                        for l in scope.drain(..) {
                            if let Some(at) = self.s.by_name.get_mut(&l.name) {
                                at.pop();
                            }
                            if l.strong {
                                self.s.carriers[l.owner] =
                                    self.s.carriers[l.owner].saturating_sub(1);
                                self.s.strong_at.pop();
                            }
                            self.s.dead.push(l);
                        }
                        self.s.free_scopes.push(scope);
                        if self.s.dead.len() > 64 {
                            self.s.dead.drain(..self.s.dead.len() - 32);
                        }
                    }
                }
                Event::Bind(b) => {
                    let crate::syntax::summary::Bind {
                        name,
                        ty,
                        value,
                        loc,
                    } = &**b;
                    let declared = ty
                        .as_deref()
                        .map(|t| self.resolve_ty(t))
                        .filter(|t| !t.is_unknown());
                    let owner = self.owner();
                    let (vc, mut deps, vt) = self.vfacts_ty(value, declared.is_none());
                    let t = declared.unwrap_or_else(|| vt.unwrap_or(RTy::Unknown));
                    let named = self.model.is_context_name(name)
                        && !crate::resolve::context::is_os_thread_id(&t);
                    let declared_ctx = params_open
                        && owner == 0
                        && self.s.scopes.len() == 1
                        && self.def.attrs.iter().any(|a| {
                            self.ix.attr_name(self.module, a) == "propagates"
                                && a.args.trim() == &**name
                        });
                    let named = named || declared_ctx;
                    let carrier = vc || self.model.carries(&t) || named;
                    let strong = carrier && (named || !self.model.deep_only(&t));
                    let mut param = None;
                    if params_open && owner == 0 && self.s.scopes.len() == 1 {
                        param = self
                            .def
                            .params
                            .iter()
                            .position(|p| p.name.as_ref() == Some(name));
                        if let Some(i) = param {
                            deps = vec![Dep::Param(i as u32)];
                        }
                        if carrier {
                            self.out.facts.carrier_param = true;
                        }
                    }
                    if (named || self.model.is_context(&t)) && !vc {
                        if let Some(what) = self.fabricating(value) {
                            let at = self.value_loc(value).unwrap_or(*loc);
                            self.fabricated(at, format!("`{name}` = {what}"));
                        }
                    }
                    self.scan_struct_lits(value);
                    self.link_struct_fields(value);
                    let ep = self.bind_endpoint(param, &t, value);
                    let all_conns = self.is_from_shared_collection(value);
                    let holder = if params_open && owner == 0 && self.s.scopes.len() == 1 {
                        Holder::Param
                    } else {
                        self.holder_of(value)
                    };
                    if strong {
                        self.s.carriers[owner] += 1;
                        self.out.facts.owner_has_carrier[owner] = true;
                    }
                    let depth = self.s.scopes.len();
                    if let Some(s) = self.s.scopes.last_mut() {
                        let at = ((depth - 1) as u32, s.len() as u32);
                        self.s.by_name.entry(name.clone()).or_default().push(at);
                        if strong {
                            self.s.strong_at.push(at);
                        }
                        s.push(Local {
                            name: name.clone(),
                            ty: t,
                            carrier,
                            strong,
                            deps,
                            owner,
                            all_conns,
                            holder,
                            ep,
                        });
                    }
                }
                Event::Call(id) => {
                    params_open = false;
                    let id = *id as usize;
                    if let Some(c) = body.calls.get(id) {
                        self.call_event(id, c);
                    }
                }
                Event::ClosureStart(id) => {
                    params_open = false;
                    self.closure_start(*id);
                }
                Event::ClosureEnd(_) => {
                    self.s.closure_stack.pop();
                }
                Event::Assign(a) => {
                    params_open = false;
                    self.scan_struct_lits(&a.value);
                    self.link_assign(&a.place, &a.value);
                    let (vc, _) = self.vfacts(&a.value);
                    if vc {
                        self.check_shared_write(&a.place, &a.value, a.loc);
                    }
                }
                Event::Return(v) => {
                    self.scan_struct_lits(v);
                    if self.s.closure_stack.is_empty() {
                        self.link_return(v);
                        if let Some(c) = self.returned_closure(v) {
                            self.out.facts.returned_closures.push(c);
                        }
                        let (vc, deps) = self.vfacts(v);
                        if vc {
                            for d in &deps {
                                if let Dep::Param(i) = d {
                                    if *i < 64 {
                                        self.out.facts.returns_carrier |= 1 << i;
                                    }
                                }
                            }
                        }
                        merge_deps(&mut self.out.facts.returns, &deps);
                    }
                }
                Event::OpaqueMacro(_) => {}
                Event::ParamsEnd => params_open = false,
            }
        }
        for c in &mut self.out.calls {
            if let CallRes::Unresolved(why) = c {
                if why.is_empty() {
                    why.push_str("not reached");
                }
            }
        }
        self.out.facts.any_call_in_ambient = self.out.facts.calls.iter().any(|c| c.in_ambient);
        self.out.calls_accept = self
            .out
            .calls
            .iter()
            .any(|c| matches!(c, CallRes::External(p) if self.know.is_accept(p)));
        std::mem::take(&mut self.out)
    }

    fn closure_start(&mut self, id: u32) {
        let c = id as usize;
        let parent = self.owner();
        let def = &self.closures[c];
        let mut cf = ClosureFacts {
            parent_ctx: self.owner_ctx(parent),
            ..ClosureFacts::default()
        };
        if let Some((recv, name)) = &def.recv_hint {
            cf.spawned = self.know.is_spawn_name(name);
            if self.know.is_scope_method(name) {
                cf.scope_of = self.ambient_static(recv).map(|(n, _)| n);
            }
            if self.know.is_thread_local_closure_method(name) {
                self.s.tl_scope[c] = self.thread_local(recv);
            }
        }
        cf.in_ambient = cf.scope_of.is_some() || (!cf.spawned && self.owner_ambient(parent));
        let places = std::mem::take(&mut self.places[c]);
        for p in &places {
            if self.vfacts(p).0 {
                cf.captured.push(p.display());
            }
        }
        self.places[c] = places;
        self.out.facts.closures[c] = cf;
        self.s.closure_stack.push(id);
    }

    fn call_event(&mut self, id: usize, c: &'s CallSite) {
        // The receiver's facts and type come from one walk of it.
        let (recv_facts, recv_known) = match &c.callee {
            Callee::Method { recv, .. } => {
                let (rc, rd, rt) = self.vfacts_ty(recv, true);
                (Some((rc, rd)), rt)
            }
            _ => (None, None),
        };
        let (res, ty, recv_ty) = self.resolve_call(c, recv_known);
        // `Worker { rx, queue }.run()`: the literal's ends are stored in its fields.
        if let Callee::Method { recv, .. } = &c.callee {
            self.link_struct_fields(recv);
        }
        let owner = self.owner();
        let ctx_in_scope = self.owner_ctx(owner);
        let mut cf = CallFacts {
            ctx_in_scope,
            ctx_name: if ctx_in_scope {
                self.carrier_name(owner)
            } else {
                None
            },
            in_ambient: self.owner_ambient(owner),
            ..CallFacts::default()
        };
        let mut deps = vec![Dep::Call(id as u32)];
        if let Some((rc, rd)) = &recv_facts {
            // `port.call(..)` on a `dyn Port` whose every impl holds a carrier passes it too.
            cf.recv_carrier = *rc || self.model.receiver_carries(&recv_ty);
            merge_deps(&mut deps, rd);
        }
        let is_spawn = matches!(&res, CallRes::External(p) if self.know.is_spawn(p));
        cf.arg_deps.reserve_exact(c.args.len());
        for (ai, a) in c.args.iter().enumerate() {
            if let Some(cl) = self.handed_closure(a) {
                if let Some(slot) = self.out.closure_handoff.get_mut(cl as usize) {
                    // A spawn around a wrapper (`spawn(Box::pin(async {…}))`) is the handoff.
                    if is_spawn {
                        *slot = Some((id as u32, ai as u32));
                    } else {
                        slot.get_or_insert((id as u32, ai as u32));
                    }
                }
            }
            let (ac, ad) = self.vfacts(a);
            if ai < 64 {
                if ac {
                    cf.arg_carrier |= 1 << ai;
                }
                if !ac && self.fabricating(a).is_some() {
                    cf.arg_fabricated |= 1 << ai;
                }
            }
            merge_deps(&mut deps, &ad);
            cf.arg_deps.push(ad);
            self.scan_struct_lits(a);
            self.link_struct_fields(a);
        }
        self.link_args(c, &res);
        // Arguments past the last one with dependencies are left out (readers take a missing
        // entry for an empty one): most calls keep no list at all.
        while cf.arg_deps.last().is_some_and(Vec::is_empty) {
            cf.arg_deps.pop();
        }
        if cf.arg_deps.is_empty() {
            cf.arg_deps = Vec::new();
        }
        cf.spawn = is_spawn;
        // The result: a carrier by type, or derived from a carrier (`ctx.child()`).
        let method_name = match &c.callee {
            Callee::Method { name, .. } => Some(&**name),
            _ => None,
        };
        // `ctx.child()`, `thread_id.as_ref()`, `tid.to_string()`: still the context (but not
        // `ctx.elapsed()` or `ctx.is_admin()`).
        let scalar = || {
            matches!(
                ty.ext_name(),
                Some(
                    "bool"
                        | "u8"
                        | "u16"
                        | "u32"
                        | "u64"
                        | "u128"
                        | "usize"
                        | "i8"
                        | "i16"
                        | "i32"
                        | "i64"
                        | "i128"
                        | "isize"
                        | "f32"
                        | "f64"
                        | "Duration"
                        | "Instant"
                        | "SystemTime"
                )
            )
        };
        let derived =
            cf.recv_carrier && method_name.is_some_and(|m| !NON_DERIVING.contains(&m)) && !scalar();
        // Wrapping or converting a carrier keeps it one: `Some(tid)`, `Arc::new(ctx)`,
        // `ThreadId(id)`, `String::from(thread_id)`; a local closure that captured one
        // (`make_msg(text)`) returns what it built with it.
        let wrapped = match &res {
            CallRes::External(_) | CallRes::Constructor => {
                matches!(c.callee, Callee::Path { .. }) && cf.arg_carrier != 0
            }
            CallRes::Closure(cl) => self
                .out
                .facts
                .closures
                .get(*cl as usize)
                .is_some_and(|f| !f.captured.is_empty()),
            _ => false,
        };
        let carrier = (self.model.carries(&ty) && !crate::resolve::context::is_os_thread_id(&ty))
            || derived
            || wrapped;
        // Made up from nothing: a context type's constructor with no carrier argument.
        if matches!(c.callee, Callee::Path { .. })
            && self.model.is_context(&ty)
            && cf.arg_carrier == 0
        {
            let args = if c.args.is_empty() { "" } else { "…" };
            self.fabricated_by(
                c.loc,
                format!("`{}({args})`", c.callee_text()),
                Some(id as u32),
            );
        }
        // A literal or a fresh id passed where a context parameter is expected.
        if cf.arg_fabricated != 0 {
            if let CallRes::Fns { targets, .. } = &res {
                if let Some(&t) = targets.first() {
                    let tdef = self.ix.fns[t].def;
                    let offset = usize::from(
                        matches!(c.callee, Callee::Path { .. }) && tdef.self_param.is_some(),
                    );
                    for (ai, a) in c.args.iter().enumerate() {
                        if ai >= 64 || cf.arg_fabricated & (1 << ai) == 0 || ai < offset {
                            continue;
                        }
                        if let Some(p) = tdef.params.get(ai - offset) {
                            let ctx_param = p
                                .name
                                .as_ref()
                                .is_some_and(|n| self.model.is_context_name(n))
                                || self
                                    .model
                                    .type_names
                                    .iter()
                                    .any(|n| ty_last_name(&p.ty) == Some(&**n));
                            if ctx_param {
                                let what = self.fabricating(a).unwrap_or_default();
                                self.fabricated(
                                    c.loc,
                                    format!(
                                        "{what} passed as `{}`",
                                        p.name.as_deref().unwrap_or("_")
                                    ),
                                );
                            }
                        }
                    }
                }
            }
        }
        if let (Callee::Method { recv, name }, false) = (&c.callee, recv_ty.is_unknown()) {
            self.channel_and_ambient(id, c, recv, name, &recv_ty, &cf, owner);
        } else if let Callee::Method { recv, name } = &c.callee {
            self.channel_and_ambient(id, c, recv, name, &recv_ty, &cf, owner);
        }
        self.out.calls[id] = res;
        self.out.call_owner[id] = self.s.closure_stack.last().copied();
        self.s.call_tys[id] = ty;
        self.s.call_carrier[id] = carrier;
        // A call that uses what an earlier receive got handles the message. Only the first
        // `MAX_HANDLED` receives of a body are followed this way (a body with more sends its
        // messages to the whole receiving node), so the cost stays linear in the body.
        // A handler that keeps the message (`queue.push_back(job)`) stashes it.
        let stashes =
            matches!(&c.callee, Callee::Method { name, .. } if self.know.is_stash_method(name));
        for &i in &self.recv_ops {
            let op = &mut self.out.facts.channels[i];
            if op.handlers.len() < 256
                && op.call as usize != id
                && deps.contains(&Dep::Call(op.call))
            {
                op.handlers.push(id as u32);
                op.stashed |= stashes;
            }
        }
        self.s.call_deps[id] = deps;
        self.out.facts.calls[id] = cf;
    }
}

/// Receives per body whose handlers are traced (see `call_event`).
const MAX_HANDLED: usize = 32;

/// The message type of a channel sender/receiver type (`Sender<Msg>` → `Msg`).
fn recv_ty_arg(t: &RTy) -> Option<RTy> {
    match t {
        RTy::Ext(_, args) => args.first().cloned().filter(|a| !a.is_unknown()),
        _ => None,
    }
}

/// The last path segment of a written type (`&ThreadContext` → `ThreadContext`).
fn ty_last_name(t: &Ty) -> Option<&str> {
    match t.peel() {
        Ty::Path(p) => {
            let last = p.last_name();
            // `Option<ThreadContext>`, `Arc<ThreadContext>`: look inside.
            if matches!(last, "Option" | "Arc" | "Box" | "Rc") {
                p.segs
                    .last()
                    .and_then(|s| s.args.first())
                    .and_then(ty_last_name)
            } else {
                Some(last)
            }
        }
        _ => None,
    }
}

mod channels;
mod collect;
pub mod context;
pub mod facts;
mod lookup;
pub mod types;
