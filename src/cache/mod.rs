//! The cache folder: where the summary pack ([`crate::syntax::pack`]) and the run record
//! ([`crate::driver::run_record`]) are kept. This module knows nothing of what they store.
//!
//! It lives in `<workspace>/target/threadlint/` (or `--cache-dir`), marked with a `CACHEDIR.TAG`,
//! and holds two files, each written whole to a temporary file and renamed into place:
//!
//! - `files.bin`: for every source file of the last run, its stamp (length, modification and
//!   status-change times, content hash) and its lowered summary with its parse diagnostics. A file
//!   whose length and times match is not read again; one whose content hash matches is not parsed
//!   again.
//! - `run.bin`: the last `check`'s findings and file diagnostics, keyed by everything they depend on
//!   (the threadlint binary, options, configuration, workspace layout) plus the stamp of every file
//!   read and every module-file candidate that was missing. When all of those still hold, `check`
//!   reads only metadata (and the content of files whose metadata changed) and prints the result.
//!
//! Anything unreadable, corrupt, from another build or from a cache folder threadlint did not
//! create here is ignored and rewritten, never trusted: every entry carries a salt that names the
//! threadlint binary and the cache folder it was written by.

use std::fs;
use std::hash::Hasher;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// Bumped when the layout of cached data changes in a way the salt would not catch.
const FORMAT: u32 = 3;
const TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by threadlint.\n\
# For information about cache directory tags see https://bford.info/cachedir/\n";

/// What metadata says about a file: its length, and its modification and status-change times
/// (nanoseconds since the epoch; a `chmod`, a rename or a new link changes the latter).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meta {
    pub len: u64,
    pub mtime: u64,
    pub ctime: u64,
}

impl Meta {
    pub fn of(meta: &fs::Metadata) -> Meta {
        let nanos = |t: std::io::Result<SystemTime>| {
            t.ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(0)
        };
        #[cfg(unix)]
        let ctime = {
            use std::os::unix::fs::MetadataExt;
            (meta.ctime() as u64)
                .wrapping_mul(1_000_000_000)
                .wrapping_add(meta.ctime_nsec() as u64)
        };
        #[cfg(not(unix))]
        let ctime = nanos(meta.created());
        Meta {
            len: meta.len(),
            mtime: nanos(meta.modified()),
            ctime,
        }
    }
}

/// What is known about a file's content without parsing it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    /// Times are 0 when the file changed too recently to trust them.
    pub meta: Meta,
    pub hash: u128,
}

/// Content hash of a file's bytes.
pub fn content_hash(bytes: &[u8]) -> u128 {
    xxhash_rust::xxh3::xxh3_128(bytes)
}

impl Stamp {
    /// A stamp from metadata read *before* the content. A change within the last two seconds
    /// could be followed by another one with the same times and length: such a stamp records no
    /// times, so the next run compares content hashes instead.
    pub fn new(meta: &fs::Metadata, bytes: &[u8]) -> Stamp {
        let mut m = Meta::of(meta);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        if now.saturating_sub(m.mtime.max(m.ctime)) < 2_000_000_000 {
            m.mtime = 0;
            m.ctime = 0;
        }
        Stamp {
            meta: m,
            hash: content_hash(bytes),
        }
    }

    /// Metadata alone says the file is unchanged.
    pub fn meta_holds(&self, m: &Meta) -> bool {
        self.meta.mtime != 0 && self.meta == *m
    }

    /// Is the file at `path` still a readable regular file with this content? Reads it only
    /// when its metadata changed.
    pub fn still_holds(&self, path: &Path) -> bool {
        let Ok(meta) = fs::metadata(path) else {
            return false;
        };
        let m = Meta::of(&meta);
        if !meta.is_file() || m.len != self.meta.len {
            return false;
        }
        self.meta_holds(&m)
            || crate::bounded::read(path, crate::bounded::Kind::Source)
                .is_ok_and(|b| content_hash(&b) == self.hash)
    }
}

/// Identifies the binary that wrote a cache entry (its version and its own file), the cache
/// format, the cache folder itself (see [`CacheDir::identity`]) and the options that change
/// what is cached.
fn salt(identity: u64, parts: &[&str]) -> u64 {
    let mut h = rustc_hash::FxHasher::default();
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    h.write_u32(FORMAT);
    h.write_u64(identity);
    if let Some(m) = std::env::current_exe()
        .and_then(fs::metadata)
        .ok()
        .map(|m| Meta::of(&m))
    {
        h.write_u64(m.len);
        h.write_u64(m.mtime);
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
    /// `<root>/target/threadlint`, or `explicit` (or its `threadlint` subfolder, when `explicit`
    /// is a folder with other content: threadlint never writes its tag files into someone
    /// else's folder). `None` when the default location goes through a symlink (a checkout
    /// could point it anywhere).
    pub fn new(root: &Path, explicit: Option<&Path>) -> Option<CacheDir> {
        let dir = match explicit {
            Some(d) => {
                let ours =
                    crate::bounded::read_text(&d.join("CACHEDIR.TAG"), crate::bounded::Kind::Cache)
                        .is_ok_and(|t| t.contains("created by threadlint"));
                let empty = fs::read_dir(d).map_or(true, |mut e| e.next().is_none());
                if ours || empty {
                    d.to_path_buf()
                } else {
                    d.join("threadlint")
                }
            }
            None => {
                let target = root.join("target");
                let dir = target.join("threadlint");
                let linked =
                    |p: &Path| fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_symlink());
                if linked(&target) || linked(&dir) {
                    return None;
                }
                dir
            }
        };
        Some(CacheDir { dir })
    }

    /// A fingerprint of the tag file threadlint created in this folder (its inode and
    /// status-change time). A cache folder that arrived any other way (committed to a
    /// repository, unpacked, copied) has a different one, so its contents are never trusted.
    /// `None` when there is no tag.
    fn identity(&self) -> Option<u64> {
        let m = fs::symlink_metadata(self.dir.join("CACHEDIR.TAG")).ok()?;
        if !m.file_type().is_file() {
            return None;
        }
        let mut h = rustc_hash::FxHasher::default();
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            h.write_u64(m.dev());
            h.write_u64(m.ino());
        }
        let meta = Meta::of(&m);
        h.write_u64(meta.ctime);
        h.write_u64(meta.mtime);
        Some(h.finish() | 1)
    }

    /// The payload of `name`, when it is a regular file (never a symlink) of plausible size
    /// whose checksum holds; anything else is a miss (and is rewritten by the next write).
    pub(crate) fn read(&self, name: &str) -> Option<Vec<u8>> {
        let mut bytes =
            crate::bounded::read(&self.dir.join(name), crate::bounded::Kind::Cache).ok()?;
        let at = bytes.len().checked_sub(CHECKSUM_LEN)?;
        let stored = u64::from_le_bytes(bytes[at..].try_into().ok()?);
        bytes.truncate(at);
        (checksum(&bytes) == stored).then_some(bytes)
    }

    /// Write `name` atomically with what `fill` writes, given the salt for this folder.
    /// Failures are silent: a cache that cannot be written is a slower next run, not an error.
    pub(crate) fn write(
        &self,
        name: &str,
        parts: &[&str],
        fill: impl FnOnce(u64, &mut dyn Write) -> std::io::Result<()>,
    ) {
        let _ = self.try_write(name, parts, fill);
    }

    fn try_write(
        &self,
        name: &str,
        parts: &[&str],
        fill: impl FnOnce(u64, &mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        fs::create_dir_all(&self.dir)?;
        // The summary pack (on the cache's thread) and the run record (on the main thread) are
        // written concurrently: only one of them may create the tag, or the other's salt would
        // name a tag that was replaced.
        static TAGGING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let tagging = TAGGING.lock().unwrap_or_else(|e| e.into_inner());
        let identity = match self.identity() {
            Some(id) => id,
            None => {
                self.put(".gitignore", |w| {
                    w.write_all(b"# Created by threadlint.\n*\n")
                })?;
                self.put("CACHEDIR.TAG", |w| w.write_all(TAG.as_bytes()))?;
                self.identity().ok_or(std::io::ErrorKind::NotFound)?
            }
        };
        drop(tagging);
        let salt = salt(identity, parts);
        self.put(name, |w| {
            // Buffered in front of the hasher, so it hashes large blocks, not each small write.
            let mut hashing = std::io::BufWriter::with_capacity(
                1 << 16,
                Checksummed {
                    inner: w,
                    hasher: xxhash_rust::xxh3::Xxh3::new(),
                },
            );
            fill(salt, &mut hashing)?;
            let inner = hashing.into_inner().map_err(|e| e.into_error())?;
            let sum = inner.hasher.digest();
            inner.inner.write_all(&sum.to_le_bytes())
        })
    }

    /// Create a new temporary file (never following a symlink), let `fill` write it, and rename
    /// it over `name` (which replaces a symlink there instead of writing through it). When `fill`
    /// fails, the temporary file is removed and `name` is left as it was.
    fn put(
        &self,
        name: &str,
        fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        static SEQ: AtomicUsize = AtomicUsize::new(0);
        let tmp = self.dir.join(format!(
            ".{name}.{}.{}.tmp",
            std::process::id(),
            SEQ.fetch_add(1, Relaxed)
        ));
        let f = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)?;
        let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
        let written = fill(&mut w).and_then(|_| w.flush());
        drop(w);
        written
            .and_then(|_| fs::rename(&tmp, self.dir.join(name)))
            .inspect_err(|_| {
                let _ = fs::remove_file(&tmp);
            })
    }

    /// The salt stored data must carry to be read back from this folder.
    pub(crate) fn read_salt(&self, parts: &[&str]) -> Option<u64> {
        self.identity().map(|id| salt(id, parts))
    }
}

/// Every cache file ends with an xxh3-64 checksum of what precedes it (little-endian).
const CHECKSUM_LEN: usize = 8;

fn checksum(bytes: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(bytes)
}

/// A writer that hashes what passes through it.
struct Checksummed<'w> {
    inner: &'w mut dyn Write,
    hasher: xxhash_rust::xxh3::Xxh3,
}

impl Write for Checksummed<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Serialize `value` straight into `w`.
pub(crate) fn postcard_to(w: &mut dyn Write, value: &impl Serialize) -> std::io::Result<()> {
    postcard::to_io(value, w)
        .map(drop)
        .map_err(std::io::Error::other)
}
