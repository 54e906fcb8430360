//! The one way downhill writes an output file, respecting what is at the path:
//!
//! - `-` is standard output;
//! - a symbolic link is followed (through a chain of links, to a target that
//!   may not exist yet) and its target is written; the link stays a link;
//! - a FIFO, a character device or any other file that is neither a regular
//!   file nor a folder is opened and written in place, never replaced;
//! - a regular file, or nothing, is replaced atomically: a hidden temporary
//!   file in the same folder is written, fsynced and renamed onto the target
//!   (atomic on POSIX), then the folder is fsynced so the rename itself
//!   survives a power loss. Until the rename, a file already there is
//!   untouched; a failed or abandoned write removes its temporary file.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A file being written: buffered writes go to its temporary file (or
/// straight to standard output, a FIFO or a device), and
/// [`AtomicFile::commit`] puts it in place. Dropped uncommitted, it removes
/// the temporary file.
pub struct AtomicFile {
    sink: Option<Sink>,
}

/// Where an [`AtomicFile`]'s bytes go.
enum Sink {
    /// A temporary file renamed onto `target` at commit.
    Replace {
        target: PathBuf,
        tmp: PathBuf,
        out: BufWriter<File>,
    },
    /// A FIFO, a device or another file that is not replaced, written in place.
    InPlace(BufWriter<File>),
    /// Standard output, for the path `-`.
    Stdout(BufWriter<io::Stdout>),
}

impl AtomicFile {
    /// Starts writing `path` (`-` for standard output; see the module's doc).
    pub fn create(path: &Path) -> io::Result<AtomicFile> {
        if path == Path::new("-") {
            let sink = Sink::Stdout(BufWriter::new(io::stdout()));
            return Ok(AtomicFile { sink: Some(sink) });
        }
        let target = follow_links(path)?;
        let sink = match std::fs::metadata(&target) {
            Ok(meta) if !meta.is_file() && !meta.is_dir() => {
                let file = std::fs::OpenOptions::new().write(true).open(&target)?;
                Sink::InPlace(BufWriter::new(file))
            }
            _ => {
                let tmp = temp_path(&target);
                let out = BufWriter::new(File::create(&tmp)?);
                Sink::Replace { target, tmp, out }
            }
        };
        Ok(AtomicFile { sink: Some(sink) })
    }

    /// Flushes the buffer (its errors included); for a replaced file, fsyncs
    /// it, renames it onto the target and fsyncs the folder.
    pub fn commit(mut self) -> io::Result<()> {
        match self.sink.take().expect("an uncommitted file is open") {
            Sink::Replace { target, tmp, out } => {
                let written = out
                    .into_inner()
                    .map_err(io::IntoInnerError::into_error)
                    .and_then(|file| file.sync_all())
                    .and_then(|()| std::fs::rename(&tmp, &target));
                if written.is_err() {
                    let _ = std::fs::remove_file(&tmp);
                }
                written?;
                if let Ok(dir) = File::open(folder(&target)) {
                    let _ = dir.sync_all();
                }
                Ok(())
            }
            Sink::InPlace(mut out) => out.flush(),
            Sink::Stdout(mut out) => out.flush(),
        }
    }

    fn out(&mut self) -> &mut dyn Write {
        match self.sink.as_mut().expect("an uncommitted file is open") {
            Sink::Replace { out, .. } => out,
            Sink::InPlace(out) => out,
            Sink::Stdout(out) => out,
        }
    }
}

impl Write for AtomicFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.out().write(bytes)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out().flush()
    }
}

impl Drop for AtomicFile {
    fn drop(&mut self) {
        if let Some(Sink::Replace { tmp, out, .. }) = self.sink.take() {
            // The buffered rest is discarded, not written.
            let _ = out.into_parts();
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// The path a chain of symbolic links at `path` ends at (`path` itself when it
/// is no link): where [`AtomicFile`] writes. Relative links are taken from
/// their own folder.
pub fn follow_links(path: &Path) -> io::Result<PathBuf> {
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
    Err(io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Writes `bytes` to `path` atomically (see [`AtomicFile`]).
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = AtomicFile::create(path)?;
    file.write_all(bytes)?;
    file.commit()
}

/// The folder `path` is in (`.` for a bare name).
fn folder(path: &Path) -> &Path {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
}

/// A hidden temporary name next to `path`, unique to this process and call
/// (so threads writing the same file never share a temporary file):
/// `.NAME.PID-N.tmp`.
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
    use std::os::unix::fs::FileTypeExt;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("downhill-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn atomic_write_replaces_and_leaves_no_temporary_file() {
        let dir = scratch("file");
        let path = dir.join("x.json");
        write_atomic(&path, b"one").unwrap();
        write_atomic(&path, b"two").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"two");
        assert_eq!(names(&dir), ["x.json"]);
        let missing = dir.join("no-such-folder").join("x.json");
        assert!(write_atomic(&missing, b"x").is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_abandoned_file_leaves_the_old_one_and_no_temporary() {
        let dir = scratch("abandoned");
        let path = dir.join("out.csv");
        std::fs::write(&path, "old").unwrap();
        let mut file = AtomicFile::create(&path).unwrap();
        file.write_all(&vec![b'x'; 100_000]).unwrap();
        file.flush().unwrap();
        assert_eq!(names(&dir).len(), 2);
        drop(file);
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        assert_eq!(names(&dir), ["out.csv"]);
        std::fs::remove_dir_all(dir).unwrap();
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
        assert_eq!(
            names(&dir),
            [
                "chain.csv",
                "dangling.csv",
                "later.csv",
                "link.csv",
                "t.csv"
            ]
        );
        // A loop of links is an error, not a hang.
        std::os::unix::fs::symlink("b", dir.join("a")).unwrap();
        std::os::unix::fs::symlink("a", dir.join("b")).unwrap();
        let err = write_atomic(&dir.join("a"), b"x").unwrap_err().to_string();
        assert!(err.contains("too many levels of symbolic links"), "{err}");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_fifo_is_written_in_place_not_replaced() {
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
        write_atomic(&fifo, b"a,b\n1,2\n").unwrap();
        assert_eq!(reader.join().unwrap(), b"a,b\n1,2\n");
        let meta = std::fs::symlink_metadata(&fifo).unwrap();
        assert!(meta.file_type().is_fifo(), "the FIFO was replaced");
        assert_eq!(names(&dir), ["pipe.csv"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
