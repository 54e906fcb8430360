//! One description per rule: the per-step values the kernel takes (computed
//! on the host from the rule's own `begin_step`, converted to `T` exactly as
//! the rule's CPU `apply` converts them), the flags fixed for a step, and the
//! elementwise body in CUDA C, a line-for-line copy of the rule's `apply`
//! (same operations, same order; see `crates/downhill-optim/src/<rule>.rs`).
//!
//! [`source`] wraps a body into a complete module: the multi-tensor walk (a
//! table of tensors and a table of fixed-size chunks, grid-stride over the
//! chunks), the gradient read under the non-finite policy, the state loads
//! and stores, and the finiteness scan used by `error` / `skip`.

use downhill_optim::ops::LerpWeight;
use downhill_optim::{AnyRule, Rule, Scalar};

/// The most per-step values a kernel takes (RAdam uses 11).
pub const MAX_COEFFS: usize = 16;

/// Elements per chunk of the multi-tensor walk (one block works on one chunk at a time).
pub const CHUNK: usize = 4096;

/// Threads per block.
pub const BLOCK: u32 = 256;

/// The non-finite policy as the update kernel sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum DevicePolicy {
    /// Read gradients as they are.
    Raw = 0,
    /// NaN and ±∞ read as zero and counted.
    Zero = 1,
    /// Update only if the scan's flag is clear.
    Guarded = 2,
}

/// How parameters and gradients are stored, relative to the optimizer's element type `T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ParamKind {
    /// As `T` (f32 or f64): the CPU optimizer's own arithmetic.
    Same,
    /// IEEE half precision, computed in f32 (`T` = f32) and stored rounded to nearest even.
    F16,
    /// bfloat16, computed in f32 (`T` = f32) and stored rounded to nearest even (sm_80+).
    Bf16,
}

impl ParamKind {
    /// The name used in kernel sources and caches.
    pub fn name(self) -> &'static str {
        match self {
            ParamKind::Same => "same",
            ParamKind::F16 => "f16",
            ParamKind::Bf16 => "bf16",
        }
    }
}

/// A rule's kernel description.
#[derive(Debug)]
pub struct KernelDesc {
    /// The rule's name (`AnyRule`'s `RuleSet::name`, `adam` for AdamW).
    pub name: &'static str,
    /// The per-step values, in the order the kernel reads them (`c.v[i]`).
    pub coeffs: &'static [&'static str],
    /// The flags, bit `i` of the `flags` argument.
    pub flags: &'static [&'static str],
    /// The elementwise update; reads and writes `p`, `b0`…`b2`, reads `g`.
    pub body: &'static str,
}

/// Values for one launch: the per-step coefficients (`T`) and flags.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Coeffs<T> {
    pub v: [T; MAX_COEFFS],
}

// SAFETY: a plain `#[repr(C)]` array of f32/f64, laid out as the kernel's
// `struct DhCoeffs { T v[16]; }`.
unsafe impl<T: cudarc::driver::DeviceRepr> cudarc::driver::DeviceRepr for Coeffs<T> {}

/// What [`pack`] computes for one group and step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Packed<T> {
    pub coeffs: Coeffs<T>,
    pub flags: u32,
}

/// Every rule with a kernel (all built-in rules but `nag`).
pub const KERNELS: &[KernelDesc] = &[
    KernelDesc {
        name: "sgd",
        coeffs: &["neg_lr", "wd", "mu", "keep"],
        flags: &["MAXIMIZE", "DECAY", "MOMENTUM", "FIRST", "NESTEROV"],
        body: r#"
    T d = dh_grad(p, g, wd, MAXIMIZE, DECAY);
    if (MOMENTUM) {
        b0 = FIRST ? d : dh_fma(d, keep, b0 * mu);
        d = NESTEROV ? dh_fma(b0, mu, d) : b0;
    }
    p = dh_fma(d, neg_lr, p);
"#,
    },
    KernelDesc {
        name: "adagrad",
        coeffs: &["neg_clr", "eps", "wd"],
        flags: &["MAXIMIZE", "DECAY"],
        body: r#"
    const T gd = dh_grad(p, g, wd, MAXIMIZE, DECAY);
    b0 = dh_fma((T)1 * gd, gd, b0);
    p = p + neg_clr * gd / (dh_sqrt(b0) + eps);
"#,
    },
    KernelDesc {
        name: "rmsprop",
        coeffs: &["alpha", "w", "one_minus_w", "eps", "neg_lr", "mu", "wd"],
        flags: &["MAXIMIZE", "DECAY", "MOMENTUM", "CENTERED", "SMALL"],
        body: r#"
    /* buffers: square_avg, [momentum_buffer], [grad_avg] */
    T& mom = b1;
    T& gavg = MOMENTUM ? b2 : b1;
    const T gd = dh_grad(p, g, wd, MAXIMIZE, DECAY);
    const T v = dh_fma(w * gd, gd, b0 * alpha);
    b0 = v;
    T avg;
    if (CENTERED) {
        gavg = dh_lerp(gavg, gd, w, one_minus_w, SMALL);
        avg = dh_sqrt(dh_fma((T)(-1) * gavg, gavg, v)) + eps;
    } else {
        avg = dh_sqrt(v) + eps;
    }
    if (MOMENTUM) {
        mom = mom * mu + (T)1 * gd / avg;
        p = dh_fma(mom, neg_lr, p);
    } else {
        p = p + neg_lr * gd / avg;
    }
"#,
    },
    KernelDesc {
        name: "adadelta",
        coeffs: &["rho", "one_minus_rho", "eps", "neg_lr", "wd"],
        flags: &["MAXIMIZE", "DECAY"],
        body: r#"
    const T gd = dh_grad(p, g, wd, MAXIMIZE, DECAY);
    b0 = dh_fma(one_minus_rho * gd, gd, b0 * rho);
    const T sd = dh_sqrt(b0 + eps);
    const T delta = dh_sqrt(b1 + eps) / sd * gd;
    b1 = dh_fma(one_minus_rho * delta, delta, b1 * rho);
    p = dh_fma(delta, neg_lr, p);
"#,
    },
    KernelDesc {
        name: "adam",
        coeffs: &[
            "w",
            "one_minus_w",
            "beta2",
            "one_minus_beta2",
            "eps",
            "neg_step",
            "bc2_sqrt",
            "wd",
            "shrink",
        ],
        flags: &["MAXIMIZE", "COUPLED", "DECOUPLED", "AMSGRAD", "SMALL"],
        body: r#"
    if (DECOUPLED) p = p * shrink;
    const T gd = dh_grad(p, g, wd, MAXIMIZE, COUPLED);
    b0 = dh_lerp(b0, gd, w, one_minus_w, SMALL);
    b1 = dh_fma(one_minus_beta2 * gd, gd, b1 * beta2);
    T v;
    if (AMSGRAD) {
        b2 = dh_max(b2, b1);
        v = b2;
    } else {
        v = b1;
    }
    const T denom = dh_sqrt(v) / bc2_sqrt + eps;
    p = p + neg_step * b0 / denom;
"#,
    },
    KernelDesc {
        name: "nadam",
        coeffs: &[
            "w",
            "one_minus_w",
            "beta2",
            "one_minus_beta2",
            "eps",
            "bc2",
            "grad_coef",
            "avg_coef",
            "wd",
            "shrink",
        ],
        flags: &["MAXIMIZE", "COUPLED", "DECOUPLED", "SMALL"],
        body: r#"
    if (DECOUPLED) p = p * shrink;
    const T gd = dh_grad(p, g, wd, MAXIMIZE, COUPLED);
    b0 = dh_lerp(b0, gd, w, one_minus_w, SMALL);
    b1 = dh_fma(one_minus_beta2 * gd, gd, b1 * beta2);
    const T denom = dh_sqrt(b1 / bc2) + eps;
    p = p + grad_coef * gd / denom;
    p = p + avg_coef * b0 / denom;
"#,
    },
    KernelDesc {
        name: "radam",
        coeffs: &[
            "w",
            "one_minus_w",
            "beta2",
            "one_minus_beta2",
            "eps",
            "lr",
            "bc1",
            "bc2_sqrt",
            "rect",
            "wd",
            "shrink",
        ],
        flags: &["MAXIMIZE", "COUPLED", "DECOUPLED", "RECTIFIED", "SMALL"],
        body: r#"
    if (DECOUPLED) p = p * shrink;
    const T gd = dh_grad(p, g, wd, MAXIMIZE, COUPLED);
    b0 = dh_lerp(b0, gd, w, one_minus_w, SMALL);
    b1 = dh_fma(one_minus_beta2 * gd, gd, b1 * beta2);
    const T corrected = b0 / bc1;
    T update;
    if (RECTIFIED) {
        update = corrected * lr * ((T)1 / (dh_sqrt(b1) + eps) * bc2_sqrt) * rect;
    } else {
        update = corrected * lr;
    }
    p = p - update;
"#,
    },
    KernelDesc {
        name: "adamax",
        coeffs: &["w", "one_minus_w", "beta2", "eps", "neg_clr", "wd"],
        flags: &["MAXIMIZE", "DECAY", "SMALL"],
        body: r#"
    const T gd = dh_grad(p, g, wd, MAXIMIZE, DECAY);
    b0 = dh_lerp(b0, gd, w, one_minus_w, SMALL);
    b1 = dh_max(b1 * beta2, dh_abs(gd) + eps);
    p = p + neg_clr * b0 / b1;
"#,
    },
    KernelDesc {
        name: "rprop",
        coeffs: &["eta_minus", "eta_plus", "step_min", "step_max"],
        flags: &["MAXIMIZE"],
        body: r#"
    /* buffers: prev, step_size */
    T gd = MAXIMIZE ? -g : g;
    const T product = gd * b0;
    T factor;
    if (product > (T)0) {
        factor = eta_plus;
    } else if (product < (T)0) {
        factor = eta_minus;
    } else {
        factor = (T)1;
    }
    b1 = dh_min(dh_max(b1 * factor, step_min), step_max);
    if (factor == eta_minus) gd = (T)0;
    p = p + -dh_sign(gd) * b1;
    b0 = gd;
"#,
    },
    KernelDesc {
        name: "asgd",
        coeffs: &["shrink", "neg_eta", "mu", "wd"],
        flags: &["MAXIMIZE", "DECAY", "AVERAGE"],
        body: r#"
    const T gd = dh_grad(p, g, wd, MAXIMIZE, DECAY);
    p = p * shrink;
    p = dh_fma(gd, neg_eta, p);
    b0 = AVERAGE ? b0 + (p - b0) * mu : p;
"#,
    },
];

/// The description of rule `name`.
pub fn desc(name: &str) -> Option<&'static KernelDesc> {
    KERNELS.iter().find(|k| k.name == name)
}

/// The C type of `T`.
pub fn c_type<T: Scalar>() -> &'static str {
    if T::DTYPE == "f32" {
        "float"
    } else {
        "double"
    }
}

/// The name of the update kernel of `desc`.
pub fn update_name(desc: &KernelDesc) -> String {
    format!("dh_{}_update", desc.name)
}

/// The name of the finiteness scan (in every module).
pub const SCAN_NAME: &str = "dh_scan";

/// Parameter storage: `DhParam`, `dh_load` (exact widening to `T`) and
/// `dh_store` (rounding to nearest even), for each [`ParamKind`].
fn param_prelude(kind: ParamKind) -> &'static str {
    match kind {
        ParamKind::Same => {
            r#"
typedef T DhParam;
__device__ __forceinline__ T dh_load(DhParam x) { return x; }
__device__ __forceinline__ DhParam dh_store(T x) { return x; }
"#
        }
        ParamKind::F16 => {
            r#"
typedef unsigned short DhParam;
__device__ __forceinline__ float dh_load(DhParam h) {
    float f;
    asm("cvt.f32.f16 %0, %1;" : "=f"(f) : "h"(h));
    return f;
}
__device__ __forceinline__ DhParam dh_store(float f) {
    unsigned short h;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
"#
        }
        ParamKind::Bf16 => {
            r#"
typedef unsigned short DhParam;
__device__ __forceinline__ float dh_load(DhParam h) {
    return __uint_as_float(((unsigned int)h) << 16);
}
__device__ __forceinline__ DhParam dh_store(float f) {
    unsigned short h;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(h) : "f"(f));
    return h;
}
"#
        }
    }
}

const PRELUDE: &str = r#"
struct DhCoeffs { T v[DH_MAX_COEFFS]; };
/* One tensor: parameter and gradient pointers, length, offset in its group's
   state buffers, offset in the whole optimizer (for the first bad index). */
struct DhTensor { unsigned long long p, g, len, off, flat; };
/* One chunk: a tensor and the chunk's index in it. */
struct DhChunk { unsigned int tensor, index; };

/* IEEE operations, spelled out so that no compiler flag can change them. */
__device__ __forceinline__ float dh_sqrt(float x) { return __fsqrt_rn(x); }
__device__ __forceinline__ double dh_sqrt(double x) { return __dsqrt_rn(x); }
__device__ __forceinline__ float dh_max(float a, float b) { return fmaxf(a, b); }
__device__ __forceinline__ double dh_max(double a, double b) { return fmax(a, b); }
__device__ __forceinline__ float dh_min(float a, float b) { return fminf(a, b); }
__device__ __forceinline__ double dh_min(double a, double b) { return fmin(a, b); }
__device__ __forceinline__ float dh_abs(float a) { return fabsf(a); }
__device__ __forceinline__ double dh_abs(double a) { return fabs(a); }
__device__ __forceinline__ bool dh_finite(float a) {
    return (__float_as_uint(a) & 0x7f800000u) != 0x7f800000u;
}
__device__ __forceinline__ bool dh_finite(double a) {
    return ((unsigned long long)__double_as_longlong(a) & 0x7ff0000000000000ULL) != 0x7ff0000000000000ULL;
}
__device__ __forceinline__ T dh_sign(T x) { return x > (T)0 ? (T)1 : (x < (T)0 ? (T)(-1) : (T)0); }

/* a*b + c with one rounding: Rust's mul_add, PyTorch's fused CPU kernels. */
__device__ __forceinline__ float dh_fma(float a, float b, float c) { return __fmaf_rn(a, b, c); }
__device__ __forceinline__ double dh_fma(double a, double b, double c) { return __fma_rn(a, b, c); }

/* ops::grad: the gradient negated when maximizing, plus wd*theta with coupled decay (fused). */
__device__ __forceinline__ T dh_grad(T p, T g, T wd, bool maximize, bool decay) {
    T d = maximize ? -g : g;
    return decay ? dh_fma(p, wd, d) : d;
}

/* ops::lerp: torch.lerp on CPU, one fused multiply-add. */
__device__ __forceinline__ T dh_lerp(T a, T b, T w, T one_minus_w, bool small) {
    return small ? dh_fma(w, b - a, a) : dh_fma(a - b, one_minus_w, b);
}

/* Sets *bad to the largest ~index of a non-finite gradient entry (so the first one). */
extern "C" __global__ void __launch_bounds__(DH_BLOCK) dh_scan(
    const DhTensor* __restrict__ tensors, const DhChunk* __restrict__ chunks,
    unsigned int nchunks, unsigned long long* bad)
{
    unsigned long long worst = 0ULL;
    for (unsigned int k = blockIdx.x; k < nchunks; k += gridDim.x) {
        const DhChunk ch = chunks[k];
        const DhTensor t = tensors[ch.tensor];
        const DhParam* __restrict__ gp = (const DhParam*)t.g;
        const unsigned long long start = (unsigned long long)ch.index * DH_CHUNK;
        const unsigned long long end = start + DH_CHUNK < t.len ? start + DH_CHUNK : t.len;
        for (unsigned long long j = start + threadIdx.x; j < end; j += blockDim.x) {
            if (!dh_finite(dh_load(gp[j]))) {
                const unsigned long long code = ~(t.flat + j);
                worst = code > worst ? code : worst;
            }
        }
    }
    if (worst != 0ULL) atomicMax(bad, worst);
}
"#;

const UPDATE: &str = r#"
/* 16-byte vectors of T (4 floats or 2 doubles) for the aligned path. */
#define DH_W (16 / sizeof(T))
struct __align__(16) DhV { T v[DH_W]; };

extern "C" __global__ void __launch_bounds__(DH_BLOCK) DH_NAME(
    const DhTensor* __restrict__ tensors, const DhChunk* __restrict__ chunks,
    unsigned int nchunks, T* __restrict__ state, unsigned long long glen,
    unsigned int nbuf, DhCoeffs c, unsigned int flags, unsigned int policy,
    unsigned long long* zeroed, const unsigned long long* bad)
{
    if (policy == 2u && *bad != 0ULL) return;
DH_PROLOGUE
    /* The rule's elementwise update, applied to one element in registers. */
    auto body = [&](T& p, const T g, T& b0, T& b1, T& b2) {
DH_BODY
    };
    unsigned long long nz = 0ULL;
    for (unsigned int k = blockIdx.x; k < nchunks; k += gridDim.x) {
        const DhChunk ch = chunks[k];
        const DhTensor t = tensors[ch.tensor];
        DhParam* __restrict__ pp = (DhParam*)t.p;
        const DhParam* __restrict__ gp = (const DhParam*)t.g;
        T* __restrict__ st = state + t.off;
        const unsigned long long start = (unsigned long long)ch.index * DH_CHUNK;
        const unsigned long long end = start + DH_CHUNK < t.len ? start + DH_CHUNK : t.len;
        unsigned long long tail = start;
        /* Aligned tensors of T: 16-byte loads and stores, DH_W elements at a time
           (the same arithmetic per element, so the same bits). */
        if (DH_VECTOR && ((t.p | t.g | (unsigned long long)st) & 15ULL) == 0ULL && glen % DH_W == 0ULL) {
            const unsigned long long qe = end / DH_W;
            for (unsigned long long q = start / DH_W + threadIdx.x; q < qe; q += blockDim.x) {
                DhV P = ((const DhV*)pp)[q];
                const DhV G = ((const DhV*)gp)[q];
                DhV B0 = {}, B1 = {}, B2 = {};
                if (nbuf > 0u) B0 = ((const DhV*)st)[q];
                if (nbuf > 1u) B1 = ((const DhV*)(st + glen))[q];
                if (nbuf > 2u) B2 = ((const DhV*)(st + 2ULL * glen))[q];
#pragma unroll
                for (int u = 0; u < (int)DH_W; ++u) {
                    T g = G.v[u];
                    if (policy == 1u && !dh_finite(g)) {
                        g = (T)0;
                        nz += 1ULL;
                    }
                    body(P.v[u], g, B0.v[u], B1.v[u], B2.v[u]);
                }
                ((DhV*)pp)[q] = P;
                if (nbuf > 0u) ((DhV*)st)[q] = B0;
                if (nbuf > 1u) ((DhV*)(st + glen))[q] = B1;
                if (nbuf > 2u) ((DhV*)(st + 2ULL * glen))[q] = B2;
            }
            tail = qe * DH_W;
        }
        for (unsigned long long j = tail + threadIdx.x; j < end; j += blockDim.x) {
            T p = dh_load(pp[j]);
            T g = dh_load(gp[j]);
            if (policy == 1u && !dh_finite(g)) {
                g = (T)0;
                nz += 1ULL;
            }
            T b0 = (T)0, b1 = (T)0, b2 = (T)0;
            if (nbuf > 0u) b0 = st[j];
            if (nbuf > 1u) b1 = st[glen + j];
            if (nbuf > 2u) b2 = st[2ULL * glen + j];
            body(p, g, b0, b1, b2);
            pp[j] = dh_store(p);
            if (nbuf > 0u) st[j] = b0;
            if (nbuf > 1u) st[glen + j] = b1;
            if (nbuf > 2u) st[2ULL * glen + j] = b2;
        }
    }
    if (nz != 0ULL) atomicAdd(zeroed, nz);
}
"#;

/// The complete CUDA C module of `desc` for element type `T`: the update
/// kernel ([`update_name`]) and the scan ([`SCAN_NAME`]).
pub fn source<T: Scalar>(desc: &KernelDesc) -> String {
    source_for::<T>(desc, ParamKind::Same)
}

/// [`source`] for parameters and gradients stored as `kind` (state stays `T`).
pub fn source_for<T: Scalar>(desc: &KernelDesc, kind: ParamKind) -> String {
    let mut prologue = String::new();
    for (i, name) in desc.coeffs.iter().enumerate() {
        prologue.push_str(&format!("    const T {name} = c.v[{i}];\n"));
    }
    for (i, name) in desc.flags.iter().enumerate() {
        prologue.push_str(&format!(
            "    const bool {name} = ((flags >> {i}) & 1u) != 0u;\n"
        ));
    }
    let header = format!(
        "/* downhill-cuda: rule {}, element type {}, parameters {} (generated) */\ntypedef {} T;\n#define DH_MAX_COEFFS {MAX_COEFFS}\n#define DH_CHUNK {CHUNK}ULL\n#define DH_BLOCK {BLOCK}\n#define DH_VECTOR {}\n",
        desc.name,
        T::DTYPE,
        kind.name(),
        c_type::<T>(),
        u8::from(kind == ParamKind::Same)
    );
    let update = UPDATE
        .replace("DH_NAME", &update_name(desc))
        .replace("DH_PROLOGUE", prologue.trim_end())
        .replace("DH_BODY", desc.body.trim_matches('\n'));
    format!("{header}{}{PRELUDE}{update}", param_prelude(kind))
}

/// Builds a [`Packed`] from named values, checking them against `desc`
/// (names and order): the one place the host and the kernel must agree.
fn packed<T: Scalar>(desc: &KernelDesc, coeffs: &[(&str, T)], flags: &[(&str, bool)]) -> Packed<T> {
    assert_eq!(
        coeffs.iter().map(|c| c.0).collect::<Vec<_>>(),
        desc.coeffs,
        "coefficients of {}",
        desc.name
    );
    assert_eq!(
        flags.iter().map(|f| f.0).collect::<Vec<_>>(),
        desc.flags,
        "flags of {}",
        desc.name
    );
    let mut v = [T::zero(); MAX_COEFFS];
    for (slot, (_, value)) in v.iter_mut().zip(coeffs) {
        *slot = *value;
    }
    let flags = flags
        .iter()
        .enumerate()
        .fold(0u32, |acc, (i, (_, on))| acc | (u32::from(*on) << i));
    Packed {
        coeffs: Coeffs { v },
        flags,
    }
}

/// Starts step `step` of a group with rule `rule` (its own `begin_step`,
/// which updates `scalars`) and returns the kernel's description and values,
/// converted to `T` as the rule's CPU `apply` converts them. `None` for a
/// rule without a kernel (`nag`).
pub fn pack<T: Scalar>(
    rule: &AnyRule,
    step: u64,
    scalars: &mut [f64],
) -> Option<(&'static KernelDesc, Packed<T>)> {
    let t = T::of;
    let desc = desc(downhill_optim::RuleSet::name(rule))?;
    let packed = match rule {
        AnyRule::Sgd(r) => {
            let c = r.begin_step(step, scalars);
            packed(
                desc,
                &[
                    ("neg_lr", t(-r.lr)),
                    ("wd", t(r.weight_decay)),
                    ("mu", t(r.momentum)),
                    ("keep", t(1.0 - r.dampening)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("DECAY", r.weight_decay != 0.0),
                    ("MOMENTUM", r.momentum != 0.0),
                    ("FIRST", c.first),
                    ("NESTEROV", r.nesterov),
                ],
            )
        }
        AnyRule::Adagrad(r) => {
            let clr = r.begin_step(step, scalars);
            packed(
                desc,
                &[
                    ("neg_clr", t(-clr)),
                    ("eps", t(r.eps)),
                    ("wd", t(r.weight_decay)),
                ],
                &[("MAXIMIZE", r.maximize), ("DECAY", r.weight_decay != 0.0)],
            )
        }
        AnyRule::Rmsprop(r) => {
            r.begin_step(step, scalars);
            let w = LerpWeight::<T>::new(1.0 - r.alpha);
            packed(
                desc,
                &[
                    ("alpha", t(r.alpha)),
                    ("w", w.w),
                    ("one_minus_w", w.one_minus_w),
                    ("eps", t(r.eps)),
                    ("neg_lr", t(-r.lr)),
                    ("mu", t(r.momentum)),
                    ("wd", t(r.weight_decay)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("DECAY", r.weight_decay != 0.0),
                    ("MOMENTUM", r.momentum > 0.0),
                    ("CENTERED", r.centered),
                    ("SMALL", w.small),
                ],
            )
        }
        AnyRule::Adadelta(r) => {
            r.begin_step(step, scalars);
            packed(
                desc,
                &[
                    ("rho", t(r.rho)),
                    ("one_minus_rho", t(1.0 - r.rho)),
                    ("eps", t(r.eps)),
                    ("neg_lr", t(-r.lr)),
                    ("wd", t(r.weight_decay)),
                ],
                &[("MAXIMIZE", r.maximize), ("DECAY", r.weight_decay != 0.0)],
            )
        }
        AnyRule::Adam(r) => {
            let c = r.begin_step(step, scalars);
            let w = LerpWeight::<T>::new(1.0 - r.beta1);
            let decay = r.weight_decay != 0.0;
            packed(
                desc,
                &[
                    ("w", w.w),
                    ("one_minus_w", w.one_minus_w),
                    ("beta2", t(r.beta2)),
                    ("one_minus_beta2", t(1.0 - r.beta2)),
                    ("eps", t(r.eps)),
                    ("neg_step", t(-c.step_size)),
                    ("bc2_sqrt", t(c.bias_correction2_sqrt)),
                    ("wd", t(r.weight_decay)),
                    ("shrink", t(1.0 - r.lr * r.weight_decay)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("COUPLED", decay && !r.decoupled_weight_decay),
                    ("DECOUPLED", decay && r.decoupled_weight_decay),
                    ("AMSGRAD", r.amsgrad),
                    ("SMALL", w.small),
                ],
            )
        }
        AnyRule::Nadam(r) => {
            let c = r.begin_step(step, scalars);
            let w = LerpWeight::<T>::new(1.0 - r.beta1);
            let decay = r.weight_decay != 0.0;
            packed(
                desc,
                &[
                    ("w", w.w),
                    ("one_minus_w", w.one_minus_w),
                    ("beta2", t(r.beta2)),
                    ("one_minus_beta2", t(1.0 - r.beta2)),
                    ("eps", t(r.eps)),
                    ("bc2", t(c.bias_correction2)),
                    ("grad_coef", t(c.grad_coef)),
                    ("avg_coef", t(c.avg_coef)),
                    ("wd", t(r.weight_decay)),
                    ("shrink", t(1.0 - r.lr * r.weight_decay)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("COUPLED", decay && !r.decoupled_weight_decay),
                    ("DECOUPLED", decay && r.decoupled_weight_decay),
                    ("SMALL", w.small),
                ],
            )
        }
        AnyRule::Radam(r) => {
            let c = r.begin_step(step, scalars);
            let w = LerpWeight::<T>::new(1.0 - r.beta1);
            let decay = r.weight_decay != 0.0;
            packed(
                desc,
                &[
                    ("w", w.w),
                    ("one_minus_w", w.one_minus_w),
                    ("beta2", t(r.beta2)),
                    ("one_minus_beta2", t(1.0 - r.beta2)),
                    ("eps", t(r.eps)),
                    ("lr", t(r.lr)),
                    ("bc1", t(c.bias_correction1)),
                    ("bc2_sqrt", t(c.bias_correction2_sqrt)),
                    ("rect", t(c.rect.unwrap_or(1.0))),
                    ("wd", t(r.weight_decay)),
                    ("shrink", t(1.0 - r.lr * r.weight_decay)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("COUPLED", decay && !r.decoupled_weight_decay),
                    ("DECOUPLED", decay && r.decoupled_weight_decay),
                    ("RECTIFIED", c.rect.is_some()),
                    ("SMALL", w.small),
                ],
            )
        }
        AnyRule::Adamax(r) => {
            let clr = r.begin_step(step, scalars);
            let w = LerpWeight::<T>::new(1.0 - r.beta1);
            packed(
                desc,
                &[
                    ("w", w.w),
                    ("one_minus_w", w.one_minus_w),
                    ("beta2", t(r.beta2)),
                    ("eps", t(r.eps)),
                    ("neg_clr", t(-clr)),
                    ("wd", t(r.weight_decay)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("DECAY", r.weight_decay != 0.0),
                    ("SMALL", w.small),
                ],
            )
        }
        AnyRule::Rprop(r) => {
            r.begin_step(step, scalars);
            packed(
                desc,
                &[
                    ("eta_minus", t(r.eta_minus)),
                    ("eta_plus", t(r.eta_plus)),
                    ("step_min", t(r.step_min)),
                    ("step_max", t(r.step_max)),
                ],
                &[("MAXIMIZE", r.maximize)],
            )
        }
        AnyRule::Asgd(r) => {
            let c = r.begin_step(step, scalars);
            packed(
                desc,
                &[
                    ("shrink", t(1.0 - r.lambd * c.eta)),
                    ("neg_eta", t(-c.eta)),
                    ("mu", t(c.mu)),
                    ("wd", t(r.weight_decay)),
                ],
                &[
                    ("MAXIMIZE", r.maximize),
                    ("DECAY", r.weight_decay != 0.0),
                    ("AVERAGE", c.mu != 1.0),
                ],
            )
        }
        AnyRule::Nag(_)
        | AnyRule::Lion(_)
        | AnyRule::Adopt(_)
        | AnyRule::Ademamix(_)
        | AnyRule::Adan(_)
        | AnyRule::Lamb(_)
        | AnyRule::Lars(_)
        | AnyRule::Prodigy(_)
        | AnyRule::SchedulefreeSgd(_)
        | AnyRule::SchedulefreeAdamw(_)
        | AnyRule::SparseAdam(_)
        | AnyRule::Muon(_)
        | AnyRule::Adafactor(_)
        | AnyRule::Lbfgs(_) => return None,
    };
    Some((desc, packed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use downhill_optim::{build, RuleSet};

    const SPECS: &[&str] = &[
        "sgd:lr=0.01,momentum=0.9,dampening=0.1,weight_decay=0.01,maximize=true",
        "sgd:lr=0.01,momentum=0.9,nesterov=true",
        "gd:lr=0.1",
        "adagrad:lr=0.1,lr_decay=0.01,weight_decay=0.1",
        "rmsprop:centered=true,momentum=0.5,weight_decay=0.1",
        "rmsprop",
        "adadelta",
        "adam:amsgrad=true,weight_decay=0.1",
        "adamw:beta1=0.6",
        "nadam:decoupled_weight_decay=true,weight_decay=0.1",
        "radam",
        "adamax:weight_decay=0.1",
        "rprop",
        "asgd:t0=2,weight_decay=0.1",
    ];

    #[test]
    fn every_rule_but_nag_has_a_kernel_and_packs() {
        for spec in SPECS {
            let rule = build(spec).unwrap();
            let mut scalars: Vec<f64> = rule.scalars().iter().map(|s| s.1).collect();
            let (desc, p32) = pack::<f32>(&rule, 1, &mut scalars.clone()).expect(spec);
            let (_, p64) = pack::<f64>(&rule, 1, &mut scalars).expect(spec);
            assert_eq!(desc.name, rule.name());
            assert!(desc.coeffs.len() <= MAX_COEFFS);
            assert!(desc.flags.len() <= 32);
            assert_eq!(p32.flags, p64.flags, "{spec}");
            // The f32 values are the f64 computation rounded once (or 1 − w in f32).
            for (a, b) in p32.coeffs.v.iter().zip(&p64.coeffs.v) {
                assert!(
                    (f64::from(*a) - b).abs() <= b.abs() * 1e-6 + 1e-30,
                    "{spec}"
                );
            }
        }
        let nag = build("nag").unwrap();
        assert!(pack::<f32>(&nag, 1, &mut []).is_none());
        // Nor lbfgs, which evaluates the objective itself.
        let lbfgs = build("lbfgs").unwrap();
        assert!(desc(lbfgs.name()).is_none());
        assert!(pack::<f32>(&lbfgs, 1, &mut []).is_none());
    }

    #[test]
    fn packing_matches_the_rule_and_scalars_advance() {
        // Adam: step size and bias correction from the rule's own begin_step.
        let rule = build("adam:lr=0.1,beta1=0.9,beta2=0.99").unwrap();
        let (_, p) = pack::<f64>(&rule, 2, &mut []).unwrap();
        assert_eq!(p.coeffs.v[5], -(0.1 / (1.0 - 0.9f64.powf(2.0))));
        assert_eq!(p.coeffs.v[6], (1.0 - 0.99f64.powf(2.0)).powf(0.5));
        assert_eq!(p.flags, 1 << 4, "only SMALL (w = 0.1)");
        // NAdam keeps mu_product in its scalars: packing advances it.
        let rule = build("nadam").unwrap();
        let mut scalars = vec![1.0];
        pack::<f32>(&rule, 1, &mut scalars).unwrap();
        assert!(scalars[0] < 1.0);
        // SGD's FIRST flag is bit 3 on step 1 only.
        let rule = build("sgd:momentum=0.9").unwrap();
        assert_ne!(pack::<f32>(&rule, 1, &mut []).unwrap().1.flags & 8, 0);
        assert_eq!(pack::<f32>(&rule, 2, &mut []).unwrap().1.flags & 8, 0);
    }

    #[test]
    fn sources_are_complete_and_typed() {
        for desc in KERNELS {
            for (src, ty) in [
                (source::<f32>(desc), "float"),
                (source::<f64>(desc), "double"),
            ] {
                assert!(src.contains(&format!("typedef {ty} T;")));
                assert!(src.contains(&format!(
                    "void __launch_bounds__(DH_BLOCK) {}(",
                    update_name(desc)
                )));
                assert!(src.contains("dh_scan("));
                assert!(
                    !src.contains("DH_BODY")
                        && !src.contains("DH_PROLOGUE")
                        && !src.contains("DH_NAME")
                );
                for (i, c) in desc.coeffs.iter().enumerate() {
                    assert!(
                        src.contains(&format!("const T {c} = c.v[{i}];")),
                        "{}",
                        desc.name
                    );
                }
                for (i, f) in desc.flags.iter().enumerate() {
                    assert!(src.contains(&format!("const bool {f} = ((flags >> {i}) & 1u) != 0u;")));
                }
                // Braces balance (a cheap syntax check without a compiler).
                assert_eq!(
                    src.matches('{').count(),
                    src.matches('}').count(),
                    "{}",
                    desc.name
                );
            }
        }
    }

    #[test]
    fn half_sources_convert_on_load_and_store() {
        let desc = desc("adam").unwrap();
        let f16 = source_for::<f32>(desc, ParamKind::F16);
        assert!(f16.contains("cvt.rn.f16.f32") && f16.contains("typedef unsigned short DhParam;"));
        // Half parameters take the element path only; T parameters may take 16-byte vectors.
        assert!(f16.contains("#define DH_VECTOR 0"));
        assert!(source::<f32>(desc).contains("#define DH_VECTOR 1"));
        let bf16 = source_for::<f32>(desc, ParamKind::Bf16);
        assert!(bf16.contains("cvt.rn.bf16.f32"));
        for src in [f16, bf16, source::<f64>(desc)] {
            assert!(src.contains("pp[j] = dh_store(p);"));
            assert!(src.contains("T g = dh_load(gp[j]);"));
        }
    }

    #[test]
    fn coefficients_are_a_c_struct() {
        assert_eq!(std::mem::size_of::<Coeffs<f32>>(), 4 * MAX_COEFFS);
        assert_eq!(std::mem::size_of::<Coeffs<f64>>(), 8 * MAX_COEFFS);
    }
}
