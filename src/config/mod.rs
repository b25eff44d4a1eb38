//! `threadlint.toml` (SPEC §6): what the project adds to the defaults. Unknown keys are errors that
//! name the key and the file.
//!
//! **Architecture invariant:** the first stage: configuration and framework knowledge
//! ([`knowledge`]) are data every later stage reads; this stage reads nothing but TOML.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::diagnostic::{point_at, Diag, Severity};

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub context: ContextConfig,
    #[serde(default)]
    pub handoffs: HandoffConfig,
    #[serde(default)]
    pub entries: FunctionList,
    #[serde(default)]
    pub tools: ToolConfig,
    #[serde(default)]
    pub origins: FunctionList,
    #[serde(default)]
    pub rules: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub exclude: Vec<String>,
    #[serde(default)]
    pub tests: bool,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContextConfig {
    #[serde(default)]
    pub types: Vec<String>,
    #[serde(default)]
    pub names: Vec<String>,
    #[serde(default)]
    pub ambient: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffConfig {
    #[serde(default)]
    pub spawn: Vec<String>,
    #[serde(default)]
    pub channel: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FunctionList {
    #[serde(default)]
    pub functions: Vec<String>,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ToolConfig {
    #[serde(default)]
    pub traits: Vec<String>,
    #[serde(default)]
    pub functions: Vec<String>,
}

/// Where the config came from (for messages).
#[derive(Debug, Default, Clone)]
pub struct LoadedConfig {
    pub config: Config,
    pub source: Option<PathBuf>,
}

fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> Diag {
    let loc = e.span().map(|s| point_at(text, s.start));
    Diag::new(
        Severity::Error,
        "config",
        path,
        loc,
        format!("invalid threadlint configuration: {}", e.message().trim()),
    )
}

/// The configuration's `exclude` globs (relative to the workspace root; `**` crosses folders).
/// Patterns are checked when the configuration is loaded, so none is dropped here silently.
pub fn exclude_patterns(exclude: &[String]) -> Vec<glob::Pattern> {
    exclude
        .iter()
        .filter_map(|p| glob::Pattern::new(p.trim_start_matches("./")).ok())
        .collect()
}

/// Why an `exclude` pattern is refused: it is not a glob, or it leaves the workspace.
fn exclude_problem(pattern: &str) -> Option<String> {
    let path = Path::new(pattern);
    if path.is_absolute()
        || path
            .components()
            .any(|c| matches!(c, std::path::Component::ParentDir))
    {
        return Some(format!(
            "exclude pattern `{pattern}` leaves the workspace (patterns are relative to its root)"
        ));
    }
    glob::Pattern::new(pattern)
        .err()
        .map(|e| format!("exclude pattern `{pattern}` is not a valid glob: {}", e.msg))
}

/// Every `exclude` pattern stays in the workspace, every `[rules]` key is a rule code and every
/// value a level (SPEC §6): a typo is an error pointing at the key, not a setting silently ignored.
fn check_config(config: &Config, path: &Path, text: Option<&str>) -> Result<(), Diag> {
    // The line that starts with `key` (`exclude`, `TP005`), for the error's location.
    let line_of = |key: &str| {
        let t = text?;
        t.lines()
            .scan(0usize, |at, l| {
                let start = *at;
                *at += l.len() + 1;
                Some((start, l))
            })
            .find(|(_, l)| l.trim_start().starts_with(key))
            .map(|(start, l)| point_at(t, start + (l.len() - l.trim_start().len())))
    };
    let invalid = |key: &str, problem: String| {
        Err(Diag::new(
            Severity::Error,
            "config",
            path,
            line_of(key),
            format!("invalid threadlint configuration: {problem}"),
        ))
    };
    if let Some(problem) = config.exclude.iter().find_map(|p| exclude_problem(p)) {
        return invalid("exclude", problem);
    }
    for (code, level) in &config.rules {
        let known = threadlint_codes::Code::parse(code);
        let problem = if !matches!(known, Some(c) if c.as_str() == code) {
            match known {
                Some(c) => format!("`{code}`: rule codes are written `{c}`"),
                None => format!("`{code}` is not a rule code (see `threadlint rules`)"),
            }
        } else if !matches!(level.as_str(), "allow" | "note" | "warning" | "error") {
            format!("`{code} = \"{level}\"`: the level is one of allow, note, warning, error")
        } else {
            continue;
        };
        return invalid(code, problem);
    }
    Ok(())
}

/// Find and read the configuration of a workspace rooted at `root`: `threadlint.toml`,
/// `.threadlint.toml`, then `[workspace.metadata.threadlint]` / `[package.metadata.threadlint]`.
pub fn load(root: &Path, explicit: Option<&Path>) -> Result<LoadedConfig, Diag> {
    let candidates: Vec<PathBuf> = match explicit {
        Some(p) => vec![p.to_path_buf()],
        None => vec![root.join("threadlint.toml"), root.join(".threadlint.toml")],
    };
    for path in candidates {
        // A symlink counts as present (and is refused below, never read).
        if std::fs::symlink_metadata(&path).is_err() && explicit.is_none() {
            continue;
        }
        let text = crate::bounded::read_text(&path, crate::bounded::Kind::Config).map_err(|e| {
            Diag::new(
                Severity::Error,
                "config",
                &path,
                None,
                format!("cannot read configuration: {e}"),
            )
        })?;
        let config: Config = toml::from_str(&text).map_err(|e| toml_error(&path, &text, &e))?;
        check_config(&config, &path, Some(&text))?;
        return Ok(LoadedConfig {
            config,
            source: Some(path),
        });
    }
    let manifest = root.join("Cargo.toml");
    if let Ok(text) = crate::bounded::read_text(&manifest, crate::bounded::Kind::Manifest) {
        if let Ok(table) = text.parse::<toml::Table>() {
            for section in ["workspace", "package"] {
                let meta = table
                    .get(section)
                    .and_then(|w| w.get("metadata"))
                    .and_then(|m| m.get("threadlint"));
                if let Some(meta) = meta {
                    let config: Config =
                        meta.clone().try_into().map_err(|e: toml::de::Error| {
                            Diag::new(
                                Severity::Error,
                                "config",
                                &manifest,
                                None,
                                format!(
                                    "invalid [{section}.metadata.threadlint]: {}",
                                    e.message().trim()
                                ),
                            )
                        })?;
                    check_config(&config, &manifest, None)?;
                    return Ok(LoadedConfig {
                        config,
                        source: Some(manifest),
                    });
                }
            }
        }
    }
    Ok(LoadedConfig::default())
}

/// Does a function's qualified name (`my_crate::skills::search`) match a config pattern
/// (`crate::skills::*`, `my_crate::skills::search`, `**::on_frame`)? `crate` stands for any crate;
/// `*` matches one path segment, `**` any number.
pub fn fn_pattern_matches(pattern: &str, qname: &str) -> bool {
    let pat: Vec<&str> = pattern.split("::").collect();
    let name: Vec<&str> = qname.split("::").collect();
    fn go(p: &[&str], n: &[&str]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(&"**"), _) => go(&p[1..], n) || (!n.is_empty() && go(p, &n[1..])),
            (Some(&"*"), Some(_)) => go(&p[1..], &n[1..]),
            (Some(a), Some(b)) => a == b && go(&p[1..], &n[1..]),
            _ => false,
        }
    }
    match pat.first() {
        Some(&"crate") => !name.is_empty() && go(&pat[1..], &name[1..]),
        _ => go(&pat, &name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns() {
        assert!(fn_pattern_matches(
            "crate::transport::on_frame",
            "chat::transport::on_frame"
        ));
        assert!(fn_pattern_matches(
            "chat::transport::on_frame",
            "chat::transport::on_frame"
        ));
        assert!(!fn_pattern_matches(
            "crate::transport::on_frame",
            "chat::other::on_frame"
        ));
        assert!(fn_pattern_matches(
            "crate::skills::*",
            "chat::skills::search"
        ));
        assert!(!fn_pattern_matches(
            "crate::skills::*",
            "chat::skills::web::search"
        ));
        assert!(fn_pattern_matches(
            "crate::skills::**",
            "chat::skills::web::search"
        ));
        assert!(fn_pattern_matches("**::on_frame", "chat::a::b::on_frame"));
    }
}

pub mod knowledge;
