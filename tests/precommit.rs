//! The pre-commit hook as a user runs it: a real `pre-commit` (from PyPI) installs threadlint from
//! this repository (`language: rust`) and runs it on a temporary git repository holding a fixture.
//! It fails on the broken demo and passes on the fixed one.

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;
use common::copy_dir;

fn run(cmd: &mut Command) -> std::process::Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

fn ensure_pre_commit() {
    let ok = |o: &std::process::Output| o.status.success();
    if ok(&run(Command::new("python3").args([
        "-m",
        "pre_commit",
        "--version",
    ]))) {
        return;
    }
    let install =
        run(Command::new("python3").args(["-m", "pip", "install", "--quiet", "pre-commit"]));
    assert!(
        ok(&install),
        "installing pre-commit failed: {}",
        String::from_utf8_lossy(&install.stderr)
    );
}

/// A git repo holding `fixture`, with the threadlint hook configured at this repo's HEAD.
fn repo_with(fixture: &str, home: &Path) -> (tempfile::TempDir, std::process::Output) {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let head = run(Command::new("git")
        .arg("-C")
        .arg(&root)
        .args(["rev-parse", "HEAD"]));
    let head = String::from_utf8_lossy(&head.stdout).trim().to_string();
    assert_eq!(
        head.len(),
        40,
        "this repository has no commit to install the hook from"
    );
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root.join("fixtures").join(fixture), dir.path());
    std::fs::write(
        dir.path().join(".pre-commit-config.yaml"),
        format!(
            "repos:\n  - repo: {}\n    rev: {head}\n    hooks:\n      - id: threadlint\n",
            root.display()
        ),
    )
    .unwrap();
    let git = |args: &[&str]| {
        let o = run(Command::new("git").arg("-C").arg(dir.path()).args(args));
        assert!(
            o.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    git(&["init", "-q"]);
    git(&["add", "-A"]);
    let out = run(Command::new("python3")
        .args(["-m", "pre_commit", "run", "--all-files"])
        .current_dir(dir.path())
        .env("PRE_COMMIT_HOME", home)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@t")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@t"));
    (dir, out)
}

#[test]
fn hook_fails_on_the_broken_demo_and_passes_on_the_fixed_one() {
    ensure_pre_commit();
    let home = tempfile::tempdir().unwrap();
    let (_d, out) = repo_with("chat-platform", home.path());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("threadlint") && text.contains("Failed"),
        "{text}"
    );
    assert!(text.contains("threadlint::TP001"), "{text}");
    let (_d, out) = repo_with("chat-platform-fixed", home.path());
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("Passed"), "{text}");
}
