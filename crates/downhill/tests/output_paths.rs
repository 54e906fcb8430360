//! Fuzzing the output-path helper ([`downhill::file::write_atomic`]) with
//! random file-system layouts (issue 16, item 4): a path that is a regular
//! file, nothing, a folder, a FIFO, a symbolic link to any of these, a chain of
//! links, a dangling link, a link loop, or a name under a missing folder or a
//! file. Whatever the layout, a write either puts exactly the new bytes where
//! the path leads (through its links) and changes nothing else, or fails and
//! changes nothing at all; it never panics or leaves a temporary file.
#![cfg(unix)]

use downhill::file::write_atomic;
use proptest::prelude::*;
use std::collections::BTreeMap;
use std::os::unix::fs::{symlink, FileTypeExt};
use std::path::{Path, PathBuf};

/// What one name in the test folder is.
#[derive(Clone, Debug)]
enum Entry {
    File(Vec<u8>),
    Folder,
    Fifo,
    /// A link to another name of the folder (possibly missing, possibly itself).
    Link(usize),
}

const NAMES: [&str; 6] = ["a", "b.csv", "c", "d.json", "e", "f"];

fn entry() -> impl Strategy<Value = Option<Entry>> {
    prop_oneof![
        2 => Just(None),
        3 => proptest::collection::vec(any::<u8>(), 0..16).prop_map(|b| Some(Entry::File(b))),
        1 => Just(Some(Entry::Folder)),
        1 => Just(Some(Entry::Fifo)),
        3 => (0..NAMES.len()).prop_map(|i| Some(Entry::Link(i))),
    ]
}

/// Everything in `dir` (one level; folders recursively), as (name, kind, bytes).
fn snapshot(dir: &Path) -> BTreeMap<String, (String, Vec<u8>)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let path = e.unwrap().path();
            let name = path.strip_prefix(dir).unwrap().display().to_string();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            let kind = meta.file_type();
            let value = if kind.is_symlink() {
                let to = std::fs::read_link(&path).unwrap();
                ("link".to_string(), to.display().to_string().into_bytes())
            } else if kind.is_dir() {
                stack.push(path.clone());
                ("folder".to_string(), Vec::new())
            } else if kind.is_fifo() {
                ("fifo".to_string(), Vec::new())
            } else {
                ("file".to_string(), std::fs::read(&path).unwrap())
            };
            out.insert(name, value);
        }
    }
    out
}

/// Where `path` leads through its links (its folder's too), relative to
/// `dir`, or `None` for a loop or a missing folder; the final name need not exist.
fn resolve(dir: &Path, path: &Path) -> Option<PathBuf> {
    let mut at = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::read_link(&at) {
            Ok(to) => at = at.parent().unwrap().join(to),
            Err(_) => {
                let folder = at.parent()?.canonicalize().ok()?;
                let end = folder.join(at.file_name()?);
                return Some(
                    end.strip_prefix(dir.canonicalize().ok()?)
                        .ok()?
                        .to_path_buf(),
                );
            }
        }
    }
    None
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .expect("mkfifo");
    assert!(status.success());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn a_write_lands_where_the_path_leads_or_changes_nothing(
        layout in proptest::collection::vec(entry(), NAMES.len()),
        target in 0..NAMES.len() + 2,
        bytes in proptest::collection::vec(any::<u8>(), 0..32),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for (name, entry) in NAMES.iter().zip(&layout) {
            let path = root.join(name);
            match entry {
                None => {}
                Some(Entry::File(b)) => std::fs::write(&path, b).unwrap(),
                Some(Entry::Folder) => std::fs::create_dir(&path).unwrap(),
                Some(Entry::Fifo) => mkfifo(&path),
                Some(Entry::Link(i)) => symlink(NAMES[*i], &path).unwrap(),
            }
        }
        // Beyond the names: a file under a missing folder, and under a name
        // that may be a file.
        let path = match target {
            t if t < NAMES.len() => root.join(NAMES[t]),
            t if t == NAMES.len() => root.join("missing/out.csv"),
            _ => root.join(NAMES[0]).join("out.csv"),
        };
        // A FIFO at the end of the path needs a reader, or opening it blocks.
        let leads_to = resolve(root, &path);
        let fifo_reader = leads_to.as_ref().and_then(|rel| {
            let end = root.join(rel);
            let is_fifo = std::fs::metadata(&end).is_ok_and(|m| m.file_type().is_fifo());
            is_fifo.then(|| std::thread::spawn(move || std::fs::read(end).unwrap()))
        });
        let before = snapshot(root);
        let result = write_atomic(&path, &bytes);
        if let (Err(_), Some(_), Some(rel)) = (&result, &fifo_reader, &leads_to) {
            // Release the reader of a FIFO the failed write never opened.
            drop(std::fs::OpenOptions::new().write(true).open(root.join(rel)));
        }
        let after = snapshot(root);
        let received = fifo_reader.map(|r| r.join().unwrap());
        prop_assert!(
            !after.keys().any(|k| k.contains(".tmp") || k.starts_with('.')),
            "a temporary file was left: {after:?}"
        );
        match result {
            Err(_) => prop_assert_eq!(before, after, "a failed write changed the folder"),
            Ok(()) => {
                let rel = leads_to.expect("a write through a link loop cannot succeed");
                let name = rel.display().to_string();
                match received {
                    Some(got) => {
                        prop_assert_eq!(got, bytes.clone());
                        prop_assert_eq!(&before, &after, "a FIFO was replaced");
                    }
                    None => {
                        let mut expected = before.clone();
                        expected.insert(name.clone(), ("file".to_string(), bytes.clone()));
                        prop_assert_eq!(expected, after, "{} was not the only change", name);
                    }
                }
            }
        }
    }
}
