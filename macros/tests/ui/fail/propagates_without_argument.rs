#[threadlint_macros::propagates]
fn relay(ctx: u64) -> u64 {
    ctx
}

fn main() {}
