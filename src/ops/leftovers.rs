//! What an interrupted backup or restore leaves beside its target: the hidden copy it was
//! writing (`.{name}.partial-{pid}`, `.{name}.restoring-{pid}`, as large as the book) and
//! SQLite's files beside that. The next backup or restore into the same folder removes
//! them, once the process that wrote them is gone. A copy being written is claimed by its
//! writer (an exclusive file lock held for its life), so a process that cannot see the
//! writer's process id (another PID namespace: a container) still leaves it alone.

use std::path::{Path, PathBuf};

use crate::error::AppError;

/// Creates `path`, its owner's alone, and claims it for as long as the answer is kept.
pub(crate) fn claim(path: &Path) -> Result<std::fs::File, AppError> {
    crate::db::backup::create_private(path)?;
    let failed =
        |err: String| AppError::Internal(format!("cannot claim {}: {err}", path.display()));
    let file = std::fs::File::open(path).map_err(|err| failed(err.to_string()))?;
    file.try_lock().map_err(|err| failed(err.to_string()))?;
    Ok(file)
}

/// Removes from `dir` each leftover `.{target}{marker}{pid}` (and its `-journal`, `-wal`
/// or `-shm`) whose `target` `ours` accepts, whose process is gone and whose copy nobody
/// claims; answers what went. Only where `/proc` tells which processes run: elsewhere
/// nothing is removed.
pub(crate) fn sweep(dir: &Path, marker: &str, ours: impl Fn(&str) -> bool) -> Vec<PathBuf> {
    if !Path::new("/proc/self").exists() {
        return Vec::new();
    }
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut removed = Vec::new();
    for entry in listing.flatten() {
        let name = entry.file_name();
        let Some((target, pid)) = name.to_str().and_then(|name| leftover(name, marker)) else {
            continue;
        };
        let running = pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists();
        if !ours(target) || running || claimed(&dir.join(format!(".{target}{marker}{pid}"))) {
            continue;
        }
        if std::fs::remove_file(entry.path()).is_ok() {
            tracing::warn!(file = %entry.path().display(), "removed what an interrupted copy left");
            removed.push(entry.path());
        }
    }
    removed
}

/// Whether a writer still claims the copy at `copy` (see [`claim`]); one that is gone
/// leaves its `-journal`, `-wal` and `-shm` unclaimed.
fn claimed(copy: &Path) -> bool {
    match std::fs::File::open(copy) {
        Ok(file) => file.try_lock().is_err(),
        Err(err) => err.kind() != std::io::ErrorKind::NotFound,
    }
}

/// The folder a file named by `path` is in (`.` for a bare name).
pub(crate) fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// `.ar.db.restoring-4242-wal` with the marker `.restoring-` → `("ar.db", 4242)`.
fn leftover<'a>(name: &'a str, marker: &str) -> Option<(&'a str, u32)> {
    let (target, after) = name.strip_prefix('.')?.rsplit_once(marker)?;
    let digits = after.split('-').next()?;
    let suffix = after.strip_prefix(digits)?;
    if target.is_empty() || !matches!(suffix, "" | "-journal" | "-wal" | "-shm") {
        return None;
    }
    Some((target, digits.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::leftover;

    #[test]
    fn a_leftover_is_named_by_its_target_marker_and_process() {
        let restoring = ".restoring-";
        assert_eq!(
            leftover(".ar.db.restoring-4242", restoring),
            Some(("ar.db", 4242))
        );
        assert_eq!(
            leftover(".ar.db.restoring-7-wal", restoring),
            Some(("ar.db", 7))
        );
        assert_eq!(
            leftover(
                ".arvalox-20261201T031500.123Z.db.partial-9-journal",
                ".partial-"
            ),
            Some(("arvalox-20261201T031500.123Z.db", 9))
        );
        for other in [
            "ar.db.restoring-4242",
            ".ar.db.restoring-",
            ".ar.db.restoring-42x",
            ".ar.db.restoring-42-old",
            "..restoring-42",
            ".ar.db.partial-42",
        ] {
            assert_eq!(leftover(other, restoring), None, "{other}");
        }
    }
}
