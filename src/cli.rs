//! The command line (SPEC §7). Both binaries call [`run`].

use std::io::Write;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::{build_graph, graph, load, Options};

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
    Check(CheckArgs),
    /// Inspect the analyzer's intermediate results.
    #[command(subcommand)]
    Debug(DebugCommand),
}

#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Workspace or package directories, Cargo.toml files, folders of .rs files, or .rs files.
    pub paths: Vec<PathBuf>,
    /// Also analyze test code (`#[cfg(test)]`, `#[test]`, tests/, benches/, examples/).
    #[arg(long)]
    pub include_tests: bool,
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
        /// Accepted for benchmark scripts; there is no cache yet.
        #[arg(long, hide = true)]
        no_cache: bool,
    },
    /// Benchmark floor: time reading and `syn`-parsing the files the analysis would read.
    Floor { paths: Vec<PathBuf> },
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
    match cli.command {
        Command::Check(a) => check(a),
        Command::Debug(d) => debug(d),
    }
}

fn error(msg: impl std::fmt::Display) -> i32 {
    eprintln!("threadlint: error: {msg}");
    EXIT_ERROR
}

fn print_diags(loaded: &crate::Loaded) {
    let root = &loaded.project.root;
    let mut err = std::io::stderr().lock();
    for d in loaded.diags() {
        let _ = writeln!(err, "{}", d.render(root));
    }
}

fn check(a: CheckArgs) -> i32 {
    let loaded = match load(
        &a.paths,
        Options {
            include_tests: a.include_tests,
        },
    ) {
        Ok(l) => l,
        Err(e) => return error(e),
    };
    print_diags(&loaded);
    if loaded.parsed.files.is_empty() {
        return error("no Rust files could be analyzed");
    }
    let mut t = loaded.timings;
    let gr = build_graph(&loaded, &crate::config::Config::default(), &mut t);
    let (ix, g) = (&gr.ix, &gr.graph);
    println!(
        "Analyzed {} crates, {} files, {} functions ({} call edges, {} unresolved calls). No problems found.",
        loaded.parsed.crate_roots.iter().filter(|r| r.is_some()).count(),
        loaded.parsed.files.len(),
        ix.fns.len(),
        g.edges.len(),
        g.unresolved.len()
    );
    std::mem::forget(gr);
    std::mem::forget(loaded);
    EXIT_OK
}

fn debug(d: DebugCommand) -> i32 {
    match d {
        DebugCommand::Callgraph {
            paths,
            format,
            include_tests,
            no_cache: _,
        } => {
            let loaded = match load(&paths, Options { include_tests }) {
                Ok(l) => l,
                Err(e) => return error(e),
            };
            print_diags(&loaded);
            let mut t = loaded.timings;
            let gr = build_graph(&loaded, &crate::config::Config::default(), &mut t);
    let (ix, g) = (&gr.ix, &gr.graph);
            let out = match format {
                GraphFormat::Text => graph::to_text(g, ix),
                GraphFormat::Json => graph::to_json(g, ix),
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
                    "external": g.external.len(),
                    "diagnostics": loaded.diags().len(),
                    "timings": t,
                })
                .to_string(),
            };
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{}", out.trim_end());
            // The process ends now: freeing a large workspace's summaries one by one is wasted time.
            std::mem::forget(gr);
            std::mem::forget(loaded);
            EXIT_OK
        }
        DebugCommand::Floor { paths } => {
            // A fresh process that only finds, reads and `syn`-parses the `.rs` files under PATHs
            // (skipping `target/` and ignored files): the time any analysis must at least spend.
            let t0 = std::time::Instant::now();
            let mut files = Vec::new();
            let paths = if paths.is_empty() {
                vec![PathBuf::from(".")]
            } else {
                paths
            };
            for p in &paths {
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
            let (parsed_ok, bytes) = crate::parse::read_and_parse_only(&files);
            let secs = t0.elapsed().as_secs_f64();
            println!(
                "{}",
                serde_json::json!({
                    "files": files.len(),
                    "parsed": parsed_ok,
                    "bytes": bytes,
                    "seconds": secs,
                })
            );
            EXIT_OK
        }
    }
}
