//! The one way threadlint reads a file: regular files only, of bounded size, with the symlink
//! policy of the file's kind (SPEC §11). Sources, `#[path]` targets, manifests, the
//! configuration, baselines and cache files all come through [`read`].
//!
//! Reports and baselines are written with [`write_replacing`]: a new file beside the target,
//! renamed over it, so a symlink planted at the target is replaced, never written through.
//!
//! **Invariant:** nothing here reads a FIFO, a device, a socket or a `/proc`/`/sys` entry, or more
//! than the cap of the kind plus one byte; errors name the file and never quote it.

use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// What is being read: it decides the size cap and whether a symlink is followed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A Rust source file (symlinks are the caller's question: see `syntax::parse`).
    Source,
    /// A `Cargo.toml`: never through a symlink.
    Manifest,
    /// `threadlint.toml`: never through a symlink.
    Config,
    /// A baseline file given on the command line.
    Baseline,
    /// A file of the cache folder: never through a symlink.
    Cache,
}

/// Size caps in bytes; a source cap can be raised with `THREADLINT_MAX_FILE_SIZE` (bytes).
pub const SOURCE_CAP: u64 = 16 << 20;
pub const MANIFEST_CAP: u64 = 1 << 20;
pub const CONFIG_CAP: u64 = 1 << 20;
pub const BASELINE_CAP: u64 = 64 << 20;
pub const CACHE_CAP: u64 = 1 << 30;

impl Kind {
    pub fn cap(self) -> u64 {
        match self {
            Kind::Source => std::env::var("THREADLINT_MAX_FILE_SIZE")
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(SOURCE_CAP),
            Kind::Manifest => MANIFEST_CAP,
            Kind::Config => CONFIG_CAP,
            Kind::Baseline => BASELINE_CAP,
            Kind::Cache => CACHE_CAP,
        }
    }

    fn follows_symlinks(self) -> bool {
        matches!(self, Kind::Source | Kind::Baseline)
    }

    fn what(self) -> &'static str {
        match self {
            Kind::Source => "source file",
            Kind::Manifest => "manifest",
            Kind::Config => "configuration",
            Kind::Baseline => "baseline",
            Kind::Cache => "cache file",
        }
    }
}

/// Why a file was not read. Its message names neither the file's contents nor, for a symlink,
/// where it leads.
#[derive(Debug)]
pub enum ReadError {
    Io(std::io::Error),
    Symlink(Kind),
    NotRegular,
    Special,
    TooLarge { cap: u64 },
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Symlink(k) => {
                write!(f, "the {} is a symlink; not followed", k.what())
            }
            ReadError::NotRegular => f.write_str("not a regular file (a FIFO, device or socket)"),
            ReadError::Special => f.write_str("a /proc, /sys or /dev entry; not read"),
            ReadError::TooLarge { cap } => write!(
                f,
                "larger than the {} MiB limit; skipped",
                (cap + (1 << 20) - 1) >> 20
            ),
        }
    }
}

/// `/proc/…`, `/sys/…`, `/dev/…`: pseudo-files that may never end or block.
pub fn is_special(path: &Path) -> bool {
    // A relative path without `..` stays under the current folder (the common case: no syscall).
    if path.is_relative() && !path.components().any(|c| c == Component::ParentDir) {
        return false;
    }
    let abs = absolute(path);
    ["/proc", "/sys", "/dev"].iter().any(|p| abs.starts_with(p))
}

/// Lexical normalisation: `a/b/../c` → `a/c`, without touching the file system. A `..` at the
/// root stays there (`/../proc` is `/proc`); leading `..` of a relative path are kept.
pub fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => match out.components().next_back() {
                Some(Component::Normal(_)) => {
                    out.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => out.push(".."),
            },
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `p` made absolute (against the current directory) and normalized lexically.
pub fn absolute(p: &Path) -> PathBuf {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .unwrap_or_else(|_| PathBuf::from("."))
            .join(p)
    };
    normalize(&abs)
}

/// Read the file at `path` as a `kind`.
pub fn read(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    if is_special(path) {
        return Err(ReadError::Special);
    }
    let link = fs::symlink_metadata(path)
        .map_err(ReadError::Io)?
        .file_type()
        .is_symlink();
    if link && !kind.follows_symlinks() {
        return Err(ReadError::Symlink(kind));
    }
    // Checked before opening (opening a FIFO blocks), and again on what was opened.
    let meta = fs::metadata(path).map_err(ReadError::Io)?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular);
    }
    // A symlink to a pseudo-file (a folder symlinked out of the workspace is refused by the
    // source walk unless `--follow-symlinks`).
    if link && is_special(&fs::canonicalize(path).map_err(ReadError::Io)?) {
        return Err(ReadError::Special);
    }
    let cap = kind.cap();
    if meta.len() > cap {
        return Err(ReadError::TooLarge { cap });
    }
    let file = fs::File::open(path).map_err(ReadError::Io)?;
    let opened = file.metadata().map_err(ReadError::Io)?;
    if !opened.is_file() {
        return Err(ReadError::NotRegular);
    }
    // One byte of room past the expected end, so reaching the end does not grow the buffer.
    let mut bytes = Vec::with_capacity(opened.len().min(cap) as usize + 1);
    file.take(cap + 1)
        .read_to_end(&mut bytes)
        .map_err(ReadError::Io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge { cap });
    }
    Ok(bytes)
}

/// [`read`], as UTF-8 text.
pub fn read_text(path: &Path, kind: Kind) -> Result<String, ReadError> {
    String::from_utf8(read(path, kind)?).map_err(|_| {
        ReadError::Io(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "stream did not contain valid UTF-8",
        ))
    })
}

/// Write `bytes` to `path` by creating a new temporary file in the same folder (never opening
/// an existing one) and renaming it over `path`. A symlink at `path` is replaced by the file.
pub fn write_replacing(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidInput, "not a file name"))?;
    if fs::metadata(path).is_ok_and(|m| m.is_dir()) {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a folder",
        ));
    }
    let mut n = 0u32;
    let (tmp, mut f) = loop {
        let tmp = dir.join(format!(
            ".{}.{}.{n}.tmp",
            name.to_string_lossy(),
            std::process::id()
        ));
        match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
        {
            Ok(f) => break (tmp, f),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && n < 100 => n += 1,
            Err(e) => return Err(e),
        }
    };
    let written = f
        .write_all(bytes)
        .and_then(|_| f.flush())
        .and_then(|_| fs::rename(&tmp, path));
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_is_not_a_bounded_regular_file() {
        let dir = std::env::temp_dir().join(format!("tl-bounded-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("a.toml");
        fs::write(&file, "x = 1\n").unwrap();
        assert_eq!(read(&file, Kind::Config).unwrap(), b"x = 1\n");
        #[cfg(unix)]
        {
            let link = dir.join("link.toml");
            std::os::unix::fs::symlink(&file, &link).unwrap();
            assert!(matches!(
                read(&link, Kind::Config),
                Err(ReadError::Symlink(_))
            ));
            assert!(read(&link, Kind::Source).is_ok());
            let zero = dir.join("zero.rs");
            std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
            assert!(read(&zero, Kind::Source).is_err());
            assert!(matches!(
                read(Path::new("/proc/self/pagemap"), Kind::Source),
                Err(ReadError::Special)
            ));
        }
        assert!(matches!(
            read(&dir, Kind::Source),
            Err(ReadError::NotRegular)
        ));
        assert!(is_special(Path::new("/../proc/self/environ")));
        assert_eq!(
            normalize(Path::new("../../a/./b/../c")),
            Path::new("../../a/c")
        );
        assert_eq!(normalize(Path::new("/../x")), Path::new("/x"));
        let big = dir.join("big.toml");
        let f = fs::File::create(&big).unwrap();
        f.set_len(CONFIG_CAP + 1).unwrap();
        assert!(matches!(
            read(&big, Kind::Config),
            Err(ReadError::TooLarge { .. })
        ));
        let _ = fs::remove_dir_all(&dir);
    }

    #[cfg(unix)]
    #[test]
    fn writes_replace_a_planted_symlink() {
        let dir = std::env::temp_dir().join(format!("tl-replace-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let victim = dir.join("victim");
        fs::write(&victim, "precious").unwrap();
        let target = dir.join("report.sarif");
        std::os::unix::fs::symlink(&victim, &target).unwrap();
        write_replacing(&target, b"{}").unwrap();
        assert_eq!(fs::read_to_string(&victim).unwrap(), "precious");
        assert_eq!(fs::read_to_string(&target).unwrap(), "{}");
        assert!(!fs::symlink_metadata(&target)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(
            fs::read_dir(&dir).unwrap().count(),
            2,
            "no temporary file is left"
        );
        let _ = fs::remove_dir_all(&dir);
    }
}

/// Names longer than this (identifiers, crate names) are shortened by [`name`].
pub const MAX_NAME: usize = 128;

/// A name of the analyzed code as threadlint keeps it: itself when it is at most [`MAX_NAME`]
/// bytes long, else its first 96 bytes, `…` and a hash of the whole. A megabyte-long
/// identifier repeated on every step of every path would make the reports megabytes per
/// finding (SPEC §10); shortened the same way everywhere, it still names one thing.
pub fn name(s: &str) -> std::borrow::Cow<'_, str> {
    if s.len() <= MAX_NAME {
        return s.into();
    }
    let mut cut = 96;
    while !s.is_char_boundary(cut) {
        cut -= 1;
    }
    format!(
        "{}…{:016x}",
        &s[..cut],
        xxhash_rust::xxh3::xxh3_64(s.as_bytes())
    )
    .into()
}

#[cfg(test)]
mod name_tests {
    #[test]
    fn long_names_are_shortened_and_stay_distinct() {
        assert_eq!(super::name("run_tool"), "run_tool");
        let a = "é".repeat(100) + "a";
        let b = "é".repeat(100) + "b";
        let (na, nb) = (super::name(&a), super::name(&b));
        assert!(na.len() <= super::MAX_NAME && na.starts_with("éé") && na.contains('…'));
        assert_ne!(na, nb);
        assert_eq!(na, super::name(&a));
    }
}
