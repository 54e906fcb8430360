//! Bad data files through `downhill train --dataset FILE`: exit status 2 and
//! one `error:` line naming the file and the line (or byte, for IDX).

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn bad_data_files_are_one_error_line_with_file_and_line() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("downhill-cli-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let gz = gzip(b"a,y\n1,0\n2,1\n3,0\n");
    let cases: Vec<(&str, Vec<u8>, &[&str], &str)> = vec![
        ("ragged.csv", b"a,b,y\n1,2,0\n3,1\n".to_vec(), &[], "error: ragged.csv:3: 2 fields, but the header has 3"),
        ("cell.csv", b"a,y\n1,0\n2,x\n".to_vec(), &[], "error: cell.csv:3: column 'y': 'x' is not a number"),
        ("inf.csv", b"a,y\n1,0\ninf,1\n".to_vec(), &[], "error: inf.csv:3: column 'a': inf is not a finite number"),
        ("big.csv", b"a,y\n1,0\n1e400,1\n".to_vec(), &[], "error: big.csv:3: column 'a': 1e400 is not a finite number"),
        ("large.csv", b"a,y\n1,0\n-1e300,1\n".to_vec(), &[], "error: large.csv:3: column 'a': -1e300 is too large (data values must be at most 1e150 in magnitude)"),
        ("header.csv", b"a,y\n".to_vec(), &[], "error: header.csv: no data rows after the header"),
        ("empty.csv", Vec::new(), &[], "error: empty.csv: the file is empty (expected a header row)"),
        ("cut.csv.gz", gz[..gz.len() - 4].to_vec(), &[], "error: cut.csv.gz: truncated or corrupt gzip data"),
        ("nolabel.csv", b"a,y\n1,0\n".to_vec(), &["--label", "z"], "error: nolabel.csv:1: no column 'z'; columns: a, y"),
        ("range.csv", b"a,y\n1,0\n2,-1\n".to_vec(), &["--task", "classification"], "error: range.csv: label -1 of sample 2 is not a class index in 0..1"),
        ("classes.csv", b"a,y\n1,0\n2,5e9\n".to_vec(), &["--task", "classification"], "error: classes.csv: 5000000001 classes is more than the 10000 supported"),
        ("wide.svm", b"1 1:1\n0 123456789:1\n".to_vec(), &[], "error: wide.svm:2: '123456789:1': 2 rows × 123456789 features"),
        ("x-images-idx3-ubyte", vec![0, 0, 8, 3, 0, 0, 0, 2], &[], "error: x-images-idx3-ubyte: truncated header: the file ends at byte 8"),
    ];
    for (name, bytes, extra, want) in cases {
        std::fs::write(dir.join(name), bytes).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_downhill"))
            .current_dir(&dir)
            .args(["train", "--dataset", name, "--model", "softmax", "-q"])
            .args(extra)
            .output()
            .unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{name}: {err}");
        assert!(out.stdout.is_empty(), "{name}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
        assert!(
            err.starts_with(want),
            "{name}: expected '{want}', got '{err}'"
        );
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_damaged_checkpoint_is_one_error_line_and_is_kept() {
    let dir: PathBuf =
        std::env::temp_dir().join(format!("downhill-cli-damaged-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let train = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_downhill"))
            .current_dir(&dir)
            .args(["train", "--dataset", "iris", "--model", "softmax", "-q"])
            .args(extra)
            .output()
            .unwrap()
    };
    assert!(train(&["--epochs", "2", "--checkpoint", "ck.json"])
        .status
        .success());
    let good = std::fs::read_to_string(dir.join("ck.json")).unwrap();
    let cases = [
        (good[..good.len() - 1].to_string(), "error: checkpoint: ck.json: the file is corrupt: not a complete downhill-checkpoint document (truncated or damaged)"),
        (good.replacen("\"epoch\":2", "\"epoch\":1", 1), "error: checkpoint: ck.json: the file is corrupt: checksum mismatch"),
    ];
    for (text, want) in cases {
        std::fs::write(dir.join("ck.json"), &text).unwrap();
        let out = train(&[
            "--epochs",
            "3",
            "--resume",
            "ck.json",
            "--checkpoint",
            "ck.json",
        ]);
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with(want), "expected '{want}', got '{err}'");
        assert_eq!(std::fs::read_to_string(dir.join("ck.json")).unwrap(), text);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
