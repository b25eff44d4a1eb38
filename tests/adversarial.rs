//! Inputs that break naive tools: deep nesting, huge and generated files, bad encodings, module
//! cycles, symlink loops, macros. None may panic or hang, and the good files beside them are still
//! analyzed (part of issue #7; fuzzing and the rest of the list come next).

use std::path::Path;

use assert_cmd::Command;

fn package(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[package]\nname = \"adv\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    for (p, c) in files {
        let path = dir.path().join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, c).unwrap();
    }
    dir
}

/// Run `check` (concise); the exit status and stdout+stderr.
fn check(dir: &Path) -> (i32, String) {
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .args(["check", "--format", "concise"])
        .arg(dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("panicked"), "{text}");
    (out.status.code().unwrap_or(-1), text)
}

/// A chat chain whose drop (TP001 at line 6 of `chain.rs`) must be found whatever sits beside it.
const CHAIN: &str = "use axum::extract::ws::WebSocket;
pub struct ThreadContext { pub thread_id: String }
pub trait Tool { fn call(&self, ctx: &ThreadContext) -> String; }
pub struct T;
impl Tool for T { fn call(&self, ctx: &ThreadContext) -> String { ctx.thread_id.clone() } }
pub async fn ws(s: WebSocket) { let ctx = ThreadContext { thread_id: s.id() }; later(); let _ = ctx; }
fn later() { let c = ThreadContext { thread_id: \"x\".into() }; T.call(&c); }
";

fn assert_chain_found(text: &str) {
    assert!(
        text.contains("src/chain.rs:6:"),
        "the good file's finding is lost:\n{text}"
    );
}

#[test]
fn deep_nesting_does_not_overflow() {
    let parens = format!(
        "pub fn f() -> u32 {{ {}1{} }}\n",
        "(".repeat(10_000),
        ")".repeat(10_000)
    );
    let blocks = format!(
        "pub fn g() {{ {}h();{} }}\nfn h() {{}}\n",
        "{ ".repeat(5_000),
        " }".repeat(5_000)
    );
    let calls = format!(
        "pub fn k() {{ {}1{}; }}\nfn a(x: u32) -> u32 {{ x }}\n",
        "a(".repeat(3_000),
        ")".repeat(3_000)
    );
    let chain = format!(
        "pub fn m(x: S) {{ x{}; }}\npub struct S;\nimpl S {{ pub fn n(&self) -> S {{ S }} }}\n",
        ".n()".repeat(5_000)
    );
    let fields = format!(
        "pub struct S {{ pub a: Box<S> }}\npub fn p(x: S) {{ let _y = x{}; }}\npub fn q(x: u32) -> u32 {{ {}x }}\npub fn r() {{ let _ = {}1; }}\n",
        ".a".repeat(30_000),
        "-".repeat(30_000),
        "&".repeat(30_000)
    );
    let dir = package(&[
        (
            "src/lib.rs",
            b"mod parens; mod blocks; mod calls; mod methods; mod fields; mod chain;\n",
        ),
        ("src/fields.rs", fields.as_bytes()),
        ("src/parens.rs", parens.as_bytes()),
        ("src/blocks.rs", blocks.as_bytes()),
        ("src/calls.rs", calls.as_bytes()),
        ("src/methods.rs", chain.as_bytes()),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert_chain_found(&text);
}

#[test]
fn generated_code_and_long_call_chains() {
    // 20,000 functions calling each other in a chain, and a 20,000-statement function.
    let mut chain: String = (0..20_000)
        .map(|i| format!("pub fn f{i}() {{ f{}(); }}\n", i + 1))
        .collect();
    chain.push_str("pub fn f20000() { f0(); }\n");
    let long: String = std::iter::once("pub fn long() {\n".to_string())
        .chain((0..20_000).map(|i| format!("    let v{i} = {i} + 1;\n")))
        .chain(std::iter::once("}\n".to_string()))
        .collect();
    let dir = package(&[
        ("src/lib.rs", b"mod gen; mod long; mod chain;\n"),
        ("src/gen.rs", chain.as_bytes()),
        ("src/long.rs", long.as_bytes()),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert_chain_found(&text);
}

#[test]
fn encodings_empty_files_and_odd_identifiers() {
    let dir = package(&[
        ("src/lib.rs", b"mod bad; mod bom; mod empty; mod crlf; mod odd; mod chain;\n"),
        ("src/bad.rs", b"pub fn x() { let s = \"\xff\xfe\"; }\n"),
        ("src/bom.rs", "\u{feff}//! with a BOM\npub fn b() { c() }\nfn c() {}\n".as_bytes()),
        ("src/empty.rs", b""),
        ("src/crlf.rs", b"pub fn d() {\r\n    e();\r\n}\r\nfn e() {}\r\n"),
        (
            "src/odd.rs",
            "#![cfg(any())]\ninclude!(\"generated.rs\");\nmacro_rules! m { ($x:expr) => { $x } }\npub fn r#type() -> u32 { m!(1) }\npub fn 名前() { r#type(); }\n".as_bytes(),
        ),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("src/bad.rs:1:23: error[encoding]: file is not valid UTF-8; skipped"),
        "{text}"
    );
    assert_chain_found(&text);
}

#[test]
fn module_cycles_and_symlink_loops() {
    let dir = package(&[
        ("src/lib.rs", b"#[path = \"a.rs\"] mod a;\nmod chain;\n"),
        (
            "src/a.rs",
            b"#[path = \"lib.rs\"] mod again;\n#[path = \"a.rs\"] mod me;\npub fn f() {}\n",
        ),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    #[cfg(unix)]
    std::os::unix::fs::symlink("..", dir.path().join("src/up")).unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("warning[module-cycle]"), "{text}");
    assert_chain_found(&text);
    // A folder without a manifest is walked; the walk does not follow the loop.
    let (code, text) = check(&dir.path().join("src"));
    assert!(code == 0 || code == 1, "{text}");
}

#[test]
fn a_manifest_that_is_not_toml_is_a_located_error() {
    let dir = package(&[("src/lib.rs", b"pub fn x() {}\n")]);
    std::fs::write(dir.path().join("Cargo.toml"), "[package\nname = 1\n").unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 2, "{text}");
    assert!(
        text.contains("Cargo.toml:1:9: error[manifest]: not a valid Cargo.toml"),
        "{text}"
    );
}
