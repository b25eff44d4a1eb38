//! What threadlint knows about frameworks (axum, actix, warp, tungstenite, tokio, std, rmcp …),
//! read from the data files in `rules/frameworks/*.toml`, embedded at build time.

use serde::Deserialize;

/// One framework file. Every key is a field here (`deny_unknown_fields`: a key with no field is a
/// parse error, caught by `every_framework_key_is_known_and_read`), and every field is read once,
/// by `Knowledge::builtin`, into [`Knowledge`].
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Framework {
    #[serde(default)]
    entry_param_types: Vec<String>,
    #[serde(default)]
    entry_param_sets: Vec<Vec<String>>,
    #[serde(default)]
    entry_trait_methods: Vec<String>,
    #[serde(default)]
    accept_functions: Vec<String>,
    #[serde(default)]
    upgrade_methods: Vec<String>,
    #[serde(default)]
    state_extractors: Vec<String>,
    #[serde(default)]
    spawn: Vec<String>,
    #[serde(default)]
    spawn_methods: Vec<String>,
    #[serde(default)]
    senders: Vec<String>,
    #[serde(default)]
    receivers: Vec<String>,
    #[serde(default)]
    send_methods: Vec<String>,
    #[serde(default)]
    send_all_methods: Vec<String>,
    #[serde(default)]
    recv_methods: Vec<String>,
    #[serde(default)]
    channel_constructors: Vec<String>,
    #[serde(default)]
    channel_identity_methods: Vec<String>,
    #[serde(default)]
    stash_methods: Vec<String>,
    #[serde(default)]
    broadcast: Vec<String>,
    #[serde(default)]
    scope_methods: Vec<String>,
    #[serde(default)]
    ambient_read_methods: Vec<String>,
    #[serde(default)]
    ambient_write_methods: Vec<String>,
    #[serde(default)]
    thread_local_closure_methods: Vec<String>,
    #[serde(default)]
    thread_local_write_methods: Vec<String>,
    #[serde(default)]
    fabricating_functions: Vec<String>,
    #[serde(default)]
    fabricating_paths: Vec<String>,
    #[serde(default)]
    tool_attributes: Vec<String>,
    #[serde(default)]
    tool_traits: Vec<String>,
    #[serde(default)]
    context_types: Vec<String>,
    #[serde(default)]
    context_names: Vec<String>,
}

const FILES: &[(&str, &str)] = &[
    (
        "axum.toml",
        include_str!("../../rules/frameworks/axum.toml"),
    ),
    (
        "warp.toml",
        include_str!("../../rules/frameworks/warp.toml"),
    ),
    (
        "actix.toml",
        include_str!("../../rules/frameworks/actix.toml"),
    ),
    (
        "tungstenite.toml",
        include_str!("../../rules/frameworks/tungstenite.toml"),
    ),
    (
        "tokio.toml",
        include_str!("../../rules/frameworks/tokio.toml"),
    ),
    ("std.toml", include_str!("../../rules/frameworks/std.toml")),
    (
        "channels.toml",
        include_str!("../../rules/frameworks/channels.toml"),
    ),
    (
        "rmcp.toml",
        include_str!("../../rules/frameworks/rmcp.toml"),
    ),
    ("ids.toml", include_str!("../../rules/frameworks/ids.toml")),
    (
        "threadlint.toml",
        include_str!("../../rules/frameworks/threadlint.toml"),
    ),
];

/// The union of all framework files.
///
/// The fields are private to this module and read through the query methods below, so a field
/// (and the key it is loaded from) that nothing reads is a `dead_code` warning — an error under
/// `-D warnings`. The few that `analysis` reads directly are `pub(crate)`, which the lint still
/// sees (it only gives up on `pub` fields of an exported type).
#[derive(Debug, Default, Clone)]
pub struct Knowledge {
    pub(crate) entry_param_types: Vec<String>,
    pub(crate) entry_param_sets: Vec<Vec<String>>,
    pub(crate) entry_trait_methods: Vec<String>,
    accept_functions: Vec<String>,
    pub(crate) upgrade_methods: Vec<String>,
    state_extractors: Vec<String>,
    spawn: Vec<String>,
    spawn_methods: Vec<String>,
    senders: Vec<String>,
    receivers: Vec<String>,
    send_methods: Vec<String>,
    send_all_methods: Vec<String>,
    recv_methods: Vec<String>,
    channel_constructors: Vec<String>,
    channel_identity_methods: Vec<String>,
    stash_methods: Vec<String>,
    broadcast: Vec<String>,
    scope_methods: Vec<String>,
    ambient_read_methods: Vec<String>,
    ambient_write_methods: Vec<String>,
    thread_local_closure_methods: Vec<String>,
    thread_local_write_methods: Vec<String>,
    fabricating_functions: Vec<String>,
    fabricating_paths: Vec<String>,
    pub(crate) tool_attributes: Vec<String>,
    tool_traits: Vec<String>,
    context_types: Vec<String>,
    context_names: Vec<String>,
}

fn has(list: &[String], name: &str) -> bool {
    list.iter().any(|s| s == name)
}

/// Each list of the files, one after another, without repeats.
fn union(files: &[Framework], key: fn(&Framework) -> &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for f in files {
        for s in key(f) {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

impl Knowledge {
    /// The built-in framework knowledge. The files are part of the binary; a broken one is a bug
    /// caught by the test suite, so it is reported and skipped rather than fatal.
    ///
    /// `Knowledge` is made here in one struct expression, which is not a read of its fields: a
    /// field is read only by the queries below (or crate code), so the `dead_code` lint sees one
    /// that nothing reads (an update such as `self.x.push(…)` or `extend(&mut self.x, …)` would
    /// count as a read and hide it).
    pub fn builtin() -> Knowledge {
        let files: Vec<Framework> = FILES
            .iter()
            .filter_map(|(name, text)| match toml::from_str::<Framework>(text) {
                Ok(f) => Some(f),
                Err(e) => {
                    eprintln!("threadlint: internal error: rules/frameworks/{name}: {e}");
                    None
                }
            })
            .collect();
        let union = |key: fn(&Framework) -> &[String]| union(&files, key);
        Knowledge {
            entry_param_types: union(|f| &f.entry_param_types),
            entry_param_sets: files
                .iter()
                .flat_map(|f| f.entry_param_sets.iter().cloned())
                .collect(),
            entry_trait_methods: union(|f| &f.entry_trait_methods),
            accept_functions: union(|f| &f.accept_functions),
            upgrade_methods: union(|f| &f.upgrade_methods),
            state_extractors: union(|f| &f.state_extractors),
            spawn: union(|f| &f.spawn),
            spawn_methods: union(|f| &f.spawn_methods),
            senders: union(|f| &f.senders),
            receivers: union(|f| &f.receivers),
            send_methods: union(|f| &f.send_methods),
            send_all_methods: union(|f| &f.send_all_methods),
            recv_methods: union(|f| &f.recv_methods),
            channel_constructors: union(|f| &f.channel_constructors),
            channel_identity_methods: union(|f| &f.channel_identity_methods),
            stash_methods: union(|f| &f.stash_methods),
            broadcast: union(|f| &f.broadcast),
            scope_methods: union(|f| &f.scope_methods),
            ambient_read_methods: union(|f| &f.ambient_read_methods),
            ambient_write_methods: union(|f| &f.ambient_write_methods),
            thread_local_closure_methods: union(|f| &f.thread_local_closure_methods),
            thread_local_write_methods: union(|f| &f.thread_local_write_methods),
            fabricating_functions: union(|f| &f.fabricating_functions),
            fabricating_paths: union(|f| &f.fabricating_paths),
            tool_attributes: union(|f| &f.tool_attributes),
            tool_traits: union(|f| &f.tool_traits),
            context_types: union(|f| &f.context_types),
            context_names: union(|f| &f.context_names),
        }
    }

    /// A parameter of this type (last segment) makes a function a WebSocket entry.
    pub fn is_entry_param_type(&self, name: &str) -> bool {
        has(&self.entry_param_types, name)
    }

    /// `State<T>`, `Data<T>`, `Extension<T>`: an extractor that hands a handler shared state.
    pub fn is_state_extractor(&self, name: &str) -> bool {
        has(&self.state_extractors, name)
    }

    /// A method that sends on a channel, and a sender type (last segment) it is called on.
    pub fn is_channel_send(&self, method: &str, sender: &str) -> bool {
        has(&self.send_methods, method) && has(&self.senders, sender)
    }

    /// A method that sends on a channel, whatever it is called on.
    pub fn is_send_method(&self, method: &str) -> bool {
        has(&self.send_methods, method)
    }

    /// A method that receives from a channel, whatever it is called on.
    pub fn is_recv_method(&self, method: &str) -> bool {
        has(&self.recv_methods, method)
    }

    /// A method that receives from a channel, and a receiver type (last segment) it is called on.
    pub fn is_channel_recv(&self, method: &str, receiver: &str) -> bool {
        has(&self.recv_methods, method) && has(&self.receivers, receiver)
    }

    /// A method that sends one message to one connection (`conn.send_text(…)`); called on each
    /// of all the connections, it sends to every one.
    pub fn is_send_all_method(&self, name: &str) -> bool {
        has(&self.send_all_methods, name)
    }

    /// A sender or receiver type (last segment): a channel end.
    pub fn is_channel_end(&self, name: &str) -> bool {
        has(&self.senders, name) || has(&self.receivers, name)
    }

    /// A method whose result is the same channel end as its receiver (`tx.clone()`,
    /// `tx.subscribe()`, `slot.lock()`, `map.get(k)`): the channel's identity carries over.
    pub fn keeps_channel(&self, method: &str) -> bool {
        has(&self.channel_identity_methods, method)
    }

    /// A method that keeps a value for later (`queue.push_back(job)`): a received message put
    /// there is handled by whatever later reads the collection.
    pub fn is_stash_method(&self, method: &str) -> bool {
        has(&self.stash_methods, method)
    }

    /// A function (last segment) that makes a new channel: its ends belong to one connection.
    pub fn is_channel_constructor(&self, name: &str) -> bool {
        has(&self.channel_constructors, name)
    }

    /// A sender type path (`tokio::sync::broadcast::Sender`) that reaches every subscriber.
    pub fn is_broadcast(&self, path: &str) -> bool {
        path_ends_with_any(path, &self.broadcast)
    }

    /// `KEY.scope(v, fut)`: a method that runs a future inside a task-local scope.
    pub fn is_scope_method(&self, name: &str) -> bool {
        has(&self.scope_methods, name)
    }

    /// A method that reads an ambient (task-local or thread-local) context.
    pub fn is_ambient_read_method(&self, name: &str) -> bool {
        has(&self.ambient_read_methods, name)
    }

    /// A method that writes an ambient context.
    pub fn is_ambient_write_method(&self, name: &str) -> bool {
        has(&self.ambient_write_methods, name)
    }

    /// `TL.with(|v| …)`: a thread-local method whose closure runs with the thread-local's value.
    pub fn is_thread_local_closure_method(&self, name: &str) -> bool {
        has(&self.thread_local_closure_methods, name)
    }

    /// `TL.set(v)`: a thread-local method that stores a value in it.
    pub fn is_thread_local_write_method(&self, name: &str) -> bool {
        has(&self.thread_local_write_methods, name)
    }

    /// Is a call to this path (written `text`, last segment `last`) a value made up on the spot
    /// (`Uuid::new_v4()`, `String::new()`, `Default::default()`)? `fabricating_paths` match as
    /// plain text suffixes.
    pub fn is_fabricating_call(&self, text: &str, last: &str) -> bool {
        has(&self.fabricating_functions, last)
            || self.fabricating_paths.iter().any(|p| text.ends_with(&**p))
    }

    /// The trait names (last segment) whose impls are tools without configuration.
    pub fn tool_traits(&self) -> impl Iterator<Item = &str> {
        self.tool_traits.iter().map(|s| &**s)
    }

    /// The context type names (last segment) looked for without configuration.
    pub fn context_types(&self) -> &[String] {
        &self.context_types
    }

    /// The context binding, parameter and field names looked for without configuration.
    pub fn context_names(&self) -> &[String] {
        &self.context_names
    }

    /// Does an external call path (`tokio::task::JoinSet::spawn`) match a spawn API?
    pub fn is_spawn(&self, path: &str) -> bool {
        if path_ends_with_any(path, &self.spawn) {
            return true;
        }
        // A method on a receiver of unknown type: `_::spawn`.
        match path.strip_prefix("_::") {
            Some(m) => has(&self.spawn_methods, m),
            None => false,
        }
    }

    /// A closure handed to a function or method of this name runs on a new task or thread.
    pub fn is_spawn_name(&self, name: &str) -> bool {
        has(&self.spawn_methods, name) || self.spawn.iter().any(|s| last_segment(s) == name)
    }

    /// Add project wrappers from `[handoffs]` in the config.
    pub fn with_config(mut self, cfg: &crate::config::Config) -> Knowledge {
        for s in &cfg.handoffs.spawn {
            let s = s.trim_end_matches('!').to_string();
            let last = last_segment(&s);
            if !has(&self.spawn_methods, last) {
                self.spawn_methods.push(last.to_string());
            }
            if !self.spawn.contains(&s) {
                self.spawn.push(s);
            }
        }
        for s in &cfg.handoffs.channel {
            let last = last_segment(s);
            if !has(&self.send_methods, last) {
                self.send_methods.push(last.to_string());
            }
        }
        self
    }

    pub fn is_accept(&self, path: &str) -> bool {
        path_ends_with_any(path, &self.accept_functions)
    }
}

/// `a::b::c` ends with `b::c` (on a segment boundary), or equals it.
pub fn path_ends_with(path: &str, suffix: &str) -> bool {
    // Most paths are told apart by their last byte, without a call to compare memory.
    if !suffix.is_empty() && path.as_bytes().last() != suffix.as_bytes().last() {
        return false;
    }
    path == suffix
        || (path.len() > suffix.len()
            && path.ends_with(suffix)
            && path[..path.len() - suffix.len()].ends_with("::"))
}

pub fn path_ends_with_any(path: &str, suffixes: &[String]) -> bool {
    suffixes.iter().any(|s| path_ends_with(path, s))
}

/// The last segment of a `::`-separated path (`a::b::C` → `C`): `rsplit("::").next()`, without
/// setting up a substring search (this runs for every call and type of the workspace).
pub fn last_segment(p: &str) -> &str {
    let b = p.as_bytes();
    let mut i = b.len();
    while i > 1 {
        i -= 1;
        if b[i] == b':' && b[i - 1] == b':' {
            return &p[i + 1..];
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    /// No key in a framework file is loaded and then never read.
    ///
    /// - A key with no field in `Framework` is an unknown key: `Framework` is
    ///   `#[serde(deny_unknown_fields)]`, so the file fails to parse, here.
    /// - A key with a field that nothing reads is caught by the compiler, not by this test:
    ///   `Framework`'s fields are private, and a field that `Knowledge::builtin` does not read into
    ///   `Knowledge` is rustc's `dead_code` warning "field is never read"; `Knowledge`'s fields
    ///   are private to this module (or `pub(crate)`, never `pub`) and made in one struct
    ///   expression (not a read), so one that no query method (or crate code) reads is the same
    ///   warning. `cargo clippy --all-targets -- -D warnings` makes it an error. That only holds
    ///   while nothing in this module allows dead code, which this test checks too.
    #[test]
    fn every_framework_key_is_known_and_read() {
        for (name, text) in FILES {
            toml::from_str::<Framework>(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        let unknown = toml::from_str::<Framework>("spawn = []\nnever_read = [\"x\"]\n");
        assert!(unknown.is_err(), "an unknown key must not parse");
        let allow = concat!("allow(", "dead_code");
        assert!(
            !include_str!("knowledge.rs").contains(allow),
            "knowledge.rs must not allow dead code: the lint is what catches an unread key"
        );
    }

    /// The lists that were written in the resolver, now data: the same names, so no report moves.
    #[test]
    fn moved_lists_keep_their_names() {
        let k = Knowledge::builtin();
        fn set(v: &[String]) -> Vec<&str> {
            let mut v: Vec<&str> = v.iter().map(|s| &**s).collect();
            v.sort_unstable();
            v
        }
        fn sorted(v: &[&'static str]) -> Vec<&'static str> {
            let mut v = v.to_vec();
            v.sort_unstable();
            v
        }
        assert_eq!(
            set(&k.state_extractors),
            sorted(&["State", "Data", "Extension"])
        );
        assert_eq!(
            set(&k.send_all_methods),
            sorted(&[
                "send",
                "send_text",
                "send_message",
                "send_json",
                "try_send",
                "unbounded_send",
                "feed",
                "do_send",
            ])
        );
        assert_eq!(
            set(&k.channel_constructors),
            sorted(&["channel", "unbounded_channel", "bounded", "unbounded"])
        );
        assert_eq!(
            set(&k.thread_local_closure_methods),
            sorted(&["with", "with_borrow_mut", "with_borrow"])
        );
        assert_eq!(
            set(&k.thread_local_write_methods),
            sorted(&["set", "replace"])
        );
        assert_eq!(
            set(&k.fabricating_functions),
            sorted(&["new_v4", "now_v7", "new_v7", "random", "default"])
        );
        assert_eq!(
            set(&k.fabricating_paths),
            sorted(&["String::new", "Uuid::new"])
        );
        assert_eq!(set(&k.tool_traits), ["Tool"]);
        // In this order: the model's type names start with them.
        assert_eq!(k.context_types(), ["ThreadContext", "ThreadId"]);
        assert_eq!(k.context_names(), ["thread_id"]);
        assert!(k.is_fabricating_call("uuid::Uuid::new_v4", "new_v4"));
        assert!(k.is_fabricating_call("MyString::new", "new"));
        assert!(!k.is_fabricating_call("Session::new", "new"));
    }

    #[test]
    fn spawn_paths_match_on_segment_boundaries() {
        let k = Knowledge::builtin();
        assert!(k.is_spawn("tokio::spawn"));
        assert!(k.is_spawn("tokio::task::JoinSet::spawn"));
        assert!(k.is_spawn("_::spawn"));
        assert!(!k.is_spawn("my::respawn"));
        assert!(!k.is_spawn("_::respawn"));
    }
}
