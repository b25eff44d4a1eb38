#[threadlint_macros::allow(reason = "nothing named")]
fn f() {}

fn main() {}
