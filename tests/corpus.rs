//! Robustness on real code: every crate in the cargo registry sources on this machine (at least
//! this project's own dependency tree) is analyzed without a panic and with exit status 0 or 1.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

fn registry_crates() -> Vec<PathBuf> {
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo")))
        .expect("CARGO_HOME or HOME is set");
    let mut out = Vec::new();
    let Ok(indexes) = std::fs::read_dir(home.join("registry/src")) else {
        return out;
    };
    for idx in indexes.flatten() {
        if let Ok(crates) = std::fs::read_dir(idx.path()) {
            out.extend(
                crates
                    .flatten()
                    .map(|c| c.path())
                    .filter(|p| p.join("Cargo.toml").is_file()),
            );
        }
    }
    out.sort();
    out
}

#[test]
fn every_registry_crate_is_analyzed_without_panic() {
    let crates = registry_crates();
    // This project's own dependencies were downloaded to build this test.
    for dep in ["syn-2", "serde-1", "clap-4", "rayon-1", "toml-0"] {
        assert!(
            crates
                .iter()
                .any(|c| c.file_name().unwrap().to_string_lossy().starts_with(dep)),
            "{dep} not found among {} registry crates",
            crates.len()
        );
    }
    let mut failures = Vec::new();
    for c in &crates {
        let args = [
            "threadlint".into(),
            "check".into(),
            c.clone().into_os_string(),
        ];
        let result = catch_unwind(AssertUnwindSafe(|| threadlint::cli::run(args)));
        match result {
            Ok(0 | 1) => {}
            Ok(code) => failures.push(format!("{}: exit status {code}", c.display())),
            Err(_) => failures.push(format!("{}: panicked", c.display())),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    eprintln!("analyzed {} registry crates", crates.len());
}
