//! Every rule fixture reports exactly its expected findings: `fixtures/rules/*/expected.txt` and
//! `fixtures/chat-platform*/expected.txt` list `RULE path:line` per finding at warning or error
//! level (an empty list: the fixture must stay silent); a fixture that lists a TP010 note lists
//! every note too. All fixtures are checked, and every difference is listed before the test fails.

use std::path::{Path, PathBuf};

use threadlint::{check, Options};

fn fixtures() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root.join("rules"))
        .expect("fixtures/rules exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expected.txt").is_file())
        .collect();
    dirs.push(root.join("chat-platform"));
    dirs.push(root.join("chat-platform-fixed"));
    dirs.sort();
    dirs
}

fn expected(dir: &Path) -> Vec<(String, String, u32)> {
    let text = std::fs::read_to_string(dir.join("expected.txt")).expect("expected.txt");
    let mut v: Vec<(String, String, u32)> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (rule, loc) = l.split_once(char::is_whitespace).expect("RULE path:line");
            let loc = loc.split_whitespace().next().expect("path:line");
            let (file, line) = loc.rsplit_once(':').expect("path:line");
            (
                rule.to_string(),
                file.to_string(),
                line.parse().expect("line number"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn every_fixture_reports_exactly_its_expected_findings() {
    let dirs = fixtures();
    assert!(dirs.len() >= 10, "rule fixtures are missing: {dirs:?}");
    let mut failures = Vec::new();
    let mut fire = 0;
    let mut silent = 0;
    for dir in &dirs {
        let name = dir
            .strip_prefix(env!("CARGO_MANIFEST_DIR"))
            .unwrap_or(dir)
            .display()
            .to_string();
        let want = expected(dir);
        if want.is_empty() {
            silent += 1;
        } else {
            fire += 1;
        }
        let report = match check(std::slice::from_ref(dir), Options::default()) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{name}: {e}"));
                continue;
            }
        };
        let with_notes = want.iter().any(|w| w.0 == "TP010");
        let got: Vec<(String, String, u32)> = if with_notes {
            let mut v: Vec<_> = report
                .findings
                .iter()
                .map(|f| (f.code.to_string(), report.files[f.file].clone(), f.loc.line))
                .collect();
            v.sort();
            v
        } else {
            report.located()
        };
        for w in &want {
            if !got.contains(w) {
                failures.push(format!("{name}: missing   {} {}:{}", w.0, w.1, w.2));
            }
        }
        for g in &got {
            if !want.contains(g) {
                let msg = report
                    .findings
                    .iter()
                    .find(|f| f.code == g.0 && f.loc.line == g.2)
                    .map(|f| f.message.clone())
                    .unwrap_or_default();
                failures.push(format!(
                    "{name}: unexpected {} {}:{} — {msg}",
                    g.0, g.1, g.2
                ));
            }
        }
    }
    assert!(
        fire >= 5 && silent >= 5,
        "need firing and silent fixtures: {fire} fire, {silent} silent"
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
