#[threadlint_macros::allow(TP001)]
fn f() {}

fn main() {}
