//! The index: every item of every crate with its qualified name, each module's scope with its
//! `use` declarations resolved (renames, globs, nested groups, `self`/`super`/`crate`, `pub use`
//! chains across modules and crates), and the impl tables method resolution needs.
//!
//! **Architecture invariant:** names only (no types, no bodies); built sequentially from the
//! summaries in a stable order, so ids are deterministic for a given workspace.

use rustc_hash::FxHashMap as HashMap;

use crate::discover::Project;
use crate::syntax::parse::Parsed;
use crate::syntax::summary::*;

pub type ModId = usize;
pub type DefId = usize;
pub type FnId = usize;
pub type ImplId = usize;

#[derive(Clone, Debug, PartialEq)]
pub enum Res {
    Module(ModId),
    Def(DefId),
    Fn(FnId),
    /// Enum variant (enum def, variant index).
    Variant(DefId, u32),
    /// Something outside the workspace, by its full path (`tokio::spawn`, `std::sync::Arc`).
    External(Name),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ns {
    Types,
    Values,
}

#[derive(Clone, Copy, Debug)]
pub enum DefKind<'s> {
    Adt(&'s AdtDef),
    Trait(&'s TraitDef),
    Alias(&'s AliasDef),
    Static(&'s StaticDef),
}

#[derive(Clone, Debug)]
pub struct Def<'s> {
    pub name: Name,
    pub module: ModId,
    pub kind: DefKind<'s>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    Free,
    Impl(ImplId),
    Trait(DefId),
}

#[derive(Clone, Debug)]
pub struct FnInfo<'s> {
    pub def: &'s FnDef,
    pub module: ModId,
    pub file: usize,
    pub owner: Owner,
}

#[derive(Clone, Debug)]
pub struct ImplInfo<'s> {
    pub def: &'s ImplDef,
    pub module: ModId,
    pub file: usize,
    /// The workspace type this impl is for, if it is one.
    pub self_adt: Option<DefId>,
    /// The workspace trait implemented, if any.
    pub trait_def: Option<DefId>,
    pub methods: Vec<FnId>,
}

#[derive(Clone, Debug)]
struct Binding {
    res: Res,
    glob: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Scope {
    types: HashMap<Name, Binding>,
    values: HashMap<Name, Binding>,
}

static EMPTY_ITEMS: ModItems = ModItems {
    mods: Vec::new(),
    fns: Vec::new(),
    adts: Vec::new(),
    traits: Vec::new(),
    impls: Vec::new(),
    aliases: Vec::new(),
    statics: Vec::new(),
    uses: Vec::new(),
    opaque_macros: Vec::new(),
};

pub struct ModuleInfo<'s> {
    pub krate: usize,
    pub name: Name,
    pub parent: Option<ModId>,
    /// `None` when the module's file is missing or did not parse.
    pub file: Option<usize>,
    pub items: &'s ModItems,
    /// `crate_display::a::b`.
    pub qname: String,
}

pub struct Index<'s> {
    pub project: &'s Project,
    pub parsed: &'s Parsed,
    pub modules: Vec<ModuleInfo<'s>>,
    pub scopes: Vec<Scope>,
    pub defs: Vec<Def<'s>>,
    pub fns: Vec<FnInfo<'s>>,
    pub impls: Vec<ImplInfo<'s>>,
    /// Trait def → its methods (declarations, with or without default bodies).
    pub trait_methods: HashMap<DefId, Vec<FnId>>,
    pub inherent_impls: HashMap<DefId, Vec<ImplId>>,
    /// Trait impls by the workspace type they are for.
    pub trait_impls_of_type: HashMap<DefId, Vec<ImplId>>,
    pub impls_of_trait: HashMap<DefId, Vec<ImplId>>,
    /// Every method and associated fn (in impls and traits), by name.
    pub methods_by_name: HashMap<Name, Vec<FnId>>,
    /// Crate root modules (by crate index).
    pub crate_roots: Vec<Option<ModId>>,
}

/// Names of the std prelude that are not items of the workspace.
fn prelude(name: &str) -> Option<Res> {
    let path = match name {
        "Some" | "None" => "std::option::Option",
        "Ok" | "Err" => "std::result::Result",
        "Option" => "std::option::Option",
        "Result" => "std::result::Result",
        "Box" => "std::boxed::Box",
        "Vec" => "std::vec::Vec",
        "String" => "std::string::String",
        "Default" => "std::default::Default",
        "ToString" => "std::string::ToString",
        "Clone" => "std::clone::Clone",
        "Drop" => "std::ops::Drop",
        "From" => "std::convert::From",
        "Into" => "std::convert::Into",
        "Iterator" => "std::iter::Iterator",
        "drop" => "std::mem::drop",
        "std" | "core" | "alloc" | "proc_macro" | "test" => {
            return Some(Res::External(name.into()))
        }
        _ => return None,
    };
    if matches!(name, "Some" | "None" | "Ok" | "Err") {
        return Some(Res::External(format!("{path}::{name}").into()));
    }
    Some(Res::External(path.into()))
}

#[derive(Debug)]
pub enum PathRes {
    Res(Res),
    /// `Type::name` / `Trait::name`: an associated item of a type or trait.
    Assoc(Res, Name),
    NotFound(String),
}

impl<'s> Index<'s> {
    pub fn build(project: &'s Project, parsed: &'s Parsed) -> Index<'s> {
        let mut ix = Index {
            project,
            parsed,
            modules: Vec::with_capacity(parsed.modules.len()),
            scopes: vec![Scope::default(); parsed.modules.len()],
            defs: Vec::new(),
            fns: Vec::new(),
            impls: Vec::new(),
            trait_methods: HashMap::default(),
            inherent_impls: HashMap::default(),
            trait_impls_of_type: HashMap::default(),
            impls_of_trait: HashMap::default(),
            methods_by_name: HashMap::default(),
            crate_roots: parsed.crate_roots.clone(),
        };
        // Modules and their qualified names (parents always come before children).
        for (i, m) in parsed.modules.iter().enumerate() {
            let qname = match m.parent {
                None => project.crates[m.krate].display.clone(),
                Some(p) => format!("{}::{}", ix.modules[p].qname, m.name),
            };
            let items = match m.file {
                Some(f) => &parsed.files[f].summary.modules[m.local as usize],
                None => &EMPTY_ITEMS,
            };
            ix.modules.push(ModuleInfo {
                krate: m.krate,
                name: m.name.clone(),
                parent: m.parent,
                file: m.file,
                items,
                qname,
            });
            for (name, child) in &m.children {
                ix.scopes[i].types.insert(
                    name.clone(),
                    Binding {
                        res: Res::Module(*child),
                        glob: false,
                    },
                );
            }
        }
        ix.collect_items();
        ix.resolve_imports();
        ix.resolve_impls();
        ix
    }

    fn bind(&mut self, m: ModId, ns: Ns, name: &Name, res: Res) {
        let scope = &mut self.scopes[m];
        let map = match ns {
            Ns::Types => &mut scope.types,
            Ns::Values => &mut scope.values,
        };
        map.entry(name.clone())
            .or_insert(Binding { res, glob: false });
    }

    fn collect_items(&mut self) {
        for m in 0..self.modules.len() {
            let items = self.modules[m].items;
            let Some(file) = self.modules[m].file else {
                continue;
            };
            for f in &items.fns {
                let id = self.fns.len();
                self.fns.push(FnInfo {
                    def: f,
                    module: m,
                    file,
                    owner: Owner::Free,
                });
                self.bind(m, Ns::Values, &f.name, Res::Fn(id));
            }
            for a in &items.adts {
                let id = self.defs.len();
                self.defs.push(Def {
                    name: a.name.clone(),
                    module: m,
                    kind: DefKind::Adt(a),
                });
                self.bind(m, Ns::Types, &a.name, Res::Def(id));
                if a.is_tuple_or_unit {
                    self.bind(m, Ns::Values, &a.name, Res::Def(id));
                }
            }
            for t in &items.traits {
                let id = self.defs.len();
                self.defs.push(Def {
                    name: t.name.clone(),
                    module: m,
                    kind: DefKind::Trait(t),
                });
                self.bind(m, Ns::Types, &t.name, Res::Def(id));
                let mut ms = Vec::new();
                for f in &t.methods {
                    let fid = self.fns.len();
                    self.fns.push(FnInfo {
                        def: f,
                        module: m,
                        file,
                        owner: Owner::Trait(id),
                    });
                    self.methods_by_name
                        .entry(f.name.clone())
                        .or_default()
                        .push(fid);
                    ms.push(fid);
                }
                self.trait_methods.insert(id, ms);
            }
            for a in &items.aliases {
                let id = self.defs.len();
                self.defs.push(Def {
                    name: a.name.clone(),
                    module: m,
                    kind: DefKind::Alias(a),
                });
                self.bind(m, Ns::Types, &a.name, Res::Def(id));
            }
            for s in &items.statics {
                let id = self.defs.len();
                self.defs.push(Def {
                    name: s.name.clone(),
                    module: m,
                    kind: DefKind::Static(s),
                });
                self.bind(m, Ns::Values, &s.name, Res::Def(id));
            }
            for im in &items.impls {
                let id = self.impls.len();
                let mut methods = Vec::new();
                for f in &im.methods {
                    let fid = self.fns.len();
                    self.fns.push(FnInfo {
                        def: f,
                        module: m,
                        file,
                        owner: Owner::Impl(id),
                    });
                    self.methods_by_name
                        .entry(f.name.clone())
                        .or_default()
                        .push(fid);
                    methods.push(fid);
                }
                self.impls.push(ImplInfo {
                    def: im,
                    module: m,
                    file,
                    self_adt: None,
                    trait_def: None,
                    methods,
                });
            }
        }
    }

    /// The qualified display name of a function (`chat::engine::Engine::run`,
    /// `chat::tools::<Search as Tool>::call`), made when a message or a view needs it.
    pub fn fn_qname(&self, f: FnId) -> String {
        let info = &self.fns[f];
        let module = &self.modules[info.module].qname;
        let name = &info.def.name;
        match info.owner {
            Owner::Free => format!("{module}::{name}"),
            Owner::Trait(t) => format!("{module}::{}::{name}", self.defs[t].name),
            Owner::Impl(i) => {
                let im = self.impls[i].def;
                let self_name = match im.self_ty.peel() {
                    Ty::Path(p) => p.last_name(),
                    _ => "_",
                };
                match &im.trait_ {
                    Some(t) => format!("{module}::<{self_name} as {}>::{name}", t.last_name()),
                    None => format!("{module}::{self_name}::{name}"),
                }
            }
        }
    }

    fn lookup_scope(&self, m: ModId, name: &str, ns: Ns) -> Option<&Res> {
        let s = &self.scopes[m];
        let map = match ns {
            Ns::Types => &s.types,
            Ns::Values => &s.values,
        };
        map.get(name).map(|b| &b.res)
    }

    /// Resolve a name at the start of a path, from module `m`.
    fn lookup_first(&self, m: ModId, name: &str, ns: Ns) -> Option<Res> {
        if let Some(r) = self.lookup_scope(m, name, ns) {
            return Some(r.clone());
        }
        let krate = &self.project.crates[self.modules[m].krate];
        if ns == Ns::Types {
            if let Some(&c) = krate.externs.get(name) {
                return self.crate_roots.get(c).copied().flatten().map(Res::Module);
            }
            if krate.external.iter().any(|e| e == name) {
                return Some(Res::External(name.into()));
            }
        }
        prelude(name)
    }

    /// Resolve a path from module `m`. `Self` is the caller's business.
    pub fn resolve_path(&self, m: ModId, path: &Path, ns: Ns) -> PathRes {
        path.with_names(|names| self.resolve_names(m, path.global, names, ns))
    }

    pub fn resolve_names(&self, m: ModId, global: bool, names: &[&str], ns: Ns) -> PathRes {
        self.resolve_names_ex(m, global, names, ns, true)
    }

    /// With `guess`, an unknown lowercase first segment of a longer path is taken for an extern
    /// crate that no manifest declared (loose files, macro-generated code).
    fn resolve_names_ex(
        &self,
        m: ModId,
        global: bool,
        names: &[&str],
        ns: Ns,
        guess: bool,
    ) -> PathRes {
        let Some((&first, rest)) = names.split_first() else {
            return PathRes::NotFound("empty path".into());
        };
        let first_ns = if rest.is_empty() { ns } else { Ns::Types };
        let mut cur = if global {
            let krate = &self.project.crates[self.modules[m].krate];
            match krate.externs.get(first) {
                Some(&c) => match self.crate_roots.get(c).copied().flatten() {
                    Some(r) => Res::Module(r),
                    None => return PathRes::NotFound(format!("crate `{first}` could not be read")),
                },
                None => Res::External(first.into()),
            }
        } else {
            match first {
                "crate" => Res::Module(self.crate_root_of(m)),
                "self" => Res::Module(m),
                "super" => match self.modules[m].parent {
                    Some(p) => Res::Module(p),
                    None => return PathRes::NotFound("`super` at the crate root".into()),
                },
                _ => match self.lookup_first(m, first, first_ns) {
                    Some(r) => r,
                    None if rest.is_empty() && ns == Ns::Values => {
                        // A unit/tuple struct used as a value is bound in both namespaces; try types
                        // for aliases of such structs.
                        match self.lookup_first(m, first, Ns::Types) {
                            Some(r @ Res::Def(_)) => r,
                            _ => {
                                return PathRes::NotFound(format!("cannot find `{first}` in scope"))
                            }
                        }
                    }
                    None if guess
                        && !rest.is_empty()
                        && first.chars().next().is_some_and(|c| c.is_ascii_lowercase()) =>
                    {
                        // Most likely an extern crate not declared in a manifest we read.
                        Res::External(first.into())
                    }
                    None => return PathRes::NotFound(format!("cannot find `{first}` in scope")),
                },
            }
        };
        for (i, &seg) in rest.iter().enumerate() {
            let last = i + 1 == rest.len();
            let seg_ns = if last { ns } else { Ns::Types };
            cur = match cur {
                Res::Module(md) => match seg {
                    "super" => match self.modules[md].parent {
                        Some(p) => Res::Module(p),
                        None => return PathRes::NotFound("`super` at the crate root".into()),
                    },
                    "self" => Res::Module(md),
                    _ => match self.lookup_scope(md, seg, seg_ns) {
                        Some(r) => r.clone(),
                        None if self.modules[md].file.is_none() => {
                            return PathRes::NotFound(format!(
                                "`{seg}` would be in module `{}`, whose file is missing or did not parse",
                                self.modules[md].qname
                            ))
                        }
                        None => match (last, ns) {
                            (true, Ns::Values) => match self.lookup_scope(md, seg, Ns::Types) {
                                Some(r @ Res::Def(_)) => r.clone(),
                                _ => {
                                    return PathRes::NotFound(format!(
                                        "cannot find `{seg}` in `{}`",
                                        self.modules[md].qname
                                    ))
                                }
                            },
                            _ => {
                                return PathRes::NotFound(format!(
                                    "cannot find `{seg}` in `{}`",
                                    self.modules[md].qname
                                ))
                            }
                        },
                    },
                },
                Res::External(p) => {
                    // Outside the workspace the rest of the path is taken as written.
                    let mut s = String::with_capacity(
                        p.len() + rest[i..].iter().map(|r| r.len() + 2).sum::<usize>(),
                    );
                    s.push_str(&p);
                    for r in &rest[i..] {
                        s.push_str("::");
                        s.push_str(r);
                    }
                    return PathRes::Res(Res::External(s.into()));
                }
                Res::Def(d) => {
                    if let DefKind::Adt(a) = self.defs[d].kind {
                        if let Some(vi) = a.variants.iter().position(|v| &*v.name == seg) {
                            if last {
                                return PathRes::Res(Res::Variant(d, vi as u32));
                            }
                        }
                    }
                    if last {
                        return PathRes::Assoc(Res::Def(d), seg.into());
                    }
                    return PathRes::NotFound(format!("associated path `{}` is not supported", names.join("::")));
                }
                Res::Fn(_) | Res::Variant(..) => {
                    return PathRes::NotFound(format!("`{}` is not a module or type", names.join("::")))
                }
            };
        }
        PathRes::Res(cur)
    }

    pub fn crate_root_of(&self, mut m: ModId) -> ModId {
        while let Some(p) = self.modules[m].parent {
            m = p;
        }
        m
    }

    /// Resolve every `use` to a fixed point (re-export chains need several rounds).
    fn resolve_imports(&mut self) {
        // (module, use index) still pending.
        let mut pending: Vec<(ModId, usize)> = Vec::new();
        let mut globs: Vec<(ModId, usize)> = Vec::new();
        for (m, info) in self.modules.iter().enumerate() {
            for (i, u) in info.items.uses.iter().enumerate() {
                match u.kind {
                    UseKind::Named(ref n) if &**n == "_" => {}
                    UseKind::Named(_) => pending.push((m, i)),
                    UseKind::Glob => globs.push((m, i)),
                }
            }
        }
        let mut guess = false;
        for _round in 0..64 {
            let mut changed = false;
            let mut still = Vec::with_capacity(pending.len());
            for (m, i) in pending {
                let u = &self.modules[m].items.uses[i];
                let UseKind::Named(alias) = &u.kind else {
                    continue;
                };
                let mut found = false;
                for ns in [Ns::Types, Ns::Values] {
                    let res = with_strs(u.path.iter().map(|s| &**s), |names| {
                        self.resolve_names_ex(m, u.global, names, ns, guess)
                    });
                    if let PathRes::Res(r) = res {
                        // Do not bind a use to itself (`use foo;` where foo is an extern crate).
                        let scope = &mut self.scopes[m];
                        let map = match ns {
                            Ns::Types => &mut scope.types,
                            Ns::Values => &mut scope.values,
                        };
                        match map.get(alias) {
                            Some(b) if !b.glob => {}
                            _ => {
                                map.insert(
                                    alias.clone(),
                                    Binding {
                                        res: r,
                                        glob: false,
                                    },
                                );
                                changed = true;
                            }
                        }
                        found = true;
                    }
                }
                if !found {
                    still.push((m, i));
                }
            }
            pending = still;
            for &(m, i) in &globs {
                let u = &self.modules[m].items.uses[i];
                let res = with_strs(u.path.iter().map(|s| &**s), |names| {
                    self.resolve_names(m, u.global, names, Ns::Types)
                });
                match res {
                    PathRes::Res(Res::Module(src)) if src != m => {
                        let from = self.scopes[src].clone();
                        for (ns, map) in [(Ns::Types, from.types), (Ns::Values, from.values)] {
                            for (name, b) in map {
                                let scope = &mut self.scopes[m];
                                let dst = match ns {
                                    Ns::Types => &mut scope.types,
                                    Ns::Values => &mut scope.values,
                                };
                                if let std::collections::hash_map::Entry::Vacant(e) =
                                    dst.entry(name)
                                {
                                    e.insert(Binding {
                                        res: b.res,
                                        glob: true,
                                    });
                                    changed = true;
                                }
                            }
                        }
                    }
                    PathRes::Res(Res::Def(d)) => {
                        if let DefKind::Adt(a) = self.defs[d].kind {
                            for (vi, v) in a.variants.iter().enumerate() {
                                let scope = &mut self.scopes[m];
                                if let std::collections::hash_map::Entry::Vacant(e) =
                                    scope.values.entry(v.name.clone())
                                {
                                    e.insert(Binding {
                                        res: Res::Variant(d, vi as u32),
                                        glob: true,
                                    });
                                    changed = true;
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            if !changed {
                if guess || pending.is_empty() {
                    break;
                }
                // Fixed point without guesses: now let unknown crates be external, once.
                guess = true;
            } else {
                guess = false;
            }
        }
    }

    /// Resolve a type path to a workspace ADT, through aliases.
    pub fn adt_of_path(&self, m: ModId, path: &Path) -> Option<DefId> {
        let mut depth = 0;
        let mut cur = match self.resolve_path(m, path, Ns::Types) {
            PathRes::Res(Res::Def(d)) => d,
            _ => return None,
        };
        loop {
            match self.defs[cur].kind {
                DefKind::Adt(_) => return Some(cur),
                DefKind::Alias(a) if depth < 16 => {
                    depth += 1;
                    let Ty::Path(p) = a.ty.peel() else {
                        return None;
                    };
                    cur = match self.resolve_path(self.defs[cur].module, p, Ns::Types) {
                        PathRes::Res(Res::Def(d)) => d,
                        _ => return None,
                    };
                }
                _ => return None,
            }
        }
    }

    pub fn trait_of_path(&self, m: ModId, path: &Path) -> Option<DefId> {
        match self.resolve_path(m, path, Ns::Types) {
            PathRes::Res(Res::Def(d)) if matches!(self.defs[d].kind, DefKind::Trait(_)) => Some(d),
            _ => None,
        }
    }

    fn resolve_impls(&mut self) {
        for i in 0..self.impls.len() {
            let m = self.impls[i].module;
            let def = self.impls[i].def;
            let self_adt = match def.self_ty.peel() {
                Ty::Path(p) => self.adt_of_path(m, p),
                _ => None,
            };
            let trait_def = def.trait_.as_ref().and_then(|t| self.trait_of_path(m, t));
            self.impls[i].self_adt = self_adt;
            self.impls[i].trait_def = trait_def;
            match (self_adt, trait_def, &def.trait_) {
                (Some(a), None, None) => self.inherent_impls.entry(a).or_default().push(i),
                (Some(a), _, Some(_)) => self.trait_impls_of_type.entry(a).or_default().push(i),
                _ => {}
            }
            if let Some(t) = trait_def {
                self.impls_of_trait.entry(t).or_default().push(i);
            }
        }
    }

    /// All supertraits of a trait (and itself), breadth first, without repeats.
    pub fn trait_closure(&self, t: DefId) -> Vec<DefId> {
        let mut out = vec![t];
        let mut i = 0;
        while i < out.len() {
            let cur = out[i];
            if let DefKind::Trait(td) = self.defs[cur].kind {
                for sp in &td.supertraits {
                    if let Some(s) = self.trait_of_path(self.defs[cur].module, sp) {
                        if !out.contains(&s) {
                            out.push(s);
                        }
                    }
                }
            }
            i += 1;
        }
        out
    }

    /// The name of a threadlint attribute as written in module `m`, resolved through `use` like a
    /// call path (`use threadlint_macros::tool as skill; #[skill]` is `tool`); other attributes
    /// by their last segment.
    pub fn attr_name<'a>(&self, m: ModId, attr: &'a Attr) -> std::borrow::Cow<'a, str> {
        if let PathRes::Res(Res::External(p)) = self.resolve_attr(m, attr) {
            if let Some(rest) = p.strip_prefix("threadlint_macros::") {
                return std::borrow::Cow::Owned(rest.to_string());
            }
        }
        std::borrow::Cow::Borrowed(attr.last())
    }

    /// Is this attribute one of threadlint's (`threadlint_macros::allow`, not rustc's `allow`)?
    pub fn is_threadlint_attr(&self, m: ModId, attr: &Attr) -> bool {
        matches!(
            self.resolve_attr(m, attr),
            PathRes::Res(Res::External(p)) if p.starts_with("threadlint_macros::")
        ) || attr.path.len() >= 2
    }

    /// An attribute's path resolved from module `m`, like a type path.
    fn resolve_attr(&self, m: ModId, attr: &Attr) -> PathRes {
        with_strs(attr.path.iter().map(|s| &**s), |names| {
            self.resolve_names(m, false, names, Ns::Types)
        })
    }
}
