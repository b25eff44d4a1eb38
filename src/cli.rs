//! The command line (SPEC §7). Both binaries call [`run`].

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::analysis::graph;
use crate::driver::Session;
use crate::{build_graph, load, Options};

#[derive(Parser, Debug)]
#[command(
    name = "threadlint",
    version,
    about = "Proves that each conversation's thread context survives every handoff from WebSocket to tool",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Analyze a workspace, package, folder or files and report problems.
    Check(Box<CheckArgs>),
    /// Show every entry → tool chain, each handoff marked passed ✓, dropped ✗ or unresolved ?.
    Paths(PathsArgs),
    /// List the rules.
    Rules {
        #[arg(long, value_enum, default_value_t = RulesFormat::Text)]
        format: RulesFormat,
    },
    /// Show a rule's documentation.
    Explain {
        /// A rule code, like TP001.
        code: String,
    },
    /// Inspect the analyzer's intermediate results.
    #[command(subcommand)]
    Debug(DebugCommand),
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Workspace or package directories, Cargo.toml files, folders of .rs files, or .rs files.
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = CheckFormat::Human)]
    pub format: CheckFormat,
    /// Configuration file (default: threadlint.toml in the workspace root).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Only these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    pub select: Vec<String>,
    /// Not these rules (comma-separated codes).
    #[arg(long, value_delimiter = ',')]
    pub ignore: Vec<String>,
    /// Exit with status 0 even when there are findings.
    #[arg(long)]
    pub exit_zero: bool,
    /// Write the report to this file (for SARIF upload); the terminal gets the summary.
    #[arg(short = 'o', long = "output")]
    pub output: Option<PathBuf>,
    /// Print the number of findings per rule.
    #[arg(long)]
    pub statistics: bool,
    /// Colour in the human report: auto (a terminal, unless NO_COLOR), always, never.
    #[arg(long, value_parser = ["auto", "always", "never"], default_value = "auto")]
    pub color: String,
    /// Only report findings that are not in this baseline file.
    #[arg(long, value_name = "FILE")]
    pub baseline: Option<PathBuf>,
    /// Record the current findings in a baseline file (and exit 0).
    #[arg(long, value_name = "FILE")]
    pub write_baseline: Option<PathBuf>,
    /// The Cargo.toml of the workspace or package (as `cargo` takes it).
    #[arg(long, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Report on this package of the workspace only.
    #[arg(short = 'p', long = "package", value_name = "NAME")]
    pub package: Option<String>,
    /// Report on the whole workspace (the default for a workspace root).
    #[arg(long)]
    pub workspace: bool,
    /// Also analyze test code (`#[cfg(test)]`, `#[test]`, tests/, benches/, examples/).
    #[arg(long)]
    pub include_tests: bool,
    /// Neither read nor write the cache (parse every file, run every rule).
    #[arg(long)]
    pub no_cache: bool,
    /// Where the cache lives (default: target/threadlint in the workspace root).
    #[arg(long, value_name = "DIR", conflicts_with = "no_cache")]
    pub cache_dir: Option<PathBuf>,
    /// Read files reached through symlinks that lead out of the workspace (not followed by default).
    #[arg(long)]
    pub follow_symlinks: bool,
    /// Say on stderr what the cache served and how long each stage took.
    #[arg(short, long)]
    pub verbose: bool,
}

impl CheckArgs {
    fn options(&self) -> Options {
        Options {
            include_tests: self.include_tests,
            follow_symlinks: self.follow_symlinks,
            cache: match (&self.cache_dir, self.no_cache) {
                (_, true) => crate::CacheMode::Off,
                (Some(d), false) => crate::CacheMode::Dir(d.clone()),
                (None, false) => crate::CacheMode::Workspace,
            },
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct PathsArgs {
    pub paths: Vec<PathBuf>,
    #[arg(long, value_enum, default_value_t = PathsFormat::Text)]
    pub format: PathsFormat,
    #[arg(long)]
    pub config: Option<PathBuf>,
    #[arg(long)]
    pub include_tests: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
pub enum CheckFormat {
    Human,
    Concise,
    Json,
    Sarif,
    Github,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum PathsFormat {
    Text,
    Json,
    Mermaid,
    Dot,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum RulesFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
pub enum DebugCommand {
    /// Print the call graph.
    Callgraph {
        paths: Vec<PathBuf>,
        #[arg(long, value_enum, default_value_t = GraphFormat::Text)]
        format: GraphFormat,
        #[arg(long)]
        include_tests: bool,
        /// Parse every file instead of taking summaries from the cache.
        #[arg(long)]
        no_cache: bool,
    },
    /// Benchmark floor: time reading and `syn`-parsing every `.rs` file under PATHs (skipping
    /// `target/` and ignored files), nothing else.
    Floor {
        paths: Vec<PathBuf>,
        /// Only the files `check` analyzes (found by an untimed full load first), instead of
        /// every `.rs` file: the fair floor for a repository with tests and examples.
        #[arg(long)]
        analyzed: bool,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum GraphFormat {
    Text,
    Json,
    Dot,
    /// Counts and phase timings, as JSON.
    Stats,
}

/// Exit codes (SPEC §7).
pub const EXIT_OK: i32 = 0;
pub const EXIT_FINDINGS: i32 = 1;
pub const EXIT_ERROR: i32 = 2;

/// Set when this process runs one command and exits: large results are then not freed.
static ONE_SHOT: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Let go of a large workspace's summaries and graphs: when the process ends right after, freeing
/// them one by one is wasted time; when `run` is called as a library, they are freed.
fn discard<T>(v: T) {
    if ONE_SHOT.load(std::sync::atomic::Ordering::Relaxed) {
        std::mem::forget(v);
    } else {
        drop(v);
    }
}

/// The reader of stdout went away (`| head`): exit as a process killed by SIGPIPE would.
const EXIT_BROKEN_PIPE: i32 = 141;

/// Write `text` and a newline on stdout. A reader that went away (`| head`) ends the command
/// quietly with [`EXIT_BROKEN_PIPE`]; any other failure (a full disk) is a plain error.
fn emit(text: impl std::fmt::Display) -> Result<(), i32> {
    let mut out = std::io::stdout().lock();
    match writeln!(out, "{text}").and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Err(EXIT_BROKEN_PIPE),
        Err(e) => Err(error(format!("cannot write the report: {e}"))),
    }
}

/// The exit status of a command that ends by writing `text`.
fn emit_then(text: impl std::fmt::Display, status: i32) -> i32 {
    emit(text).err().unwrap_or(status)
}

/// [`run`] on a thread with a large stack (the main thread's is small and fixed), for a process
/// that exits when it returns.
pub fn run_on_big_stack(args: Vec<std::ffi::OsString>) -> i32 {
    ONE_SHOT.store(true, std::sync::atomic::Ordering::Relaxed);
    crate::syntax::parse::CONTAIN_PANICS.store(true, std::sync::atomic::Ordering::Relaxed);
    // A panic is reported where it is caught, as a diagnostic: no trace on the terminal.
    std::panic::set_hook(Box::new(|_| {}));
    let worker = std::thread::Builder::new()
        .name("threadlint".into())
        .stack_size(crate::syntax::parse::STACK_SIZE)
        .spawn(move || run(args));
    match worker {
        Ok(handle) => handle.join().unwrap_or_else(|payload| {
            let message = crate::syntax::parse::panic_message(&*payload);
            eprintln!(
                "threadlint: internal error: {message} (a bug: please report it with the input that caused it)"
            );
            EXIT_ERROR
        }),
        Err(_) => run(std::env::args_os().collect::<Vec<_>>()),
    }
}

/// Parse `args` (including the program name) and run. Returns the exit status.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_ERROR } else { EXIT_OK };
        }
    };
    on_workers(move || match cli.command {
        Command::Check(a) => check(*a),
        Command::Paths(a) => paths(a),
        Command::Rules { format } => rules_cmd(format),
        Command::Explain { code } => explain(&code),
        Command::Debug(d) => debug(d),
    })
}

/// Run `f` with a pool of worker threads for the parallel stages. Deeply nested code recurses
/// deeply (parsing, lowering, evaluation, dropping trees), so the workers get large stacks; where
/// address space is limited (`ulimit -v`), smaller ones, with a warning.
fn on_workers(f: impl FnOnce() -> i32 + Send) -> i32 {
    match crate::syntax::parse::worker_pool(
        crate::syntax::parse::STACK_SIZE,
        &[64 << 20, 16 << 20, 4 << 20],
    ) {
        Ok((pool, stack)) => {
            if stack < crate::syntax::parse::STACK_SIZE {
                eprintln!(
                    "threadlint: warning: worker threads could only get {} MiB stacks (is the address space limited? `ulimit -v`); very deeply nested code may overflow them",
                    stack >> 20
                );
            }
            pool.install(f)
        }
        Err(e) => error(format!(
            "cannot start worker threads: {e} (is the address space limited? `ulimit -v`)"
        )),
    }
}

fn error(msg: impl std::fmt::Display) -> i32 {
    eprintln!("threadlint: error: {msg}");
    EXIT_ERROR
}

/// How input problems are written on stderr. `check --format github` writes them as workflow
/// commands too, so that no raw line of the log can start with `::`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum DiagStyle {
    Plain,
    Github,
}

/// Problems with the input (manifests, then files), in a stable order, on stderr.
fn print_diags(
    style: DiagStyle,
    root: &std::path::Path,
    project: &[crate::Diag],
    files: &[crate::Diag],
) {
    let mut err = std::io::stderr().lock();
    for d in crate::diagnostic::sorted(project, files) {
        let line = if style == DiagStyle::Github {
            d.render_github(root)
        } else {
            d.render(root)
        };
        let _ = writeln!(err, "{line}");
    }
}

/// Load, configure and analyze (what `paths` works from).
fn analyze<R>(
    paths: &[PathBuf],
    include_tests: bool,
    config: Option<&std::path::Path>,
    then: impl FnOnce(&crate::analysis::Analysis) -> R,
) -> Result<R, i32> {
    let opts = Options {
        include_tests,
        cache: crate::CacheMode::Off,
        ..Options::default()
    };
    let style = DiagStyle::Plain;
    let session = open(paths, opts, config, None, false, style)?;
    let (loaded, cfg) = parse(session, style)?;
    let mut t = loaded.timings;
    let gr = build_graph(&loaded, &cfg.config, &mut t);
    print_diags(style, &loaded.project.root, &[], &gr.diags);
    let a = crate::analysis::Analysis::new(&gr, &cfg.config);
    let r = then(&a);
    drop(a);
    loaded.cache_write.wait();
    discard(gr);
    discard(loaded);
    Ok(r)
}

/// Open a session, printing why it could not be opened.
fn open(
    paths: &[PathBuf],
    opts: Options,
    config: Option<&std::path::Path>,
    package: Option<&str>,
    workspace: bool,
    style: DiagStyle,
) -> Result<Session, i32> {
    use crate::driver::OpenError;
    match Session::open(paths, opts, config, package, workspace) {
        Ok(s) => Ok(s),
        Err(e @ (OpenError::Discover(_) | OpenError::NoPackage(_))) => Err(error(e)),
        Err(OpenError::Config {
            diag: d,
            root,
            project_diags,
        }) => {
            print_diags(style, &root, &project_diags, &[]);
            // Point into the TOML when we know where.
            // Never through a symlink: only a regular file of the workspace is quoted.
            let text = crate::bounded::read_text(&d.file, crate::bounded::Kind::Config).ok();
            match (d.loc, text) {
                (Some(loc), Some(text)) => eprint!(
                    "{}",
                    crate::report::miette_snippet(
                        &crate::diagnostic::display_path(&d.file, &root),
                        &crate::report::SourceText::new(text),
                        loc,
                        &d.render(&root),
                        "threadlint::config",
                        miette::Severity::Error,
                        "see the configuration keys in the README (SPEC §6)",
                        "here",
                        crate::report::use_color("auto"),
                    )
                ),
                _ => eprintln!("{}", d.render(&root)),
            }
            Err(EXIT_ERROR)
        }
    }
}

/// Parse the project's files and print the problems found in the input.
fn parse(
    session: Session,
    style: DiagStyle,
) -> Result<(crate::Loaded, crate::config::LoadedConfig), i32> {
    let (loaded, cfg) = session.load();
    print_diags(
        style,
        &loaded.project.root,
        &loaded.project.diags,
        &loaded.parsed.diags,
    );
    if loaded.parsed.files.is_empty() {
        return Err(error("no Rust files could be analyzed"));
    }
    Ok((loaded, cfg))
}

/// What `check` found, before `--select`/`--ignore` and focus.
struct Checked {
    findings: Vec<crate::rules::Finding>,
    /// The files the findings point into.
    src: crate::report::Sources,
    focus: Vec<PathBuf>,
    /// The input problems (manifests, files, limits), also printed on stderr.
    diags: Vec<crate::Diag>,
}

/// Every rule's findings (before `--select`/`--ignore` and focus), from the cache when nothing
/// they depend on changed, with the files they point into.
fn findings_of(paths: &[PathBuf], args: &CheckArgs) -> Result<Checked, i32> {
    use crate::driver::run_record::{RunRecord, StoredFinding};
    let style = if args.format == CheckFormat::Github {
        DiagStyle::Github
    } else {
        DiagStyle::Plain
    };
    let session = open(
        paths,
        args.options(),
        args.config.as_deref(),
        args.package.as_deref(),
        args.workspace,
        style,
    )?;
    let dir = session.opts.cache.dir(&session.project.root);
    let key = session.run_key();
    if let Some(rec) = dir.as_ref().and_then(|d| RunRecord::load_valid(d, key)) {
        let findings: Option<Vec<crate::rules::Finding>> = rec
            .findings
            .into_iter()
            .map(StoredFinding::restore)
            .collect();
        if let Some(findings) = findings {
            if args.verbose {
                eprintln!(
                    "threadlint: cache: no input changed since the last run ({} files); its result is reused",
                    rec.stamps.len()
                );
            }
            let project = session.project;
            print_diags(style, &project.root, &project.diags, &rec.diags);
            let src = crate::report::Sources::from_parts(project.root, rec.files);
            let diags = project.diags.into_iter().chain(rec.diags).collect();
            return Ok(Checked {
                findings,
                src,
                focus: project.focus,
                diags,
            });
        }
    }
    let t0 = std::time::Instant::now();
    let (loaded, cfg) = parse(session, style)?;
    let mut t = loaded.timings;
    let gr = build_graph(&loaded, &cfg.config, &mut t);
    print_diags(style, &loaded.project.root, &[], &gr.diags);
    let t1 = std::time::Instant::now();
    let a = crate::analysis::Analysis::new(&gr, &cfg.config);
    let t2 = std::time::Instant::now();
    let findings = crate::driver::findings(&a);
    let t3 = std::time::Instant::now();
    let src = crate::report::Sources::new(&a);
    drop(a);
    if args.verbose {
        if let Some(c) = loaded.cache_stats {
            eprintln!(
                "threadlint: cache: {} files reused, {} parsed",
                c.hits, c.misses
            );
        }
        eprintln!(
            "threadlint: timings (ms): parse {:.0}, cache write {:.0}, index {:.0}, resolve {:.0}, graph {:.0}, analysis {:.0}, rules {:.0}; total {:.0}; peak memory {} MiB",
            t.parse_ms,
            t.cache_ms,
            t.index_ms,
            t.resolve_ms,
            t.graph_ms,
            (t2 - t1).as_secs_f64() * 1e3,
            (t3 - t2).as_secs_f64() * 1e3,
            (t3 - t0).as_secs_f64() * 1e3,
            peak_rss_mib(),
        );
    }
    // A result that depends on a file that could not be read is not worth keeping: whatever
    // made it unreadable may change without its metadata changing.
    if let Some(d) = dir.as_ref().filter(|_| loaded.parsed.unread.is_empty()) {
        RunRecord {
            salt: 0,
            key,
            stamps: loaded.parsed.stamps.clone(),
            absent: loaded.parsed.absent.clone(),
            diags: loaded
                .parsed
                .diags
                .iter()
                .chain(&gr.diags)
                .cloned()
                .collect(),
            files: src.files.clone(),
            findings: findings.iter().map(StoredFinding::of).collect(),
        }
        .save(d);
    }
    let focus = loaded.project.focus.clone();
    let diags = (loaded.project.diags.iter())
        .chain(&loaded.parsed.diags)
        .chain(&gr.diags)
        .cloned()
        .collect();
    loaded.cache_write.wait();
    discard(gr);
    discard(loaded);
    Ok(Checked {
        findings,
        src,
        focus,
        diags,
    })
}

fn check(args: CheckArgs) -> i32 {
    for code in args.select.iter().chain(args.ignore.iter()) {
        if crate::rules::rule(code).is_none() {
            return error(format!("unknown rule `{code}` (see `threadlint rules`)"));
        }
    }
    let mut paths = args.paths.clone();
    if let Some(m) = &args.manifest_path {
        paths.push(m.clone());
    }
    let baseline = match &args.baseline {
        Some(path) => match crate::report::baseline::read(path) {
            Ok(b) => Some(b),
            Err(e) => return error(e),
        },
        None => None,
    };
    let result = findings_of(&paths, &args).map(|checked| {
        let Checked {
            mut findings,
            src,
            focus,
            diags,
        } = checked;
        findings.retain(|f| {
            (args.select.is_empty() || args.select.iter().any(|c| c.eq_ignore_ascii_case(f.code)))
                && !args.ignore.iter().any(|c| c.eq_ignore_ascii_case(f.code))
        });
        if !focus.is_empty() {
            findings.retain(|f| focus.iter().any(|p| src.files[f.file].starts_with(p)));
        }
        if let Some(path) = &args.write_baseline {
            if let Err(e) = crate::report::baseline::write(path, &findings, &src) {
                eprintln!("threadlint: error: {e}");
                return Err(EXIT_ERROR);
            }
            emit(format_args!(
                "Recorded {} findings in {}; `--baseline {}` reports only new ones.",
                findings.len(),
                path.display(),
                path.display()
            ))?;
            return Ok(false);
        }
        if let Some(b) = &baseline {
            let before = findings.len();
            crate::report::baseline::filter(b, &mut findings);
            if before > findings.len() && args.format == CheckFormat::Human {
                emit(format_args!(
                    "{} findings are in the baseline.",
                    before - findings.len()
                ))?;
            }
        }
        // Files that could not be parsed were not analyzed: every format says so, and the run
        // does not pass (as a warning-level problem would not).
        let all_diags = crate::diagnostic::sorted(&diags, &[]);
        let unparsed = crate::report::unparsed(&all_diags);
        let summary = crate::report::summary_with_unparsed(&findings, &src, unparsed.len());
        let out = match args.format {
            CheckFormat::Human => {
                let color = args.output.is_none() && crate::report::use_color(&args.color);
                let mut s = crate::report::human_miette(&findings, &src, color);
                s.push_str(&summary);
                s
            }
            CheckFormat::Concise => {
                let mut s = crate::report::concise(&findings, &src);
                s.push_str(&summary);
                s
            }
            CheckFormat::Json => crate::report::json(&findings, &src, &unparsed),
            CheckFormat::Sarif => {
                crate::report::sarif(&findings, &src, &crate::diagnostic::sorted(&diags, &[]))
            }
            CheckFormat::Github => crate::report::github(&findings, &src),
        };
        match &args.output {
            Some(path) => {
                let text = format!("{}\n", out.trim_end());
                if let Err(e) = crate::bounded::write_replacing(path, text.as_bytes()) {
                    eprintln!("threadlint: error: cannot write {}: {e}", path.display());
                    return Err(EXIT_ERROR);
                }
                emit(&summary)?;
                emit(format_args!("Report written to {}.", path.display()))?;
            }
            None => emit(out.trim_end())?,
        }
        if args.statistics {
            emit(crate::report::statistics(&findings).trim_end())?;
        }
        Ok(!unparsed.is_empty()
            || findings
                .iter()
                .any(|f| f.level >= crate::rules::Level::Warning))
    });
    match result {
        Ok(Ok(true)) if !args.exit_zero => EXIT_FINDINGS,
        Ok(Ok(_)) => EXIT_OK,
        Ok(Err(code)) | Err(code) => code,
    }
}

fn paths(args: PathsArgs) -> i32 {
    let result = analyze(
        &args.paths,
        args.include_tests,
        args.config.as_deref(),
        |a| {
            let chains = crate::report::paths::chains(a);
            if let Some(note) = crate::report::paths::omitted_note(&chains) {
                eprintln!("warning: {note}");
            }
            let src = crate::report::Sources::new(a);
            let out = match args.format {
                PathsFormat::Text => crate::report::paths::text(a, &chains, &src),
                PathsFormat::Json => crate::report::paths::json(a, &chains, &src),
                PathsFormat::Mermaid => crate::report::paths::mermaid(a, &chains, &src),
                PathsFormat::Dot => crate::report::paths::dot(a, &chains, &src),
            };
            emit_then(out.trim_end(), EXIT_OK)
        },
    );
    result.unwrap_or_else(|code| code)
}

fn rules_cmd(format: RulesFormat) -> i32 {
    match format {
        RulesFormat::Text => {
            let mut text = String::new();
            for r in crate::rules::RULES {
                let _ = std::fmt::Write::write_fmt(
                    &mut text,
                    format_args!(
                        "{}  {:<26} {:<8} {}\n",
                        r.code,
                        r.name,
                        r.level.as_str(),
                        r.summary
                    ),
                );
            }
            emit_then(text.trim_end(), EXIT_OK)
        }
        RulesFormat::Json => {
            let v: Vec<serde_json::Value> = crate::rules::RULES
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "code": r.code, "name": r.name, "level": r.level.as_str(), "summary": r.summary,
                    })
                })
                .collect();
            emit_then(
                serde_json::to_string_pretty(&v).unwrap_or_default(),
                EXIT_OK,
            )
        }
    }
}

fn explain(code: &str) -> i32 {
    match crate::rules::rule(code) {
        Some(r) => emit_then(r.doc.trim_end(), EXIT_OK),
        None => error(format!("unknown rule `{code}` (see `threadlint rules`)")),
    }
}

fn debug(d: DebugCommand) -> i32 {
    match d {
        DebugCommand::Callgraph {
            paths,
            format,
            include_tests,
            no_cache,
        } => {
            let opts = Options {
                include_tests,
                cache: if no_cache {
                    crate::CacheMode::Off
                } else {
                    crate::CacheMode::Workspace
                },
                ..Options::default()
            };
            // The graph `check` analyzes: the same resolution, with the project's configuration.
            let style = DiagStyle::Plain;
            let (loaded, cfg) = match open(&paths, opts, None, None, false, style) {
                Ok(session) => session.load(),
                Err(code) => return code,
            };
            print_diags(
                style,
                &loaded.project.root,
                &loaded.project.diags,
                &loaded.parsed.diags,
            );
            let mut t = loaded.timings;
            let gr = build_graph(&loaded, &cfg.config, &mut t);
            print_diags(style, &loaded.project.root, &[], &gr.diags);
            let (ix, g) = (&gr.ix, &gr.graph);
            let out = match format {
                GraphFormat::Text => graph::to_text(g, ix),
                GraphFormat::Json => graph::to_json(g, ix, &gr.res),
                GraphFormat::Dot => graph::to_dot(g, ix),
                GraphFormat::Stats => serde_json::json!({
                    "crates": loaded.parsed.crate_roots.iter().filter(|r| r.is_some()).count(),
                    "files": loaded.parsed.files.len(),
                    "lines": loaded.total_lines(),
                    "modules": ix.modules.len(),
                    "functions": ix.fns.len(),
                    "nodes": g.nodes.len(),
                    "edges": g.edges.len(),
                    "unresolved": g.unresolved.len(),
                    "external": g.external_count,
                    "diagnostics": loaded.diags().len(),
                    "timings": t,
                })
                .to_string(),
            };
            let status = emit_then(out.trim_end(), EXIT_OK);
            loaded.cache_write.wait();
            discard(gr);
            discard(loaded);
            status
        }
        DebugCommand::Floor { paths, analyzed } => {
            // A fresh process that only finds, reads and `syn`-parses the `.rs` files under PATHs
            // (skipping `target/` and ignored files): the time any analysis must at least spend.
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            let mut files = Vec::new();
            if analyzed {
                match load(&paths, &Options::default()) {
                    Ok(l) => files.extend(l.parsed.files.iter().map(|f| f.path.clone())),
                    Err(e) => return error(e),
                }
            }
            let t0 = std::time::Instant::now();
            for p in paths.iter().filter(|_| !analyzed) {
                let walker = ignore::WalkBuilder::new(p)
                    .filter_entry(|e| e.file_name() != "target")
                    .build();
                files.extend(
                    walker
                        .filter_map(Result::ok)
                        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
                        .map(|e| e.into_path())
                        .filter(|p| p.extension().is_some_and(|e| e == "rs")),
                );
            }
            let (parsed_ok, bytes) = crate::syntax::parse::read_and_parse_only(&files);
            let secs = t0.elapsed().as_secs_f64();
            let out = serde_json::json!({
                "files": files.len(),
                "parsed": parsed_ok,
                "bytes": bytes,
                "seconds": secs,
            });
            emit_then(out, EXIT_OK)
        }
    }
}

/// Peak resident memory of this process so far, in MiB (Linux; 0 elsewhere).
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kib| kib / 1024)
        .unwrap_or(0)
}
