//! The cache: per-file summaries keyed by content hash, and the last run's whole result.
//!
//! It lives in `<workspace>/target/threadlint/` (or `--cache-dir`), marked with a `CACHEDIR.TAG`,
//! and holds two files, each written whole to a temporary file and renamed into place:
//!
//! - `files.bin`: for every source file of the last run, its stamp (length, modification time,
//!   content hash) and its lowered summary with its parse diagnostics. A file whose length and
//!   modification time match is not read again; one whose content hash matches is not parsed again.
//! - `run.bin`: the last `check`'s findings and file diagnostics, keyed by everything they depend on
//!   (the threadlint binary, options, configuration, workspace layout) plus the stamp of every file
//!   read and every module-file candidate that was missing. When all of those still hold, `check`
//!   reads only metadata (and the content of files whose metadata changed) and prints the result.
//!
//! Anything unreadable, corrupt or from another build is ignored and rewritten, never trusted:
//! every entry carries a salt that names the threadlint binary it was written by.

use std::fs;
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::diagnostic::Diag;
use crate::summary::FileSummary;

/// Bumped when the layout of cached data changes in a way the salt would not catch.
const FORMAT: u32 = 1;
const FILES: &str = "files.bin";
const RUN: &str = "run.bin";
const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by threadlint.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// What is known about a file's content without parsing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub len: u64,
    /// Nanoseconds since the epoch; 0 when the file was modified too recently to trust.
    pub mtime: u64,
    pub hash: u128,
}

/// Content hash of a file's bytes.
pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

/// `(len, mtime)` of a file from its metadata; `mtime` 0 when unknown.
pub fn meta_of(meta: &fs::Metadata) -> (u64, u64) {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    (meta.len(), mtime)
}

impl Stamp {
    /// A stamp from metadata read *before* the content. A modification within the last two
    /// seconds could be followed by another one with the same time and length: such a stamp
    /// records no time, so the next run compares content hashes instead.
    pub fn new(meta: &fs::Metadata, bytes: &[u8]) -> Stamp {
        let (len, mut mtime) = meta_of(meta);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        if now.saturating_sub(mtime) < 2_000_000_000 {
            mtime = 0;
        }
        Stamp {
            len,
            mtime,
            hash: content_hash(bytes),
        }
    }

    /// Does the file at `path` still have this content? Reads it only when metadata differs.
    pub fn still_holds(&self, path: &Path) -> bool {
        let Ok(meta) = fs::metadata(path) else {
            return false;
        };
        let (len, mtime) = meta_of(&meta);
        if len != self.len {
            return false;
        }
        if mtime != 0 && mtime == self.mtime {
            return true;
        }
        fs::read(path).is_ok_and(|b| content_hash(&b) == self.hash)
    }
}

/// One file's parse result, as cached.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileData {
    pub summary: Option<FileSummary>,
    pub diags: Vec<Diag>,
}

/// Identifies the binary that wrote a cache entry (its version and its own file), the cache
/// format and the options that change what is cached.
fn salt(parts: &[&str]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    h.write_u32(FORMAT);
    if let Some((len, mtime)) = std::env::current_exe()
        .and_then(fs::metadata)
        .ok()
        .map(|m| meta_of(&m))
    {
        h.write_u64(len);
        h.write_u64(mtime);
    }
    for p in parts {
        h.write(p.as_bytes());
        h.write_u8(0);
    }
    h.finish()
}

/// Hash of any value's `Debug` form: how configuration and workspace layout enter the run key.
pub fn debug_hash(v: &impl std::fmt::Debug) -> u128 {
    content_hash(format!("{v:?}").as_bytes())
}

/// Where the cache lives and whether it is used.
#[derive(Clone, Debug)]
pub struct CacheDir {
    pub dir: PathBuf,
}

impl CacheDir {
    /// `<root>/target/threadlint`, or `explicit`.
    pub fn new(root: &Path, explicit: Option<&Path>) -> CacheDir {
        CacheDir {
            dir: match explicit {
                Some(d) => d.to_path_buf(),
                None => root.join("target").join("threadlint"),
            },
        }
    }

    fn read(&self, name: &str) -> Option<Vec<u8>> {
        fs::read(self.dir.join(name)).ok()
    }

    /// Write `bytes` as `name`, atomically. Failures are silent: a cache that cannot be
    /// written is a slower next run, not an error.
    fn write(&self, name: &str, bytes: &[u8]) {
        let _ = self.try_write(name, bytes);
    }

    fn try_write(&self, name: &str, bytes: &[u8]) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        let tag = self.dir.join("CACHEDIR.TAG");
        if !tag.exists() {
            fs::write(&tag, TAG)?;
            // Never shows up in `git status`, even where `target/` is not ignored.
            fs::write(self.dir.join(".gitignore"), "# Created by threadlint.\n*\n")?;
        }
        let tmp = self.dir.join(format!(".{name}.{}.tmp", std::process::id()));
        let mut f = fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        drop(f);
        fs::rename(&tmp, self.dir.join(name)).inspect_err(|_| {
            let _ = fs::remove_file(&tmp);
        })
    }
}

#[derive(Serialize, Deserialize)]
struct PackEntry {
    path: PathBuf,
    stamp: Stamp,
    data: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Pack {
    salt: u64,
    entries: Vec<PackEntry>,
}

/// The per-file summary cache of one run: what the last run stored, and what this run used.
pub struct FileCache {
    at: CacheDir,
    salt: u64,
    old: FxHashMap<PathBuf, (Stamp, Vec<u8>)>,
    used: Mutex<Vec<PackEntry>>,
    /// Entries taken from `old` unchanged (same path and stamp).
    unchanged: AtomicUsize,
    /// Files served from the cache (same content), and files parsed.
    hits: AtomicUsize,
    misses: AtomicUsize,
}

/// How much of a run the cache served.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct CacheStats {
    pub hits: usize,
    pub misses: usize,
}

impl FileCache {
    /// Load the cache of summaries lowered with these options (`include_tests` …).
    pub fn open(at: CacheDir, options: &str) -> FileCache {
        let salt = salt(&["files", options]);
        let old = at
            .read(FILES)
            .and_then(|b| postcard::from_bytes::<Pack>(&b).ok())
            .filter(|p| p.salt == salt)
            .map(|p| {
                p.entries
                    .into_iter()
                    .map(|e| (e.path, (e.stamp, e.data)))
                    .collect()
            })
            .unwrap_or_default();
        FileCache {
            at,
            salt,
            old,
            used: Mutex::new(Vec::new()),
            unchanged: Default::default(),
            hits: Default::default(),
            misses: Default::default(),
        }
    }

    /// The cached result for `path` when its metadata, or else its content, still matches;
    /// otherwise `Err` with what is needed to parse it (its metadata and bytes, if readable).
    pub fn get(&self, path: &Path) -> Result<(FileData, Stamp), Miss> {
        let meta = fs::metadata(path).map_err(Miss::Io)?;
        let old = self.old.get(path);
        if let Some((stamp, data)) = old {
            let (len, mtime) = meta_of(&meta);
            if len == stamp.len && mtime != 0 && mtime == stamp.mtime {
                if let Ok(d) = postcard::from_bytes::<FileData>(data) {
                    self.reuse(path, *stamp, data);
                    return Ok((d, *stamp));
                }
            }
        }
        let bytes = fs::read(path).map_err(Miss::Io)?;
        let stamp = Stamp::new(&meta, &bytes);
        if let Some((old_stamp, data)) = old {
            if old_stamp.hash == stamp.hash && old_stamp.len == stamp.len {
                if let Ok(d) = postcard::from_bytes::<FileData>(data) {
                    self.reuse(path, stamp, data);
                    return Ok((d, stamp));
                }
            }
        }
        Err(Miss::Parse(bytes, stamp))
    }

    fn reuse(&self, path: &Path, stamp: Stamp, data: &[u8]) {
        self.hits.fetch_add(1, Relaxed);
        if self.old.get(path).is_some_and(|(s, _)| *s == stamp) {
            self.unchanged.fetch_add(1, Relaxed);
        }
        self.push(path, stamp, data.to_vec());
    }

    /// Record a freshly parsed file.
    pub fn put(&self, path: &Path, stamp: Stamp, data: &FileData) {
        self.misses.fetch_add(1, Relaxed);
        if let Ok(bytes) = postcard::to_stdvec(data) {
            self.push(path, stamp, bytes);
        }
    }

    fn push(&self, path: &Path, stamp: Stamp, data: Vec<u8>) {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(PackEntry {
                path: path.to_path_buf(),
                stamp,
                data,
            });
    }

    /// Write the entries this run used, unless they are exactly what was stored, on a thread
    /// of its own: the analysis goes on meanwhile.
    pub fn save(self) -> (CacheStats, Pending) {
        let stats = CacheStats {
            hits: self.hits.into_inner(),
            misses: self.misses.into_inner(),
        };
        let mut entries = self.used.into_inner().unwrap_or_else(|e| e.into_inner());
        let unchanged = self.unchanged.into_inner();
        if unchanged == entries.len() && unchanged == self.old.len() {
            return (stats, Pending::default());
        }
        let (at, salt) = (self.at, self.salt);
        let old = self.old;
        let write = move || {
            // The old entries are freed here too, off the analysis' path.
            drop(old);
            entries.sort_by(|a, b| a.path.cmp(&b.path));
            entries.dedup_by(|a, b| a.path == b.path);
            if let Ok(bytes) = postcard::to_stdvec(&Pack { salt, entries }) {
                at.write(FILES, &bytes);
            }
        };
        let handle = std::thread::Builder::new()
            .name("threadlint-cache".into())
            .spawn(write);
        (stats, Pending(Mutex::new(handle.ok())))
    }
}

/// A cache write going on in the background: waited for by [`Pending::wait`], or when dropped.
#[derive(Default)]
pub struct Pending(Mutex<Option<std::thread::JoinHandle<()>>>);

impl Pending {
    pub fn wait(&self) {
        let handle = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        self.wait();
    }
}

/// Why a file was not served from the cache.
pub enum Miss {
    /// Its metadata or content could not be read.
    Io(std::io::Error),
    /// It must be parsed: its bytes and stamp.
    Parse(Vec<u8>, Stamp),
}

/// What a finding is, as cached (rule code and name are looked up again when loaded).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredFinding {
    pub code: String,
    pub level: crate::rules::Level,
    pub message: String,
    pub file: usize,
    pub loc: crate::summary::Loc,
    pub help: String,
    pub path: Vec<crate::analysis::Step>,
}

/// The inputs and result of one `check`.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub salt: u64,
    pub key: u128,
    /// Every file read, with its stamp.
    pub stamps: Vec<(PathBuf, Stamp)>,
    /// Module-file candidates that did not exist.
    pub absent: Vec<PathBuf>,
    /// Diagnostics of the files (not of the manifests: those are computed anew).
    pub diags: Vec<Diag>,
    /// The analyzed files, in the order findings refer to them.
    pub files: Vec<PathBuf>,
    pub findings: Vec<StoredFinding>,
}

/// The key and salt a run record must match.
pub fn run_salt() -> u64 {
    salt(&["run"])
}

impl RunRecord {
    /// The stored record, if it has this key and every input it was computed from is unchanged.
    pub fn load_valid(at: &CacheDir, key: u128) -> Option<RunRecord> {
        use rayon::prelude::*;
        let bytes = at.read(RUN)?;
        let rec: RunRecord = postcard::from_bytes(&bytes).ok()?;
        if rec.salt != run_salt() || rec.key != key {
            return None;
        }
        let files_hold = rec.stamps.par_iter().all(|(p, s)| s.still_holds(p));
        let absent_hold = rec.absent.par_iter().all(|p| !p.is_file());
        (files_hold && absent_hold).then_some(rec)
    }

    pub fn save(&self, at: &CacheDir) {
        if let Ok(bytes) = postcard::to_stdvec(self) {
            at.write(RUN, &bytes);
        }
    }
}
