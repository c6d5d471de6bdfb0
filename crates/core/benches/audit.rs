//! `plant-twin audit verify` on a 100,000-line audit file: time to check an intact chain and
//! to find a changed, a removed and a swapped line (figures in README's Performance section).
//! Also the cost of one appended, synced line on this disk.
//!
//! `cargo bench --bench audit`

use std::path::Path;
use std::time::Instant;

use plant_twin_core::audit::{AuditEntry, AuditError, AuditLog, GENESIS, encode, verify};

const LINES: usize = 100_000;

fn main() {
    let mut prev = GENESIS.to_string();
    let mut lines = Vec::with_capacity(LINES);
    for seq in 0..LINES as u64 {
        let (line, hash) = encode(&AuditEntry {
            seq,
            time_ms: 1_800_000_000_000 + seq as i64 * 1000,
            operator: "ana".into(),
            action: "acknowledge".into(),
            detail: serde_json::json!({"asset": format!("pump-{:02}", seq % 40), "component": "bearing"}),
            prev: prev.clone(),
        });
        lines.push(line);
        prev = hash;
    }
    let intact: String = lines.concat();
    let path = Path::new("audit.jsonl");
    let time = |name: &str, text: &str| {
        let started = Instant::now();
        let result = verify(path, text);
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let outcome = match result {
            Ok(n) => format!("intact, {n} entries"),
            Err(AuditError::Broken { line, problem, .. }) => format!("line {line}: {problem}"),
            Err(error) => error.to_string(),
        };
        println!(
            "verify  {name:<8} {LINES} lines, {} MB: {ms:.0} ms ({outcome})",
            text.len() / 1_000_000
        );
    };
    time("intact", &intact);
    let mut changed = lines.clone();
    changed[70_000] = changed[70_000].replace("\"ana\"", "\"eve\"");
    time("changed", &changed.concat());
    let mut removed = lines.clone();
    removed.remove(50_000);
    time("removed", &removed.concat());
    let mut swapped = lines.clone();
    swapped.swap(90_000, 90_001);
    time("swapped", &swapped.concat());

    let dir = std::env::temp_dir().join(format!("plant-twin-audit-{}", std::process::id()));
    let mut log = AuditLog::open(&dir.join("audit.jsonl")).expect("audit file");
    let started = Instant::now();
    for i in 0..200 {
        log.append(
            i,
            "ana",
            "acknowledge",
            serde_json::json!({"asset": "pump-02"}),
        )
        .expect("appended");
    }
    println!(
        "append  one line, written and synced: {:.2} ms",
        started.elapsed().as_secs_f64() * 1000.0 / 200.0
    );
    let _ = std::fs::remove_dir_all(&dir);
}
