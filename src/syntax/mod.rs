//! Syntax: read, parse and lower each file into a [`summary::FileSummary`].
//!
//! Takes the files discovery found (through the summary pack in [`pack`], when a cache is used)
//! and gives a [`parse::Parsed`]: summaries, the module tree, stamps and diagnostics.
//!
//! **Architecture invariant:** the only stage that uses `syn`; a summary depends only on its
//! file's bytes and the lowering options, so it can be cached by content hash.
pub mod lower;
pub mod pack;
pub mod parse;
pub mod summary;
