//! Snapshots of every report format on the demo (`fixtures/chat-platform`), as a user sees them.
//! Update with `INSTA_UPDATE=always cargo test --test snapshots` after an intended change.

use std::path::Path;

use assert_cmd::Command;

fn report(args: &[&str]) -> String {
    let demo = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chat-platform");
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .args(args)
        .arg(&demo)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn human() {
    insta::assert_snapshot!(report(&["check", "--color", "never"]));
}

#[test]
fn concise() {
    insta::assert_snapshot!(report(&["check", "--format", "concise"]));
}

#[test]
fn json() {
    insta::assert_snapshot!(report(&["check", "--format", "json"]));
}

#[test]
fn github() {
    insta::assert_snapshot!(report(&["check", "--format", "github"]));
}

#[test]
fn sarif() {
    // The workspace root is an absolute path: not part of the snapshot.
    let text = report(&["check", "--format", "sarif"]);
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["runs"][0]["originalUriBaseIds"]["%SRCROOT%"]["uri"] = "file:///SRCROOT/".into();
    v["runs"][0]["tool"]["driver"]["version"] = "VERSION".into();
    insta::assert_snapshot!(serde_json::to_string_pretty(&v).unwrap());
}

#[test]
fn paths_mermaid() {
    insta::assert_snapshot!(report(&["paths", "--format", "mermaid"]));
}
