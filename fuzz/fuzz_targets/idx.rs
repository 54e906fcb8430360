//! MNIST IDX files: parsed alone, then one input (first byte: the labels
//! file's length) split into a labels and an images file and loaded as the CLI does.
#![no_main]
use downhill::data::{load_idx, parse_idx};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let _ = parse_idx("f", bytes);
    let Some((&split, rest)) = bytes.split_first() else {
        return;
    };
    let (labels, images) = rest.split_at(usize::from(split).min(rest.len()));
    let dir = std::env::temp_dir().join(format!("downhill-fuzz-idx-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (image_path, label_path) = (dir.join("images"), dir.join("labels"));
    std::fs::write(&image_path, images).unwrap();
    std::fs::write(&label_path, labels).unwrap();
    let _ = load_idx(&image_path, &label_path);
});
