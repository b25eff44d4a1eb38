//! `use threadlint_macros::tool; #[tool]` and `use threadlint_macros as tl; #[tl::tool]`.

use threadlint_macros as tl;
use threadlint_macros::{entry, tool};

pub struct ThreadContext;

#[entry]
pub fn socket_loop() {}

#[tool]
pub fn search(ctx: &ThreadContext, q: &str) -> usize {
    let _ = ctx;
    q.len()
}

#[tl::tool]
pub fn calc(ctx: &ThreadContext, expr: &str) -> usize {
    let _ = ctx;
    expr.len()
}

#[tl::origin]
pub fn make() -> ThreadContext {
    ThreadContext
}

fn main() {
    socket_loop();
    let c = make();
    let _ = search(&c, "x") + calc(&c, "1+1");
}
