//! Arbitrary bytes through the whole pipeline: `threadlint check` on a small crate whose files
//! are the input, split at NUL bytes into `src/lib.rs`, `src/a.rs`, `src/b.rs`, `src/b/c.rs`
//! and `threadlint.toml`. Any panic (or abort) is a bug; findings and diagnostics are fine.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

const FILES: [&str; 5] = [
    "src/lib.rs",
    "src/a.rs",
    "src/b.rs",
    "src/b/c.rs",
    "threadlint.toml",
];

fn workdir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let base = if std::path::Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("threadlint-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("src/b")).expect("create the fuzz workspace");
        std::fs::write(
            dir.join("Cargo.toml"),
            "[package]\nname = \"fz\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
        )
        .expect("write Cargo.toml");
        dir
    })
}

fuzz_target!(|data: &[u8]| {
    let dir = workdir();
    let mut parts = data.split(|&b| b == 0);
    for name in FILES {
        let path = dir.join(name);
        match parts.next() {
            Some(bytes) => std::fs::write(&path, bytes).expect("write a fuzz input file"),
            None => {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
    let out = dir.join("report.json");
    let code = threadlint::cli::run([
        "threadlint".into(),
        "check".into(),
        dir.as_os_str().to_owned(),
        "--no-cache".into(),
        "--format".into(),
        "json".into(),
        "-o".into(),
        out.into_os_string(),
    ]);
    assert!(matches!(code, 0..=2), "unexpected exit status {code}");
});
