#[threadlint_macros::entry]
pub struct Socket;

fn main() {}
