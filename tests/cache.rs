//! The cache never changes what a run reports: after every kind of change to the workspace, a
//! cached `check` prints exactly what a `--no-cache` run prints — and the cache was really used.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

mod common;
use common::copy_dir;

/// A private copy of the demo workspace (with a Cargo.toml of its own).
fn workspace() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("chat-platform");
    copy_dir(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/chat-platform"),
        &dir,
    );
    (tmp, dir)
}

/// Exit status, stdout and stderr of `threadlint check DIR --format json` plus `extra`.
fn check(dir: &Path, extra: &[&str]) -> (Option<i32>, String, String) {
    check_env(dir, extra, &[])
}

/// [`check`] with environment variables.
fn check_env(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .arg("check")
        .arg(dir)
        .args(["--format", "json"])
        .args(extra)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// What the cache served this run, from `--verbose`.
#[derive(Debug, PartialEq)]
enum Served {
    /// The whole result of the last run.
    Result,
    /// `reused` summaries, `parsed` files parsed.
    Files { reused: usize, parsed: usize },
}

/// Run with the cache and without it: the reports must be identical (stderr too, minus the
/// `--verbose` lines). Returns what the cache served and the report.
fn same_as_uncached(dir: &Path) -> (Served, String) {
    let (code, out, err) = check(dir, &["--verbose"]);
    let (code0, out0, err0) = check(dir, &["--no-cache"]);
    let verbose: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("threadlint: cache:") || l.starts_with("threadlint: timings"))
        .collect();
    let rest: Vec<&str> = err.lines().filter(|l| !verbose.contains(l)).collect();
    assert_eq!(code, code0, "exit status differs\n{err}\n---\n{err0}");
    assert_eq!(out, out0, "report differs from a --no-cache run");
    assert_eq!(rest.join("\n"), err0.trim_end(), "diagnostics differ");
    let cache_line = verbose
        .iter()
        .find(|l| l.starts_with("threadlint: cache:"))
        .unwrap_or_else(|| panic!("no cache line in --verbose output:\n{err}"));
    let served = if cache_line.contains("its result is reused") {
        Served::Result
    } else {
        let nums: Vec<usize> = cache_line
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|n| n.parse().ok())
            .collect();
        assert_eq!(nums.len(), 2, "{cache_line}");
        Served::Files {
            reused: nums[0],
            parsed: nums[1],
        }
    };
    (served, out)
}

fn findings(report: &str) -> usize {
    let v: serde_json::Value = serde_json::from_str(report).unwrap();
    v["findings"].as_array().unwrap().len()
}

const FILES: usize = 15;

/// Make a file's modification time certainly different from what the cache recorded (the
/// cache itself does not trust times within two seconds of a write, so this is about the test
/// exercising the metadata path, not about correctness).
fn age(path: &Path, secs: u64) {
    let t = std::time::SystemTime::now() - std::time::Duration::from_secs(secs);
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

fn age_all(dir: &Path) {
    for e in walk(dir) {
        age(&e, 3600);
    }
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.file_name().is_some_and(|n| n == "target") {
            continue;
        }
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn cold_then_warm_runs_report_the_same() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    let (served, report) = same_as_uncached(&dir);
    assert_eq!(
        served,
        Served::Files {
            reused: 0,
            parsed: FILES
        }
    );
    assert_eq!(findings(&report), 8);
    let cache = dir.join("target/threadlint");
    assert!(cache.join("CACHEDIR.TAG").is_file());
    assert!(fs::read_to_string(cache.join(".gitignore"))
        .unwrap()
        .contains("\n*\n"));
    assert!(fs::read_to_string(cache.join("CACHEDIR.TAG"))
        .unwrap()
        .starts_with("Signature: 8a477f597d28d172789f06886806bc55"));
    let (served, _) = same_as_uncached(&dir);
    assert_eq!(served, Served::Result);
}

#[test]
fn an_edited_file_is_parsed_again_and_only_it() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    let (_, before) = same_as_uncached(&dir);
    // Fix the TP007 defect: the shared slot no longer receives the context.
    let ws = dir.join("src/ws.rs");
    let text = fs::read_to_string(&ws).unwrap();
    let fixed = text.replace(
        "*state.current_thread.lock().await = Some(ctx.clone());",
        "let _ = &ctx;",
    );
    assert_ne!(text, fixed, "the fixture changed: update this test");
    fs::write(&ws, fixed).unwrap();
    let (served, after) = same_as_uncached(&dir);
    assert_eq!(
        served,
        Served::Files {
            reused: FILES - 1,
            parsed: 1
        }
    );
    assert_eq!(findings(&after), findings(&before) - 1);
    assert!(!after.contains("TP007"), "{after}");
}

#[test]
fn an_edit_of_the_same_length_within_the_same_second_is_seen() {
    let (_tmp, dir) = workspace();
    let (_, before) = same_as_uncached(&dir);
    let ws = dir.join("src/ws.rs");
    let text = fs::read_to_string(&ws).unwrap();
    // Same length, same (fresh) modification time as far as a coarse clock can tell.
    let edited = text.replace("current_thread", "current_thraed");
    assert_eq!(edited.len(), text.len());
    assert_ne!(edited, text);
    fs::write(&ws, &edited).unwrap();
    let (_, after) = same_as_uncached(&dir);
    assert_ne!(before, after);
}

#[test]
fn a_touched_file_is_hashed_not_parsed() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    same_as_uncached(&dir);
    age(&dir.join("src/ws.rs"), 60);
    let (served, _) = same_as_uncached(&dir);
    assert_eq!(served, Served::Result);
}

#[test]
fn a_renamed_file_reports_as_without_cache() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    same_as_uncached(&dir);
    // The module now lives under another name: `mod memory;` must find its file again.
    fs::rename(
        dir.join("src/tools/memory.rs"),
        dir.join("src/tools/recall.rs"),
    )
    .unwrap();
    let (served, report) = same_as_uncached(&dir);
    assert!(
        matches!(served, Served::Files { .. }),
        "a missing module must not be served from the last result"
    );
    let (_, err) = (0, check(&dir, &["--no-cache"]).2);
    assert!(err.contains("missing-module"), "{err}");
    let _ = report;
    // Point the declaration at the new name: the renamed file is parsed (its path is new).
    let m = dir.join("src/tools/mod.rs");
    let text = fs::read_to_string(&m).unwrap();
    assert!(text.contains("pub mod memory;"), "the fixture changed");
    fs::write(&m, text.replace("pub mod memory;", "pub mod recall;")).unwrap();
    let (served, _) = same_as_uncached(&dir);
    assert!(
        matches!(served, Served::Files { parsed: 2, .. }),
        "{served:?}"
    );
}

#[test]
fn a_deleted_file_reports_as_without_cache() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    let (_, before) = same_as_uncached(&dir);
    fs::remove_file(dir.join("src/handler.rs")).unwrap();
    let (served, after) = same_as_uncached(&dir);
    assert_eq!(
        served,
        Served::Files {
            reused: FILES - 1,
            parsed: 0
        }
    );
    assert_ne!(before, after);
}

#[test]
fn a_new_file_where_a_module_was_missing_is_found() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    let lib = dir.join("src/lib.rs");
    let text = fs::read_to_string(&lib).unwrap();
    fs::write(&lib, format!("{text}\npub mod later;\n")).unwrap();
    age(&lib, 3600);
    let (_, before) = same_as_uncached(&dir);
    assert!(check(&dir, &[]).2.contains("missing-module"));
    fs::write(
        dir.join("src/later.rs"),
        "pub fn fresh() -> crate::context::ThreadContext { crate::context::ThreadContext::default() }\n",
    )
    .unwrap();
    let (served, after) = same_as_uncached(&dir);
    assert!(
        matches!(served, Served::Files { parsed: 1, .. }),
        "{served:?}"
    );
    assert!(!check(&dir, &[]).2.contains("missing-module"));
    let _ = (before, after);
}

#[test]
fn a_config_change_reruns_the_analysis() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    let (_, before) = same_as_uncached(&dir);
    fs::write(dir.join("threadlint.toml"), "[rules]\nTP007 = \"allow\"\n").unwrap();
    let (served, after) = same_as_uncached(&dir);
    assert_eq!(
        served,
        Served::Files {
            reused: FILES,
            parsed: 0
        },
        "a config change re-runs the rules on cached summaries"
    );
    assert_eq!(findings(&after), findings(&before) - 1);
    fs::remove_file(dir.join("threadlint.toml")).unwrap();
    let (_, again) = same_as_uncached(&dir);
    assert_eq!(again, before);
}

#[test]
fn include_tests_has_its_own_cache_entries() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    same_as_uncached(&dir);
    let (code, out, _) = check(&dir, &["--include-tests"]);
    let (code0, out0, _) = check(&dir, &["--include-tests", "--no-cache"]);
    assert_eq!((code, out), (code0, out0));
}

#[test]
fn corrupt_cache_files_are_ignored_and_rewritten() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    let (_, before) = same_as_uncached(&dir);
    let cache = dir.join("target/threadlint");
    let names: Vec<PathBuf> = fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "bin"))
        .collect();
    assert!(names.len() >= 2, "{names:?}");
    for (i, p) in names.iter().enumerate() {
        let mut bytes = fs::read(p).unwrap();
        if i % 2 == 0 {
            bytes.truncate(bytes.len() / 2);
        } else {
            for b in bytes.iter_mut().skip(8).step_by(7) {
                *b ^= 0x5a;
            }
        }
        fs::write(p, bytes).unwrap();
    }
    let (_, after) = same_as_uncached(&dir);
    assert_eq!(before, after);
    let (served, _) = same_as_uncached(&dir);
    assert_eq!(served, Served::Result, "the cache was rewritten");
}

#[test]
fn cache_dir_and_no_cache_are_respected() {
    let (tmp, dir) = workspace();
    let elsewhere = tmp.path().join("cache-here");
    let (code, _, err) = check(&dir, &["--cache-dir", elsewhere.to_str().unwrap()]);
    assert!(matches!(code, Some(0 | 1)), "{err}");
    assert!(elsewhere.join("files.bin").is_file());
    assert!(
        !dir.join("target").exists(),
        "--cache-dir writes nowhere else"
    );
    check(&dir, &["--no-cache"]);
    assert!(!dir.join("target").exists(), "--no-cache writes nothing");
}

#[test]
fn a_file_that_failed_is_looked_at_again() {
    let (_tmp, dir) = workspace();
    age_all(&dir);
    // A file the analysis could not take (here: a bug injected into it) …
    let (_, _, err) = check_env(&dir, &[], &[("THREADLINT_INJECT_PANIC", "engine.rs")]);
    assert!(err.contains("error[internal]"), "{err}");
    // … is analyzed on the next run, even though its metadata did not change.
    let (served, report) = same_as_uncached(&dir);
    assert!(
        matches!(served, Served::Files { parsed: 1, .. }),
        "{served:?}"
    );
    assert_eq!(findings(&report), 8);
}

#[test]
fn a_cache_folder_that_came_from_elsewhere_is_not_trusted() {
    let (tmp, dir) = workspace();
    age_all(&dir);
    same_as_uncached(&dir);
    // As if committed to the repository and checked out: same bytes, new files.
    let cache = dir.join("target/threadlint");
    let copy = tmp.path().join("copy");
    copy_dir(&cache, &copy);
    fs::remove_dir_all(&cache).unwrap();
    copy_dir(&copy, &cache);
    let (served, _) = same_as_uncached(&dir);
    assert_eq!(
        served,
        Served::Files {
            reused: 0,
            parsed: FILES
        }
    );
}

#[cfg(unix)]
#[test]
fn cache_writes_never_go_through_symlinks() {
    let (tmp, dir) = workspace();
    let victim = tmp.path().join("victim");
    fs::write(&victim, "precious\n").unwrap();
    // A checkout that plants links where the cache writes its tag files …
    let cache = dir.join("target/threadlint");
    fs::create_dir_all(&cache).unwrap();
    std::os::unix::fs::symlink(&victim, cache.join(".gitignore")).unwrap();
    std::os::unix::fs::symlink(&victim, cache.join("run.bin")).unwrap();
    same_as_uncached(&dir);
    assert_eq!(fs::read_to_string(&victim).unwrap(), "precious\n");
    // … or points `target` somewhere else: no cache at all.
    let (tmp2, dir2) = workspace();
    let elsewhere = tmp2.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir2.join("target")).unwrap();
    let (code, _, _) = check(&dir2, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn an_existing_folder_given_as_cache_dir_gets_a_subfolder() {
    let (tmp, dir) = workspace();
    let mine = tmp.path().join("mine");
    fs::create_dir_all(&mine).unwrap();
    fs::write(mine.join(".gitignore"), "keep me\n").unwrap();
    check(&dir, &["--cache-dir", mine.to_str().unwrap()]);
    assert_eq!(
        fs::read_to_string(mine.join(".gitignore")).unwrap(),
        "keep me\n"
    );
    assert!(!mine.join("CACHEDIR.TAG").exists());
    assert!(mine.join("threadlint/CACHEDIR.TAG").is_file());
}

#[cfg(unix)]
#[test]
fn a_workspace_reached_through_a_symlink_reports_the_same() {
    let (tmp, dir) = workspace();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&dir, &link).unwrap();
    let (code, out, err) = check(&link, &["--no-cache"]);
    let (code0, out0, _) = check(&dir, &["--no-cache"]);
    assert!(!err.contains("symlink"), "{err}");
    assert_eq!((code, findings(&out)), (code0, findings(&out0)));
}
