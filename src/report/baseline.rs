//! Baselines (SPEC §5): record the findings a legacy codebase has today, and report only new ones.
//! Findings are keyed by rule and a fingerprint that does not change when lines move.

use std::collections::HashMap;
use std::path::Path;

use crate::report::Sources;
use crate::rules::Finding;

#[derive(serde::Serialize, serde::Deserialize)]
struct Entry {
    rule: String,
    file: String,
    fingerprint: String,
    message: String,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct File {
    version: u32,
    findings: Vec<Entry>,
}

/// (rule, fingerprint) → how many findings of that key the baseline accepts.
pub struct Baseline(HashMap<(String, String), usize>);

pub fn write(path: &Path, findings: &[Finding], src: &Sources) -> Result<(), String> {
    let file = File {
        version: 1,
        findings: findings
            .iter()
            .map(|f| Entry {
                rule: f.code.to_string(),
                file: src.display(f.file),
                fingerprint: f.fingerprint.clone(),
                message: f.message.clone(),
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?;
    crate::bounded::write_replacing(path, (text + "\n").as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

pub fn read(path: &Path) -> Result<Baseline, String> {
    let text = crate::bounded::read_text(path, crate::bounded::Kind::Baseline)
        .map_err(|e| format!("cannot read baseline {}: {e}", path.display()))?;
    let file: File = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{}:{}:{}: not a threadlint baseline: {e}",
            path.display(),
            e.line(),
            e.column()
        )
    })?;
    if file.version != 1 {
        return Err(format!(
            "{}: unsupported baseline version {}",
            path.display(),
            file.version
        ));
    }
    let mut map = HashMap::new();
    for e in file.findings {
        *map.entry((e.rule, e.fingerprint)).or_insert(0) += 1;
    }
    Ok(Baseline(map))
}

/// Drop the findings the baseline accepts (each baseline entry accepts one finding).
pub fn filter(b: &Baseline, findings: &mut Vec<Finding>) {
    let mut left = b.0.clone();
    findings.retain(|f| {
        let key = (f.code.to_string(), f.fingerprint.clone());
        match left.get_mut(&key) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        }
    });
}
