//! Call-graph facts for every scenario under `fixtures/resolve/*/expected.txt`.
//!
//! Each line of `expected.txt` is one fact: `edge A -> B`, `noedge A -> B`, `node N`, `nonode N`,
//! `unresolved A : text`, `diag file:line text`. All facts of all scenarios are checked, and every
//! failure is listed before the test fails.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use threadlint::diagnostic::display_path;
use threadlint::{build_graph, load, Options, Timings};

fn scenarios() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/resolve");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("fixtures/resolve exists")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.join("expected.txt").is_file())
        .collect();
    dirs.sort();
    dirs
}

fn check_scenario(dir: &Path) -> Vec<String> {
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let loaded = load(&[dir.to_path_buf()], &Options::default()).expect("scenario loads");
    let mut t = Timings::default();
    let gr = build_graph(&loaded, &threadlint::config::Config::default(), &mut t);
    let (ix, g) = (&gr.ix, &gr.graph);
    let names: Vec<String> = (0..g.nodes.len()).map(|n| g.node_name(ix, n)).collect();
    let nodes: HashSet<&str> = names.iter().map(String::as_str).collect();
    let edges: HashSet<(&str, &str)> = g
        .edges
        .iter()
        .map(|e| (names[e.from].as_str(), names[e.to].as_str()))
        .collect();
    let root = &loaded.project.root;
    let diags: Vec<(String, u32, String)> = loaded
        .diags()
        .iter()
        .map(|d| {
            (
                display_path(&d.file, root),
                d.loc.map_or(0, |l| l.line),
                d.message.to_lowercase(),
            )
        })
        .collect();
    let _ = ix;
    let text = std::fs::read_to_string(dir.join("expected.txt")).unwrap();
    let mut failures = Vec::new();
    let mut facts = 0;
    for (ln, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        facts += 1;
        let (kind, rest) = line.split_once(' ').unwrap_or((line, ""));
        let rest = rest.trim();
        let ok = match kind {
            "edge" | "noedge" => {
                let (a, b) = rest.split_once(" -> ").expect("edge A -> B");
                let has = edges.contains(&(a.trim(), b.trim()));
                if kind == "edge" {
                    has
                } else {
                    !has
                }
            }
            "node" => nodes.contains(rest),
            "nonode" => !nodes.contains(rest),
            "unresolved" => {
                let (a, t) = rest.split_once(" : ").expect("unresolved A : text");
                g.unresolved
                    .iter()
                    .any(|u| names[u.from] == a.trim() && u.callee.contains(t.trim()))
            }
            "diag" => {
                let (loc, t) = rest.split_once(' ').expect("diag file:line text");
                let (file, l) = loc.rsplit_once(':').expect("file:line");
                let l: u32 = l.parse().expect("line number");
                let t = t.trim().to_lowercase();
                diags
                    .iter()
                    .any(|(f, dl, m)| f == file && *dl == l && m.contains(&t))
            }
            other => panic!("{name}/expected.txt:{}: unknown fact `{other}`", ln + 1),
        };
        if !ok {
            failures.push(format!("{name}/expected.txt:{}: {line}", ln + 1));
        }
    }
    assert!(facts > 0, "{name}: expected.txt has no facts");
    failures
}

#[test]
fn resolve_fixtures_match_expected_facts() {
    let dirs = scenarios();
    assert!(dirs.len() >= 9, "resolve scenarios are missing: {dirs:?}");
    let mut failures = Vec::new();
    for d in &dirs {
        failures.extend(check_scenario(d));
    }
    assert!(
        failures.is_empty(),
        "{} call-graph facts do not hold:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
