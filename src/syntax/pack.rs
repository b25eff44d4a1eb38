//! The summary pack: every source file's stamp and lowered summary from the last run.

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

#[derive(Serialize, Deserialize)]
struct Pack {
    salt: u64,
    entries: Vec<PackEntry>,
}

/// The pack being written: the bytes of a serialized [`Pack`], its entries serialized in
/// chunks. The cache's thread serializes chunks while the analysis runs, at a low [`Priority`],
/// and writes each one as soon as it and those before it are done; the thread that waits for
/// the pack ([`Pending::wait`]) raises that priority back and serializes chunks too. No chunk is
/// claimed more than [`PackJob::AHEAD`] chunks past the last one written, so the pack is
/// streamed, not held whole. A fresh summary is serialized into one reused buffer, an entry's
/// bytes straight into its chunk.
struct PackJob {
    entries: Vec<Used>,
    /// Entries per chunk.
    per_chunk: usize,
    slots: Mutex<Slots>,
    /// Signalled when a chunk is stored or written, and when the job is called off.
    changed: std::sync::Condvar,
    priority: Priority,
}

struct Slots {
    /// The next chunk to claim (set to the number of chunks to call the job off).
    next: usize,
    /// Chunks written to the file so far.
    written: usize,
    /// Chunks serialized and not yet written.
    ready: Vec<Option<postcard::Result<Vec<u8>>>>,
    /// Buffers of chunks already written, to serialize the next ones into (a chunk's buffer
    /// grown from empty was copied about twice over).
    spare: Vec<Vec<u8>>,
}

impl Slots {
    /// Every chunk is claimed (or the job was called off).
    fn all_claimed(&self) -> bool {
        self.next >= self.ready.len()
    }

    /// The next chunk, unless it would be too far ahead of the file.
    fn claim(&mut self) -> Option<usize> {
        (!self.all_claimed() && self.next < self.written + PackJob::AHEAD).then(|| {
            self.next += 1;
            self.next - 1
        })
    }
}

impl PackJob {
    /// About this many chunks: small enough to share out, large enough to cost nothing.
    const CHUNKS: usize = 64;
    /// How far past the last chunk written a chunk may be claimed.
    const AHEAD: usize = 4;

    fn new(entries: Vec<Used>) -> PackJob {
        let per_chunk = entries.len().div_ceil(Self::CHUNKS).max(1);
        let chunks = entries.len().div_ceil(per_chunk);
        PackJob {
            entries,
            per_chunk,
            slots: Mutex::new(Slots {
                next: 0,
                written: 0,
                ready: (0..chunks).map(|_| None).collect(),
                spare: Vec::new(),
            }),
            changed: std::sync::Condvar::new(),
            priority: Priority::default(),
        }
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, Slots> {
        self.slots.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Claim the next chunk, waiting while it would be too far ahead of the file; `None` when
    /// every chunk is claimed or the job was called off.
    fn claim(&self) -> Option<usize> {
        let mut s = self.slots();
        while !s.all_claimed() {
            if let Some(i) = s.claim() {
                return Some(i);
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        None
    }

    /// Serialize chunk `i` and store it for the writer. A panic while serializing stores an
    /// error (the writer must not wait for the chunk forever).
    fn serialize(&self, i: usize, buf: &mut Vec<u8>) {
        let from = i * self.per_chunk;
        let to = (from + self.per_chunk).min(self.entries.len());
        let out = self.slots().spare.pop().unwrap_or_default();
        let serialize = || {
            self.entries[from..to].iter().try_fold(out, |out, u| {
                #[derive(Serialize)]
                struct Entry<'a> {
                    path: &'a Path,
                    stamp: Stamp,
                    data: &'a serde_bytes::Bytes,
                }
                let data = match &u.data {
                    UsedData::Stored(bytes) => &bytes[..],
                    UsedData::Fresh(d) => {
                        buf.clear();
                        *buf = postcard::to_extend(d, std::mem::take(buf))?;
                        &buf[..]
                    }
                };
                let entry = Entry {
                    path: &u.path,
                    stamp: u.stamp,
                    data: serde_bytes::Bytes::new(data),
                };
                postcard::to_extend(&entry, out)
            })
        };
        let bytes = std::panic::catch_unwind(std::panic::AssertUnwindSafe(serialize))
            .unwrap_or(Err(postcard::Error::SerializeBufferFull));
        self.slots().ready[i] = Some(bytes);
        self.changed.notify_all();
    }

    /// Serialize chunks until all are claimed (the waiting thread's share of the work).
    fn help(&self) {
        let mut buf = Vec::new();
        while let Some(i) = self.claim() {
            self.serialize(i, &mut buf);
        }
    }

    /// Call the job off: nothing more is claimed.
    fn stop(&self) {
        let mut s = self.slots();
        s.next = s.ready.len();
        drop(s);
        self.changed.notify_all();
    }

    /// Write the pack, serializing chunks while any are left to claim and taking each one, in
    /// order, as soon as it is ready.
    fn write_to(&self, salt: u64, w: &mut dyn Write) -> std::io::Result<()> {
        // `Pack`'s layout: the salt, then the entries as a sequence.
        postcard_to(w, &salt)?;
        postcard_to(w, &self.entries.len())?;
        let mut buf = Vec::new();
        let chunks = self.slots().ready.len();
        for i in 0..chunks {
            let chunk = loop {
                let mut s = self.slots();
                if let Some(chunk) = s.ready[i].take() {
                    break chunk;
                }
                if s.next == i {
                    // Not claimed yet (and never too far ahead: `i` is the next to write).
                    let claimed = s.claim();
                    debug_assert_eq!(claimed, Some(i));
                    drop(s);
                    self.serialize(i, &mut buf);
                } else {
                    // Being serialized by another thread.
                    drop(self.changed.wait(s));
                }
            };
            let mut chunk = chunk.map_err(std::io::Error::other)?;
            w.write_all(&chunk)?;
            chunk.clear();
            // Written: its buffer is spare, and one more chunk may be claimed, which this thread
            // serializes ahead while the waiting thread is not helping yet.
            let ahead = {
                let mut s = self.slots();
                s.written = i + 1;
                s.spare.push(chunk);
                s.claim()
            };
            self.changed.notify_all();
            if let Some(next) = ahead {
                self.serialize(next, &mut buf);
            }
        }
        Ok(())
    }
}

/// How the cache's thread is scheduled. While the analysis runs it is `SCHED_IDLE`: it gets the
/// cores the analysis leaves idle (and a tiny share of the others) instead of an equal share.
/// When the run waits for it, it is raised back. It is lowered only when it runs under the
/// normal policy and a thread can raise itself back from `SCHED_IDLE` (root, or an
/// `RLIMIT_NICE` that allows it: tried once, on a thread of its own), so that a busy machine
/// never starves a run that waits for it.
#[derive(Default)]
struct Priority {
    #[cfg(target_os = "linux")]
    state: std::sync::atomic::AtomicU8,
}

#[cfg(target_os = "linux")]
impl Priority {
    const NORMAL: u8 = 0;
    const LOWERED: u8 = 1;
    /// The run waits: the thread stays (or is put back) at normal priority.
    const RAISED: u8 = 2;
    /// The thread's work is done (it may have exited).
    const DONE: u8 = 3;

    fn set(thread: libc::pthread_t, policy: libc::c_int) -> bool {
        let param = libc::sched_param { sched_priority: 0 };
        // SAFETY: `thread` is the current thread, or one whose join handle is held and not yet
        // joined: its ID stays valid even if it has exited (POSIX). `param` is a valid block.
        unsafe { libc::pthread_setschedparam(thread, policy, &param) == 0 }
    }

    fn current() -> libc::pthread_t {
        // SAFETY: no preconditions.
        unsafe { libc::pthread_self() }
    }

    /// Tried on a thread of its own, not joined: a probe that cannot raise itself back stays at
    /// `SCHED_IDLE`, and on a busy machine it may not get to report (or exit) for a long while.
    /// No answer within a few milliseconds counts as no.
    fn can_raise() -> bool {
        static CAN: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *CAN.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            let probe = std::thread::Builder::new()
                .name("threadlint-probe".into())
                .spawn(move || {
                    let me = Priority::current();
                    let ok =
                        Priority::set(me, libc::SCHED_IDLE) && Priority::set(me, libc::SCHED_OTHER);
                    let _ = tx.send(ok);
                });
            probe.is_ok()
                && rx
                    .recv_timeout(std::time::Duration::from_millis(20))
                    .unwrap_or(false)
        })
    }

    /// On the cache's thread: lower it, unless the run already waits.
    fn lower_current(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        // SAFETY: no preconditions.
        let normal = unsafe { libc::sched_getscheduler(0) } == libc::SCHED_OTHER;
        if !normal || !Priority::can_raise() {
            return;
        }
        let mine = self
            .state
            .compare_exchange(Self::NORMAL, Self::LOWERED, SeqCst, SeqCst);
        if mine.is_ok() && Priority::set(Priority::current(), libc::SCHED_IDLE) {
            // Raised while lowering: the raise may have come first.
            if self.state.load(SeqCst) != Self::LOWERED {
                Priority::set(Priority::current(), libc::SCHED_OTHER);
            }
        }
    }

    /// On the cache's thread, when the pack is written: back to normal priority for what is
    /// left (the flush, the rename, the exit), which a waiting run may be waiting on.
    fn done(&self) {
        self.leave_lowered(Self::DONE, Priority::current());
    }

    /// On the waiting thread: raise the cache's thread back.
    fn raise<T>(&self, h: &std::thread::JoinHandle<T>) {
        use std::os::unix::thread::JoinHandleExt;
        self.leave_lowered(Self::RAISED, h.as_pthread_t());
    }

    /// Move to `state` (`DONE` or `RAISED`); if the thread was lowered, put it back to normal.
    fn leave_lowered(&self, state: u8, thread: libc::pthread_t) {
        let was = self.state.swap(state, std::sync::atomic::Ordering::SeqCst);
        if was == Self::LOWERED {
            Priority::set(thread, libc::SCHED_OTHER);
        }
    }
}

#[cfg(not(target_os = "linux"))]
impl Priority {
    fn lower_current(&self) {}
    fn done(&self) {}
    fn raise<T>(&self, _: &std::thread::JoinHandle<T>) {}
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
        let bytes = fs::read(path).map_err(Miss::Io)?;
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
        let job = Arc::new(PackJob::new(entries));
        let (at, options, old, pack) = (self.at, self.options, self.old, job.clone());
        let write = move || {
            // The old entries are freed here too, off the analysis' path.
            drop(old);
            // Streamed to the file: the pack is as large as all summaries together. Lowered
            // only here, past the folder's tag lock (which the run record takes too).
            at.write(FILES, &["files", &options], |salt, w| {
                pack.priority.lower_current();
                let written = pack.write_to(salt, w);
                pack.priority.done();
                written
            });
            // Written, or it failed: nothing is left to serialize.
            pack.stop();
            // The last strong reference (the waiting run holds a weak one): the entries and
            // their copies of reused bytes are freed here, not kept until the run ends.
            drop(pack);
        };
        let handle = std::thread::Builder::new()
            .name("threadlint-cache".into())
            .spawn(write)
            .ok();
        let job = Arc::downgrade(&job);
        (stats, Pending(Mutex::new(handle.map(|h| (h, job)))))
    }
}

/// A cache write going on in the background: waited for by [`Pending::wait`], or when dropped.
#[derive(Default)]
pub struct Pending(Mutex<Option<(std::thread::JoinHandle<()>, std::sync::Weak<PackJob>)>>);

impl Pending {
    /// Finish the write: its thread back at normal priority, and this one serializing the
    /// chunks it has not reached (unless the write is already over).
    pub fn wait(&self) {
        let pending = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((h, job)) = pending {
            if let Some(job) = job.upgrade() {
                job.priority.raise(&h);
                job.help();
            }
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

    /// The pack written one chunk at a time is byte for byte a serialized [`Pack`] (which is how
    /// it is read), for fresh and reused entries alike.
    #[test]
    fn streamed_pack_is_a_serialized_pack() {
        let text = "fn main() { let x = run(1); x.go(); }\nstruct S { a: u32 }\n";
        let file = syn::parse_file(text).unwrap();
        let lowered = crate::syntax::lower::lower_file(
            &file,
            crate::syntax::lower::LowerOptions {
                include_tests: false,
            },
            2,
        );
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
        let mut streamed = Vec::new();
        PackJob::new(used).write_to(42, &mut streamed).unwrap();
        let pack: Pack = postcard::from_bytes(&streamed).unwrap();
        assert_eq!(pack.salt, 42);
        let paths: Vec<_> = pack.entries.iter().map(|e| e.path.clone()).collect();
        assert_eq!(
            paths,
            [Path::new("a.rs"), Path::new("b/c.rs"), Path::new("d.rs")]
        );
        assert_eq!(pack.entries[0].data, stored);
        assert_eq!(pack.entries[1].data, vec![7; 300]);
        let back: FileData = postcard::from_bytes(&pack.entries[0].data).unwrap();
        assert_eq!(format!("{back:?}"), format!("{fresh:?}"));
        assert_eq!(postcard::to_stdvec(&pack).unwrap(), streamed);
    }

    /// Many chunks, serialized by the writer and a helper at once (as when the run waits for
    /// the pack), and no entries at all: still exactly a serialized [`Pack`], entries in order.
    #[test]
    fn pack_written_by_two_threads_is_a_serialized_pack() {
        let stamp = Stamp {
            meta: Meta {
                len: 1,
                mtime: 1,
                ctime: 1,
            },
            hash: 9,
        };
        for n in [0usize, 1, 63, 64, 65, 1000] {
            let used: Vec<Used> = (0..n)
                .map(|i| Used {
                    path: format!("f{i:04}.rs").into(),
                    stamp,
                    data: if i % 3 == 0 {
                        UsedData::Fresh(FileData {
                            summary: None,
                            diags: Vec::new(),
                        })
                    } else {
                        UsedData::Stored(vec![i as u8; i % 50])
                    },
                })
                .collect();
            let job = Arc::new(PackJob::new(used));
            let helper = {
                let job = job.clone();
                std::thread::spawn(move || job.help())
            };
            let mut streamed = Vec::new();
            job.write_to(7, &mut streamed).unwrap();
            job.stop();
            helper.join().unwrap();
            let pack: Pack = postcard::from_bytes(&streamed).unwrap();
            assert_eq!(pack.salt, 7);
            assert_eq!(pack.entries.len(), n);
            for (i, e) in pack.entries.iter().enumerate() {
                assert_eq!(e.path, Path::new(&format!("f{i:04}.rs")));
                if i % 3 != 0 {
                    assert_eq!(e.data, vec![i as u8; i % 50]);
                }
            }
            assert_eq!(postcard::to_stdvec(&pack).unwrap(), streamed);
        }
    }

    /// A pack whose writer fails (or never starts) lets the waiting thread go: nothing is left
    /// to claim once the job is called off.
    #[test]
    fn a_stopped_pack_releases_its_helper() {
        let used: Vec<Used> = (0..500)
            .map(|i| Used {
                path: format!("f{i}.rs").into(),
                stamp: Stamp {
                    meta: Meta {
                        len: 1,
                        mtime: 1,
                        ctime: 1,
                    },
                    hash: 1,
                },
                data: UsedData::Stored(vec![1; 10]),
            })
            .collect();
        let job = Arc::new(PackJob::new(used));
        let helper = {
            let job = job.clone();
            // Claims up to the limit ahead of the file, then waits for a writer that never comes.
            std::thread::spawn(move || job.help())
        };
        std::thread::sleep(std::time::Duration::from_millis(20));
        job.stop();
        helper.join().unwrap();
        assert!(job.claim().is_none());
    }

    /// The cache's thread goes down to `SCHED_IDLE` only where it can come back, and comes back
    /// both ways: raised by the waiting run, or by itself when its work is done.
    #[cfg(target_os = "linux")]
    #[test]
    fn a_lowered_thread_comes_back_to_normal_priority() {
        fn policy() -> libc::c_int {
            // SAFETY: no preconditions.
            unsafe { libc::sched_getscheduler(0) }
        }
        let expected_low = if Priority::can_raise() {
            libc::SCHED_IDLE
        } else {
            libc::SCHED_OTHER
        };
        // Raised by the waiting thread.
        let p = Arc::new(Priority::default());
        let (lowered_tx, lowered_rx) = std::sync::mpsc::channel();
        let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
        let h = {
            let p = p.clone();
            std::thread::spawn(move || {
                p.lower_current();
                lowered_tx.send(policy()).unwrap();
                go_rx.recv().unwrap();
                policy()
            })
        };
        assert_eq!(lowered_rx.recv().unwrap(), expected_low);
        p.raise(&h);
        go_tx.send(()).unwrap();
        assert_eq!(h.join().unwrap(), libc::SCHED_OTHER);
        // Back by itself when done, and never lowered once the run waits.
        let p = Arc::new(Priority::default());
        let after_done = {
            let p = p.clone();
            std::thread::spawn(move || {
                p.lower_current();
                p.done();
                policy()
            })
        }
        .join()
        .unwrap();
        assert_eq!(after_done, libc::SCHED_OTHER);
        let p = Arc::new(Priority::default());
        let h = std::thread::spawn(|| ());
        p.raise(&h);
        h.join().unwrap();
        let late = {
            let p = p.clone();
            std::thread::spawn(move || {
                p.lower_current();
                policy()
            })
        }
        .join()
        .unwrap();
        assert_eq!(late, libc::SCHED_OTHER);
    }
}
