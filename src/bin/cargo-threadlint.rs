//! `cargo threadlint …`: cargo runs this as `cargo-threadlint threadlint …`; run directly, it
//! behaves like `threadlint`.
fn main() {
    let mut args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "threadlint") {
        args.remove(1);
    }
    if let Some(first) = args.first_mut() {
        *first = "cargo threadlint".into();
    }
    std::process::exit(threadlint::cli::run(args));
}
