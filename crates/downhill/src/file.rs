//! Files downhill writes (optimizer state, checkpoints): written atomically
//! and sealed with a checksum so a crash or a damaged disk is never read back
//! as a silently different state.
//!
//! A sealed file is one JSON object,
//! `{"format":F,"version":V,"crc32":"xxxxxxxx","content":{…}}`, where `crc32`
//! is the CRC-32 (IEEE 802.3, as in gzip and PNG) of the exact bytes of
//! `content` as they appear in the file.

use serde::Deserialize;
use serde_json::value::RawValue;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use thiserror::Error;

/// Why a sealed file could not be read. Messages do not name the file; callers add it.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the file is corrupt: not a complete {0} document (truncated or damaged)")]
    Damaged(&'static str),
    #[error("not a {expected} file (format '{found}')")]
    Format {
        expected: &'static str,
        found: String,
    },
    #[error(
        "{format} version {found} is not supported (this build reads version {expected}{hint})",
        hint = if *.found == 1 { "; version 1 files predate checksums: write them again with this build" } else { "" }
    )]
    Version {
        format: &'static str,
        found: u64,
        expected: u32,
    },
    #[error(
        "the file is corrupt: checksum mismatch (crc32 stored {stored}, content has {computed})"
    )]
    Checksum { stored: String, computed: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    format: String,
    version: u64,
    crc32: String,
    #[serde(borrow)]
    content: &'a RawValue,
}

/// The CRC-32 of `bytes` as 8 lowercase hexadecimal digits.
pub fn crc32_hex(bytes: &[u8]) -> String {
    format!("{:08x}", crc32fast::hash(bytes))
}

/// Wraps the JSON document `content` in a sealed envelope.
pub fn seal(format: &str, version: u32, content: &str) -> String {
    let crc = crc32_hex(content.as_bytes());
    format!("{{\"format\":\"{format}\",\"version\":{version},\"crc32\":\"{crc}\",\"content\":{content}}}")
}

/// The content of a sealed document after checking its format, version and checksum.
pub fn unseal<'a>(text: &'a str, format: &'static str, version: u32) -> Result<&'a str, SealError> {
    let envelope: Envelope = match serde_json::from_str(text) {
        Ok(e) => e,
        Err(_) => return Err(diagnose(text, format, version)),
    };
    if envelope.format != format {
        return Err(SealError::Format {
            expected: format,
            found: envelope.format,
        });
    }
    if envelope.version != u64::from(version) {
        return Err(SealError::Version {
            format,
            found: envelope.version,
            expected: version,
        });
    }
    let content = envelope.content.get();
    let computed = crc32_hex(content.as_bytes());
    if envelope.crc32 != computed {
        return Err(SealError::Checksum {
            stored: envelope.crc32,
            computed,
        });
    }
    Ok(content)
}

/// The clearest error for text that is not a well-formed envelope: another
/// format or version (such as an unsealed version 1 file), else damage.
fn diagnose(text: &str, format: &'static str, version: u32) -> SealError {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return SealError::Damaged(format);
    };
    match value.get("format").and_then(|f| f.as_str()) {
        Some(found) if found != format => SealError::Format {
            expected: format,
            found: found.to_string(),
        },
        Some(_) => match value.get("version").and_then(|v| v.as_u64()) {
            Some(found) if found != u64::from(version) => SealError::Version {
                format,
                found,
                expected: version,
            },
            _ => SealError::Damaged(format),
        },
        None => SealError::Damaged(format),
    }
}

/// Writes `bytes` to `path`, as [`write_with`] does.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// Writes an output file whose path a user gave: `-` is standard output,
/// anything else goes through [`write_with`].
pub fn write_output(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    if path == Path::new("-") {
        let mut out = std::io::stdout().lock();
        write(&mut out)?;
        return out.flush();
    }
    write_with(path, write)
}

/// Writes to `path` what `write` produces, respecting what is there:
///
/// - a symbolic link is followed (through a chain of links, to a target that
///   may not exist yet) and its target is replaced; the link stays a link;
/// - a FIFO, a character device or any other file that is neither a regular
///   file nor a folder is opened and written directly, never replaced;
/// - a regular file, or nothing, is replaced atomically: a temporary file in
///   the same folder is written, fsynced and renamed over the path (atomic on
///   POSIX), then the folder is fsynced so the rename survives a power loss.
///   On error the temporary file is removed and the path is untouched.
pub fn write_with(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let target = follow_links(path)?;
    match std::fs::metadata(&target) {
        Ok(meta) if !meta.is_file() && !meta.is_dir() => {
            let mut file = std::fs::OpenOptions::new().write(true).open(&target)?;
            write(&mut file)?;
            return file.flush();
        }
        _ => {}
    }
    let tmp = temp_path(&target);
    let written = (|| {
        let mut file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written?;
    if let Ok(dir) = std::fs::File::open(folder(&target)) {
        let _ = dir.sync_all();
    }
    Ok(())
}

/// The path a chain of symbolic links at `path` ends at (`path` itself when it
/// is no link); relative links are taken from their own folder.
fn follow_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut current = path.to_path_buf();
    // Linux's own limit on links followed in one lookup.
    for _ in 0..40 {
        match std::fs::symlink_metadata(&current) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let link = std::fs::read_link(&current)?;
                current = folder(&current).join(link);
            }
            _ => return Ok(current),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A hidden temporary name next to `path`, unique to this process and call
/// (so threads writing the same file never share a temporary file).
pub fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let call = COUNTER.fetch_add(1, Ordering::Relaxed);
    folder(path).join(format!(".{name}.{}-{call}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const F: &str = "downhill-test";

    #[test]
    fn seals_and_checks() {
        let text = seal(F, 2, r#"{"a":[1,2.5]}"#);
        assert_eq!(unseal(&text, F, 2), Ok(r#"{"a":[1,2.5]}"#));
        // CRC-32 check value of "123456789" (IEEE): cbf43926.
        assert_eq!(crc32_hex(b"123456789"), "cbf43926");
        let flipped = text.replace("2.5", "2.6");
        assert!(matches!(
            unseal(&flipped, F, 2),
            Err(SealError::Checksum { .. })
        ));
        assert_eq!(
            unseal(&text, F, 3).unwrap_err().to_string(),
            "downhill-test version 2 is not supported (this build reads version 3)"
        );
        assert_eq!(
            unseal(&text, "other", 2).unwrap_err().to_string(),
            "not a other file (format 'downhill-test')"
        );
        for cut in 0..text.len() {
            assert_eq!(
                unseal(&text[..cut], F, 2),
                Err(SealError::Damaged(F)),
                "{cut}"
            );
        }
        // An unsealed version 1 document.
        let old = r#"{"format":"downhill-test","version":1,"groups":[]}"#;
        assert_eq!(
            unseal(old, F, 2).unwrap_err().to_string(),
            "downhill-test version 1 is not supported (this build reads version 2; \
             version 1 files predate checksums: write them again with this build)"
        );
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = std::env::temp_dir().join(format!("downhill-file-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        let missing = dir.join("no-such-folder").join("x.json");
        assert!(write_atomic(&missing, b"x").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("downhill-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_symlink_is_followed_and_stays_a_link() {
        let dir = scratch("link");
        std::fs::write(dir.join("t.csv"), "old").unwrap();
        std::os::unix::fs::symlink("t.csv", dir.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(dir.join("link.csv"), dir.join("chain.csv")).unwrap();
        write_atomic(&dir.join("chain.csv"), b"new").unwrap();
        assert_eq!(std::fs::read(dir.join("t.csv")).unwrap(), b"new");
        for link in ["link.csv", "chain.csv"] {
            let meta = std::fs::symlink_metadata(dir.join(link)).unwrap();
            assert!(meta.file_type().is_symlink(), "{link} was replaced");
        }
        // A dangling link: its target is created.
        std::os::unix::fs::symlink("later.csv", dir.join("dangling.csv")).unwrap();
        write_atomic(&dir.join("dangling.csv"), b"made").unwrap();
        assert_eq!(std::fs::read(dir.join("later.csv")).unwrap(), b"made");
        // Nothing else was left behind (no temporary files).
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 5);
        // A loop of links is an error, not a hang.
        std::os::unix::fs::symlink("b", dir.join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.join("b")).unwrap();
        let err = write_atomic(&dir.join("a"), b"x").unwrap_err().to_string();
        assert!(err.contains("too many levels of symbolic links"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_fifo_is_written_directly_not_replaced() {
        let dir = scratch("fifo");
        let fifo = dir.join("pipe.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if !made.is_ok_and(|s| s.success()) {
            eprintln!("mkfifo is not available here: skipped");
            return;
        }
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_with(&fifo, |w| w.write_all(b"a,b\n1,2\n")).unwrap();
        assert_eq!(reader.join().unwrap(), b"a,b\n1,2\n");
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(
            !meta.file_type().is_file(),
            "the FIFO was replaced by a file"
        );
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_failed_write_leaves_the_old_file() {
        let dir = scratch("fail");
        let path = dir.join("x.csv");
        std::fs::write(&path, "old").unwrap();
        let err = write_with(&path, |w| {
            w.write_all(b"half")?;
            Err(std::io::Error::other("stopped"))
        });
        assert!(err.is_err());
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
