//! The per-file summary: everything later stages need to know about one source file, and nothing
//! more. It is built from the `syn` tree by [`crate::syntax::lower`] and the tree is dropped right after, so
//! no syntax tree outlives its file (rust-analyzer's rule: syntax never leaks into the analysis).
//!
//! Function bodies are reduced to an ordered list of [`Event`]s (bindings, calls, assignments,
//! closure boundaries, scopes). Values are [`VExpr`]s: small expression shapes that say where a value
//! comes from (a local, a field of a local, the result of call #n, a closure, a struct literal …),
//! which is what both receiver-type inference and the propagation analysis need.

use serde::{Deserialize, Serialize};

/// Interned-enough string type for names.
pub type Name = smol_str::SmolStr;

pub use crate::diagnostic::Loc;

/// A path as written: `a::b::<T>::c`, `::x`, `Self::m`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Path {
    /// Starts with `::`.
    pub global: bool,
    pub segs: Box<[PathSeg]>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PathSeg {
    pub name: Name,
    /// Generic arguments written on this segment (types only).
    pub args: Box<[Ty]>,
}

impl Path {
    pub fn single(name: &str) -> Path {
        Path {
            global: false,
            segs: Box::new([PathSeg {
                name: name.into(),
                args: Box::default(),
            }]),
        }
    }
    /// `f` of the segment names (on the stack when there are few).
    pub fn with_names<R>(&self, f: impl FnOnce(&[&str]) -> R) -> R {
        with_strs(self.segs.iter().map(|s| &*s.name), f)
    }
    pub fn last_name(&self) -> &str {
        self.segs.last().map(|s| &*s.name).unwrap_or("")
    }
    pub fn is_single(&self) -> bool {
        !self.global && self.segs.len() == 1
    }
    /// `a::b::c`, without generic arguments.
    pub fn display(&self) -> String {
        let mut s = String::new();
        if self.global {
            s.push_str("::");
        }
        for (i, seg) in self.segs.iter().enumerate() {
            if i > 0 {
                s.push_str("::");
            }
            s.push_str(&seg.name);
        }
        s
    }
}

/// `f` of a list of names, put on the stack when there are few.
pub fn with_strs<'a, R>(
    names: impl ExactSizeIterator<Item = &'a str>,
    f: impl FnOnce(&[&str]) -> R,
) -> R {
    let mut buf = [""; 8];
    let n = names.len();
    if n <= buf.len() {
        for (b, s) in buf.iter_mut().zip(names) {
            *b = s;
        }
        return f(&buf[..n]);
    }
    let names: Vec<&str> = names.collect();
    f(&names)
}

/// A type as written, reduced to what resolution needs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Ty {
    Path(Path),
    /// `&T`, `&mut T`, `*const T`: references are looked through everywhere.
    Ref(Box<Ty>),
    /// `dyn A + B` or `impl A + B`: the trait bounds.
    Bounds(Box<[Path]>),
    Tuple(Box<[Ty]>),
    /// `[T]`, `[T; N]`.
    Slice(Box<Ty>),
    Fn,
    Infer,
    Unknown,
}

impl Ty {
    /// Strip references.
    pub fn peel(&self) -> &Ty {
        let mut t = self;
        while let Ty::Ref(inner) = t {
            t = inner;
        }
        t
    }
}

/// An attribute, reduced to its path and (for a few) its argument text.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Attr {
    pub path: Vec<Name>,
    /// The raw tokens inside the parentheses or after `=`, as text.
    pub args: Box<str>,
    pub loc: Loc,
}

impl Attr {
    pub fn last(&self) -> &str {
        self.path.last().map(|s| &**s).unwrap_or("")
    }
}

/// Where a value comes from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum VExpr {
    /// A one-segment path in value position: usually a local (also `self`).
    Local(Name),
    /// A longer path in value position: a const/static, a unit struct, a function item.
    Path(Box<Path>),
    Field(Box<VExpr>, Name),
    TupleField(Box<VExpr>, u32),
    /// `x[i]`.
    Index(Box<VExpr>),
    /// The value of call #n of this body.
    Call(u32),
    /// Closure or async block #n of this body.
    Closure(u32),
    /// `e?`, or the payload of `Some(x)`/`Ok(x)` in a pattern.
    Unwrap(Box<VExpr>),
    /// An element of an iterable (`for x in e`).
    Elem(Box<VExpr>),
    /// `Path { field: value, ..rest }`.
    Struct(Box<StructLit>),
    Tuple(Vec<VExpr>),
    /// A value of a known written type (a parameter pattern, a cast, a typed closure parameter).
    Typed(Box<Ty>),
    /// Parameter #i of closure #c (untyped: inferred from the call the closure is handed to).
    ClosureArg(u32, u32),
    Lit,
    /// The value of a macro invocation (`format!(…)`).
    Macro(Name),
    Unknown,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StructLit {
    pub path: Path,
    pub loc: Loc,
    pub fields: Vec<(Name, VExpr)>,
    pub rest: Option<VExpr>,
}

impl VExpr {
    /// A bare `None`: it says openly that there is no value, and nothing of a type.
    pub fn is_bare_none(&self) -> bool {
        matches!(self, VExpr::Local(n) if &**n == "None")
    }

    /// A value path: one plain segment becomes [`VExpr::Local`].
    pub fn path(p: Path) -> VExpr {
        if p.is_single() && p.segs[0].args.is_empty() {
            VExpr::Local(
                p.segs
                    .into_vec()
                    .into_iter()
                    .next()
                    .map(|s| s.name)
                    .unwrap_or_default(),
            )
        } else {
            VExpr::Path(Box::new(p))
        }
    }

    /// A short human form: `self.registry`, `msg.thread_id`, `foo(…)`.
    pub fn display(&self) -> String {
        match self {
            VExpr::Local(n) => n.to_string(),
            VExpr::Path(p) => p.display(),
            VExpr::Field(b, n) => format!("{}.{}", b.display(), n),
            VExpr::TupleField(b, i) => format!("{}.{}", b.display(), i),
            VExpr::Index(b) => format!("{}[…]", b.display()),
            VExpr::Call(_) => "(…)".into(),
            VExpr::Closure(_) => "|…| …".into(),
            VExpr::Unwrap(b) => format!("{}?", b.display()),
            VExpr::Elem(b) => format!("<elem of {}>", b.display()),
            VExpr::Struct(s) => format!("{} {{ … }}", s.path.display()),
            VExpr::Tuple(_) => "(…)".into(),
            VExpr::Typed(_) | VExpr::ClosureArg(..) => "_".into(),
            VExpr::Lit => "<literal>".into(),
            VExpr::Macro(n) => format!("{n}!(…)"),
            VExpr::Unknown => "_".into(),
        }
    }
}

/// What is being called.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Callee {
    /// `foo(…)`, `a::b(…)`, `Type::m(…)`, `<T as Trait>::m(…)` (`qself` = `T`).
    Path { path: Path, qself: Option<Box<Ty>> },
    /// `recv.name(…)`.
    Method { recv: VExpr, name: Name },
    /// `(expr)(…)` where the callee is not a path.
    Value(VExpr),
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CallSite {
    pub callee: Callee,
    pub args: Vec<VExpr>,
    pub loc: Loc,
}

impl CallSite {
    pub fn callee_text(&self) -> String {
        match &self.callee {
            Callee::Path { path, .. } => path.display(),
            Callee::Method { recv, name } => format!("{}.{}", recv.display(), name),
            Callee::Value(v) => v.display(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosureKind {
    Closure,
    AsyncBlock,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClosureDef {
    pub kind: ClosureKind,
    pub is_move: bool,
    pub is_async: bool,
    pub loc: Loc,
    /// The closure this one is nested in (index in the same body).
    pub parent: Option<u32>,
    /// When the closure is an argument of a call: the receiver (or, for a path call, the
    /// callee path) and the method or function name (`items.iter().map(|x| …)`,
    /// `tokio::spawn(async { … })`), so that parameter types and handoffs can be inferred.
    pub recv_hint: Option<(VExpr, Name)>,
}

/// One step of a function body, in source order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Event {
    /// A block scope opens / closes.
    Enter,
    Exit,
    /// A binding (see [`Bind`]), boxed to keep events at 16 bytes.
    Bind(Box<Bind>),
    /// Call #n happens here (its arguments' calls come before it).
    Call(u32),
    /// `place = value` (also `*place = value`, compound assignment).
    Assign(Box<Assign>),
    /// The body of closure #n starts / ends.
    ClosureStart(u32),
    ClosureEnd(u32),
    /// `return value` or a body's tail value.
    Return(Box<VExpr>),
    /// A macro whose input could not be read as Rust: its name and location.
    OpaqueMacro(Box<(Name, Loc)>),
    /// The function's parameters are bound; its body starts.
    ParamsEnd,
}

/// `let name: ty = value` (after pattern destructuring: `value` is the projection).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Bind {
    pub name: Name,
    pub ty: Option<Box<Ty>>,
    pub value: VExpr,
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Assign {
    pub place: VExpr,
    pub value: VExpr,
    pub loc: Loc,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Body {
    pub events: Vec<Event>,
    pub calls: Vec<CallSite>,
    pub closures: Vec<ClosureDef>,
}

impl Body {
    /// Moves the contents out into vectors of exactly their length, leaving `self` empty with
    /// its capacity, ready to build the next body. Summaries live for the whole run: the slack
    /// of vectors grown by doubling would be a third of their memory.
    pub fn take_exact(&mut self) -> Body {
        fn exact<T>(v: &mut Vec<T>) -> Vec<T> {
            let mut w = Vec::with_capacity(v.len());
            w.append(v);
            w
        }
        Body {
            events: exact(&mut self.events),
            calls: exact(&mut self.calls),
            closures: exact(&mut self.closures),
        }
    }

    pub fn clear(&mut self) {
        self.events.clear();
        self.calls.clear();
        self.closures.clear();
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Generic {
    pub name: Name,
    pub bounds: Vec<Path>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Param {
    /// The binding name for simple `name: Ty` parameters (`None` for patterns like `State(s)`).
    pub name: Option<Name>,
    pub ty: Ty,
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SelfParam {
    Value,
    Ref,
    RefMut,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FnDef {
    pub name: Name,
    /// The name's location.
    pub loc: Loc,
    /// The whole item.
    pub item_loc: Loc,
    pub attrs: Vec<Attr>,
    pub is_async: bool,
    pub is_test: bool,
    pub generics: Vec<Generic>,
    pub self_param: Option<SelfParam>,
    pub params: Vec<Param>,
    pub ret: Option<Ty>,
    /// `None` for a trait method without a default body.
    pub body: Option<Body>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FieldDef {
    /// The field name, or its index for tuple fields.
    pub name: Name,
    pub ty: Ty,
    pub loc: Loc,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct VariantDef {
    pub name: Name,
    pub fields: Vec<FieldDef>,
    pub loc: Loc,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdtKind {
    Struct,
    Enum,
    Union,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AdtDef {
    pub kind: AdtKind,
    pub name: Name,
    pub loc: Loc,
    pub attrs: Vec<Attr>,
    pub generics: Vec<Generic>,
    /// Struct fields (named or tuple).
    pub fields: Vec<FieldDef>,
    /// A tuple or unit struct (also a value: its constructor).
    pub is_tuple_or_unit: bool,
    /// The traits named in `#[derive(…)]` (last path segment).
    pub derives: Vec<Name>,
    pub variants: Vec<VariantDef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TraitDef {
    pub name: Name,
    pub loc: Loc,
    pub attrs: Vec<Attr>,
    pub generics: Vec<Generic>,
    pub supertraits: Vec<Path>,
    pub methods: Vec<FnDef>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ImplDef {
    pub loc: Loc,
    pub attrs: Vec<Attr>,
    pub generics: Vec<Generic>,
    pub trait_: Option<Path>,
    pub self_ty: Ty,
    pub methods: Vec<FnDef>,
    /// `type Target = …;` and other associated types, by name.
    pub assoc_types: Vec<(Name, Ty)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AliasDef {
    pub name: Name,
    pub loc: Loc,
    pub generics: Vec<Generic>,
    pub ty: Ty,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StaticKind {
    Static,
    Const,
    ThreadLocal,
    TaskLocal,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StaticDef {
    pub kind: StaticKind,
    pub name: Name,
    pub ty: Ty,
    pub loc: Loc,
}

/// One flattened `use` item: `use a::b::c as d;` → path `[a, b, c]`, kind `Named(d)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct UseDef {
    pub global: bool,
    pub path: Vec<Name>,
    pub kind: UseKind,
    pub is_pub: bool,
    pub loc: Loc,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum UseKind {
    /// Binds this name (the last segment, or the `as` rename; `_` binds nothing).
    Named(Name),
    Glob,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModDecl {
    pub name: Name,
    pub loc: Loc,
    /// `#[path = "…"]`.
    /// `#[path = "…"]` first, then the paths of `#[cfg_attr(…, path = "…")]` (every cfg variant).
    pub path_attrs: Vec<Name>,
    /// The first of `path_attrs` is a plain `#[path]` (not conditional).
    pub plain_path: bool,
    /// For `mod x { … }`: the index of its items in [`FileSummary::modules`].
    pub inline: Option<u32>,
    pub is_test: bool,
}

/// The items of one module (the file's own, or an inline `mod x { … }` inside it).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ModItems {
    pub mods: Vec<ModDecl>,
    pub fns: Vec<FnDef>,
    pub adts: Vec<AdtDef>,
    pub traits: Vec<TraitDef>,
    pub impls: Vec<ImplDef>,
    pub aliases: Vec<AliasDef>,
    pub statics: Vec<StaticDef>,
    pub uses: Vec<UseDef>,
    /// Item-position macros that were not understood (`foo! { … }`).
    pub opaque_macros: Vec<(Name, Loc)>,
}

impl ModItems {
    /// Gives back the spare room of lists grown by pushing (they live for the whole run).
    pub fn shrink(&mut self) {
        self.mods.shrink_to_fit();
        self.fns.shrink_to_fit();
        self.adts.shrink_to_fit();
        self.traits.shrink_to_fit();
        for t in &mut self.traits {
            t.methods.shrink_to_fit();
        }
        self.impls.shrink_to_fit();
        for i in &mut self.impls {
            i.methods.shrink_to_fit();
        }
        self.aliases.shrink_to_fit();
        self.statics.shrink_to_fit();
        self.uses.shrink_to_fit();
        self.opaque_macros.shrink_to_fit();
    }
}

/// `// threadlint: allow(TP001, TP003) reason: <why>` — covers its own line and the next one.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CommentAllow {
    pub line: u32,
    pub col: u32,
    pub codes: Vec<Name>,
    pub reason: Option<Name>,
}

/// The summary of one file. `modules[0]` is the file's own module.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileSummary {
    pub modules: Vec<ModItems>,
    pub lines: u32,
    pub allows: Vec<CommentAllow>,
}
