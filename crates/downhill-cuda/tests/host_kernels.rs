//! The kernels' CUDA C, run on the host: every rule's module (exactly what
//! NVRTC compiles, from `kernels::source`) is compiled by the host C++
//! compiler with the CUDA built-ins defined as their IEEE host equivalents
//! (`__fma_rn` → `std::fma`, `__dsqrt_rn` → `std::sqrt`, no contraction), and
//! its update kernel is run block by block and thread by thread over the same
//! chunk and tensor tables, coefficients (`kernels::pack`) and flags a launch
//! gets. The results must equal the CPU optimizer's bit for bit, for f32 and
//! f64, several layouts (chunk edges, the 16-byte vector path, tails) and the
//! `propagate` and `zero` policies.
//!
//! This checks the kernels' arithmetic, walk and state layout on any machine;
//! `tests/gpu.rs` checks them on a device. Needs a C++17 compiler (`$CXX`, or
//! `c++`); `scripts/test.sh` installs g++ where it is missing.

use downhill_cuda::kernels::{self, DevicePolicy, ParamKind};
use downhill_cuda::CudaScalar;
use downhill_optim::{build, NonFinite, Optimizer, ParamGroup, RuleSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

mod common;
use common::{bits, tensors, SPECS};

/// CUDA's device built-ins as host code (sequential threads, IEEE arithmetic).
const SHIM: &str = r#"
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#define __device__
#define __global__
#define __forceinline__ inline
#define __launch_bounds__(n)
#define __align__(n) alignas(n)
struct DhDim { unsigned int x; };
static DhDim blockIdx, threadIdx, gridDim, blockDim;
inline float __fsqrt_rn(float x) { return std::sqrt(x); }
inline double __dsqrt_rn(double x) { return std::sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return std::fma(a, b, c); }
inline double __fma_rn(double a, double b, double c) { return std::fma(a, b, c); }
inline unsigned int __float_as_uint(float f) { unsigned int u; std::memcpy(&u, &f, 4); return u; }
inline long long __double_as_longlong(double d) { long long u; std::memcpy(&u, &d, 8); return u; }
inline unsigned long long atomicAdd(unsigned long long* a, unsigned long long v) { unsigned long long o = *a; *a += v; return o; }
inline unsigned long long atomicMax(unsigned long long* a, unsigned long long v) { unsigned long long o = *a; if (v > o) *a = v; return o; }
"#;

/// Reads the layout, initial values and per-step inputs (numbers are the
/// bits of f64s), runs the update kernel over a grid, prints the results.
const MAIN: &str = r#"
static double rd() {
    unsigned long long u;
    if (std::scanf("%llu", &u) != 1) { std::fprintf(stderr, "short input\n"); std::exit(3); }
    double d;
    std::memcpy(&d, &u, 8);
    return d;
}
static void wr(T x) { double d = (double)x; unsigned long long u; std::memcpy(&u, &d, 8); std::printf("%llu\n", u); }
int main() {
    unsigned long long nt, glen = 0;
    unsigned int nbuf, steps, policy, grid;
    if (std::scanf("%llu", &nt) != 1) return 3;
    std::vector<unsigned long long> sizes(nt);
    for (auto& s : sizes) { if (std::scanf("%llu", &s) != 1) return 3; glen += s; }
    if (std::scanf("%u %u %u %u", &nbuf, &steps, &policy, &grid) != 4) return 3;
    std::vector<std::vector<T>> p(nt), g(nt);
    for (unsigned long long i = 0; i < nt; ++i) {
        p[i].resize(sizes[i]);
        g[i].resize(sizes[i]);
        for (auto& x : p[i]) x = (T)rd();
    }
    std::vector<T> state(nbuf * glen + 1);
    for (unsigned long long j = 0; j < nbuf * glen; ++j) state[j] = (T)rd();
    std::vector<DhTensor> tensors;
    std::vector<DhChunk> chunks;
    unsigned long long off = 0;
    for (unsigned long long i = 0; i < nt; ++i) {
        tensors.push_back({(unsigned long long)p[i].data(), (unsigned long long)g[i].data(), sizes[i], off, off});
        for (unsigned int c = 0; (unsigned long long)c * DH_CHUNK < sizes[i]; ++c) chunks.push_back({(unsigned int)i, c});
        off += sizes[i];
    }
    unsigned long long zeroed = 0, bad = 0;
    for (unsigned int s = 0; s < steps; ++s) {
        unsigned int flags;
        if (std::scanf("%u", &flags) != 1) return 3;
        DhCoeffs c;
        for (int k = 0; k < DH_MAX_COEFFS; ++k) c.v[k] = (T)rd();
        for (auto& t : g) for (auto& x : t) x = (T)rd();
        gridDim.x = grid;
        blockDim.x = DH_BLOCK;
        for (unsigned int b = 0; b < grid; ++b) {
            for (unsigned int t = 0; t < DH_BLOCK; ++t) {
                blockIdx.x = b;
                threadIdx.x = t;
                DH_KERNEL(tensors.data(), chunks.data(), (unsigned int)chunks.size(), state.data(),
                          glen, nbuf, c, flags, policy, &zeroed, &bad);
            }
        }
    }
    for (auto& t : p) for (auto x : t) wr(x);
    for (unsigned long long j = 0; j < nbuf * glen; ++j) wr(state[j]);
    std::printf("%llu\n", zeroed);
    return 0;
}
"#;

/// Layouts: tensor sizes of one group (4096 is the chunk size). The last has
/// 16-byte aligned tensors and a length divisible by four: the vector path.
const LAYOUTS: &[&[usize]] = &[&[10_007], &[1, 4095, 4096, 4097, 3], &[4096, 8, 10_001, 3]];

const STEPS: u64 = 5;

fn compiler() -> String {
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    let found = Command::new(&cxx).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "the host test of the CUDA kernels needs a C++17 compiler: '{cxx}' did not run \
         (install g++, or set CXX)"
    );
    cxx
}

/// Compiles rule `name`'s module for `T` with the host shim; returns the program.
fn compile<T: CudaScalar>(dir: &Path, name: &str) -> PathBuf {
    let desc = kernels::desc(name).unwrap();
    let source = kernels::source_for::<T>(desc, ParamKind::Same);
    let main = MAIN.replace("DH_KERNEL", &kernels::update_name(desc));
    let file = dir.join(format!("{name}-{}.cpp", T::DTYPE));
    std::fs::write(&file, format!("{SHIM}{source}{main}")).unwrap();
    let program = dir.join(format!("{name}-{}", T::DTYPE));
    let out = Command::new(compiler())
        .args(["-std=c++17", "-O1", "-ffp-contract=off", "-w", "-o"])
        .arg(&program)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    program
}

/// Gradients of step `s`; under `zero`, some entries are NaN or ±∞.
fn gradients<T: CudaScalar>(sizes: &[usize], s: u64, policy: DevicePolicy) -> Vec<Vec<T>> {
    let mut g = tensors::<T>(sizes, 100 + s);
    if policy == DevicePolicy::Zero {
        for (t, tensor) in g.iter_mut().enumerate() {
            for (i, x) in tensor.iter_mut().enumerate() {
                if (i + t + s as usize).is_multiple_of(97) {
                    *x = [T::nan(), T::infinity(), T::neg_infinity()][i % 3];
                }
            }
        }
    }
    g
}

/// Runs `spec` on the CPU and through the host-compiled kernel; compares.
fn compare<T: CudaScalar>(program: &Path, spec: &str, sizes: &[usize], policy: DevicePolicy) {
    let rule = build(spec).unwrap();
    let mut cpu =
        Optimizer::<T>::with_groups(rule.clone(), vec![ParamGroup::new(sizes.to_vec())]).unwrap();
    cpu.set_non_finite(match policy {
        DevicePolicy::Zero => NonFinite::Zero,
        _ => NonFinite::Propagate,
    });
    let mut params = tensors::<T>(sizes, 1);
    let glen: usize = sizes.iter().sum();
    let buffers = rule.buffers();
    let mut input = format!("{}", sizes.len());
    for n in sizes {
        input += &format!(" {n}");
    }
    let grid = 3; // fewer blocks than chunks: the grid-stride walk
    input += &format!("\n{} {STEPS} {} {grid}\n", buffers.len(), policy as u32);
    let push = |input: &mut String, values: &[T]| {
        for v in values {
            input.push_str(&v.widen().to_bits().to_string());
            input.push('\n');
        }
    };
    for t in &params {
        push(&mut input, t);
    }
    for (_, init) in &buffers {
        push(&mut input, &vec![T::of(*init); glen]);
    }
    let mut scalars: Vec<f64> = rule.scalars().iter().map(|s| s.1).collect();
    for s in 1..=STEPS {
        let (_, packed) = kernels::pack::<T>(&rule, s, &mut scalars).unwrap();
        input += &format!("{}\n", packed.flags);
        push(&mut input, &packed.coeffs.v);
        let grads = gradients::<T>(sizes, s, policy);
        for t in &grads {
            push(&mut input, t);
        }
        let mut p: Vec<&mut [T]> = params.iter_mut().map(|v| v.as_mut_slice()).collect();
        let g: Vec<&[T]> = grads.iter().map(|v| v.as_slice()).collect();
        cpu.step_tensors(&mut p, &g).unwrap();
    }
    let mut child = Command::new(program)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{spec}: the host kernel failed");
    let words: Vec<u64> = String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(|w| w.parse().unwrap())
        .collect();
    let what = format!("{spec} ({}, sizes {sizes:?}, {policy:?})", T::DTYPE);
    let expected_params: Vec<u64> = params.iter().flat_map(|t| bits(t)).collect();
    same(&words[..glen], &expected_params, &what, "parameters");
    for (k, (name, _)) in buffers.iter().enumerate() {
        let got = &words[glen * (k + 1)..glen * (k + 2)];
        same(got, &bits(cpu.buffer(0, name).unwrap()), &what, name);
    }
    let zeroed = words[glen * (buffers.len() + 1)];
    let bad_entries = if policy == DevicePolicy::Zero {
        (1..=STEPS)
            .map(|s| {
                gradients::<T>(sizes, s, policy)
                    .iter()
                    .flatten()
                    .filter(|x| !x.is_finite())
                    .count() as u64
            })
            .sum()
    } else {
        0
    };
    assert_eq!(zeroed, bad_entries, "{what}: zeroed entries");
}

/// Asserts equal bits, naming the first element that differs.
fn same(got: &[u64], want: &[u64], what: &str, name: &str) {
    assert_eq!(got.len(), want.len(), "{what}: {name} length");
    if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
        panic!(
            "{what}: {name}[{i}] is {} on the host kernel, {} on the CPU",
            f64::from_bits(got[i]),
            f64::from_bits(want[i])
        );
    }
}

fn every_rule<T: CudaScalar>() {
    let dir = tempfile::tempdir().unwrap();
    let mut names: Vec<&str> = SPECS.iter().map(|s| s.split(':').next().unwrap()).collect();
    names.dedup();
    let mut tried = 0;
    for name in names {
        let rule_name = RuleSet::name(&build(name).unwrap());
        let program = compile::<T>(dir.path(), rule_name);
        for spec in SPECS.iter().filter(|s| s.split(':').next() == Some(name)) {
            for sizes in LAYOUTS {
                for policy in [DevicePolicy::Raw, DevicePolicy::Zero] {
                    compare::<T>(&program, spec, sizes, policy);
                    tried += 1;
                }
            }
        }
    }
    assert_eq!(tried, SPECS.len() * LAYOUTS.len() * 2);
}

#[test]
fn host_compiled_kernels_equal_the_cpu_in_f64() {
    every_rule::<f64>();
}

#[test]
fn host_compiled_kernels_equal_the_cpu_in_f32() {
    every_rule::<f32>();
}
