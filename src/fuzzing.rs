//! The fuzz target's body, shared with the regression test that replays its inputs
//! (`fuzz/fuzz_targets/pipeline.rs`, `tests/fuzz_regressions.rs`).
//!
//! One input is a small crate: its bytes split at NUL bytes become `src/lib.rs`, `src/a.rs`,
//! `src/b.rs`, `src/b/c.rs` and `threadlint.toml`, and `threadlint check` runs on it with every
//! report format. Findings and diagnostics are fine; a panic or an exit status other than 0, 1
//! or 2 is a bug.

use std::path::{Path, PathBuf};

const FILES: [&str; 5] = [
    "src/lib.rs",
    "src/a.rs",
    "src/b.rs",
    "src/b/c.rs",
    "threadlint.toml",
];

/// A folder for the cases of this process (`/dev/shm` when there is one).
pub fn workdir() -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    base.join(format!("threadlint-fuzz-{}", std::process::id()))
}

/// Write `data` as a crate in `dir` and check it. Returns the exit status.
pub fn run_case(dir: &Path, data: &[u8]) -> std::io::Result<i32> {
    std::fs::create_dir_all(dir.join("src/b"))?;
    std::fs::write(
        dir.join("Cargo.toml"),
        "[package]\nname = \"fz\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )?;
    let mut parts = data.split(|&b| b == 0);
    for name in FILES {
        let path = dir.join(name);
        match parts.next() {
            Some(bytes) => std::fs::write(&path, bytes)?,
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let out = dir.join("report.out");
    // The format is taken from the input, so that every renderer is reached.
    let format = ["json", "sarif", "human", "github", "concise"][data.len() % 5];
    Ok(crate::cli::run([
        "threadlint".into(),
        "check".into(),
        dir.as_os_str().to_owned(),
        "--no-cache".into(),
        "--format".into(),
        format.into(),
        "-o".into(),
        out.into_os_string(),
    ]))
}
