//! Checkpoints: the file reader (envelope and checksum) and the document
//! reader behind it, then the conversion to a training state.
#![no_main]
use downhill::train::Checkpoint;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let run = serde_json::json!({"model": "softmax"});
    let _ = Checkpoint::<f32>::parse(text, &run);
    if let Ok(ck) = Checkpoint::<f64>::parse_content(text, &run) {
        let len = ck.params.len();
        let _ = ck.into_state(len);
    }
});
