fn main() {
    std::process::exit(threadlint::cli::run_on_big_stack(
        std::env::args_os().collect(),
    ));
}

/// mimalloc, with syntax trees bump-allocated in a per-thread arena (`threadlint::alloc::arena`).
#[global_allocator]
static GLOBAL: threadlint::alloc::arena::ArenaAlloc<threadlint::alloc::malloc::MiMalloc> =
    threadlint::alloc::arena::ArenaAlloc(threadlint::alloc::malloc::MiMalloc);
