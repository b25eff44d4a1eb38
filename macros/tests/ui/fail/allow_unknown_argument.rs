#[threadlint_macros::allow(TP001, reason = "ok", until = "2027")]
fn f() {}

fn main() {}
