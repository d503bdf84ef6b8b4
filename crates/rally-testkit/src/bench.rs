//! What Rally's benchmarks (`benches/*.rs`) share: telling a measured run from a
//! `cargo test --benches` smoke run, where cargo and criterion keep their files, reading back
//! the estimates criterion just wrote, preparing SQLite files, and summarizing samples.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// Criterion runs benchmarks only with `--bench` (and not `--test`); otherwise it runs each once.
pub fn test_mode() -> bool {
    let args: Vec<String> = std::env::args().collect();
    !args.iter().any(|a| a == "--bench") || args.iter().any(|a| a == "--test")
}

/// Cargo's target directory: the workspace's `target/` (this crate sits at
/// `crates/rally-testkit` in it), where criterion writes too.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .ancestors()
                .nth(2)
                .expect("workspace root")
                .join("target")
        })
}

/// Where criterion writes its estimates.
pub fn criterion_dir() -> PathBuf {
    std::env::var_os("CRITERION_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| target_dir().join("criterion"))
}

/// (mean, median) in nanoseconds per iteration, if criterion wrote this benchmark's estimates
/// after `since` (that is, in this run).
pub fn estimates(group: &str, bench: &str, since: SystemTime) -> Option<(f64, f64)> {
    let path = criterion_dir()
        .join(group)
        .join(bench)
        .join("new")
        .join("estimates.json");
    let fresh = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| t >= since);
    if !fresh {
        return None;
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).ok()?).ok()?;
    let point = |name: &str| json.get(name)?.get("point_estimate")?.as_f64();
    Some((point("mean")?, point("median")?))
}

/// The `sqlite://` URL of a database file.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}", path.display())
}

/// `path` with `suffix` appended to its file name (`-wal`, `-shm`, ...).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Removes a SQLite database and its side files.
pub fn remove_db(path: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(with_suffix(path, suffix));
    }
}

/// Copies a (closed) SQLite database and its write-ahead log, if any, to `to`, and flushes the
/// copy to disk, so its write-back does not land in a later measurement.
pub fn copy_db(from: &Path, to: &Path) {
    remove_db(to);
    for suffix in ["", "-wal"] {
        let source = with_suffix(from, suffix);
        if !source.exists() {
            continue;
        }
        let target = with_suffix(to, suffix);
        std::fs::copy(&source, &target).expect("copy the database");
        std::fs::File::open(&target)
            .and_then(|f| f.sync_all())
            .expect("flush the copy");
    }
}

/// The median and the quartiles of `values` (which must not be empty).
pub fn quartiles(values: &[f64]) -> (f64, f64, f64) {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let q = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize];
    (q(0.5), q(0.25), q(0.75))
}
