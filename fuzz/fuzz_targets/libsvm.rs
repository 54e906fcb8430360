//! LIBSVM data files.
#![no_main]
use downhill::data::parse_libsvm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = parse_libsvm("f.svm", text);
});
