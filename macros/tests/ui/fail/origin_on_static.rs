#[threadlint_macros::origin]
static ROOT: u64 = 0;

fn main() {}
