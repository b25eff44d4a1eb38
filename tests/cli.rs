//! The command line as a user runs it: exit codes, paths, error messages, both binaries.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use threadlint_codes::Code;

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
    // A file that does not parse is not analyzed: the run says so and does not pass (exit 1,
    // like a warning), in every format.
    let out = threadlint()
        .args(["check"])
        .arg(fixture("resolve/syntax-error"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
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
    assert!(
        stdout.contains("No problems found in the code that was read, but 2 files did not parse, and what did not parse was not analyzed (listed above)."),
        "{stdout}"
    );
    let out = threadlint()
        .args(["check", "--format", "json"])
        .arg(fixture("resolve/syntax-error"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr_of(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["summary"]["unparsed"], 2, "{v}");
    let files: Vec<&str> = v["unparsed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["src/broken.rs", "src/unlexable.rs"], "{v}");
    assert_eq!(v["unparsed"][0]["line"], 8, "{v}");
    // `--exit-zero` still passes.
    let out = threadlint()
        .args(["check", "--exit-zero"])
        .arg(fixture("resolve/syntax-error"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
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
fn broken_manifest_is_reported_with_its_location_and_the_package_still_analyzed() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"x\"\nversion = = 1\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), "pub fn f() {}\n").unwrap();
    let out = threadlint().arg("check").arg(dir.path()).output().unwrap();
    // The sources are still analyzed (with the default layout): exit 2 is for "nothing analyzed".
    assert_eq!(out.status.code(), Some(0));
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
        assert!(String::from_utf8_lossy(&out.stdout).contains("No problems found."));
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

// ------------------------------------------------------------------------------------------
// Findings, formats, rule selection, suppressions, configuration

const SMALL: &str = r#"
pub struct ThreadContext {
    pub thread_id: String,
}

pub trait Tool {
    fn call(&self, ctx: &ThreadContext, q: &str) -> String;
}

pub struct Search;

impl Tool for Search {
    fn call(&self, ctx: &ThreadContext, q: &str) -> String {
        format!("{}{}", ctx.thread_id, q)
    }
}

pub async fn ws(socket: WebSocket) {
    let ctx = ThreadContext { thread_id: socket.id() };
    handle(&ctx, "q");
}

fn handle(ctx: &ThreadContext, q: &str) {
    //MARK
    run(q);
}

fn run(q: &str) {
    let c = ThreadContext { thread_id: String::new() };
    Search.call(&c, q);
}
"#;

/// A one-file package with a TP001 (line 25) and a TP002 (line 29); `extra` replaces `//MARK` (line 24).
fn small(extra: &str, config: Option<&str>) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"small\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        SMALL.replace("//MARK", extra),
    )
    .unwrap();
    if let Some(c) = config {
        std::fs::write(dir.path().join("threadlint.toml"), c).unwrap();
    }
    dir
}

fn concise(dir: &Path, extra_args: &[&str]) -> (i32, String) {
    let out = threadlint()
        .args(["check", "--format", "concise"])
        .args(extra_args)
        .arg(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn demo_reports_every_planted_defect_and_exits_1() {
    let out = threadlint()
        .arg("check")
        .arg(fixture("chat-platform"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    for code in [
        "TP001", "TP002", "TP003", "TP004", "TP005", "TP006", "TP007", "TP008",
    ] {
        assert!(
            stdout.contains(&format!("threadlint::{code}")),
            "{code} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("╭─[src/handler.rs:98:23]"), "{stdout}");
    assert!(
        stdout.contains("the thread context is dropped here"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  path:\n     1. chat_socket (src/ws.rs:25) ·"),
        "{stdout}"
    );
    // Not a terminal: no colour codes.
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(
        stdout
            .trim_end()
            .ends_with("Found 8 problems (6 errors, 2 warnings) in 5 files."),
        "{stdout}"
    );
}

#[test]
fn json_report_has_rule_location_and_path() {
    let out = threadlint()
        .args(["check", "--format", "json"])
        .arg(fixture("chat-platform"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 8);
    let tp001 = findings.iter().find(|f| f["rule"] == "TP001").unwrap();
    assert_eq!(tp001["name"], "dropped-at-call");
    assert_eq!(tp001["file"], "src/handler.rs");
    assert_eq!(tp001["line"], 98);
    assert_eq!(tp001["column"], 23);
    let path = tp001["path"].as_array().unwrap();
    assert!(path.len() >= 3);
    assert!(path.iter().any(|s| s["handoff"] == "dropped"));
    assert_eq!(v["summary"]["errors"], 6);
}

#[test]
fn select_ignore_and_exit_zero() {
    let demo = fixture("chat-platform");
    let (code, out) = concise(&demo, &["--select", "TP001"]);
    assert_eq!(code, 1);
    assert_eq!(
        out.lines().filter(|l| l.contains(": TP")).count(),
        1,
        "{out}"
    );
    let (_, out) = concise(&demo, &["--ignore", "TP001,TP002"]);
    assert!(
        !out.contains("TP001") && !out.contains("TP002") && out.contains("TP003"),
        "{out}"
    );
    let (code, _) = concise(&demo, &["--exit-zero"]);
    assert_eq!(code, 0);
    let (code, _) = concise(&demo, &["--select", "TP999"]);
    assert_eq!(code, 2);
}

#[test]
fn fixed_demo_is_silent_and_exits_0() {
    let (code, out) = concise(&fixture("chat-platform-fixed"), &[]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "No problems found.");
}

#[test]
fn comment_suppression_with_reason_silences_the_finding() {
    let dir = small("", None);
    let (_, out) = concise(dir.path(), &[]);
    assert!(out.contains("src/lib.rs:25:5: TP001"), "{out}");
    assert!(out.contains("src/lib.rs:29:13: TP002"), "{out}");
    let dir = small(
        "// threadlint: allow(TP001) reason: batch jobs have no conversation",
        None,
    );
    let (_, out) = concise(dir.path(), &[]);
    assert!(!out.contains("TP001"), "{out}");
    assert!(!out.contains("TP009"), "{out}");
}

#[test]
fn suppressions_without_reason_or_unused_are_tp009() {
    let dir = small("// threadlint: allow(TP001)", None);
    let (_, out) = concise(dir.path(), &[]);
    assert!(
        out.contains("src/lib.rs:24:5: TP009 [warning] `allow(TP001)` gives no reason"),
        "{out}"
    );
    let dir = small("// threadlint: allow(TP003) reason: not here", None);
    let (_, out) = concise(dir.path(), &[]);
    assert!(
        out.contains("TP009 [warning] `allow(TP003)` suppresses nothing"),
        "{out}"
    );
    assert!(out.contains("TP001"), "{out}");
}

#[test]
fn attribute_suppression_covers_the_item() {
    let src = SMALL.replace(
        "fn handle(",
        "#[threadlint_macros::allow(TP001, reason = \"migrating\")]\nfn handle(",
    );
    let dir = small("", None);
    std::fs::write(dir.path().join("src/lib.rs"), src.replace("//MARK", "")).unwrap();
    let (_, out) = concise(dir.path(), &[]);
    assert!(!out.contains("TP001") && !out.contains("TP009"), "{out}");
    assert!(out.contains("TP002"), "{out}");
}

#[test]
fn config_levels_and_unknown_keys() {
    let dir = small(
        "",
        Some("[rules]\nTP001 = \"allow\"\nTP002 = \"warning\"\n"),
    );
    let (code, out) = concise(dir.path(), &[]);
    assert_eq!(code, 1);
    assert!(!out.contains("TP001"), "{out}");
    assert!(out.contains("TP002 [warning]"), "{out}");
    let dir = small("", Some("[context]\ntypez = [\"X\"]\n"));
    let out = threadlint().arg("check").arg(dir.path()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = stderr_of(&out);
    assert!(err.contains("threadlint.toml:2:1: error[config]"), "{err}");
    assert!(err.contains("unknown field `typez`"), "{err}");
    // miette points into the TOML.
    assert!(err.contains("╭─[threadlint.toml:2:1]"), "{err}");
}

#[test]
fn paths_in_every_format() {
    let demo = fixture("chat-platform");
    let out = threadlint().args(["paths"]).arg(&demo).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("chat_socket (src/ws.rs:25)"), "{text}");
    assert!(
        text.contains(
            "ToolDispatcher::dispatch (src/dispatcher.rs:65) ✗ → ToolDispatcher::finish_job"
        ),
        "{text}"
    );
    let out = threadlint()
        .args(["paths", "--format", "mermaid"])
        .arg(&demo)
        .output()
        .unwrap();
    let m = String::from_utf8_lossy(&out.stdout);
    assert!(m.starts_with("flowchart LR"), "{m}");
    assert!(m.contains("✗ dropped") && m.contains("|✓|"), "{m}");
    let out = threadlint()
        .args(["paths", "--format", "json"])
        .arg(&demo)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["chains"].as_array().unwrap().len() >= 6);
    let out = threadlint()
        .args(["paths", "--format", "dot"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("digraph paths {"));
}

#[test]
fn rules_and_explain() {
    let out = threadlint().arg("rules").output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), Code::ALL.len(), "{text}");
    assert!(text.contains("TP008  result-broadcast"), "{text}");
    let out = threadlint()
        .args(["rules", "--format", "json"])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), Code::ALL.len());
    let out = threadlint().args(["explain", "tp003"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("# TP003 dropped-at-spawn"));
    let out = threadlint().args(["explain", "TP999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn sarif_for_code_scanning() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("threadlint.sarif");
    let out = threadlint()
        .args(["check", "--format", "sarif", "-o"])
        .arg(&report)
        .arg(fixture("chat-platform"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    // The terminal gets the summary; the file gets the report.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Found 8 problems") && stdout.contains("Report written to"),
        "{stdout}"
    );
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(v["version"], "2.1.0");
    let run = &v["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    assert_eq!(rules.len(), Code::ALL.len());
    for r in rules {
        assert!(
            r["fullDescription"]["text"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                <= 1024
        );
        assert!(r["help"]["markdown"].as_str().unwrap().starts_with("# TP"));
    }
    assert!(run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap()
        .starts_with("file:///"));
    let results = run["results"].as_array().unwrap();
    assert_eq!(results.len(), 8);
    for r in results {
        let idx = r["ruleIndex"].as_u64().unwrap() as usize;
        assert_eq!(rules[idx]["id"], r["ruleId"]);
        let loc = &r["locations"][0]["physicalLocation"];
        assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert!(!loc["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .starts_with('/'));
        assert!(loc["region"]["startColumn"].as_u64().unwrap() >= 1);
        assert!(
            r["partialFingerprints"]["threadlintFingerprint/v2"]
                .as_str()
                .unwrap()
                .len()
                == 16
        );
    }
    let tp001 = results.iter().find(|r| r["ruleId"] == "TP001").unwrap();
    assert!(
        tp001["codeFlows"][0]["threadFlows"][0]["locations"]
            .as_array()
            .unwrap()
            .len()
            >= 3
    );
    assert!(!tp001["relatedLocations"].as_array().unwrap().is_empty());
}

#[test]
fn fingerprints_survive_moved_lines() {
    let fp = |src: &str| {
        let dir = small("", None);
        std::fs::write(dir.path().join("src/lib.rs"), src).unwrap();
        let out = threadlint()
            .args(["check", "--format", "sarif"])
            .arg(dir.path())
            .output()
            .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let mut fps: Vec<(String, String, u64)> = v["runs"][0]["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["ruleId"].as_str().unwrap().to_string(),
                    r["partialFingerprints"]["threadlintFingerprint/v2"]
                        .as_str()
                        .unwrap()
                        .to_string(),
                    r["locations"][0]["physicalLocation"]["region"]["startLine"]
                        .as_u64()
                        .unwrap(),
                )
            })
            .collect();
        fps.sort();
        fps
    };
    let before = fp(&SMALL.replace("//MARK", ""));
    let after = fp(&format!("\n\n\n{}", SMALL.replace("//MARK", "")));
    assert_eq!(before.len(), 2);
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(
            (&b.0, &b.1),
            (&a.0, &a.1),
            "fingerprint changed when lines moved"
        );
        assert_eq!(b.2 + 3, a.2);
    }
}

#[test]
fn github_annotations_and_statistics() {
    let out = threadlint()
        .args(["check", "--format", "github", "--statistics"])
        .arg(fixture("chat-platform"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("::error file=src/handler.rs,line=98,col=23,endLine=98,endColumn=74,title=TP001 dropped-at-call::"),
        "{text}"
    );
    assert!(
        text.contains("::warning file=src/tools/mod.rs,line=65,"),
        "{text}"
    );
    assert!(
        text.contains("    1  TP005  tool-without-context"),
        "{text}"
    );
}

#[test]
fn baseline_reports_only_new_findings() {
    let dir = small("", None);
    let base = dir.path().join("baseline.json");
    let out = threadlint()
        .args(["check", "--write-baseline"])
        .arg(&base)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("Recorded 2 findings"));
    // Same code, lines moved: nothing new.
    std::fs::write(
        dir.path().join("src/lib.rs"),
        format!("// header\n\n{}", SMALL.replace("//MARK", "")),
    )
    .unwrap();
    let (code, out) = concise(dir.path(), &["--baseline", base.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "No problems found.");
    // A new drop is reported.
    let src = std::fs::read_to_string(dir.path().join("src/lib.rs")).unwrap();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        src.replace("    run(q);", "    run(q);\n    run(\"again\");"),
    )
    .unwrap();
    let (code, out) = concise(dir.path(), &["--baseline", base.to_str().unwrap()]);
    assert_eq!(code, 1, "{out}");
    assert_eq!(
        out.lines().filter(|l| l.contains(": TP001")).count(),
        1,
        "{out}"
    );
    // A broken baseline is a clear error.
    std::fs::write(&base, "{ not json").unwrap();
    let out = threadlint()
        .args(["check", "--baseline"])
        .arg(&base)
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr_of(&out).contains("not a threadlint baseline"),
        "{}",
        stderr_of(&out)
    );
}

#[test]
fn cargo_style_package_selection() {
    let ws = fixture("rules/workspace-multi");
    let out = Command::cargo_bin("cargo-threadlint")
        .unwrap()
        .args(["threadlint", "--format", "concise", "--manifest-path"])
        .arg(ws.join("Cargo.toml"))
        .args(["-p", "agents"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("crates/agents/src/registry.rs") && !text.contains("crates/transport"),
        "{text}"
    );
    let out = Command::cargo_bin("cargo-threadlint")
        .unwrap()
        .args([
            "threadlint",
            "--workspace",
            "--format",
            "concise",
            "--manifest-path",
        ])
        .arg(ws.join("Cargo.toml"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("crates/agents") && text.contains("crates/transport"),
        "{text}"
    );
    let out = threadlint()
        .args(["check", "-p", "nope"])
        .arg(&ws)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr_of(&out).contains("no package named `nope`"));
}

#[test]
fn color_follows_the_flag_and_no_color() {
    let demo = fixture("chat-platform");
    let out = threadlint()
        .args(["check", "--color", "always"])
        .arg(&demo)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let out = threadlint()
        .args(["check", "--color", "auto"])
        .arg(&demo)
        .env("CLICOLOR_FORCE", "1")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
    let out = threadlint()
        .args(["check"])
        .arg(&demo)
        .env("CLICOLOR_FORCE", "1")
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!String::from_utf8_lossy(&out.stdout).contains('\u{1b}'));
}

#[test]
fn cargo_finds_the_subcommand_on_path() {
    let bin = assert_cmd::cargo::cargo_bin("cargo-threadlint");
    let dir = bin.parent().unwrap();
    let path = std::env::join_paths(std::iter::once(dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    let out = std::process::Command::new("cargo")
        .args(["threadlint", "--format", "concise", "--manifest-path"])
        .arg(fixture("chat-platform/Cargo.toml"))
        .env("PATH", path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}{}", stderr_of(&out));
    assert!(text.contains("Found 8 problems"), "{text}");
}

#[test]
fn every_problem_with_a_suppression_is_reported() {
    // No reason and nothing to suppress: both are said.
    let dir = small("// threadlint: allow(TP003)", None);
    let (_, out) = concise(dir.path(), &[]);
    assert!(out.contains("`allow(TP003)` gives no reason"), "{out}");
    assert!(out.contains("`allow(TP003)` suppresses nothing"), "{out}");
    // An empty reason is no reason.
    let src = SMALL.replace(
        "fn handle(",
        "#[threadlint_macros::allow(TP001, reason = \"\")]\nfn handle(",
    );
    let dir = small("", None);
    std::fs::write(dir.path().join("src/lib.rs"), src.replace("//MARK", "")).unwrap();
    let (_, out) = concise(dir.path(), &[]);
    assert!(out.contains("`allow(TP001)` gives no reason"), "{out}");
}

#[test]
fn a_local_at_the_top_of_a_tool_is_not_a_parameter() {
    // `thread_id` here is a made-up local, not a way to receive the caller's context.
    let src = SMALL.replace(
        "    fn call(&self, ctx: &ThreadContext, q: &str) -> String {\n        format!(\"{}{}\", ctx.thread_id, q)\n    }",
        "    fn call(&self, ctx: &ThreadContext, q: &str) -> String {\n        format!(\"{}{}\", ctx.thread_id, q)\n    }\n}\n\npub struct Clock;\n\nimpl Tool for Clock {\n    fn call(&self, ctx: &ThreadContext, q: &str) -> String {\n        let _ = (ctx, q);\n        now()\n    }",
    )
    .replace(
        "fn run(q: &str) {",
        "fn now() -> String {\n    let thread_id = \"global\";\n    thread_id.to_string()\n}\n\n#[threadlint_macros::tool]\nfn uptime(secs: u64) -> String {\n    let thread_id = \"global\";\n    format!(\"{thread_id}{secs}\")\n}\n\nfn run(q: &str) {\n    uptime(1);",
    );
    let dir = small("", None);
    std::fs::write(dir.path().join("src/lib.rs"), src.replace("//MARK", "")).unwrap();
    let (_, out) = concise(dir.path(), &[]);
    assert!(out.contains("TP005 [warning] tool `uptime`"), "{out}");
}

/// With little address space (`ulimit -v`), the 256 MiB worker stacks cannot be reserved: the
/// check still runs, on smaller stacks with a warning, or stops with one clear error; never an
/// internal error.
#[cfg(target_os = "linux")]
#[test]
fn limited_address_space_is_a_warning_not_an_internal_error() {
    let bin = assert_cmd::cargo::cargo_bin("threadlint");
    let demo = fixture("chat-platform");
    let full = threadlint().arg("check").arg(&demo).output().unwrap();
    for limit_kib in [1_200_000, 1_500_000] {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(format!("ulimit -v {limit_kib} && exec \"$0\" check \"$1\""))
            .arg(&bin)
            .arg(&demo)
            .output()
            .unwrap();
        let err = stderr_of(&out);
        assert!(
            !err.contains("internal error"),
            "ulimit -v {limit_kib}: {err}"
        );
        match out.status.code() {
            Some(2) => assert!(err.contains("cannot start worker threads"), "{err}"),
            code => {
                assert_eq!(code, full.status.code(), "ulimit -v {limit_kib}: {err}");
                assert_eq!(
                    out.stdout, full.stdout,
                    "ulimit -v {limit_kib}: the same report"
                );
            }
        }
    }
}
