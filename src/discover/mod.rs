//! Discovery: from the PATHs a user gives to the crates to analyze, reading `Cargo.toml` files
//! only. Nothing is compiled or run (no build scripts, no `cargo metadata`).
//!
//! **Architecture invariant:** gives a [`Project`] (workspace root, packages, crates, focus) and
//! manifest diagnostics; it never reads a `.rs` file.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use std::fs;
use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{point_at, Diag, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CrateKind {
    Lib,
    Bin,
    Test,
    Example,
    Bench,
    /// A `.rs` file outside any Cargo package.
    Loose,
}

#[derive(Clone, Debug)]
pub enum DepTarget {
    /// The library crate of a loaded package.
    Package(usize),
    /// A package we do not read (registry, git, or not found); its name.
    External(String),
}

#[derive(Clone, Debug)]
pub struct Dep {
    /// The name the crate is used by in code (`-` → `_`, renames applied).
    pub extern_name: String,
    pub target: DepTarget,
    pub dev: bool,
}

#[derive(Clone, Debug)]
pub struct Target {
    pub kind: CrateKind,
    /// The crate name (`-` → `_`).
    pub name: String,
    pub path: PathBuf,
}

#[derive(Clone, Debug)]
pub struct Package {
    pub name: String,
    pub dir: PathBuf,
    pub manifest: PathBuf,
    pub targets: Vec<Target>,
    pub deps: Vec<Dep>,
    /// `[package.metadata.threadlint]`, if any (read by the config stage).
    pub metadata: Option<toml::Value>,
}

#[derive(Clone, Debug)]
pub struct CrateSpec {
    pub name: String,
    /// Unique display name (`name`, or `name[bin]` when a bin shares its package's lib name).
    pub display: String,
    pub root: PathBuf,
    pub kind: CrateKind,
    pub package: Option<usize>,
    /// Extern crate name → crate index (workspace crates) ; names of external crates.
    pub externs: FxHashMap<String, usize>,
    pub external: Vec<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Project {
    /// Where displayed paths are relative to.
    pub root: PathBuf,
    pub packages: Vec<Package>,
    pub crates: Vec<CrateSpec>,
    pub diags: Vec<Diag>,
    /// When non-empty, only findings in these files or folders are reported.
    pub focus: Vec<PathBuf>,
    /// The workspace manifest, if any (its `[workspace.metadata.threadlint]` is config).
    pub workspace_manifest: Option<PathBuf>,
}

#[derive(Clone, Copy, Debug, Default)]
pub struct DiscoverOptions {
    pub include_tests: bool,
}

/// A bad PATH: the caller exits with status 2.
#[derive(Debug)]
pub struct DiscoverError(pub String);

impl std::fmt::Display for DiscoverError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub use crate::bounded::{absolute, normalize};

pub fn crate_name(s: &str) -> String {
    crate::bounded::name(&s.replace('-', "_")).into_owned()
}

fn enclosing_manifest_dir(start: &Path) -> Option<PathBuf> {
    let mut dir = Some(start);
    while let Some(d) = dir {
        if d.join("Cargo.toml").is_file() {
            return Some(d.to_path_buf());
        }
        dir = d.parent();
    }
    None
}

struct Loader<'a> {
    opts: &'a DiscoverOptions,
    project: Project,
    by_dir: HashMap<PathBuf, usize>,
    /// `[workspace.dependencies]` of the workspace root: name → (path, package rename).
    ws_deps: HashMap<String, (Option<PathBuf>, Option<String>)>,
    loose_roots: Vec<PathBuf>,
}

/// Read the manifests around `paths` and list the crates to analyze.
pub fn discover(paths: &[PathBuf], opts: &DiscoverOptions) -> Result<Project, DiscoverError> {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![std::env::current_dir()
            .map_err(|e| DiscoverError(format!("cannot read the current directory: {e}")))?]
    } else {
        paths.to_vec()
    };
    let mut l = Loader {
        opts,
        project: Project::default(),
        by_dir: HashMap::new(),
        ws_deps: HashMap::new(),
        loose_roots: Vec::new(),
    };
    let mut root: Option<PathBuf> = None;
    for p in &paths {
        if !p.exists() {
            return Err(DiscoverError(format!(
                "{}: no such file or directory",
                p.display()
            )));
        }
        let abs = absolute(p);
        let (seed, focus) = if abs.is_file() {
            if abs.file_name().is_some_and(|n| n == "Cargo.toml") {
                (abs.parent().map(Path::to_path_buf), None)
            } else if abs.extension().is_some_and(|e| e == "rs") {
                match enclosing_manifest_dir(abs.parent().unwrap_or(&abs)) {
                    Some(d) => (Some(d), Some(abs.clone())),
                    None => {
                        l.loose_roots.push(abs.clone());
                        root.get_or_insert_with(|| abs.parent().unwrap_or(&abs).to_path_buf());
                        continue;
                    }
                }
            } else {
                return Err(DiscoverError(format!(
                    "{}: not a Rust file, a Cargo.toml or a directory",
                    p.display()
                )));
            }
        } else if abs.join("Cargo.toml").is_file() {
            (Some(abs.clone()), None)
        } else {
            match enclosing_manifest_dir(&abs) {
                Some(d) => (Some(d), Some(abs.clone())),
                None => {
                    l.loose_dir(&abs);
                    root.get_or_insert_with(|| abs.clone());
                    continue;
                }
            }
        };
        let Some(seed) = seed else { continue };
        let (ws_root, pkg_focus) = l.load_seed(&seed);
        root.get_or_insert(ws_root);
        if let Some(f) = focus.or(pkg_focus) {
            l.project.focus.push(f);
        }
    }
    l.project.root = root.unwrap_or_else(|| PathBuf::from("."));
    l.resolve_path_deps();
    l.make_crates();
    Ok(l.project)
}

fn read_manifest(path: &Path, diags: &mut Vec<Diag>) -> Option<toml::Value> {
    let text = match crate::bounded::read_text(path, crate::bounded::Kind::Manifest) {
        Ok(t) => t,
        Err(e) => {
            diags.push(Diag::new(
                Severity::Error,
                "manifest",
                path,
                None,
                format!("cannot read manifest: {e}"),
            ));
            return None;
        }
    };
    match text.parse::<toml::Table>() {
        Ok(t) => Some(toml::Value::Table(t)),
        Err(e) => {
            let loc = e.span().map(|s| point_at(&text, s.start));
            diags.push(Diag::new(
                Severity::Error,
                "manifest",
                path,
                loc,
                format!("not a valid Cargo.toml: {}", e.message()),
            ));
            None
        }
    }
}

/// At most this many folders are looked at for one member or exclude pattern.
const GLOB_VISIT_LIMIT: usize = 100_000;

/// The folders under `root` that a workspace `members`/`exclude` pattern names.
fn glob_dirs(root: &Path, pattern: &str) -> Vec<PathBuf> {
    glob_dirs_checked(root, pattern).0
}

/// [`glob_dirs`], and why the pattern was refused or cut short. The match never leaves the
/// workspace: an absolute pattern or one with `..` is refused, and the folders are walked without
/// following symlinks, at most [`GLOB_VISIT_LIMIT`] of them.
fn glob_dirs_checked(root: &Path, pattern: &str) -> (Vec<PathBuf>, Option<String>) {
    let rel = Path::new(pattern);
    if rel.is_absolute()
        || rel
            .components()
            .any(|c| matches!(c, Component::ParentDir | Component::Prefix(_)))
    {
        return (
            Vec::new(),
            Some(format!(
                "workspace pattern `{}` leaves the workspace; ignored",
                crate::diagnostic::escape_controls(pattern)
            )),
        );
    }
    if !pattern.contains(['*', '?', '[']) {
        return (vec![normalize(&root.join(pattern))], None);
    }
    let opts = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    };
    let Ok(pat) = glob::Pattern::new(pattern.trim_end_matches('/')) else {
        return (
            Vec::new(),
            Some(format!(
                "workspace pattern `{}` is not a valid glob; ignored",
                crate::diagnostic::escape_controls(pattern)
            )),
        );
    };
    // Walk from the pattern's literal prefix, only as deep as it can match.
    let parts: Vec<&str> = pattern
        .trim_end_matches('/')
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let literal = parts
        .iter()
        .take_while(|p| !p.contains(['*', '?', '[']))
        .count();
    let max_depth = if parts.iter().any(|p| p.contains("**")) {
        64
    } else {
        parts.len() - literal
    };
    let start: PathBuf = parts[..literal].iter().collect();
    let mut out = Vec::new();
    let mut visited = 0usize;
    let mut stack = vec![(start, 0usize)];
    while let Some((dir, depth)) = stack.pop() {
        if depth >= max_depth {
            continue;
        }
        let Ok(entries) = fs::read_dir(root.join(&dir)) else {
            continue;
        };
        let mut children: Vec<PathBuf> = Vec::new();
        for e in entries.flatten() {
            // `file_type` does not follow symlinks: a symlinked folder is never entered.
            if !e.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            visited += 1;
            if visited > GLOB_VISIT_LIMIT {
                return (
                    out,
                    Some(format!(
                        "workspace pattern `{}` visited more than {GLOB_VISIT_LIMIT} folders; the rest is ignored",
                        crate::diagnostic::escape_controls(pattern)
                    )),
                );
            }
            children.push(dir.join(e.file_name()));
        }
        children.sort();
        for c in children.into_iter().rev() {
            if pat.matches_path_with(&c, opts) {
                out.push(normalize(&root.join(&c)));
            }
            stack.push((c, depth + 1));
        }
    }
    out.sort();
    (out, None)
}

impl Loader<'_> {
    /// Load the workspace (or lone package) around a manifest dir. Returns the workspace root
    /// and, when the seed is one member of a larger workspace, that member's dir as focus.
    fn load_seed(&mut self, seed: &Path) -> (PathBuf, Option<PathBuf>) {
        let manifest = seed.join("Cargo.toml");
        let mut diags = Vec::new();
        let value = read_manifest(&manifest, &mut diags);
        self.project.diags.append(&mut diags);
        let Some(value) = value else {
            if let Some(fallback) = self.default_manifest(seed) {
                self.load_package(seed, Some(fallback));
            }
            return (seed.to_path_buf(), None);
        };
        if value.get("workspace").is_some() {
            self.load_workspace(seed, &value);
            return (seed.to_path_buf(), None);
        }
        // A package: is it a member of a workspace above it?
        let mut dir = seed.parent();
        while let Some(d) = dir {
            let m = d.join("Cargo.toml");
            if m.is_file() {
                let mut sink = Vec::new();
                if let Some(v) = read_manifest(&m, &mut sink) {
                    if v.get("workspace").is_some() {
                        let members = self.workspace_members(d, &v);
                        if members.iter().any(|m| m == seed) {
                            self.load_workspace(d, &v);
                            return (d.to_path_buf(), Some(seed.to_path_buf()));
                        }
                    }
                }
            }
            dir = d.parent();
        }
        self.load_package(seed, Some(value));
        (seed.to_path_buf(), None)
    }

    fn workspace_members(&self, root: &Path, v: &toml::Value) -> Vec<PathBuf> {
        let ws = &v["workspace"];
        let list = |key: &str| -> Vec<String> {
            ws.get(key)
                .and_then(|m| m.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|x| x.as_str().map(String::from))
                        .collect()
                })
                .unwrap_or_default()
        };
        let excluded: Vec<PathBuf> = list("exclude")
            .iter()
            .flat_map(|e| glob_dirs(root, e))
            .collect();
        let mut members = Vec::new();
        if v.get("package").is_some() {
            members.push(root.to_path_buf());
        }
        for pat in list("members") {
            for d in glob_dirs(root, &pat) {
                if !excluded.iter().any(|e| d.starts_with(e)) && !members.contains(&d) {
                    members.push(d);
                }
            }
        }
        members
    }

    fn load_workspace(&mut self, root: &Path, v: &toml::Value) {
        if self.project.workspace_manifest.is_none() {
            self.project.workspace_manifest = Some(root.join("Cargo.toml"));
        }
        if let Some(deps) = v
            .get("workspace")
            .and_then(|w| w.get("dependencies"))
            .and_then(|d| d.as_table())
        {
            for (name, spec) in deps {
                let path = spec
                    .get("path")
                    .and_then(|p| p.as_str())
                    .map(|p| normalize(&root.join(p)));
                let pkg = spec
                    .get("package")
                    .and_then(|p| p.as_str())
                    .map(String::from);
                self.ws_deps.insert(name.clone(), (path, pkg));
            }
        }
        let ws = &v["workspace"];
        let patterns: Vec<String> = ws
            .get("members")
            .and_then(|m| m.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|x| x.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default();
        for pat in &patterns {
            let (dirs, refused) = glob_dirs_checked(root, pat);
            if let Some(why) = refused {
                self.project.diags.push(Diag::new(
                    Severity::Warning,
                    "manifest",
                    root.join("Cargo.toml"),
                    None,
                    why,
                ));
            } else if dirs.is_empty() {
                self.project.diags.push(Diag::new(
                    Severity::Warning,
                    "manifest",
                    root.join("Cargo.toml"),
                    None,
                    format!("workspace member `{pat}` matches no directory"),
                ));
            }
        }
        for m in self.workspace_members(root, v) {
            if m == root {
                self.load_package(root, Some(v.clone()));
            } else if m.join("Cargo.toml").is_file() {
                self.load_package(&m, None);
            } else {
                self.project.diags.push(Diag::new(
                    Severity::Warning,
                    "manifest",
                    root.join("Cargo.toml"),
                    None,
                    format!("workspace member `{}` has no Cargo.toml", m.display()),
                ));
            }
        }
    }

    /// A manifest for a package whose own cannot be read or parsed (already reported): the
    /// default layout (`src/lib.rs`, `src/main.rs`, `src/bin/`) under the folder's name, so that
    /// its sources are still analyzed. `None` when the folder has no `src/`.
    fn default_manifest(&mut self, dir: &Path) -> Option<toml::Value> {
        if !dir.join("src").is_dir() {
            return None;
        }
        let name = dir
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "package".into());
        self.project.diags.push(Diag::new(
            Severity::Note,
            "manifest",
            dir.join("Cargo.toml"),
            None,
            format!("analyzing `{name}` with the default layout (src/lib.rs, src/main.rs, src/bin/) since its manifest cannot be used"),
        ));
        let mut pkg = toml::Table::new();
        pkg.insert("name".into(), toml::Value::String(name));
        let mut table = toml::Table::new();
        table.insert("package".into(), toml::Value::Table(pkg));
        Some(toml::Value::Table(table))
    }

    fn load_package(&mut self, dir: &Path, value: Option<toml::Value>) -> Option<usize> {
        let dir = normalize(dir);
        if let Some(&i) = self.by_dir.get(&dir) {
            return Some(i);
        }
        let manifest = dir.join("Cargo.toml");
        let value = match value {
            Some(v) => v,
            None => {
                let mut diags = Vec::new();
                let v = read_manifest(&manifest, &mut diags);
                self.project.diags.append(&mut diags);
                match v {
                    Some(v) => v,
                    None => self.default_manifest(&dir)?,
                }
            }
        };
        let pkg = value.get("package")?;
        let Some(name) = pkg.get("name").and_then(|n| n.as_str()) else {
            self.project.diags.push(Diag::new(
                Severity::Error,
                "manifest",
                &manifest,
                None,
                "[package] has no `name`",
            ));
            return None;
        };
        let targets = self.targets(&dir, &manifest, name, &value);
        let mut deps = Vec::new();
        let add_deps = |table: Option<&toml::Value>, dev: bool, deps: &mut Vec<Dep>| {
            let Some(t) = table.and_then(|t| t.as_table()) else {
                return;
            };
            for (key, spec) in t {
                let mut path = spec
                    .get("path")
                    .and_then(|p| p.as_str())
                    .map(|p| normalize(&dir.join(p)));
                let mut package = spec
                    .get("package")
                    .and_then(|p| p.as_str())
                    .map(String::from);
                if spec.get("workspace").and_then(|w| w.as_bool()) == Some(true) {
                    if let Some((p, pk)) = self.ws_deps.get(key) {
                        path = path.or_else(|| p.clone());
                        package = package.or_else(|| pk.clone());
                    }
                }
                let target = match path {
                    Some(p) => DepTarget::External(format!("path:{}", p.display())),
                    None => DepTarget::External(package.clone().unwrap_or_else(|| key.clone())),
                };
                deps.push(Dep {
                    extern_name: crate_name(key),
                    target,
                    dev,
                });
            }
        };
        add_deps(value.get("dependencies"), false, &mut deps);
        if self.opts.include_tests {
            add_deps(value.get("dev-dependencies"), true, &mut deps);
        }
        if let Some(targets_tbl) = value.get("target").and_then(|t| t.as_table()) {
            for (_, t) in targets_tbl {
                add_deps(t.get("dependencies"), false, &mut deps);
            }
        }
        let metadata = pkg
            .get("metadata")
            .and_then(|m| m.get("threadlint"))
            .cloned();
        let idx = self.project.packages.len();
        self.project.packages.push(Package {
            name: name.to_string(),
            dir: dir.clone(),
            manifest,
            targets,
            deps,
            metadata,
        });
        self.by_dir.insert(dir, idx);
        Some(idx)
    }

    fn targets(
        &mut self,
        dir: &Path,
        manifest: &Path,
        pkg_name: &str,
        v: &toml::Value,
    ) -> Vec<Target> {
        let mut out: Vec<Target> = Vec::new();
        let auto = |key: &str| {
            v.get("package")
                .and_then(|p| p.get(key))
                .and_then(|a| a.as_bool())
                .unwrap_or(true)
        };
        // Library.
        let lib = v.get("lib");
        let lib_path = lib
            .and_then(|l| l.get("path"))
            .and_then(|p| p.as_str())
            .map(|p| normalize(&dir.join(p)))
            .or_else(|| Some(dir.join("src/lib.rs")).filter(|p| p.is_file()));
        if let Some(path) = lib_path {
            let name = lib
                .and_then(|l| l.get("name"))
                .and_then(|n| n.as_str())
                .map(crate_name)
                .unwrap_or_else(|| crate_name(pkg_name));
            out.push(Target {
                kind: CrateKind::Lib,
                name,
                path,
            });
        }
        // Explicit targets.
        let sections: &[(&str, CrateKind, &str)] = &[
            ("bin", CrateKind::Bin, "src/bin"),
            ("test", CrateKind::Test, "tests"),
            ("example", CrateKind::Example, "examples"),
            ("bench", CrateKind::Bench, "benches"),
        ];
        for (key, kind, folder) in sections {
            if *kind != CrateKind::Bin && !self.opts.include_tests {
                continue;
            }
            let Some(arr) = v.get(*key).and_then(|a| a.as_array()) else {
                continue;
            };
            for t in arr {
                let Some(name) = t.get("name").and_then(|n| n.as_str()) else {
                    continue;
                };
                let path = match t.get("path").and_then(|p| p.as_str()) {
                    Some(p) => normalize(&dir.join(p)),
                    None => {
                        let a = dir.join(folder).join(format!("{name}.rs"));
                        let b = dir.join(folder).join(name).join("main.rs");
                        if *kind == CrateKind::Bin
                            && name == pkg_name
                            && dir.join("src/main.rs").is_file()
                        {
                            dir.join("src/main.rs")
                        } else if b.is_file() && !a.is_file() {
                            b
                        } else {
                            a
                        }
                    }
                };
                if !path.is_file() {
                    self.project.diags.push(Diag::new(
                        Severity::Warning,
                        "manifest",
                        manifest,
                        None,
                        format!("[[{key}]] `{name}`: file {} not found", path.display()),
                    ));
                    continue;
                }
                out.push(Target {
                    kind: *kind,
                    name: crate_name(name),
                    path,
                });
            }
        }
        // Automatic targets.
        let push_auto = |out: &mut Vec<Target>, kind: CrateKind, name: String, path: PathBuf| {
            if !out
                .iter()
                .any(|t| t.path == path || (t.kind == kind && t.name == name))
            {
                out.push(Target { kind, name, path });
            }
        };
        if auto("autobins") {
            let main = dir.join("src/main.rs");
            if main.is_file() {
                push_auto(&mut out, CrateKind::Bin, crate_name(pkg_name), main);
            }
            for (name, path) in scan_target_dir(&dir.join("src/bin")) {
                push_auto(&mut out, CrateKind::Bin, crate_name(&name), path);
            }
        }
        if self.opts.include_tests {
            for (key, kind, folder) in [
                ("autotests", CrateKind::Test, "tests"),
                ("autoexamples", CrateKind::Example, "examples"),
                ("autobenches", CrateKind::Bench, "benches"),
            ] {
                if auto(key) {
                    for (name, path) in scan_target_dir(&dir.join(folder)) {
                        push_auto(&mut out, kind, crate_name(&name), path);
                    }
                }
            }
        }
        out
    }

    /// Turn `path:` dependency markers into package indexes, loading path dependencies that are
    /// not workspace members (transitively).
    fn resolve_path_deps(&mut self) {
        let mut i = 0;
        while i < self.project.packages.len() {
            let deps = self.project.packages[i].deps.clone();
            let mut resolved = Vec::with_capacity(deps.len());
            for mut d in deps {
                if let DepTarget::External(s) = &d.target {
                    if let Some(p) = s.strip_prefix("path:") {
                        let p = PathBuf::from(p);
                        d.target = match self.load_package(&p, None) {
                            Some(idx) => DepTarget::Package(idx),
                            None => DepTarget::External(d.extern_name.clone()),
                        };
                    }
                }
                resolved.push(d);
            }
            self.project.packages[i].deps = resolved;
            i += 1;
        }
    }

    fn make_crates(&mut self) {
        let mut crates = Vec::new();
        let mut lib_crate: HashMap<usize, usize> = HashMap::new();
        for (pi, p) in self.project.packages.iter().enumerate() {
            for t in &p.targets {
                if t.kind == CrateKind::Lib {
                    lib_crate.insert(pi, crates.len());
                }
                crates.push(CrateSpec {
                    name: t.name.clone(),
                    display: t.name.clone(),
                    root: t.path.clone(),
                    kind: t.kind,
                    package: Some(pi),
                    externs: FxHashMap::default(),
                    external: Vec::new(),
                });
            }
        }
        for c in crates.iter_mut() {
            let pi = c.package.expect("package crate");
            let p = &self.project.packages[pi];
            if c.kind != CrateKind::Lib {
                if let Some(&lc) = lib_crate.get(&pi) {
                    let lib_name = p
                        .targets
                        .iter()
                        .find(|t| t.kind == CrateKind::Lib)
                        .map(|t| t.name.clone())
                        .unwrap_or_default();
                    if lib_name == c.name {
                        c.display = format!("{}[{}]", c.name, kind_word(c.kind));
                    }
                    c.externs.insert(lib_name, lc);
                }
            }
            for d in &p.deps {
                if d.dev && matches!(c.kind, CrateKind::Lib | CrateKind::Bin) {
                    continue;
                }
                match &d.target {
                    DepTarget::Package(dp) => match lib_crate.get(dp) {
                        Some(&lc) => {
                            c.externs.insert(d.extern_name.clone(), lc);
                        }
                        None => c.external.push(d.extern_name.clone()),
                    },
                    DepTarget::External(_) => c.external.push(d.extern_name.clone()),
                }
            }
        }
        // Loose files: every `.rs` file is a crate root (those that turn out to be another
        // root's module are dropped after parsing).
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for f in std::mem::take(&mut self.loose_roots) {
            let stem = f
                .file_stem()
                .map(|s| crate_name(&s.to_string_lossy()))
                .unwrap_or_else(|| "main".into());
            let n = seen.entry(stem.clone()).or_insert(0);
            *n += 1;
            let display = if *n > 1 {
                format!("{stem}#{n}")
            } else {
                stem.clone()
            };
            crates.push(CrateSpec {
                name: stem,
                display,
                root: f,
                kind: CrateKind::Loose,
                package: None,
                externs: FxHashMap::default(),
                external: Vec::new(),
            });
        }
        self.project.crates = crates;
    }

    fn loose_dir(&mut self, dir: &Path) {
        let walker = ignore::WalkBuilder::new(dir)
            .hidden(false)
            .filter_entry(|e| e.file_name() != "target" && e.file_name() != ".git")
            .build();
        let mut files: Vec<PathBuf> = walker
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
            .map(|e| e.into_path())
            .filter(|p| p.extension().is_some_and(|e| e == "rs"))
            .map(|p| normalize(&p))
            .collect();
        files.sort();
        self.loose_roots.extend(files);
    }
}

fn kind_word(k: CrateKind) -> &'static str {
    match k {
        CrateKind::Lib => "lib",
        CrateKind::Bin => "bin",
        CrateKind::Test => "test",
        CrateKind::Example => "example",
        CrateKind::Bench => "bench",
        CrateKind::Loose => "file",
    }
}

/// `dir/*.rs` and `dir/*/main.rs`, sorted by name.
fn scan_target_dir(dir: &Path) -> Vec<(String, PathBuf)> {
    let Ok(rd) = fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for e in rd.flatten() {
        let p = e.path();
        if p.is_file() && p.extension().is_some_and(|x| x == "rs") {
            if let Some(stem) = p.file_stem() {
                out.push((stem.to_string_lossy().into_owned(), p));
            }
        } else if p.is_dir() && p.join("main.rs").is_file() {
            if let Some(name) = p.file_name() {
                out.push((name.to_string_lossy().into_owned(), p.join("main.rs")));
            }
        }
    }
    out.sort();
    out
}
