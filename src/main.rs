fn main() {
    std::process::exit(threadlint::cli::run(std::env::args_os()));
}
