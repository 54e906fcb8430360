//! Prints the generated CUDA C of a rule's kernel module (no GPU needed):
//! `cargo run -p downhill-cuda --example kernel_source -- adam f32`.

use downhill_cuda::kernels;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rule = args.first().map_or("adam", String::as_str);
    let dtype = args.get(1).map_or("f32", String::as_str);
    let Some(desc) = kernels::desc(rule) else {
        let names: Vec<&str> = kernels::KERNELS.iter().map(|k| k.name).collect();
        eprintln!("no kernel for '{rule}' (kernels: {})", names.join(", "));
        std::process::exit(2);
    };
    match dtype {
        "f32" => print!("{}", kernels::source::<f32>(desc)),
        "f64" => print!("{}", kernels::source::<f64>(desc)),
        other => {
            eprintln!("element type '{other}': f32 or f64");
            std::process::exit(2);
        }
    }
}
