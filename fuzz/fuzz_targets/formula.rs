//! Formula surfaces: parsed, then evaluated (value and gradient) at a few points.
#![no_main]
use downhill::surface;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(resolved) = surface::resolve(text) {
        let f = &resolved.landscape;
        let mut points = vec![resolved.start, [0.0, 0.0], [1.5, -2.0], [-1e6, 1e-9]];
        points.extend(resolved.minima.iter().take(4));
        for [x, y] in points {
            let _ = f.value(x, y);
            let _ = f.gradient(x, y);
        }
    }
});
