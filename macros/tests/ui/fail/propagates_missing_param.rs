#[threadlint_macros::propagates(ctx)]
fn relay(context: u64, text: &str) -> String {
    format!("{context}{text}")
}

fn main() {}
