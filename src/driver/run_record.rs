//! The run record: the last `check`'s findings, keyed by everything they depend on.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::cache::{postcard_to, CacheDir, Stamp};
use crate::diagnostic::Diag;

const RUN: &str = "run.bin";

/// What a finding is, as cached (rule code and name are looked up again when loaded).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StoredFinding {
    pub code: String,
    pub level: crate::rules::Level,
    pub message: String,
    pub file: usize,
    pub loc: crate::syntax::summary::Loc,
    pub help: String,
    pub path: Vec<crate::analysis::Step>,
    pub func: String,
    pub key: String,
    pub fingerprint: String,
}

impl StoredFinding {
    pub fn of(f: &crate::rules::Finding) -> StoredFinding {
        StoredFinding {
            code: f.code.to_string(),
            level: f.level,
            message: f.message.clone(),
            file: f.file,
            loc: f.loc,
            help: f.help.clone(),
            path: f.path.clone(),
            func: f.func.clone(),
            key: f.key.clone(),
            fingerprint: f.fingerprint.clone(),
        }
    }

    /// The finding again (`None` for a rule this build does not have).
    pub fn restore(self) -> Option<crate::rules::Finding> {
        let rule = crate::rules::rule(&self.code)?;
        Some(crate::rules::Finding {
            code: rule.code,
            name: rule.name,
            level: self.level,
            message: self.message,
            file: self.file,
            loc: self.loc,
            help: self.help,
            path: self.path,
            func: self.func,
            key: self.key,
            fingerprint: self.fingerprint,
        })
    }
}

/// The inputs and result of one `check`.
#[derive(Debug, Serialize, Deserialize)]
pub struct RunRecord {
    pub salt: u64,
    pub key: u128,
    /// Every file read, with its stamp.
    pub stamps: Vec<(PathBuf, Stamp)>,
    /// Module-file candidates that did not exist.
    pub absent: Vec<PathBuf>,
    /// Diagnostics of the files (not of the manifests: those are computed anew).
    pub diags: Vec<Diag>,
    /// The analyzed files, in the order findings refer to them.
    pub files: Vec<PathBuf>,
    pub findings: Vec<StoredFinding>,
}

impl RunRecord {
    /// The stored record, if it was written in this cache folder with this key, refers only to
    /// files it lists, and every input it was computed from is unchanged.
    pub fn load_valid(at: &CacheDir, key: u128) -> Option<RunRecord> {
        use rayon::prelude::*;
        let salt = at.read_salt(&["run"])?;
        let bytes = at.read(RUN)?;
        let rec: RunRecord = postcard::from_bytes(&bytes).ok()?;
        if rec.salt != salt || rec.key != key {
            return None;
        }
        let n = rec.files.len();
        let in_range = rec
            .findings
            .iter()
            .all(|f| f.file < n && f.path.iter().all(|s| s.file < n));
        let files_hold = rec.stamps.par_iter().all(|(p, s)| s.still_holds(p));
        let absent_hold = rec.absent.par_iter().all(|p| !p.is_file());
        (in_range && files_hold && absent_hold).then_some(rec)
    }

    pub fn save(mut self, at: &CacheDir) {
        at.write(RUN, &["run"], |salt, w| {
            self.salt = salt;
            postcard_to(w, &self)
        });
    }
}
