//! Call resolution: for every call site of every function body, what it calls. Receiver types are
//! followed through the body's events (bindings, fields, constructors, return types, wrappers);
//! calls through `dyn Trait`, `impl Trait` and generic `T: Trait` reach every impl in the
//! workspace. A call that stays unresolved keeps its reason.

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
        targets: Vec<FnId>,
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

/// What resolution needs that does not depend on the context model: field types (see
/// [`Index::prepare_field_types`]) and return types. Made while the model is built.
pub struct Prepared {
    /// Return types that do not depend on the receiver (`Self`) or generics, by function.
    rets: Vec<Option<RTy>>,
}

/// Resolve once, in parallel, the field types and the return types every call site looks up.
pub fn prepare(ix: &Index) -> Prepared {
    ix.prepare_field_types();
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
    Prepared { rets }
}

/// Resolve every call, function by function, in parallel; with `facts`, also gather the
/// context facts the rules need (the call graph alone does not).
pub fn resolve_all(
    ix: &Index,
    prepared: &Prepared,
    model: &ContextModel,
    know: &Knowledge,
    facts: bool,
) -> Resolution {
    let rets = &prepared.rets;
    let fns = (0..ix.fns.len())
        .into_par_iter()
        .map_init(Scratch::default, |scratch, f| match &ix.fns[f].def.body {
            Some(body) => {
                let mut w = Walker::new(ix, f, model, know, body);
                w.rets = rets;
                w.facts = facts;
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
    /// Receiver-independent return types, by function.
    rets: &'a [Option<RTy>],
    /// Gather context facts (not needed for the call graph alone).
    facts: bool,
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
    call_tys: Vec<RTy>,
    call_carrier: Vec<bool>,
    call_deps: Vec<Vec<Dep>>,
    closure_stack: Vec<u32>,
    /// Carriers currently bound, per owner.
    carriers: Vec<u32>,
    /// Closures passed to `TL.with(…)` of a thread-local: the thread-local's name.
    tl_scope: Vec<Option<Name>>,
}

impl Scratch {
    /// Empties every list, keeping its room (and the scope lists, for reuse).
    fn clear(&mut self) {
        for mut l in self.scopes.drain(..) {
            l.clear();
            self.free_scopes.push(l);
        }
        self.dead.clear();
        self.call_tys.clear();
        self.call_carrier.clear();
        self.call_deps.clear();
        self.closure_stack.clear();
        self.carriers.clear();
        self.tl_scope.clear();
    }
}

enum Lookup {
    Fns(Vec<FnId>, bool),
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
                Some(RTy::Dyn(vec![t]))
            }
        };
        Walker {
            ix,
            rets: &[],
            facts: true,
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
        let mut locals = self.s.scopes.iter().rev().flat_map(|s| s.iter().rev());
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
        if self.facts {
            self.places = closure_places(body);
        }
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
                            if l.strong {
                                self.s.carriers[l.owner] =
                                    self.s.carriers[l.owner].saturating_sub(1);
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
                    if !self.facts {
                        let t = declared.unwrap_or_else(|| self.eval(value));
                        if let Some(s) = self.s.scopes.last_mut() {
                            s.push(Local {
                                name: name.clone(),
                                ty: t,
                                carrier: false,
                                strong: false,
                                deps: Vec::new(),
                                owner,
                                all_conns: false,
                                holder: Holder::Unknown,
                            });
                        }
                        continue;
                    }
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
                    if params_open && owner == 0 && self.s.scopes.len() == 1 {
                        if let Some(i) = self
                            .def
                            .params
                            .iter()
                            .position(|p| p.name.as_ref() == Some(name))
                        {
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
                    if let Some(s) = self.s.scopes.last_mut() {
                        s.push(Local {
                            name: name.clone(),
                            ty: t,
                            carrier,
                            strong,
                            deps,
                            owner,
                            all_conns,
                            holder,
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
                Event::Assign(_) | Event::Return(_) if !self.facts => params_open = false,
                Event::Assign(a) => {
                    params_open = false;
                    self.scan_struct_lits(&a.value);
                    let (vc, _) = self.vfacts(&a.value);
                    if vc {
                        self.check_shared_write(&a.place, &a.value, a.loc);
                    }
                }
                Event::Return(v) => {
                    self.scan_struct_lits(v);
                    if self.s.closure_stack.is_empty() {
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
        if !self.facts {
            self.s.closure_stack.push(id);
            return;
        }
        let c = id as usize;
        let parent = self.owner();
        let def = &self.closures[c];
        let mut cf = ClosureFacts {
            parent_ctx: self.owner_ctx(parent),
            ..ClosureFacts::default()
        };
        if let Some((recv, name)) = &def.recv_hint {
            cf.spawned = self.know.is_spawn_name(name);
            if self.know.scope_methods.iter().any(|m| m == &**name) {
                cf.scope_of = self.ambient_static(recv).map(|(n, _)| n);
            }
            if matches!(&**name, "with" | "with_borrow_mut" | "with_borrow") {
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
        // With facts, the receiver's facts and type come from one walk of it.
        let (recv_facts, recv_known) = match &c.callee {
            Callee::Method { recv, .. } if self.facts => {
                let (rc, rd, rt) = self.vfacts_ty(recv, true);
                (Some((rc, rd)), rt)
            }
            _ => (None, None),
        };
        let (res, ty, recv_ty) = self.resolve_call(c, recv_known);
        if !self.facts {
            for (ai, a) in c.args.iter().enumerate() {
                if let Some(cl) = self.closure_value(a) {
                    if let Some(slot) = self.out.closure_handoff.get_mut(cl as usize) {
                        slot.get_or_insert((id as u32, ai as u32));
                    }
                }
            }
            self.out.calls[id] = res;
            self.out.call_owner[id] = self.s.closure_stack.last().copied();
            self.s.call_tys[id] = ty;
            return;
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
            cf.recv_carrier = *rc;
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
        }
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
        self.s.call_deps[id] = deps;
        self.out.facts.calls[id] = cf;
    }

    #[allow(clippy::too_many_arguments)]
    fn channel_and_ambient(
        &mut self,
        id: usize,
        c: &'s CallSite,
        recv: &VExpr,
        name: &Name,
        recv_ty: &RTy,
        cf: &CallFacts,
        owner: usize,
    ) {
        let know = self.know;
        let last = recv_ty.ext_name().unwrap_or("");
        let path = match recv_ty {
            RTy::Ext(p, _) => &**p,
            _ => "",
        };
        let msg_key = |w: &Self, t: &RTy| match t {
            RTy::Unknown => None,
            t => Some(w.ix.ty_name(t)),
        };
        if know.send_methods.iter().any(|m| m == &**name) && know.senders.iter().any(|s| s == last)
        {
            let mut key = recv_ty_arg(recv_ty).and_then(|t| msg_key(self, &t));
            let arg_ty = c.args.first().map(|a| self.eval(a)).unwrap_or(RTy::Unknown);
            if key.is_none() {
                key = msg_key(self, &arg_ty);
            }
            let msg_carrier = cf.arg_carrier & 1 != 0 || self.model.carries(&arg_ty);
            let global = match self.holder_of(recv) {
                Holder::Fresh => false,
                Holder::Adt(d) => self.model.app_state_adts.contains(&d),
                Holder::Param | Holder::Unknown => true,
            };
            self.out.facts.channels.push(ChannelOp {
                call: id as u32,
                dir: ChannelDir::Send,
                key,
                global,
                broadcast: crate::config::knowledge::path_ends_with_any(path, &know.broadcast),
                msg_carrier,
                msg_deps: cf.arg_deps.first().cloned().unwrap_or_default(),
            });
        } else if know.recv_methods.iter().any(|m| m == &**name)
            && know.receivers.iter().any(|s| s == last)
        {
            let key = recv_ty_arg(recv_ty).and_then(|t| msg_key(self, &t));
            self.out.facts.channels.push(ChannelOp {
                call: id as u32,
                dir: ChannelDir::Recv,
                key,
                global: false,
                broadcast: false,
                msg_carrier: false,
                msg_deps: Vec::new(),
            });
        }
        // Sending to every connection: `for conn in state.conns.values() { conn.send(…) }`.
        if matches!(
            &**name,
            "send"
                | "send_text"
                | "send_message"
                | "send_json"
                | "try_send"
                | "unbounded_send"
                | "feed"
                | "do_send"
        ) && crate::resolve::facts::root_name(recv)
            .and_then(|r| self.local(r))
            .is_some_and(|l| l.all_conns)
        {
            self.out.facts.sends_to_all.push(SendToAll {
                call: id as u32,
                deps: cf.arg_deps.first().cloned().unwrap_or_default(),
            });
        }
        // Ambient context: reads, scopes, thread-local writes.
        if let Some((key, _)) = self.ambient_static(recv) {
            // `KEY.scope(v, fut(…))`: the call that makes the future runs inside the scope.
            if know.scope_methods.iter().any(|m| m == &**name) {
                for a in &c.args {
                    if let VExpr::Call(j) = a {
                        if let Some(f) = self.out.facts.calls.get_mut(*j as usize) {
                            f.in_ambient = true;
                        }
                    }
                }
            }
            if know.ambient_read_methods.iter().any(|m| m == &**name) {
                let o = self.s.closure_stack.last().copied();
                self.out.facts.ambient_reads.push((o, key.clone()));
            }
            if know.ambient_write_methods.iter().any(|m| m == &**name) && cf.arg_carrier != 0 {
                self.set_owner_ambient(owner);
            }
        }
        if let Some(tl) = self.thread_local(recv) {
            if matches!(&**name, "set" | "replace") && cf.arg_carrier != 0 && self.in_async() {
                let value = c.args.first().map(|a| a.display()).unwrap_or_default();
                self.shared_write(c.loc, format!("thread-local `{tl}`"), value);
            }
        }
        // Writes into a single shared slot through a method (`slot.set(ctx)`, `id.store(thread_id, …)`).
        if matches!(
            &**name,
            "set"
                | "replace"
                | "store"
                | "swap"
                | "insert"
                | "get_or_insert"
                | "get_or_insert_with"
        ) && cf.arg_carrier & 1 != 0
        {
            if let Some(slot) = self.shared_slot_of(recv) {
                let value = c.args.first().map(|a| a.display()).unwrap_or_default();
                self.shared_write(c.loc, slot, value);
            }
        }
    }

    fn fabricated(&mut self, loc: Loc, what: String) {
        self.fabricated_by(loc, what, None);
    }

    fn fabricated_by(&mut self, loc: Loc, what: String, call: Option<u32>) {
        let owner = self.s.closure_stack.last().copied();
        self.out.facts.fabricated.push(Fabricated {
            owner,
            call,
            loc,
            what,
        });
    }

    fn shared_write(&mut self, loc: Loc, slot: String, value: String) {
        let owner = self.s.closure_stack.last().copied();
        self.out.facts.shared_writes.push(SharedWrite {
            owner,
            loc,
            slot,
            value,
        });
    }

    /// `x = v` / `*x.lock() = v` with a carrier `v`: is `x` a single slot shared by connections?
    fn check_shared_write(&mut self, place: &VExpr, value: &VExpr, loc: Loc) {
        if let Some(slot) = self.shared_slot_place(place) {
            let v = self.value_text(value);
            self.shared_write(loc, slot, v);
            return;
        }
        // Inside `TL.with(|c| *c.borrow_mut() = v)` in async code.
        if let Some(tl) = self
            .s
            .closure_stack
            .iter()
            .rev()
            .find_map(|&c| self.s.tl_scope[c as usize].clone())
        {
            if self.in_async() {
                let v = self.value_text(value);
                self.shared_write(loc, format!("thread-local `{tl}`"), v);
            }
        }
    }

    fn shared_slot_place(&self, place: &VExpr) -> Option<String> {
        match place {
            VExpr::Call(k) => {
                let call = self.body.calls.get(*k as usize)?;
                match &call.callee {
                    Callee::Method { recv, name } if GUARD_METHODS.contains(&&**name) => match recv
                    {
                        VExpr::Call(_) => self.shared_slot_place(recv),
                        _ => self.shared_slot_of(recv),
                    },
                    _ => None,
                }
            }
            VExpr::Local(_) | VExpr::Path(_) => self.static_slot(place),
            _ => None,
        }
    }

    /// A lock/cell/atomic holding one context, in shared state or a static.
    fn shared_slot_of(&self, recv: &VExpr) -> Option<String> {
        if let VExpr::Call(_) = recv {
            return self.shared_slot_place(recv);
        }
        let t = self.eval(recv);
        if !self.model.is_single_slot(&t) {
            return None;
        }
        match recv {
            VExpr::Field(base, f) => {
                let bt = self.eval(base);
                let shared = self.is_shared(&bt) || self.static_slot(base).is_some();
                shared.then(|| format!("`{}.{f}`", base.display()))
            }
            VExpr::Local(_) | VExpr::Path(_) => self.static_slot(recv),
            _ => None,
        }
    }

    fn is_shared(&self, t: &RTy) -> bool {
        let mut cur = t.clone();
        for _ in 0..6 {
            match &cur {
                RTy::Adt(d, _) => return self.model.shared_adts.contains(d),
                RTy::Ext(_, args) if cur.ext_name().is_some_and(is_deref_wrapper) => {
                    cur = args.first().cloned().unwrap_or(RTy::Unknown)
                }
                _ => return false,
            }
        }
        false
    }

    /// A `static` (not a local) named by this place.
    fn static_slot(&self, v: &VExpr) -> Option<String> {
        let d = self.static_def(v)?;
        match self.ix.defs[d].kind {
            DefKind::Static(s) if s.kind == StaticKind::Static => {
                Some(format!("static `{}`", s.name))
            }
            _ => None,
        }
    }

    fn static_def(&self, v: &VExpr) -> Option<DefId> {
        let path = match v {
            VExpr::Local(n) => {
                if self.local(n).is_some() {
                    return None;
                }
                Path::single(n)
            }
            VExpr::Path(p) => (**p).clone(),
            _ => return None,
        };
        match self.ix.resolve_path(self.module, &path, Ns::Values) {
            PathRes::Res(Res::Def(d)) if matches!(self.ix.defs[d].kind, DefKind::Static(_)) => {
                Some(d)
            }
            _ => None,
        }
    }

    /// A task-/thread-local holding context: its name.
    fn ambient_static(&self, v: &VExpr) -> Option<(Name, DefId)> {
        let d = self.static_def(v)?;
        self.model
            .ambient_statics
            .contains(&d)
            .then(|| (self.ix.defs[d].name.clone(), d))
    }

    fn thread_local(&self, v: &VExpr) -> Option<Name> {
        let d = self.static_def(v)?;
        match self.ix.defs[d].kind {
            DefKind::Static(s) if s.kind == StaticKind::ThreadLocal => Some(s.name.clone()),
            _ => None,
        }
    }

    /// Is this value made up on the spot (a literal, a fresh id, a default)? What it is, if so.
    fn fabricating(&self, v: &VExpr) -> Option<String> {
        match v {
            VExpr::Lit => Some("a literal".into()),
            VExpr::Call(k) => {
                let call = self.body.calls.get(*k as usize)?;
                let Callee::Path { path, .. } = &call.callee else {
                    return None;
                };
                let text = path.display();
                let last = path.last_name();
                let fresh = matches!(last, "new_v4" | "now_v7" | "new_v7" | "random" | "default")
                    || text.ends_with("String::new")
                    || text.ends_with("Uuid::new");
                fresh.then(|| format!("`{text}()`"))
            }
            _ => None,
        }
    }

    /// A short text for a value, for messages (`Some(ctx.clone())`).
    fn value_text(&self, v: &VExpr) -> String {
        match v {
            VExpr::Call(k) => match self.body.calls.get(*k as usize) {
                Some(c) => {
                    let args: Vec<String> = c.args.iter().map(|a| self.value_text(a)).collect();
                    format!("{}({})", c.callee_text(), args.join(", "))
                }
                None => v.display(),
            },
            _ => v.display(),
        }
    }

    fn value_loc(&self, v: &VExpr) -> Option<Loc> {
        match v {
            VExpr::Call(k) => self.body.calls.get(*k as usize).map(|c| c.loc),
            VExpr::Struct(s) => Some(s.loc),
            _ => None,
        }
    }

    /// Struct literals of context or carrier types whose context fields are made up.
    fn scan_struct_lits(&mut self, v: &VExpr) {
        match v {
            VExpr::Struct(lit) => {
                for (_, f) in &lit.fields {
                    self.scan_struct_lits(f);
                }
                let t = self.eval(v);
                let RTy::Adt(d, _) = t else { return };
                let is_ctx = self.model.context_adts.contains(&d);
                if !is_ctx && !self.model.carrier_adts.contains(&d) {
                    return;
                }
                if lit.rest.as_ref().is_some_and(|r| self.vfacts(r).0) {
                    return;
                }
                let DefKind::Adt(a) = self.ix.defs[d].kind else {
                    return;
                };
                for (fname, fv) in &lit.fields {
                    let Some(fd) = a.fields.iter().find(|f| &f.name == fname) else {
                        continue;
                    };
                    let ctx_field = self.model.is_context_name(fname)
                        || self
                            .model
                            .type_names
                            .iter()
                            .any(|n| ty_last_name(&fd.ty) == Some(&**n));
                    if !ctx_field || self.vfacts(fv).0 {
                        continue;
                    }
                    // In a context type itself, any non-carrier value for a context field is made up;
                    // in a message, only literals and fresh ids are.
                    let made_up = self
                        .fabricating(fv)
                        .or_else(|| is_ctx.then(|| format!("`{}`", self.value_text(fv))));
                    if let Some(what) = made_up {
                        self.fabricated(
                            lit.loc,
                            format!(
                                "`{} {{ {fname}: {}, … }}`",
                                lit.path.display(),
                                what.trim_matches('`')
                            ),
                        );
                        return;
                    }
                }
            }
            VExpr::Tuple(vs) => {
                for x in vs {
                    self.scan_struct_lits(x);
                }
            }
            _ => {}
        }
    }

    /// Who holds a value: `self.events` is held by `Self`'s type, `agent.stream_sender()` by the
    /// agent's, `broadcast::channel(16).0` by nobody else (fresh).
    fn holder_of(&self, v: &VExpr) -> Holder {
        let adt = |t: RTy| -> Option<DefId> {
            let mut cur = t;
            for _ in 0..6 {
                match cur {
                    RTy::Adt(d, _) => return Some(d),
                    RTy::Ext(_, ref args) if cur.ext_name().is_some_and(is_deref_wrapper) => {
                        cur = args.first().cloned().unwrap_or(RTy::Unknown)
                    }
                    _ => return None,
                }
            }
            None
        };
        match v {
            VExpr::Local(n) => match self.local(n) {
                Some(l) => l.holder,
                None => Holder::Unknown,
            },
            VExpr::Field(base, _) => match adt(self.eval(base)) {
                Some(d) => Holder::Adt(d),
                None => self.holder_of(base),
            },
            VExpr::TupleField(b, _) | VExpr::Unwrap(b) => self.holder_of(b),
            VExpr::Call(k) => {
                let Some(call) = self.body.calls.get(*k as usize) else {
                    return Holder::Unknown;
                };
                match (&call.callee, &self.out.calls[*k as usize]) {
                    (Callee::Method { recv, .. }, CallRes::Fns { .. }) => {
                        match adt(self.eval(recv)) {
                            Some(d) => Holder::Adt(d),
                            None => self.holder_of(recv),
                        }
                    }
                    (Callee::Method { recv, .. }, _) => self.holder_of(recv),
                    (Callee::Path { path, .. }, _) => {
                        if matches!(
                            path.last_name(),
                            "channel" | "unbounded_channel" | "bounded" | "unbounded"
                        ) {
                            Holder::Fresh
                        } else {
                            Holder::Unknown
                        }
                    }
                    _ => Holder::Unknown,
                }
            }
            _ => Holder::Unknown,
        }
    }

    /// `conn` in `for conn in state.connections.values()`: one of all the connections.
    fn is_from_shared_collection(&self, v: &VExpr) -> bool {
        let inner = match v {
            VExpr::Elem(b) => &**b,
            VExpr::TupleField(b, _) => return self.is_from_shared_collection(b),
            _ => return false,
        };
        let mut cur = inner;
        for _ in 0..6 {
            match cur {
                VExpr::Call(k) => match self.body.calls.get(*k as usize).map(|c| &c.callee) {
                    Some(Callee::Method { recv, .. }) => cur = recv,
                    _ => return false,
                },
                VExpr::Field(base, _) => {
                    let bt = self.eval(base);
                    return self.is_shared(&bt) || self.static_slot(base).is_some();
                }
                VExpr::Local(_) | VExpr::Path(_) => return self.static_slot(cur).is_some(),
                _ => return false,
            }
        }
        false
    }

    /// Does this value carry context, and where does it come from?
    fn vfacts(&self, v: &VExpr) -> (bool, Vec<Dep>) {
        let (carrier, deps, _) = self.vfacts_ty(v, false);
        (carrier, deps)
    }

    /// [`Self::vfacts`], and `eval(v)` when `want_ty` (or when it came for free). A chain
    /// (`self.state.conns.lock()?`) is evaluated once, not once per link.
    fn vfacts_ty(&self, v: &VExpr, want_ty: bool) -> (bool, Vec<Dep>, Option<RTy>) {
        match v {
            VExpr::Local(n) => match self.local(n) {
                Some(l) => (l.carrier, l.deps.clone(), want_ty.then(|| l.ty.clone())),
                None => {
                    let t = self.eval(v);
                    (self.model.carries(&t), Vec::new(), Some(t))
                }
            },
            VExpr::Path(_) | VExpr::Typed(_) | VExpr::ClosureArg(..) => {
                let t = self.eval(v);
                (self.model.carries(&t), Vec::new(), Some(t))
            }
            VExpr::Field(b, n) => {
                if n.starts_with('<') {
                    return self.vfacts_ty(b, want_ty);
                }
                let (_, deps, base) = self.vfacts_ty(b, true);
                let base = base.unwrap_or(RTy::Unknown);
                // As `eval`: `x.<Ctor>.field` is a field of that variant.
                let ctor = match &**b {
                    VExpr::Field(_, c) => c.strip_prefix('<').and_then(|c| c.strip_suffix('>')),
                    _ => None,
                };
                let t = self.ix.field_ty(&base, n, ctor);
                let named =
                    self.model.is_context_name(n) && !crate::resolve::context::is_os_thread_id(&t);
                (named || self.model.carries(&t), deps, Some(t))
            }
            VExpr::TupleField(b, i) => {
                let (_, deps, base) = self.vfacts_ty(b, true);
                let t = self
                    .ix
                    .field_ty(&base.unwrap_or(RTy::Unknown), &i.to_string(), None);
                (self.model.carries(&t), deps, Some(t))
            }
            VExpr::Index(b) => {
                let (_, deps, base) = self.vfacts_ty(b, true);
                let t = index_ty(&base.unwrap_or(RTy::Unknown));
                (self.model.carries(&t), deps, Some(t))
            }
            VExpr::Unwrap(b) | VExpr::Elem(b) => {
                let (c, deps, base) = self.vfacts_ty(b, true);
                let base = base.unwrap_or(RTy::Unknown);
                let t = match v {
                    VExpr::Unwrap(_) => unwrap_ty(&base),
                    _ => elem_ty(&base),
                };
                (c || self.model.carries(&t), deps, Some(t))
            }
            VExpr::Call(id) => {
                let i = *id as usize;
                (
                    self.s.call_carrier.get(i).copied().unwrap_or(false),
                    self.s.call_deps.get(i).cloned().unwrap_or_default(),
                    want_ty.then(|| self.eval(v)),
                )
            }
            VExpr::Closure(c) => (
                self.out
                    .facts
                    .closures
                    .get(*c as usize)
                    .is_some_and(|f| !f.captured.is_empty()),
                Vec::new(),
                Some(RTy::Closure(*c)),
            ),
            VExpr::Struct(lit) => {
                let mut carrier = false;
                let mut deps = Vec::new();
                for (_, f) in &lit.fields {
                    let (c, d) = self.vfacts(f);
                    carrier |= c;
                    merge_deps(&mut deps, &d);
                }
                if let Some(r) = &lit.rest {
                    let (c, d) = self.vfacts(r);
                    carrier |= c;
                    merge_deps(&mut deps, &d);
                }
                (carrier, deps, want_ty.then(|| self.eval(v)))
            }
            VExpr::Tuple(vs) => {
                let mut carrier = false;
                let mut deps = Vec::new();
                for x in vs {
                    let (c, d) = self.vfacts(x);
                    carrier |= c;
                    merge_deps(&mut deps, &d);
                }
                (carrier, deps, want_ty.then(|| self.eval(v)))
            }
            VExpr::Lit | VExpr::Macro(_) | VExpr::Unknown => {
                (false, Vec::new(), Some(RTy::Unknown))
            }
        }
    }

    fn resolve_ty(&self, t: &Ty) -> RTy {
        let cx = TyCx {
            module: self.module,
            self_ty: self.self_ty.as_ref(),
            generics: &self.generics,
            subst: &[],
        };
        self.ix.resolve_ty(t, &cx)
    }

    fn local(&self, name: &str) -> Option<&Local> {
        self.s
            .scopes
            .iter()
            .rev()
            .flat_map(|s| s.iter().rev())
            .find(|l| &*l.name == name)
            .or_else(|| self.s.dead.iter().rev().find(|l| &*l.name == name))
    }

    fn eval(&self, v: &VExpr) -> RTy {
        match v {
            VExpr::Local(n) => {
                if let Some(l) = self.local(n) {
                    return l.ty.clone();
                }
                if &**n == "Self" {
                    return self.self_ty.clone().unwrap_or(RTy::Unknown);
                }
                self.eval_names(false, &[n])
            }
            VExpr::Path(p) => p.with_names(|names| self.eval_names(p.global, names)),
            VExpr::Field(b, n) => {
                if n.starts_with('<') {
                    return self.eval(b);
                }
                if let VExpr::Field(inner, ctor) = &**b {
                    if let Some(c) = ctor.strip_prefix('<').and_then(|c| c.strip_suffix('>')) {
                        let base = self.eval(inner);
                        return self.ix.field_ty(&base, n, Some(c));
                    }
                }
                let base = self.eval(b);
                self.ix.field_ty(&base, n, None)
            }
            VExpr::TupleField(b, i) => {
                let base = self.eval(b);
                self.ix.field_ty(&base, &i.to_string(), None)
            }
            VExpr::Index(b) => index_ty(&self.eval(b)),
            VExpr::Call(id) => self
                .s
                .call_tys
                .get(*id as usize)
                .cloned()
                .unwrap_or(RTy::Unknown),
            VExpr::Closure(id) => RTy::Closure(*id),
            VExpr::Unwrap(b) => unwrap_ty(&self.eval(b)),
            VExpr::Elem(b) => elem_ty(&self.eval(b)),
            VExpr::Struct(lit) => {
                let path = &lit.path;
                if path.is_single() && path.last_name() == "Self" {
                    return self.self_ty.clone().unwrap_or(RTy::Unknown);
                }
                match self.ix.resolve_path(self.module, path, Ns::Types) {
                    PathRes::Res(Res::Def(d)) => match self.ix.defs[d].kind {
                        DefKind::Adt(_) => RTy::Adt(d, Vec::new()),
                        DefKind::Alias(_) => self
                            .ix
                            .adt_of_path(self.module, path)
                            .map(|d| RTy::Adt(d, Vec::new()))
                            .unwrap_or(RTy::Unknown),
                        _ => RTy::Unknown,
                    },
                    PathRes::Res(Res::Variant(d, _)) => RTy::Adt(d, Vec::new()),
                    _ => match self.ix.resolve_path(self.module, path, Ns::Values) {
                        PathRes::Res(Res::Variant(d, _)) => RTy::Adt(d, Vec::new()),
                        _ => RTy::Unknown,
                    },
                }
            }
            VExpr::Tuple(vs) => RTy::Tuple(vs.iter().map(|v| self.eval(v)).collect()),
            VExpr::Typed(t) => self.resolve_ty(t),
            VExpr::ClosureArg(c, i) => self.closure_arg_ty(*c, *i),
            VExpr::Lit | VExpr::Macro(_) | VExpr::Unknown => RTy::Unknown,
        }
    }

    fn eval_names(&self, global: bool, names: &[&str]) -> RTy {
        match self
            .ix
            .resolve_names(self.module, global, names, Ns::Values)
        {
            PathRes::Res(Res::Fn(f)) => RTy::FnItem(f),
            PathRes::Res(Res::Def(d)) => match self.ix.defs[d].kind {
                DefKind::Adt(_) => RTy::Adt(d, Vec::new()),
                DefKind::Static(s) => {
                    let cx = TyCx {
                        module: self.ix.defs[d].module,
                        self_ty: None,
                        generics: &[],
                        subst: &[],
                    };
                    self.ix.resolve_ty(&s.ty, &cx)
                }
                _ => RTy::Unknown,
            },
            PathRes::Res(Res::Variant(d, _)) => RTy::Adt(d, Vec::new()),
            _ => RTy::Unknown,
        }
    }

    /// The type of an untyped closure parameter, from the method the closure is handed to:
    /// `items.iter().map(|t| …)` gives `t` the element type, `opt.map(|x| …)` the payload.
    fn closure_arg_ty(&self, c: u32, i: u32) -> RTy {
        let Some((recv, method)) = self
            .closures
            .get(c as usize)
            .and_then(|d| d.recv_hint.as_ref())
        else {
            return RTy::Unknown;
        };
        let takes_elem = matches!(
            (&**method, i),
            (
                "map"
                    | "filter"
                    | "for_each"
                    | "any"
                    | "all"
                    | "find"
                    | "filter_map"
                    | "flat_map"
                    | "inspect"
                    | "position"
                    | "take_while"
                    | "skip_while"
                    | "map_while"
                    | "find_map"
                    | "max_by_key"
                    | "min_by_key"
                    | "partition"
                    | "try_for_each"
                    | "retain"
                    | "sort_by_key"
                    | "and_then"
                    | "is_some_and"
                    | "is_ok_and"
                    | "map_or"
                    | "map_or_else"
                    | "par_iter_map"
                    | "for_each_concurrent"
                    | "then",
                0,
            ) | ("fold" | "try_fold", 1)
        );
        if !takes_elem {
            return RTy::Unknown;
        }
        let rt = self.eval(recv);
        match rt.ext_name() {
            Some("Option" | "Result") => unwrap_ty(&rt),
            _ => elem_ty(&rt),
        }
    }

    // ------------------------------------------------------------------------------------------
    // Method lookup

    /// Methods named `name` callable on a value of workspace type `d`: inherent first, then
    /// trait impls (and the trait's default body where the impl does not override it).
    fn adt_methods(&self, d: DefId, name: &str) -> Vec<FnId> {
        let ix = self.ix;
        if let Some(impls) = ix.inherent_impls.get(&d) {
            for &i in impls {
                if let Some(&m) = ix.impls[i]
                    .methods
                    .iter()
                    .find(|&&m| &*ix.fns[m].def.name == name)
                {
                    return vec![m];
                }
            }
        }
        let mut out = Vec::new();
        if let Some(impls) = ix.trait_impls_of_type.get(&d) {
            for &i in impls {
                if let Some(&m) = ix.impls[i]
                    .methods
                    .iter()
                    .find(|&&m| &*ix.fns[m].def.name == name)
                {
                    out.push(m);
                } else if let Some(t) = ix.impls[i].trait_def {
                    for tt in ix.trait_closure(t) {
                        if let Some(decl) = self.trait_decl(tt, name) {
                            if ix.fns[decl].def.body.is_some() && !out.contains(&decl) {
                                out.push(decl);
                            }
                        }
                    }
                }
            }
        }
        out
    }

    fn trait_decl(&self, t: DefId, name: &str) -> Option<FnId> {
        self.ix
            .trait_methods
            .get(&t)?
            .iter()
            .copied()
            .find(|&m| &*self.ix.fns[m].def.name == name)
    }

    /// Every implementation of trait method `name` (searched in `t` and its supertraits).
    fn trait_dispatch(&self, t: DefId, name: &str) -> Option<Vec<FnId>> {
        let ix = self.ix;
        for tt in ix.trait_closure(t) {
            let Some(decl) = self.trait_decl(tt, name) else {
                continue;
            };
            let mut out = Vec::new();
            let mut default_used = false;
            for &i in ix.impls_of_trait.get(&tt).map(|v| &v[..]).unwrap_or(&[]) {
                match ix.impls[i]
                    .methods
                    .iter()
                    .find(|&&m| &*ix.fns[m].def.name == name)
                {
                    Some(&m) => out.push(m),
                    None => default_used = true,
                }
            }
            if (default_used && ix.fns[decl].def.body.is_some()) || out.is_empty() {
                out.insert(0, decl);
            }
            return Some(out);
        }
        None
    }

    /// The impl of workspace trait `t` for workspace type `d`, method `name`.
    fn impl_method(&self, t: DefId, d: DefId, name: &str) -> Option<FnId> {
        let ix = self.ix;
        for &i in ix.impls_of_trait.get(&t).map(|v| &v[..]).unwrap_or(&[]) {
            if ix.impls[i].self_adt == Some(d) {
                return match ix.impls[i]
                    .methods
                    .iter()
                    .find(|&&m| &*ix.fns[m].def.name == name)
                {
                    Some(&m) => Some(m),
                    None => self
                        .trait_decl(t, name)
                        .filter(|&m| ix.fns[m].def.body.is_some()),
                };
            }
        }
        None
    }

    /// A method that `#[derive]` provides on this type (`Memory::default()`).
    fn derived(&self, d: DefId, method: &str) -> bool {
        let DefKind::Adt(a) = self.ix.defs[d].kind else {
            return false;
        };
        let tr = match method {
            "default" => "Default",
            "clone" | "clone_from" => "Clone",
            "fmt" => "Debug",
            "eq" | "ne" => "PartialEq",
            "cmp" | "max" | "min" | "clamp" => "Ord",
            "partial_cmp" | "lt" | "le" | "gt" | "ge" => "PartialOrd",
            "hash" => "Hash",
            "serialize" => "Serialize",
            "deserialize" => "Deserialize",
            _ => return false,
        };
        a.derives.iter().any(|n| n == tr)
    }

    fn no_workspace_method(&self, name: &str) -> bool {
        !self.ix.methods_by_name.contains_key(name)
    }

    fn lookup_method(&self, recv: &RTy, name: &str, depth: u32) -> Lookup {
        if depth > 8 {
            return Lookup::NotFound("receiver type too deeply wrapped".into());
        }
        match recv {
            RTy::Adt(d, _) => {
                let fns = self.adt_methods(*d, name);
                if !fns.is_empty() {
                    return Lookup::Fns(fns, false);
                }
                if let Some(t) = known_method(recv, name) {
                    return Lookup::Known(t);
                }
                let tn = &self.ix.defs[*d].name;
                if self.no_workspace_method(name) || self.derived(*d, name) {
                    Lookup::External(smol_str::format_smolstr!("<{tn} as _>::{name}"))
                } else {
                    Lookup::NotFound(format!(
                        "no method `{name}` found on `{tn}` in the workspace"
                    ))
                }
            }
            RTy::Ext(p, args) => {
                if let Some(t) = known_method(recv, name) {
                    return Lookup::Known(t);
                }
                let n = recv.ext_name().unwrap_or("");
                if is_deref_wrapper(n) {
                    if let Some(inner) = args.first() {
                        match self.lookup_method(inner, name, depth + 1) {
                            Lookup::NotFound(_) | Lookup::External(_) => {}
                            found => return found,
                        }
                    }
                }
                Lookup::External(smol_str::format_smolstr!("{p}::{name}"))
            }
            RTy::Dyn(ts) => {
                let mut all = Vec::new();
                for &t in ts {
                    if let Some(fns) = self.trait_dispatch(t, name) {
                        for f in fns {
                            if !all.contains(&f) {
                                all.push(f);
                            }
                        }
                    }
                }
                if !all.is_empty() {
                    return Lookup::Fns(all, true);
                }
                if let Some(t) = known_method(recv, name) {
                    return Lookup::Known(t);
                }
                Lookup::External(smol_str::format_smolstr!(
                    "<{} as _>::{name}",
                    self.ix.ty_name(recv)
                ))
            }
            RTy::Tuple(_) | RTy::Iter(_) | RTy::Closure(_) | RTy::FnItem(_) => {
                match known_method(recv, name) {
                    Some(t) => Lookup::Known(t),
                    None => Lookup::External(smol_str::format_smolstr!("_::{name}")),
                }
            }
            RTy::Unknown => {
                if self.no_workspace_method(name) {
                    if is_iter_producer(name) {
                        // `xs.iter().map(…).collect()`: whatever `xs` is, this is an iterator.
                        return Lookup::Known(RTy::Iter(Box::new(RTy::Unknown)));
                    }
                    Lookup::External(smol_str::format_smolstr!("_::{name}"))
                } else {
                    let n = self.ix.methods_by_name.get(name).map_or(0, Vec::len);
                    Lookup::NotFound(format!(
                        "cannot infer the receiver's type; {n} workspace method{} named `{name}`",
                        if n == 1 { " is" } else { "s are" }
                    ))
                }
            }
        }
    }

    /// The return type of a call to `f`, with `Self` = `self_ty`.
    fn ret_ty(&self, f: FnId, self_ty: Option<&RTy>) -> RTy {
        if let Some(Some(t)) = self.rets.get(f) {
            return t.clone();
        }
        let info = &self.ix.fns[f];
        let Some(ret) = &info.def.ret else {
            return RTy::Unknown;
        };
        let owner_generics: &[Generic] = match info.owner {
            Owner::Impl(i) => &self.ix.impls[i].def.generics,
            Owner::Trait(t) => match self.ix.defs[t].kind {
                DefKind::Trait(td) => &td.generics,
                _ => &[],
            },
            Owner::Free => &[],
        };
        let own_self;
        let self_ty = match (self_ty, info.owner) {
            (Some(t), _) if !matches!(t, RTy::Dyn(_) | RTy::Unknown) => Some(t),
            (_, Owner::Impl(i)) => {
                let gens = [owner_generics];
                let cx = TyCx {
                    module: self.ix.impls[i].module,
                    self_ty: None,
                    generics: &gens,
                    subst: &[],
                };
                own_self = self.ix.resolve_ty(&self.ix.impls[i].def.self_ty, &cx);
                Some(&own_self)
            }
            (t, _) => t,
        };
        let gens = [&info.def.generics[..], owner_generics];
        let cx = TyCx {
            module: info.module,
            self_ty,
            generics: &gens,
            subst: &[],
        };
        self.ix.resolve_ty(ret, &cx)
    }

    fn fns_result(
        &self,
        mut fns: Vec<FnId>,
        dispatch: bool,
        self_ty: Option<&RTy>,
    ) -> (CallRes, RTy) {
        // Kept for the whole run: without the spare room of a list built by pushing.
        fns.shrink_to_fit();
        let ty = fns
            .first()
            .map(|&f| self.ret_ty(f, self_ty))
            .unwrap_or(RTy::Unknown);
        (
            CallRes::Fns {
                targets: fns,
                dispatch,
            },
            ty,
        )
    }

    /// What a call calls, the type of its result, and (for a method call) its receiver's type.
    /// `recv_ty`: the receiver's type, when the caller has it already.
    fn resolve_call(&self, c: &CallSite, recv_ty: Option<RTy>) -> (CallRes, RTy, RTy) {
        let (res, ty) = match &c.callee {
            Callee::Method { recv, name } => {
                let rt = recv_ty.unwrap_or_else(|| self.eval(recv));
                let (res, ty) = match self.lookup_method(&rt, name, 0) {
                    Lookup::Fns(fns, dispatch) => {
                        let st = self.concrete_self(&rt);
                        self.fns_result(fns, dispatch, st.as_ref())
                    }
                    Lookup::Known(t) => (
                        CallRes::External(match &rt {
                            RTy::Ext(p, _) => smol_str::format_smolstr!("{p}::{name}"),
                            _ => smol_str::format_smolstr!("{}::{name}", self.ix.ty_name(&rt)),
                        }),
                        t,
                    ),
                    Lookup::External(p) => (CallRes::External(p), RTy::Unknown),
                    Lookup::NotFound(r) => (CallRes::Unresolved(r), RTy::Unknown),
                };
                return (res, ty, rt);
            }
            Callee::Path { path, qself } => self.path_call(path, qself.as_deref(), c),
            Callee::Value(v) => match self.eval(v) {
                RTy::Closure(id) => (CallRes::Closure(id), RTy::Unknown),
                RTy::FnItem(f) => self.fns_result(vec![f], false, None),
                _ => (
                    CallRes::Unresolved(format!("call of a computed value `{}`", v.display())),
                    RTy::Unknown,
                ),
            },
        };
        (res, ty, RTy::Unknown)
    }

    /// The receiver type with wrappers peeled, as `Self` for return types.
    fn concrete_self(&self, t: &RTy) -> Option<RTy> {
        let mut cur = t;
        for _ in 0..8 {
            match cur {
                RTy::Ext(_, args) if cur.ext_name().is_some_and(is_deref_wrapper) => {
                    match args.first() {
                        Some(a) => cur = a,
                        None => return None,
                    }
                }
                RTy::Unknown => return None,
                _ => return Some(cur.clone()),
            }
        }
        None
    }

    fn arg_ty(&self, c: &CallSite, i: usize) -> RTy {
        c.args.get(i).map(|a| self.eval(a)).unwrap_or(RTy::Unknown)
    }

    /// `Type::name(…)` where `Type` is a workspace ADT.
    fn assoc_on_adt(&self, d: DefId, name: &str) -> (CallRes, RTy) {
        let fns = self.adt_methods(d, name);
        let st = RTy::Adt(d, Vec::new());
        if !fns.is_empty() {
            return self.fns_result(fns, false, Some(&st));
        }
        let tn = &self.ix.defs[d].name;
        if self.derived(d, name) {
            return (CallRes::External(format!("<{tn} as _>::{name}").into()), st);
        }
        let ret = if matches!(name, "default" | "new" | "from" | "clone") {
            st
        } else {
            RTy::Unknown
        };
        if self.no_workspace_method(name) {
            (
                CallRes::External(format!("<{tn} as _>::{name}").into()),
                ret,
            )
        } else {
            (
                CallRes::Unresolved(format!(
                    "no associated function `{name}` found on `{tn}` in the workspace"
                )),
                ret,
            )
        }
    }

    /// `Trait::name(x, …)`: the impl for `x`'s type when known, else every impl.
    fn assoc_on_trait(&self, t: DefId, name: &str, c: &CallSite) -> (CallRes, RTy) {
        let first = self.concrete_self(&self.arg_ty(c, 0));
        if let Some(RTy::Adt(d, _)) = &first {
            if let Some(m) = self.impl_method(t, *d, name) {
                return self.fns_result(vec![m], false, first.as_ref());
            }
        }
        match self.trait_dispatch(t, name) {
            Some(fns) => self.fns_result(fns, true, first.as_ref()),
            None => (
                CallRes::Unresolved(format!(
                    "trait `{}` has no method `{name}`",
                    self.ix.defs[t].name
                )),
                RTy::Unknown,
            ),
        }
    }

    fn path_call(&self, path: &Path, qself: Option<&Ty>, c: &CallSite) -> (CallRes, RTy) {
        let name = path.last_name();
        // `<T as Trait>::m(…)`
        if let Some(q) = qself {
            let st = self.resolve_ty(q);
            let trait_path = Path {
                global: path.global,
                segs: path.segs[..path.segs.len().saturating_sub(1)].into(),
            };
            let t = if trait_path.segs.is_empty() {
                None
            } else {
                self.ix.trait_of_path(self.module, &trait_path)
            };
            return match (t, self.concrete_self(&st)) {
                (Some(t), Some(RTy::Adt(d, _))) => match self.impl_method(t, d, name) {
                    Some(m) => self.fns_result(vec![m], false, Some(&st)),
                    None => self.assoc_on_trait(t, name, c),
                },
                (Some(t), _) => match self.trait_dispatch(t, name) {
                    Some(fns) => self.fns_result(fns, true, None),
                    None => (
                        CallRes::Unresolved(format!("trait has no method `{name}`")),
                        RTy::Unknown,
                    ),
                },
                (None, Some(RTy::Adt(d, _))) => self.assoc_on_adt(d, name),
                _ => (
                    CallRes::External(format!("<_ as {}>::{name}", trait_path.display()).into()),
                    RTy::Unknown,
                ),
            };
        }
        if path.is_single() {
            if let Some(l) = self.local(name) {
                return match &l.ty {
                    RTy::Closure(id) => (CallRes::Closure(*id), RTy::Unknown),
                    RTy::FnItem(f) => self.fns_result(vec![*f], false, None),
                    _ => (
                        CallRes::Unresolved(format!(
                            "`{name}` is a local value (a closure or function parameter)"
                        )),
                        RTy::Unknown,
                    ),
                };
            }
        }
        let first = path.segs.first().map(|s| &*s.name).unwrap_or("");
        if !path.global && first == "Self" {
            let st = self.self_ty.clone().unwrap_or(RTy::Unknown);
            if path.segs.len() == 1 {
                return (CallRes::Constructor, st);
            }
            return match (&st, path.segs.len()) {
                (RTy::Adt(d, _), 2) => {
                    // An enum variant constructor `Self::Variant(…)`?
                    if let DefKind::Adt(a) = self.ix.defs[*d].kind {
                        if a.variants.iter().any(|v| &*v.name == name) {
                            return (CallRes::Constructor, st.clone());
                        }
                    }
                    self.assoc_on_adt(*d, name)
                }
                (RTy::Dyn(ts), 2) => {
                    let t = ts[0];
                    self.assoc_on_trait(t, name, c)
                }
                _ => (
                    CallRes::Unresolved(format!("cannot resolve `{}`", path.display())),
                    RTy::Unknown,
                ),
            };
        }
        // `T::new()` for a generic `T: Trait`.
        if !path.global && path.segs.len() == 2 {
            for gs in &self.generics {
                if let Some(g) = gs.iter().find(|g| &*g.name == first) {
                    if let RTy::Dyn(ts) = self.ix.dyn_of(self.module, &g.bounds) {
                        let mut all = Vec::new();
                        for t in ts {
                            for f in self.trait_dispatch(t, name).unwrap_or_default() {
                                if !all.contains(&f) {
                                    all.push(f);
                                }
                            }
                        }
                        if !all.is_empty() {
                            return self.fns_result(all, true, None);
                        }
                    }
                    return (
                        CallRes::External(format!("{first}::{name}").into()),
                        RTy::Unknown,
                    );
                }
            }
        }
        match self.ix.resolve_path(self.module, path, Ns::Values) {
            PathRes::Res(Res::Fn(f)) => self.fns_result(vec![f], false, None),
            PathRes::Res(Res::Def(d)) => match self.ix.defs[d].kind {
                DefKind::Adt(_) => (CallRes::Constructor, RTy::Adt(d, Vec::new())),
                DefKind::Alias(_) => match self.ix.adt_of_path(self.module, path) {
                    Some(a) => (CallRes::Constructor, RTy::Adt(a, Vec::new())),
                    None => (
                        CallRes::Unresolved(format!("`{}` is not callable", path.display())),
                        RTy::Unknown,
                    ),
                },
                _ => (
                    CallRes::Unresolved(format!(
                        "`{}` is a static holding a function",
                        path.display()
                    )),
                    RTy::Unknown,
                ),
            },
            PathRes::Res(Res::Variant(d, _)) => (CallRes::Constructor, RTy::Adt(d, Vec::new())),
            PathRes::Res(Res::External(p)) => {
                let ty = self.external_ctor(&p, c);
                (CallRes::External(p), ty)
            }
            PathRes::Res(Res::Module(_)) => (
                CallRes::Unresolved(format!("`{}` is a module", path.display())),
                RTy::Unknown,
            ),
            PathRes::Assoc(Res::Def(d), n) => match self.ix.defs[d].kind {
                DefKind::Adt(_) => self.assoc_on_adt(d, &n),
                DefKind::Trait(_) => self.assoc_on_trait(d, &n, c),
                DefKind::Alias(a) => {
                    let cx = TyCx {
                        module: self.ix.defs[d].module,
                        self_ty: None,
                        generics: &[],
                        subst: &[],
                    };
                    match self.ix.resolve_ty(&a.ty, &cx) {
                        RTy::Adt(ad, _) => self.assoc_on_adt(ad, &n),
                        RTy::Ext(p, args) => {
                            let full = format!("{p}::{n}");
                            let ty = self.external_ctor(&full, c);
                            let _ = args;
                            (CallRes::External(full.into()), ty)
                        }
                        _ => (
                            CallRes::Unresolved(format!("cannot resolve `{}`", path.display())),
                            RTy::Unknown,
                        ),
                    }
                }
                DefKind::Static(_) => (
                    CallRes::Unresolved(format!("cannot resolve `{}`", path.display())),
                    RTy::Unknown,
                ),
            },
            PathRes::Assoc(_, _) => (
                CallRes::Unresolved(format!("cannot resolve `{}`", path.display())),
                RTy::Unknown,
            ),
            PathRes::NotFound(reason) => (CallRes::Unresolved(reason), RTy::Unknown),
        }
    }

    /// Result types of std constructors: `Arc::new(x)` is an `Arc<type of x>`.
    fn external_ctor(&self, path: &str, c: &CallSite) -> RTy {
        let mut it = path.rsplit("::");
        let last = it.next().unwrap_or("");
        let ty_name = it.next().unwrap_or("");
        match (ty_name, last) {
            ("Option", "Some") => RTy::Ext("Option".into(), vec![self.arg_ty(c, 0)]),
            ("Result", "Ok") => RTy::Ext("Result".into(), vec![self.arg_ty(c, 0)]),
            (w, "clone") if is_deref_wrapper(w) => self.arg_ty(c, 0),
            (w, "new" | "pin" | "from")
                if is_deref_wrapper(w) || matches!(w, "Mutex" | "RwLock" | "RefCell" | "Cell") =>
            {
                RTy::Ext(w.into(), vec![self.arg_ty(c, 0)])
            }
            _ => RTy::Unknown,
        }
    }
}

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

pub mod context;
pub mod facts;
pub mod types;
