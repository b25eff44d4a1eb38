//! What threadlint knows about frameworks (axum, actix, warp, tungstenite, tokio, std, rmcp …),
//! read from the data files in `rules/frameworks/*.toml`, embedded at build time.

use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Framework {
    #[allow(dead_code)]
    name: String,
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
    recv_methods: Vec<String>,
    #[serde(default)]
    broadcast: Vec<String>,
    #[serde(default)]
    scope_methods: Vec<String>,
    #[serde(default)]
    ambient_read_methods: Vec<String>,
    #[serde(default)]
    ambient_write_methods: Vec<String>,
    #[serde(default)]
    tool_attributes: Vec<String>,
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
];

/// The union of all framework files.
#[derive(Debug, Default, Clone)]
pub struct Knowledge {
    pub entry_param_types: Vec<String>,
    pub entry_param_sets: Vec<Vec<String>>,
    pub entry_trait_methods: Vec<String>,
    pub accept_functions: Vec<String>,
    pub upgrade_methods: Vec<String>,
    pub state_extractors: Vec<String>,
    pub spawn: Vec<String>,
    pub spawn_methods: Vec<String>,
    pub senders: Vec<String>,
    pub receivers: Vec<String>,
    pub send_methods: Vec<String>,
    pub recv_methods: Vec<String>,
    pub broadcast: Vec<String>,
    pub scope_methods: Vec<String>,
    pub ambient_read_methods: Vec<String>,
    pub ambient_write_methods: Vec<String>,
    pub tool_attributes: Vec<String>,
}

fn extend(dst: &mut Vec<String>, src: Vec<String>) {
    for s in src {
        if !dst.contains(&s) {
            dst.push(s);
        }
    }
}

impl Knowledge {
    /// The built-in framework knowledge. The files are part of the binary; a broken one is a bug
    /// caught by the test suite, so it is reported and skipped rather than fatal.
    pub fn builtin() -> Knowledge {
        let mut k = Knowledge::default();
        for (name, text) in FILES {
            match toml::from_str::<Framework>(text) {
                Ok(f) => k.add(f),
                Err(e) => eprintln!("threadlint: internal error: rules/frameworks/{name}: {e}"),
            }
        }
        k
    }

    fn add(&mut self, f: Framework) {
        extend(&mut self.entry_param_types, f.entry_param_types);
        for set in f.entry_param_sets {
            self.entry_param_sets.push(set);
        }
        extend(&mut self.entry_trait_methods, f.entry_trait_methods);
        extend(&mut self.accept_functions, f.accept_functions);
        extend(&mut self.upgrade_methods, f.upgrade_methods);
        extend(&mut self.state_extractors, f.state_extractors);
        extend(&mut self.spawn, f.spawn);
        extend(&mut self.spawn_methods, f.spawn_methods);
        extend(&mut self.senders, f.senders);
        extend(&mut self.receivers, f.receivers);
        extend(&mut self.send_methods, f.send_methods);
        extend(&mut self.recv_methods, f.recv_methods);
        extend(&mut self.broadcast, f.broadcast);
        extend(&mut self.scope_methods, f.scope_methods);
        extend(&mut self.ambient_read_methods, f.ambient_read_methods);
        extend(&mut self.ambient_write_methods, f.ambient_write_methods);
        extend(&mut self.tool_attributes, f.tool_attributes);
    }

    /// Does an external call path (`tokio::task::JoinSet::spawn`) match a spawn API?
    pub fn is_spawn(&self, path: &str) -> bool {
        if path_ends_with_any(path, &self.spawn) {
            return true;
        }
        // A method on a receiver of unknown type: `_::spawn`.
        match path.strip_prefix("_::") {
            Some(m) => self.spawn_methods.iter().any(|s| s == m),
            None => false,
        }
    }

    /// A closure handed to a function or method of this name runs on a new task or thread.
    pub fn is_spawn_name(&self, name: &str) -> bool {
        self.spawn_methods.iter().any(|s| s == name)
            || self.spawn.iter().any(|s| last_segment(s) == name)
    }

    /// Add project wrappers from `[handoffs]` in the config.
    pub fn with_config(mut self, cfg: &crate::config::Config) -> Knowledge {
        for s in &cfg.handoffs.spawn {
            let s = s.trim_end_matches('!').to_string();
            let last = last_segment(&s);
            if !self.spawn_methods.iter().any(|m| m == last) {
                self.spawn_methods.push(last.to_string());
            }
            if !self.spawn.contains(&s) {
                self.spawn.push(s);
            }
        }
        for s in &cfg.handoffs.channel {
            let last = last_segment(s);
            if !self.send_methods.iter().any(|m| m == last) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_framework_file_parses() {
        for (name, text) in FILES {
            toml::from_str::<Framework>(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
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
