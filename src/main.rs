fn main() {
    std::process::exit(threadlint::cli::run_on_big_stack(
        std::env::args_os().collect(),
    ));
}

/// mimalloc, with syntax trees bump-allocated in a per-thread arena (`threadlint::arena`).
#[global_allocator]
static GLOBAL: threadlint::arena::ArenaAlloc<threadlint::malloc::MiMalloc> =
    threadlint::arena::ArenaAlloc(threadlint::malloc::MiMalloc);
