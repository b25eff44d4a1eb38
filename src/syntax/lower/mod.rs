//! Lowering: one `syn::File` → one [`FileSummary`]. This is the only module (with `parse`) that
//! sees syntax trees.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, Item, Pat, Stmt, Token};

use crate::syntax::summary::*;

#[derive(Clone, Copy, Debug, Default)]
pub struct LowerOptions {
    /// Keep `#[cfg(test)]` items and `#[test]` functions.
    pub include_tests: bool,
}

pub fn lower_file(
    file: &syn::File,
    opts: LowerOptions,
    lines: u32,
    macro_budget: usize,
) -> (FileSummary, Option<MacroCut>) {
    let mut l = Lowerer {
        opts,
        modules: vec![ModItems::default()],
        scratch: Body::default(),
        macro_budget,
        cut: None,
    };
    l.items(&file.items, 0);
    l.modules.iter_mut().for_each(ModItems::shrink);
    let summary = FileSummary {
        modules: l.modules,
        lines,
        allows: Vec::new(),
    };
    (summary, l.cut)
}

/// How many bytes of macro input a file of `len` bytes may have read as code. Each macro nested
/// in another is read again with its parent, so without a bound a deep nest costs the square of
/// its size (SPEC §10). Real code re-reads a fraction of its size; this leaves it room to spare.
pub fn macro_budget(len: usize) -> usize {
    len.saturating_mul(4).saturating_add(64 << 10)
}

/// Macro invocations whose input was not read because the file's budget of macro input
/// ([`macro_budget`]) was spent: the first one's location, and how many.
#[derive(Clone, Copy, Debug)]
pub struct MacroCut {
    pub first: Loc,
    pub count: u32,
}

// ---------------------------------------------------------------------------------------------
// Locations

pub fn loc(span: Span) -> Loc {
    loc2(span, span)
}

pub fn loc2(start: Span, end: Span) -> Loc {
    let s = start.start();
    let e = end.end();
    Loc {
        line: s.line as u32,
        col: s.column as u32 + 1,
        end_line: e.line as u32,
        end_col: e.column as u32 + 1,
    }
}

/// The location of an identifier: one source-map lookup (the end follows from the name).
fn name_loc(span: Span, name: &str) -> Loc {
    let s = span.start();
    let len = name.chars().count() as u32;
    Loc {
        line: s.line as u32,
        col: s.column as u32 + 1,
        end_line: s.line as u32,
        end_col: s.column as u32 + 1 + len,
    }
}

/// The span of the first token of an expression, without building its token stream.
fn expr_start(e: &Expr) -> Span {
    match e {
        Expr::MethodCall(m) => expr_start(&m.receiver),
        Expr::Call(c) => expr_start(&c.func),
        Expr::Field(f) => expr_start(&f.base),
        Expr::Await(a) => expr_start(&a.base),
        Expr::Try(t) => expr_start(&t.expr),
        Expr::Index(i) => expr_start(&i.expr),
        Expr::Cast(c) => expr_start(&c.expr),
        Expr::Binary(b) => expr_start(&b.left),
        Expr::Paren(p) => p.paren_token.span.open(),
        Expr::Reference(r) => r.and_token.span,
        Expr::Path(p) => match &p.qself {
            Some(q) => q.lt_token.span,
            None => path_start(&p.path),
        },
        Expr::Macro(m) => path_start(&m.mac.path),
        Expr::Struct(s) => path_start(&s.path),
        Expr::Lit(l) => l.lit.span(),
        Expr::Tuple(t) => t.paren_token.span.open(),
        Expr::Block(b) => b.block.brace_token.span.open(),
        Expr::Async(a) => a.async_token.span,
        Expr::Closure(c) => c
            .asyncness
            .map(|a| a.span)
            .or(c.capture.map(|m| m.span))
            .unwrap_or(c.or1_token.span),
        Expr::Unary(u) => match u.op {
            syn::UnOp::Deref(t) => t.span,
            syn::UnOp::Not(t) => t.span,
            syn::UnOp::Neg(t) => t.span,
            _ => e.span(),
        },
        _ => e.span(),
    }
}

/// The span of the last token of an expression, without building its token stream (which
/// `Spanned::span` does, and which costs more than lowering the expression).
fn expr_end(e: &Expr) -> Span {
    match e {
        Expr::MethodCall(m) => m.paren_token.span.close(),
        Expr::Call(c) => c.paren_token.span.close(),
        Expr::Field(f) => match &f.member {
            syn::Member::Named(i) => i.span(),
            syn::Member::Unnamed(i) => i.span,
        },
        Expr::Await(a) => a.await_token.span,
        Expr::Try(t) => t.question_token.span,
        Expr::Index(i) => i.bracket_token.span.close(),
        Expr::Binary(b) => expr_end(&b.right),
        Expr::Assign(a) => expr_end(&a.right),
        Expr::Unary(u) => expr_end(&u.expr),
        Expr::Reference(r) => expr_end(&r.expr),
        Expr::Closure(c) => expr_end(&c.body),
        Expr::Let(l) => expr_end(&l.expr),
        Expr::Paren(p) => p.paren_token.span.close(),
        Expr::Tuple(t) => t.paren_token.span.close(),
        Expr::Array(a) => a.bracket_token.span.close(),
        Expr::Repeat(r) => r.bracket_token.span.close(),
        Expr::Struct(s) => s.brace_token.span.close(),
        Expr::Block(b) => b.block.brace_token.span.close(),
        Expr::Async(a) => a.block.brace_token.span.close(),
        Expr::Unsafe(u) => u.block.brace_token.span.close(),
        Expr::Const(c) => c.block.brace_token.span.close(),
        Expr::TryBlock(t) => t.block.brace_token.span.close(),
        Expr::Loop(l) => l.body.brace_token.span.close(),
        Expr::While(w) => w.body.brace_token.span.close(),
        Expr::ForLoop(f) => f.body.brace_token.span.close(),
        Expr::Match(m) => m.brace_token.span.close(),
        Expr::If(i) => match &i.else_branch {
            Some((_, els)) => expr_end(els),
            None => i.then_branch.brace_token.span.close(),
        },
        Expr::Macro(m) => m.mac.delimiter.span().close(),
        Expr::Lit(l) => l.lit.span(),
        Expr::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) if seg.arguments.is_none() => seg.ident.span(),
            _ => e.span(),
        },
        Expr::Return(r) => match &r.expr {
            Some(x) => expr_end(x),
            None => r.return_token.span,
        },
        Expr::Break(b) => match (&b.expr, &b.label) {
            (Some(x), _) => expr_end(x),
            (None, Some(l)) => l.ident.span(),
            (None, None) => b.break_token.span,
        },
        Expr::Continue(c) => match &c.label {
            Some(l) => l.ident.span(),
            None => c.continue_token.span,
        },
        _ => e.span(),
    }
}

/// Collecting into a vector of exactly the iterator's length. `collect` gives room for at least
/// four elements to any iterator whose length std cannot prove (`syn`'s are among them), and
/// summaries live for the whole run while most of their lists hold one or two: at 1M lines that
/// slack was a quarter of their memory.
trait CollectExact: ExactSizeIterator + Sized {
    fn collect_exact(self) -> Vec<Self::Item> {
        let mut v = Vec::with_capacity(self.len());
        v.extend(self);
        v
    }
}

impl<I: ExactSizeIterator> CollectExact for I {}

/// A vector without spare room (for lists built by filtering).
fn exact<T>(mut v: Vec<T>) -> Vec<T> {
    v.shrink_to_fit();
    v
}

/// The items of a `syn` punctuated list. (`Punctuated::iter` boxes its iterator: an allocation
/// per loop, more than a million per million lines.)
fn each<T, P>(p: &Punctuated<T, P>) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
    p.pairs().map(syn::punctuated::Pair::into_value)
}

fn path_start(p: &syn::Path) -> Span {
    match (&p.leading_colon, p.segments.first()) {
        (Some(c), _) => c.spans[0],
        (None, Some(s)) => s.ident.span(),
        _ => Span::call_site(),
    }
}

// ---------------------------------------------------------------------------------------------
// Types, paths, attributes, generics

pub fn lower_path(p: &syn::Path) -> Path {
    Path {
        global: p.leading_colon.is_some(),
        segs: each(&p.segments)
            .map(|s| PathSeg {
                name: ident_name(&s.ident),
                args: match &s.arguments {
                    syn::PathArguments::AngleBracketed(a) => each(&a.args)
                        .filter_map(|g| match g {
                            syn::GenericArgument::Type(t) => Some(lower_ty(t)),
                            _ => None,
                        })
                        .collect(),
                    _ => Box::default(),
                },
            })
            .collect_exact()
            .into_boxed_slice(),
    }
}

/// `r#type` → `type`.
fn ident_name(i: &syn::Ident) -> Name {
    // Formats straight into an inline small string: no allocation for short names.
    let s = smol_str::format_smolstr!("{i}");
    let s = match s.strip_prefix("r#") {
        Some(rest) => Name::new(rest),
        None => s,
    };
    // A huge identifier is shortened (the same way wherever it appears): see `bounded::name`.
    if s.len() > crate::bounded::MAX_NAME {
        return Name::new(crate::bounded::name(&s));
    }
    s
}

pub fn lower_ty(t: &syn::Type) -> Ty {
    match t {
        syn::Type::Path(p) => {
            if p.qself.is_some() {
                Ty::Unknown
            } else {
                Ty::Path(lower_path(&p.path))
            }
        }
        syn::Type::Reference(r) => Ty::Ref(Box::new(lower_ty(&r.elem))),
        syn::Type::Ptr(r) => Ty::Ref(Box::new(lower_ty(&r.elem))),
        syn::Type::TraitObject(o) => Ty::Bounds(trait_bounds(each(&o.bounds)).into()),
        syn::Type::ImplTrait(o) => Ty::Bounds(trait_bounds(each(&o.bounds)).into()),
        syn::Type::Tuple(t) => Ty::Tuple(each(&t.elems).map(lower_ty).collect_exact().into()),
        syn::Type::Slice(s) => Ty::Slice(Box::new(lower_ty(&s.elem))),
        syn::Type::Array(s) => Ty::Slice(Box::new(lower_ty(&s.elem))),
        syn::Type::Paren(p) => lower_ty(&p.elem),
        syn::Type::Group(g) => lower_ty(&g.elem),
        syn::Type::BareFn(_) => Ty::Fn,
        syn::Type::Infer(_) => Ty::Infer,
        _ => Ty::Unknown,
    }
}

fn trait_bounds<'a>(b: impl Iterator<Item = &'a syn::TypeParamBound>) -> Vec<Path> {
    exact(
        b.filter_map(|b| match b {
            syn::TypeParamBound::Trait(t) => Some(lower_path(&t.path)),
            _ => None,
        })
        .collect(),
    )
}

fn lower_generics(g: &syn::Generics) -> Vec<Generic> {
    let mut out: Vec<Generic> = g
        .type_params()
        .map(|tp| Generic {
            name: ident_name(&tp.ident),
            bounds: trait_bounds(each(&tp.bounds)),
        })
        .collect();
    if let Some(w) = &g.where_clause {
        for pred in each(&w.predicates) {
            if let syn::WherePredicate::Type(pt) = pred {
                if let syn::Type::Path(p) = &pt.bounded_ty {
                    if let Some(id) = p.path.get_ident() {
                        let name = ident_name(id);
                        let bounds = trait_bounds(each(&pt.bounds));
                        match out.iter_mut().find(|g| g.name == name) {
                            Some(g) => g.bounds.extend(bounds),
                            None => out.push(Generic { name, bounds }),
                        }
                    }
                }
            }
        }
    }
    out
}

/// `#[path = "x.rs"]`, then `#[cfg_attr(pred, path = "y.rs")]` values.
fn mod_path_attrs(attrs: &[syn::Attribute]) -> Vec<Name> {
    let str_value = |e: &Expr| match e {
        Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) => Some(Name::from(s.value())),
        _ => None,
    };
    let mut plain = Vec::new();
    let mut conditional = Vec::new();
    for a in attrs {
        if a.path().is_ident("path") {
            if let syn::Meta::NameValue(nv) = &a.meta {
                plain.extend(str_value(&nv.value));
            }
        } else if a.path().is_ident("cfg_attr") {
            let parsed = a.parse_args_with(Punctuated::<syn::Meta, Token![,]>::parse_terminated);
            if let Ok(metas) = parsed {
                for m in metas.iter().skip(1) {
                    if let syn::Meta::NameValue(nv) = m {
                        if nv.path.is_ident("path") {
                            conditional.extend(str_value(&nv.value));
                        }
                    }
                }
            }
        }
    }
    plain.extend(conditional);
    plain
}

/// `#[derive(Debug, Clone, serde::Serialize)]` → `[Debug, Clone, Serialize]`.
fn derives(attrs: &[syn::Attribute]) -> Vec<Name> {
    let mut out = Vec::new();
    for a in attrs.iter().filter(|a| a.path().is_ident("derive")) {
        // Parsed in the file's arena region; only the names are kept.
        let idents = threadlint_alloc::arena::nested(|| {
            let mut idents = Vec::new();
            let _ = a.parse_nested_meta(|m| {
                if let Some(last) = m.path.segments.last() {
                    idents.push(last.ident.clone());
                }
                Ok(())
            });
            idents
        });
        out.extend(idents.iter().map(ident_name));
    }
    out
}

/// Attributes whose arguments never matter to the analysis (their presence may).
fn args_irrelevant(a: &syn::Attribute) -> bool {
    [
        "derive", "allow", "warn", "deny", "inline", "must_use", "serde", "repr", "expect",
    ]
    .iter()
    .any(|n| a.path().is_ident(n))
}

fn lower_attrs(attrs: &[syn::Attribute]) -> Vec<Attr> {
    attrs
        .iter()
        .filter(|a| !a.path().is_ident("doc"))
        .map(|a| {
            let args = match &a.meta {
                _ if args_irrelevant(a) => String::new(),
                syn::Meta::Path(_) => String::new(),
                syn::Meta::List(l) => l.tokens.to_string(),
                syn::Meta::NameValue(nv) => quote::ToTokens::to_token_stream(&nv.value).to_string(),
            };
            Attr {
                path: each(&a.path().segments)
                    .map(|s| ident_name(&s.ident))
                    .collect_exact(),
                args: args.into(),
                loc: loc2(a.pound_token.span, a.bracket_token.span.close()),
            }
        })
        .collect()
}

/// `#[cfg(test)]`, `#[cfg(all(test, …))]` (but not `not(test)`).
pub(crate) fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        if !a.path().is_ident("cfg") {
            return false;
        }
        let syn::Meta::List(l) = &a.meta else {
            return false;
        };
        let mut saw_test = false;
        let mut saw_not = false;
        threadlint_alloc::arena::nested(|| {
            scan_idents(l.tokens.clone(), &mut |id| {
                if id == "test" {
                    saw_test = true;
                } else if id == "not" {
                    saw_not = true;
                }
            })
        });
        saw_test && !saw_not
    })
}

fn scan_idents(ts: TokenStream, f: &mut impl FnMut(&str)) {
    for tt in ts {
        match tt {
            TokenTree::Ident(i) => f(&i.to_string()),
            TokenTree::Group(g) => scan_idents(g.stream(), f),
            _ => {}
        }
    }
}

/// `#[test]`, `#[tokio::test]`, `#[rstest]`, `#[test_case(…)]`, `#[bench]`.
pub(crate) fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| {
        let last = a.path().segments.last().map(|s| s.ident.to_string());
        matches!(
            last.as_deref(),
            Some("test" | "rstest" | "test_case" | "bench" | "test_log")
        ) && !a.path().is_ident("cfg")
    }) || is_cfg_test(attrs)
}

// ---------------------------------------------------------------------------------------------
// Items

struct Lowerer {
    opts: LowerOptions,
    modules: Vec<ModItems>,
    /// The body being built, kept between functions so its vectors grow once per file.
    scratch: Body,
    /// Bytes of macro input that may still be read as code (see [`macro_budget`]).
    macro_budget: usize,
    cut: Option<MacroCut>,
}

impl Lowerer {
    fn items(&mut self, items: &[Item], m: usize) {
        for item in items {
            self.item(item, m);
        }
    }

    fn item(&mut self, item: &Item, m: usize) {
        let skip_tests = !self.opts.include_tests;
        match item {
            Item::Fn(f) => {
                if skip_tests && is_test_fn(&f.attrs) {
                    return;
                }
                let def = self.lower_fn(&f.attrs, &f.sig, Some(&f.block), m);
                self.modules[m].fns.push(def);
            }
            Item::Mod(md) => {
                let is_test = is_cfg_test(&md.attrs);
                if skip_tests && is_test {
                    return;
                }
                let path_attrs = mod_path_attrs(&md.attrs);
                let inline = md.content.as_ref().map(|(_, items)| {
                    let idx = self.modules.len();
                    self.modules.push(ModItems::default());
                    self.items(items, idx);
                    idx as u32
                });
                self.modules[m].mods.push(ModDecl {
                    name: ident_name(&md.ident),
                    loc: loc(md.ident.span()),
                    plain_path: md.attrs.iter().any(|a| a.path().is_ident("path")),
                    path_attrs,
                    inline,
                    is_test,
                });
            }
            Item::Struct(s) => {
                if skip_tests && is_cfg_test(&s.attrs) {
                    return;
                }
                let (fields, tuple) = lower_fields(&s.fields);
                self.modules[m].adts.push(AdtDef {
                    kind: AdtKind::Struct,
                    name: ident_name(&s.ident),
                    loc: loc(s.ident.span()),
                    attrs: lower_attrs(&s.attrs),
                    generics: lower_generics(&s.generics),
                    fields,
                    is_tuple_or_unit: tuple,
                    derives: derives(&s.attrs),
                    variants: Vec::new(),
                });
            }
            Item::Union(s) => {
                let (fields, _) = lower_fields(&syn::Fields::Named(s.fields.clone()));
                self.modules[m].adts.push(AdtDef {
                    kind: AdtKind::Union,
                    name: ident_name(&s.ident),
                    loc: loc(s.ident.span()),
                    attrs: lower_attrs(&s.attrs),
                    generics: lower_generics(&s.generics),
                    fields,
                    is_tuple_or_unit: false,
                    derives: derives(&s.attrs),
                    variants: Vec::new(),
                });
            }
            Item::Enum(e) => {
                if skip_tests && is_cfg_test(&e.attrs) {
                    return;
                }
                self.modules[m].adts.push(AdtDef {
                    kind: AdtKind::Enum,
                    name: ident_name(&e.ident),
                    loc: loc(e.ident.span()),
                    attrs: lower_attrs(&e.attrs),
                    generics: lower_generics(&e.generics),
                    fields: Vec::new(),
                    is_tuple_or_unit: false,
                    derives: derives(&e.attrs),
                    variants: each(&e.variants)
                        .map(|v| VariantDef {
                            name: ident_name(&v.ident),
                            fields: lower_fields(&v.fields).0,
                            loc: loc(v.ident.span()),
                        })
                        .collect_exact(),
                });
            }
            Item::Trait(t) => {
                if skip_tests && is_cfg_test(&t.attrs) {
                    return;
                }
                let mut methods = Vec::new();
                for ti in &t.items {
                    if let syn::TraitItem::Fn(f) = ti {
                        methods.push(self.lower_fn(&f.attrs, &f.sig, f.default.as_ref(), m));
                    }
                }
                self.modules[m].traits.push(TraitDef {
                    name: ident_name(&t.ident),
                    loc: loc(t.ident.span()),
                    attrs: lower_attrs(&t.attrs),
                    generics: lower_generics(&t.generics),
                    supertraits: trait_bounds(each(&t.supertraits)),
                    methods,
                });
            }
            Item::Impl(im) => {
                if skip_tests && is_cfg_test(&im.attrs) {
                    return;
                }
                let mut methods = Vec::new();
                let mut assoc_types = Vec::new();
                for ii in &im.items {
                    match ii {
                        syn::ImplItem::Fn(f) => {
                            if skip_tests && is_test_fn(&f.attrs) {
                                continue;
                            }
                            methods.push(self.lower_fn(&f.attrs, &f.sig, Some(&f.block), m));
                        }
                        syn::ImplItem::Type(t) => {
                            assoc_types.push((ident_name(&t.ident), lower_ty(&t.ty)))
                        }
                        _ => {}
                    }
                }
                self.modules[m].impls.push(ImplDef {
                    loc: loc2(im.impl_token.span, im.brace_token.span.close()),
                    attrs: lower_attrs(&im.attrs),
                    generics: lower_generics(&im.generics),
                    trait_: im.trait_.as_ref().map(|(_, p, _)| lower_path(p)),
                    self_ty: lower_ty(&im.self_ty),
                    methods,
                    assoc_types,
                });
            }
            Item::Type(t) => self.modules[m].aliases.push(AliasDef {
                name: ident_name(&t.ident),
                loc: loc(t.ident.span()),
                generics: lower_generics(&t.generics),
                ty: lower_ty(&t.ty),
            }),
            Item::Static(s) => self.modules[m].statics.push(StaticDef {
                kind: StaticKind::Static,
                name: ident_name(&s.ident),
                ty: lower_ty(&s.ty),
                loc: loc(s.ident.span()),
            }),
            Item::Const(s) => self.modules[m].statics.push(StaticDef {
                kind: StaticKind::Const,
                name: ident_name(&s.ident),
                ty: lower_ty(&s.ty),
                loc: loc(s.ident.span()),
            }),
            Item::Use(u) => {
                let is_pub = !matches!(u.vis, syn::Visibility::Inherited);
                let mut prefix = Vec::new();
                flatten_use(
                    &u.tree,
                    u.leading_colon.is_some(),
                    &mut prefix,
                    is_pub,
                    &mut self.modules[m].uses,
                );
            }
            Item::ExternCrate(ec) => {
                let name = ident_name(&ec.ident);
                let alias = ec
                    .rename
                    .as_ref()
                    .map(|(_, i)| ident_name(i))
                    .unwrap_or_else(|| name.clone());
                let is_pub = !matches!(ec.vis, syn::Visibility::Inherited);
                self.modules[m].uses.push(UseDef {
                    global: true,
                    path: vec![name],
                    kind: UseKind::Named(alias),
                    is_pub,
                    loc: loc(ec.ident.span()),
                });
            }
            Item::Macro(im) => {
                let name = im
                    .mac
                    .path
                    .segments
                    .last()
                    .map(|s| ident_name(&s.ident))
                    .unwrap_or_default();
                match &*name {
                    "macro_rules" => {}
                    "thread_local" | "task_local" => {
                        let kind = if &*name == "thread_local" {
                            StaticKind::ThreadLocal
                        } else {
                            StaticKind::TaskLocal
                        };
                        match parse_local_keys.parse2(im.mac.tokens.clone()) {
                            Ok(keys) => {
                                for (n, ty, span) in keys {
                                    self.modules[m].statics.push(StaticDef {
                                        kind,
                                        name: n,
                                        ty,
                                        loc: loc(span),
                                    });
                                }
                            }
                            Err(_) => self.modules[m]
                                .opaque_macros
                                .push((name, loc(path_start(&im.mac.path)))),
                        }
                    }
                    _ => self.modules[m]
                        .opaque_macros
                        .push((name, loc(path_start(&im.mac.path)))),
                }
            }
            _ => {}
        }
    }

    fn lower_fn(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: Option<&syn::Block>,
        m: usize,
    ) -> FnDef {
        let mut self_param = None;
        let mut params = Vec::with_capacity(sig.inputs.len());
        let mut b = BodyBuilder::new(self, m);
        b.ev(Event::Enter);
        for input in each(&sig.inputs) {
            match input {
                syn::FnArg::Receiver(r) => {
                    self_param = Some(match (&r.reference, r.mutability) {
                        (Some(_), Some(_)) => SelfParam::RefMut,
                        (Some(_), None) => SelfParam::Ref,
                        _ => SelfParam::Value,
                    });
                    // `self`, `&self`: Self; `self: Arc<Self>`: as written.
                    let ty = if r.colon_token.is_some() {
                        lower_ty(&r.ty)
                    } else {
                        Ty::Path(Path::single("Self"))
                    };
                    b.ev(Event::Bind(Box::new(Bind {
                        name: "self".into(),
                        ty: Some(Box::new(ty.clone())),
                        value: VExpr::Typed(Box::new(ty)),
                        loc: loc(r.self_token.span),
                    })));
                }
                syn::FnArg::Typed(pt) => {
                    let ty = lower_ty(&pt.ty);
                    let name = match &*pt.pat {
                        Pat::Ident(pi) if pi.subpat.is_none() => Some(ident_name(&pi.ident)),
                        _ => None,
                    };
                    params.push(Param {
                        name,
                        ty: ty.clone(),
                        loc: loc(pat_span(&pt.pat)),
                    });
                    if block.is_some() {
                        b.bind_pat(&pt.pat, VExpr::Typed(Box::new(ty.clone())), Some(ty));
                    }
                }
            }
        }
        let body = block.map(|blk| {
            b.ev(Event::ParamsEnd);
            let (v, _) = b.block_inner(blk);
            b.ev(Event::Return(Box::new(v)));
            b.ev(Event::Exit);
            b.body.take_exact()
        });
        let mut scratch = b.body;
        scratch.clear();
        self.scratch = scratch;
        let end = block
            .map(|b| b.brace_token.span.close())
            .unwrap_or_else(|| sig.ident.span());
        FnDef {
            name: ident_name(&sig.ident),
            loc: loc(sig.ident.span()),
            item_loc: loc2(sig.fn_token.span, end),
            attrs: lower_attrs(attrs),
            is_async: sig.asyncness.is_some(),
            is_test: is_test_fn(attrs),
            generics: lower_generics(&sig.generics),
            self_param,
            params,
            ret: match &sig.output {
                syn::ReturnType::Default => None,
                syn::ReturnType::Type(_, t) => Some(lower_ty(t)),
            },
            body,
        }
    }
}

fn pat_span(p: &Pat) -> Span {
    match p {
        Pat::Ident(i) => i.ident.span(),
        _ => p.span(),
    }
}

fn lower_fields(f: &syn::Fields) -> (Vec<FieldDef>, bool) {
    match f {
        syn::Fields::Named(n) => (
            each(&n.named)
                .map(|f| FieldDef {
                    name: f.ident.as_ref().map(ident_name).unwrap_or_default(),
                    ty: lower_ty(&f.ty),
                    loc: loc(f
                        .ident
                        .as_ref()
                        .map(|i| i.span())
                        .unwrap_or_else(|| f.ty.span())),
                })
                .collect_exact(),
            false,
        ),
        syn::Fields::Unnamed(u) => (
            each(&u.unnamed)
                .enumerate()
                .map(|(i, f)| FieldDef {
                    name: i.to_string().into(),
                    ty: lower_ty(&f.ty),
                    loc: loc(f.ty.span()),
                })
                .collect_exact(),
            true,
        ),
        syn::Fields::Unit => (Vec::new(), true),
    }
}

fn flatten_use(
    tree: &syn::UseTree,
    global: bool,
    prefix: &mut Vec<Name>,
    is_pub: bool,
    out: &mut Vec<UseDef>,
) {
    match tree {
        syn::UseTree::Path(p) => {
            prefix.push(ident_name(&p.ident));
            flatten_use(&p.tree, global, prefix, is_pub, out);
            prefix.pop();
        }
        syn::UseTree::Name(n) => {
            let name = ident_name(&n.ident);
            if &*name == "self" {
                // `use a::b::{self}` binds `b`.
                if let Some(last) = prefix.last().cloned() {
                    out.push(UseDef {
                        global,
                        path: prefix.clone(),
                        kind: UseKind::Named(last),
                        is_pub,
                        loc: loc(n.ident.span()),
                    });
                }
            } else {
                let mut path = prefix.clone();
                path.push(name.clone());
                out.push(UseDef {
                    global,
                    path,
                    kind: UseKind::Named(name),
                    is_pub,
                    loc: loc(n.ident.span()),
                });
            }
        }
        syn::UseTree::Rename(r) => {
            let name = ident_name(&r.ident);
            let path = if &*name == "self" {
                prefix.clone()
            } else {
                let mut p = prefix.clone();
                p.push(name);
                p
            };
            out.push(UseDef {
                global,
                path,
                kind: UseKind::Named(ident_name(&r.rename)),
                is_pub,
                loc: loc(r.rename.span()),
            });
        }
        syn::UseTree::Glob(g) => out.push(UseDef {
            global,
            path: prefix.clone(),
            kind: UseKind::Glob,
            is_pub,
            loc: loc(g.star_token.span),
        }),
        syn::UseTree::Group(g) => {
            for t in each(&g.items) {
                flatten_use(t, global, prefix, is_pub, out);
            }
        }
    }
}

/// The declarations inside `thread_local! { … }` / `task_local! { … }`.
fn parse_local_keys(input: ParseStream) -> syn::Result<Vec<(Name, Ty, Span)>> {
    let mut out = Vec::new();
    while !input.is_empty() {
        input.call(syn::Attribute::parse_outer)?;
        input.parse::<syn::Visibility>()?;
        input.parse::<Token![static]>()?;
        let name: syn::Ident = input.parse()?;
        input.parse::<Token![:]>()?;
        let ty: syn::Type = input.parse()?;
        if input.peek(Token![=]) {
            input.parse::<Token![=]>()?;
            input.parse::<Expr>()?;
        }
        if input.peek(Token![;]) {
            input.parse::<Token![;]>()?;
        }
        out.push((ident_name(&name), lower_ty(&ty), name.span()));
    }
    Ok(out)
}

mod body;
use body::BodyBuilder;

#[cfg(test)]
mod tests {
    use super::*;

    /// Every expression of every fixture file (and of the lowering itself, which is dense Rust):
    /// `expr_end` ends where the expression's whole token stream ends.
    #[test]
    fn expr_end_is_where_the_tokens_end() {
        struct Check(usize);
        impl<'a> syn::visit::Visit<'a> for Check {
            fn visit_expr(&mut self, e: &'a Expr) {
                let (got, want) = (expr_end(e).end(), e.span().end());
                assert_eq!(
                    (got.line, got.column),
                    (want.line, want.column),
                    "{}",
                    quote::quote!(#e)
                );
                self.0 += 1;
                syn::visit::visit_expr(self, e);
            }
        }
        let mut files: Vec<std::path::PathBuf> =
            ignore::Walk::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
                .filter_map(Result::ok)
                .map(|e| e.into_path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
        files.push(file!().into());
        files.push(concat!(env!("CARGO_MANIFEST_DIR"), "/src/resolve/mod.rs").into());
        let mut check = Check(0);
        for p in &files {
            let text = std::fs::read_to_string(p).unwrap();
            if let Ok(f) = syn::parse_file(&text) {
                syn::visit::visit_file(&mut check, &f);
            }
        }
        assert!(check.0 > 10_000, "only {} expressions", check.0);
    }
}
