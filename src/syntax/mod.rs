//! Syntax: read, parse and lower each file into a [`summary::FileSummary`].
pub mod lower;
pub mod pack;
pub mod parse;
pub mod summary;
