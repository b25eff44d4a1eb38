#[threadlint_macros::propagates(ctx)]
struct Relay {
    ctx: u64,
}

fn main() {}
