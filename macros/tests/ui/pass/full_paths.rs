//! Every attribute by its full path, on every kind of item it accepts.

#[threadlint_macros::context]
pub struct ThreadContext {
    pub thread_id: u64,
}

#[threadlint_macros::context]
pub enum Scope {
    Thread(u64),
    Global,
}

#[threadlint_macros::context]
pub type ConversationId = u64;

#[threadlint_macros::entry]
pub async fn on_frame(frame: String) -> usize {
    frame.len()
}

#[threadlint_macros::tool]
pub fn web_search(ctx: &ThreadContext, query: &str) -> String {
    format!("{}:{query}", ctx.thread_id)
}

#[threadlint_macros::origin]
pub fn nightly() -> ThreadContext {
    ThreadContext { thread_id: 0 }
}

#[threadlint_macros::propagates(ctx)]
pub fn relay(ctx: &ThreadContext, text: &str) -> String {
    web_search(ctx, text)
}

#[threadlint_macros::allow(TP001, TP003, reason = "warm-up runs without a conversation")]
pub fn warm_up() -> String {
    web_search(&nightly(), "ping")
}

#[threadlint_macros::allow(TP005, reason = "metadata, not a call")]
impl ThreadContext {
    #[threadlint_macros::propagates(self)]
    pub fn child(&self) -> ThreadContext {
        ThreadContext { thread_id: self.thread_id + 1 }
    }
}

#[threadlint_macros::allow(TP010, reason = "generated code")]
mod generated {}

fn main() {
    let ctx = nightly();
    let _ = relay(&ctx.child(), "hi");
    let _ = warm_up();
    let _ = Scope::Thread(1);
    let _: ConversationId = 1;
    let _ = on_frame(String::new());
}
