//! Compaction: rewrites a store into a fresh directory and swaps it in.
//!
//! sled 0.34 keeps the space of removed records inside its files for reuse by later
//! writes; the files do not shrink. Compaction exports the store (`export`) to a file
//! beside it, imports that into `<store>.compacting`, checks that the counts match, and
//! only then swaps the two directories — atomically where the system can
//! (`renameat2(RENAME_EXCHANGE)` on Linux), else by two renames — and removes the old
//! one. Offline: it refuses a store a daemon holds. An interrupted compaction leaves the
//! old store in place (a leftover `.compacting` directory is removed by the next one).

use std::path::{Path, PathBuf};

use super::stats::dir_size;
use super::{SledStore, StoreError};

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CompactReport {
    pub before_bytes: u64,
    pub after_bytes: u64,
    pub stories: u64,
    pub events: u64,
    pub alerts: u64,
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> StoreError {
    move |source| StoreError::Io { what, source }
}

/// Compacts the store at `path` (see the module docs).
pub fn compact(path: &Path) -> Result<CompactReport, StoreError> {
    let before_bytes = dir_size(path);
    let fresh = sibling(path, "compacting");
    let dump = sibling(path, "compacting.jsonl");
    if fresh.exists() {
        std::fs::remove_dir_all(&fresh)
            .map_err(io(format!("removing the leftover {}", fresh.display())))?;
    }
    let exported = {
        let store = SledStore::open(path)?;
        let file =
            std::fs::File::create(&dump).map_err(io(format!("creating {}", dump.display())))?;
        let exported = store.export(std::io::BufWriter::new(file))?;
        (exported, store.story_count(), store.event_count())
    };
    let imported = {
        let file = std::fs::File::open(&dump).map_err(io(format!("reading {}", dump.display())))?;
        SledStore::import(&fresh, std::io::BufReader::new(file), false)?
    };
    let _ = std::fs::remove_file(&dump);
    let (exported, stories, events) = exported;
    let reopened = SledStore::open(&fresh)?;
    let complete = imported == exported
        && reopened.story_count() == stories
        && reopened.event_count() == events;
    drop(reopened);
    if !complete {
        let _ = std::fs::remove_dir_all(&fresh);
        return Err(StoreError::Io {
            what: format!("compacting {}", path.display()),
            source: std::io::Error::other(format!(
                "the rewritten store does not match (exported {exported:?}, imported \
                 {imported:?}); the store is left as it was"
            )),
        });
    }
    swap(path, &fresh)?;
    std::fs::remove_dir_all(&fresh)
        .map_err(io(format!("removing the old store at {}", fresh.display())))?;
    Ok(CompactReport {
        before_bytes,
        after_bytes: dir_size(path),
        stories: exported.stories,
        events: exported.events,
        alerts: exported.alerts,
    })
}

/// `path` with `.suffix` added to its last component.
fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".");
    name.push(suffix);
    path.with_file_name(name)
}

/// Puts `fresh` at `path` and the old store at `fresh`.
fn swap(path: &Path, fresh: &Path) -> Result<(), StoreError> {
    #[cfg(target_os = "linux")]
    {
        use std::ffi::CString;
        use std::os::unix::ffi::OsStrExt;
        let a = CString::new(path.as_os_str().as_bytes());
        let b = CString::new(fresh.as_os_str().as_bytes());
        if let (Ok(a), Ok(b)) = (a, b) {
            // SAFETY: two NUL-terminated paths; renameat2 only reads them.
            let r = unsafe {
                libc::renameat2(
                    libc::AT_FDCWD,
                    a.as_ptr(),
                    libc::AT_FDCWD,
                    b.as_ptr(),
                    libc::RENAME_EXCHANGE,
                )
            };
            if r == 0 {
                return Ok(());
            }
        }
    }
    // Two renames: the old store moves aside first, so a failure in between leaves it
    // whole at `<store>.old`.
    let old = sibling(path, "old");
    std::fs::rename(path, &old).map_err(io(format!("moving {} aside", path.display())))?;
    std::fs::rename(fresh, path).map_err(io(format!(
        "moving {} into place (the old store is at {})",
        fresh.display(),
        old.display()
    )))?;
    std::fs::rename(&old, fresh).map_err(io(format!("renaming {}", old.display())))?;
    Ok(())
}
