//! Context facts, gathered during the resolution walk: channels and ambient scopes, fabricated
//! contexts, writes to shared state, struct literals that carry a context, and which values carry
//! one (`vfacts`). A second `impl` of the resolver's walker: the walk is shared, the concerns are
//! not.

use super::*;

impl<'a, 's> Walker<'a, 's> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn channel_and_ambient(
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
        // An end the walk traced to a `channel()` call here is a channel end whatever its
        // (untyped) type: `let (tx, mut rx) = mpsc::channel::<Cmd>(8); … rx.recv()`.
        let ep = if know.is_send_method(name) || know.is_recv_method(name) {
            self.endpoint(recv)
        } else {
            None
        };
        let made_here = || matches!(ep, Some(Endpoint::Made(..)));
        if know.is_channel_send(name, last)
            || (last.is_empty() && know.is_send_method(name) && made_here())
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
            let msg_ty = recv_ty_arg(recv_ty).unwrap_or(arg_ty);
            self.out.facts.channels.push(ChannelOp {
                call: id as u32,
                dir: ChannelDir::Send,
                key,
                global,
                broadcast: know.is_broadcast(path),
                msg_carrier,
                msg_deps: cf.arg_deps.first().cloned().unwrap_or_default(),
                endpoint: ep.clone(),
                msg_adt: matches!(msg_ty, RTy::Adt(..)),
                handlers: Vec::new(),
                stashed: false,
            });
        } else if know.is_channel_recv(name, last)
            || (last.is_empty() && know.is_recv_method(name) && made_here())
        {
            let msg_ty = recv_ty_arg(recv_ty);
            let key = msg_ty.as_ref().and_then(|t| msg_key(self, t));
            if self.recv_ops.len() < super::MAX_HANDLED {
                self.recv_ops.push(self.out.facts.channels.len());
            }
            self.out.facts.channels.push(ChannelOp {
                call: id as u32,
                dir: ChannelDir::Recv,
                key,
                global: false,
                broadcast: false,
                msg_carrier: false,
                msg_deps: Vec::new(),
                endpoint: ep.clone(),
                msg_adt: matches!(msg_ty, Some(RTy::Adt(..))),
                handlers: Vec::new(),
                stashed: false,
            });
        }
        // Sending to every connection: `for conn in state.conns.values() { conn.send(…) }`.
        if know.is_send_all_method(name)
            && crate::resolve::facts::root_name(recv)
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
            if know.is_scope_method(name) {
                for a in &c.args {
                    if let VExpr::Call(j) = a {
                        if let Some(f) = self.out.facts.calls.get_mut(*j as usize) {
                            f.in_ambient = true;
                        }
                    }
                }
            }
            if know.is_ambient_read_method(name) {
                let o = self.s.closure_stack.last().copied();
                self.out.facts.ambient_reads.push((o, key.clone()));
            }
            if know.is_ambient_write_method(name) && cf.arg_carrier != 0 {
                self.set_owner_ambient(owner);
            }
        }
        if let Some(tl) = self.thread_local(recv) {
            if know.is_thread_local_write_method(name) && cf.arg_carrier != 0 && self.in_async() {
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

    pub(super) fn fabricated(&mut self, loc: Loc, what: String) {
        self.fabricated_by(loc, what, None);
    }

    pub(super) fn fabricated_by(&mut self, loc: Loc, what: String, call: Option<u32>) {
        let owner = self.s.closure_stack.last().copied();
        self.out.facts.fabricated.push(Fabricated {
            owner,
            call,
            loc,
            what,
        });
    }

    pub(super) fn shared_write(&mut self, loc: Loc, slot: String, value: String) {
        let owner = self.s.closure_stack.last().copied();
        self.out.facts.shared_writes.push(SharedWrite {
            owner,
            loc,
            slot,
            value,
        });
    }

    /// `x = v` / `*x.lock() = v` with a carrier `v`: is `x` a single slot shared by connections?
    pub(super) fn check_shared_write(&mut self, place: &VExpr, value: &VExpr, loc: Loc) {
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

    pub(super) fn shared_slot_place(&self, place: &VExpr) -> Option<String> {
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
    pub(super) fn shared_slot_of(&self, recv: &VExpr) -> Option<String> {
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

    pub(super) fn is_shared(&self, t: &RTy) -> bool {
        let mut cur = t.clone();
        for _ in 0..6 {
            match &cur {
                RTy::Adt(d, _) => return self.model.app_state_adts.contains(d),
                RTy::Ext(_, args) if cur.ext_name().is_some_and(is_deref_wrapper) => {
                    cur = args.first().cloned().unwrap_or(RTy::Unknown)
                }
                _ => return false,
            }
        }
        false
    }

    /// A `static` (not a local) named by this place.
    pub(super) fn static_slot(&self, v: &VExpr) -> Option<String> {
        let d = self.static_def(v)?;
        match self.ix.defs[d].kind {
            DefKind::Static(s) if s.kind == StaticKind::Static => {
                Some(format!("static `{}`", s.name))
            }
            _ => None,
        }
    }

    pub(super) fn static_def(&self, v: &VExpr) -> Option<DefId> {
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
    pub(super) fn ambient_static(&self, v: &VExpr) -> Option<(Name, DefId)> {
        let d = self.static_def(v)?;
        self.model
            .ambient_statics
            .contains(&d)
            .then(|| (self.ix.defs[d].name.clone(), d))
    }

    pub(super) fn thread_local(&self, v: &VExpr) -> Option<Name> {
        let d = self.static_def(v)?;
        match self.ix.defs[d].kind {
            DefKind::Static(s) if s.kind == StaticKind::ThreadLocal => Some(s.name.clone()),
            _ => None,
        }
    }

    /// Is this value made up on the spot (a literal, a fresh id, a default)? What it is, if so.
    pub(super) fn fabricating(&self, v: &VExpr) -> Option<String> {
        match v {
            VExpr::Lit => Some("a literal".into()),
            VExpr::Call(k) => {
                let call = self.body.calls.get(*k as usize)?;
                // A literal converted: `"probe".to_string()`, `.to_owned()`, `.into()`.
                if let Callee::Method { recv, name } = &call.callee {
                    let converts = matches!(&**name, "to_string" | "to_owned" | "into");
                    return (converts && matches!(recv, VExpr::Lit))
                        .then(|| format!("`<literal>.{name}()`"));
                }
                let Callee::Path { path, .. } = &call.callee else {
                    return None;
                };
                let text = path.display();
                let last = path.last_name();
                // `String::from("probe")`, `From::from("probe")`.
                if last == "from" && matches!(call.args.as_slice(), [VExpr::Lit]) {
                    return Some(format!("`{text}(<literal>)`"));
                }
                let fresh = self.know.is_fabricating_call(&text, last);
                fresh.then(|| format!("`{text}()`"))
            }
            _ => None,
        }
    }

    /// A short text for a value, for messages (`Some(ctx.clone())`).
    pub(super) fn value_text(&self, v: &VExpr) -> String {
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

    pub(super) fn value_loc(&self, v: &VExpr) -> Option<Loc> {
        match v {
            VExpr::Call(k) => self.body.calls.get(*k as usize).map(|c| c.loc),
            VExpr::Struct(s) => Some(s.loc),
            _ => None,
        }
    }

    /// Struct literals of context or carrier types whose context fields are made up.
    pub(super) fn scan_struct_lits(&mut self, v: &VExpr) {
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
                // A literal of a context type: every field counts, whatever its name (SPEC §4).
                // It is made up unless some field comes from a carrier; `None` says openly that
                // there is no conversation and is not made up.
                if is_ctx {
                    // Derived: a carrier, or any projection of one (`parent.key`: in a context
                    // type every field is context).
                    let derived = |w: &Self, v: &VExpr| {
                        w.vfacts(v).0
                            || crate::resolve::facts::root_name(v)
                                .and_then(|r| w.local(r))
                                .is_some_and(|l| w.model.is_context(&l.ty))
                    };
                    if lit.fields.iter().any(|(_, fv)| derived(self, fv)) {
                        return;
                    }
                    if let Some((fname, fv)) = lit.fields.iter().find(|(_, fv)| !fv.is_bare_none())
                    {
                        let what = self
                            .fabricating(fv)
                            .unwrap_or_else(|| format!("`{}`", self.value_text(fv)));
                        self.fabricated(
                            lit.loc,
                            format!(
                                "`{} {{ {fname}: {}, … }}`",
                                lit.path.display(),
                                what.trim_matches('`')
                            ),
                        );
                    }
                    return;
                }
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
    pub(super) fn holder_of(&self, v: &VExpr) -> Holder {
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
                        if self.know.is_channel_constructor(path.last_name()) {
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
    pub(super) fn is_from_shared_collection(&self, v: &VExpr) -> bool {
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
    pub(super) fn vfacts(&self, v: &VExpr) -> (bool, Vec<Dep>) {
        let (carrier, deps, _) = self.vfacts_ty(v, false);
        (carrier, deps)
    }

    /// [`Self::vfacts`], and `eval(v)` when `want_ty` (or when it came for free). A chain
    /// (`self.state.conns.lock()?`) is evaluated once, not once per link.
    pub(super) fn vfacts_ty(&self, v: &VExpr, want_ty: bool) -> (bool, Vec<Dep>, Option<RTy>) {
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
                // As `eval`: `x.<Ctor>.field` is a field of that variant (or of the struct the
                // pattern names, when `x` is untyped).
                let ctor = match &**b {
                    VExpr::Field(_, c) => c.strip_prefix('<').and_then(|c| c.strip_suffix('>')),
                    _ => None,
                };
                let base = match ctor {
                    Some(c) => self.pattern_base(base, c),
                    None => base,
                };
                let t = self.ix.field_ty(self.fields, &base, n, ctor);
                let named =
                    self.model.is_context_name(n) && !crate::resolve::context::is_os_thread_id(&t);
                (named || self.model.carries(&t), deps, Some(t))
            }
            VExpr::TupleField(b, i) => {
                let (_, deps, base) = self.vfacts_ty(b, true);
                let t = self.ix.field_ty(
                    self.fields,
                    &base.unwrap_or(RTy::Unknown),
                    &i.to_string(),
                    None,
                );
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
                // A workspace struct carries by its declared field types, not by what this
                // literal happens to hold (an `Arc<dyn Emitter>` built from a session is no
                // context): SPEC §3 "Carrier".
                let t = self.eval(v);
                if let RTy::Adt(d, _) = t {
                    // A generic struct (`Envelope<C> { conv: C }`) may carry through its type
                    // arguments, which the declared fields do not show: keep the literal's verdict.
                    let generic =
                        matches!(self.ix.defs[d].kind, DefKind::Adt(a) if !a.generics.is_empty());
                    carrier = self.model.carries(&t) || (generic && carrier);
                }
                (carrier, deps, want_ty.then_some(t))
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
}
