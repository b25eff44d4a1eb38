//! The command line as a user runs it: exit codes, paths, error messages, both binaries.

use std::path::{Path, PathBuf};

use assert_cmd::Command;

fn fixture(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(p)
}

fn threadlint() -> Command {
    Command::cargo_bin("threadlint").unwrap()
}

fn stderr_of(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn check_reports_parse_errors_with_location_and_still_analyzes() {
    let out = threadlint()
        .args(["check"])
        .arg(fixture("resolve/syntax-error"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    let err = stderr_of(&out);
    assert!(
        err.contains("src/broken.rs:8:21: error[parse-error]"),
        "{err}"
    );
    assert!(
        err.contains("src/unlexable.rs:3:36: error[parse-error]"),
        "{err}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("4 files"), "{stdout}");
}

#[test]
fn missing_module_is_a_located_diagnostic() {
    let out = threadlint()
        .args(["check"])
        .arg(fixture("resolve/missing-module"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let err = stderr_of(&out);
    assert!(
        err.contains("src/lib.rs:3:5: error[missing-module]: file not found for module `absent`"),
        "{err}"
    );
}

#[test]
fn nonexistent_path_is_exit_2_with_one_clear_line() {
    let out = threadlint()
        .args(["check", "does/not/exist"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert_eq!(
        err.trim(),
        "threadlint: error: does/not/exist: no such file or directory"
    );
}

#[test]
fn folder_without_rust_files_is_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("notes.txt"), "hello").unwrap();
    let out = threadlint().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no Rust files could be analyzed"));
}

#[test]
fn broken_manifest_is_reported_with_its_location() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = = 1\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    let out = threadlint().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("Cargo.toml:3:"), "{err}");
    assert!(
        err.contains("error[manifest]: not a valid Cargo.toml"),
        "{err}"
    );
}

#[test]
fn member_glob_matching_nothing_is_a_warning_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    std::fs::write(
        root.join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\", \"nothing/*\"]\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("crates/a/src")).unwrap();
    std::fs::write(
        root.join("crates/a/Cargo.toml"),
        "[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        root.join("crates/a/src/lib.rs"),
        "pub fn f() { g() }\nfn g() {}\n",
    )
    .unwrap();
    let out = threadlint().arg("check").arg(root).output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr_of(&out));
    assert!(stderr_of(&out).contains("workspace member `nothing/*` matches no directory"));
}

#[test]
fn a_single_file_or_a_loose_folder_can_be_checked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.rs"), "mod b;\nfn main() { b::go(); }\n").unwrap();
    std::fs::write(dir.path().join("b.rs"), "pub fn go() {}\n").unwrap();
    let out = threadlint()
        .args(["debug", "callgraph", "--format", "text"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    // b.rs is a's module, not a crate of its own.
    assert!(text.contains("a::main"), "{text}");
    assert!(text.contains("→ a::b::go"), "{text}");
}

#[test]
fn callgraph_json_and_dot() {
    let out = threadlint()
        .args(["debug", "callgraph", "--format", "json"])
        .arg(fixture("resolve/dyn-dispatch"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let nodes = v["nodes"].as_array().unwrap();
    let edges = v["edges"].as_array().unwrap();
    assert!(nodes
        .iter()
        .any(|n| n["name"] == "dyn_dispatch::tool::Tool::call"));
    let dispatch = edges.iter().filter(|e| e["kind"] == "dispatch").count();
    assert!(dispatch >= 9, "{dispatch} dispatch edges");
    // Edges keep their call site.
    assert!(edges.iter().all(|e| e["loc"]["line"].as_u64().unwrap() > 0));

    let out = threadlint()
        .args(["debug", "callgraph", "--format", "dot"])
        .arg(fixture("resolve/dyn-dispatch"))
        .output()
        .unwrap();
    let dot = String::from_utf8_lossy(&out.stdout);
    assert!(dot.starts_with("digraph callgraph {"), "{dot}");
    assert!(dot.contains("label=\"dyn\""));
}

#[test]
fn cargo_subcommand_form_and_direct_form() {
    let path = fixture("resolve/closures");
    for args in [vec!["threadlint", "check"], vec!["check"]] {
        let out = Command::cargo_bin("cargo-threadlint")
            .unwrap()
            .args(&args)
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr_of(&out));
        assert!(String::from_utf8_lossy(&out.stdout).contains("Analyzed 1 crates"));
    }
}

#[test]
fn bad_usage_is_exit_2() {
    let out = threadlint()
        .args(["check", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = threadlint().args(["frobnicate"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}
