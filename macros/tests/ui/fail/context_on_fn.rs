#[threadlint_macros::context]
fn thread() -> u64 {
    0
}

fn main() {}
