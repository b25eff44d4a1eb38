//! The driver: runs the stages in order for `check`, `paths` and `debug`.
pub mod run_record;
