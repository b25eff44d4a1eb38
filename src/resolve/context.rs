//! The context model (SPEC §3): which types are context types, which values carry context.

use rustc_hash::FxHashSet;

use crate::config::knowledge::Knowledge;
use crate::config::Config;
use crate::index::{DefId, DefKind, Index};
use crate::resolve::types::{RTy, TyCx};
use crate::syntax::summary::{Callee, Name, StaticKind, Ty};

#[derive(Debug, Default)]
pub struct ContextModel {
    /// Context type names (last path segment): defaults, config, `#[context]` types.
    pub type_names: Vec<Name>,
    /// Context binding/parameter/field names.
    pub names: Vec<Name>,
    /// Workspace ADTs that are context types.
    pub context_adts: FxHashSet<DefId>,
    /// Workspace ADTs with a field that is (or carries) context.
    pub carrier_adts: FxHashSet<DefId>,
    /// Workspace traits every implementation of which is a carrier (`dyn Port` held per run).
    pub carrier_traits: FxHashSet<DefId>,
    /// Workspace ADTs with a field that is itself context (by type or name), not nested deeper.
    pub direct_carrier_adts: FxHashSet<DefId>,
    /// Task-locals and thread-locals that hold context (by type or config).
    pub ambient_statics: FxHashSet<DefId>,
    /// Types held behind `Arc`/`State`/`Data`/`Extension` somewhere: shared by connections.
    pub shared_adts: FxHashSet<DefId>,
    /// Application state proper: types given to handlers as `State<T>`/`Data<T>`/`Extension<T>`,
    /// statics, and what their fields hold.
    pub app_state_adts: FxHashSet<DefId>,
    /// How many of `type_names` are the defaults (`context_types` in the framework files).
    default_types: usize,
}

/// `std::thread::ThreadId` is an OS thread id, never a context.
pub fn is_os_thread_id(t: &RTy) -> bool {
    matches!(t, RTy::Ext(p, _) if p.ends_with("thread::ThreadId") || p.ends_with("thread::Thread"))
}

const CARRIER_WRAPPERS: &[&str] = &["Box", "Arc", "Rc", "Weak", "Option", "Cow", "Pin"];

impl ContextModel {
    pub fn build(
        ix: &Index,
        cfg: &Config,
        know: &crate::config::knowledge::Knowledge,
    ) -> ContextModel {
        let mut m = ContextModel {
            type_names: know.context_types().iter().map(Name::new).collect(),
            names: know.context_names().iter().map(Name::new).collect(),
            default_types: know.context_types().len(),
            ..ContextModel::default()
        };
        m.type_names.extend(
            cfg.context
                .types
                .iter()
                .map(|s| Name::new(crate::resolve::types::last_segment(s))),
        );
        m.names.extend(cfg.context.names.iter().map(Name::new));
        // Context ADTs: by name, or marked `#[threadlint_macros::context]`.
        for (d, def) in ix.defs.iter().enumerate() {
            let marked = |attrs: &[crate::syntax::summary::Attr]| {
                attrs
                    .iter()
                    .any(|a| ix.attr_name(def.module, a) == "context")
            };
            match def.kind {
                DefKind::Adt(a) if m.type_names.contains(&a.name) || marked(&a.attrs) => {
                    if marked(&a.attrs) && !m.type_names.contains(&a.name) {
                        m.type_names.push(a.name.clone());
                    }
                    m.context_adts.insert(d);
                }
                _ => {}
            }
        }
        // Aliases marked as context, or aliases of context types, by name.
        // Carrier ADTs: a fixed point over fields.
        // Field types are resolved once (in parallel); the fixed point then only looks them up.
        let adts: Vec<(DefId, Vec<(bool, RTy)>)> = {
            use rayon::prelude::*;
            (0..ix.defs.len())
                .into_par_iter()
                .filter_map(|d| {
                    let DefKind::Adt(a) = ix.defs[d].kind else {
                        return None;
                    };
                    let gens = [&a.generics[..]];
                    let cx = TyCx {
                        module: ix.defs[d].module,
                        self_ty: None,
                        generics: &gens,
                        subst: &[],
                    };
                    let fields = a
                        .fields
                        .iter()
                        .chain(a.variants.iter().flat_map(|v| v.fields.iter()))
                        .map(|f| {
                            let t = ix.resolve_ty(&f.ty, &cx);
                            (m.names.contains(&f.name) && !is_os_thread_id(&t), t)
                        })
                        .collect();
                    Some((d, fields))
                })
                .collect()
        };
        for (d, fields) in &adts {
            if !m.context_adts.contains(d)
                && fields.iter().any(|(named, t)| *named || m.is_context(t))
            {
                m.direct_carrier_adts.insert(*d);
            }
        }
        loop {
            let mut changed = false;
            for (d, fields) in &adts {
                if m.carrier_adts.contains(d) || m.context_adts.contains(d) {
                    continue;
                }
                if fields.iter().any(|(named, t)| *named || m.carries(t)) {
                    m.carrier_adts.insert(*d);
                    changed = true;
                }
            }
            if !changed {
                break;
            }
        }
        // A trait every implementation of which holds a carrier in `self` (a port object per
        // run): a `dyn` receiver of it passes context.
        {
            for (&t, impls) in &ix.impls_of_trait {
                if m.carrier_traits.contains(&t) || impls.is_empty() {
                    continue;
                }
                let all = impls.iter().all(|&i| {
                    ix.impls[i]
                        .self_adt
                        .is_some_and(|d| m.carrier_adts.contains(&d) || m.context_adts.contains(&d))
                });
                if all {
                    m.carrier_traits.insert(t);
                }
            }
        }
        // Ambient statics: task-/thread-locals of a context type, or named in config.
        for (d, def) in ix.defs.iter().enumerate() {
            if let DefKind::Static(s) = def.kind {
                if !matches!(s.kind, StaticKind::TaskLocal | StaticKind::ThreadLocal) {
                    continue;
                }
                let cx = TyCx {
                    module: def.module,
                    self_ty: None,
                    generics: &[],
                    subst: &[],
                };
                let t = ix.resolve_ty(&s.ty, &cx);
                let qname = format!("{}::{}", ix.modules[def.module].qname, s.name);
                let configured = cfg.context.ambient.iter().any(|a| {
                    crate::config::fn_pattern_matches(a, &qname)
                        || crate::resolve::types::last_segment(a) == &*s.name
                });
                if configured || m.carries_deep(&t) {
                    m.ambient_statics.insert(d);
                }
            }
        }
        m.shared_adts = shared_adts(ix, know);
        m.app_state_adts = {
            let names = &m.type_names;
            app_state_adts(ix, know, |k| names.iter().any(|n| n == k))
        };
        m
    }

    /// Is this type itself a context type (looking through `&`, `Box`, `Arc`, `Option` …)?
    pub fn is_context(&self, t: &RTy) -> bool {
        match t {
            RTy::Adt(d, _) => self.context_adts.contains(d),
            RTy::Ext(p, args) => {
                let last = crate::resolve::types::last_segment(p);
                if self.type_names.iter().any(|n| n == last) {
                    return !is_os_thread_id(t);
                }
                CARRIER_WRAPPERS.contains(&last) && args.first().is_some_and(|a| self.is_context(a))
            }
            _ => false,
        }
    }

    /// Does a value of this type carry context (SPEC §3 "Carrier")?
    pub fn carries(&self, t: &RTy) -> bool {
        match t {
            RTy::Adt(d, _) => self.context_adts.contains(d) || self.carrier_adts.contains(d),
            RTy::Ext(p, args) => {
                let last = crate::resolve::types::last_segment(p);
                if self.type_names.iter().any(|n| n == last) {
                    return !is_os_thread_id(t);
                }
                CARRIER_WRAPPERS.contains(&last) && args.first().is_some_and(|a| self.carries(a))
            }
            RTy::Tuple(ts) => ts.iter().any(|t| self.carries(t)),
            _ => false,
        }
    }

    /// A method receiver of this type passes context: a carrier, or a `dyn` value of a trait
    /// every implementation of which holds a carrier in `self` (SPEC §3: a struct's own carrier
    /// status is judged by its declared fields only, so this is for receivers).
    pub fn receiver_carries(&self, t: &RTy) -> bool {
        match t {
            RTy::Dyn(ts, _) => ts.iter().any(|t| self.carrier_traits.contains(t)),
            RTy::Ext(p, args)
                if CARRIER_WRAPPERS.contains(&crate::resolve::types::last_segment(p)) =>
            {
                args.first().is_some_and(|a| self.receiver_carries(a))
            }
            t => self.carries(t),
        }
    }

    /// Like `carries`, also through locks and cells (for ambient statics: `RefCell<Option<Ctx>>`).
    fn carries_deep(&self, t: &RTy) -> bool {
        if self.carries(t) {
            return true;
        }
        match t {
            RTy::Ext(_, args) => args.iter().any(|a| self.carries_deep(a)),
            _ => false,
        }
    }

    /// A value of this type holds context only deep inside (a config struct whose nested
    /// delivery settings have a `thread_id`): it passes context, but does not make a function
    /// "have" one.
    pub fn deep_only(&self, t: &RTy) -> bool {
        match t {
            RTy::Adt(d, _) => {
                self.carrier_adts.contains(d)
                    && !self.direct_carrier_adts.contains(d)
                    && !self.context_adts.contains(d)
            }
            RTy::Ext(p, args) => {
                let last = crate::resolve::types::last_segment(p);
                CARRIER_WRAPPERS.contains(&last) && args.first().is_some_and(|a| self.deep_only(a))
            }
            _ => false,
        }
    }

    /// Has the project adopted a context model at all (a context type, an ambient context)?
    pub fn adopted(&self) -> bool {
        !self.context_adts.is_empty()
            || !self.ambient_statics.is_empty()
            || self.type_names.len() > self.default_types
    }

    pub fn is_context_name(&self, n: &str) -> bool {
        self.names.iter().any(|x| x == n)
    }

    /// A single slot holding context (`Option<ThreadContext>`, `ThreadId`, an atomic id), as
    /// opposed to a collection keyed by context.
    pub fn is_single_slot(&self, t: &RTy) -> bool {
        match t {
            RTy::Ext(p, args) => {
                let last = crate::resolve::types::last_segment(p);
                if last.starts_with("Atomic") {
                    return true;
                }
                match last {
                    "Option" | "Box" | "Arc" | "Rc" | "Cell" | "RefCell" | "Mutex" | "RwLock"
                    | "OnceCell" | "OnceLock" | "ArcSwap" | "ArcSwapOption" => {
                        args.first().is_some_and(|a| self.is_single_slot(a))
                    }
                    _ => self.carries(t),
                }
            }
            RTy::Adt(..) => self.carries(t),
            _ => false,
        }
    }
}

/// ADTs given to handlers as `State<T>`, `Data<T>`, `Extension<T>`, statics, and every ADT their
/// fields hold (through `Arc`, `Mutex`, `Option` …).
fn app_state_adts(
    ix: &Index,
    know: &crate::config::knowledge::Knowledge,
    context_key: impl Fn(&str) -> bool + Sync,
) -> FxHashSet<DefId> {
    use rayon::prelude::*;
    let mut seeds: Vec<DefId> = Vec::new();
    // By convention: `AppState`, `ServerState`, `SharedState` …
    for (d, def) in ix.defs.iter().enumerate() {
        if matches!(def.kind, DefKind::Adt(_)) && def.name.ends_with("State") {
            seeds.push(d);
        }
    }
    // Seeds from every function's parameters, in parallel (the closure below does not depend on
    // their order).
    seeds.par_extend(ix.fns.par_iter().flat_map_iter(|f| {
        let mut seeds = Vec::new();
        // What an entry is given besides the socket (warp passes state as a plain value): a
        // function with a WebSocket parameter, one marked `#[entry]`, or one that accepts a
        // connection itself (`accept_async(stream)`), seen from its own text.
        let socket_fn = f.def.params.iter().any(
            |p| matches!(p.ty.peel(), Ty::Path(path) if know.is_entry_param_type(path.last_name())),
        ) || f.def.attrs.iter().any(|a| ix.attr_name(f.module, a) == "entry")
            || f.def.body.as_ref().is_some_and(|b| {
                b.calls.iter().any(|c| {
                    matches!(&c.callee, Callee::Path { path, .. } if know.is_accept(&path.display()))
                })
            });
        if socket_fn {
            for p in &f.def.params {
                if let Ty::Path(path) = p.ty.peel() {
                    let inner = match path.segs.last() {
                        Some(seg) if matches!(&*seg.name, "Arc" | "Rc" | "Box") => {
                            match seg.args.first().map(|a| a.peel()) {
                                Some(Ty::Path(i)) => i,
                                _ => path,
                            }
                        }
                        _ => path,
                    };
                    seeds.extend(ix.adt_of_path(f.module, inner));
                }
            }
        }
        for p in &f.def.params {
            if let Ty::Path(path) = p.ty.peel() {
                if let Some(seg) = path.segs.last() {
                    if know.is_state_extractor(&seg.name) {
                        if let Some(Ty::Path(inner)) = seg.args.first().map(|a| a.peel()) {
                            seeds.extend(ix.adt_of_path(f.module, inner));
                        }
                    }
                }
            }
        }
        seeds
    }));
    for def in &ix.defs {
        if let DefKind::Static(s) = def.kind {
            if let Ty::Path(p) = s.ty.peel() {
                seeds.extend(ix.adt_of_path(def.module, p));
                for seg in &p.segs {
                    for a in &seg.args {
                        if let Ty::Path(inner) = a.peel() {
                            seeds.extend(ix.adt_of_path(def.module, inner));
                        }
                    }
                }
            }
        }
    }
    let mut out: FxHashSet<DefId> = FxHashSet::default();
    while let Some(d) = seeds.pop() {
        if !out.insert(d) {
            continue;
        }
        let DefKind::Adt(a) = ix.defs[d].kind else {
            continue;
        };
        let m = ix.defs[d].module;
        for f in a.fields.iter() {
            let mut stack = vec![&f.ty];
            while let Some(t) = stack.pop() {
                if let Ty::Path(p) = t.peel() {
                    seeds.extend(ix.adt_of_path(m, p));
                    if let Some(seg) = p.segs.last() {
                        // What a map keyed by the context holds is one object per conversation
                        // (a session per session id), not a slot every connection sees.
                        let keyed_by_context = is_map(&seg.name)
                            && seg.args.first().is_some_and(
                                |k| matches!(k.peel(), Ty::Path(kp) if context_key(kp.last_name())),
                            );
                        if !keyed_by_context {
                            stack.extend(seg.args.iter());
                        }
                    }
                }
            }
        }
    }
    out
}

/// A map type (last segment): its values are one per key.
fn is_map(name: &str) -> bool {
    matches!(
        name,
        "HashMap"
            | "BTreeMap"
            | "DashMap"
            | "IndexMap"
            | "FxHashMap"
            | "AHashMap"
            | "LruCache"
            | "Cache"
    )
}

/// ADTs that appear as `T` in `Arc<T>`, `State<T>`, `Data<T>`, `Extension<T>` in any field,
/// parameter or static type of the workspace.
fn shared_adts(ix: &Index, know: &Knowledge) -> FxHashSet<DefId> {
    use rayon::prelude::*;
    // Workspace ADTs named inside `Arc<…>`, `State<…>` … of one written type.
    fn visit(ix: &Index, know: &Knowledge, t: &Ty, m: usize, out: &mut Vec<DefId>) {
        match t {
            Ty::Path(p) => {
                if let Some(seg) = p.segs.last() {
                    if matches!(&*seg.name, "Arc" | "Rc") || know.is_state_extractor(&seg.name) {
                        if let Some(Ty::Path(inner)) = seg.args.first().map(|a| a.peel()) {
                            out.extend(ix.adt_of_path(m, inner));
                        }
                    }
                    for a in &seg.args {
                        visit(ix, know, a, m, out);
                    }
                }
            }
            Ty::Ref(t) | Ty::Slice(t) => visit(ix, know, t, m, out),
            Ty::Tuple(ts) => ts.iter().for_each(|t| visit(ix, know, t, m, out)),
            _ => {}
        }
    }
    ix.defs
        .par_iter()
        .flat_map_iter(|def| {
            let mut found = Vec::new();
            match def.kind {
                DefKind::Adt(a) => {
                    for f in a.fields.iter() {
                        visit(ix, know, &f.ty, def.module, &mut found);
                    }
                }
                DefKind::Static(s) => {
                    visit(ix, know, &s.ty, def.module, &mut found);
                    // A static of a workspace type is shared by every connection.
                    if let Ty::Path(p) = s.ty.peel() {
                        found.extend(ix.adt_of_path(def.module, p));
                    }
                }
                _ => {}
            }
            found
        })
        .chain(ix.fns.par_iter().flat_map_iter(|f| {
            let mut found = Vec::new();
            for p in &f.def.params {
                visit(ix, know, &p.ty, f.module, &mut found);
            }
            found
        }))
        .collect()
}
