fn main() {
    std::process::exit(threadlint::cli::run_on_big_stack(
        std::env::args_os().collect(),
    ));
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
