#!/usr/bin/env python3
"""Generate a synthetic Cargo workspace that looks like a multi-user agent chat server.

    python3 bench/gen_workspace.py --lines 100000 --out bench/work/ws-100000 [--seed 42]

The output is never compiled, only parsed (by `syn`, in threadlint). It is meant to be valid Rust syntax
and plausibly type-correct: every call names a function, method or constructor that exists, with
arguments of the right shape, `?` only where the error converts, `.await` only on async calls inside
async code.

Shape:
  * root Cargo.toml: `[workspace] members = ["crates/*"]` plus `[workspace.dependencies]`;
  * about one crate per 20k lines, a layered DAG: crate 0 (`chat-core`) defines `ThreadContext`,
    `ThreadId`, the `Tool` trait and `ToolError`; every other crate depends on it and on 0-2 other lower
    crates, and calls into them through `use dep::module::Item;`, crate-root `pub use` re-exports and
    full paths;
  * per crate: lib.rs with `pub mod` / `pub use`, error.rs (error enum, `impl From` for each dependency's
    error), business modules (mod.rs folders and `foo.rs` + `foo/bar.rs` folders), then the agent stack:
    tools (`impl Tool for X`), a dispatcher (`HashMap<String, Box<dyn Tool>>`), an engine, an agent
    registry, message handlers, a job worker fed by an mpsc channel, and axum WebSocket entry points;
  * files of 150-600 lines (lib.rs and error.rs are shorter), about N/300 files in all.

Deterministic for a given (--lines, --seed). Python 3.11, standard library only.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import time

# --------------------------------------------------------------------------------------------------
# vocabulary

DOMAINS = [
    "billing", "ledger", "quota", "session", "presence", "history", "transcript", "moderation",
    "embedding", "retrieval", "ranking", "summary", "ratelimit", "audit", "metrics", "storage", "cache",
    "config", "auth", "tokens", "prompt", "templates", "attachments", "notify", "webhooks", "search",
    "indexing", "scheduling", "memory", "persona", "policy", "routing", "pricing", "usage", "invoice",
    "profile", "workspace", "channels", "reactions", "mentions", "drafts", "export", "imports",
    "sanitize", "tokenizer", "chunker", "vectors", "feedback", "analytics", "experiments", "flags",
    "locale", "timezone", "markdown", "rendering", "diffing", "snapshots", "backup", "migration",
    "tenancy", "orgs", "members", "roles", "permissions", "invites", "uploads", "blobs", "thumbnails",
    "digests", "cron", "retry", "backoff", "circuit", "health", "probes", "shards", "replicas",
    "partitions", "compaction", "journal", "cursors", "pagination", "filters", "sorting", "facets",
    "pipeline", "ingest", "outbox", "inbox", "threads", "contacts", "calendar", "reminders",
    "transcode", "speech", "vision", "guardrails", "evals", "telemetry", "tracing_ext", "limits",
]
SUBDOMAINS = [
    "model", "store", "service", "codec", "rules", "worker", "state", "view", "builder", "planner",
    "scoring", "cache", "index", "queue", "limits", "format", "parse", "merge", "stats", "policy",
    "client", "repo", "sync", "window", "budget", "report", "loader", "writer", "reader", "router",
    "registry_ext", "events", "helpers", "util", "types", "schema", "validate", "convert", "keys",
]
VERBS = [
    "compute", "resolve", "load", "store", "build", "apply", "merge", "validate", "normalize", "render",
    "collect", "score", "rank", "split", "parse", "encode", "decode", "refresh", "prune", "estimate",
    "summarize", "classify", "lookup", "record", "flush", "reconcile", "schedule", "prepare", "finalize",
    "check", "ensure", "derive", "expand", "trim", "tally", "fetch", "persist", "evict", "rotate",
    "compact", "index", "annotate", "redact", "sample", "project", "rebalance", "hydrate", "serialize",
    "attach", "detach", "enqueue", "drain", "throttle", "charge", "refund", "audit", "sync", "diff",
]
NOUNS = [
    "fee", "balance", "window", "quota", "entry", "record", "batch", "snapshot", "cursor", "token",
    "prompt", "digest", "summary", "chunk", "vector", "label", "policy", "limit", "route", "tenant",
    "member", "invite", "report", "metric", "span", "event", "trace", "payload", "frame", "header",
    "message", "thread", "reply", "mention", "reaction", "draft", "attachment", "blob", "thumbnail",
    "schedule", "reminder", "profile", "persona", "memory", "embedding", "score", "rank", "filter",
    "facet", "page", "offset", "shard", "replica", "journal", "segment", "usage", "invoice", "price",
    "plan", "budget", "retry", "backoff", "probe", "health", "config", "flag", "locale", "template",
    "transcript", "channel", "contact", "session", "cache", "key", "hint", "keyword", "citation",
]
STRUCT_SUFFIX = [
    "Store", "Tracker", "Cache", "Index", "Ledger", "Planner", "Builder", "Book", "Table", "Pool",
    "Window", "Stats", "Report", "Policy", "Service", "Client", "Repo", "Queue", "Buffer", "Set",
    "Manager", "Scorer", "Router", "Filter", "Codec", "Summary", "Batch", "Snapshot", "Journal", "View",
]
ENUM_SUFFIX = ["Kind", "Mode", "State", "Level", "Phase", "Status", "Tier", "Class", "Source", "Reason"]
VARIANTS = [
    "Pending", "Active", "Paused", "Closed", "Failed", "Retrying", "Archived", "Draft", "Queued",
    "Running", "Done", "Skipped", "Expired", "Blocked", "Deferred", "Immediate", "Batched", "Low",
    "Medium", "High", "Critical", "Internal", "External", "Manual", "Automatic", "Unknown", "Primary",
    "Secondary", "Fallback", "Cold", "Warm", "Hot",
]
CRATE_A = [
    "chat", "agent", "relay", "gateway", "session", "tool", "model", "memory", "billing", "search",
    "vector", "prompt", "media", "notify", "admin", "metrics", "storage", "policy", "tenant", "ingest",
    "voice", "plugin", "workflow", "sync", "identity", "audit", "insight", "router", "cache", "queue",
]
CRATE_B = [
    "core", "runtime", "server", "engine", "service", "store", "hub", "kit", "bridge", "worker",
    "api", "proto", "index", "broker", "pipeline", "control", "support", "ops", "edge", "flow",
]
U64_NAMES = ["count", "total", "limit", "offset", "budget", "score", "weight", "seq", "retries",
             "elapsed_ms", "tokens", "quota", "size", "cost", "depth", "window_ms", "attempts"]
USIZE_NAMES = ["len", "idx", "width", "capacity", "cutoff", "batch_size", "n"]
STR_NAMES = ["label", "summary", "key", "title", "body", "name", "reply", "digest", "slug", "note",
             "query", "topic", "locale", "region", "kind_name", "path"]
VEC_NAMES = ["rows", "items", "tags", "names", "lines", "chunks", "parts", "keys", "words", "entries"]
BOOL_NAMES = ["ok", "ready", "allowed", "dirty", "found", "expired", "enabled", "strict"]
OPT_NAMES = ["maybe_name", "hint", "previous", "cached", "fallback", "override_key"]
F64_NAMES = ["ratio", "rate", "mean", "factor", "share"]
STR_PARAM_NAMES = ["user_id", "prompt", "key", "label", "query", "name", "text", "tenant", "topic", "locale"]
LIT_WORDS = ["alpha", "beta", "default", "primary", "archive", "inbox", "draft", "summary", "daily",
             "weekly", "tenant", "system", "assistant", "user", "pending", "stale", "fresh", "eu-west",
             "us-east", "gpt", "fast", "slow", "search", "notes", "report"]
LOG_MSGS = ["processed batch", "cache miss", "refreshing window", "budget exceeded", "pruned entries",
            "applied policy", "merged snapshot", "dropped stale entries", "scheduled retry",
            "computed score", "resolved route", "flushed journal", "rebuilt index", "skipping empty input",
            "loaded profile", "recorded usage", "trimmed history", "validated payload"]

RESERVED = {"as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
            "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
            "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
            "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
            "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen"}

PRIMS = ("u64", "usize", "bool", "f64", "String", "Vec", "Opt", "Map")
RUST_TY = {
    "u64": "u64", "usize": "usize", "bool": "bool", "f64": "f64", "String": "String",
    "Vec": "Vec<String>", "Opt": "Option<String>", "Map": "HashMap<String, u64>",
    "str": "&str", "slice": "&[String]", "ctx": "&ThreadContext", "tid": "ThreadId",
}
DEFAULT_VAL = {
    "u64": "0", "usize": "0", "bool": "false", "f64": "0.0", "String": "String::new()",
    "Vec": "Vec::new()", "Opt": "None", "Map": "HashMap::new()",
}


def camel(s: str) -> str:
    return "".join(p[:1].upper() + p[1:] for p in s.replace("-", "_").split("_") if p)


class Names:
    """Unique identifiers: the first use of a base is the bare base, later ones get a numeric suffix."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}

    def unique(self, base: str, sep: str = "_") -> str:
        n = self.counts.get(base, 0) + 1
        self.counts[base] = n
        return base if n == 1 else f"{base}{sep}{n}"


# --------------------------------------------------------------------------------------------------
# model of what has been generated (the symbol table callers draw on)


class Fn:
    __slots__ = ("name", "params", "ret", "is_async", "module", "vis", "recv", "owner")

    def __init__(self, name, params, ret, is_async, module, vis="pub", recv=None, owner=None):
        self.name = name
        self.params = params          # list of (name, type code)
        self.ret = ret                # None | prim | ('res', prim|None) | 'toolres'
        self.is_async = is_async
        self.module = module
        self.vis = vis                # 'pub' | 'crate' | 'priv'
        self.recv = recv              # None | '&self' | '&mut self'
        self.owner = owner            # Struct for methods


class Struct:
    __slots__ = ("name", "module", "ctor", "methods", "aliases", "constructible", "fields")

    def __init__(self, name, module):
        self.name = name
        self.module = module
        self.ctor: Fn | None = None
        self.methods: list[Fn] = []
        self.aliases: list[tuple] = []   # (crate, path tuple) re-export locations
        self.constructible = True
        self.fields: list[tuple] = []


class Imports:
    """`use` lines of one file; refuses to bind one name to two paths."""

    THIRD_PARTY = ("tokio", "axum", "serde", "tracing", "futures", "async_trait")

    def __init__(self) -> None:
        self.bound: dict[str, str] = {}
        self.prefixes: set[str] = set()
        self.groups: set[int] = set()

    def use(self, full: str) -> bool:
        name = full.rsplit("::", 1)[-1]
        cur = self.bound.get(name)
        if cur is None:
            self.bound[name] = full
            if "::" in full:
                self.prefixes.add(full.rsplit("::", 1)[0])
                self.groups.add(self.group(full.split("::", 1)[0]))
            return True
        return cur == full

    def group(self, root: str) -> int:
        if root in ("std", "core", "alloc"):
            return 0
        if root in self.THIRD_PARTY:
            return 1
        if root in ("crate", "super", "self"):
            return 3
        return 2

    def nlines(self) -> int:
        return len(self.prefixes) + len(self.groups)

    def render(self) -> list[str]:
        groups: dict[int, dict[str, list[str]]] = {0: {}, 1: {}, 2: {}, 3: {}}
        for name, full in self.bound.items():
            if "::" not in full:
                continue
            prefix, last = full.rsplit("::", 1)
            g = self.group(full.split("::", 1)[0])
            groups[g].setdefault(prefix, []).append(last)
        out: list[str] = []
        for g in range(4):
            if not groups[g]:
                continue
            for prefix in sorted(groups[g]):
                items = sorted(groups[g][prefix])
                if len(items) == 1:
                    out.append(f"use {prefix}::{items[0]};")
                else:
                    out.append(f"use {prefix}::{{{', '.join(items)}}};")
            out.append("")
        return out


class Module:
    def __init__(self, crate, path: tuple, style: str, theme: str, parent=None):
        self.crate = crate
        self.path = path
        self.style = style            # 'modrs' -> a/b/mod.rs ; 'file' -> a/b.rs
        self.theme = theme
        self.parent = parent
        self.children: list[Module] = []
        self.body: list[str] = []
        self.fns: list[Fn] = []
        self.structs: list[Struct] = []
        self.consts: list[tuple] = []  # (name, type code)
        self.imports = Imports()
        self.pub_uses: list[str] = []
        self.doc = ""
        self.target = 300

    @property
    def name(self) -> str:
        return self.path[-1]

    def relpath(self) -> str:
        p = "/".join(self.path)
        return f"src/{p}/mod.rs" if self.style == "modrs" else f"src/{p}.rs"

    def nlines(self) -> int:
        return (len(self.body) + len(self.children) + len(self.pub_uses) + self.imports.nlines()
                + (2 if self.doc else 0) + (1 if self.children else 0) + (1 if self.pub_uses else 0))

    def render(self) -> str:
        out: list[str] = []
        if self.doc:
            out.append(f"//! {self.doc}")
            out.append("")
        if self.children:
            for ch in self.children:
                out.append(f"pub mod {ch.name};")
            out.append("")
        out.extend(self.imports.render())
        if self.pub_uses:
            out.extend(self.pub_uses)
            out.append("")
        body = self.body
        while body and body[-1] == "":
            body = body[:-1]
        out.extend(body)
        return "\n".join(out) + "\n"


class Crate:
    def __init__(self, idx: int, name: str):
        self.idx = idx
        self.name = name
        self.ident = name.replace("-", "_")
        self.camel = camel(name)
        self.err = f"{self.camel}Error"
        self.deps: list[Crate] = []
        self.modules: list[Module] = []
        self.top: list[Module] = []
        self.lib_uses: list[str] = []
        self.reexports_core = True
        self.used_names: set[str] = set()
        self.lines = 0

    def root(self, from_crate) -> str:
        return "crate" if from_crate is self else self.ident


# --------------------------------------------------------------------------------------------------
# code generation


class Gen:
    def __init__(self, total_lines: int, seed: int):
        self.rng = random.Random(seed)
        self.total = total_lines
        self.fn_names = Names()
        self.type_names = Names()
        self.crate_names = Names()
        self.crates: list[Crate] = []
        self.generated = 0
        self.core: Crate | None = None
        self.crate_idents: set[str] = set()

    # ------------------------------------------------------------------ helpers
    def lit_str(self) -> str:
        return '"' + self.rng.choice(LIT_WORDS) + '"'

    def lit_u64(self) -> str:
        return str(self.rng.choice([1, 2, 3, 4, 5, 8, 10, 16, 32, 60, 64, 100, 128, 250, 500, 1000, 1024, 4096]))

    def fn_name(self) -> str:
        return self.fn_names.unique(f"{self.rng.choice(VERBS)}_{self.rng.choice(NOUNS)}")

    def type_name(self, suffixes=STRUCT_SUFFIX) -> str:
        base = camel(self.rng.choice(NOUNS)) + self.rng.choice(suffixes)
        return self.type_names.unique(base, "")

    # paths ---------------------------------------------------------------
    def ctx_path(self, crate: Crate, what: str) -> str:
        """Import path of a chat-core item (ThreadContext, ThreadId, Tool, ToolError, ToolResult)."""
        core = self.core
        sub = {"ThreadContext": "context", "ThreadId": "context", "Tool": "tool", "ToolError": "tool",
               "ToolResult": "tool"}[what]
        if crate is core:
            return f"crate::{sub}::{what}"
        if crate.reexports_core:
            return f"crate::{what}"
        return f"{core.ident}::{what}" if (crate.idx + len(what)) % 2 else f"{core.ident}::{sub}::{what}"

    def need(self, fc, what: str) -> str:
        """Import a chat-core item into the current file, returning the name to write."""
        if what in ("ThreadContext", "ThreadId", "Tool", "ToolError", "ToolResult"):
            full = self.ctx_path(fc.crate, what)
        elif what == "Err":
            full = f"crate::error::{fc.crate.err}"
            what = fc.crate.err
        else:
            full = what
            what = what.rsplit("::", 1)[-1]
        if fc.mod.imports.use(full):
            return what
        return full

    def mod_path(self, target: Module, fc) -> str:
        """Path prefix (ending without ::) that names module `target` from fc's module."""
        src = fc.mod
        if target.crate is src.crate:
            if src.parent is not None and target.parent is src.parent and (hash_stable(target.name) % 2):
                return "super::" + target.name
            return "crate::" + "::".join(target.path)
        return target.crate.ident + "::" + "::".join(target.path)

    def ref_fn(self, fc, f: Fn) -> str:
        """How the current file names free function f (adds imports)."""
        if f.module is fc.mod:
            return f.name
        style = fc.styles.get(id(f.module))
        if style is None:
            style = self.rng.choices(["mod", "item", "full"], weights=[5, 4, 1])[0]
            fc.styles[id(f.module)] = style
        base = self.mod_path(f.module, fc)
        if style == "mod":
            if fc.mod.imports.use(base):
                return f"{f.module.name}::{f.name}"
            return f"{base}::{f.name}"
        if style == "item":
            if fc.mod.imports.use(f"{base}::{f.name}"):
                return f.name
        return f"{base}::{f.name}"

    def ref_type(self, fc, s: Struct) -> str:
        if s.module is fc.mod:
            return s.name
        cands = [f"{self.mod_path(s.module, fc)}::{s.name}"]
        for (cr, path) in s.aliases:
            root = cr.root(fc.crate)
            cands.append("::".join((root,) + path + (s.name,)))
        full = cands[hash_stable(fc.mod.relpath() + s.name) % len(cands)]
        if self.rng.random() < 0.93 and fc.mod.imports.use(full):
            return s.name
        return full

    # ------------------------------------------------------------------ scope / expressions
    def pick(self, scope, ty):
        c = [n for (n, t) in scope if t == ty]
        return self.rng.choice(c) if c else None

    def arg_for(self, fc, scope, pty):
        r = self.rng
        if pty == "u64":
            v = self.pick(scope, "u64")
            return v if v and r.random() < 0.75 else self.lit_u64()
        if pty == "usize":
            v = self.pick(scope, "usize")
            if v and r.random() < 0.7:
                return v
            w = self.pick(scope, "Vec")
            return f"{w}.len()" if w and r.random() < 0.5 else str(r.choice([4, 8, 16, 32, 64]))
        if pty == "bool":
            v = self.pick(scope, "bool")
            return v if v and r.random() < 0.7 else r.choice(["true", "false"])
        if pty == "f64":
            v = self.pick(scope, "f64")
            return v if v else r.choice(["0.5", "1.0", "0.25", "2.0"])
        if pty == "str":
            if r.random() < 0.8:
                v = self.pick(scope, "str")
                if v:
                    return v
                v = self.pick(scope, "String")
                if v:
                    return f"&{v}"
            return self.lit_str()
        if pty == "String":
            v = self.pick(scope, "String")
            if v and r.random() < 0.7:
                return f"{v}.clone()"
            v = self.pick(scope, "str")
            if v:
                return f"{v}.to_string()"
            return f"String::from({self.lit_str()})"
        if pty == "Vec":
            v = self.pick(scope, "Vec")
            return f"{v}.clone()" if v else "Vec::new()"
        if pty == "slice":
            v = self.pick(scope, "Vec")
            if v:
                return f"&{v}"
            v = self.pick(scope, "slice")
            return v if v else "&[]"
        if pty == "ctx":
            v = self.pick(scope, "ctx")
            if v:
                return v
            v = self.pick(scope, "ctxo")
            if v:
                return f"&{v}"
            if fc.fabricate and r.random() < 0.04:
                return f"&{self.need(fc, 'ThreadContext')}::default()"
            return None
        if pty == "tid":
            v = self.pick(scope, "tid")
            if v:
                return v
            v = self.pick(scope, "ctx") or self.pick(scope, "ctxo")
            return f"{v}.thread_id" if v else None
        if isinstance(pty, tuple) and pty[0] == "ref":
            s = pty[1]
            for (n, t) in scope:
                if isinstance(t, tuple) and t[1] is s:
                    if t[0] in ("obj", "mobj", "arc"):
                        return f"&{n}"
                    if t[0] == "ref":
                        return n
            return None
        return None

    def args_for(self, fc, scope, params):
        out = []
        for (_, pty) in params:
            a = self.arg_for(fc, scope, pty)
            if a is None:
                return None
            out.append(a)
        return out

    def local(self, fc, ty) -> str:
        base = {"u64": U64_NAMES, "usize": USIZE_NAMES, "bool": BOOL_NAMES, "f64": F64_NAMES,
                "String": STR_NAMES, "str": STR_NAMES, "Vec": VEC_NAMES, "Opt": OPT_NAMES,
                "Map": ["counts", "by_key", "totals"], "ctxo": ["child_ctx", "scoped"],
                "tid": ["tid"]}.get(ty if isinstance(ty, str) else "x", ["svc", "helper", "store"])
        if isinstance(ty, tuple):
            s = ty[1]
            base = [snake(s.name)]
        b = self.rng.choice(base)
        return fc.locals.unique(b)

    def value_of(self, fc, scope, ty) -> str:
        """An owned expression of type ty built from what is in scope."""
        r = self.rng
        if ty == "u64":
            us = [n for (n, t) in scope if t == "u64"]
            if len(us) >= 2 and r.random() < 0.5:
                a, b = r.sample(us, 2)
                return r.choice([f"{a}.saturating_add({b})", f"{a}.max({b})", f"({a} + {b}) / 2",
                                 f"{a}.saturating_mul(2).saturating_sub({b})"])
            if us and r.random() < 0.6:
                return r.choice([f"{us[0]} + 1", f"{us[-1]}", f"{us[0]}.min({self.lit_u64()})"])
            v = self.pick(scope, "Vec") or self.pick(scope, "String")
            if v:
                return f"{v}.len() as u64"
            return self.lit_u64()
        if ty == "usize":
            v = self.pick(scope, "usize")
            if v:
                return r.choice([v, f"{v} + 1", f"{v}.saturating_sub(1)"])
            v = self.pick(scope, "Vec") or self.pick(scope, "String")
            return f"{v}.len()" if v else str(r.choice([0, 1, 8, 16]))
        if ty == "bool":
            us = [n for (n, t) in scope if t == "u64"]
            if len(us) >= 2 and r.random() < 0.4:
                a, b = r.sample(us, 2)
                return f"{a} > {b}"
            v = self.pick(scope, "Vec") or self.pick(scope, "String")
            if v:
                return r.choice([f"!{v}.is_empty()", f"{v}.is_empty()", f"{v}.len() > 3"])
            v = self.pick(scope, "bool")
            return v or r.choice(["true", "false"])
        if ty == "f64":
            us = [n for (n, t) in scope if t == "u64"]
            if len(us) >= 2:
                a, b = r.sample(us, 2)
                return f"{a} as f64 / ({b}.max(1) as f64)"
            if us:
                return f"{us[0]} as f64 * 0.5"
            return r.choice(["0.0", "1.0", "0.75"])
        if ty == "String":
            disp = [n for (n, t) in scope if t in ("u64", "usize", "String", "str", "bool", "tid")]
            if disp and r.random() < 0.8:
                k = min(len(disp), r.choice([1, 2, 2, 3]))
                picked = r.sample(disp, k)
                fmt = r.choice([":", "-", "/", " "]).join("{}" for _ in picked)
                prefix = r.choice(["", "", r.choice(LIT_WORDS) + "="])
                return f'format!("{prefix}{fmt}", {", ".join(picked)})'
            v = self.pick(scope, "Vec")
            if v:
                return f'{v}.join("{r.choice([",", " ", "|", chr(92) + "n"])}")'
            return f"{self.lit_str()}.to_string()"
        if ty == "Vec":
            v = self.pick(scope, "Vec")
            if v and r.random() < 0.5:
                return f"{v}.clone()" if v.startswith("self.") else v
            if v:
                return f"{v}.iter().filter(|s| !s.is_empty()).cloned().collect()"
            ss = [n for (n, t) in scope if t in ("String", "str")]
            if ss:
                return "vec![" + ", ".join(f"{s}.to_string()" for s in ss[:3]) + "]"
            return "Vec::new()"
        if ty == "Opt":
            v = self.pick(scope, "Vec")
            if v and r.random() < 0.6:
                return r.choice([f"{v}.first().cloned()", f"{v}.last().cloned()",
                                 f"{v}.iter().max_by_key(|s| s.len()).cloned()"])
            v = self.pick(scope, "String") or self.pick(scope, "str")
            if v:
                return f"Some({v}.to_string())"
            return "None"
        if ty == "Map":
            return "HashMap::new()"
        raise ValueError(ty)

    # ------------------------------------------------------------------ statements
    def err_mode(self, fc, source: str):
        """Suffix that propagates an error of `source` ('own' | 'dep' | 'tool') from fc, or None."""
        ret = fc.ret
        if isinstance(ret, tuple) and ret[0] == "res":
            return "?"
        if ret == "toolres":
            if source == "dep":
                te = self.need(fc, "ToolError")
                return f".map_err(|e| {te}::Failed(e.to_string()))?"
            return "?"
        return None

    def consume(self, fc, scope, out, ind, call, ret, source):
        r = self.rng
        if ret is None:
            out.append(f"{ind}{call};")
            return
        if ret == "self":
            ret = None
        if ret == "toolres" or (isinstance(ret, tuple) and ret[0] == "res"):
            inner = "String" if ret == "toolres" else ret[1]
            qm = self.err_mode(fc, "tool" if ret == "toolres" else source)
            if qm is not None:
                if inner is None:
                    out.append(f"{ind}{call}{qm};")
                else:
                    n = self.local(fc, inner)
                    out.append(f"{ind}let {n} = {call}{qm};")
                    scope.append((n, inner))
                return
            if inner is None:
                out.append(f"{ind}if let Err(err) = {call} {{")
                out.append(f'{ind}    tracing::warn!(error = %err, "{r.choice(LOG_MSGS)} failed");')
                out.append(f"{ind}}}")
                return
            n = self.local(fc, inner)
            if r.random() < 0.5:
                out.append(f"{ind}let {n} = {call}.unwrap_or_default();")
            else:
                out.append(f"{ind}let {n} = match {call} {{")
                out.append(f"{ind}    Ok(value) => value,")
                out.append(f"{ind}    Err(err) => {{")
                out.append(f'{ind}        tracing::warn!(error = %err, "{r.choice(LOG_MSGS)}");')
                out.append(f"{ind}        Default::default()")
                out.append(f"{ind}    }}")
                out.append(f"{ind}}};")
            scope.append((n, inner))
            return
        n = self.local(fc, ret)
        if r.random() < 0.15 and ret in RUST_TY:
            out.append(f"{ind}let {n}: {RUST_TY[ret]} = {call};")
        else:
            out.append(f"{ind}let {n} = {call};")
        scope.append((n, ret))

    def source_of(self, fc, f: Fn) -> str:
        return "own" if f.module.crate is fc.crate else "dep"

    def usable(self, fc, f: Fn) -> bool:
        if f.is_async and not fc.is_async:
            return False
        if f is fc.cur:
            return False
        return True

    def stmt_call(self, fc, scope, out, ind) -> bool:
        """One call to something in the symbol table. Returns False when nothing fit."""
        r = self.rng
        for _ in range(6):
            roll = r.random()
            # self.method(..)
            if fc.self_struct is not None and roll < 0.15:
                ms = [m for m in fc.self_struct.methods if self.usable(fc, m)
                      and (m.recv == "&self" or fc.self_mut)]
                if not ms:
                    continue
                m = r.choice(ms)
                if self.seen(fc, ("self", m.name)):
                    continue
                args = self.args_for(fc, scope, m.params)
                if args is None:
                    continue
                call = f"self.{m.name}({', '.join(args)})" + (".await" if m.is_async else "")
                self.consume(fc, scope, out, ind, call, m.ret, "own")
                return True
            # receiver.method(..) on a field, param or local of struct type
            if roll < 0.5:
                recvs = [(n, t) for (n, t) in scope if isinstance(t, tuple) and t[0] in ("obj", "mobj", "ref", "arc", "mutex")]
                if recvs and r.random() < 0.7:
                    n, t = r.choice(recvs)
                    s = t[1]
                    kind = t[0]
                    ms = [m for m in s.methods if self.usable(fc, m)]
                    if kind in ("ref", "arc", "obj"):
                        ms = [m for m in ms if m.recv == "&self"]
                    if kind == "mutex" and not fc.is_async:
                        ms = []
                    if not ms:
                        continue
                    m = r.choices(ms, weights=[3 if x.params else 1 for x in ms])[0]
                    if self.seen(fc, (n, m.name)):
                        continue
                    args = self.args_for(fc, scope, m.params)
                    if args is None:
                        continue
                    recv = f"{n}.lock().await" if kind == "mutex" else n
                    call = f"{recv}.{m.name}({', '.join(args)})" + (".await" if m.is_async else "")
                    self.consume(fc, scope, out, ind, call, m.ret, self.source_of(fc, m))
                    return True
                # construct a local and call a method on it
                structs = fc.structs
                if not structs:
                    continue
                s = r.choice(structs)
                if not s.constructible or not s.methods:
                    continue
                ms = [m for m in s.methods if self.usable(fc, m)]
                if not ms:
                    continue
                m = r.choice(ms)
                cargs = self.args_for(fc, scope, s.ctor.params)
                args = None
                if cargs is not None:
                    tmp = list(scope)
                    args = self.args_for(fc, tmp, m.params)
                if args is None:
                    continue
                tname = self.ref_type(fc, s)
                n = self.local(fc, ("obj", s))
                mut = "mut " if m.recv == "&mut self" else ""
                out.append(f"{ind}let {mut}{n} = {tname}::{s.ctor.name}({', '.join(cargs)});")
                scope.append((n, ("mobj" if mut else "obj", s)))
                call = f"{n}.{m.name}({', '.join(args)})" + (".await" if m.is_async else "")
                self.consume(fc, scope, out, ind, call, m.ret, self.source_of(fc, m))
                return True
            # free function
            same = [f for f in fc.mod.fns if self.usable(fc, f)]
            if same and r.random() < 0.35:
                f = r.choice(same)
            elif fc.fns:
                f = r.choice(fc.fns)
                if not self.usable(fc, f):
                    continue
            else:
                continue
            if self.seen(fc, ("fn", f.name)):
                continue
            args = self.args_for(fc, scope, f.params)
            if args is None:
                continue
            call = f"{self.ref_fn(fc, f)}({', '.join(args)})" + (".await" if f.is_async else "")
            self.consume(fc, scope, out, ind, call, f.ret, self.source_of(fc, f))
            return True
        return False

    def seen(self, fc, key) -> bool:
        """True (usually) when this call was already made in the current function: try something else."""
        if key in fc.called:
            return self.rng.random() < 0.9
        fc.called.add(key)
        return False

    def stmt_other(self, fc, scope, out, ind):
        r = self.rng
        k = r.randrange(13)
        us = [n for (n, t) in scope if t == "u64"]
        vs = [n for (n, t) in scope if t in ("Vec", "slice")]
        ss = [n for (n, t) in scope if t in ("String", "str")]
        if k == 0 and us:
            v = r.choice(us)
            n = fc.locals.unique(r.choice(["tier", "bucket", "grade", "band"]))
            a, b = sorted(r.sample([2, 4, 8, 16, 32, 64, 128, 256, 1024], 2))
            out.append(f"{ind}let {n} = match {v} {{")
            out.append(f'{ind}    0 => "{r.choice(["empty", "none", "zero"])}",')
            out.append(f'{ind}    1..={a} => "{r.choice(["small", "low", "few"])}",')
            out.append(f'{ind}    {a + 1}..={b} => "{r.choice(["medium", "mid", "some"])}",')
            out.append(f'{ind}    _ => "{r.choice(["large", "high", "many"])}",')
            out.append(f"{ind}}};")
            scope.append((n, "str"))
        elif k in (1, 2) and vs:
            v = r.choice(vs)
            n = self.local(fc, "Vec")
            out.append(f"{ind}let {n}: Vec<String> = {v}")
            out.append(f"{ind}    .iter()")
            for step in r.sample([
                f"    .filter(|s| !s.is_empty() && s.len() < {r.choice([32, 64, 128, 256])})",
                f"    .map(|s| s.trim().to_lowercase())",
                f"    .take({r.choice([4, 8, 16, 50])})",
                f"    .filter(|s| !s.starts_with('{r.choice('_#.~')}'))",
                f"    .map(|s| s.replace('{r.choice('-/:')}', \"_\"))",
            ], r.randint(1, 3)):
                out.append(f"{ind}{step}")
            if not any(".map(" in l for l in out[-3:]):
                out.append(f"{ind}    .cloned()")
            out.append(f"{ind}    .collect();")
            scope.append((n, "Vec"))
        elif k == 3 and vs:
            v = r.choice(vs)
            n = self.local(fc, "u64")
            out.append(f"{ind}let {n}: u64 = {v}.iter().map(|s| s.len() as u64).sum();")
            scope.append((n, "u64"))
        elif k == 4:
            ctxv = self.pick(scope, "ctx")
            fields = []
            if ctxv:
                fields.append(f"thread_id = %{ctxv}.thread_id")
            if us:
                fields.append(f"{r.choice(us).rsplit('.', 1)[-1].lower()} = {r.choice(us)}")
            if ss and r.random() < 0.5:
                s = r.choice(ss)
                fields.append(f"{r.choice(['label', 'key', 'name'])} = %{s}")
            lvl = r.choice(["info", "debug", "debug", "trace", "info"])
            out.append(f'{ind}tracing::{lvl}!({", ".join(fields + [chr(34) + r.choice(LOG_MSGS) + chr(34)])});')
        elif k == 5:
            n = self.local(fc, "String")
            out.append(f"{ind}let {n} = {self.value_of(fc, scope, 'String')};")
            scope.append((n, "String"))
        elif k == 6 and us and isinstance(fc.ret, tuple) and fc.ret[0] == "res":
            v = r.choice(us)
            err = self.need(fc, "Err")
            variant = r.choice(["Limit", "InvalidInput"])
            out.append(f"{ind}if {v} > {r.choice([1000, 4096, 10000, 65536])} {{")
            out.append(f'{ind}    return Err({err}::{variant}(format!("{v.replace("self.", "")} too large: {{}}", {v})));')
            out.append(f"{ind}}}")
        elif k == 6 and ss and fc.ret == "toolres":
            s = r.choice(ss)
            te = self.need(fc, "ToolError")
            out.append(f"{ind}if {s}.is_empty() {{")
            out.append(f'{ind}    return Err({te}::InvalidArgs("{s.replace("self.", "")} must not be empty".to_string()));')
            out.append(f"{ind}}}")
        elif k == 7 and vs:
            v = r.choice(vs)
            n = fc.locals.unique(r.choice(["acc", "running", "weight_sum"]))
            mul = r.choice(us) if us else self.lit_u64()
            out.append(f"{ind}let mut {n} = 0u64;")
            out.append(f"{ind}for (i, item) in {v}.iter().enumerate() {{")
            out.append(f"{ind}    if item.is_empty() {{")
            out.append(f"{ind}        continue;")
            out.append(f"{ind}    }}")
            out.append(f"{ind}    {n} = {n}.saturating_add((i as u64) * {mul} + item.len() as u64);")
            out.append(f"{ind}}}")
            scope.append((n, "u64"))
        elif k == 8 and us:
            f = fc.locals.unique(r.choice(["scale", "adjust", "clamp"]))
            n = self.local(fc, "u64")
            out.append(f"{ind}let {f} = |x: u64| -> u64 {{ x.saturating_mul({r.choice([2, 3, 5])}) / {r.choice([2, 4, 10])} }};")
            out.append(f"{ind}let {n} = {f}({r.choice(us)});")
            scope.append((n, "u64"))
        elif k == 9 and vs:
            v = r.choice(vs)
            m = fc.locals.unique("counts")
            n = self.local(fc, "usize")
            hm = self.need(fc, "std::collections::HashMap")
            out.append(f"{ind}let mut {m}: {hm}<String, u64> = {hm}::new();")
            out.append(f"{ind}for word in {v}.iter() {{")
            out.append(f"{ind}    *{m}.entry(word.clone()).or_insert(0) += 1;")
            out.append(f"{ind}}}")
            out.append(f"{ind}let {n} = {m}.len();")
            scope.append((n, "usize"))
        elif k == 10 and vs:
            v = r.choice(vs)
            n = self.local(fc, "String")
            out.append(f"{ind}let {n} = {v}.first().cloned().unwrap_or_else(|| {self.lit_str()}.to_string());")
            scope.append((n, "String"))
        elif k == 11 and (self.pick(scope, "ctx")):
            c = self.pick(scope, "ctx")
            if r.random() < 0.5:
                n = fc.locals.unique("tid")
                out.append(f"{ind}let {n} = {c}.thread_id;")
                scope.append((n, "tid"))
            else:
                n = fc.locals.unique(r.choice(["child_ctx", "scoped"]))
                out.append(f'{ind}let {n} = {c}.child("{r.choice(LIT_WORDS)}");')
                scope.append((n, "ctxo"))
        elif k == 12 and fc.self_mut:
            fus = [n for (n, t) in scope if t == "u64" and n.startswith("self.")]
            fvs = [n for (n, t) in scope if t == "Vec" and n.startswith("self.")]
            if fus and (not fvs or r.random() < 0.5):
                f = r.choice(fus)
                out.append(f"{ind}{f} = {f}.saturating_add({r.choice(us)});")
            elif fvs:
                f = r.choice(fvs)
                out.append(f"{ind}{f}.push({self.value_of(fc, scope, 'String')});")
                if r.random() < 0.5:
                    out.append(f"{ind}if {f}.len() > {r.choice([64, 128, 512])} {{")
                    out.append(f"{ind}    {f}.remove(0);")
                    out.append(f"{ind}}}")
        else:
            n = self.local(fc, "u64")
            out.append(f"{ind}let {n} = {self.value_of(fc, scope, 'u64')};")
            scope.append((n, "u64"))

    def stmt_spawn(self, fc, scope, out, ind):
        """tokio::spawn(async move { .. }) with cloned captures."""
        r = self.rng
        inner_scope = []
        c = self.pick(scope, "ctx")
        if c and r.random() < 0.9:
            n = fc.locals.unique("task_ctx")
            out.append(f"{ind}let {n} = {c}.clone();")
            inner_scope.append((n, "ctxo"))
        for (nm, t) in list(scope):
            if isinstance(t, tuple) and t[0] in ("arc", "mutex") and nm.startswith("self.") and r.random() < 0.5:
                n = fc.locals.unique(nm[5:])
                out.append(f"{ind}let {n} = {nm}.clone();")
                inner_scope.append((n, t))
            elif t in ("String", "str") and r.random() < 0.3:
                n = fc.locals.unique("owned_" + nm.rsplit(".", 1)[-1].lower())
                out.append(f"{ind}let {n} = {nm}.to_string();")
                inner_scope.append((n, "String"))
            elif t == "u64" and "." not in nm and r.random() < 0.3:
                inner_scope.append((nm, "u64"))
        handle = fc.locals.unique("handle") if r.random() < 0.3 else None
        prefix = f"let {handle} = " if handle else ""
        out.append(f"{ind}{prefix}tokio::spawn(async move {{")
        saved = (fc.ret, fc.self_struct, fc.self_mut)
        fc.ret, fc.self_struct, fc.self_mut, fc.is_async = None, None, False, True
        for _ in range(r.randint(1, 3)):
            self.stmt_call(fc, inner_scope, out, ind + "    ")
        fc.ret, fc.self_struct, fc.self_mut = saved
        out.append(f"{ind}}});")
        if handle:
            out.append(f"{ind}if let Err(err) = {handle}.await {{")
            out.append(f'{ind}    tracing::warn!(error = %err, "background task panicked");')
            out.append(f"{ind}}}")

    def tail(self, fc, scope, ind) -> list[str]:
        ret = fc.ret
        if ret is None:
            return []
        if ret == "toolres":
            return [f"{ind}Ok({self.value_of(fc, scope, 'String')})"]
        if isinstance(ret, tuple):
            if ret[1] is None:
                return [f"{ind}Ok(())"]
            return [f"{ind}Ok({self.value_of(fc, scope, ret[1])})"]
        if ret == "self":
            return []
        return [f"{ind}{self.value_of(fc, scope, ret)}"]

    def body(self, fc, scope, ind, calls=None) -> list[str]:
        r = self.rng
        out: list[str] = []
        n_calls = calls if calls is not None else r.choices([1, 2, 3, 4, 5, 6, 7, 8], weights=[1, 5, 6, 5, 3, 2, 1, 1])[0]
        n_other = r.randint(1, 4)
        plan = ["c"] * n_calls + ["o"] * n_other
        r.shuffle(plan)
        if fc.is_async and r.random() < 0.08:
            plan.insert(r.randrange(len(plan) + 1), "s")
        for p in plan:
            if p == "c":
                if not self.stmt_call(fc, scope, out, ind):
                    self.stmt_other(fc, scope, out, ind)
            elif p == "s":
                self.stmt_spawn(fc, scope, out, ind)
            else:
                self.stmt_other(fc, scope, out, ind)
        out.extend(self.tail(fc, scope, ind))
        return out

    # ------------------------------------------------------------------ signatures
    def rand_ret(self, fc_theme_ctx=False, allow_res=True):
        r = self.rng
        x = r.random()
        if x < 0.12:
            return None
        if allow_res and x < 0.45:
            return ("res", r.choice([None, "u64", "String", "Vec", "u64", "String", "bool", "usize"]))
        return r.choice(["u64", "u64", "String", "String", "Vec", "bool", "usize", "Opt", "f64"])

    def rand_params(self, ctx_prob, structs, k=None):
        r = self.rng
        params = []
        used = set()
        if r.random() < ctx_prob:
            params.append(("ctx", "ctx"))
            used.add("ctx")
        k = k if k is not None else r.choices([0, 1, 2, 3, 4], weights=[2, 5, 5, 3, 1])[0]
        for _ in range(k):
            t = r.choice(["str", "str", "u64", "u64", "usize", "slice", "bool", "str", "String", "ref", "tid"])
            if t == "ref":
                if not structs or r.random() < 0.5:
                    t = "u64"
                else:
                    s = r.choice(structs)
                    nm = snake(s.name)
                    if nm in used or nm in RESERVED:
                        continue
                    used.add(nm)
                    params.append((nm, ("ref", s)))
                    continue
            if t == "tid":
                if "thread_id" in used or r.random() < 0.6:
                    t = "u64"
                else:
                    used.add("thread_id")
                    params.append(("thread_id", "tid"))
                    continue
            pool = {"str": STR_PARAM_NAMES, "String": STR_PARAM_NAMES, "u64": U64_NAMES, "usize": USIZE_NAMES,
                    "slice": VEC_NAMES, "bool": BOOL_NAMES}[t]
            nm = r.choice(pool)
            if nm in used:
                continue
            used.add(nm)
            params.append((nm, t))
        return params

    def render_ty(self, fc, t) -> str:
        if t is None:
            return "()"
        if t == "toolres":
            return self.need(fc, "ToolResult")
        if isinstance(t, tuple):
            if t[0] == "res":
                inner = "()" if t[1] is None else self.render_ty(fc, t[1])
                return f"Result<{inner}, {self.need(fc, 'Err')}>"
            if t[0] == "ref":
                return "&" + self.ref_type(fc, t[1])
        if t == "ctx":
            return "&" + self.need(fc, "ThreadContext")
        if t == "tid":
            return self.need(fc, "ThreadId")
        if t == "Map":
            return f"{self.need(fc, 'std::collections::HashMap')}<String, u64>"
        return RUST_TY[t]

    def sig_parts(self, fc, f: Fn):
        vis = {"pub": "pub ", "crate": "pub(crate) ", "priv": ""}[f.vis]
        asy = "async " if f.is_async else ""
        ps = []
        if f.recv:
            ps.append(f.recv)
        for (n, t) in f.params:
            ps.append(f"{n}: {self.render_ty(fc, t)}")
        ret = "" if f.ret is None else (" -> Self" if f.ret == "self" else f" -> {self.render_ty(fc, f.ret)}")
        return f"{vis}{asy}fn {f.name}", ps, ret

    def sig(self, fc, f: Fn) -> str:
        head, ps, ret = self.sig_parts(fc, f)
        return f"{head}({', '.join(ps)}){ret}"

    def emit_fn(self, fc, f: Fn, scope, ind, calls=None) -> list[str]:
        head, ps, ret = self.sig_parts(fc, f)
        fc.is_async = f.is_async
        fc.ret = f.ret
        fc.cur = f
        fc.locals = Names()
        fc.called = set()
        for (n, _) in f.params:
            fc.locals.unique(n)
        for (n, t) in f.params:
            scope.append((n, t))
        lines = []
        if self.rng.random() < 0.35:
            lines.append(f"{ind}/// {doc_line(self.rng, f.name)}")
        one = f"{ind}{head}({', '.join(ps)}){ret} {{"
        if len(one) > 100 and ps:
            # break long signatures the way rustfmt does
            lines.append(f"{ind}{head}(")
            for p in ps:
                lines.append(f"{ind}    {p},")
            lines.append(f"{ind}){ret} {{")
        else:
            lines.append(one)
        lines.extend(self.body(fc, scope, ind + "    ", calls))
        lines.append(f"{ind}}}")
        return lines

    # ------------------------------------------------------------------ items
    def item_free_fn(self, fc, ctx_prob=0.25, async_prob=0.25):
        r = self.rng
        is_async = r.random() < async_prob
        vis = r.choices(["pub", "crate", "priv"], weights=[75, 10, 15])[0]
        f = Fn(self.fn_name(), self.rand_params(ctx_prob, fc.structs), self.rand_ret(), is_async, fc.mod, vis)
        scope = list(fc.consts)
        lines = self.emit_fn(fc, f, scope, "")
        lines.append("")
        fc.mod.body.extend(lines)
        fc.mod.fns.append(f)
        if vis != "priv":
            pass
        return f

    def new_fc(self, mod: Module):
        fc = FnCtx(mod)
        crate = mod.crate
        r = self.rng
        # neighbourhood: modules of this crate (recent ones favoured) and of its dependencies
        same = [m for m in crate.modules if m is not mod and (m.fns or m.structs)]
        picks: list[Module] = []
        if same:
            recent = same[-8:]
            for _ in range(r.randint(2, 5)):
                picks.append(r.choice(recent) if r.random() < 0.5 else r.choice(same))
        for dep in crate.deps:
            dm = [m for m in dep.modules if m.fns or m.structs]
            if dm and r.random() < 0.8:
                for _ in range(r.randint(1, 2)):
                    picks.append(r.choice(dm))
        seen = set()
        for m in picks:
            if id(m) in seen:
                continue
            seen.add(id(m))
            for f in m.fns:
                if f.vis == "pub" or (f.vis == "crate" and m.crate is crate):
                    fc.fns.append(f)
            for s in m.structs:
                if s.constructible:
                    fc.structs.append(s)
        fc.consts = list(mod.consts)
        return fc

    def item_struct(self, fc, max_methods=14, ctx_prob=0.25, async_prob=0.25, field_services=True):
        r = self.rng
        mod = fc.mod
        s = Struct(self.type_name(), mod)
        nf = r.randint(3, 10)
        fields = []
        used = set()
        for _ in range(nf):
            t = r.choice(["u64", "u64", "usize", "bool", "f64", "String", "String", "Vec", "Opt", "Map"])
            pool = {"u64": U64_NAMES, "usize": USIZE_NAMES, "bool": BOOL_NAMES, "f64": F64_NAMES,
                    "String": STR_NAMES, "Vec": VEC_NAMES, "Opt": OPT_NAMES, "Map": ["counts", "by_key", "totals", "seen"]}[t]
            nm = r.choice(pool)
            if nm in used:
                continue
            used.add(nm)
            fields.append((nm, t))
        if field_services and fc.structs and r.random() < 0.5:
            for _ in range(r.randint(1, 2)):
                dep = r.choice(fc.structs)
                if dep is s or not dep.constructible:
                    continue
                nm = snake(dep.name)
                if nm in used:
                    continue
                used.add(nm)
                kind = "mutex" if (r.random() < 0.3 and any(m.recv == "&mut self" for m in dep.methods)) else "arc"
                fields.append((nm, (kind, dep)))
        s.fields = fields
        derive = "#[derive(Debug, Clone)]"
        lines = []
        if r.random() < 0.6:
            lines.append(f"/// {doc_line(r, s.name)}")
        lines.append(derive)
        lines.append(f"pub struct {s.name} {{")
        arc = None
        for (nm, t) in fields:
            vis = "pub " if r.random() < 0.3 else ""
            if isinstance(t, tuple):
                arc = self.need(fc, "std::sync::Arc")
                tn = self.ref_type(fc, t[1])
                if t[0] == "mutex":
                    mx = self.need(fc, "tokio::sync::Mutex")
                    lines.append(f"    {vis}{nm}: {arc}<{mx}<{tn}>>,")
                else:
                    lines.append(f"    {vis}{nm}: {arc}<{tn}>,")
            else:
                lines.append(f"    {vis}{nm}: {self.render_ty(fc, t)},")
        lines.append("}")
        lines.append("")
        # constructor
        prim_fields = [(nm, t) for (nm, t) in fields if t in ("u64", "usize", "bool", "String")]
        cparams = []
        for (nm, t) in r.sample(prim_fields, min(len(prim_fields), r.randint(0, 3))):
            cparams.append((nm, "str" if t == "String" else t))
        ctor = Fn("new", cparams, "self", False, mod, "pub", None, s)
        s.ctor = ctor
        lines.append(f"impl {s.name} {{")
        fc.locals = Names()
        lines.append("    " + self.sig(fc, ctor) + " {")
        lines.append("        Self {")
        cnames = {n for (n, _) in cparams}
        for (nm, t) in fields:
            if nm in cnames:
                if t == "String":
                    lines.append(f"            {nm}: {nm}.to_string(),")
                else:
                    lines.append(f"            {nm},")
            elif isinstance(t, tuple):
                dep = t[1]
                dargs = [self.arg_for(fc, [], pt) or "Default::default()" for (_, pt) in dep.ctor.params]
                inner = f"{self.ref_type(fc, dep)}::{dep.ctor.name}({', '.join(dargs)})"
                if t[0] == "mutex":
                    inner = f"{self.need(fc, 'tokio::sync::Mutex')}::new({inner})"
                lines.append(f"            {nm}: {self.need(fc, 'std::sync::Arc')}::new({inner}),")
            else:
                dv = DEFAULT_VAL[t]
                if t == "Map":
                    dv = f"{self.need(fc, 'std::collections::HashMap')}::new()"
                elif t == "u64" and r.random() < 0.5:
                    dv = self.lit_u64()
                lines.append(f"            {nm}: {dv},")
        lines.append("        }")
        lines.append("    }")
        # methods
        s.methods = []
        mod.structs.append(s)
        nm_used = {"new"}
        n_methods = r.randint(min(4, max_methods), max_methods)
        for i in range(n_methods):
            lines.append("")
            mname = f"{r.choice(VERBS)}_{r.choice(NOUNS)}"
            if mname in nm_used or mname in RESERVED:
                continue
            nm_used.add(mname)
            if i < 2 and r.random() < 0.5:
                # simple accessor
                fld = r.choice(fields)
                if isinstance(fld[1], tuple) or fld[1] == "Map":
                    continue
                getter = fld[0] if fld[0] not in nm_used else f"{fld[0]}_value"
                nm_used.add(getter)
                t = fld[1]
                if t in ("String",):
                    lines.append(f"    pub fn {getter}(&self) -> &str {{")
                    lines.append(f"        &self.{fld[0]}")
                elif t == "Vec":
                    lines.append(f"    pub fn {getter}(&self) -> &[String] {{")
                    lines.append(f"        &self.{fld[0]}")
                elif t == "Opt":
                    lines.append(f"    pub fn {getter}(&self) -> Option<&str> {{")
                    lines.append(f"        self.{fld[0]}.as_deref()")
                else:
                    lines.append(f"    pub fn {getter}(&self) -> {RUST_TY[t]} {{")
                    lines.append(f"        self.{fld[0]}")
                    m = Fn(getter, [], t, False, mod, "pub", "&self", s)
                    s.methods.append(m)
                lines.append("    }")
                continue
            recv = "&mut self" if r.random() < 0.25 else "&self"
            is_async = r.random() < async_prob
            vis = "pub" if r.random() < 0.85 else "priv"
            m = Fn(mname, self.rand_params(ctx_prob, fc.structs, r.choice([0, 1, 1, 2, 2, 3])), self.rand_ret(),
                   is_async, mod, vis, recv, s)
            scope = list(fc.consts)
            for (fnm, t) in fields:
                if isinstance(t, tuple):
                    scope.append((f"self.{fnm}", t))
                elif t in ("u64", "usize", "bool", "f64", "String", "Vec", "Opt"):
                    scope.append((f"self.{fnm}", t))
            fc.self_struct = s
            fc.self_mut = recv == "&mut self"
            lines.extend(self.emit_fn(fc, m, scope, "    "))
            fc.self_struct = None
            fc.self_mut = False
            if vis == "pub":
                s.methods.append(m)
        lines.append("}")
        lines.append("")
        # struct is registered up front so its own methods' callers see it
        mod.body.extend(lines)
        return s

    def item_enum(self, fc):
        r = self.rng
        name = self.type_name(ENUM_SUFFIX)
        variants = r.sample(VARIANTS, r.randint(3, 7))
        s = Struct(name, fc.mod)
        lines = [f"/// {doc_line(r, name)}", "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]", f"pub enum {name} {{"]
        for v in variants:
            lines.append(f"    {v},")
        lines.append("}")
        lines.append("")
        lines.append(f"impl {name} {{")
        lines.append("    pub fn from_code(code: u64) -> Self {")
        lines.append("        match code {")
        for i, v in enumerate(variants[:-1]):
            lines.append(f"            {i} => Self::{v},")
        lines.append(f"            _ => Self::{variants[-1]},")
        lines.append("        }")
        lines.append("    }")
        lines.append("")
        lines.append("    pub fn as_str(&self) -> &'static str {")
        lines.append("        match self {")
        for v in variants:
            lines.append(f'            Self::{v} => "{snake(v)}",')
        lines.append("        }")
        lines.append("    }")
        lines.append("")
        wname = r.choice(["weight", "priority", "cost_factor", "rank_value"])
        lines.append(f"    pub fn {wname}(&self) -> u64 {{")
        lines.append("        match self {")
        k = r.randint(1, len(variants) - 1)
        lines.append(f"            {' | '.join('Self::' + v for v in variants[:k])} => {r.randint(1, 9)},")
        lines.append(f"            _ => {r.randint(10, 99)},")
        lines.append("        }")
        lines.append("    }")
        lines.append("")
        tname = r.choice(["is_terminal", "is_active", "needs_review", "is_urgent"])
        lines.append(f"    pub fn {tname}(&self) -> bool {{")
        lines.append(f"        matches!(self, {' | '.join('Self::' + v for v in r.sample(variants, r.randint(1, 2)))})")
        lines.append("    }")
        lines.append("}")
        lines.append("")
        fmt = self.need(fc, "std::fmt")
        lines.append(f"impl {fmt}::Display for {name} {{")
        lines.append(f"    fn fmt(&self, f: &mut {fmt}::Formatter<'_>) -> {fmt}::Result {{")
        lines.append('        f.write_str(self.as_str())')
        lines.append("    }")
        lines.append("}")
        lines.append("")
        s.ctor = Fn("from_code", [("code", "u64")], "self", False, fc.mod, "pub", None, s)
        s.methods = [Fn(wname, [], "u64", False, fc.mod, "pub", "&self", s),
                     Fn(tname, [], "bool", False, fc.mod, "pub", "&self", s)]
        fc.mod.structs.append(s)
        fc.mod.body.extend(lines)

    def item_consts(self, fc):
        r = self.rng
        lines = []
        for _ in range(r.randint(2, 5)):
            base = f"{r.choice(['MAX', 'DEFAULT', 'MIN', 'SOFT', 'HARD'])}_{r.choice(NOUNS).upper()}_{r.choice(['LIMIT', 'TTL_MS', 'BATCH', 'RETRIES', 'WINDOW', 'SIZE'])}"
            name = self.fn_names.unique(base)
            t = r.choice(["u64", "usize"])
            vis = r.choice(["pub ", "pub ", ""])
            lines.append(f"{vis}const {name}: {t} = {r.choice([3, 5, 8, 16, 30, 64, 128, 500, 1_000, 4096, 30_000])};")
            fc.mod.consts.append((name, t))
            fc.consts.append((name, t))
        if r.random() < 0.5:
            name = self.fn_names.unique(f"KNOWN_{r.choice(NOUNS).upper()}_KINDS")
            words = r.sample(LIT_WORDS, r.randint(2, 6))
            lines.append(f"static {name}: &[&str] = &[{', '.join(chr(34) + w + chr(34) for w in words)}];")
        lines.append("")
        fc.mod.body.extend(lines)

    def item_trait(self, fc):
        r = self.rng
        tname = self.type_names.unique(camel(r.choice(NOUNS)) + r.choice(["Scorer", "Source", "Sink", "Rule", "Check", "Formatter"]), "")
        meth = r.choice(["score", "weigh", "evaluate", "measure"])
        lines = [f"pub trait {tname}: Send + Sync {{",
                 f"    fn {meth}(&self, input: &str) -> u64;",
                 "",
                 "    fn describe(&self) -> String {",
                 f'        format!("{snake(tname)}({{}})", self.{meth}("sample"))',
                 "    }",
                 "}",
                 ""]
        impls = []
        for _ in range(r.randint(2, 3)):
            iname = self.type_names.unique(camel(r.choice(NOUNS)) + tname, "")
            impls.append(iname)
            fld = r.choice(["weight", "bias", "factor"])
            lines += [f"#[derive(Debug, Clone, Default)]",
                      f"pub struct {iname} {{",
                      f"    pub {fld}: u64,",
                      "}",
                      "",
                      f"impl {tname} for {iname} {{",
                      f"    fn {meth}(&self, input: &str) -> u64 {{",
                      r.choice([f"        input.len() as u64 * self.{fld}",
                                f"        input.split_whitespace().count() as u64 + self.{fld}",
                                f"        input.bytes().filter(|b| b.is_ascii_digit()).count() as u64 * self.{fld}.max(1)",
                                f"        input.chars().filter(|c| c.is_uppercase()).count() as u64 + self.{fld} / 2"]),
                      "    }",
                      "}",
                      ""]
        gname = self.fn_name()
        lines += [f"pub fn {gname}<S: {tname} + ?Sized>(scorer: &S, items: &[String], n: usize) -> Vec<String> {{",
                  "    let mut scored: Vec<(u64, String)> = items",
                  "        .iter()",
                  f"        .map(|s| (scorer.{meth}(s), s.clone()))",
                  "        .collect();",
                  "    scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));",
                  "    scored.into_iter().take(n).map(|(_, s)| s).collect()",
                  "}",
                  ""]
        wname = self.fn_name()
        lines += [f"pub fn {wname}(items: &[String], n: usize) -> Vec<String> {{",
                  f"    let scorers: Vec<Box<dyn {tname}>> = vec![{', '.join(f'Box::new({i}::default())' for i in impls)}];",
                  "    let mut out = Vec::new();",
                  "    for scorer in &scorers {",
                  f"        out.extend({gname}(scorer.as_ref(), items, n));",
                  "    }",
                  "    out.dedup();",
                  "    out",
                  "}",
                  ""]
        fc.mod.fns.append(Fn(wname, [("items", "slice"), ("n", "usize")], "Vec", False, fc.mod))
        fc.mod.body.extend(lines)

    def item_generic(self, fc):
        r = self.rng
        name = self.fn_name()
        k = r.randrange(3)
        if k == 0:
            lines = [f"pub fn {name}<T: AsRef<str>>(items: &[T], limit: usize) -> Vec<String> {{",
                     "    items",
                     "        .iter()",
                     "        .map(|s| s.as_ref().trim())",
                     "        .filter(|s| !s.is_empty())",
                     "        .take(limit)",
                     "        .map(str::to_string)",
                     "        .collect()",
                     "}", ""]
            fc.mod.fns.append(Fn(name, [("items", "slice"), ("limit", "usize")], "Vec", False, fc.mod))
        elif k == 1:
            hm = self.need(fc, "std::collections::HashMap")
            lines = [f"pub fn {name}<K, V>(map: &{hm}<K, V>, min: V) -> usize",
                     "where",
                     "    K: std::hash::Hash + Eq,",
                     "    V: PartialOrd + Copy,",
                     "{",
                     "    map.values().filter(|v| **v >= min).count()",
                     "}", ""]
        else:
            sname = self.type_names.unique(camel(r.choice(NOUNS)) + "Window", "")
            lines = [f"#[derive(Debug, Clone)]",
                     f"pub struct {sname}<T> {{",
                     "    items: Vec<T>,",
                     "    cap: usize,",
                     "}",
                     "",
                     f"impl<T: Clone + std::fmt::Debug> {sname}<T> {{",
                     "    pub fn with_capacity(cap: usize) -> Self {",
                     "        Self { items: Vec::with_capacity(cap), cap }",
                     "    }",
                     "",
                     "    pub fn push(&mut self, item: T) -> Option<T> {",
                     "        self.items.push(item);",
                     "        if self.items.len() > self.cap {",
                     "            Some(self.items.remove(0))",
                     "        } else {",
                     "            None",
                     "        }",
                     "    }",
                     "",
                     "    pub fn latest(&self, n: usize) -> Vec<T> {",
                     "        self.items.iter().rev().take(n).cloned().collect()",
                     "    }",
                     "",
                     "    pub fn len(&self) -> usize {",
                     "        self.items.len()",
                     "    }",
                     "",
                     "    pub fn is_empty(&self) -> bool {",
                     "        self.items.is_empty()",
                     "    }",
                     "}", ""]
        fc.mod.body.extend(lines)

    def item_channel_worker(self, fc):
        """An event type carrying thread_id, a worker fed by an mpsc channel, and a publisher."""
        r = self.rng
        noun = r.choice(NOUNS)
        ev = self.type_names.unique(camel(noun) + "Event", "")
        tid = self.need(fc, "ThreadId")
        mpsc = self.need(fc, "tokio::sync::mpsc")
        err = self.need(fc, "Err")
        lines = ["#[derive(Debug, Clone)]", f"pub struct {ev} {{", f"    pub thread_id: {tid},",
                 "    pub kind: String,", "    pub weight: u64,", "}", ""]
        start = self.fn_names.unique(f"start_{noun}_worker")
        lines.append(f"pub fn {start}(capacity: usize) -> {mpsc}::Sender<{ev}> {{")
        lines.append(f"    let (tx, mut rx) = {mpsc}::channel::<{ev}>(capacity);")
        lines.append("    tokio::spawn(async move {")
        lines.append("        while let Some(event) = rx.recv().await {")
        fc.locals = Names()
        fc.called = set()
        fc.is_async, fc.ret, fc.cur = True, None, None
        scope = [("event.kind", "String"), ("event.weight", "u64"), ("event.thread_id", "tid")]
        if r.random() < 0.7:
            tc = self.need(fc, "ThreadContext")
            lines.append(f'            let ctx = {tc}::new(event.thread_id, "{r.choice(["worker", "system", "bus"])}");')
            scope.append(("ctx", "ctxo"))
        body = []
        for _ in range(r.randint(1, 3)):
            if not self.stmt_call(fc, scope, body, "            "):
                self.stmt_other(fc, scope, body, "            ")
        lines.extend(body)
        lines += ["        }", "    });", "    tx", "}", ""]
        pub = self.fn_names.unique(f"publish_{noun}")
        tc = self.need(fc, "ThreadContext")
        lines += [f"pub async fn {pub}(",
                  f"    tx: &{mpsc}::Sender<{ev}>,",
                  f"    ctx: &{tc},",
                  "    kind: &str,",
                  "    weight: u64,",
                  f") -> Result<(), {err}> {{",
                  f"    tx.send({ev} {{",
                  "        thread_id: ctx.thread_id,",
                  "        kind: kind.to_string(),",
                  "        weight,",
                  "    })",
                  "    .await",
                  f"    .map_err(|e| {err}::Upstream(e.to_string()))",
                  "}", ""]
        fc.mod.body.extend(lines)
        fc.mod.fns.append(Fn(start, [("capacity", "usize")], None, False, fc.mod))

    def item_select_loop(self, fc):
        r = self.rng
        noun = r.choice(NOUNS)
        name = self.fn_names.unique(f"run_{noun}_loop")
        tc = self.need(fc, "ThreadContext")
        lines = [f"pub async fn {name}(mut shutdown: tokio::sync::watch::Receiver<bool>, ctx: {tc}) {{",
                 f"    let mut interval = tokio::time::interval(std::time::Duration::from_millis({r.choice([250, 500, 1000, 5000])}));",
                 "    let mut ticks = 0u64;",
                 "    loop {",
                 "        tokio::select! {",
                 "            _ = interval.tick() => {",
                 "                ticks += 1;"]
        fc.locals = Names()
        fc.called = set()
        fc.locals.unique("ticks")
        fc.is_async, fc.ret, fc.cur = True, None, None
        scope = [("ctx", "ctxo"), ("ticks", "u64")]
        body = []
        for _ in range(r.randint(1, 3)):
            if not self.stmt_call(fc, scope, body, "                "):
                self.stmt_other(fc, scope, body, "                ")
        lines.extend(body)
        lines += ["            }",
                  "            changed = shutdown.changed() => {",
                  "                if changed.is_err() || *shutdown.borrow() {",
                  f'                    tracing::info!(thread_id = %ctx.thread_id, ticks, "{noun} loop stopping");',
                  "                    break;",
                  "                }",
                  "            }",
                  "        }",
                  "    }",
                  "}", ""]
        fc.mod.body.extend(lines)

    def item_tests(self, fc):
        r = self.rng
        lines = ["#[cfg(test)]", "mod tests {", "    use super::*;", ""]
        cands = [f for f in fc.mod.fns if not f.is_async and f.vis != "priv"][:3]
        for f in cands:
            args = []
            ok = True
            for (_, t) in f.params:
                a = self.arg_for(fc, [], t) if t not in ("ctx", "tid") else None
                if t == "ctx":
                    a = f"&{self.need(fc, 'ThreadContext')}::default()"
                if t == "tid":
                    a = f"{self.need(fc, 'ThreadId')}(7)"
                if a is None:
                    ok = False
                    break
                args.append(a)
            if not ok:
                continue
            lines += ["    #[test]", f"    fn {f.name}_smoke() {{",
                      f"        let _ = {f.name}({', '.join(args)});", "    }", ""]
        if len(lines) == 4:
            lines += ["    #[test]", "    fn sanity() {", "        assert_eq!(2 + 2, 4);", "    }", ""]
        lines[-1:] = ["}", ""]
        fc.mod.body.extend(lines)

    def fill(self, fc, target, ctx_prob=0.25, async_prob=0.25):
        """Add business items to fc.mod until it is about `target` lines long."""
        r = self.rng
        while fc.mod.nlines() < target - 12:
            left = target - fc.mod.nlines()
            k = r.random()
            if left < 40:
                self.item_free_fn(fc, ctx_prob, async_prob)
            elif k < 0.33:
                self.item_struct(fc, max_methods=max(4, min(14, left // 20)), ctx_prob=ctx_prob, async_prob=async_prob)
            elif k < 0.63:
                self.item_free_fn(fc, ctx_prob, async_prob)
            elif k < 0.71:
                self.item_enum(fc)
            elif k < 0.76:
                self.item_consts(fc)
            elif k < 0.81:
                self.item_trait(fc)
            elif k < 0.86:
                self.item_generic(fc)
            elif k < 0.91:
                self.item_channel_worker(fc)
            elif k < 0.94:
                self.item_select_loop(fc)
            else:
                self.item_free_fn(fc, min(1.0, ctx_prob * 2), 0.6)
        if r.random() < 0.1:
            self.item_tests(fc)

    # ------------------------------------------------------------------ modules
    def new_module(self, crate: Crate, theme: str, name: str | None = None, parent: Module | None = None,
                   style: str | None = None) -> Module:
        r = self.rng
        if name is None:
            for _ in range(50):
                base = r.choice(DOMAINS) if parent is None else r.choice(SUBDOMAINS + DOMAINS[:40])
                if parent is not None and r.random() < 0.3:
                    base = f"{base}_{r.choice(SUBDOMAINS)}"
                taken = crate.used_names | self.crate_idents
                if parent is not None:
                    taken = taken | parent.imports.bound.keys()
                if base not in taken and base not in RESERVED:
                    break
                base = f"{base}_{r.randint(2, 99)}"
                if base not in taken:
                    break
            name = base
        crate.used_names.add(name)
        if style is None:
            style = r.choice(["modrs", "file", "file"])
        path = (name,) if parent is None else parent.path + (name,)
        m = Module(crate, path, style, theme, parent)
        if parent is None:
            crate.top.append(m)
        else:
            parent.children.append(m)
        crate.modules.append(m)
        m.doc = module_doc(r, name)
        m.target = int(r.triangular(150, 600, 210))
        return m

    def place_business_module(self, crate: Crate) -> Module:
        r = self.rng
        folders = [m for m in crate.modules if m.theme == "biz" and len(m.path) < 3 and len(m.children) < 7]
        if folders and r.random() < 0.6:
            parent = r.choice(folders[-6:])
            return self.new_module(crate, "biz", parent=parent)
        return self.new_module(crate, "biz")

    def finish_module(self, m: Module):
        r = self.rng
        crate = m.crate
        # re-exports: parent mod re-exports some child types; lib.rs re-exports some types
        if m.structs and m.parent is not None and r.random() < 0.3:
            s = r.choice(m.structs)
            m.parent.pub_uses.append(f"pub use self::{m.name}::{s.name};")
            s.aliases.append((crate, m.parent.path))
        if m.structs and r.random() < 0.25:
            s = r.choice(m.structs)
            if (crate, ()) not in s.aliases:
                crate.lib_uses.append(f"pub use {'::'.join(m.path)}::{s.name};")
                s.aliases.append((crate, ()))
        crate.lines += m.nlines()

    # ------------------------------------------------------------------ crate skeleton
    def gen_error(self, crate: Crate):
        m = self.new_module(crate, "error", name="error", style="file")
        m.doc = f"Error type of the {crate.name} crate."
        fc = FnCtx(m)
        e = crate.err
        te = self.need(fc, "ToolError")
        fmt = self.need(fc, "std::fmt")
        variants = [("NotFound", "String", "not found: {0}"), ("InvalidInput", "String", "invalid input: {0}"),
                    ("Limit", "String", "limit exceeded: {0}"), ("Upstream", "String", "upstream failure: {0}"),
                    ("Tool", te, "tool failed: {0}"), ("Io", "std::io::Error", "i/o error: {0}")]
        for d in crate.deps:
            variants.append((d.camel, f"{d.ident}::error::{d.err}", f"{d.name}: {{0}}"))
        L = ["#[derive(Debug)]", f"pub enum {e} {{"]
        for (v, t, _) in variants:
            L.append(f"    {v}({t}),")
        L += ["}", "", f"impl {fmt}::Display for {e} {{",
              f"    fn fmt(&self, f: &mut {fmt}::Formatter<'_>) -> {fmt}::Result {{", "        match self {"]
        for (v, t, msg) in variants:
            L.append(f'            Self::{v}(inner) => write!(f, "{msg.replace("{0}", "{inner}")}"),')
        L += ["        }", "    }", "}", "", f"impl std::error::Error for {e} {{}}", ""]
        for (v, t, _) in variants:
            if t == "String":
                continue
            L += [f"impl From<{t}> for {e} {{", f"    fn from(err: {t}) -> Self {{", f"        Self::{v}(err)", "    }", "}", ""]
        L += [f"impl From<{e}> for {te} {{", f"    fn from(err: {e}) -> Self {{",
              f"        {te}::Failed(err.to_string())", "    }", "}", ""]
        L += [f"impl {e} {{", "    pub fn is_retryable(&self) -> bool {",
              "        matches!(self, Self::Upstream(_) | Self::Limit(_) | Self::Io(_))", "    }", "",
              "    pub fn code(&self) -> u16 {", "        match self {"]
        for i, (v, _, _) in enumerate(variants):
            L.append(f"            Self::{v}(_) => {400 + i * 3 if i < 4 else 500 + i},")
        L += ["        }", "    }", "", "    pub fn label(&self) -> &'static str {", "        match self {"]
        for (v, _, _) in variants:
            L.append(f'            Self::{v}(_) => "{snake(v)}",')
        L += ["        }", "    }", "}", ""]
        m.body.extend(L)
        self.finish_module(m)

    def gen_core_types(self, crate: Crate):
        m = self.new_module(crate, "core", name="context", style="file")
        m.doc = "Per-conversation thread context carried from the socket to the tools."
        fc = FnCtx(m)
        self.need(fc, "std::fmt")
        m.body.extend([
            "#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, PartialOrd, Ord)]",
            "pub struct ThreadId(pub u64);", "",
            "impl fmt::Display for ThreadId {",
            "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {",
            '        write!(f, "thr-{:08x}", self.0)', "    }", "}", "",
            "#[derive(Debug, Clone, Default)]",
            "pub struct ThreadContext {",
            "    pub thread_id: ThreadId,", "    pub user_id: String,", "    pub session_id: u64,",
            "    pub trace: Vec<String>,", "}", "",
            "impl ThreadContext {",
            "    pub fn new(thread_id: ThreadId, user_id: &str) -> Self {",
            "        Self {", "            thread_id,", "            user_id: user_id.to_string(),",
            "            session_id: 0,", "            trace: Vec::new(),", "        }", "    }", "",
            "    pub fn from_id(thread_id: ThreadId) -> Self {",
            '        Self::new(thread_id, "system")', "    }", "",
            "    pub fn child(&self, label: &str) -> Self {",
            "        let mut trace = self.trace.clone();", "        trace.push(label.to_string());",
            "        Self {", "            thread_id: self.thread_id,", "            user_id: self.user_id.clone(),",
            "            session_id: self.session_id,", "            trace,", "        }", "    }", "",
            "    pub fn thread_id(&self) -> ThreadId {", "        self.thread_id", "    }", "",
            "    pub fn user(&self) -> &str {", "        &self.user_id", "    }", "}", "",
        ])
        self.finish_module(m)
        t = self.new_module(crate, "core", name="tool", style="file")
        t.doc = "The tool trait every agent capability implements."
        fc = FnCtx(t)
        self.need(fc, "std::fmt")
        self.need(fc, "async_trait::async_trait")
        self.need(fc, "crate::context::ThreadContext")
        t.body.extend([
            "#[derive(Debug, Clone, PartialEq, Eq)]",
            "pub enum ToolError {", "    NotFound(String),", "    InvalidArgs(String),", "    Failed(String),",
            "    Timeout(u64),", "}", "",
            "impl fmt::Display for ToolError {",
            "    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {", "        match self {",
            '            Self::NotFound(name) => write!(f, "unknown tool {name}"),',
            '            Self::InvalidArgs(why) => write!(f, "invalid arguments: {why}"),',
            '            Self::Failed(why) => write!(f, "tool failed: {why}"),',
            '            Self::Timeout(ms) => write!(f, "tool timed out after {ms} ms"),',
            "        }", "    }", "}", "",
            "impl std::error::Error for ToolError {}", "",
            "pub type ToolResult = Result<String, ToolError>;", "",
            "#[async_trait]",
            "pub trait Tool: Send + Sync {",
            "    fn name(&self) -> &str;", "",
            "    fn description(&self) -> &str {", '        ""', "    }", "",
            "    async fn call(&self, ctx: &ThreadContext, args: &str) -> ToolResult;",
            "}", "",
            "#[derive(Debug, Clone)]",
            "pub struct ToolSpec {", "    pub name: String,", "    pub description: String,",
            "    pub timeout_ms: u64,", "}", "",
        ])
        self.finish_module(t)
        crate.lib_uses += ["pub use context::{ThreadContext, ThreadId};", "pub use tool::{Tool, ToolError, ToolResult, ToolSpec};"]

    # ------------------------------------------------------------------ agent stack
    def gen_stack(self, crate: Crate, k: str):
        r = self.rng
        # tools
        tools_mod = self.new_module(crate, "tools", name=unique_in(crate, "tools"), style=r.choice(["modrs", "file"]))
        tools_mod.doc = "Agent tools: every capability the engine can call on behalf of a thread."
        tool_structs: list[Struct] = []
        helper_fc = self.new_fc(tools_mod)
        parse_fn = self.fn_names.unique("parse_tool_args")
        tools_mod.body += [f"pub fn {parse_fn}(args: &str) -> Vec<String> {{",
                           "    args.split(|c: char| c == ',' || c == ' ')",
                           "        .map(str::trim)", "        .filter(|s| !s.is_empty())",
                           "        .map(str::to_string)", "        .collect()", "}", ""]
        tools_mod.fns.append(Fn(parse_fn, [("args", "str")], "Vec", False, tools_mod))
        self.fill(helper_fc, tools_mod.target // 2, ctx_prob=0.4)
        self.finish_module(tools_mod)
        for _ in range(r.randint(2, 3)):
            tm = self.new_module(crate, "tools", parent=tools_mod,
                                 name=unique_in(crate, f"{r.choice(DOMAINS)}_tools"))
            fc = self.new_fc(tm)
            fc.fns.append(tools_mod.fns[0])
            while tm.nlines() < tm.target - 50:
                tool_structs.append(self.item_tool(fc))
                if r.random() < 0.4:
                    self.item_free_fn(fc, 0.5, 0.4)
            self.finish_module(tm)
            for s in tm.structs:
                if s.name.endswith("Tool") and r.random() < 0.5:
                    tools_mod.pub_uses.append(f"pub use self::{tm.name}::{s.name};")
                    s.aliases.append((crate, tools_mod.path))
        # tools of dependencies, to register in the dispatcher too
        dep_tools = [s for d in crate.deps for s in d.tool_structs] if hasattr(crate, "deps") else []
        crate.tool_structs = tool_structs

        # dispatcher
        dm = self.new_module(crate, "dispatch", name=unique_in(crate, "dispatch"), style=r.choice(["file", "modrs"]))
        dm.doc = "Routes tool calls by name to the registered tools."
        fc = self.new_fc(dm)
        disp = Struct(f"ToolDispatcher{k}", dm)
        disp.constructible = False
        hm = self.need(fc, "std::collections::HashMap")
        tool = self.need(fc, "Tool")
        tc = self.need(fc, "ThreadContext")
        tr = self.need(fc, "ToolResult")
        te = self.need(fc, "ToolError")
        L = [f"/// Owns every tool of this service, keyed by the name the model uses.",
             f"pub struct {disp.name} {{", f"    tools: {hm}<String, Box<dyn {tool}>>,", "    timeout_ms: u64,",
             "    max_parallel: usize,", "}", "",
             f"impl {disp.name} {{", "    pub fn new() -> Self {",
             f"        let mut tools: {hm}<String, Box<dyn {tool}>> = {hm}::new();"]
        reg = r.sample(tool_structs, min(len(tool_structs), r.randint(3, 12)))
        reg += r.sample(dep_tools, min(len(dep_tools), r.randint(0, 3)))
        for s in reg:
            L.append(f"        let tool = {self.ref_type(fc, s)}::new();")
            L.append("        tools.insert(tool.name().to_string(), Box::new(tool));")
        L += ["        Self {", "            tools,", f"            timeout_ms: {r.choice([5000, 15000, 30000])},",
              f"            max_parallel: {r.choice([2, 4, 8])},", "        }", "    }", "",
              f"    pub fn register(&mut self, tool: Box<dyn {tool}>) {{",
              "        self.tools.insert(tool.name().to_string(), tool);", "    }", "",
              "    pub fn names(&self) -> Vec<String> {",
              "        let mut names: Vec<String> = self.tools.keys().cloned().collect();",
              "        names.sort();", "        names", "    }", "",
              f"    pub async fn dispatch(&self, ctx: &{tc}, name: &str, args: &str) -> {tr} {{",
              "        let tool = self",
              "            .tools", "            .get(name)",
              f"            .ok_or_else(|| {te}::NotFound(name.to_string()))?;",
              '        tracing::debug!(thread_id = %ctx.thread_id, tool = name, "dispatching tool call");',
              "        let started = std::time::Instant::now();",
              "        let result = tokio::time::timeout(",
              "            std::time::Duration::from_millis(self.timeout_ms),",
              "            tool.call(ctx, args),", "        )", "        .await",
              f"        .map_err(|_| {te}::Timeout(self.timeout_ms))?;",
              "        tracing::debug!(elapsed_ms = started.elapsed().as_millis() as u64, \"tool finished\");",
              "        result", "    }", "",
              f"    pub async fn dispatch_all(&self, ctx: &{tc}, calls: &[(String, String)]) -> Vec<{tr}> {{",
              "        let mut results = Vec::with_capacity(calls.len());",
              "        for chunk in calls.chunks(self.max_parallel.max(1)) {",
              "            for (name, args) in chunk {",
              "                results.push(self.dispatch(ctx, name, args).await);",
              "            }", "        }", "        results", "    }", "}", ""]
        dm.body += L
        disp.methods = [Fn("dispatch", [("ctx", "ctx"), ("name", "str"), ("args", "str")], "toolres", True, dm, "pub", "&self", disp),
                        Fn("names", [], "Vec", False, dm, "pub", "&self", disp)]
        dm.structs.append(disp)
        self.fill(fc, dm.target, ctx_prob=0.4)
        self.finish_module(dm)

        # engine
        em = self.new_module(crate, "engine", name=unique_in(crate, "engine"), style=r.choice(["file", "modrs"]))
        em.doc = "The execution engine: plans a turn and calls tools through the dispatcher."
        fc = self.new_fc(em)
        eng = Struct(f"Engine{k}", em)
        eng.constructible = False
        step = f"PlanStep{k}"
        arc = self.need(fc, "std::sync::Arc")
        tc = self.need(fc, "ThreadContext")
        err = self.need(fc, "Err")
        dname = self.ref_type(fc, disp)
        L = ["#[derive(Debug, Clone)]", f"pub struct {step} {{", "    pub tool: String,", "    pub args: String,",
             "    pub weight: u64,", "}", "",
             f"pub struct {eng.name} {{", f"    dispatcher: {arc}<{dname}>,", "    max_steps: usize,",
             "    history: Vec<String>,", "    model: String,", "    turns: u64,", "}", "",
             f"impl {eng.name} {{", f"    pub fn new(dispatcher: {arc}<{dname}>) -> Self {{",
             "        Self {", "            dispatcher,", f"            max_steps: {r.choice([4, 8, 12])},",
             "            history: Vec::new(),", f'            model: "{r.choice(["gpt-4o", "claude", "local-7b", "mixtral"])}".to_string(),',
             "            turns: 0,", "        }", "    }", "",
             f"    pub fn plan(&self, prompt: &str) -> Vec<{step}> {{",
             "        let names = self.dispatcher.names();", "        prompt",
             "            .split(';')", "            .filter(|part| !part.trim().is_empty())",
             "            .enumerate()", "            .map(|(i, part)| {",
             "                let tool = names.get(i % names.len().max(1)).cloned().unwrap_or_default();",
             f"                {step} {{", "                    tool,", "                    args: part.trim().to_string(),",
             "                    weight: (i as u64 + 1) * 10,", "                }", "            })",
             "            .collect()", "    }", "",
             f"    pub async fn execute(&mut self, ctx: &{tc}, prompt: &str) -> Result<String, {err}> {{",
             "        self.turns += 1;", "        let steps = self.plan(prompt);",
             "        let mut outputs = Vec::with_capacity(steps.len());",
             "        for step in steps.iter().take(self.max_steps) {",
             "            let out = self.dispatcher.dispatch(ctx, &step.tool, &step.args).await?;",
             "            self.history.push(out.clone());", "            outputs.push(out);", "        }",
             '        tracing::info!(thread_id = %ctx.thread_id, steps = outputs.len(), model = %self.model, "turn complete");',
             '        Ok(outputs.join("\\n"))', "    }", "",
             f"    pub fn spawn_followup(&self, ctx: &{tc}, prompt: &str) {{",
             "        let dispatcher = self.dispatcher.clone();", "        let ctx = ctx.clone();",
             "        let prompt = prompt.to_string();", "        tokio::spawn(async move {",
             f'            if let Err(err) = dispatcher.dispatch(&ctx, "{r.choice(["summarize", "search", "notify", "memory"])}", &prompt).await {{',
             '                tracing::warn!(thread_id = %ctx.thread_id, error = %err, "follow-up failed");',
             "            }", "        });", "    }"]
        eng.methods = [Fn("execute", [("ctx", "ctx"), ("prompt", "str")], ("res", "String"), True, em, "pub", "&mut self", eng),
                       Fn("spawn_followup", [("ctx", "ctx"), ("prompt", "str")], None, False, em, "pub", "&self", eng)]
        em.structs.append(eng)
        # a few generated methods that use the dispatcher field
        scope0 = [("self.dispatcher", ("arc", disp)), ("self.max_steps", "usize"), ("self.history", "Vec"),
                  ("self.model", "String"), ("self.turns", "u64")]
        L += self.stack_methods(fc, eng, scope0, r.randint(2, 5))
        L += ["}", ""]
        em.body += L
        self.fill(fc, em.target, ctx_prob=0.4)
        self.finish_module(em)

        # registry
        rm = self.new_module(crate, "registry", name=unique_in(crate, "registry"), style=r.choice(["file", "modrs"]))
        rm.doc = "Agent registry: which agents exist and the engine they run on."
        fc = self.new_fc(rm)
        regs = Struct(f"AgentRegistry{k}", rm)
        regs.constructible = False
        spec = f"AgentSpec{k}"
        arc = self.need(fc, "std::sync::Arc")
        mx = self.need(fc, "tokio::sync::Mutex")
        rw = self.need(fc, "tokio::sync::RwLock")
        hm = self.need(fc, "std::collections::HashMap")
        tc = self.need(fc, "ThreadContext")
        err = self.need(fc, "Err")
        en = self.ref_type(fc, eng)
        L = ["#[derive(Debug, Clone)]", f"pub struct {spec} {{", "    pub name: String,", "    pub model: String,",
             "    pub max_turns: u64,", "    pub tools: Vec<String>,", "}", "",
             f"pub struct {regs.name} {{", f"    agents: {rw}<{hm}<String, {spec}>>,",
             f"    engine: {arc}<{mx}<{en}>>,", "    fallback: String,", "}", "",
             f"impl {regs.name} {{", f"    pub fn new(engine: {arc}<{mx}<{en}>>) -> Self {{",
             "        Self {", f"            agents: {rw}::new({hm}::new()),", "            engine,",
             f'            fallback: "{r.choice(["assistant", "default", "general"])}".to_string(),', "        }", "    }", "",
             f"    pub async fn register(&self, spec: {spec}) {{",
             "        self.agents.write().await.insert(spec.name.clone(), spec);", "    }", "",
             f"    pub async fn resolve(&self, name: &str) -> Option<{spec}> {{",
             "        let agents = self.agents.read().await;",
             "        agents.get(name).or_else(|| agents.get(&self.fallback)).cloned()", "    }", "",
             f"    pub async fn run_agent(&self, ctx: &{tc}, agent: &str, prompt: &str) -> Result<String, {err}> {{",
             "        let spec = self", "            .resolve(agent)", "            .await",
             f"            .ok_or_else(|| {err}::NotFound(agent.to_string()))?;",
             '        tracing::info!(thread_id = %ctx.thread_id, agent = %spec.name, "running agent");',
             "        let mut engine = self.engine.lock().await;", "        engine.execute(ctx, prompt).await", "    }"]
        regs.methods = [Fn("run_agent", [("ctx", "ctx"), ("agent", "str"), ("prompt", "str")], ("res", "String"), True, rm, "pub", "&self", regs)]
        rm.structs.append(regs)
        scope0 = [("self.engine", ("mutex", eng)), ("self.fallback", "String")]
        L += self.stack_methods(fc, regs, scope0, r.randint(1, 4))
        L += ["}", ""]
        rm.body += L
        self.fill(fc, rm.target, ctx_prob=0.4)
        self.finish_module(rm)

        # handlers + job worker
        hmod = self.new_module(crate, "handlers", name=unique_in(crate, "handlers"), style=r.choice(["file", "modrs"]))
        hmod.doc = "Per-connection message handlers."
        fc = self.new_fc(hmod)
        hand = Struct(f"ChatHandler{k}", hmod)
        hand.constructible = False
        out_t = f"Outbound{k}"
        job_t = f"AgentJob{k}"
        arc = self.need(fc, "std::sync::Arc")
        mpsc = self.need(fc, "tokio::sync::mpsc")
        tc = self.need(fc, "ThreadContext")
        tid = self.need(fc, "ThreadId")
        err = self.need(fc, "Err")
        rn = self.ref_type(fc, regs)
        L = ["#[derive(Debug, Clone)]", f"pub struct {out_t} {{", f"    pub thread_id: {tid},", "    pub body: String,",
             "    pub seq: u64,", "}", "",
             "#[derive(Debug, Clone)]", f"pub struct {job_t} {{", f"    pub thread_id: {tid},", "    pub user_id: String,",
             "    pub agent: String,", "    pub prompt: String,", "}", "",
             f"pub struct {hand.name} {{", f"    registry: {arc}<{rn}>,", f"    outbound: {mpsc}::Sender<{out_t}>,",
             "    default_agent: String,", "    seq: u64,", "}", "",
             f"impl {hand.name} {{", f"    pub fn new(registry: {arc}<{rn}>, outbound: {mpsc}::Sender<{out_t}>) -> Self {{",
             "        Self {", "            registry,", "            outbound,",
             f'            default_agent: "{r.choice(["assistant", "default", "general"])}".to_string(),',
             "            seq: 0,", "        }", "    }", "",
             "    fn split_command<'a>(&self, text: &'a str) -> (String, &'a str) {",
             "        match text.strip_prefix('/') {",
             "            Some(rest) => {",
             "                let (agent, prompt) = rest.split_once(' ').unwrap_or((rest, \"\"));",
             "                (agent.to_string(), prompt)", "            }",
             "            None => (self.default_agent.clone(), text),", "        }", "    }", "",
             f"    pub async fn on_message(&self, ctx: &{tc}, text: &str) -> Result<(), {err}> {{",
             "        let (agent, prompt) = self.split_command(text);",
             "        let reply = self.registry.run_agent(ctx, &agent, prompt).await?;",
             "        self.outbound",
             f"            .send({out_t} {{", "                thread_id: ctx.thread_id,", "                body: reply,",
             "                seq: self.seq,", "            })", "            .await",
             f"            .map_err(|e| {err}::Upstream(e.to_string()))?;", "        Ok(())", "    }"]
        hand.methods = [Fn("on_message", [("ctx", "ctx"), ("text", "str")], ("res", None), True, hmod, "pub", "&self", hand)]
        hmod.structs.append(hand)
        scope0 = [("self.registry", ("arc", regs)), ("self.default_agent", "String"), ("self.seq", "u64")]
        L += self.stack_methods(fc, hand, scope0, r.randint(2, 5))
        L += ["}", ""]
        worker = self.fn_names.unique("run_job_worker")
        L += [f"pub async fn {worker}(mut rx: {mpsc}::Receiver<{job_t}>, registry: {arc}<{rn}>) {{",
              "    while let Some(job) = rx.recv().await {",
              f"        let ctx = {tc}::new(job.thread_id, &job.user_id);",
              "        match registry.run_agent(&ctx, &job.agent, &job.prompt).await {",
              '            Ok(reply) => tracing::info!(thread_id = %ctx.thread_id, bytes = reply.len(), "job done"),',
              '            Err(err) => tracing::warn!(thread_id = %ctx.thread_id, error = %err, "job failed"),',
              "        }", "    }", "}", ""]
        hmod.body += L
        self.fill(fc, hmod.target, ctx_prob=0.5)
        self.finish_module(hmod)

        # WebSocket entry points
        wm = self.new_module(crate, "ws", name=unique_in(crate, "ws"), style=r.choice(["file", "modrs"]))
        wm.doc = "WebSocket entry points: one task per connection, one context per conversation."
        fc = self.new_fc(wm)
        state = f"AppState{k}"
        for full in ["axum::extract::ws::Message", "axum::extract::ws::WebSocket", "axum::extract::ws::WebSocketUpgrade",
                     "axum::extract::State", "axum::response::IntoResponse", "axum::routing::get", "axum::Router",
                     "futures::SinkExt", "futures::StreamExt", "std::sync::Arc", "tokio::sync::mpsc",
                     "tokio::sync::Mutex", "std::time::Duration"]:
            self.need(fc, full)
        tc = self.need(fc, "ThreadContext")
        tid = self.need(fc, "ThreadId")
        hn = self.ref_type(fc, hand)
        rn = self.ref_type(fc, regs)
        en = self.ref_type(fc, eng)
        dn = self.ref_type(fc, disp)
        on = f"{self.mod_path(hmod, fc)}::{out_t}"
        jn = f"{self.mod_path(hmod, fc)}::{job_t}"
        if fc.mod.imports.use(on):
            on = out_t
        if fc.mod.imports.use(jn):
            jn = job_t
        wn = f"{self.mod_path(hmod, fc)}::{worker}"
        nid = self.fn_names.unique("next_thread_id")
        L = ["#[derive(Clone)]", f"pub struct {state} {{", f"    pub registry: Arc<{rn}>,",
             f"    pub jobs: mpsc::Sender<{jn}>,", "    pub max_frame_bytes: usize,", "}", "",
             f"static NEXT_THREAD_{k.upper()}: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);", "",
             f"fn {nid}() -> {tid} {{",
             f"    {tid}(NEXT_THREAD_{k.upper()}.fetch_add(1, std::sync::atomic::Ordering::Relaxed))", "}", "",
             f"pub fn build_state_{k.lower()}() -> {state} {{",
             f"    let dispatcher = Arc::new({dn}::new());",
             f"    let engine = Arc::new(Mutex::new({en}::new(dispatcher)));",
             f"    let registry = Arc::new({rn}::new(engine));",
             f"    let (jobs, job_rx) = mpsc::channel::<{jn}>({r.choice([64, 256, 1024])});",
             f"    tokio::spawn({wn}(job_rx, registry.clone()));",
             f"    {state} {{", "        registry,", "        jobs,", f"        max_frame_bytes: {r.choice([16384, 65536])},", "    }", "}", "",
             f"pub fn router_{k.lower()}(state: {state}) -> Router {{",
             "    Router::new()"]
        entries = []
        n_entries = r.randint(1, 3)
        for i in range(n_entries):
            entries.append(self.fn_names.unique("ws_handler"))
        for i, e in enumerate(entries):
            L.append(f'        .route("/{r.choice(["ws", "chat", "agent", "stream", "live"])}/{i}", get({e}))')
        L += ["        .with_state(state)", "}", ""]
        for i, e in enumerate(entries):
            sock = self.fn_names.unique("handle_socket")
            L += [f"pub async fn {e}(ws: WebSocketUpgrade, State(state): State<{state}>) -> impl IntoResponse {{",
                  f"    ws.on_upgrade(move |socket| {sock}(socket, state))", "}", ""]
            variant = r.randrange(3) if i else 0
            if variant == 0:
                L += [f"async fn {sock}(socket: WebSocket, state: {state}) {{",
                      "    let (mut sink, mut stream) = socket.split();",
                      f"    let (tx, mut rx) = mpsc::channel::<{on}>({r.choice([32, 64, 128])});",
                      f'    let ctx = {tc}::new({nid}(), "{r.choice(["anonymous", "guest", "user"])}");',
                      f"    let handler = Arc::new({hn}::new(state.registry.clone(), tx.clone()));",
                      "    let writer = tokio::spawn(async move {",
                      "        while let Some(out) = rx.recv().await {",
                      "            if sink.send(Message::Text(out.body.into())).await.is_err() {",
                      "                break;", "            }", "        }", "    });",
                      f"    let mut ticker = tokio::time::interval(Duration::from_secs({r.choice([15, 30, 60])}));",
                      "    loop {", "        tokio::select! {", "            frame = stream.next() => {",
                      "                match frame {", "                    Some(Ok(Message::Text(text))) => {",
                      "                        if text.len() > state.max_frame_bytes {",
                      '                            tracing::warn!(thread_id = %ctx.thread_id, "frame too large");',
                      "                            continue;", "                        }",
                      "                        let handler = handler.clone();",
                      "                        let ctx = ctx.clone();",
                      "                        tokio::spawn(async move {",
                      "                            if let Err(err) = handler.on_message(&ctx, &text).await {",
                      '                                tracing::warn!(thread_id = %ctx.thread_id, error = %err, "message failed");',
                      "                            }", "                        });", "                    }",
                      "                    Some(Ok(Message::Close(_))) | None => break,",
                      "                    Some(Ok(_)) => {}",
                      "                    Some(Err(err)) => {",
                      '                        tracing::warn!(error = %err, "socket error");',
                      "                        break;", "                    }", "                }", "            }",
                      "            _ = ticker.tick() => {",
                      f"                let ping = {on} {{ thread_id: ctx.thread_id, body: String::from(\"ping\"), seq: 0 }};",
                      "                if tx.send(ping).await.is_err() {", "                    break;", "                }",
                      "            }", "        }", "    }", "    writer.abort();", "}", ""]
            elif variant == 1:
                L += [f"async fn {sock}(mut socket: WebSocket, state: {state}) {{",
                      f"    let thread_id = {nid}();",
                      "    while let Some(Ok(msg)) = socket.recv().await {",
                      "        let Message::Text(text) = msg else { continue };",
                      f"        let job = {jn} {{", "            thread_id,",
                      '            user_id: "anonymous".to_string(),', f'            agent: "{r.choice(["assistant", "planner", "coder"])}".to_string(),',
                      "            prompt: text.to_string(),", "        };",
                      "        if state.jobs.send(job).await.is_err() {",
                      '            tracing::error!(%thread_id, "job queue closed");', "            break;", "        }", "    }", "}", ""]
            else:
                L += [f"async fn {sock}(socket: WebSocket, state: {state}) {{",
                      "    let (mut sink, mut stream) = socket.split();",
                      f"    let (tx, mut rx) = mpsc::channel::<{on}>(16);",
                      f"    let ctx = {tc}::new({nid}(), \"user\");",
                      f"    let handler = {hn}::new(state.registry.clone(), tx);",
                      "    loop {", "        tokio::select! {",
                      "            Some(Ok(Message::Text(text))) = stream.next() => {",
                      "                if let Err(err) = handler.on_message(&ctx, &text).await {",
                      '                    tracing::warn!(error = %err, "turn failed");', "                }", "            }",
                      "            Some(out) = rx.recv() => {",
                      "                if sink.send(Message::Text(out.body.into())).await.is_err() {",
                      "                    break;", "                }", "            }",
                      "            else => break,", "        }", "    }", "}", ""]
        wm.body += L
        self.fill(fc, min(wm.target, 260), ctx_prob=0.3)
        self.finish_module(wm)

    def stack_methods(self, fc, s: Struct, scope0, n) -> list[str]:
        r = self.rng
        out = []
        for _ in range(n):
            mname = self.fn_names.unique(f"{r.choice(VERBS)}_{r.choice(NOUNS)}")
            recv = "&self"
            m = Fn(mname, self.rand_params(0.8, fc.structs, r.choice([0, 1, 2])), self.rand_ret(), r.random() < 0.7,
                   fc.mod, "pub", recv, s)
            fc.self_struct, fc.self_mut = s, False
            out.append("")
            out += self.emit_fn(fc, m, list(scope0) + list(fc.consts), "    ")
            fc.self_struct = None
            s.methods.append(m)
        return out

    def item_tool(self, fc) -> Struct:
        r = self.rng
        noun = r.choice(NOUNS)
        s = Struct(self.type_names.unique(camel(noun) + r.choice(["Lookup", "Search", "Fetch", "Write", "Summarize", "Notify", "Plan", "Query"]) + "Tool", ""), fc.mod)
        fields = []
        used = set()
        for _ in range(r.randint(1, 3)):
            t = r.choice(["u64", "usize", "String", "bool", "Vec"])
            pool = {"u64": U64_NAMES, "usize": USIZE_NAMES, "String": STR_NAMES, "bool": BOOL_NAMES, "Vec": VEC_NAMES}[t]
            nm = r.choice(pool)
            if nm not in used:
                used.add(nm)
                fields.append((nm, t))
        if fc.structs and r.random() < 0.7:
            dep = r.choice(fc.structs)
            nm = snake(dep.name)
            if nm not in used:
                fields.append((nm, ("arc", dep)))
        s.fields = fields
        tool = self.need(fc, "Tool")
        tc = self.need(fc, "ThreadContext")
        at = self.need(fc, "async_trait::async_trait")
        L = [f"/// {doc_line(r, s.name)}", f"pub struct {s.name} {{"]
        for (nm, t) in fields:
            if isinstance(t, tuple):
                L.append(f"    {nm}: {self.need(fc, 'std::sync::Arc')}<{self.ref_type(fc, t[1])}>,")
            else:
                L.append(f"    {nm}: {RUST_TY[t]},")
        L += ["}", "", f"impl {s.name} {{", "    pub fn new() -> Self {", "        Self {"]
        for (nm, t) in fields:
            if isinstance(t, tuple):
                dep = t[1]
                dargs = [self.arg_for(fc, [], pt) or "Default::default()" for (_, pt) in dep.ctor.params]
                L.append(f"            {nm}: {self.need(fc, 'std::sync::Arc')}::new({self.ref_type(fc, dep)}::{dep.ctor.name}({', '.join(dargs)})),")
            elif t == "String":
                L.append(f"            {nm}: {self.lit_str()}.to_string(),")
            elif t == "u64":
                L.append(f"            {nm}: {self.lit_u64()},")
            else:
                L.append(f"            {nm}: {DEFAULT_VAL[t]},")
        tool_name = snake(s.name).removesuffix("_tool")
        L += ["        }", "    }", "}", "", f"#[{at}]", f"impl {tool} for {s.name} {{", "    fn name(&self) -> &str {",
              f'        "{tool_name}"', "    }", ""]
        if r.random() < 0.4:
            L += ["    fn description(&self) -> &str {", f'        "{doc_line(r, tool_name)}"', "    }", ""]
        ctxname = "ctx"
        m = Fn("call", [(ctxname, "ctx"), ("args", "str")], "toolres", True, fc.mod, "priv", "&self", s)
        scope = [(f"self.{nm}", t) for (nm, t) in fields] + list(fc.consts)
        fc.self_struct, fc.self_mut = None, False
        body = self.emit_fn(fc, m, scope, "    ")
        # `fn call` in a trait impl has no visibility; emit_fn rendered it private already
        L += body
        L += ["}", ""]
        s.ctor = Fn("new", [], "self", False, fc.mod, "pub", None, s)
        s.methods = []
        s.constructible = False
        fc.mod.structs.append(s)
        fc.mod.body.extend(L)
        return s

    # ------------------------------------------------------------------ driver
    def plan_crates(self):
        r = self.rng
        n = max(3, round(self.total / 20000)) if self.total >= 30000 else 2
        core = Crate(0, "chat-core")
        self.crate_names.unique("chat-core")
        self.crates.append(core)
        self.core = core
        for i in range(1, n):
            while True:
                nm = f"{r.choice(CRATE_A)}-{r.choice(CRATE_B)}"
                nm = self.crate_names.unique(nm, "-")
                if nm != "chat-core":
                    break
            c = Crate(i, nm)
            deps = [core]
            lower = self.crates[1:]
            if lower:
                # favour the crates just below, as layered architectures do
                near = lower[-6:]
                for d in r.sample(near, min(len(near), r.randint(0, 2))):
                    if d not in deps:
                        deps.append(d)
            c.deps = deps
            c.reexports_core = r.random() < 0.7
            c.tool_structs = []
            self.crates.append(c)
        self.crate_idents = {c.ident for c in self.crates}
        core.tool_structs = []

    def gen_crate(self, crate: Crate, budget: int):
        r = self.rng
        self.gen_error(crate)
        if crate is self.core:
            self.gen_core_types(crate)
        n_stacks = 0 if crate is self.core else (1 if budget < 30000 else 2)
        stack_reserve = n_stacks * 2500
        while crate.lines < budget - stack_reserve - 150:
            m = self.place_business_module(crate)
            left = budget - stack_reserve - crate.lines
            if left < m.target + 150:
                m.target = max(120, left)
            fc = self.new_fc(m)
            self.fill(fc, m.target)
            self.finish_module(m)
        for i in range(n_stacks):
            k = f"{crate.idx}" if n_stacks == 1 else f"{crate.idx}{'ab'[i]}"
            self.gen_stack(crate, k)

    def run(self):
        self.plan_crates()
        remaining = self.total
        for i, c in enumerate(self.crates):
            # lib.rs is counted too; it is small
            budget = remaining // (len(self.crates) - i)
            self.gen_crate(c, budget - 30)
            c.lines += 30
            remaining -= c.lines

    # ------------------------------------------------------------------ output
    def write(self, out: str):
        if os.path.exists(out):
            shutil.rmtree(out)
        os.makedirs(os.path.join(out, "crates"))
        with open(os.path.join(out, "Cargo.toml"), "w") as f:
            f.write(ROOT_TOML)
        files = 0
        lines = 0
        for c in self.crates:
            base = os.path.join(out, "crates", c.name)
            os.makedirs(os.path.join(base, "src"))
            deps = "".join(f'{d.name} = {{ path = "../{d.name}" }}\n' for d in c.deps)
            with open(os.path.join(base, "Cargo.toml"), "w") as f:
                f.write(CRATE_TOML.format(name=c.name, deps=deps))
            lib = [f"//! {c.name}: {crate_doc(c)}", ""]
            for m in c.top:
                lib.append(f"pub mod {m.name};")
            lib.append("")
            if c is not self.core and c.reexports_core:
                lib.append(f"pub use {self.core.ident}::{{ThreadContext, ThreadId, Tool, ToolError, ToolResult}};")
            lib.append(f"pub use error::{c.err};")
            lib.extend(c.lib_uses)
            lib.append("")
            lib.append('pub const CRATE_NAME: &str = env!("CARGO_PKG_NAME");')
            text = "\n".join(lib) + "\n"
            with open(os.path.join(base, "src", "lib.rs"), "w") as f:
                f.write(text)
            files += 1
            lines += text.count("\n")
            for m in c.modules:
                p = os.path.join(base, m.relpath())
                os.makedirs(os.path.dirname(p), exist_ok=True)
                text = m.render()
                with open(p, "w") as f:
                    f.write(text)
                files += 1
                lines += text.count("\n")
        return files, lines


class FnCtx:
    """What the code being generated can see: the module, its neighbourhood and the current function."""

    def __init__(self, mod: Module):
        self.mod = mod
        self.crate = mod.crate
        self.fns: list[Fn] = []
        self.structs: list[Struct] = []
        self.consts: list[tuple] = []
        self.styles: dict[int, str] = {}
        self.is_async = False
        self.ret = None
        self.cur = None
        self.self_struct = None
        self.self_mut = False
        self.locals = Names()
        self.called: set = set()
        self.fabricate = True


def snake(name: str) -> str:
    out = []
    for i, ch in enumerate(name):
        if ch.isupper() and i and (not name[i - 1].isupper()):
            out.append("_")
        out.append(ch.lower())
    s = "".join(out)
    return s + "_" if s in RESERVED else s


def hash_stable(s: str) -> int:
    h = 2166136261
    for ch in s.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def unique_in(crate: Crate, base: str) -> str:
    name = base
    i = 2
    while name in crate.used_names:
        name = f"{base}_{i}"
        i += 1
    return name


def doc_line(r: random.Random, subject: str) -> str:
    return r.choice([
        "Keeps per-tenant state consistent across reconnects.",
        "Cheap to clone; shared between connection tasks.",
        "Returns the normalized form used as a cache key.",
        "Applies the configured limits before anything is persisted.",
        "Merges incoming records with what is already known.",
        "Used by the scheduler on every tick.",
        "Estimates cost without touching the network.",
        "Best effort: failures are logged, not propagated.",
        "Values are bounded so a single user cannot starve others.",
        "Invariant: entries are sorted by recency.",
        f"See the {subject} section of the design notes.",
        "Called on the hot path; keep allocations low.",
    ])


def module_doc(r: random.Random, name: str) -> str:
    return r.choice([
        f"{name.replace('_', ' ').capitalize()}: models and helpers.",
        f"Business rules for {name.replace('_', ' ')}.",
        f"{name.replace('_', ' ').capitalize()} service layer.",
        f"Storage-facing code for {name.replace('_', ' ')}.",
        "",
    ])


def crate_doc(c: Crate) -> str:
    return f"part of the agent chat platform ({len(c.modules)} modules)."


ROOT_TOML = """[workspace]
resolver = "2"
members = ["crates/*"]

[workspace.package]
version = "0.1.0"
edition = "2021"

[workspace.dependencies]
async-trait = "0.1"
axum = { version = "0.7", features = ["ws"] }
futures = "0.3"
serde = { version = "1", features = ["derive"] }
tokio = { version = "1", features = ["full"] }
tracing = "0.1"
"""

CRATE_TOML = """[package]
name = "{name}"
version.workspace = true
edition.workspace = true
publish = false

[dependencies]
{deps}async-trait = {{ workspace = true }}
axum = {{ workspace = true }}
futures = {{ workspace = true }}
serde = {{ workspace = true }}
tokio = {{ workspace = true }}
tracing = {{ workspace = true }}
"""


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lines", type=int, required=True, help="approximate number of Rust source lines")
    ap.add_argument("--out", required=True, help="output directory (replaced if it exists)")
    ap.add_argument("--seed", type=int, default=42)
    a = ap.parse_args(argv)
    if a.lines < 10000:
        ap.error("--lines must be at least 10000")
    t0 = time.monotonic()
    g = Gen(a.lines, a.seed)
    g.run()
    files, lines = g.write(a.out)
    dt = time.monotonic() - t0
    print(f"generated {a.out}: {len(g.crates)} crates, {files} files, {lines} lines in {dt:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
