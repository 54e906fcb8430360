//! Gzip input of every loader: decompression is bounded and never panics.
#![no_main]
use downhill::data::{gunzip_if_needed, MAX_DECOMPRESSED};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(out) = gunzip_if_needed("f.gz", bytes.to_vec()) {
        assert!(out.len() as u64 <= MAX_DECOMPRESSED);
    }
});
