//! Channel identity, gathered during the resolution walk (SPEC §3 "Channel"): where each
//! channel end a body uses comes from ([`Endpoint`]: the call that made the channel, a field of a
//! workspace type, a parameter, what a function returns), and the links a body makes between
//! them (a struct literal or an assignment storing an end in a field, an end passed as an
//! argument, an end returned). The analysis joins the links of all bodies into channels.
//!
//! Only values whose type is a channel end (under `Arc`, `Option`, `Mutex`, maps …) are traced,
//! so the links stay few; an end the walk cannot trace has no endpoint, and its sends fall back
//! to the by-type link that SPEC allows (unresolved, never a drop).

use super::*;
use crate::resolve::types::last_segment;

/// How deep an endpoint is looked for through projections and wrappers.
const MAX_DEPTH: usize = 8;

impl<'a, 's> Walker<'a, 's> {
    /// A channel end, or something that holds one (`Arc<Mutex<Option<Sender<M>>>>`, a map of
    /// senders, a tuple of both ends).
    pub(super) fn chan_like(&self, t: &RTy) -> bool {
        let mut cur = t;
        for _ in 0..MAX_DEPTH {
            match cur {
                RTy::Ext(p, args) => {
                    let last = last_segment(p);
                    if self.know.is_channel_end(last) {
                        return true;
                    }
                    // Wrappers and collections: the end is their last type argument.
                    match args.last() {
                        Some(a) => cur = a,
                        None => return false,
                    }
                }
                RTy::Tuple(ts) => return ts.iter().any(|t| self.chan_like(t)),
                RTy::Iter(e) => cur = e,
                _ => return false,
            }
        }
        false
    }

    /// Where the channel end `v` comes from, when the walk can tell.
    pub(super) fn endpoint(&self, v: &VExpr) -> Option<Endpoint> {
        self.endpoint_at(v, 0)
    }

    fn endpoint_at(&self, v: &VExpr, depth: usize) -> Option<Endpoint> {
        if depth > MAX_DEPTH {
            return None;
        }
        match v {
            VExpr::Local(n) => self.local(n).and_then(|l| l.ep.clone()),
            VExpr::Field(base, f) => match self.adt_of(&self.eval(base)) {
                Some(d) => Some(Endpoint::Field(d, f.clone())),
                None => self.endpoint_at(base, depth + 1),
            },
            VExpr::TupleField(b, i) => {
                // `channel().0`, `let (tx, rx) = channel()`: the call's endpoint is the channel
                // it makes, both ends (`call_endpoint`).
                match self.adt_of(&self.eval(b)) {
                    Some(d) => Some(Endpoint::Field(d, i.to_string().into())),
                    None => self.endpoint_at(b, depth + 1),
                }
            }
            VExpr::Unwrap(b) | VExpr::Elem(b) | VExpr::Index(b) => self.endpoint_at(b, depth + 1),
            VExpr::Call(k) => self.call_endpoint(*k, depth),
            _ => None,
        }
    }

    fn call_endpoint(&self, k: u32, depth: usize) -> Option<Endpoint> {
        let call = self.body.calls.get(k as usize)?;
        let workspace = match self.out.calls.get(k as usize) {
            Some(CallRes::Fns { targets, .. }) => targets.first().copied(),
            _ => None,
        };
        match &call.callee {
            Callee::Method { recv, name } => match workspace {
                // A getter of the workspace: what it returns.
                Some(t) => Some(Endpoint::Ret(t)),
                None if self.know.keeps_channel(name) => self.endpoint_at(recv, depth + 1),
                None => None,
            },
            Callee::Path { path, .. } => {
                let last = path.last_name();
                if self.know.is_channel_constructor(last) {
                    return Some(Endpoint::Made(self.fid, k));
                }
                if let Some(t) = workspace {
                    return Some(Endpoint::Ret(t));
                }
                // `Some(tx)`, `Ok(tx)`, `Arc::new(tx)`, `Mutex::new(tx)`, `Arc::clone(&tx)`.
                let holder = path.segs.len().checked_sub(2).map(|i| &*path.segs[i].name);
                let wraps = matches!(last, "Some" | "Ok")
                    || (matches!(last, "new" | "clone" | "from" | "pin" | "downgrade")
                        && holder.is_some_and(|h| {
                            is_deref_wrapper(h)
                                || matches!(h, "Mutex" | "RwLock" | "RefCell" | "Weak" | "Option")
                        }));
                if wraps {
                    call.args
                        .first()
                        .and_then(|a| self.endpoint_at(a, depth + 1))
                } else {
                    None
                }
            }
            Callee::Value(_) => None,
        }
    }

    /// The endpoint of `v` when it is a channel end worth linking: made here, a channel
    /// parameter, or a value whose type is a channel end or unknown (`tx.clone()` on an end
    /// whose methods the walk does not type).
    fn traced(&self, v: &VExpr) -> Option<Endpoint> {
        let e = self.endpoint(v)?;
        let keep = matches!(e, Endpoint::Made(..) | Endpoint::Param(..)) || {
            let t = self.eval(v);
            t.is_unknown() || self.chan_like(&t)
        };
        keep.then_some(e)
    }

    fn link(&mut self, a: Endpoint, b: Endpoint) {
        if a != b && self.out.facts.chan_links.len() < MAX_LINKS {
            self.out.facts.chan_links.push((a, b));
        }
    }

    /// The endpoint a new binding gets: a channel parameter is its own end; anything else is
    /// where its value comes from.
    pub(super) fn bind_endpoint(
        &self,
        param: Option<usize>,
        ty: &RTy,
        v: &VExpr,
    ) -> Option<Endpoint> {
        match param {
            Some(i) => self
                .chan_like(ty)
                .then_some(Endpoint::Param(self.fid, i as u32)),
            None if self.chan_like(ty) || ty.is_unknown() => self.endpoint(v),
            None => None,
        }
    }

    /// Ends stored in the fields of struct literals within `v` (`Worker { rx, .. }`).
    pub(super) fn link_struct_fields(&mut self, v: &VExpr) {
        match v {
            VExpr::Struct(lit) => {
                let d = self.adt_of(&self.eval(v));
                for (name, fv) in &lit.fields {
                    self.link_struct_fields(fv);
                    if let (Some(d), Some(e)) = (d, self.traced(fv)) {
                        self.link(Endpoint::Field(d, name.clone()), e);
                    }
                }
            }
            VExpr::Tuple(vs) => {
                for x in vs {
                    self.link_struct_fields(x);
                }
            }
            _ => {}
        }
    }

    /// `place = v`: the field now holds `v`'s channel.
    pub(super) fn link_assign(&mut self, place: &VExpr, v: &VExpr) {
        self.link_struct_fields(v);
        let Some(e) = self.traced(v) else { return };
        // `rx_holder = Some(rx)`: the local now holds that channel.
        if let VExpr::Local(n) = place {
            let slot = self.local_mut(n).map(|l| &mut l.ep);
            match slot {
                Some(Some(old)) => {
                    let old = old.clone();
                    self.link(old, e);
                }
                Some(slot) => *slot = Some(e),
                None => {}
            }
            return;
        }
        if let Some(p) = self.endpoint(place) {
            if matches!(p, Endpoint::Field(..)) {
                self.link(p, e);
            }
        }
    }

    /// `return v` of the function body: what callers get is `v`'s channel.
    pub(super) fn link_return(&mut self, v: &VExpr) {
        self.link_struct_fields(v);
        if let Some(e) = self.traced(v) {
            self.link(Endpoint::Ret(self.fid), e);
        }
    }

    /// The arguments of call #k, resolved to workspace functions: each parameter given an end is
    /// that end's channel.
    pub(super) fn link_args(&mut self, c: &'s CallSite, res: &CallRes) {
        let CallRes::Fns { targets, .. } = res else {
            return;
        };
        for (ai, a) in c.args.iter().enumerate() {
            let Some(e) = self.traced(a) else { continue };
            for &t in targets.iter().take(MAX_TARGETS) {
                let offset = usize::from(
                    matches!(c.callee, Callee::Path { .. })
                        && self.ix.fns[t].def.self_param.is_some(),
                );
                if ai >= offset {
                    self.link(Endpoint::Param(t, (ai - offset) as u32), e.clone());
                }
            }
        }
    }

    /// The closure a returned value is, directly or wrapped (`Arc::new(move |x| …)`,
    /// `Box::new`, `Box::pin`, `Some`, `Ok`).
    pub(super) fn returned_closure(&self, v: &VExpr) -> Option<u32> {
        let mut cur = v;
        for _ in 0..4 {
            match cur {
                // A closure, not an async block: a returned future is awaited by the caller
                // (`Box::pin(async move { … })` from a hand-written async method).
                VExpr::Closure(c) => {
                    let closure = self.closures.get(*c as usize)?;
                    return (closure.kind == ClosureKind::Closure).then_some(*c);
                }
                VExpr::Call(k) => {
                    let call = self.body.calls.get(*k as usize)?;
                    let Callee::Path { path, .. } = &call.callee else {
                        return None;
                    };
                    let holder = path.segs.len().checked_sub(2).map(|i| &*path.segs[i].name);
                    let wraps = matches!(path.last_name(), "Some" | "Ok")
                        || (matches!(path.last_name(), "new" | "pin")
                            && holder.is_some_and(is_deref_wrapper));
                    if !wraps || call.args.len() != 1 {
                        return None;
                    }
                    cur = &call.args[0];
                }
                _ => return None,
            }
        }
        None
    }

    /// The workspace struct or enum a value of type `t` is (through `&`, `Arc`, `Box` …).
    pub(super) fn adt_of(&self, t: &RTy) -> Option<DefId> {
        let mut cur = t;
        for _ in 0..6 {
            match cur {
                RTy::Adt(d, _) => return Some(*d),
                RTy::Ext(_, args)
                    if cur.ext_name().is_some_and(|n| {
                        is_deref_wrapper(n) || matches!(n, "Mutex" | "RwLock")
                    }) =>
                {
                    cur = args.first()?;
                }
                _ => return None,
            }
        }
        None
    }
}

/// At most this many channel links per body.
const MAX_LINKS: usize = 4096;
/// At most this many targets of one call get its arguments' links (trait dispatch).
const MAX_TARGETS: usize = 64;
