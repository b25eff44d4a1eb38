//! Every input the fuzzer ever crashed on (`fuzz/regressions/`), and its seeds (`fuzz/seeds/`),
//! replayed through the fuzz target's body: no panic, exit status 0, 1 or 2.

use std::path::Path;

#[test]
fn fuzz_inputs_replay_cleanly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut inputs: Vec<_> = ["regressions", "seeds"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).into_iter().flatten())
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && !p.ends_with("README.md"))
        .collect();
    inputs.sort();
    let mut codes = [0usize; 3];
    assert!(inputs.len() >= 30, "the seeds are missing: {inputs:?}");
    let work = tempfile::tempdir().unwrap();
    for (i, input) in inputs.iter().enumerate() {
        let data = std::fs::read(input).unwrap();
        let dir = work.path().join(i.to_string());
        // Like the threadlint binary: deeply nested inputs need a large stack.
        let code = std::thread::Builder::new()
            .stack_size(threadlint::syntax::parse::STACK_SIZE)
            .spawn(move || threadlint::fuzzing::run_case(&dir, &data).unwrap())
            .unwrap()
            .join()
            .unwrap_or_else(|_| panic!("{} panicked", input.display()));
        assert!(
            matches!(code, 0..=2),
            "{}: exit status {code}",
            input.display()
        );
        codes[code as usize] += 1;
    }
    // The seeds are the rule fixtures: most have findings, so the pipeline really ran.
    assert!(codes[1] >= 10, "exit statuses 0/1/2: {codes:?}");
}
