//! What a stranger's pull request can commit, and what threadlint must still do (SPEC §11, the
//! probe in `../shared/untrusted/`): symlinked or special config, manifests and cache files are
//! refused without quoting them; `#[path]` out of the workspace is a diagnostic; `-o` replaces a
//! planted symlink; a damaged cache never changes a result; injected names cannot forge output.
//! Each test also checks that the good file's findings survive.

#![cfg(unix)]

use std::os::unix::fs::symlink;
use std::path::Path;

use assert_cmd::Command;

const LIB: &str = "#[threadlint_macros::tool]\npub fn tool_t(q: u32) -> u32 { q }\n#[threadlint_macros::entry]\npub fn entry_e(ws: u32) { tool_t(1); }\npub struct ThreadContext { pub thread_id: String }\n";

/// A one-file crate with one TP005 and one TP006.
fn krate() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[workspace]\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.path().join("src")).unwrap();
    std::fs::write(dir.path().join("src/lib.rs"), LIB).unwrap();
    dir
}

/// `check` in `format`: exit status, stdout, stderr.
fn run(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .current_dir(dir)
        .arg("check")
        .args(args)
        .env("MY_CI_SECRET", "ghp_MARKER")
        .timeout(std::time::Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn both_findings(stdout: &str) {
    assert!(
        stdout.contains("TP005") && stdout.contains("TP006"),
        "{stdout}"
    );
}

#[test]
fn a_symlinked_config_is_refused_and_never_quoted() {
    let dir = krate();
    symlink("/proc/self/environ", dir.path().join("threadlint.toml")).unwrap();
    let (rc, out, err) = run(dir.path(), &["--no-cache"]);
    assert_eq!(rc, 2, "{out}{err}");
    assert!(err.contains("symlink"), "{err}");
    assert!(!format!("{out}{err}").contains("ghp_MARKER"));
}

#[test]
fn special_and_outside_sources_are_diagnostics() {
    let dir = krate();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(
        outside.path().join("private.rs"),
        "const KEY: &str = \"sk_live_MARKER\";\n#[threadlint_macros::tool]\npub fn secret_tool(q: u32) -> u32 { q }\n#[threadlint_macros::entry]\npub fn secret_entry(ws: u32) { secret_tool(1); }\n",
    )
    .unwrap();
    let lib = format!(
        "{LIB}#[path = \"/proc/self/pagemap\"] mod pm;\n#[path = \"/dev/zero\"] mod z;\n#[path = \"{}\"] mod p;\n",
        outside.path().join("private.rs").display()
    );
    std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
    let (_, out, err) = run(dir.path(), &["--no-cache", "--color", "never"]);
    both_findings(&out);
    assert!(err.contains("outside the workspace"), "{err}");
    assert!(!format!("{out}{err}").contains("sk_live_MARKER"));
    assert!(!out.contains("secret"), "{out}");
}

#[test]
fn planted_manifests_and_cache_files_are_not_read() {
    let dir = krate();
    // A path dependency whose manifest is a symlink to an endless device.
    std::fs::create_dir_all(dir.path().join("evil")).unwrap();
    symlink("/dev/zero", dir.path().join("evil/Cargo.toml")).unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n[dependencies]\nevil = { path = \"evil\" }\n[workspace]\n",
    )
    .unwrap();
    // A committed cache folder whose files lead to /dev/zero.
    let cache = dir.path().join("target/threadlint");
    std::fs::create_dir_all(&cache).unwrap();
    std::fs::write(cache.join("CACHEDIR.TAG"), "created by threadlint\n").unwrap();
    symlink("/dev/zero", cache.join("run.bin")).unwrap();
    symlink("/dev/zero", cache.join("files.bin")).unwrap();
    let (_, out, err) = run(dir.path(), &[]);
    both_findings(&out);
    assert!(err.contains("manifest is a symlink"), "{err}");
}

#[test]
fn output_replaces_a_planted_symlink() {
    let dir = krate();
    let victim = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(victim.path(), "precious").unwrap();
    symlink(victim.path(), dir.path().join("report.sarif")).unwrap();
    symlink(victim.path(), dir.path().join("base.json")).unwrap();
    let (_, out, _) = run(
        dir.path(),
        &["--no-cache", "--format", "sarif", "-o", "report.sarif"],
    );
    assert!(out.contains("Report written"), "{out}");
    let (rc, _, _) = run(dir.path(), &["--no-cache", "--write-baseline", "base.json"]);
    assert_eq!(rc, 0);
    assert_eq!(std::fs::read_to_string(victim.path()).unwrap(), "precious");
    let sarif = std::fs::read_to_string(dir.path().join("report.sarif")).unwrap();
    assert!(sarif.contains("TP005"));
}

#[test]
fn every_flipped_byte_of_a_cache_is_caught() {
    let dir = krate();
    let (_, cold, _) = run(dir.path(), &["--no-cache", "--format", "concise"]);
    both_findings(&cold);
    // Older than the two-second window, so the cache is trusted by metadata.
    let old = std::time::SystemTime::now() - std::time::Duration::from_secs(10);
    std::fs::File::options()
        .write(true)
        .open(dir.path().join("src/lib.rs"))
        .unwrap()
        .set_modified(old)
        .unwrap();
    let (_, first, _) = run(dir.path(), &["--format", "concise"]);
    assert_eq!(first, cold);
    let cache = dir.path().join("target/threadlint");
    for name in ["run.bin", "files.bin"] {
        let good = std::fs::read(cache.join(name)).unwrap();
        for i in 0..good.len() {
            let mut bad = good.clone();
            bad[i] ^= 0x10;
            std::fs::write(cache.join(name), &bad).unwrap();
            let (_, warm, _) = run(dir.path(), &["--format", "concise"]);
            assert_eq!(warm, cold, "{name}: byte {i} flipped changed the result");
            std::fs::write(cache.join(name), &good).unwrap();
        }
    }
}

#[test]
fn injected_names_cannot_forge_output() {
    let dir = krate();
    std::fs::create_dir_all(dir.path().join("src/bin")).unwrap();
    std::fs::write(
        dir.path().join("src/bin/x\n::stop-commands::pwn\n.rs"),
        "fn main( {\n",
    )
    .unwrap();
    let lib = format!(
        "{LIB}pub fn mid(q: u32, _s: &str) {{ tool_t(q); }}\n#[threadlint_macros::entry]\npub fn entry2(ws: u32, thread_id: String) {{ mid(1, \"\x1b]0;owned\x07\x1b[2J\"); }}\n"
    );
    std::fs::write(dir.path().join("src/lib.rs"), lib).unwrap();
    for format in ["human", "concise", "github", "json", "sarif"] {
        let (_, out, err) = run(
            dir.path(),
            &["--no-cache", "--color", "never", "--format", format],
        );
        both_findings(&out);
        let all = format!("{out}{err}");
        assert!(!all.contains('\x1b'), "{format}: raw ESC");
        assert!(
            !all.lines().any(|l| l.starts_with("::stop-commands")),
            "{format}: forged command"
        );
        if format == "github" {
            assert!(
                all.lines().all(|l| l.starts_with("::")),
                "every github line is an annotation: {all}"
            );
        }
    }
}

#[test]
fn a_closed_pipe_is_a_quiet_end() {
    let dir = krate();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("threadlint"))
        .args(["check", "--no-cache"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the report is written.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("internal error"), "{err}");
    assert_eq!(out.status.code(), Some(141), "{err}");
}

#[test]
fn member_globs_stay_in_the_workspace_and_end() {
    let dir = krate();
    let ws = dir.path();
    // The crate becomes member `m` of a workspace with a symlink loop and escaping patterns.
    std::fs::create_dir_all(ws.join("m")).unwrap();
    std::fs::rename(ws.join("src"), ws.join("m/src")).unwrap();
    std::fs::write(
        ws.join("m/Cargo.toml"),
        "[package]\nname = \"demo\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(ws.join("loop")).unwrap();
    symlink(".", ws.join("loop/a")).unwrap();
    symlink(".", ws.join("loop/b")).unwrap();
    std::fs::write(
        ws.join("Cargo.toml"),
        "[workspace]\nmembers = [\"m\", \"loop/**\", \"/**\", \"../*\"]\nexclude = [\"loop/**\"]\n",
    )
    .unwrap();
    let (_, out, err) = run(ws, &["--no-cache", "--format", "concise"]);
    both_findings(&out);
    assert!(
        err.contains("workspace pattern `/**` leaves the workspace"),
        "{err}"
    );
    assert!(
        err.contains("workspace pattern `../*` leaves the workspace"),
        "{err}"
    );
}

#[test]
fn configuration_is_applied_or_refused_never_ignored() {
    let dir = krate();
    // `exclude` applies: the generated module is not analyzed, the rest is.
    std::fs::create_dir_all(dir.path().join("src/gen")).unwrap();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        format!("{LIB}pub mod gen;\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("src/gen/mod.rs"), "mod x;\n").unwrap();
    std::fs::write(
        dir.path().join("src/gen/x.rs"),
        "#[threadlint_macros::tool]\npub fn gen_tool(q: u32) -> u32 { q }\n#[threadlint_macros::entry]\npub fn gen_entry(ws: u32) { gen_tool(1); }\n",
    )
    .unwrap();
    let (_, all, _) = run(dir.path(), &["--no-cache", "--format", "concise"]);
    assert!(all.contains("gen_tool"), "{all}");
    let config = dir.path().join("threadlint.toml");
    std::fs::write(&config, "exclude = [\"src/gen/**\"]\n").unwrap();
    let (rc, out, err) = run(dir.path(), &["--no-cache", "--format", "concise"]);
    both_findings(&out);
    assert!(!out.contains("gen_tool"), "{out}");
    assert_eq!(rc, 1, "{out}{err}");
    assert!(err.is_empty(), "{err}");
    // Escaping patterns, unknown codes and levels are errors, with the key's line.
    for (text, says) in [
        ("exclude = [\"../x/**\"]\n", "exclude pattern `../x/**`"),
        ("[rules]\nTP005 = \"Error\"\n", "threadlint.toml:2:1"),
        ("[rules]\nTP999 = \"error\"\n", "`TP999`"),
    ] {
        std::fs::write(&config, text).unwrap();
        let (rc, out, err) = run(dir.path(), &["--no-cache", "--format", "concise"]);
        assert_eq!(rc, 2, "{text}: {out}{err}");
        assert!(err.contains(says), "{text}: {err}");
    }
}

/// `krate()` with one more module, `src/g.rs`.
fn krate_with(text: &str) -> tempfile::TempDir {
    let dir = krate();
    std::fs::write(dir.path().join("src/lib.rs"), format!("{LIB}mod g;\n")).unwrap();
    std::fs::write(dir.path().join("src/g.rs"), text).unwrap();
    dir
}

/// Macros nested thousands deep are read up to the file's budget, and the rest is said.
#[test]
fn deeply_nested_macros_are_cut_with_a_warning() {
    let mut nest = String::from("x()");
    for i in 0..3000 {
        nest = format!("m!({nest}, y{i})");
    }
    let dir = krate_with(&format!(
        "macro_rules! m {{ ($($t:tt)*) => {{}} }}\npub fn f() {{ {nest}; }}\n"
    ));
    let (rc, out, err) = run(dir.path(), &["--no-cache", "--format", "concise"]);
    assert_eq!(rc, 1, "{err}");
    both_findings(&out);
    assert!(
        err.contains("src/g.rs:2:") && err.contains("warning[limit]"),
        "{err}"
    );
    assert!(err.contains("nested too deep"), "{err}");
    // An ordinary nest is read whole: no warning.
    let dir = krate_with("pub fn f() { println!(\"{}\", vec![format!(\"{}\", 1)].len()); }\n");
    let (_, out, err) = run(dir.path(), &["--no-cache", "--format", "concise"]);
    both_findings(&out);
    assert!(!err.contains("limit"), "{err}");
}

/// N implementations called from N places: the edges past the budget are not followed, said
/// once, and the calls become unresolved instead of silently dropped.
#[test]
fn dispatch_fan_out_is_bounded_and_said() {
    let mut s = String::from("pub trait Skill { fn run(&self, x: u32) -> u32; }\n");
    for i in 0..2100 {
        s += &format!(
            "pub struct S{i}; impl Skill for S{i} {{ fn run(&self, x: u32) -> u32 {{ x }} }}\n"
        );
    }
    for i in 0..500 {
        s += &format!("pub fn c{i}(s: &dyn Skill) -> u32 {{ s.run({i}) }}\n");
    }
    let dir = krate_with(&s);
    let (rc, out, err) = run(dir.path(), &["--no-cache", "--format", "concise"]);
    assert_eq!(rc, 1, "{err}");
    both_findings(&out);
    assert!(
        err.contains("warning[limit]") && err.contains("is not followed"),
        "{err}"
    );
    assert!(
        err.contains("src/g.rs:2601:"),
        "the last call is the one cut: {err}"
    );
}

/// A finding on a minified line shows a window of it, not the whole line.
#[test]
fn a_long_line_is_not_copied_into_every_snippet() {
    let filler = "/* ".to_string() + &"x".repeat(200_000) + " */";
    let dir = krate();
    std::fs::write(
        dir.path().join("src/lib.rs"),
        format!("{filler} {}", LIB.replace('\n', " ")),
    )
    .unwrap();
    let (rc, out, err) = run(dir.path(), &["--no-cache", "--color", "never"]);
    assert_eq!(rc, 1, "{err}");
    both_findings(&out);
    assert!(out.len() < 10_000, "{} bytes of report", out.len());
    assert!(out.contains("[src/lib.rs:1:"), "{out}");
}

/// A huge identifier is shortened in every report, the same way each time.
#[test]
fn huge_names_are_shortened_in_reports() {
    let long = "n".repeat(50_000);
    let dir = krate_with(&format!(
        "pub fn {long}() {{ crate::tool_t(1); }}\n#[threadlint_macros::entry]\npub fn e2(ws: u32) {{ {long}(); }}\n"
    ));
    // Every format that shows the path (concise and github do not).
    for format in ["json", "sarif", "human"] {
        let (rc, out, err) = run(dir.path(), &["--no-cache", "--format", format]);
        assert_eq!(rc, 1, "{format}: {err}");
        both_findings(&out);
        assert!(
            out.contains(&format!("{}…", &long[..96])),
            "{format}: the short form is used"
        );
        assert!(
            !out.contains(&long[..200]),
            "{format}: the whole name is printed"
        );
    }
}

/// `paths` lists at most 10 000 chains, and says how many more there are.
#[test]
fn paths_are_capped_with_a_count() {
    let mut s = String::new();
    for i in 0..100 {
        s += &format!("#[threadlint_macros::tool] pub fn t{i}(x: u32) -> u32 {{ x }}\n");
    }
    s += &format!(
        "pub fn hub() {{ {} }}\n",
        (0..100).map(|i| format!("t{i}(1);")).collect::<String>()
    );
    for i in 0..101 {
        s += &format!("#[threadlint_macros::entry] pub fn e{i}(ws: u32) {{ hub(); }}\n");
    }
    let dir = krate_with(&s);
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .current_dir(dir.path())
        .args(["paths", "--format", "json", "."])
        .timeout(std::time::Duration::from_secs(120))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["chains"].as_array().unwrap().len(), 10_000);
    // 101 × 100 through the hub, and the crate's own entry_e → tool_t.
    assert_eq!(doc["omitted"], 101, "{err}");
    assert!(err.contains("101 more chains are not shown"), "{err}");
}

/// A file the run had to skip is in the SARIF report (a PR cannot hide code by breaking it).
#[test]
fn skipped_files_are_sarif_notifications() {
    let dir = krate_with("pub fn broken( {\n");
    let (rc, out, err) = run(dir.path(), &["--no-cache", "--format", "sarif"]);
    assert_eq!(rc, 1, "{err}");
    let doc: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run = &doc["runs"][0];
    assert_eq!(run["results"].as_array().unwrap().len(), 2);
    let notes = run["invocations"][0]["toolExecutionNotifications"]
        .as_array()
        .unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["level"], "error");
    assert_eq!(notes[0]["descriptor"]["id"], "parse-error");
    let loc = &notes[0]["locations"][0]["physicalLocation"];
    assert_eq!(loc["artifactLocation"]["uri"], "src/g.rs");
    assert_eq!(loc["artifactLocation"]["uriBaseId"], "%SRCROOT%");
}
