//! Function bodies to events: bindings, calls, closures, assignments and returns in source
//! order, with macro input read where it is code.

use super::*;

// ---------------------------------------------------------------------------------------------
// Bodies

pub(super) struct BodyBuilder<'l> {
    lowerer: &'l mut Lowerer,
    module: usize,
    pub(super) body: Body,
    closure_stack: Vec<u32>,
    macro_stack: Vec<Name>,
    /// Set just before lowering a closure that is a method call's argument.
    closure_hint: Option<(VExpr, Name)>,
    /// The values of the last macro's arguments, when it was read as a list.
    macro_values: Vec<VExpr>,
    /// The values given to `break` in each enclosing loop.
    loop_values: Vec<Vec<VExpr>>,
}

const DIVERGING_MACROS: &[&str] = &["panic", "unreachable", "todo", "unimplemented", "bail"];

fn diverges(e: &Expr) -> bool {
    match e {
        Expr::Return(_) | Expr::Break(_) | Expr::Continue(_) => true,
        Expr::Macro(m) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| DIVERGING_MACROS.iter().any(|d| s.ident == d)),
        Expr::Block(b) => block_diverges(&b.block),
        _ => false,
    }
}

fn block_diverges(b: &syn::Block) -> bool {
    match b.stmts.last() {
        Some(Stmt::Expr(e, _)) => diverges(e),
        Some(Stmt::Macro(m)) => m
            .mac
            .path
            .segments
            .last()
            .is_some_and(|s| DIVERGING_MACROS.iter().any(|d| s.ident == d)),
        _ => false,
    }
}

impl<'l> BodyBuilder<'l> {
    pub(super) fn new(lowerer: &'l mut Lowerer, module: usize) -> Self {
        let body = std::mem::take(&mut lowerer.scratch);
        BodyBuilder {
            lowerer,
            module,
            body,
            closure_stack: Vec::new(),
            macro_stack: Vec::new(),
            closure_hint: None,
            macro_values: Vec::new(),
            loop_values: Vec::new(),
        }
    }

    /// The value of a scope that began at event `start`, made valid outside it: a name bound
    /// inside (`Ok(agent) => agent`, `{ let a = f(); a }`) stands for what it was bound to, since
    /// after the scope the same name is the outer binding (`let agent = match agent { … }`).
    fn escape(&self, start: usize, v: VExpr) -> VExpr {
        let events = &self.body.events[start.min(self.body.events.len())..];
        let mut v = v;
        // `{ let a = f(); let b = a; b }`: a few steps, each to an earlier binding.
        let mut before = events.len();
        for _ in 0..4 {
            let VExpr::Local(n) = &v else { break };
            let Some((at, value)) = events[..before]
                .iter()
                .enumerate()
                .rev()
                .find_map(|(i, e)| match e {
                    Event::Bind(b) if b.name == *n => Some((i, &b.value)),
                    _ => None,
                })
            else {
                break;
            };
            if matches!(value, VExpr::Unknown) {
                break;
            }
            // The binding's own value may name the outer binding (the scrutinee of
            // `Ok(agent) => agent`): that is right outside the scope too.
            v = value.clone();
            before = at;
        }
        v
    }

    pub(super) fn ev(&mut self, e: Event) {
        // An empty scope (`{ Enter, Exit }`) says nothing: drop it.
        if matches!(e, Event::Exit) && matches!(self.body.events.last(), Some(Event::Enter)) {
            self.body.events.pop();
            return;
        }
        self.body.events.push(e);
    }

    pub(super) fn call(&mut self, callee: Callee, args: Vec<VExpr>, loc: Loc) -> VExpr {
        let id = self.body.calls.len() as u32;
        self.body.calls.push(CallSite { callee, args, loc });
        self.ev(Event::Call(id));
        VExpr::Call(id)
    }

    pub(super) fn block(&mut self, b: &syn::Block) -> VExpr {
        self.ev(Event::Enter);
        let (v, _) = self.block_inner(b);
        self.ev(Event::Exit);
        v
    }

    /// Lower statements; returns the tail value and whether the block diverges.
    pub(super) fn block_inner(&mut self, b: &syn::Block) -> (VExpr, bool) {
        self.stmts(&b.stmts)
    }

    pub(super) fn stmts(&mut self, stmts: &[Stmt]) -> (VExpr, bool) {
        let mut tail = VExpr::Unknown;
        for (i, s) in stmts.iter().enumerate() {
            let last = i + 1 == stmts.len();
            match s {
                Stmt::Local(l) => {
                    let value = match &l.init {
                        Some(init) => {
                            let v = self.expr(&init.expr);
                            if let Some((_, d)) = &init.diverge {
                                self.ev(Event::Enter);
                                self.expr(d);
                                self.ev(Event::Exit);
                            }
                            v
                        }
                        None => VExpr::Unknown,
                    };
                    self.bind_pat(&l.pat, value, None);
                }
                Stmt::Item(item) => {
                    let m = self.module;
                    self.lowerer.item(item, m);
                }
                Stmt::Expr(e, semi) => {
                    let v = self.expr(e);
                    if last && semi.is_none() {
                        tail = v;
                    }
                }
                Stmt::Macro(sm) => {
                    self.mac(&sm.mac);
                }
            }
        }
        let div = match stmts.last() {
            Some(Stmt::Expr(e, _)) => diverges(e),
            _ => false,
        };
        (tail, div)
    }

    pub(super) fn bind_pat(&mut self, p: &Pat, value: VExpr, ty: Option<Ty>) {
        match p {
            Pat::Ident(pi) => {
                if let Some((_, sub)) = &pi.subpat {
                    self.bind_pat(sub, value.clone(), ty.clone());
                }
                let name = ident_name(&pi.ident);
                let loc = name_loc(pi.ident.span(), &name);
                self.ev(Event::Bind(Box::new(Bind {
                    name,
                    ty: ty.map(Box::new),
                    value,
                    loc,
                })));
            }
            Pat::Type(pt) => {
                let t = lower_ty(&pt.ty);
                self.bind_pat(&pt.pat, value, Some(t));
            }
            Pat::Reference(r) => self.bind_pat(&r.pat, value, ty.map(|t| t.peel().clone())),
            Pat::Paren(pp) => self.bind_pat(&pp.pat, value, ty),
            Pat::Tuple(t) => {
                let tys = match ty.as_ref().map(|t| t.peel()) {
                    Some(Ty::Tuple(ts)) => Some(ts.clone()),
                    _ => None,
                };
                for (i, e) in each(&t.elems).enumerate() {
                    let sub_ty = tys.as_ref().and_then(|ts| ts.get(i).cloned());
                    self.bind_pat(
                        e,
                        VExpr::TupleField(Box::new(value.clone()), i as u32),
                        sub_ty,
                    );
                }
            }
            Pat::TupleStruct(ts) => {
                let last = ts.path.segments.last().map(|s| ident_name(&s.ident));
                let is_payload =
                    matches!(last.as_deref(), Some("Some" | "Ok")) && ts.path.segments.len() == 1;
                for (i, e) in each(&ts.elems).enumerate() {
                    let v = if is_payload && i == 0 {
                        VExpr::Unwrap(Box::new(value.clone()))
                    } else {
                        VExpr::Field(
                            Box::new(pat_ctor(&value, last.as_deref().unwrap_or(""))),
                            i.to_string().into(),
                        )
                    };
                    self.bind_pat(e, v, None);
                }
            }
            Pat::Struct(ps) => {
                let last = ps
                    .path
                    .segments
                    .last()
                    .map(|s| ident_name(&s.ident))
                    .unwrap_or_default();
                for f in each(&ps.fields) {
                    let fname: Name = match &f.member {
                        syn::Member::Named(i) => ident_name(i),
                        syn::Member::Unnamed(ix) => ix.index.to_string().into(),
                    };
                    let v = VExpr::Field(Box::new(pat_ctor(&value, &last)), fname);
                    self.bind_pat(&f.pat, v, None);
                }
            }
            Pat::Slice(s) => {
                for e in each(&s.elems) {
                    self.bind_pat(e, VExpr::Elem(Box::new(value.clone())), None);
                }
            }
            Pat::Or(o) => {
                if let Some(first) = o.cases.first() {
                    self.bind_pat(first, value, ty);
                }
            }
            _ => {}
        }
    }

    pub(super) fn closure_start(
        &mut self,
        kind: ClosureKind,
        is_move: bool,
        is_async: bool,
        l: Loc,
    ) -> u32 {
        let id = self.body.closures.len() as u32;
        let recv_hint = self.closure_hint.take();
        self.body.closures.push(ClosureDef {
            kind,
            is_move,
            is_async,
            loc: l,
            parent: self.closure_stack.last().copied(),
            recv_hint,
        });
        self.closure_stack.push(id);
        self.ev(Event::ClosureStart(id));
        self.ev(Event::Enter);
        id
    }

    pub(super) fn closure_end(&mut self, id: u32, tail: VExpr) {
        self.ev(Event::Return(Box::new(tail)));
        self.ev(Event::Exit);
        self.ev(Event::ClosureEnd(id));
        self.closure_stack.pop();
    }

    /// Lower an expression: emit its events, return where its value comes from.
    pub(super) fn expr(&mut self, e: &Expr) -> VExpr {
        match e {
            Expr::Array(a) => {
                for x in each(&a.elems) {
                    self.expr(x);
                }
                VExpr::Unknown
            }
            Expr::Assign(a) => {
                let place = self.expr(&a.left);
                let value = self.expr(&a.right);
                self.ev(Event::Assign(Box::new(Assign {
                    place,
                    value,
                    loc: loc2(expr_start(&a.left), a.eq_token.span),
                })));
                VExpr::Lit
            }
            Expr::Async(a) => {
                let id = self.closure_start(
                    ClosureKind::AsyncBlock,
                    a.capture.is_some(),
                    true,
                    loc2(a.async_token.span, a.block.brace_token.span.close()),
                );
                let (v, _) = self.block_inner(&a.block);
                self.closure_end(id, v);
                VExpr::Closure(id)
            }
            Expr::Await(a) => self.expr(&a.base),
            Expr::Binary(b) => {
                let l = self.expr(&b.left);
                let r = self.expr(&b.right);
                if is_compound_assign(&b.op) {
                    self.ev(Event::Assign(Box::new(Assign {
                        place: l,
                        value: r,
                        loc: loc(expr_start(&b.left)),
                    })));
                }
                VExpr::Unknown
            }
            Expr::Block(b) => self.block(&b.block),
            Expr::Break(b) => {
                if let Some(x) = &b.expr {
                    let v = self.expr(x);
                    if let Some(top) = self.loop_values.last_mut() {
                        top.push(v);
                    }
                }
                VExpr::Unknown
            }
            Expr::Call(c) => {
                let callee = match &*c.func {
                    Expr::Path(p) => Callee::Path {
                        path: lower_path(&p.path),
                        qself: p.qself.as_ref().map(|q| Box::new(lower_ty(&q.ty))),
                    },
                    other => Callee::Value(self.expr(other)),
                };
                let hint = match &callee {
                    Callee::Path { path, .. } => {
                        Some((VExpr::Unknown, Name::new(path.last_name())))
                    }
                    _ => None,
                };
                let args = each(&c.args)
                    .map(|a| {
                        // `spawn(async {…})`, also wrapped: `spawn(async {…}.instrument(s))`,
                        // `spawn(Box::pin(async {…}))`: the closure is handed to this call.
                        if wrapped_closure(a) && self.closure_hint.is_none() {
                            self.closure_hint = hint.clone();
                        }
                        self.expr(a)
                    })
                    .collect_exact();
                let l = loc2(expr_start(&c.func), c.paren_token.span.close());
                self.call(callee, args, l)
            }
            Expr::Cast(c) => {
                self.expr(&c.expr);
                VExpr::Typed(Box::new(lower_ty(&c.ty)))
            }
            Expr::Closure(c) => {
                let start = expr_start(e);
                let id = self.closure_start(
                    ClosureKind::Closure,
                    c.capture.is_some(),
                    c.asyncness.is_some(),
                    loc2(start, expr_end(&c.body)),
                );
                for (pi, input) in each(&c.inputs).enumerate() {
                    match input {
                        Pat::Type(pt) => {
                            let t = lower_ty(&pt.ty);
                            self.bind_pat(&pt.pat, VExpr::Typed(Box::new(t.clone())), Some(t));
                        }
                        other => self.bind_pat(other, VExpr::ClosureArg(id, pi as u32), None),
                    }
                }
                let v = self.expr(&c.body);
                self.closure_end(id, v);
                VExpr::Closure(id)
            }
            Expr::Const(c) => self.block(&c.block),
            Expr::Field(f) => {
                let base = self.expr(&f.base);
                if too_deep(&base) {
                    return VExpr::Unknown;
                }
                match &f.member {
                    syn::Member::Named(i) => VExpr::Field(Box::new(base), ident_name(i)),
                    syn::Member::Unnamed(ix) => VExpr::TupleField(Box::new(base), ix.index),
                }
            }
            Expr::ForLoop(f) => {
                let it = self.expr(&f.expr);
                self.ev(Event::Enter);
                self.bind_pat(&f.pat, VExpr::Elem(Box::new(it)), None);
                self.block(&f.body);
                self.ev(Event::Exit);
                VExpr::Unknown
            }
            Expr::Group(g) => self.expr(&g.expr),
            Expr::Paren(p) => self.expr(&p.expr),
            Expr::If(i) => {
                let start = self.body.events.len();
                self.ev(Event::Enter);
                self.expr(&i.cond);
                let then_v = self.block(&i.then_branch);
                let then_v = self.escape(start, then_v);
                self.ev(Event::Exit);
                let then_div = block_diverges(&i.then_branch);
                match &i.else_branch {
                    Some((_, els)) => {
                        let start = self.body.events.len();
                        self.ev(Event::Enter);
                        let else_v = self.expr(els);
                        let else_v = self.escape(start, else_v);
                        self.ev(Event::Exit);
                        // Typed from a branch that gives a value, not from a bare `None`.
                        if then_div || (then_v.is_bare_none() && !else_v.is_bare_none()) {
                            else_v
                        } else {
                            then_v
                        }
                    }
                    None => VExpr::Unknown,
                }
            }
            Expr::Index(ix) => {
                let base = self.expr(&ix.expr);
                self.expr(&ix.index);
                if too_deep(&base) {
                    return VExpr::Unknown;
                }
                VExpr::Index(Box::new(base))
            }
            Expr::Let(l) => {
                let v = self.expr(&l.expr);
                self.bind_pat(&l.pat, v, None);
                VExpr::Lit
            }
            Expr::Lit(_) => VExpr::Lit,
            Expr::Loop(l) => {
                // `let x = loop { … break v; … }`: the value is what `break` gives.
                self.loop_values.push(Vec::new());
                self.block(&l.body);
                let mut values = self.loop_values.pop().unwrap_or_default();
                match values.len() {
                    0 => VExpr::Unknown,
                    1 => values.pop().unwrap_or(VExpr::Unknown),
                    _ => VExpr::Tuple(values),
                }
            }
            Expr::Macro(m) => self.mac(&m.mac),
            Expr::Match(m) => {
                let scrut = self.expr(&m.expr);
                let mut chosen: Option<VExpr> = None;
                for arm in &m.arms {
                    let start = self.body.events.len();
                    self.ev(Event::Enter);
                    self.bind_pat(&arm.pat, scrut.clone(), None);
                    if let Some((_, g)) = &arm.guard {
                        self.expr(g);
                    }
                    let v = self.expr(&arm.body);
                    let v = self.escape(start, v);
                    self.ev(Event::Exit);
                    // The first arm that gives a value, preferring one that is not a bare `None`
                    // (`None => None, Some(x) => Some(f(x))` is typed from the second).
                    let none = v.is_bare_none();
                    if !diverges(&arm.body)
                        && (chosen.is_none()
                            || (chosen.as_ref().is_some_and(VExpr::is_bare_none) && !none))
                    {
                        chosen = Some(v);
                    }
                }
                chosen.unwrap_or(VExpr::Unknown)
            }
            Expr::MethodCall(mc) => {
                let recv = self.expr(&mc.receiver);
                let name = ident_name(&mc.method);
                let args = each(&mc.args)
                    .map(|a| {
                        if wrapped_closure(a) && self.closure_hint.is_none() {
                            self.closure_hint = Some((recv.clone(), name.clone()));
                        }
                        self.expr(a)
                    })
                    .collect_exact();
                let l = loc2(expr_start(&mc.receiver), mc.paren_token.span.close());
                self.call(Callee::Method { recv, name }, args, l)
            }
            Expr::Path(p) => match (&p.qself, p.path.get_ident()) {
                (Some(_), _) => VExpr::Unknown,
                (None, Some(id)) => VExpr::Local(ident_name(id)),
                (None, None) => VExpr::path(lower_path(&p.path)),
            },
            Expr::Range(r) => {
                if let Some(x) = &r.start {
                    self.expr(x);
                }
                if let Some(x) = &r.end {
                    self.expr(x);
                }
                VExpr::Unknown
            }
            Expr::Reference(r) => self.expr(&r.expr),
            Expr::Repeat(r) => {
                self.expr(&r.expr);
                VExpr::Unknown
            }
            Expr::Return(r) => {
                let v = match &r.expr {
                    Some(x) => self.expr(x),
                    None => VExpr::Lit,
                };
                self.ev(Event::Return(Box::new(v)));
                VExpr::Unknown
            }
            Expr::Struct(s) => {
                let fields = each(&s.fields)
                    .map(|f| {
                        let name: Name = match &f.member {
                            syn::Member::Named(i) => ident_name(i),
                            syn::Member::Unnamed(ix) => ix.index.to_string().into(),
                        };
                        (name, self.expr(&f.expr))
                    })
                    .collect_exact();
                let rest = s.rest.as_ref().map(|r| self.expr(r));
                VExpr::Struct(Box::new(StructLit {
                    path: lower_path(&s.path),
                    loc: loc2(path_start(&s.path), s.brace_token.span.close()),
                    fields,
                    rest,
                }))
            }
            Expr::Try(t) => {
                let v = self.expr(&t.expr);
                if too_deep(&v) {
                    return VExpr::Unknown;
                }
                VExpr::Unwrap(Box::new(v))
            }
            Expr::TryBlock(t) => self.block(&t.block),
            Expr::Tuple(t) => VExpr::Tuple(each(&t.elems).map(|x| self.expr(x)).collect_exact()),
            Expr::Unary(u) => {
                let v = self.expr(&u.expr);
                match u.op {
                    syn::UnOp::Deref(_) => v,
                    _ => VExpr::Unknown,
                }
            }
            Expr::Unsafe(u) => self.block(&u.block),
            Expr::While(w) => {
                self.ev(Event::Enter);
                self.expr(&w.cond);
                self.block(&w.body);
                self.ev(Event::Exit);
                VExpr::Unknown
            }
            Expr::Yield(y) => {
                if let Some(x) = &y.expr {
                    self.expr(x);
                }
                VExpr::Unknown
            }
            _ => VExpr::Unknown,
        }
    }

    /// Read a macro invocation's input as Rust where possible (SPEC §3 "Macros").
    pub(super) fn mac(&mut self, m: &syn::Macro) -> VExpr {
        let name = m
            .path
            .segments
            .last()
            .map(|s| ident_name(&s.ident))
            .unwrap_or_default();
        if &*name == "macro_rules" || m.tokens.is_empty() {
            return VExpr::Macro(name);
        }
        // Every read of macro input is paid from the file's budget; a nest deeper than the
        // budget allows is left unread (and said so), not read again at every level.
        let (open, close) = (m.delimiter.span().open(), m.delimiter.span().close());
        let len = close
            .byte_range()
            .end
            .saturating_sub(open.byte_range().start);
        let l = &mut *self.lowerer;
        if len > l.macro_budget {
            let at = loc2(path_start(&m.path), close);
            let cut = l.cut.get_or_insert(MacroCut {
                first: at,
                count: 0,
            });
            cut.count += 1;
            return VExpr::Macro(name);
        }
        l.macro_budget -= len;
        // A formatting/logging macro without a parenthesized group anywhere in its input holds
        // no call: nothing to read (`info!(user = %ctx.user, "…")`).
        if is_std_like_macro(&name)
            && !threadlint_alloc::arena::nested(|| has_paren_group(&m.tokens))
        {
            return VExpr::Macro(name);
        }
        self.macro_stack.push(name.clone());
        let outer_values = std::mem::take(&mut self.macro_values);
        let read = if &*name == "json" {
            self.json_input(m.tokens.clone());
            true
        } else {
            self.mac_input(m.tokens.clone())
        };
        self.macro_stack.pop();
        let values = std::mem::replace(&mut self.macro_values, outer_values);
        if !read {
            self.ev(Event::OpaqueMacro(Box::new((
                name.clone(),
                loc2(path_start(&m.path), m.delimiter.span().close()),
            ))));
        }
        // `format!("{}", result)`, `json!({"out": result})`, `vec![ctx]`: the value is made of
        // the arguments (what they carry, it carries).
        if matches!(&*name, "format" | "format_args" | "json" | "vec") && !values.is_empty() {
            return VExpr::Tuple(values);
        }
        VExpr::Macro(name)
    }

    /// `json!({ "key": value, "list": [a, b] })`: the values are expressions.
    pub(super) fn json_input(&mut self, tokens: TokenStream) {
        // Token lists are made in the file's arena region: they do not outlive the file.
        use threadlint_alloc::arena::nested;
        let toks: Vec<TokenTree> = nested(|| tokens.clone().into_iter().collect());
        if let [TokenTree::Group(g)] = &toks[..] {
            match g.delimiter() {
                Delimiter::Brace => {
                    for entry in nested(|| split_top_level(g.stream())) {
                        let value = nested(|| {
                            let parts: Vec<TokenTree> = entry.into_iter().collect();
                            let colon = parts.iter().position(
                                |t| matches!(t, TokenTree::Punct(p) if p.as_char() == ':'),
                            );
                            colon.map(|c| parts[c + 1..].iter().cloned().collect::<TokenStream>())
                        });
                        if let Some(value) = value {
                            self.json_input(value);
                        }
                    }
                    return;
                }
                Delimiter::Bracket => {
                    for item in nested(|| split_top_level(g.stream())) {
                        self.json_input(item);
                    }
                    return;
                }
                _ => {}
            }
        }
        if let Ok(e) = threadlint_alloc::arena::nested(|| syn::parse2::<Expr>(tokens)) {
            let v = self.expr(&e);
            self.macro_values.push(v);
        }
    }

    pub(super) fn mac_input(&mut self, tokens: TokenStream) -> bool {
        // Token lists are made in the file's arena region: they do not outlive the file.
        use threadlint_alloc::arena::nested;
        let top: Vec<TokenTree> = nested(|| tokens.clone().into_iter().collect());
        let has = |c: char| {
            top.iter()
                .any(|t| matches!(t, TokenTree::Punct(p) if p.as_char() == c))
        };
        let starts_let = matches!(top.first(), Some(TokenTree::Ident(i)) if i == "let");
        // 1. Statements (`try_stream! { let x = …; yield x; }`).
        if has(';') || starts_let {
            if let Ok(stmts) =
                threadlint_alloc::arena::nested(|| syn::Block::parse_within.parse2(tokens.clone()))
            {
                self.ev(Event::Enter);
                self.stmts(&stmts);
                self.ev(Event::Exit);
                return true;
            }
        }
        // 2. A plain comma-separated list of expressions (`format!`, `join!`, `vec!`, `assert!` …).
        if !has('=') && !has('%') && !has('?') && !has(';') {
            if let Ok(exprs) = threadlint_alloc::arena::nested(|| {
                Punctuated::<Expr, Token![,]>::parse_terminated.parse2(tokens.clone())
            }) {
                for e in each(&exprs) {
                    let v = self.expr(e);
                    self.macro_values.push(v);
                }
                return true;
            }
        }
        // 3. Pieces split at top-level `,` `;` `=>`: `select!` arms (`pat = fut => body`),
        //    tracing fields (`user = %ctx.user`, `?err`), `vec![x; n]`.
        let binds = matches!(
            self.macro_stack.last().map(|n| &**n),
            Some("select" | "select_biased" | "try_select")
        );
        let mut any = false;
        for piece in nested(|| split_top_level(tokens)) {
            let toks: Vec<TokenTree> = nested(|| piece.into_iter().collect());
            let toks = strip_sigil(&toks);
            if toks.is_empty() {
                continue;
            }
            match assign_eq(toks) {
                Some(eq) => {
                    let right = || strip_sigil(&toks[eq + 1..]).iter().cloned().collect();
                    if let Ok(e) = nested(|| syn::parse2::<Expr>(right())) {
                        let v = self.expr(&e);
                        any = true;
                        if binds {
                            let left = || toks[..eq].iter().cloned().collect();
                            if let Ok(p) = nested(|| Pat::parse_single.parse2(left())) {
                                self.bind_pat(&p, v, None);
                            }
                        }
                    }
                }
                None => {
                    if let Ok(e) = nested(|| syn::parse2::<Expr>(toks.iter().cloned().collect())) {
                        self.expr(&e);
                        any = true;
                    }
                }
            }
        }
        any
    }
}

/// Macros whose expansion calls nothing but what their arguments call.
fn is_std_like_macro(name: &str) -> bool {
    matches!(
        name,
        "format"
            | "format_args"
            | "print"
            | "println"
            | "eprint"
            | "eprintln"
            | "write"
            | "writeln"
            | "panic"
            | "assert"
            | "assert_eq"
            | "assert_ne"
            | "debug_assert"
            | "debug_assert_eq"
            | "debug_assert_ne"
            | "info"
            | "warn"
            | "error"
            | "debug"
            | "trace"
            | "event"
            | "span"
            | "info_span"
            | "debug_span"
            | "trace_span"
            | "warn_span"
            | "error_span"
            | "vec"
            | "matches"
            | "todo"
            | "unimplemented"
            | "unreachable"
            | "concat"
            | "stringify"
            | "include_str"
            | "include_bytes"
            | "env"
            | "option_env"
            | "cfg"
            | "anyhow"
            | "bail"
            | "ensure"
            | "json"
            | "line"
            | "file"
            | "column"
            | "module_path"
    )
}

fn has_paren_group(ts: &TokenStream) -> bool {
    ts.clone().into_iter().any(|t| match t {
        TokenTree::Group(g) => {
            g.delimiter() == Delimiter::Parenthesis || has_paren_group(&g.stream())
        }
        _ => false,
    })
}

/// Drop a leading tracing sigil: `%value`, `?value`.
fn strip_sigil(toks: &[TokenTree]) -> &[TokenTree] {
    match toks.first() {
        Some(TokenTree::Punct(p)) if p.as_char() == '%' || p.as_char() == '?' => &toks[1..],
        _ => toks,
    }
}

/// The index of a top-level assignment `=` (not `==`, `<=`, `=>`, …).
fn assign_eq(toks: &[TokenTree]) -> Option<usize> {
    toks.iter().enumerate().position(|(i, t)| {
        let TokenTree::Punct(p) = t else { return false };
        p.as_char() == '='
            && p.spacing() == proc_macro2::Spacing::Alone
            && (i == 0
                || !matches!(&toks[i - 1], TokenTree::Punct(q) if q.spacing() == proc_macro2::Spacing::Joint))
    })
}

fn split_top_level(ts: TokenStream) -> Vec<TokenStream> {
    let mut out = Vec::new();
    let mut cur: Vec<TokenTree> = Vec::new();
    let mut iter = ts.into_iter().peekable();
    while let Some(tt) = iter.next() {
        match &tt {
            TokenTree::Punct(p) if p.as_char() == ',' || p.as_char() == ';' => {
                out.push(cur.drain(..).collect());
            }
            TokenTree::Punct(p)
                if p.as_char() == '='
                    && p.spacing() == proc_macro2::Spacing::Joint
                    && matches!(iter.peek(), Some(TokenTree::Punct(n)) if n.as_char() == '>') =>
            {
                iter.next();
                out.push(cur.drain(..).collect());
                // `pat = fut => { body }` needs no comma after the block.
                if let Some(TokenTree::Group(g)) = iter.peek() {
                    if g.delimiter() == Delimiter::Brace {
                        let body = iter.next().into_iter().collect();
                        out.push(body);
                    }
                }
            }
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => {
                cur.push(tt.clone());
            }
            _ => cur.push(tt),
        }
    }
    if !cur.is_empty() {
        out.push(cur.into_iter().collect());
    }
    out
}

/// A closure or async block, possibly wrapped in method calls or a one-argument constructor
/// (`async {…}.instrument(span)`, `Box::pin(async {…})`): the first closure lowered in it.
fn wrapped_closure(e: &Expr) -> bool {
    let mut cur = e;
    for _ in 0..8 {
        match cur {
            Expr::Closure(_) | Expr::Async(_) => return true,
            Expr::MethodCall(m) => cur = &m.receiver,
            Expr::Call(c) if c.args.len() == 1 => cur = &c.args[0],
            Expr::Paren(p) => cur = &p.expr,
            _ => return false,
        }
    }
    false
}

/// Value shapes deeper than this (`x.a.a.a…` thirty thousand times) are not followed: nothing that
/// deep is a context, and evaluating them would cost quadratic time.
const MAX_VALUE_DEPTH: usize = 32;

fn too_deep(v: &VExpr) -> bool {
    let mut cur = v;
    for _ in 0..MAX_VALUE_DEPTH {
        cur = match cur {
            VExpr::Field(b, _)
            | VExpr::TupleField(b, _)
            | VExpr::Index(b)
            | VExpr::Unwrap(b)
            | VExpr::Elem(b) => b,
            _ => return false,
        };
    }
    true
}

fn is_compound_assign(op: &syn::BinOp) -> bool {
    use syn::BinOp::*;
    matches!(
        op,
        AddAssign(_)
            | SubAssign(_)
            | MulAssign(_)
            | DivAssign(_)
            | RemAssign(_)
            | BitXorAssign(_)
            | BitAndAssign(_)
            | BitOrAssign(_)
            | ShlAssign(_)
            | ShrAssign(_)
    )
}

/// In a pattern `Ctor(x)` / `Ctor { f }` over `value`: remember the constructor so that field
/// types can be looked up on the right enum variant.
fn pat_ctor(value: &VExpr, ctor: &str) -> VExpr {
    VExpr::Field(Box::new(value.clone()), format!("<{ctor}>").into())
}
