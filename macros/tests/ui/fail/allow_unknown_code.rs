#[threadlint_macros::allow(TP999, reason = "typo")]
fn f() {}

fn main() {}
