//! threadlint's allocator, kept apart so that the analyzer crate can `#![forbid(unsafe_code)]`.
//!
//! - [`arena`]: a scoped per-thread bump arena that `syn` trees are allocated in while a file is
//!   parsed and lowered, released whole afterwards. Its soundness argument is in its module doc.
//! - [`malloc`]: the mimalloc global allocator the arena falls back to.
//!
//! Every `unsafe` block of threadlint is in this crate, each with its `SAFETY` comment.

pub mod arena;
pub mod malloc;

/// The unit tests run with the arena installed, as the binaries do.
#[cfg(test)]
#[global_allocator]
static TEST_ALLOC: arena::ArenaAlloc<std::alloc::System> = arena::ArenaAlloc(std::alloc::System);
