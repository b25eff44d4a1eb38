//! Reading and parsing: every crate's module tree, files parsed in parallel with `syn` and
//! lowered to summaries at once (the syntax tree is dropped when its file is done).

use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;

use crate::cache::Stamp;
use crate::diagnostic::{Diag, Severity};
use crate::discover::{absolute, normalize, CrateKind, Project};
use crate::syntax::lower::{lower_file, macro_budget, LowerOptions, MacroCut};
use crate::syntax::pack::{FileCache, FileData, Miss};
use crate::syntax::summary::{CommentAllow, FileSummary, Loc, ModDecl, Name};
use threadlint_alloc::arena;

/// Stack size of parser threads: deeply nested code recurses deeply in `syn`.
pub const STACK_SIZE: usize = 256 << 20;

thread_local! {
    /// The stack size of this thread, when it is a worker of a [`worker_pool`] (else 0).
    static WORKER_STACK: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

/// A pool of worker threads with `stack`-sized stacks, or else with the first of the `smaller`
/// sizes that the address space allows; the size it got; the last build error when none fits.
pub fn worker_pool(
    stack: usize,
    smaller: &[usize],
) -> Result<(rayon::ThreadPool, usize), rayon::ThreadPoolBuildError> {
    let build = |size: usize| {
        rayon::ThreadPoolBuilder::new()
            .stack_size(size)
            .start_handler(move |_| WORKER_STACK.with(|s| s.set(size)))
            .build()
            .map(|pool| (pool, size))
    };
    smaller
        .iter()
        .fold(build(stack), |got, &size| got.or_else(|_| build(size)))
}

/// Run `f` on worker threads with stacks of at least `stack`: the current ones when they are (the
/// command line runs each command on such a pool), else a new pool, else, when none can be made,
/// the current threads.
fn with_workers<R: Send>(stack: usize, f: impl FnOnce() -> R + Send) -> R {
    if WORKER_STACK.with(|s| s.get()) >= stack {
        return f();
    }
    match worker_pool(stack, &[]) {
        Ok((pool, _)) => pool.install(f),
        Err(_) => f(),
    }
}

pub struct SourceFile {
    pub path: PathBuf,
    pub summary: Arc<FileSummary>,
}

pub struct ModuleNode {
    pub krate: usize,
    pub name: Name,
    pub parent: Option<usize>,
    /// `None`: the module's file is missing or could not be parsed (its items are unknown).
    pub file: Option<usize>,
    /// Index into the file's `summary.modules`.
    pub local: u32,
    pub children: Vec<(Name, usize)>,
}

pub struct Parsed {
    pub files: Vec<SourceFile>,
    pub modules: Vec<ModuleNode>,
    /// The root module of each crate (`None` for a crate whose root could not be read, or a
    /// loose file that turned out to be another file's module).
    pub crate_roots: Vec<Option<usize>>,
    pub diags: Vec<Diag>,
    /// Every file read (parsed or not), with what its content was.
    pub stamps: Vec<(PathBuf, Stamp)>,
    /// Files that could not be read, were refused or broke the analysis (no stamp).
    pub unread: Vec<PathBuf>,
    /// Module-file candidates that were looked for and did not exist.
    pub absent: Vec<PathBuf>,
}

struct FileResult {
    summary: Option<Arc<FileSummary>>,
    diags: Vec<Diag>,
    /// What the content was (`None` when it could not be read).
    stamp: Option<Stamp>,
}

impl FileResult {
    fn read(data: FileData, stamp: Stamp) -> FileResult {
        FileResult {
            summary: data.summary,
            diags: data.diags,
            stamp: Some(stamp),
        }
    }
}

const MAX_ERRORS_PER_FILE: usize = 10;

fn span_loc(span: proc_macro2::Span) -> Loc {
    let s = span.start();
    Loc::point(s.line as u32, s.column as u32 + 1)
}

/// Parse a whole file. With `skip_tests`, the file's top-level test items (`#[cfg(test)] mod`,
/// `#[test] fn`, which the lowering leaves out) are stepped over as tokens instead of being
/// parsed into a tree that would be thrown away.
fn parse_source(text: &str, skip_tests: bool) -> syn::Result<syn::File> {
    use syn::parse::Parser;
    if !skip_tests {
        return syn::parse_file(text);
    }
    let src = source_text(text);
    let parser = |input: syn::parse::ParseStream| -> syn::Result<syn::File> {
        let attrs = input.call(syn::Attribute::parse_inner)?;
        let mut items = Vec::new();
        while !input.is_empty() {
            if !skip_test_item(input) {
                items.push(input.parse()?);
            }
        }
        Ok(syn::File {
            shebang: None,
            attrs,
            items,
        })
    };
    parser.parse_str(&src)
}

/// The text to parse: without a byte-order mark, with a shebang line blanked (so that line and
/// column numbers stay those of the file).
fn source_text(text: &str) -> std::borrow::Cow<'_, str> {
    let src = text.strip_prefix('\u{feff}').unwrap_or(text);
    if src.starts_with("#!") && !src[2..].trim_start().starts_with('[') {
        let end = src.find('\n').unwrap_or(src.len());
        return format!("{}{}", " ".repeat(end), &src[end..]).into();
    }
    src.into()
}

/// If the next item is a test module or a test function that the lowering would leave out,
/// step over its tokens (up to its `{ … }` or `;`) and say so.
fn skip_test_item(input: syn::parse::ParseStream) -> bool {
    use syn::parse::discouraged::Speculative;
    if !input.peek(syn::Token![#]) {
        return false;
    }
    let fork = input.fork();
    let Ok(attrs) = fork.call(syn::Attribute::parse_outer) else {
        return false;
    };
    if fork.parse::<syn::Visibility>().is_err() {
        return false;
    }
    let test = if fork.peek(syn::Token![mod]) {
        crate::syntax::lower::is_cfg_test(&attrs)
    } else if fork.peek(syn::Token![fn])
        || (fork.peek(syn::Token![async]) && fork.peek2(syn::Token![fn]))
    {
        crate::syntax::lower::is_test_fn(&attrs)
    } else {
        false
    };
    if !test {
        return false;
    }
    input.advance_to(&fork);
    let skipped = input.step(|cursor| {
        let mut c = *cursor;
        loop {
            if let Some((_, _, next)) = c.group(proc_macro2::Delimiter::Brace) {
                return Ok(((), next));
            }
            if let Some((p, next)) = c.punct() {
                if p.as_char() == ';' {
                    return Ok(((), next));
                }
            }
            match c.token_tree() {
                Some((_, next)) => c = next,
                None => return Ok(((), c)),
            }
        }
    });
    skipped.is_ok()
}

/// Parse a file item by item, skipping the items that do not parse (up to the next `;` or
/// `{ … }` at the top level). Fails only when the file cannot even be split into tokens.
fn parse_recovering(text: &str, skip_tests: bool) -> syn::Result<(syn::File, Vec<syn::Error>)> {
    use syn::parse::discouraged::Speculative;
    use syn::parse::Parser;
    let src = source_text(text);
    let tokens: proc_macro2::TokenStream = src
        .as_ref()
        .parse()
        .map_err(|e: proc_macro2::LexError| {
            syn::Error::new(
                e.span(),
                "cannot split the file into tokens (an unclosed or mismatched delimiter, or an invalid literal)",
            )
        })?;
    let mut errors = Vec::new();
    let parser = |input: syn::parse::ParseStream| -> syn::Result<syn::File> {
        let attrs = input.call(syn::Attribute::parse_inner).unwrap_or_default();
        let mut items = Vec::new();
        while !input.is_empty() {
            if skip_tests && skip_test_item(input) {
                continue;
            }
            let fork = input.fork();
            match fork.parse::<syn::Item>() {
                Ok(item) => {
                    input.advance_to(&fork);
                    items.push(item);
                }
                Err(e) => {
                    errors.push(e);
                    while !input.is_empty() {
                        let tt: proc_macro2::TokenTree = input.parse()?;
                        match tt {
                            proc_macro2::TokenTree::Punct(p) if p.as_char() == ';' => break,
                            proc_macro2::TokenTree::Group(g)
                                if g.delimiter() == proc_macro2::Delimiter::Brace =>
                            {
                                break
                            }
                            _ => {}
                        }
                    }
                }
            }
        }
        Ok(syn::File {
            shebang: None,
            attrs,
            items,
        })
    };
    let file = parser.parse2(tokens)?;
    Ok((file, errors))
}

/// How files are read: lowering options, the cache, and the folders a symlink may lead into.
pub struct Reader<'c> {
    pub opts: LowerOptions,
    pub cache: Option<&'c FileCache>,
    /// The workspace root and the configuration's `exclude` patterns (none: `None`).
    pub exclude: Option<(PathBuf, Vec<glob::Pattern>)>,
    /// The folders of the workspace and its packages, as written (absolute) and canonical.
    pub inside: Vec<(PathBuf, PathBuf)>,
    /// `--follow-symlinks`: read them wherever they lead.
    pub follow_symlinks: bool,
    /// The real location of each folder files were read from (`None`: it cannot be resolved).
    pub real_dirs: Mutex<FxHashMap<PathBuf, Option<PathBuf>>>,
    /// Whether each module-file candidate looked for is a file: asked while files are parsed
    /// in parallel, and answered from here when the module tree is built.
    pub is_file: Mutex<FxHashMap<PathBuf, bool>>,
}

impl Reader<'_> {
    /// A file inside the workspace's folders (as written) whose real location, through a
    /// symlink, is outside all of them. A file the code names outside the workspace on purpose
    /// (`#[path = "../../shared/x.rs"]`, a path dependency) is not a symlink question.
    fn escapes(&self, path: &Path) -> Option<PathBuf> {
        if self.follow_symlinks {
            return None;
        }
        let abs = absolute(path);
        if !self.inside.iter().any(|(d, _)| abs.starts_with(d)) {
            return None;
        }
        // Only a symlink on the way leads out: the file itself, or a folder above it, whose real
        // location is found once per folder (resolving every file's path cost a `readlink` per
        // component).
        let is_link = fs::symlink_metadata(&abs).ok()?.file_type().is_symlink();
        let real = match (is_link, abs.parent(), abs.file_name()) {
            (false, Some(dir), Some(name)) => self.real_dir(dir)?.join(name),
            _ => fs::canonicalize(path).ok()?,
        };
        if self.inside.iter().any(|(_, d)| real.starts_with(d)) {
            return None;
        }
        Some(real)
    }

    /// The configuration excludes this file (`exclude = ["generated/**"]`).
    fn excluded(&self, path: &Path) -> bool {
        let Some((root, patterns)) = &self.exclude else {
            return false;
        };
        let abs = absolute(path);
        let Ok(rel) = abs.strip_prefix(root) else {
            return false;
        };
        let opts = glob::MatchOptions {
            case_sensitive: true,
            require_literal_separator: true,
            require_literal_leading_dot: false,
        };
        patterns.iter().any(|p| p.matches_path_with(rel, opts))
    }

    /// A file (as written) under none of the workspace's folders.
    fn outside(&self, path: &Path) -> bool {
        let abs = absolute(path);
        !self
            .inside
            .iter()
            .any(|(d, real)| abs.starts_with(d) || abs.starts_with(real))
    }

    fn is_file(&self, path: &Path) -> bool {
        remembered(&self.is_file, path, |p| p.is_file())
    }

    fn real_dir(&self, dir: &Path) -> Option<PathBuf> {
        remembered(&self.real_dirs, dir, |d| fs::canonicalize(d).ok())
    }
}

/// What `find` says of `path`, asked of the file system once per path and remembered in `seen`
/// (shared by the parsing threads; the lock is not held while the file system is asked).
fn remembered<V: Clone>(
    seen: &Mutex<FxHashMap<PathBuf, V>>,
    path: &Path,
    find: impl FnOnce(&Path) -> V,
) -> V {
    let lock = || seen.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(known) = lock().get(path) {
        return known.clone();
    }
    let found = find(path);
    lock().insert(path.to_path_buf(), found.clone());
    found
}

/// Read, parse and lower one file, or take it from the cache.
fn load_file(path: &Path, reader: &Reader) -> FileResult {
    let (opts, cache) = (reader.opts, reader.cache);
    let fail = |kind: &'static str, msg: String| FileResult {
        summary: None,
        diags: vec![Diag::new(Severity::Error, kind, path, None, msg)],
        stamp: None,
    };
    let io_error = |e: std::io::Error| fail("io", format!("cannot read file: {e}"));
    if let Some(real) = reader.escapes(path) {
        return fail(
            "symlink",
            format!(
                "a symlink leads out of the workspace (to {}); not followed (`--follow-symlinks` reads it)",
                real.display()
            ),
        );
    }
    // An excluded file is a module without items: not read, and not an error.
    if reader.excluded(path) {
        return FileResult {
            summary: Some(std::sync::Arc::new(FileSummary {
                modules: vec![Default::default()],
                ..Default::default()
            })),
            diags: Vec::new(),
            stamp: None,
        };
    }
    // A `#[path]` or `[lib] path` that leaves the workspace names a file that is not the
    // project's: a diagnostic, never a source whose text could be quoted.
    if !reader.follow_symlinks && reader.outside(path) {
        return fail(
            "outside",
            "outside the workspace; not read (`--follow-symlinks` reads files outside it)".into(),
        );
    }
    if crate::bounded::is_special(path) {
        return fail("io", crate::bounded::ReadError::Special.to_string());
    }
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) => return io_error(e),
    };
    // A FIFO or a device (`[lib] path = "/dev/zero"`) would block or never end.
    if !meta.is_file() {
        return fail("io", "not a regular file; skipped".into());
    }
    let cap = crate::bounded::Kind::Source.cap();
    if meta.len() > cap {
        return fail(
            "too-large",
            crate::bounded::ReadError::TooLarge { cap }.to_string(),
        );
    }
    let (bytes, stamp) = match cache.map(|c| c.get(path, &meta)) {
        Some(Ok((data, stamp))) => return FileResult::read(data, stamp),
        Some(Err(Miss::Io(e))) => return io_error(e),
        Some(Err(Miss::Parse(bytes, stamp))) => (bytes, stamp),
        None => match crate::bounded::read(path, crate::bounded::Kind::Source) {
            Ok(bytes) => {
                let stamp = Stamp::new(&meta, &bytes);
                (bytes, stamp)
            }
            Err(e) => return fail("io", format!("cannot read file: {e}")),
        },
    };
    let (summary, diags) = if CONTAIN_PANICS.load(Relaxed) {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            parse_bytes(path, bytes, opts)
        })) {
            Ok(r) => r,
            Err(payload) => {
                proc_macro2::extra::invalidate_current_thread_spans();
                return fail(
                    "internal",
                    format!(
                        "internal error while analyzing this file ({}); it is skipped, the rest is analyzed (a bug: please report it)",
                        panic_message(&*payload)
                    ),
                );
            }
        }
    } else {
        parse_bytes(path, bytes, opts)
    };
    let data = FileData {
        summary: summary.map(Arc::new),
        diags,
    };
    if let Some(c) = cache {
        c.put(path, stamp, &data);
    }
    FileResult::read(data, stamp)
}

/// Set by the command-line binary: a bug that panics while one file is analyzed costs that file
/// (reported as a diagnostic), not the run. Off for library callers and fuzzing, which want to
/// see the panic.
pub static CONTAIN_PANICS: AtomicBool = AtomicBool::new(false);

/// The message of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".into())
}

/// Parse and lower one file's bytes: its summary (unless it could not be parsed at all) and
/// its diagnostics.
fn parse_bytes(
    path: &Path,
    bytes: Vec<u8>,
    opts: LowerOptions,
) -> (Option<FileSummary>, Vec<Diag>) {
    // A hidden switch for the test that proves a panic costs one file only.
    if let Some(name) = std::env::var_os("THREADLINT_INJECT_PANIC") {
        if path.file_name() == Some(&name) {
            panic!("injected panic");
        }
    }
    let fail = |kind: &'static str, loc: Option<Loc>, msg: String| {
        (None, vec![Diag::new(Severity::Error, kind, path, loc, msg)])
    };
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let off = e.utf8_error().valid_up_to();
            let valid = std::str::from_utf8(&e.as_bytes()[..off]).unwrap_or("");
            return fail(
                "encoding",
                Some(crate::diagnostic::point_at(valid, off)),
                "file is not valid UTF-8; skipped".into(),
            );
        }
    };
    let lines = text.bytes().filter(|&b| b == b'\n').count() as u32 + 1;
    let skip_tests = !opts.include_tests;
    let cut = std::cell::Cell::new(None);
    let lower = |file: &syn::File| {
        let (mut summary, c) = lower_file(file, opts, lines, macro_budget(text.len()));
        cut.set(c);
        summary.allows = scan_allows(&text);
        summary
    };
    // The tree is built in this thread's arena and lowered outside it; each value built in the
    // arena is disposed of before the next one is built there (see `threadlint_alloc::arena`).
    let (first, left) = arena::within(|| parse_source(&text, skip_tests));
    let result = match first {
        Ok(file) => {
            let summary = lower(&file);
            left.dispose(file);
            (Some(summary), Vec::new())
        }
        Err(e) => {
            left.dispose(e);
            match arena::within(|| parse_recovering(&text, skip_tests)) {
                // Keep every item that parses; report the ones that do not.
                (Ok((file, errors)), left) => {
                    let summary = lower(&file);
                    let diags = errors
                        .iter()
                        .take(MAX_ERRORS_PER_FILE)
                        .map(|e| {
                            Diag::new(
                                Severity::Error,
                                "parse-error",
                                path,
                                Some(span_loc(e.span())),
                                format!("cannot parse this item: {e}; it is skipped, the rest of the file is analyzed"),
                            )
                        })
                        .collect();
                    left.dispose((file, errors));
                    (Some(summary), diags)
                }
                (Err(lex), left) => {
                    let failed = fail(
                        "parse-error",
                        Some(span_loc(lex.span())),
                        format!("{lex}; this file is skipped, the rest of the crate is analyzed"),
                    );
                    left.dispose(lex);
                    failed
                }
            }
        }
    };
    // Spans of this file are no longer needed: free proc-macro2's per-thread source map.
    proc_macro2::extra::invalidate_current_thread_spans();
    let mut result = result;
    if let Some(MacroCut { first, count }) = cut.get() {
        result.1.push(Diag::new(
            Severity::Warning,
            "limit",
            path,
            Some(first),
            format!(
                "this macro's input{more} is not read as code, so the calls in it are not seen: macros here are nested too deep (threadlint reads at most 4× the file's size of macro input)",
                more = match count {
                    1 => String::new(),
                    n => format!(" and that of {} later one{}", n - 1, if n == 2 { "" } else { "s" }),
                },
            ),
        ));
    }
    result
}

/// `// threadlint: allow(TP001, TP003) reason: <why>` comments (SPEC §5).
pub fn scan_allows(text: &str) -> Vec<CommentAllow> {
    let mut out = Vec::new();
    if !text.contains("threadlint:") {
        return out;
    }
    for (i, line) in text.lines().enumerate() {
        let Some(c) = line.find("//") else { continue };
        let comment = &line[c + 2..];
        let Some(t) = comment.find("threadlint:") else {
            continue;
        };
        let rest = comment[t + "threadlint:".len()..].trim_start();
        let Some(args) = rest.strip_prefix("allow(") else {
            continue;
        };
        let Some(close) = args.find(')') else {
            continue;
        };
        let codes = args[..close]
            .split(',')
            .map(|c| Name::new(c.trim()))
            .filter(|c| !c.is_empty())
            .collect();
        let after = args[close + 1..].trim_start();
        let reason = after
            .strip_prefix("reason:")
            .map(|r| r.trim())
            .filter(|r| !r.is_empty())
            .map(Name::new);
        out.push(CommentAllow {
            line: i as u32 + 1,
            col: line[..c].chars().count() as u32 + 1,
            codes,
            reason,
        });
    }
    out
}

/// The candidate files of an out-of-line `mod` declaration, and the folder its own children live in.
fn child_candidates(
    children_dir: &Path,
    file_dir: &Path,
    at_file_top: bool,
    d: &ModDecl,
) -> Vec<(PathBuf, PathBuf)> {
    let base = if at_file_top { file_dir } else { children_dir };
    let mut out: Vec<(PathBuf, PathBuf)> = d
        .path_attrs
        .iter()
        .map(|p| {
            let f = normalize(&base.join(&**p));
            let dir = f.parent().map(Path::to_path_buf).unwrap_or_default();
            (f, dir)
        })
        .collect();
    // A plain `#[path]` is the only place; `cfg_attr` paths leave the default as another variant.
    if !d.plain_path {
        let sub = children_dir.join(&*d.name);
        out.push((children_dir.join(format!("{}.rs", d.name)), sub.clone()));
        out.push((sub.join("mod.rs"), sub));
    }
    out
}

/// Out-of-line children of a parsed file: (decl, candidates).
fn file_children(
    reader: &Reader,
    summary: &FileSummary,
    file: &Path,
    children_dir: &Path,
) -> Vec<(PathBuf, PathBuf)> {
    let file_dir = file.parent().unwrap_or(Path::new(""));
    let mut out = Vec::new();
    // (module index, its children dir, at file top)
    let mut stack = vec![(0u32, children_dir.to_path_buf(), true)];
    while let Some((m, dir, top)) = stack.pop() {
        let Some(items) = summary.modules.get(m as usize) else {
            continue;
        };
        for d in &items.mods {
            match d.inline {
                Some(inner) => {
                    let sub = dir.join(d.path_attrs.first().map(|p| &**p).unwrap_or(&d.name));
                    stack.push((inner, sub, false));
                }
                None => {
                    if let Some(found) = child_candidates(&dir, file_dir, top, d)
                        .into_iter()
                        .find(|(p, _)| reader.is_file(p))
                    {
                        out.push(found);
                    }
                }
            }
        }
    }
    out
}

/// The folder where the children of a file's top module live.
fn own_children_dir(file: &Path, mod_rs: bool) -> PathBuf {
    let dir = file.parent().unwrap_or(Path::new("")).to_path_buf();
    if mod_rs {
        dir
    } else {
        dir.join(file.file_stem().unwrap_or_default())
    }
}

/// Parse every file reachable from the crate roots, in parallel.
fn load_all(roots: Vec<PathBuf>, reader: &Reader) -> HashMap<PathBuf, FileResult> {
    let results: Mutex<HashMap<PathBuf, FileResult>> = Mutex::new(HashMap::new());
    let seen: Mutex<HashSet<PathBuf>> = Mutex::new(HashSet::new());
    fn visit<'s>(
        scope: &rayon::Scope<'s>,
        path: PathBuf,
        children_dir: PathBuf,
        reader: &'s Reader<'s>,
        results: &'s Mutex<HashMap<PathBuf, FileResult>>,
        seen: &'s Mutex<HashSet<PathBuf>>,
    ) {
        if !seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.clone())
        {
            return;
        }
        scope.spawn(move |scope| {
            let r = load_file(&path, reader);
            if let Some(s) = &r.summary {
                for (child, dir) in file_children(reader, s, &path, &children_dir) {
                    visit(scope, child, dir, reader, results, seen);
                }
            }
            results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path, r);
        });
    }
    let run = |roots: Vec<PathBuf>| {
        rayon::scope(|scope| {
            for r in roots {
                let dir = own_children_dir(&r, true);
                visit(scope, r, dir, reader, &results, &seen);
            }
        })
    };
    with_workers(STACK_SIZE, || run(roots));
    results.into_inner().unwrap_or_else(|e| e.into_inner())
}

struct TreeBuilder<'c> {
    results: HashMap<PathBuf, FileResult>,
    reader: &'c Reader<'c>,
    stamps: Vec<(PathBuf, Stamp)>,
    unread: Vec<PathBuf>,
    absent: Vec<PathBuf>,
    files: Vec<SourceFile>,
    file_idx: HashMap<PathBuf, usize>,
    /// Files whose parse failed: reported once.
    failed: HashSet<PathBuf>,
    modules: Vec<ModuleNode>,
    diags: Vec<Diag>,
}

impl TreeBuilder<'_> {
    /// The file index for a path, parsing it now if the parallel phase did not.
    fn file(&mut self, path: &Path) -> Option<usize> {
        if let Some(&i) = self.file_idx.get(path) {
            return Some(i);
        }
        if self.failed.contains(path) {
            return None;
        }
        let r = match self.results.remove(path) {
            Some(r) => r,
            None => load_file(path, self.reader),
        };
        self.diags.extend(r.diags);
        match r.stamp {
            Some(stamp) => self.stamps.push((path.to_path_buf(), stamp)),
            None => self.unread.push(path.to_path_buf()),
        }
        match r.summary {
            Some(summary) => {
                let i = self.files.len();
                self.files.push(SourceFile {
                    path: path.to_path_buf(),
                    summary,
                });
                self.file_idx.insert(path.to_path_buf(), i);
                Some(i)
            }
            None => {
                self.failed.insert(path.to_path_buf());
                None
            }
        }
    }

    /// Build the module tree of one crate. With `dry_run`, only list the files it would use.
    fn crate_tree(
        &mut self,
        krate: usize,
        root: &Path,
        dry_run: bool,
    ) -> (Option<usize>, Vec<usize>) {
        let Some(root_file) = self.file(root) else {
            return (None, Vec::new());
        };
        let mut used_files = vec![root_file];
        let mut in_crate: HashSet<usize> = HashSet::from([root_file]);
        let first_module = self.modules.len();
        let root_mod = self.new_module(krate, "crate".into(), None, Some(root_file), 0, dry_run);
        // (module, file, local index, children dir, at file top)
        let mut stack = vec![(
            root_mod,
            root_file,
            0u32,
            own_children_dir(root, true),
            true,
        )];
        while let Some((m, f, local, dir, top)) = stack.pop() {
            let file_path = self.files[f].path.clone();
            let file_dir = file_path.parent().unwrap_or(Path::new("")).to_path_buf();
            let decls: Vec<ModDecl> = self.files[f]
                .summary
                .modules
                .get(local as usize)
                .map(|it| it.mods.clone())
                .unwrap_or_default();
            for d in decls {
                match d.inline {
                    Some(inner) => {
                        let child = self.new_module(
                            krate,
                            d.name.clone(),
                            Some(m),
                            Some(f),
                            inner,
                            dry_run,
                        );
                        self.link(m, &d.name, child, dry_run);
                        let sub = dir.join(d.path_attrs.first().map(|p| &**p).unwrap_or(&d.name));
                        stack.push((child, f, inner, sub, false));
                    }
                    None => {
                        let cands = child_candidates(&dir, &file_dir, top, &d);
                        let found = cands.iter().find(|(p, _)| self.reader.is_file(p)).cloned();
                        if !dry_run {
                            self.absent.extend(
                                cands
                                    .iter()
                                    .map(|(p, _)| p)
                                    .take_while(|p| Some(*p) != found.as_ref().map(|f| &f.0))
                                    .cloned(),
                            );
                        }
                        let Some((path, child_dir)) = found else {
                            let child =
                                self.new_module(krate, d.name.clone(), Some(m), None, 0, dry_run);
                            self.link(m, &d.name, child, dry_run);
                            if !dry_run {
                                let looked: Vec<String> =
                                    cands.iter().map(|(p, _)| p.display().to_string()).collect();
                                self.diags.push(Diag::new(
                                    Severity::Error,
                                    "missing-module",
                                    &file_path,
                                    Some(d.loc),
                                    format!(
                                        "file not found for module `{}` (looked for {})",
                                        d.name,
                                        looked.join(" and ")
                                    ),
                                ));
                            }
                            continue;
                        };
                        let Some(cf) = self.file(&path) else {
                            let child =
                                self.new_module(krate, d.name.clone(), Some(m), None, 0, dry_run);
                            self.link(m, &d.name, child, dry_run);
                            continue;
                        };
                        // `#[cfg(a)] mod x; #[cfg(b)] mod x;`: the first variant found is the module.
                        if self.modules[m].children.iter().any(|(n, _)| n == &d.name) {
                            continue;
                        }
                        if !in_crate.insert(cf) {
                            if !dry_run {
                                self.diags.push(Diag::new(
                                    Severity::Warning,
                                    "module-cycle",
                                    &file_path,
                                    Some(d.loc),
                                    format!(
                                        "module `{}` loads {}, which this crate already loaded; skipped",
                                        d.name,
                                        path.display()
                                    ),
                                ));
                            }
                            continue;
                        }
                        used_files.push(cf);
                        let child =
                            self.new_module(krate, d.name.clone(), Some(m), Some(cf), 0, dry_run);
                        self.link(m, &d.name, child, dry_run);
                        stack.push((child, cf, 0, child_dir, true));
                    }
                }
            }
        }
        if dry_run {
            self.modules.truncate(first_module);
        }
        (Some(root_mod), used_files)
    }

    fn new_module(
        &mut self,
        krate: usize,
        name: Name,
        parent: Option<usize>,
        file: Option<usize>,
        local: u32,
        _dry: bool,
    ) -> usize {
        self.modules.push(ModuleNode {
            krate,
            name,
            parent,
            file,
            local,
            children: Vec::new(),
        });
        self.modules.len() - 1
    }

    fn link(&mut self, parent: usize, name: &Name, child: usize, _dry: bool) {
        self.modules[parent].children.push((name.clone(), child));
    }
}

/// Parse all crates of a project into module trees.
pub fn parse_project(
    project: &Project,
    opts: LowerOptions,
    cache: Option<&FileCache>,
    follow_symlinks: bool,
    exclude: &[glob::Pattern],
) -> Parsed {
    let roots: Vec<PathBuf> = project.crates.iter().map(|c| c.root.clone()).collect();
    // The workspace's folders: its root and its packages' folders (a path dependency is the
    // project's own code). A crate root or `#[path]` outside them does not widen them (SPEC §11),
    // so `[lib] path = "/etc/x"` cannot make `/etc` "inside".
    let inside = std::iter::once(&project.root)
        .chain(project.packages.iter().map(|p| &p.dir))
        .filter_map(|d| Some((absolute(d), fs::canonicalize(d).ok()?)))
        .collect();
    let reader = Reader {
        opts,
        cache,
        exclude: (!exclude.is_empty()).then(|| (absolute(&project.root), exclude.to_vec())),
        inside,
        follow_symlinks,
        real_dirs: Mutex::default(),
        is_file: Mutex::default(),
    };
    let results = load_all(roots, &reader);
    let mut tb = TreeBuilder {
        results,
        reader: &reader,
        stamps: Vec::new(),
        unread: Vec::new(),
        absent: Vec::new(),
        files: Vec::new(),
        file_idx: HashMap::new(),
        failed: HashSet::new(),
        modules: Vec::new(),
        diags: Vec::new(),
    };
    // Loose files that are another loose file's module are not crate roots.
    let mut claimed: HashSet<usize> = HashSet::new();
    for (i, c) in project.crates.iter().enumerate() {
        if c.kind == CrateKind::Loose {
            let (_, used) = tb.crate_tree(i, &c.root, true);
            claimed.extend(used.into_iter().skip(1));
        }
    }
    let mut crate_roots = Vec::with_capacity(project.crates.len());
    for (i, c) in project.crates.iter().enumerate() {
        if c.kind == CrateKind::Loose
            && tb
                .file_idx
                .get(&c.root)
                .is_some_and(|f| claimed.contains(f))
        {
            crate_roots.push(None);
            continue;
        }
        let (root, _) = tb.crate_tree(i, &c.root, false);
        crate_roots.push(root);
    }
    Parsed {
        files: tb.files,
        modules: tb.modules,
        crate_roots,
        diags: tb.diags,
        stamps: tb.stamps,
        unread: tb.unread,
        absent: tb.absent,
    }
}

/// The floor for benchmarks: read and `syn`-parse these files in parallel, nothing else.
pub fn read_and_parse_only(files: &[PathBuf]) -> (usize, u64) {
    use rayon::prelude::*;
    let work = || {
        files
            .par_iter()
            .map(|p| {
                let text = fs::read_to_string(p).unwrap_or_default();
                let ok = syn::parse_file(&text).is_ok() as usize;
                proc_macro2::extra::invalidate_current_thread_spans();
                (ok, text.len() as u64)
            })
            .reduce(|| (0, 0), |a, b| (a.0 + b.0, a.1 + b.1))
    };
    with_workers(STACK_SIZE, work)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lowered(file: &syn::File) -> String {
        format!(
            "{:?}",
            lower_file(
                file,
                LowerOptions {
                    include_tests: false
                },
                1,
                usize::MAX
            )
            .0
        )
    }

    /// Stepping over test items must give exactly the summary of a full parse.
    #[test]
    fn skipping_test_items_changes_no_summary() {
        let mut files: Vec<PathBuf> =
            ignore::Walk::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures"))
                .filter_map(Result::ok)
                .map(|e| e.into_path())
                .filter(|p| p.extension().is_some_and(|e| e == "rs"))
                .collect();
        files.push(PathBuf::from(file!()));
        let mut with_tests = 0;
        for p in &files {
            let text = fs::read_to_string(p).unwrap();
            let (Ok(full), Ok(skipped)) = (syn::parse_file(&text), parse_source(&text, true))
            else {
                continue;
            };
            with_tests += usize::from(skipped.items.len() < full.items.len());
            assert_eq!(lowered(&full), lowered(&skipped), "{}", p.display());
        }
        assert!(
            files.len() > 100 && with_tests > 0,
            "{} files, {with_tests} with tests",
            files.len()
        );
    }

    #[test]
    fn test_items_are_stepped_over_and_the_rest_is_kept() {
        let text = "#!/usr/bin/env run-cargo-script\n\
            #[cfg(test)]\nmod tests { fn t() { this is not rust } }\n\
            #[cfg(test)]\npub(crate) mod file_tests;\n\
            #[tokio::test]\nasync fn smoke() { also not rust }\n\
            #[test] fn unit() {}\n\
            #[cfg(not(test))]\nmod real { fn a() {} }\n\
            #[cfg(test)]\nstatic FIXTURE: Point = Point { x: 1 };\n\
            #[inline]\nfn kept() {}\n";
        let file = parse_source(text, true).unwrap();
        let names: Vec<String> = file
            .items
            .iter()
            .map(|i| match i {
                syn::Item::Mod(m) => m.ident.to_string(),
                syn::Item::Fn(f) => f.sig.ident.to_string(),
                syn::Item::Static(s) => s.ident.to_string(),
                _ => "?".into(),
            })
            .collect();
        assert_eq!(names, ["real", "FIXTURE", "kept"]);
        let syn::Item::Fn(kept) = &file.items[2] else {
            unreachable!()
        };
        // Line numbers are the file's, shebang included.
        assert_eq!(kept.sig.ident.span().start().line, 14);
        // Without skipping, the broken test bodies are parse errors.
        assert!(parse_source(text, false).is_err());
        let (_, errors) = parse_recovering(text, true).unwrap();
        assert!(errors.is_empty(), "{errors:?}");
    }
}
