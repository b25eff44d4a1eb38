//! On `async fn`, methods in `impl` and trait `impl` blocks, trait declarations, and beside
//! `#[tracing::instrument]` and `#[async_trait]`.

use async_trait::async_trait;

pub struct ThreadContext {
    pub thread_id: u64,
}

#[async_trait]
pub trait Tool: Send + Sync {
    #[threadlint_macros::tool]
    async fn call(&self, ctx: &ThreadContext, args: &str) -> String;
}

pub struct Echo;

#[async_trait]
impl Tool for Echo {
    #[threadlint_macros::tool]
    #[tracing::instrument(skip(self, ctx))]
    async fn call(&self, ctx: &ThreadContext, args: &str) -> String {
        format!("{}{args}", ctx.thread_id)
    }
}

pub struct Session {
    ctx: ThreadContext,
}

impl Session {
    #[tracing::instrument(skip(self))]
    #[threadlint_macros::entry]
    pub async fn on_message(&self, text: String) -> String {
        Echo.call(&self.ctx, &text).await
    }

    #[inline]
    #[threadlint_macros::propagates(ctx)]
    #[must_use]
    pub fn with(ctx: ThreadContext) -> Session {
        Session { ctx }
    }
}

fn main() {
    let s = Session::with(ThreadContext { thread_id: 1 });
    let _ = s.on_message(String::new());
}
