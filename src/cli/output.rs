//! Safe outputs: a temporary file in the destination folder (0600), synced, then renamed
//! into place without replacing an existing file unless forced. On any error the
//! temporary file is removed and the final name never holds a partial output.

use std::fs;

/// Output buffer size: small, since frames (the usual write) bypass it.
pub const OUTPUT_BUFFER: usize = 64 * 1024;
use std::io::{self, BufWriter, IsTerminal, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use sigmalang::stats::Stats;
use sigmalang::Error;

fn setting(detail: String) -> Error {
    Error::InvalidSetting { detail }
}

/// Refuses to write encoded (binary) data to a terminal unless forced.
pub fn refuse_terminal(force: bool) -> Result<(), Error> {
    if !force && io::stdout().is_terminal() {
        return Err(setting(
            "refusing to write binary data to a terminal; redirect it, use -o FILE, or -f".into(),
        ));
    }
    Ok(())
}

/// Runs `produce` into a temporary file beside `dest` and renames it to `dest` once it is
/// complete and synced; copies `source`'s mode and mtime to it.
pub fn write_atomically<F>(
    dest: &Path,
    source: Option<&Path>,
    force: bool,
    produce: F,
) -> Result<Stats, Error>
where
    F: FnOnce(&mut dyn Write) -> Result<Stats, Error>,
{
    let source_meta = match source {
        Some(s) => Some(fs::metadata(s).map_err(|e| Error::io("opening input", e))?),
        None => None,
    };
    if let Ok(existing) = fs::metadata(dest) {
        if let Some(src) = &source_meta {
            if src.dev() == existing.dev() && src.ino() == existing.ino() {
                return Err(setting(format!(
                    "input and output {} are the same file",
                    dest.display()
                )));
            }
        }
        if !force {
            return Err(setting(format!(
                "output {} already exists; use -f to overwrite",
                dest.display()
            )));
        }
    }
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".sigma-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io("creating temporary output", e))?;
    let stats = {
        let mut w = BufWriter::with_capacity(OUTPUT_BUFFER, tmp.as_file());
        let stats = produce(&mut w)?;
        w.flush().map_err(|e| Error::io("writing output", e))?;
        stats
    };
    if let Some(src) = &source_meta {
        tmp.as_file()
            .set_permissions(src.permissions())
            .map_err(|e| Error::io("setting output permissions", e))?;
        if let Ok(mtime) = src.modified() {
            tmp.as_file()
                .set_modified(mtime)
                .map_err(|e| Error::io("setting output mtime", e))?;
        }
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io("syncing output", e))?;
    let persisted = if force {
        tmp.persist(dest)
    } else {
        tmp.persist_noclobber(dest)
    };
    persisted.map_err(|e| Error::io("moving output into place", e.error))?;
    Ok(stats)
}
