//! Helpers shared by the integration tests (each test file that needs one says `mod common;`).

use std::fs;
use std::path::Path;

/// Copy a folder tree, leaving out `target/` folders: build output, and threadlint's cache from
/// other runs, are not part of a repository.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_name() == "target" {
            continue;
        }
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).unwrap();
        }
    }
}
