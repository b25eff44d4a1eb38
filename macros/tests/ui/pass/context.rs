#[threadlint_macros::context]
#[derive(Clone, Debug)]
pub struct ConversationCtx {
    pub conversation_id: u64,
}

#[threadlint_macros::context]
pub enum Scope {
    Thread(u64),
}

#[threadlint_macros::context]
pub type ThreadKey = u64;

fn main() {
    let _ = ConversationCtx { conversation_id: 1 }.clone();
    let _ = Scope::Thread(1);
    let _: ThreadKey = 2;
}
