#[threadlint_macros::allow(TP011, reason = "typo")]
fn f() {}

fn main() {}
