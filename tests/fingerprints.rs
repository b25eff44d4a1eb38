//! Fingerprints (SPEC §8): unique per finding, unchanged when lines move, code is reformatted or
//! the message (which quotes the code) changes.

mod common;

use std::fs;
use std::path::Path;

use assert_cmd::Command;

/// `(rule, line, fingerprint)` of every finding of `dir`, in report order.
fn fingerprints(dir: &Path) -> Vec<(String, u64, String)> {
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .args(["check", "--no-cache", "--format", "json"])
        .arg(dir)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["line"].as_u64().unwrap(),
                f["fingerprint"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from:?} not in {}", path.display());
    fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn fingerprints_survive_moved_lines_and_reformatting_and_tell_repeats_apart() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("ws");
    common::copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/rules/axum-fire"),
        &dir,
    );
    let before = fingerprints(&dir);
    let tp001: Vec<_> = before.iter().filter(|f| f.0 == "TP001").collect();
    assert_eq!(tp001.len(), 1, "{before:?}");
    let mut unique: Vec<_> = before.iter().map(|f| &f.2).collect();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), before.len(), "{before:?}");

    // Lines move and the dropped call is reformatted (so the message, which quotes it, changes).
    let handler = dir.join("src/handler.rs");
    let text = fs::read_to_string(&handler).unwrap();
    fs::write(&handler, format!("// a\n// b\n// c\n{text}")).unwrap();
    edit(
        &handler,
        "\"summarize\" => self.agent.run_system(&req.text).await,",
        "\"summarize\" => self.agent.run_system( &req.text ).await,",
    );
    let moved = fingerprints(&dir);
    let key = |v: &[(String, u64, String)]| {
        let mut k: Vec<(String, String)> = v.iter().map(|f| (f.0.clone(), f.2.clone())).collect();
        k.sort();
        k
    };
    assert_eq!(key(&before), key(&moved));
    let moved_tp001 = moved.iter().find(|f| f.0 == "TP001").unwrap();
    assert_eq!(moved_tp001.1, tp001[0].1 + 3);

    // The same drop again in the same function: a second finding with a fingerprint of its own
    // (occurrences are numbered in source order, so the first one keeps occurrence 0's).
    edit(
        &handler,
        "\"summarize\" =>",
        "\"recap\" => self.agent.run_system(&req.text).await,\n            \"summarize\" =>",
    );
    let twice = fingerprints(&dir);
    let fps: Vec<&String> = twice
        .iter()
        .filter(|f| f.0 == "TP001")
        .map(|f| &f.2)
        .collect();
    assert_eq!(fps.len(), 2, "{twice:?}");
    assert_ne!(fps[0], fps[1]);
    assert_eq!(fps[0], &tp001[0].2);
}
