#[threadlint_macros::allow(tp003, reason = "lower case")]
fn f() {}

fn main() {}
