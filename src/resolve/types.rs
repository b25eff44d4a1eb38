//! Just enough types to resolve method calls: the type of a receiver where it can be known, and
//! what the common std/tokio wrappers and collections do to it.

use crate::index::{DefId, DefKind, FnId, Index, ModId, Ns, PathRes, Res};
use crate::syntax::summary::*;

#[derive(Clone, Debug, PartialEq)]
pub enum RTy {
    /// A workspace struct/enum/union, with its generic arguments.
    Adt(DefId, Vec<RTy>),
    /// A type from outside the workspace, by full path as far as known, with its arguments.
    Ext(Name, Vec<RTy>),
    /// `dyn Trait`, `impl Trait`, or a generic parameter: the workspace traits it is bound by,
    /// and the generic arguments of the first (`dyn ToolExecutor<ToolCall>`), when written.
    Dyn(Vec<DefId>, Vec<RTy>),
    Tuple(Vec<RTy>),
    /// An iterator over elements of this type.
    Iter(Box<RTy>),
    /// Closure or async block #n of the body being walked.
    Closure(u32),
    FnItem(FnId),
    Unknown,
}

impl RTy {
    pub fn ext_name(&self) -> Option<&str> {
        match self {
            RTy::Ext(p, _) => Some(last_segment(p)),
            _ => None,
        }
    }
    fn arg(&self, i: usize) -> RTy {
        match self {
            RTy::Ext(_, a) | RTy::Adt(_, a) => a.get(i).cloned().unwrap_or(RTy::Unknown),
            _ => RTy::Unknown,
        }
    }
    /// The closure this is the type of.
    pub fn closure(&self) -> Option<u32> {
        match self {
            RTy::Closure(c) => Some(*c),
            _ => None,
        }
    }
    pub fn is_unknown(&self) -> bool {
        matches!(self, RTy::Unknown)
    }
}

fn ext(name: &str, args: Vec<RTy>) -> RTy {
    RTy::Ext(name.into(), args)
}

/// Smart pointers and guards that method calls and field accesses see through.
pub fn is_deref_wrapper(name: &str) -> bool {
    matches!(
        name,
        "Box"
            | "Arc"
            | "Rc"
            | "Pin"
            | "Cow"
            | "MutexGuard"
            | "RwLockReadGuard"
            | "RwLockWriteGuard"
            | "OwnedMutexGuard"
            | "OwnedRwLockReadGuard"
            | "OwnedRwLockWriteGuard"
            | "MappedMutexGuard"
            | "Ref"
            | "RefMut"
            | "ManuallyDrop"
            | "AssertUnwindSafe"
            | "Guard"
            | "ArcSwap"
            | "Lazy"
            | "LazyLock"
            | "OnceCell"
            | "OnceLock"
            | "State"
            | "Data"
            | "Extension"
    )
}

fn is_lock(name: &str) -> bool {
    matches!(
        name,
        "Mutex" | "RwLock" | "RefCell" | "FairMutex" | "ReentrantMutex" | "Cell" | "UnsafeCell"
    )
}

fn is_seq(name: &str) -> bool {
    matches!(
        name,
        "Vec"
            | "VecDeque"
            | "slice"
            | "HashSet"
            | "BTreeSet"
            | "LinkedList"
            | "SmallVec"
            | "IndexSet"
            | "BinaryHeap"
    )
}

fn is_map(name: &str) -> bool {
    matches!(
        name,
        "HashMap" | "BTreeMap" | "IndexMap" | "DashMap" | "FxHashMap" | "AHashMap" | "SkipMap"
    )
}

/// What a method does to the receiver type, for std/tokio types and adaptors that every type has.
pub fn known_method(recv: &RTy, name: &str) -> Option<RTy> {
    if matches!(
        name,
        "clone"
            | "to_owned"
            | "as_ref"
            | "as_mut"
            | "deref"
            | "deref_mut"
            | "by_ref"
            | "borrow"
            | "borrow_mut"
    ) {
        // Option::as_ref keeps the Option; RefCell::borrow unwraps: handled below for locks.
        if !(matches!(name, "borrow" | "borrow_mut") && recv.ext_name().is_some_and(is_lock)) {
            return Some(recv.clone());
        }
    }
    // `lock().unwrap()`: std's `LockResult` is not modelled, the guard is the value.
    if matches!(
        name,
        "unwrap" | "expect" | "unwrap_or_else" | "unwrap_or_default"
    ) && !matches!(recv.ext_name(), Some("Option" | "Result"))
        && !matches!(recv, RTy::Unknown)
    {
        return Some(recv.clone());
    }
    match recv {
        RTy::Ext(_, _) => {
            let n = recv.ext_name().unwrap_or("");
            if is_lock(n) {
                return match name {
                    "lock" | "read" | "write" | "try_lock" | "try_read" | "try_write"
                    | "borrow" | "borrow_mut" | "blocking_lock" | "blocking_read"
                    | "blocking_write" | "lock_owned" | "read_owned" | "write_owned"
                    | "get_mut" | "into_inner" | "get" | "lock_arc" | "read_arc" | "write_arc" => {
                        Some(recv.arg(0))
                    }
                    _ => None,
                };
            }
            match n {
                "Option" | "Result" => match name {
                    "unwrap" | "expect" | "unwrap_or_default" | "unwrap_or" | "unwrap_or_else"
                    | "unwrap_unchecked" | "get_or_insert_with" | "get_or_insert" | "insert" => {
                        Some(recv.arg(0))
                    }
                    "as_deref" | "as_deref_mut" | "cloned" | "copied" | "take" | "map_err"
                    | "context" | "with_context" | "or" | "or_else" | "filter" | "inspect"
                    | "wrap_err" => Some(recv.clone()),
                    "ok_or" | "ok_or_else" => Some(ext("Result", vec![recv.arg(0)])),
                    "ok" => Some(ext("Option", vec![recv.arg(0)])),
                    "iter" | "iter_mut" | "into_iter" => Some(RTy::Iter(Box::new(recv.arg(0)))),
                    _ => None,
                },
                "Weak" => match name {
                    "upgrade" => Some(ext("Option", vec![ext("Arc", vec![recv.arg(0)])])),
                    _ => None,
                },
                "Entry" => match name {
                    "or_insert" | "or_insert_with" | "or_default" | "or_insert_with_key" => {
                        Some(recv.arg(1))
                    }
                    _ => None,
                },
                "Receiver" | "UnboundedReceiver" => match name {
                    "recv" | "try_recv" | "blocking_recv" | "recv_async" => {
                        Some(ext("Option", vec![recv.arg(0)]))
                    }
                    _ => None,
                },
                _ if is_seq(n) => match name {
                    "get" | "get_mut" | "first" | "last" | "first_mut" | "last_mut" | "pop"
                    | "pop_front" | "pop_back" | "front" | "back" | "peek" | "take" => {
                        Some(ext("Option", vec![recv.arg(0)]))
                    }
                    "iter" | "iter_mut" | "into_iter" | "drain" => {
                        Some(RTy::Iter(Box::new(recv.arg(0))))
                    }
                    _ => None,
                },
                _ if is_map(n) => match name {
                    "get" | "get_mut" | "remove" => Some(ext("Option", vec![recv.arg(1)])),
                    "values" | "values_mut" | "into_values" => {
                        Some(RTy::Iter(Box::new(recv.arg(1))))
                    }
                    "keys" | "into_keys" => Some(RTy::Iter(Box::new(recv.arg(0)))),
                    "iter" | "iter_mut" | "into_iter" | "drain" => {
                        Some(RTy::Iter(Box::new(RTy::Tuple(vec![
                            recv.arg(0),
                            recv.arg(1),
                        ]))))
                    }
                    "entry" => Some(ext("Entry", vec![recv.arg(0), recv.arg(1)])),
                    _ => None,
                },
                _ => None,
            }
        }
        RTy::Iter(t) => match name {
            "next" | "last" | "nth" | "find" | "max" | "min" | "max_by_key" | "min_by_key"
            | "max_by" | "min_by" | "next_back" => Some(ext("Option", vec![(**t).clone()])),
            "filter" | "skip" | "take" | "rev" | "chain" | "peekable" | "skip_while"
            | "take_while" | "cloned" | "copied" | "inspect" | "fuse" | "step_by" | "iter"
            | "into_iter" | "cycle" => Some(recv.clone()),
            "enumerate" => Some(RTy::Iter(Box::new(RTy::Tuple(vec![
                RTy::Unknown,
                (**t).clone(),
            ])))),
            _ if is_iter_producer(name) => Some(RTy::Iter(Box::new(RTy::Unknown))),
            _ => None,
        },
        _ => None,
    }
}

/// Iterator adaptors whose element type we do not follow (`map`, `zip`, …): still iterators.
pub fn is_iter_producer(name: &str) -> bool {
    matches!(
        name,
        "iter"
            | "iter_mut"
            | "into_iter"
            | "map"
            | "filter_map"
            | "flat_map"
            | "flatten"
            | "map_while"
            | "scan"
            | "zip"
            | "chars"
            | "bytes"
            | "lines"
            | "split"
            | "split_whitespace"
            | "windows"
            | "chunks"
            | "par_iter"
            | "into_par_iter"
    )
}

/// `e?`, `Some(x)`/`Ok(x)` payloads.
pub fn unwrap_ty(t: &RTy) -> RTy {
    match t.ext_name() {
        Some("Option" | "Result" | "Poll") => t.arg(0),
        _ => t.clone(),
    }
}

/// The element type of `for x in e`.
pub fn elem_ty(t: &RTy) -> RTy {
    match t {
        RTy::Iter(e) => (**e).clone(),
        RTy::Ext(_, _) => {
            let n = t.ext_name().unwrap_or("");
            if is_seq(n) || n == "Option" {
                t.arg(0)
            } else if is_map(n) {
                RTy::Tuple(vec![t.arg(0), t.arg(1)])
            } else if is_deref_wrapper(n) {
                elem_ty(&t.arg(0))
            } else {
                RTy::Unknown
            }
        }
        _ => RTy::Unknown,
    }
}

/// `x[i]`.
pub fn index_ty(t: &RTy) -> RTy {
    match t.ext_name() {
        Some(n) if is_seq(n) => t.arg(0),
        Some(n) if is_map(n) => t.arg(1),
        Some(n) if is_deref_wrapper(n) => index_ty(&t.arg(0)),
        _ => RTy::Unknown,
    }
}

/// Where a type is written: its module, `Self`, and the generic parameters in scope.
pub struct TyCx<'a> {
    pub module: ModId,
    pub self_ty: Option<&'a RTy>,
    pub generics: &'a [&'a [Generic]],
    /// Generic parameters bound to concrete arguments (`struct S<T> { f: T }` seen as `S<X>`).
    pub subst: &'a [(Name, RTy)],
}

impl Index<'_> {
    pub fn resolve_ty(&self, ty: &Ty, cx: &TyCx) -> RTy {
        self.resolve_ty_depth(ty, cx, 0)
    }

    fn resolve_ty_depth(&self, ty: &Ty, cx: &TyCx, depth: u32) -> RTy {
        if depth > 24 {
            return RTy::Unknown;
        }
        match ty {
            Ty::Ref(t) => self.resolve_ty_depth(t, cx, depth + 1),
            Ty::Tuple(ts) => RTy::Tuple(
                ts.iter()
                    .map(|t| self.resolve_ty_depth(t, cx, depth + 1))
                    .collect(),
            ),
            Ty::Slice(t) => ext("slice", vec![self.resolve_ty_depth(t, cx, depth + 1)]),
            Ty::Bounds(bs) => self.dyn_of(cx.module, bs),
            Ty::Path(p) => {
                let args = |ix: &Self| -> Vec<RTy> {
                    p.segs
                        .last()
                        .map(|s| {
                            s.args
                                .iter()
                                .map(|a| ix.resolve_ty_depth(a, cx, depth + 1))
                                .collect()
                        })
                        .unwrap_or_default()
                };
                if p.is_single() {
                    let n = p.last_name();
                    if n == "Self" {
                        return cx.self_ty.cloned().unwrap_or(RTy::Unknown);
                    }
                    if let Some((_, t)) = cx.subst.iter().find(|(g, _)| &**g == n) {
                        return t.clone();
                    }
                    for gs in cx.generics {
                        if let Some(g) = gs.iter().find(|g| &*g.name == n) {
                            return self.dyn_of(cx.module, &g.bounds);
                        }
                    }
                }
                match self.resolve_path(cx.module, p, Ns::Types) {
                    PathRes::Res(Res::Def(d)) => match self.defs[d].kind {
                        DefKind::Adt(_) => RTy::Adt(d, args(self)),
                        DefKind::Alias(a) => {
                            let inner = TyCx {
                                module: self.defs[d].module,
                                self_ty: None,
                                generics: &[],
                                subst: &[],
                            };
                            self.resolve_ty_depth(&a.ty, &inner, depth + 1)
                        }
                        DefKind::Trait(_) => RTy::Dyn(vec![d], args(self)),
                        DefKind::Static(_) => RTy::Unknown,
                    },
                    PathRes::Res(Res::External(path)) => RTy::Ext(path, args(self)),
                    PathRes::NotFound(_) if p.is_single() => {
                        RTy::Ext(p.last_name().into(), args(self))
                    }
                    _ => RTy::Unknown,
                }
            }
            Ty::Fn | Ty::Infer | Ty::Unknown => RTy::Unknown,
        }
    }

    /// The workspace traits among some bounds.
    pub fn dyn_of(&self, m: ModId, bounds: &[Path]) -> RTy {
        let ts: Vec<DefId> = bounds
            .iter()
            .filter_map(|b| self.trait_of_path(m, b))
            .collect();
        if ts.is_empty() {
            return RTy::Unknown;
        }
        // The first workspace bound's arguments (`dyn Executor<ExtCall>`, `E: Executor<ExtCall>`),
        // resolved in the module that writes them.
        let cx = TyCx {
            module: m,
            self_ty: None,
            generics: &[],
            subst: &[],
        };
        let args = bounds
            .iter()
            .find(|b| self.trait_of_path(m, b) == Some(ts[0]))
            .and_then(|b| b.segs.last())
            .map(|s| s.args.iter().map(|a| self.resolve_ty(a, &cx)).collect())
            .unwrap_or_default();
        RTy::Dyn(ts, args)
    }

    /// The type of field `name` of a value of type `t` (auto-deref through wrappers).
    /// `ctor` names the enum variant when the access comes from a pattern.
    pub fn field_ty(&self, prepared: &[FieldTys], t: &RTy, name: &str, ctor: Option<&str>) -> RTy {
        let mut cur = t;
        for _ in 0..8 {
            match cur {
                RTy::Adt(d, args) => {
                    let DefKind::Adt(a) = self.defs[*d].kind else {
                        return RTy::Unknown;
                    };
                    let (variant, fields) = match ctor {
                        Some(c) if !a.variants.is_empty() => {
                            match a.variants.iter().position(|v| &*v.name == c) {
                                Some(v) => (Some(v), &a.variants[v].fields),
                                None => return RTy::Unknown,
                            }
                        }
                        _ => (None, &a.fields),
                    };
                    let Some(fi) = fields.iter().position(|f| &*f.name == name) else {
                        return RTy::Unknown;
                    };
                    let f = &fields[fi];
                    if args.is_empty() {
                        if let Some(ft) = prepared.get(*d).and_then(|p| p.get(variant, fi)) {
                            return ft.clone();
                        }
                    }
                    let subst: Vec<(Name, RTy)> = a
                        .generics
                        .iter()
                        .zip(args.iter())
                        .map(|(g, t)| (g.name.clone(), t.clone()))
                        .collect();
                    let gens: [&[Generic]; 1] = [&a.generics];
                    let cx = TyCx {
                        module: self.defs[*d].module,
                        self_ty: Some(cur),
                        generics: &gens,
                        subst: &subst,
                    };
                    return self.resolve_ty(&f.ty, &cx);
                }
                RTy::Tuple(ts) => {
                    return name
                        .parse::<usize>()
                        .ok()
                        .and_then(|i| ts.get(i).cloned())
                        .unwrap_or(RTy::Unknown)
                }
                RTy::Ext(_, args) => {
                    let n = cur.ext_name().unwrap_or("");
                    if is_deref_wrapper(n) && !(ctor.is_some() && name == "0") {
                        match args.first() {
                            Some(a) => cur = a,
                            None => return RTy::Unknown,
                        }
                        continue;
                    }
                    // Newtype extractors (`State(s)`, `Json(j)`): the payload is the first argument.
                    if name == "0" {
                        return cur.arg(0);
                    }
                    return RTy::Unknown;
                }
                _ => return RTy::Unknown,
            }
        }
        RTy::Unknown
    }

    /// Resolve, once and in parallel, the field types of every struct, enum and union without
    /// generic parameters: `field_ty` then looks them up instead of resolving the written type
    /// again at every field access.
    pub fn prepare_field_types(&self) -> Vec<FieldTys> {
        use rayon::prelude::*;
        (0..self.defs.len())
            .into_par_iter()
            .map(|d| match self.defs[d].kind {
                DefKind::Adt(a) if a.generics.is_empty() => {
                    let own = RTy::Adt(d, Vec::new());
                    let cx = TyCx {
                        module: self.defs[d].module,
                        self_ty: Some(&own),
                        generics: &[&[]],
                        subst: &[],
                    };
                    let tys = |fs: &[FieldDef]| -> Vec<RTy> {
                        fs.iter().map(|f| self.resolve_ty(&f.ty, &cx)).collect()
                    };
                    FieldTys {
                        fields: tys(&a.fields),
                        variants: a.variants.iter().map(|v| tys(&v.fields)).collect(),
                    }
                }
                _ => FieldTys::default(),
            })
            .collect()
    }

    /// A display name for a type, for messages.
    pub fn ty_name(&self, t: &RTy) -> String {
        match t {
            RTy::Adt(d, _) => self.defs[*d].name.to_string(),
            RTy::Ext(p, _) => p.to_string(),
            RTy::Dyn(ts, _) => format!(
                "dyn {}",
                ts.iter()
                    .map(|t| self.defs[*t].name.to_string())
                    .collect::<Vec<_>>()
                    .join(" + ")
            ),
            RTy::Tuple(_) => "(…)".into(),
            RTy::Iter(_) => "iterator".into(),
            RTy::Closure(_) => "closure".into(),
            RTy::FnItem(f) => self.fn_qname(*f),
            RTy::Unknown => "_".into(),
        }
    }
}

/// The resolved field types of one non-generic ADT (empty for the others).
#[derive(Default)]
pub struct FieldTys {
    fields: Vec<RTy>,
    variants: Vec<Vec<RTy>>,
}

impl FieldTys {
    fn get(&self, variant: Option<usize>, field: usize) -> Option<&RTy> {
        match variant {
            Some(v) => self.variants.get(v)?.get(field),
            None => self.fields.get(field),
        }
    }
}

pub use crate::config::knowledge::last_segment;

#[cfg(test)]
mod tests {
    #[test]
    fn last_segment_is_what_rsplit_gives() {
        for p in [
            "",
            "a",
            "::",
            "a::b",
            "::a::b",
            "a:::b",
            "a::",
            "std::sync::Arc",
            "x:y",
            "é::ü",
        ] {
            assert_eq!(
                super::last_segment(p),
                p.rsplit("::").next().unwrap_or(p),
                "{p:?}"
            );
        }
    }
}
