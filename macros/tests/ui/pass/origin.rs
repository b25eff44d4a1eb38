pub struct ThreadContext(u64);

#[threadlint_macros::origin]
pub fn nightly() -> ThreadContext {
    ThreadContext(0)
}

fn main() {
    let _ = nightly().0;
}
