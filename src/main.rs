fn main() {
    std::process::exit(threadlint::cli::run_on_big_stack(
        std::env::args_os().collect(),
    ));
}

/// mimalloc, with syntax trees bump-allocated in a per-thread arena (`threadlint_alloc::arena`).
#[global_allocator]
static GLOBAL: threadlint_alloc::arena::ArenaAlloc<threadlint_alloc::malloc::MiMalloc> =
    threadlint_alloc::arena::ArenaAlloc(threadlint_alloc::malloc::MiMalloc);
