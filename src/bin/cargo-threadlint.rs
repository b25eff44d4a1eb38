//! `cargo threadlint …`: cargo runs this as `cargo-threadlint threadlint …`; run directly, it
//! behaves like `threadlint`. With no subcommand it checks (`cargo threadlint -p server`).
fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "threadlint") {
        args.remove(1);
    }
    if let Some(first) = args.first_mut() {
        *first = "cargo threadlint".into();
    }
    // `cargo threadlint`, `cargo threadlint --workspace`, `cargo threadlint -p x`: check.
    let subcommands = [
        "check",
        "paths",
        "rules",
        "explain",
        "debug",
        "help",
        "--help",
        "-h",
        "--version",
        "-V",
    ];
    if !args
        .get(1)
        .is_some_and(|a| subcommands.iter().any(|s| a == s))
    {
        args.insert(1, "check".into());
    }
    std::process::exit(threadlint::cli::run_on_big_stack(args));
}

/// The same allocator as `threadlint`'s (see `threadlint_alloc::arena`).
#[global_allocator]
static GLOBAL: threadlint_alloc::arena::ArenaAlloc<threadlint_alloc::malloc::MiMalloc> =
    threadlint_alloc::arena::ArenaAlloc(threadlint_alloc::malloc::MiMalloc);
