//! threadlint: proves that each conversation's thread context survives every handoff from the
//! WebSocket that received a message to the tools an agent runs.
//!
//! The stages, in the order the data flows (each folder's module doc says what it takes, what it
//! gives and the invariant it keeps; `ARCHITECTURE.md` has the map):
//! [`config`] → [`discover`] → [`syntax`] (with the [`cache`] folder) → [`index`] → [`resolve`] →
//! [`analysis`] → [`rules`] → [`suppress`] → [`report`]; the [`driver`] runs them, the [`cli`]
//! parses arguments and prints.

#![forbid(unsafe_code)]

pub(crate) mod analysis;
pub(crate) mod bounded;
pub(crate) mod cache;
pub mod cli;
pub mod config;
pub mod diagnostic;
pub(crate) mod discover;
pub(crate) mod driver;
#[doc(hidden)]
pub mod fuzzing;
pub(crate) mod index;
pub(crate) mod report;
pub(crate) mod resolve;
pub(crate) mod rules;
pub(crate) mod suppress;
pub mod syntax;

use std::path::PathBuf;

/// The unit tests run with the parse arena installed, as the binary does.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: threadlint_alloc::arena::ArenaAlloc<std::alloc::System> =
    threadlint_alloc::arena::ArenaAlloc(std::alloc::System);

pub use analysis::graph::CallGraph;
pub use diagnostic::{Diag, Severity};
pub use discover::{DiscoverError, DiscoverOptions, Project};
pub use driver::{build_graph, load, CacheMode, Loaded, Options, Timings};
pub use index::Index;
pub use resolve::Resolution;
pub use rules::{Finding, Level};
pub use syntax::parse::Parsed;

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
    let session =
        driver::Session::open(paths, opts, None, None, false).map_err(|e| e.to_string())?;
    let (loaded, cfg) = session.load();
    let mut t = Timings::default();
    let gr = build_graph(&loaded, &cfg.config, &mut t);
    let a = analysis::Analysis::new(&gr, &cfg.config);
    let findings = driver::findings(&a);
    let files = loaded
        .parsed
        .files
        .iter()
        .map(|f| diagnostic::display_path(&f.path, &loaded.project.root))
        .collect();
    Ok(Report { findings, files })
}
