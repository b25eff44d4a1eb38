//! threadlint: proves that each conversation's thread context survives every handoff from the
//! WebSocket that received a message to the tools an agent runs.
//!
//! The pipeline follows the data, one module per stage:
//! [`discover`] (manifests → crates) → [`parse`] + [`lower`] (files → [`summary`], kept in the
//! [`cache`] by content hash) →
//! [`index`] (items, scopes, imports, impls) → [`resolve`] (calls, with [`types`]) →
//! [`graph`] (the call graph) → rules and reports.

pub mod alloc;
pub mod analysis;
pub mod cache;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub mod discover;
pub mod driver;
#[doc(hidden)]
pub mod fuzzing;
pub mod index;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod suppress;
pub mod syntax;

use std::path::PathBuf;
use std::time::{Duration, Instant};

/// The unit tests run with the parse arena installed, as the binary does.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: alloc::arena::ArenaAlloc<std::alloc::System> =
    alloc::arena::ArenaAlloc(std::alloc::System);

pub use analysis::graph::CallGraph;
pub use diagnostic::{Diag, Severity};
pub use discover::{DiscoverError, DiscoverOptions, Project};
pub use index::Index;
pub use resolve::Resolution;
pub use syntax::parse::Parsed;

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub include_tests: bool,
    /// Read files reached through symlinks that lead out of the workspace.
    pub follow_symlinks: bool,
    pub cache: CacheMode,
}

/// Whether, and where, parsed summaries and results are cached.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum CacheMode {
    #[default]
    Off,
    /// `<workspace root>/target/threadlint`.
    Workspace,
    Dir(PathBuf),
}

impl CacheMode {
    /// The cache folder for a workspace rooted at `root`.
    pub fn dir(&self, root: &std::path::Path) -> Option<cache::CacheDir> {
        match self {
            CacheMode::Off => None,
            CacheMode::Workspace => cache::CacheDir::new(root, None),
            CacheMode::Dir(d) => cache::CacheDir::new(root, Some(d)),
        }
    }
}

#[derive(Clone, Copy, Debug, Default, serde::Serialize)]
pub struct Timings {
    pub discover_ms: f64,
    pub parse_ms: f64,
    /// Writing the summary cache.
    pub cache_ms: f64,
    pub index_ms: f64,
    pub resolve_ms: f64,
    pub graph_ms: f64,
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1e5).round() / 100.0
}

/// The parsed workspace: what the analysis borrows from.
pub struct Loaded {
    pub project: Project,
    pub parsed: Parsed,
    /// Files taken from the cache and files parsed (`None` without a cache).
    pub cache_stats: Option<syntax::pack::CacheStats>,
    /// The summary cache being written (wait for it before the process exits).
    pub cache_write: syntax::pack::Pending,
    pub timings: Timings,
}

impl Loaded {
    /// All input diagnostics (manifests, then files), in a stable order.
    pub fn diags(&self) -> Vec<&Diag> {
        diagnostic::sorted(&self.project.diags, &self.parsed.diags)
    }

    pub fn index(&self) -> Index<'_> {
        Index::build(&self.project, &self.parsed)
    }

    pub fn total_lines(&self) -> u64 {
        self.parsed
            .files
            .iter()
            .map(|f| f.summary.lines as u64)
            .sum()
    }
}

/// Discover and parse the crates around `paths`.
pub fn load(paths: &[PathBuf], opts: &Options) -> Result<Loaded, DiscoverError> {
    let t0 = Instant::now();
    let project = discover(paths, opts)?;
    let mut loaded = parse_project(project, opts);
    loaded.timings.discover_ms = ms(t0.elapsed()) - loaded.timings.parse_ms;
    Ok(loaded)
}

/// Find the workspace, its packages and crates around `paths`.
pub fn discover(paths: &[PathBuf], opts: &Options) -> Result<Project, DiscoverError> {
    discover::discover(
        paths,
        &DiscoverOptions {
            include_tests: opts.include_tests,
        },
    )
}

/// Parse (or take from the cache) every file of a discovered project.
pub fn parse_project(project: Project, opts: &Options) -> Loaded {
    let t0 = Instant::now();
    let lower = syntax::lower::LowerOptions {
        include_tests: opts.include_tests,
    };
    let cache = opts
        .cache
        .dir(&project.root)
        .map(|d| syntax::pack::FileCache::open(d, if opts.include_tests { "tests" } else { "" }));
    let parsed =
        syntax::parse::parse_project(&project, lower, cache.as_ref(), opts.follow_symlinks);
    let t1 = Instant::now();
    let (cache_stats, cache_write) = match cache.map(syntax::pack::FileCache::save) {
        Some((stats, pending)) => (Some(stats), pending),
        None => (None, syntax::pack::Pending::default()),
    };
    Loaded {
        project,
        parsed,
        cache_stats,
        cache_write,
        timings: Timings {
            parse_ms: ms(t1 - t0),
            cache_ms: ms(t1.elapsed()),
            ..Timings::default()
        },
    }
}

/// Everything the rules work from: the index, the context model, framework knowledge, call
/// resolutions with their context facts, and the call graph.
pub struct Graphs<'s> {
    pub ix: Index<'s>,
    pub model: resolve::context::ContextModel,
    pub know: config::knowledge::Knowledge,
    pub res: Resolution,
    pub graph: CallGraph,
}

/// Index, resolve (with context facts) and build the call graph of a loaded workspace.
pub fn build_graph<'s>(
    loaded: &'s Loaded,
    cfg: &config::Config,
    timings: &mut Timings,
) -> Graphs<'s> {
    build(loaded, cfg, timings, true)
}

/// Index, resolve and build the call graph only (what `threadlint debug callgraph` shows).
pub fn build_call_graph<'s>(
    loaded: &'s Loaded,
    cfg: &config::Config,
    timings: &mut Timings,
) -> Graphs<'s> {
    build(loaded, cfg, timings, false)
}

fn build<'s>(
    loaded: &'s Loaded,
    cfg: &config::Config,
    timings: &mut Timings,
    facts: bool,
) -> Graphs<'s> {
    let t0 = Instant::now();
    let ix = loaded.index();
    let know = config::knowledge::Knowledge::builtin().with_config(cfg);
    // The context model is partly sequential: field and return types are resolved meanwhile.
    let (model, prepared) = rayon::join(
        || {
            if facts {
                resolve::context::ContextModel::build(&ix, cfg, &know)
            } else {
                resolve::context::ContextModel::default()
            }
        },
        || resolve::prepare(&ix),
    );
    let t1 = Instant::now();
    let res = resolve::resolve_all(&ix, &prepared, &model, &know, facts);
    let t2 = Instant::now();
    let g = CallGraph::build(&ix, &res);
    let t3 = Instant::now();
    timings.index_ms = ms(t1 - t0);
    timings.resolve_ms = ms(t2 - t1);
    timings.graph_ms = ms(t3 - t2);
    Graphs {
        ix,
        model,
        know,
        res,
        graph: g,
    }
}

/// The findings of a `check`, with file paths relative to the workspace root.
pub struct Report {
    pub findings: Vec<rules::Finding>,
    pub files: Vec<String>,
}

impl Report {
    /// `(rule, file, line)` of every finding at warning or error level, sorted.
    pub fn located(&self) -> Vec<(String, String, u32)> {
        let mut v: Vec<(String, String, u32)> = self
            .findings
            .iter()
            .filter(|f| f.level >= rules::Level::Warning)
            .map(|f| (f.code.to_string(), self.files[f.file].clone(), f.loc.line))
            .collect();
        v.sort();
        v
    }
}

/// Run the whole analysis on `paths` with the configuration found at the workspace root.
pub fn check(paths: &[PathBuf], opts: Options) -> Result<Report, String> {
    let loaded = load(paths, &opts).map_err(|e| e.to_string())?;
    let cfg =
        config::load(&loaded.project.root, None).map_err(|d| d.render(&loaded.project.root))?;
    let mut t = Timings::default();
    let gr = build_graph(&loaded, &cfg.config, &mut t);
    let a = analysis::Analysis::new(&gr, &cfg.config);
    let findings = rules::run_all(&a);
    let files = loaded
        .parsed
        .files
        .iter()
        .map(|f| diagnostic::display_path(&f.path, &loaded.project.root))
        .collect();
    Ok(Report { findings, files })
}
