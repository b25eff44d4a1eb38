//! The analyzer honors `threadlint-macros` annotations: `fixtures/annotated` (a workspace member
//! that builds with the real macros) is clean with its annotations, and each annotation, taken
//! away, brings back the finding it answers for.

use std::path::Path;

use threadlint::{check, Options};

const LIB: &str = include_str!("../fixtures/annotated/src/lib.rs");

/// Analyze a copy of the annotated crate with `remove` (an annotation line) taken out.
fn findings_without(remove: Option<&str>) -> Vec<(String, String, u32)> {
    findings_without_all(remove.as_slice())
}

fn findings_without_all(remove: &[&str]) -> Vec<(String, String, u32)> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"annotated\"\nversion = \"0.0.0\"\nedition = \"2021\"\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("src")).unwrap();
    let src: String = LIB
        .lines()
        // Keep line numbers: blank an annotation instead of deleting it.
        .map(|l| {
            if remove.iter().any(|r| l.trim_start().starts_with(r)) {
                ""
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    for r in remove {
        assert!(
            LIB.lines().any(|l| l.trim_start().starts_with(r)),
            "annotation `{r}` not found"
        );
    }
    std::fs::write(dir.path().join("src/lib.rs"), src).unwrap();
    check(&[dir.path().to_path_buf()], Options::default())
        .unwrap()
        .located()
}

fn line_of(needle: &str) -> u32 {
    LIB.lines().position(|l| l.contains(needle)).expect(needle) as u32 + 1
}

fn f(rule: &str, needle: &str) -> (String, String, u32) {
    (rule.to_string(), "src/lib.rs".to_string(), line_of(needle))
}

#[test]
fn the_fixture_is_a_workspace_member_that_builds() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
    assert!(
        manifest.contains("\"fixtures/annotated\""),
        "not a workspace member"
    );
}

#[test]
fn with_every_annotation_there_is_nothing_to_report() {
    assert_eq!(findings_without(None), vec![]);
}

#[test]
fn each_annotation_answers_for_a_finding() {
    // `#[tl::propagates(conversation)]`: `relay` forwards the context as a plain `u64`. Without
    // it the call drops the context, and the `Conversation` relay builds from the bare `u64` is
    // made up (every field of a context literal counts, SPEC §4).
    assert_eq!(
        findings_without(Some("#[tl::propagates")),
        vec![
            f("TP001", "relay(raw, text, self)"),
            (
                "TP002".to_string(),
                "src/lib.rs".to_string(),
                line_of("pub fn relay(") + 1
            ),
        ]
    );
    // `#[tl::origin]`: the nightly job may create its conversation.
    assert_eq!(
        findings_without(Some("#[tl::origin]")),
        vec![f("TP002", "let conv = nightly_conversation();")]
    );
    // `#[tl::allow(TP001, …)]`: digests are global by design.
    assert_eq!(
        findings_without(Some("#[tl::allow(")),
        vec![f("TP001", "self.digest(text)")]
    );
    // `#[tool]` and `#[skill]` (`use threadlint_macros::tool as skill`, resolved like a call path):
    // without both nothing is a tool, so the declared `#[entry]` reaches none and the `allow` has
    // nothing left to suppress (both TP009). Either one alone still makes a tool.
    assert_eq!(
        findings_without_all(&["#[tool]", "#[skill]"]),
        vec![f("TP009", "#[entry]"), f("TP009", "#[tl::allow(")]
    );
    assert_eq!(findings_without(Some("#[tool]")), vec![]);
    assert_eq!(findings_without(Some("#[skill]")), vec![]);
    // `#[entry]`: the chains no longer start anywhere, so no code is entry-reachable and the TP001
    // the `allow` answers is not reported (SPEC §4): the `allow` is left with nothing to suppress.
    assert_eq!(
        findings_without(Some("#[entry]")),
        vec![f("TP009", "#[tl::allow(")]
    );
    // `#[tl::context]`: without it `Conversation` is not a context, so nothing is dropped and the
    // `allow` is left with nothing to suppress. The context model that remains is the one
    // `#[tl::propagates(conversation)]` declares (SPEC §3: a context name occurs), and in it the
    // two tools have no way to receive a context (TP005) and the entry establishes none (TP006).
    assert_eq!(
        findings_without(Some("#[tl::context]")),
        vec![
            f(
                "TP005",
                "fn run(&self, conv: &Conversation, input: &str) -> String;"
            ),
            f("TP005", "pub fn remember("),
            f("TP006", "pub fn on_frame("),
            f("TP009", "#[tl::allow("),
        ]
    );
}
