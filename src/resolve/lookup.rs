//! Type evaluation and method lookup for the resolution walk: what a value's type is, which
//! workspace functions a method or path call reaches, and what they return.

use super::*;
use std::sync::Arc;

impl<'a, 's> Walker<'a, 's> {
    pub(super) fn resolve_ty(&self, t: &Ty) -> RTy {
        let cx = TyCx {
            module: self.module,
            self_ty: self.self_ty.as_ref(),
            generics: &self.generics,
            subst: &[],
        };
        self.ix.resolve_ty(t, &cx)
    }

    pub(super) fn local(&self, name: &str) -> Option<&Local> {
        match self.s.by_name.get(name).and_then(|at| at.last()) {
            Some(&(scope, pos)) => self.s.scopes.get(scope as usize)?.get(pos as usize),
            None => self.s.dead.iter().rev().find(|l| &*l.name == name),
        }
    }

    /// The live binding of `name`, to update it (`rx_holder = Some(rx)`).
    pub(super) fn local_mut(&mut self, name: &str) -> Option<&mut Local> {
        let &(scope, pos) = self.s.by_name.get(name)?.last()?;
        self.s.scopes.get_mut(scope as usize)?.get_mut(pos as usize)
    }

    /// The type a struct pattern destructures: the scrutinee's when it is a workspace type, else
    /// the struct the pattern names (`let CodexSpawnOk { codex, .. } = <untyped>`).
    pub(super) fn pattern_base(&self, base: RTy, ctor: &str) -> RTy {
        if matches!(base, RTy::Adt(..)) {
            return base;
        }
        match self.resolve_ty(&Ty::Path(Path::single(ctor))) {
            named @ RTy::Adt(..) => named,
            _ => base,
        }
    }

    pub(super) fn eval(&self, v: &VExpr) -> RTy {
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
                        let base = self.pattern_base(self.eval(inner), c);
                        return self.ix.field_ty(self.fields, &base, n, Some(c));
                    }
                }
                let base = self.eval(b);
                self.ix.field_ty(self.fields, &base, n, None)
            }
            VExpr::TupleField(b, i) => {
                let base = self.eval(b);
                self.ix.field_ty(self.fields, &base, &i.to_string(), None)
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

    pub(super) fn eval_names(&self, global: bool, names: &[&str]) -> RTy {
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
    pub(super) fn closure_arg_ty(&self, c: u32, i: u32) -> RTy {
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
    pub(super) fn adt_methods(&self, d: DefId, name: &str) -> Vec<FnId> {
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

    pub(super) fn trait_decl(&self, t: DefId, name: &str) -> Option<FnId> {
        self.ix
            .trait_methods
            .get(&t)?
            .iter()
            .copied()
            .find(|&m| &*self.ix.fns[m].def.name == name)
    }

    /// Every implementation of trait method `name` (searched in `t` and its supertraits).
    pub(super) fn trait_dispatch(&self, t: DefId, name: &str) -> Option<Arc<[FnId]>> {
        let key = (t, Name::from(name));
        if let Some(known) = self.s.dispatch.borrow().get(&key) {
            return known.clone();
        }
        let found = self.find_dispatch(t, name).map(Arc::from);
        self.s.dispatch.borrow_mut().insert(key, found.clone());
        found
    }

    fn find_dispatch(&self, t: DefId, name: &str) -> Option<Vec<FnId>> {
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

    /// The implementations among `all` whose trait arguments fit `args` (SPEC §3 "Tool": a call
    /// on `ToolExecutor<Invocation>` reaches only `impl ToolExecutor<Invocation>`). An argument
    /// fits unless both are workspace types and differ; the trait's own declarations stay.
    fn fitting(&self, t: DefId, args: &[RTy], all: Arc<[FnId]>) -> Arc<[FnId]> {
        let Some(RTy::Adt(want, _)) = args.first() else {
            return all;
        };
        let ix = self.ix;
        let fits = |f: FnId| {
            let Owner::Impl(i) = ix.fns[f].owner else {
                return true;
            };
            let im = &ix.impls[i];
            let Some(arg) = im
                .def
                .trait_
                .as_ref()
                .filter(|p| ix.trait_of_path(im.module, p) == Some(t))
                .and_then(|p| p.segs.last())
                .and_then(|s| s.args.first())
            else {
                return true;
            };
            let gens = [&im.def.generics[..]];
            let cx = TyCx {
                module: im.module,
                self_ty: None,
                generics: &gens,
                subst: &[],
            };
            !matches!(ix.resolve_ty(arg, &cx), RTy::Adt(got, _) if got != *want)
        };
        if all.iter().all(|&f| fits(f)) {
            return all;
        }
        all.iter().copied().filter(|&f| fits(f)).collect()
    }

    /// The implementations of method `name` of any of the traits `ts` (`dyn A + B`), each
    /// once; `None` when there is none.
    fn dispatch_all(&self, ts: &[DefId], name: &str) -> Option<Arc<[FnId]>> {
        let mut lists = ts.iter().filter_map(|&t| self.trait_dispatch(t, name));
        let first = lists.next()?;
        let mut rest = lists.peekable();
        if rest.peek().is_none() {
            return (!first.is_empty()).then_some(first);
        }
        let mut seen: rustc_hash::FxHashSet<FnId> = first.iter().copied().collect();
        let mut all = first.to_vec();
        for l in rest {
            all.extend(l.iter().copied().filter(|&f| seen.insert(f)));
        }
        (!all.is_empty()).then(|| all.into())
    }

    /// The impl of workspace trait `t` for workspace type `d`, method `name`.
    pub(super) fn impl_method(&self, t: DefId, d: DefId, name: &str) -> Option<FnId> {
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
    pub(super) fn derived(&self, d: DefId, method: &str) -> bool {
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

    pub(super) fn no_workspace_method(&self, name: &str) -> bool {
        !self.ix.methods_by_name.contains_key(name)
    }

    pub(super) fn lookup_method(&self, recv: &RTy, name: &str, depth: u32) -> Lookup {
        if depth > 8 {
            return Lookup::NotFound("receiver type too deeply wrapped".into());
        }
        match recv {
            RTy::Adt(d, _) => {
                let fns = self.adt_methods(*d, name);
                if !fns.is_empty() {
                    return Lookup::Fns(fns.into(), false);
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
            RTy::Dyn(ts, args) => {
                if let Some(all) = self.dispatch_all(ts, name) {
                    return Lookup::Fns(self.fitting(ts[0], args, all), true);
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
    pub(super) fn ret_ty(&self, f: FnId, self_ty: Option<&RTy>) -> RTy {
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
            (Some(t), _) if !matches!(t, RTy::Dyn(..) | RTy::Unknown) => Some(t),
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

    pub(super) fn fns_result(
        &self,
        fns: Arc<[FnId]>,
        dispatch: bool,
        self_ty: Option<&RTy>,
    ) -> (CallRes, RTy) {
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
    pub(super) fn resolve_call(&self, c: &CallSite, recv_ty: Option<RTy>) -> (CallRes, RTy, RTy) {
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
                RTy::FnItem(f) => self.fns_result(Arc::new([f]), false, None),
                _ => (
                    CallRes::Unresolved(format!("call of a computed value `{}`", v.display())),
                    RTy::Unknown,
                ),
            },
        };
        (res, ty, RTy::Unknown)
    }

    /// The receiver type with wrappers peeled, as `Self` for return types.
    pub(super) fn concrete_self(&self, t: &RTy) -> Option<RTy> {
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

    pub(super) fn arg_ty(&self, c: &CallSite, i: usize) -> RTy {
        c.args.get(i).map(|a| self.eval(a)).unwrap_or(RTy::Unknown)
    }

    /// `Type::name(…)` where `Type` is a workspace ADT.
    pub(super) fn assoc_on_adt(&self, d: DefId, name: &str) -> (CallRes, RTy) {
        let fns = self.adt_methods(d, name);
        let st = RTy::Adt(d, Vec::new());
        if !fns.is_empty() {
            return self.fns_result(fns.into(), false, Some(&st));
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
    pub(super) fn assoc_on_trait(&self, t: DefId, name: &str, c: &CallSite) -> (CallRes, RTy) {
        let first = self.concrete_self(&self.arg_ty(c, 0));
        if let Some(RTy::Adt(d, _)) = &first {
            if let Some(m) = self.impl_method(t, *d, name) {
                return self.fns_result(Arc::new([m]), false, first.as_ref());
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

    pub(super) fn path_call(
        &self,
        path: &Path,
        qself: Option<&Ty>,
        c: &CallSite,
    ) -> (CallRes, RTy) {
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
                    Some(m) => self.fns_result(Arc::new([m]), false, Some(&st)),
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
                    RTy::FnItem(f) => self.fns_result(Arc::new([*f]), false, None),
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
                (RTy::Dyn(ts, _), 2) => {
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
                    if let RTy::Dyn(ts, _) = self.ix.dyn_of(self.module, &g.bounds) {
                        if let Some(all) = self.dispatch_all(&ts, name) {
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
            PathRes::Res(Res::Fn(f)) => self.fns_result(Arc::new([f]), false, None),
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
    pub(super) fn external_ctor(&self, path: &str, c: &CallSite) -> RTy {
        let mut it = path.rsplit("::");
        let last = it.next().unwrap_or("");
        let ty_name = it.next().unwrap_or("");
        match (ty_name, last) {
            ("Option", "Some") => RTy::Ext("Option".into(), vec![self.arg_ty(c, 0)]),
            ("Result", "Ok") => RTy::Ext("Result".into(), vec![self.arg_ty(c, 0)]),
            (w, "clone") if is_deref_wrapper(w) => self.arg_ty(c, 0),
            // `Box::pin(f)` / `Pin::new(f)`, awaited: what `f` gives (awaiting is transparent).
            ("Box" | "Pin", "pin" | "new") if matches!(ty_name, "Box") == (last == "pin") => {
                self.arg_ty(c, 0)
            }
            (w, "new" | "pin" | "from")
                if is_deref_wrapper(w) || matches!(w, "Mutex" | "RwLock" | "RefCell" | "Cell") =>
            {
                RTy::Ext(w.into(), vec![self.arg_ty(c, 0)])
            }
            _ => RTy::Unknown,
        }
    }
}
