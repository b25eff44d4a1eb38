//! Arbitrary bytes through the whole pipeline (see `threadlint::fuzzing`): any panic, abort or
//! unexpected exit status is a bug. Crash inputs go to `fuzz/regressions/`, which
//! `tests/fuzz_regressions.rs` replays on every test run.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::path::PathBuf;
use std::sync::OnceLock;

fuzz_target!(|data: &[u8]| {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(threadlint::fuzzing::workdir);
    let code = threadlint::fuzzing::run_case(dir, data).expect("write the fuzz case");
    assert!(matches!(code, 0..=2), "unexpected exit status {code}");
});
