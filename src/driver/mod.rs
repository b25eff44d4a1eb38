//! The driver: runs the stages in the order the data flows, for `check`, `paths`, `debug`, the
//! fuzz target and the tests alike.
//!
//! discover → syntax (parse and lower, with the summary pack) → index → resolve (calls and
//! context facts) → analysis (graph, roles, reachability) → rules → suppressions → levels.
//!
//! **Invariant:** this is the only place that sequences stages; a stage never calls a later one.
//! The command line ([`crate::cli`]) parses arguments and prints; everything between is here.

pub mod run_record;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::analysis::graph::CallGraph;
use crate::analysis::{Analysis, Program};
use crate::config::LoadedConfig;
use crate::diagnostic::{self, Diag, Severity};
use crate::discover::{DiscoverError, DiscoverOptions, Project};
use crate::index::Index;
use crate::rules::Finding;
use crate::syntax::parse::Parsed;
use crate::{cache, config, discover, resolve, syntax};

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
    let mut loaded = parse_project(project, opts, &[]);
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

/// Parse (or take from the cache) every file of a discovered project, but those the
/// configuration's `exclude` patterns name.
pub fn parse_project(project: Project, opts: &Options, exclude: &[String]) -> Loaded {
    let t0 = Instant::now();
    let lower = syntax::lower::LowerOptions {
        include_tests: opts.include_tests,
    };
    let cache = opts
        .cache
        .dir(&project.root)
        .map(|d| syntax::pack::FileCache::open(d, if opts.include_tests { "tests" } else { "" }));
    let exclude = crate::config::exclude_patterns(exclude);
    let parsed = syntax::parse::parse_project(
        &project,
        lower,
        cache.as_ref(),
        opts.follow_symlinks,
        &exclude,
    );
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

/// Index, resolve (with context facts) and build the call graph of a loaded workspace.
pub fn build_graph<'s>(
    loaded: &'s Loaded,
    cfg: &config::Config,
    timings: &mut Timings,
) -> Program<'s> {
    let t0 = Instant::now();
    let ix = loaded.index();
    let know = config::knowledge::Knowledge::builtin().with_config(cfg);
    // The context model is partly sequential: field and return types are resolved meanwhile.
    let (model, prepared) = rayon::join(
        || resolve::context::ContextModel::build(&ix, cfg, &know),
        || resolve::prepare(&ix),
    );
    let t1 = Instant::now();
    let mut res = resolve::resolve_all(&ix, &prepared, &model, &know);
    let source_bytes = loaded.parsed.stamps.iter().map(|(_, s)| s.meta.len).sum();
    let diags = res
        .limit_dispatch(resolve::dispatch_budget(source_bytes))
        .map(|cut| dispatch_cut_diag(&ix, loaded, &cut))
        .into_iter()
        .collect();
    let t2 = Instant::now();
    let g = CallGraph::build(&ix, &res);
    let t3 = Instant::now();
    timings.index_ms = ms(t1 - t0);
    timings.resolve_ms = ms(t2 - t1);
    timings.graph_ms = ms(t3 - t2);
    Program {
        ix,
        model,
        know,
        res,
        graph: g,
        diags,
    }
}

/// The warning for calls through trait objects left unfollowed, at the first of them.
fn dispatch_cut_diag(
    ix: &crate::index::Index,
    loaded: &Loaded,
    cut: &resolve::DispatchCut,
) -> Diag {
    let (f, ci) = cut.first;
    let info = &ix.fns[f];
    let loc = info.def.body.as_ref().map(|b| b.calls[ci].loc);
    let more = match cut.calls {
        1 => String::new(),
        n => format!(" (and {} later ones)", n - 1),
    };
    Diag::new(
        Severity::Warning,
        "limit",
        &loaded.parsed.files[info.file].path,
        loc,
        format!(
            "this call through a trait object or generic{more} is not followed, and is reported as unresolved: such a call has an edge to every implementation, and the workspace's calls need more than the {} edges threadlint allows (one per byte of source, at least {})",
            cut.budget,
            resolve::dispatch_budget(0)
        ),
    )
}

/// Every finding of an analysed program: the rules, then the suppressions (which report TP009),
/// then the configured levels; sorted and without duplicates.
pub fn findings(a: &Analysis) -> Vec<Finding> {
    let mut out = crate::rules::run_all(a);
    crate::suppress::apply(a, &mut out);
    crate::rules::finish(a, &mut out);
    out
}

/// Why a session could not be opened.
pub enum OpenError {
    Discover(DiscoverError),
    NoPackage(String),
    /// The configuration is invalid: the diagnostic, and the workspace's own (manifest) diagnostics.
    Config {
        diag: Box<Diag>,
        root: PathBuf,
        project_diags: Vec<Diag>,
    },
}

impl std::fmt::Display for OpenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OpenError::Discover(e) => write!(f, "{e}"),
            OpenError::NoPackage(name) => write!(f, "no package named `{name}` in the workspace"),
            OpenError::Config { diag, root, .. } => write!(f, "{}", diag.render(root)),
        }
    }
}

/// A discovered workspace with its configuration: where every command starts.
pub struct Session {
    pub project: Project,
    pub config: LoadedConfig,
    pub opts: Options,
}

impl Session {
    /// Discover the workspace around `paths`, narrow it to `package` (or the whole `workspace`),
    /// and load its configuration (`config`, or the one at the workspace root).
    pub fn open(
        paths: &[PathBuf],
        opts: Options,
        config: Option<&Path>,
        package: Option<&str>,
        workspace: bool,
    ) -> Result<Session, OpenError> {
        let mut project = discover(paths, &opts).map_err(OpenError::Discover)?;
        if workspace {
            project.focus.clear();
        }
        if let Some(name) = package {
            match project.packages.iter().find(|p| p.name == name) {
                Some(p) => project.focus = vec![p.dir.clone()],
                None => return Err(OpenError::NoPackage(name.to_string())),
            }
        }
        match config::load(&project.root, config) {
            Ok(config) => Ok(Session {
                project,
                config,
                opts,
            }),
            Err(diag) => Err(OpenError::Config {
                diag: Box::new(diag),
                root: project.root,
                project_diags: project.diags,
            }),
        }
    }

    /// The key of a whole run's result: everything findings depend on besides the files.
    pub fn run_key(&self) -> u128 {
        cache::debug_hash(&(
            self.opts.include_tests,
            self.opts.follow_symlinks,
            &self.config.config,
            &self.project.root,
            &self.project.packages,
            &self.project.crates,
        ))
    }

    /// Parse (or take from the cache) every file.
    pub fn load(self) -> (Loaded, LoadedConfig) {
        let loaded = parse_project(self.project, &self.opts, &self.config.config.exclude);
        (loaded, self.config)
    }
}
