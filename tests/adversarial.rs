//! Inputs that break naive tools: deep nesting, huge and generated files, bad encodings, module
//! cycles, symlink loops, macros. None may panic or hang, and the good files beside them are still
//! analyzed (issue #7; the fuzz target in `fuzz/` feeds arbitrary bytes through the same pipeline).

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
    check_with(dir, &[], &[])
}

/// [`check`] with more arguments and environment variables.
fn check_with(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, String) {
    let out = Command::cargo_bin("threadlint")
        .unwrap()
        .args(["check", "--format", "concise"])
        .args(args)
        .arg(dir)
        .envs(env.iter().copied())
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
    // 20,000 functions calling each other in a chain, and a 100,000-line function.
    let mut chain: String = (0..20_000)
        .map(|i| format!("pub fn f{i}() {{ f{}(); }}\n", i + 1))
        .collect();
    chain.push_str("pub fn f20000() { f0(); }\n");
    let long: String = std::iter::once("pub fn long() {\n".to_string())
        .chain((0..100_000).map(|i| format!("    let v{i} = step(v{});\n", i.max(1) - 1)))
        .chain(std::iter::once(
            "}\nfn step(x: u32) -> u32 { x }\n".to_string(),
        ))
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
fn a_manifest_that_is_not_toml_is_a_located_error_and_the_sources_are_still_analyzed() {
    let dir = package(&[
        ("src/lib.rs", b"mod chain;\n"),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    std::fs::write(dir.path().join("Cargo.toml"), "[package\nname = 1\n").unwrap();
    let (code, text) = check(dir.path());
    assert!(
        text.contains("Cargo.toml:1:9: error[manifest]: not a valid Cargo.toml"),
        "{text}"
    );
    assert!(text.contains("with the default layout"), "{text}");
    assert_eq!(code, 1, "{text}");
    assert_chain_found(&text);
    // Nothing to analyze at all: exit 2, with the reason (and the manifest error once).
    let empty = tempfile::tempdir().unwrap();
    std::fs::write(empty.path().join("Cargo.toml"), "[package\nname = 1\n").unwrap();
    let (code, text) = check(empty.path());
    assert_eq!(code, 2, "{text}");
    assert!(text.contains("no Rust files could be analyzed"), "{text}");
    assert_eq!(text.matches("not a valid Cargo.toml").count(), 1, "{text}");
}

#[test]
fn a_workspace_member_glob_matching_nothing() {
    let dir = package(&[
        (
            "crates/a/Cargo.toml",
            b"[package]\nname = \"a\"\nversion = \"0.1.0\"\n",
        ),
        ("crates/a/src/lib.rs", b"mod chain;\n"),
        ("crates/a/src/chain.rs", CHAIN.as_bytes()),
    ]);
    std::fs::write(
        dir.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"crates/*\", \"nothing/*\", \"missing\"]\n",
    )
    .unwrap();
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("crates/a/src/chain.rs:6:"), "{text}");
}

#[test]
fn a_ten_megabyte_file() {
    // About 230,000 one-line functions: 10 MB of generated code in one file.
    let mut big = String::with_capacity(10 << 20);
    let mut i = 0;
    while big.len() < 10 << 20 {
        big.push_str(&format!(
            "pub fn g{i}(x: u32) -> u32 {{ x.wrapping_add({i}) }}\n"
        ));
        i += 1;
    }
    let dir = package(&[
        ("src/lib.rs", b"mod big; mod chain;\n"),
        ("src/big.rs", big.as_bytes()),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert_chain_found(&text);
}

#[test]
fn a_dense_call_graph_with_100k_edges_in_cycles() {
    // 1,000 functions, each calling 100 others (every call passes the context): 100,000 edges,
    // cycles everywhere, an entry in front and a tool behind. Path search must stay polynomial.
    let n = 1000;
    let mut src = String::from(
        "use axum::extract::ws::WebSocket;\nuse crate::chain::{ThreadContext, Tool, T};\n\
         pub async fn entry(s: WebSocket) { let ctx = ThreadContext { thread_id: s.id() }; d0(&ctx); }\n",
    );
    for i in 0..n {
        src.push_str(&format!("pub fn d{i}(ctx: &ThreadContext) {{"));
        for k in 1..=100 {
            src.push_str(&format!(" d{}(ctx);", (i * 7 + k * 13) % n));
        }
        if i == n - 1 {
            src.push_str(" T.call(ctx); dropped();");
        }
        src.push_str(" }\n");
    }
    src.push_str(
        "fn dropped() { let c = ThreadContext { thread_id: String::new() }; T.call(&c); }\n",
    );
    let dir = package(&[
        ("src/lib.rs", b"pub mod dense; pub mod chain;\n"),
        ("src/dense.rs", src.as_bytes()),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let (code, text) = check(dir.path());
    assert_eq!(code, 1, "{text}");
    assert_chain_found(&text);
    assert!(
        text.contains("src/dense.rs:"),
        "the dense graph's drop is found:\n{text}"
    );
}

#[cfg(unix)]
#[test]
fn special_and_unreadable_files_and_symlinks_out_of_the_workspace() {
    use std::os::unix::fs::PermissionsExt;
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.rs"), "pub fn secret() {}\n").unwrap();
    std::fs::create_dir(outside.path().join("vault")).unwrap();
    std::fs::write(outside.path().join("vault/mod.rs"), "pub fn vault() {}\n").unwrap();
    let dir = package(&[
        (
            "src/lib.rs",
            b"mod fifo; mod dangling; mod locked; mod outside; mod chain; mod vault;\n",
        ),
        ("src/locked.rs", b"pub fn locked() {}\n"),
        ("src/private/x.rs", b"pub fn x() {}\n"),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let src = dir.path().join("src");
    let fifo = std::process::Command::new("mkfifo")
        .arg(src.join("fifo.rs"))
        .status();
    std::os::unix::fs::symlink("nowhere.rs", src.join("dangling.rs")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("secret.rs"), src.join("outside.rs")).unwrap();
    // A linked folder leads out too: the file in it is not a link itself.
    std::os::unix::fs::symlink(outside.path().join("vault"), src.join("vault")).unwrap();
    let lock = |p: &Path, mode: u32| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    lock(&src.join("locked.rs"), 0o000);
    lock(&src.join("private"), 0o000);
    // Root reads everything: then the unreadable cases cannot be seen, only survived.
    let enforced = std::fs::read(src.join("locked.rs")).is_err();
    let (code, text) = check(dir.path());
    let (code2, text2) = check(&src);
    lock(&src.join("private"), 0o755);
    lock(&src.join("locked.rs"), 0o644);
    assert_eq!(code, 1, "{text}");
    assert_chain_found(&text);
    if fifo.is_ok_and(|s| s.success()) {
        assert!(text.contains("file not found for module `fifo`"), "{text}");
    }
    assert!(
        text.contains("file not found for module `dangling`"),
        "{text}"
    );
    assert!(
        text.contains("src/outside.rs: error[symlink]: a symlink leads out of the workspace"),
        "{text}"
    );
    assert!(
        text.contains("src/vault/mod.rs: error[symlink]: a symlink leads out of the workspace"),
        "{text}"
    );
    if enforced {
        assert!(
            text.contains("src/locked.rs: error[io]: cannot read file"),
            "{text}"
        );
    }
    // Told to, it follows the link.
    let (code4, text4) = check_with(dir.path(), &["--no-cache", "--follow-symlinks"], &[]);
    assert!(!text4.contains("error[symlink]"), "{text4}");
    assert_eq!(code4, 1, "{text4}");
    // A target that is a device would never end, and it is outside the workspace: not read.
    let dev = package(&[("src/chain.rs", CHAIN.as_bytes())]);
    std::fs::write(
        dev.path().join("Cargo.toml"),
        "[package]\nname = \"adv\"\nversion = \"0.1.0\"\n[lib]\npath = \"/dev/zero\"\n[[bin]]\nname = \"b\"\npath = \"src/chain.rs\"\n",
    )
    .unwrap();
    let (code3, text3) = check(dev.path());
    assert!(
        text3.contains("/dev/zero: error[outside]: outside the workspace; not read"),
        "{text3}"
    );
    assert_eq!(code3, 1, "{text3}");
    assert_chain_found(&text3);
    // The folder walk (no manifest) survives the unreadable folder and the special files too.
    assert_eq!(code2, 1, "{text2}");
    assert_chain_found(&text2);
}

#[test]
fn a_bug_that_panics_on_one_file_costs_that_file_only() {
    let dir = package(&[
        ("src/lib.rs", b"mod doomed; mod chain;\n"),
        ("src/doomed.rs", b"pub fn f() {}\n"),
        ("src/chain.rs", CHAIN.as_bytes()),
    ]);
    let (code, text) = check_with(
        dir.path(),
        &[],
        &[
            ("THREADLINT_INJECT_PANIC", "doomed.rs"),
            ("RUST_BACKTRACE", "1"),
        ],
    );
    assert_eq!(code, 1, "{text}");
    assert!(
        text.contains("src/doomed.rs: error[internal]: internal error while analyzing this file (injected panic)"),
        "{text}"
    );
    assert!(
        !text.contains("panicked") && !text.contains("backtrace"),
        "{text}"
    );
    assert_chain_found(&text);
}
