//! Optimizer state: the file reader (envelope and checksum) and the document
//! reader behind it. Whatever loads can step.
#![no_main]
use downhill::StateFiles;
use downhill::optim::Optimizer;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    let _ = Optimizer::<f64>::from_file_text(text);
    if let Ok(mut opt) = Optimizer::<f32>::from_json(text) {
        // Only small optimizers are stepped: a valid document may describe a huge one.
        if opt.len() <= 1 << 16 {
            let mut params = vec![0.5f32; opt.len()];
            let mut grads = vec![0.25f32; opt.len()];
            let _ = opt.step_with(&mut params, &mut grads, |_, g| {
                g.fill(0.25);
                1.0
            });
        }
    }
});
