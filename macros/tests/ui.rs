//! Compile-time behaviour of the attributes: every accepted form compiles, every mistake fails
//! with the expected message at the offending token.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
