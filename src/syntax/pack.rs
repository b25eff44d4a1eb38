//! The summary pack (`files.bin`): for every source file of the last run, its path, its stamp
//! and its parse result (lowered summary and parse diagnostics), serialized with `postcard`.
//!
//! Entries are keyed by content: an entry is used only while its file's metadata, or else its
//! content hash, still matches. The pack carries a salt naming the binary, the cache folder and
//! the lowering options; a pack that is unreadable, corrupt or salted otherwise is ignored and
//! rewritten whole.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::cache::{postcard_to, CacheDir, Meta, Stamp};
use crate::diagnostic::Diag;
use crate::syntax::summary::FileSummary;

const FILES: &str = "files.bin";

/// One file's parse result, as cached. The summary is shared with the analysis so that it can
/// be serialized for the cache later, on the cache's own thread.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FileData {
    pub summary: Option<Arc<FileSummary>>,
    pub diags: Vec<Diag>,
}

#[derive(Serialize, Deserialize)]
struct PackEntry {
    path: PathBuf,
    stamp: Stamp,
    /// A serialized [`FileData`]: written and read as one byte string, not byte by byte.
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Pack {
    salt: u64,
    entries: Vec<PackEntry>,
}

/// An entry this run used: the bytes of a reused one, or a fresh result to serialize.
struct Used {
    path: PathBuf,
    stamp: Stamp,
    data: UsedData,
}

enum UsedData {
    Stored(Vec<u8>),
    Fresh(FileData),
}

impl Used {
    fn into_entry(self) -> postcard::Result<PackEntry> {
        let data = match self.data {
            UsedData::Stored(bytes) => bytes,
            UsedData::Fresh(d) => postcard::to_stdvec(&d)?,
        };
        Ok(PackEntry {
            path: self.path,
            stamp: self.stamp,
            data,
        })
    }
}

/// Serialize `entries` as a [`Pack`] with this salt into `w`.
fn write_pack(entries: Vec<Used>, salt: u64, w: &mut dyn Write) -> std::io::Result<()> {
    let entries = entries
        .into_iter()
        .map(Used::into_entry)
        .collect::<postcard::Result<_>>()
        .map_err(std::io::Error::other)?;
    postcard_to(w, &Pack { salt, entries })
}

/// The per-file summary cache of one run: what the last run stored, and what this run used.
pub struct FileCache {
    at: CacheDir,
    options: String,
    old: FxHashMap<PathBuf, (Stamp, Vec<u8>)>,
    used: Mutex<Vec<Used>>,
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
        let salt = at.read_salt(&["files", options]);
        let old = salt
            .and_then(|_| at.read(FILES))
            .and_then(|b| postcard::from_bytes::<Pack>(&b).ok())
            .filter(|p| Some(p.salt) == salt)
            .map(|p| {
                p.entries
                    .into_iter()
                    .map(|e| (e.path, (e.stamp, e.data)))
                    .collect()
            })
            .unwrap_or_default();
        FileCache {
            at,
            options: options.to_string(),
            old,
            used: Mutex::new(Vec::new()),
            unchanged: Default::default(),
            hits: Default::default(),
            misses: Default::default(),
        }
    }

    /// The cached result for `path` (whose metadata is `meta`) when its metadata, or else its
    /// content, still matches; otherwise `Err` with what is needed to parse it.
    pub fn get(&self, path: &Path, meta: &fs::Metadata) -> Result<(FileData, Stamp), Miss> {
        let old = self.old.get(path);
        if let Some((stamp, data)) = old {
            if stamp.meta_holds(&Meta::of(meta)) {
                if let Ok(d) = postcard::from_bytes::<FileData>(data) {
                    self.reuse(path, *stamp, data);
                    return Ok((d, *stamp));
                }
            }
        }
        let bytes =
            crate::bounded::read(path, crate::bounded::Kind::Source).map_err(|e| match e {
                crate::bounded::ReadError::Io(e) => Miss::Io(e),
                other => Miss::Io(std::io::Error::other(other.to_string())),
            })?;
        let stamp = Stamp::new(meta, &bytes);
        if let Some((old_stamp, data)) = old {
            if old_stamp.hash == stamp.hash && old_stamp.meta.len == stamp.meta.len {
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
        self.push(path, stamp, UsedData::Stored(data.to_vec()));
    }

    /// Record a freshly parsed file (serialized when the cache is saved).
    pub fn put(&self, path: &Path, stamp: Stamp, data: &FileData) {
        self.misses.fetch_add(1, Relaxed);
        self.push(path, stamp, UsedData::Fresh(data.clone()));
    }

    fn push(&self, path: &Path, stamp: Stamp, data: UsedData) {
        self.used
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Used {
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
        // By bytes: comparing paths component by component cost milliseconds here.
        entries.sort_unstable_by(|a, b| a.path.as_os_str().cmp(b.path.as_os_str()));
        entries.dedup_by(|a, b| a.path.as_os_str() == b.path.as_os_str());
        let (at, options, old) = (self.at, self.options, self.old);
        let write = move || {
            // The old entries are freed here too, off the analysis' path.
            drop(old);
            at.write(FILES, &["files", &options], |salt, w| {
                write_pack(entries, salt, w)
            });
        };
        let handle = std::thread::Builder::new()
            .name("threadlint-cache".into())
            .spawn(write)
            .ok();
        (stats, Pending(Mutex::new(handle)))
    }
}

/// A cache write going on in the background: waited for by [`Pending::wait`], or when dropped.
#[derive(Default)]
pub struct Pending(Mutex<Option<std::thread::JoinHandle<()>>>);

impl Pending {
    /// Wait until the write is over (written, or failed).
    pub fn wait(&self) {
        let pending = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(h) = pending {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::content_hash;

    /// A written pack reads back as a [`Pack`], fresh and reused entries alike, and so does
    /// one with no entries.
    #[test]
    fn a_written_pack_reads_back() {
        let text = "fn main() { let x = run(1); x.go(); }\nstruct S { a: u32 }\n";
        let file = syn::parse_file(text).unwrap();
        let lowered = crate::syntax::lower::lower_file(
            &file,
            crate::syntax::lower::LowerOptions {
                include_tests: false,
            },
            2,
            usize::MAX,
        )
        .0;
        let fresh = FileData {
            summary: Some(Arc::new(lowered)),
            diags: Vec::new(),
        };
        let stamp = Stamp {
            meta: Meta {
                len: text.len() as u64,
                mtime: 1,
                ctime: 2,
            },
            hash: content_hash(text.as_bytes()),
        };
        let stored = postcard::to_stdvec(&fresh).unwrap();
        let used = vec![
            Used {
                path: "a.rs".into(),
                stamp,
                data: UsedData::Fresh(fresh.clone()),
            },
            Used {
                path: "b/c.rs".into(),
                stamp,
                data: UsedData::Stored(vec![7; 300]),
            },
            Used {
                path: "d.rs".into(),
                stamp,
                data: UsedData::Fresh(FileData {
                    summary: None,
                    diags: Vec::new(),
                }),
            },
        ];
        let mut written = Vec::new();
        write_pack(used, 42, &mut written).unwrap();
        let pack: Pack = postcard::from_bytes(&written).unwrap();
        assert_eq!(pack.salt, 42);
        let paths: Vec<_> = pack.entries.iter().map(|e| e.path.clone()).collect();
        assert_eq!(
            paths,
            [Path::new("a.rs"), Path::new("b/c.rs"), Path::new("d.rs")]
        );
        assert!(pack.entries.iter().all(|e| e.stamp == stamp));
        assert_eq!(pack.entries[0].data, stored);
        assert_eq!(pack.entries[1].data, vec![7; 300]);
        let back: FileData = postcard::from_bytes(&pack.entries[0].data).unwrap();
        assert_eq!(format!("{back:?}"), format!("{fresh:?}"));
        let back: FileData = postcard::from_bytes(&pack.entries[2].data).unwrap();
        assert!(back.summary.is_none() && back.diags.is_empty());

        let mut written = Vec::new();
        write_pack(Vec::new(), 7, &mut written).unwrap();
        let pack: Pack = postcard::from_bytes(&written).unwrap();
        assert_eq!((pack.salt, pack.entries.len()), (7, 0));
    }

    /// A save whose [`Pending`] is dropped without [`Pending::wait`] still writes the pack, and
    /// the next run is served from it.
    #[test]
    fn a_dropped_pending_still_writes_the_pack() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("a.rs");
        fs::write(&src, "fn a() {}\n").unwrap();
        let at = CacheDir {
            dir: tmp.path().join("cache"),
        };
        let data = FileData {
            summary: None,
            diags: Vec::new(),
        };
        let cache = FileCache::open(at.clone(), "");
        let Err(Miss::Parse(_, stamp)) = cache.get(&src, &fs::metadata(&src).unwrap()) else {
            panic!("an empty cache served a file");
        };
        cache.put(&src, stamp, &data);
        let (stats, pending) = cache.save();
        assert_eq!((stats.hits, stats.misses), (0, 1));
        drop(pending);
        let cache = FileCache::open(at, "");
        let Ok((_, again)) = cache.get(&src, &fs::metadata(&src).unwrap()) else {
            panic!("the pack was not written");
        };
        assert_eq!(again, stamp);
    }
}
