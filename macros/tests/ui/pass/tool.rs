pub struct ThreadContext {
    pub thread_id: u64,
}

#[threadlint_macros::tool]
pub fn web_search(ctx: &ThreadContext, query: &str) -> String {
    format!("{}:{query}", ctx.thread_id)
}

fn main() {
    let _ = web_search(&ThreadContext { thread_id: 1 }, "rust");
}
