//! CSV data files (after gzip detection, as the loader reads them).
#![no_main]
use downhill::data::{gunzip_if_needed, parse_csv, LabelColumn};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(plain) = gunzip_if_needed("f.csv", bytes.to_vec()) {
        let _ = parse_csv("f.csv", &plain, &LabelColumn::Last);
        let _ = parse_csv("f.csv", &plain, &LabelColumn::Index(1));
    }
});
