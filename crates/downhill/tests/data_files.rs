//! Bad data files: every loader refuses them with one line naming the file
//! and the line (text) or byte offset (IDX), and arbitrary or damaged bytes
//! never panic a loader.

use downhill::data::{self, LabelColumn, LoadOptions};
use proptest::prelude::*;
use std::io::Write;
use std::path::PathBuf;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("downhill-data-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 8, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

/// Loads `bytes` saved as `name`; returns the error message with the folder removed.
fn load_error(name: &str, bytes: &[u8], options: &LoadOptions) -> String {
    let dir = temp_dir("bad");
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    let err = data::resolve(path.to_str().unwrap(), options)
        .unwrap_err()
        .to_string();
    assert!(!err.contains('\n'), "{err}");
    err.replace(&format!("{}/", dir.display()), "")
}

#[test]
fn bad_text_files_name_file_and_line() {
    let gz = gzip(b"a,y\n1,0\n2,1\n3,0\n");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("ragged.csv", b"a,b,y\n1,2,0\n3,1\n".to_vec(), "ragged.csv:3: 2 fields, but the header has 3"),
        ("word.csv", b"a,y\n1,0\nabc,1\n".to_vec(), "word.csv:3: column 'a': 'abc' is not a number"),
        ("nan.csv", b"a,y\n1,0\n\n2,NaN\n".to_vec(), "nan.csv:4: column 'y': NaN is not a finite number"),
        ("inf.csv", b"a,y\n-inf,0\n".to_vec(), "inf.csv:2: column 'a': -inf is not a finite number"),
        ("overflow.csv", b"a,y\n1,0\n1e400,1\n".to_vec(), "overflow.csv:3: column 'a': 1e400 is not a finite number"),
        ("huge.csv", b"a,y\n1,0\n1e300,1\n".to_vec(), "huge.csv:3: column 'a': 1e300 is too large (data values must be at most 1e150 in magnitude)"),
        ("empty.csv", Vec::new(), "empty.csv: the file is empty (expected a header row)"),
        ("header.csv", b"a,b,y\n".to_vec(), "header.csv: no data rows after the header"),
        ("binary.csv", b"a,y\n1,\xff\xfe\n".to_vec(), "binary.csv:2:"),
        ("cut.csv.gz", gz[..gz.len() - 5].to_vec(), "cut.csv.gz: truncated or corrupt gzip data"),
        ("label.svm", b"1 1:2\none 1:2\n".to_vec(), "label.svm:2: label 'one' is not a number"),
        ("nan.svm", b"1 1:2\n0 1:nan\n".to_vec(), "nan.svm:2: '1:nan' is not a finite number"),
        ("huge.svm", b"1e300 1:2\n".to_vec(), "huge.svm:1: label 1e300 is too large"),
        ("wide.svm", b"1 1:2\n0 99999999:1\n".to_vec(), "wide.svm:2: '99999999:1': 2 rows × 99999999 features is more than the 67108864 values supported"),
        ("empty.svm", b"\n# nothing\n".to_vec(), "empty.svm: the file is empty (no samples)"),
        ("cut.svm.gz", gzip(b"1 1:2\n0 1:3\n")[..20].to_vec(), "cut.svm.gz: truncated or corrupt gzip data"),
    ];
    for (name, bytes, want) in cases {
        let err = load_error(name, &bytes, &LoadOptions::default());
        assert!(
            err.starts_with(want),
            "{name}: expected '{want}', got '{err}'"
        );
    }
    let label = LoadOptions {
        label: LabelColumn::Name("class".into()),
        ..Default::default()
    };
    let err = load_error("label.csv", b"a,y\n1,0\n", &label);
    assert_eq!(err, "label.csv:1: no column 'class'; columns: a, y");
    // 1e150 is the largest magnitude accepted.
    let ok = data::parse_csv("ok.csv", b"a,y\n1e150,0\n-1e150,1\n", &LabelColumn::Last).unwrap();
    assert_eq!(ok.features[[1, 0]], -1e150);
}

#[test]
fn bad_idx_files_name_file_and_byte() {
    let images = idx(&[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7]);
    let labels = idx(&[2], &[0, 1]);
    let cases: Vec<(&str, Vec<u8>, Vec<u8>, &str)> = vec![
        ("magic", b"\x1f\x00\x08\x03".to_vec(), labels.clone(), "magic-images-idx3-ubyte: not an IDX file (bad magic number: bytes 0–1 must be 00 00)"),
        ("short", images[..21].to_vec(), labels.clone(), "short-images-idx3-ubyte: truncated data: dimensions [2, 2, 2] need 8 bytes from byte 16, the file ends at byte 21 (in item 2 of 2)"),
        ("header", images[..9].to_vec(), labels.clone(), "header-images-idx3-ubyte: truncated header: the file ends at byte 9, the header of 3 dimensions needs 16"),
        ("dims", idx(&[8], &[0; 8]), labels.clone(), "dims-images-idx3-ubyte: expected images of 2 or more dimensions, got 1"),
        ("count", images.clone(), idx(&[3], &[0, 1, 2]), "count-labels-idx1-ubyte: expected 2 labels in one dimension, got dimensions [3]"),
        ("gz", gzip(&images)[..30].to_vec(), labels.clone(), "gz-images-idx3-ubyte: truncated or corrupt gzip data"),
    ];
    let dir = temp_dir("idx");
    for (name, image_bytes, label_bytes, want) in cases {
        std::fs::write(dir.join(format!("{name}-images-idx3-ubyte")), image_bytes).unwrap();
        std::fs::write(dir.join(format!("{name}-labels-idx1-ubyte")), label_bytes).unwrap();
        let path = dir.join(format!("{name}-images-idx3-ubyte"));
        let err = data::resolve(path.to_str().unwrap(), &LoadOptions::default())
            .unwrap_err()
            .to_string()
            .replace(&format!("{}/", dir.display()), "");
        assert!(
            err.starts_with(want),
            "{name}: expected '{want}', got '{err}'"
        );
    }
}

#[test]
fn forced_classes_are_checked() {
    let d = data::parse_csv("t.csv", b"a,y\n1,0\n2,2.5\n", &LabelColumn::Last).unwrap();
    let err = data::Dataset::new(
        "t.csv",
        d.features.clone(),
        d.targets.clone(),
        data::Task::Classification { classes: 3 },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "t.csv: label 2.5 of sample 2 is not a class index in 0..3"
    );
    let err = data::Dataset::new(
        "t.csv",
        d.features,
        vec![0.0, 1e9],
        data::Task::Classification {
            classes: 1_000_000_001,
        },
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        err,
        "t.csv: 1000000001 classes is more than the 10000 supported"
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic_a_loader(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = data::parse_csv("f", &bytes, &LabelColumn::Last);
        let _ = data::parse_libsvm("f", &String::from_utf8_lossy(&bytes));
        let _ = data::parse_idx("f", &bytes);
        let _ = data::gunzip_if_needed("f", bytes);
    }

    #[test]
    fn damaged_valid_files_never_panic_a_loader(
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let csv = b"a,b,y\n1,2.5,0\n-3,4e2,1\n\n5,6,2\n".to_vec();
        let svm = b"+1 1:0.5 3:2 # note\n-1 2:1\n".to_vec();
        let img = idx(&[2, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7]);
        for good in [csv, svm, img] {
            for bytes in [good.clone(), gzip(&good)] {
                let mut bad = bytes.clone();
                let i = at.index(bad.len());
                bad[i] = byte;
                bad.truncate(cut.index(bad.len() + 1));
                if let Ok(plain) = data::gunzip_if_needed("f", bad) {
                    let _ = data::parse_csv("f", &plain, &LabelColumn::Last);
                    let _ = data::parse_libsvm("f", &String::from_utf8_lossy(&plain));
                    let _ = data::parse_idx("f", &plain);
                }
            }
        }
    }
}
