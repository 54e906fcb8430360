//! # downhill-cuda
//!
//! downhill's optimizers as CUDA kernels, bit-identical to the CPU path of
//! [`downhill_optim::Optimizer`] in `f32` and `f64`.
//!
//! * CUDA is loaded at run time (cudarc's `dynamic-loading`): this crate
//!   builds, and its CPU tests pass, on machines without CUDA; [`open`] says
//!   why no device is usable.
//! * Kernels are compiled at run time with NVRTC (once per rule, element type
//!   and context in a process) with `--fmad=false --prec-div=true
//!   --prec-sqrt=true --ftz=false`, from one description per rule
//!   ([`kernels::KERNELS`]) that copies the rule's CPU `apply` operation for
//!   operation (the CPU's fused multiply-adds are `__fma_rn`/`__fmaf_rn`). Per-step coefficients come from the rule's own `begin_step`,
//!   computed on the host in `f64` and rounded to `T` as on the CPU.
//! * One launch per group and step over all of the group's tensors: a device
//!   table of tensors (pointers, lengths, offsets) and of 4096-element chunks,
//!   walked grid-stride. The tables are uploaded only when the tensors'
//!   addresses change; a step otherwise sends nothing but the launch.
//! * [`NonFinite`] on the device: `propagate` (no check), `zero` (bad entries
//!   read as zero, counted with an atomic into a device counter, read with
//!   [`CudaOptimizer::take_zeroed`]), `error` / `skip` (a scan kernel sets a
//!   device flag holding the first bad index; the update kernel is gated on
//!   it, and the host reads it, 8 bytes, to keep step counts and report).
//!
//! ```no_run
//! use downhill_cuda::{open, CudaOptimizer};
//! use downhill_optim::{build, Optimizer};
//! let stream = open(0).unwrap().default_stream();
//! let cpu = Optimizer::<f32>::new(build("adamw:lr=1e-3").unwrap(), 1000).unwrap();
//! let mut opt = CudaOptimizer::from_cpu(&stream, &cpu).unwrap();
//! let mut params = stream.clone_htod(&vec![1.0f32; 1000]).unwrap();
//! let grads = stream.clone_htod(&vec![0.5f32; 1000]).unwrap();
//! opt.step(&mut params, &grads).unwrap();
//! let back: Optimizer<f32> = opt.to_cpu().unwrap(); // exact state, for saving
//! # let _ = back;
//! ```

pub mod kernels;

/// The book's CUDA page (`docs/cuda.md`): its examples run as this crate's doc tests.
#[doc = include_str!("../../../docs/cuda.md")]
#[cfg(doctest)]
pub struct CudaBook;

use cudarc::driver::{
    CudaContext, CudaFunction, CudaSlice, CudaStream, DevicePtr, DevicePtrMut, DeviceRepr,
    DriverError, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use downhill_optim::state::{SavedGroup, SavedState};
use downhill_optim::{
    AnyRule, ConfigError, NonFinite, Optimizer, Outcome, ParamGroup, RuleSet, Scalar, StateError,
    StepError,
};
use kernels::{DevicePolicy, KernelDesc, ParamKind, BLOCK, CHUNK};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock};
use thiserror::Error;

/// Why a CUDA optimizer could not be made or could not step.
#[derive(Debug, Error)]
pub enum CudaError {
    #[error("no usable CUDA device: {0}")]
    NoDevice(String),
    #[error("CUDA driver: {0}")]
    Driver(#[from] DriverError),
    #[error("NVRTC could not compile the {rule} kernel: {log}")]
    Compile { rule: String, log: String },
    #[error("{0} has no CUDA kernel; use the CPU optimizer")]
    Unsupported(&'static str),
    #[error("parameters of type {param} cannot be stepped by an optimizer over {dtype} (f16 and bf16 need f32)")]
    ParamType {
        param: &'static str,
        dtype: &'static str,
    },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Step(#[from] StepError),
}

/// Element types with kernels: `f32` and `f64`.
pub trait CudaScalar: Scalar + DeviceRepr + ValidAsZeroBits + Unpin + ParamElem {}
impl CudaScalar for f32 {}
impl CudaScalar for f64 {}

/// How parameters and gradients may be stored for an optimizer over `T`:
/// as `T` itself, or (for `T` = f32) as `half::f16` / `half::bf16`, computed
/// in f32 and stored rounded to nearest even, with the state in f32.
pub trait ParamElem: DeviceRepr + Copy + Unpin {
    const KIND: ParamKind;
    /// Widens (exactly) to f64, for reporting a bad gradient entry.
    fn to_f64(self) -> f64;
    /// Whether an optimizer over `T` can step parameters stored as `Self`.
    fn pairs_with<T: Scalar>() -> bool {
        match Self::KIND {
            ParamKind::Same => std::mem::size_of::<Self>() == std::mem::size_of::<T>(),
            _ => T::DTYPE == "f32",
        }
    }
}

impl ParamElem for f32 {
    const KIND: ParamKind = ParamKind::Same;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}
impl ParamElem for f64 {
    const KIND: ParamKind = ParamKind::Same;
    fn to_f64(self) -> f64 {
        self
    }
}
impl ParamElem for half::f16 {
    const KIND: ParamKind = ParamKind::F16;
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
}
impl ParamElem for half::bf16 {
    const KIND: ParamKind = ParamKind::Bf16;
    fn to_f64(self) -> f64 {
        self.to_f64()
    }
}

/// Whether the CUDA driver and NVRTC libraries can be loaded and a device
/// exists; `Err` says why not (for tests and callers that fall back to the CPU).
pub fn probe() -> Result<usize, CudaError> {
    // SAFETY: only tries to dlopen the libraries by name.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err(CudaError::NoDevice(
            "the CUDA driver library (libcuda.so) was not found".into(),
        ));
    }
    // SAFETY: as above.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        return Err(CudaError::NoDevice(
            "the NVRTC library (libnvrtc.so) was not found".into(),
        ));
    }
    let count = CudaContext::device_count()
        .map_err(|e| CudaError::NoDevice(format!("cuInit/cuDeviceGetCount failed: {e}")))?;
    if count < 1 {
        return Err(CudaError::NoDevice("the driver reports no device".into()));
    }
    Ok(count as usize)
}

/// The context of device `ordinal`, after [`probe`].
pub fn open(ordinal: usize) -> Result<Arc<CudaContext>, CudaError> {
    probe()?;
    Ok(CudaContext::new(ordinal)?)
}

/// A rule's compiled kernels in one context.
#[derive(Clone, Debug)]
struct Compiled {
    update: CudaFunction,
    scan: CudaFunction,
}

/// Kernels compiled in this process: (context, rule, dtype) → functions.
type Cache = Mutex<HashMap<(usize, &'static str, &'static str, ParamKind), Compiled>>;

fn cache() -> &'static Cache {
    static CACHE: OnceLock<Cache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The NVRTC options: no FMA contraction, IEEE division and square root, no
/// flush to zero (the CPU path's arithmetic), PTX for the device's own architecture.
pub fn compile_options(major: i32, minor: i32) -> cudarc::nvrtc::CompileOptions {
    cudarc::nvrtc::CompileOptions {
        ftz: Some(false),
        prec_sqrt: Some(true),
        prec_div: Some(true),
        fmad: Some(false),
        options: vec![format!("--gpu-architecture=compute_{major}{minor}")],
        ..Default::default()
    }
}

fn compiled<T: CudaScalar>(
    ctx: &Arc<CudaContext>,
    desc: &'static KernelDesc,
    kind: ParamKind,
) -> Result<Compiled, CudaError> {
    let key = (ctx.cu_ctx() as usize, desc.name, T::DTYPE, kind);
    if let Some(c) = cache().lock().unwrap().get(&key) {
        return Ok(c.clone());
    }
    let (major, minor) = ctx.compute_capability()?;
    let ptx = cudarc::nvrtc::compile_ptx_with_opts(
        kernels::source_for::<T>(desc, kind),
        compile_options(major, minor),
    )
    .map_err(|e| CudaError::Compile {
        rule: format!("{} ({}, parameters {})", desc.name, T::DTYPE, kind.name()),
        log: format!("{e:?}"),
    })?;
    let module = ctx.load_module(ptx)?;
    let c = Compiled {
        update: module.load_function(&kernels::update_name(desc))?,
        scan: module.load_function(kernels::SCAN_NAME)?,
    };
    cache().lock().unwrap().insert(key, c.clone());
    Ok(c)
}

/// One parameter group on the device.
#[derive(Debug)]
struct DevGroup<T> {
    rule: AnyRule,
    sizes: Vec<usize>,
    len: usize,
    step: u64,
    scalars: Vec<f64>,
    nbuf: usize,
    /// Buffer `b` of element `i` at `b·len + i` (the CPU layout).
    buffers: CudaSlice<T>,
    /// This group's chunks in the chunk table: first and count.
    chunks: (usize, usize),
    desc: &'static KernelDesc,
    /// The kernels for parameters stored as `T`.
    kernels: Compiled,
}

/// Words per tensor in the tensor table (`struct DhTensor`).
const TENSOR_WORDS: usize = 5;

/// The chunk table of tensors of `sizes`: `(tensor, chunk index)` pairs, as u32 words.
pub fn chunk_table(sizes: &[usize]) -> Vec<u32> {
    let mut words = Vec::new();
    for (t, &n) in sizes.iter().enumerate() {
        for c in 0..n.div_ceil(CHUNK) {
            words.push(t as u32);
            words.push(c as u32);
        }
    }
    words
}

/// The tensor table: per tensor `p, g, len, offset in group, flat offset`.
pub fn tensor_table(sizes_by_group: &[Vec<usize>], ptrs: &[(u64, u64)]) -> Vec<u64> {
    let mut words = Vec::with_capacity(ptrs.len() * TENSOR_WORDS);
    let (mut flat, mut t) = (0u64, 0);
    for sizes in sizes_by_group {
        let mut off = 0u64;
        for &n in sizes {
            let (p, g) = ptrs[t];
            words.extend_from_slice(&[p, g, n as u64, off, flat]);
            off += n as u64;
            flat += n as u64;
            t += 1;
        }
    }
    words
}

/// Blocks for `chunks` chunks on a device with `sms` multiprocessors
/// (8 blocks of 256 threads fill one).
pub fn grid_for(chunks: usize, sms: usize) -> u32 {
    chunks.clamp(1, (sms * 8).max(1)) as u32
}

/// An optimizer whose state lives on a CUDA device and whose steps run there,
/// with the same rules, groups and results as [`downhill_optim::Optimizer`].
pub struct CudaOptimizer<T: CudaScalar> {
    stream: Arc<CudaStream>,
    groups: Vec<DevGroup<T>>,
    len: usize,
    non_finite: NonFinite,
    /// `(tensor, chunk)` pairs of every tensor, group after group.
    chunk_table: CudaSlice<u32>,
    chunk_count: usize,
    /// The tensor table on the device and the copy it was made from.
    tensors: CudaSlice<u64>,
    tensors_host: Vec<u64>,
    /// `[zeroed count, ~first bad index]`.
    counters: CudaSlice<u64>,
    sms: usize,
}

impl<T: CudaScalar> CudaOptimizer<T> {
    /// The same optimizer (rules, groups, step counts, state, non-finite
    /// policy) on the device of `stream`.
    pub fn from_cpu(stream: &Arc<CudaStream>, cpu: &Optimizer<T>) -> Result<Self, CudaError> {
        let saved = cpu.save()?;
        let mut opt = Self::from_saved(stream, saved)?;
        opt.non_finite = cpu.non_finite();
        Ok(opt)
    }

    /// A fresh optimizer (step 0, state at the rule's initial values) with
    /// `groups`, each starting from `rule` with its overrides, as
    /// [`Optimizer::with_groups`] makes it (and checks it); the state is made
    /// on the device, never on the host.
    pub fn new(
        stream: &Arc<CudaStream>,
        rule: impl Into<AnyRule>,
        groups: Vec<ParamGroup>,
    ) -> Result<Self, CudaError> {
        // The CPU optimizer checks the rule and every override (with no elements).
        let shapes: Vec<ParamGroup> = groups
            .iter()
            .map(|g| ParamGroup {
                sizes: Vec::new(),
                shapes: Vec::new(),
                overrides: g.overrides.clone(),
            })
            .collect();
        let checked = Optimizer::<T>::with_groups(rule, shapes)?;
        let mut parts = Vec::with_capacity(groups.len());
        for (index, g) in groups.into_iter().enumerate() {
            let rule = checked.rule(index).clone();
            let len: usize = g.sizes.iter().sum();
            let inits = rule.buffers();
            let buffers = if inits.is_empty() || len == 0 {
                stream.alloc_zeros::<T>(1)?
            } else if inits.iter().all(|(_, v)| *v == 0.0) {
                stream.alloc_zeros::<T>(inits.len() * len)?
            } else {
                let mut host = Vec::with_capacity(inits.len() * len);
                for (_, v) in &inits {
                    host.resize(host.len() + len, T::of(*v));
                }
                stream.clone_htod(&host)?
            };
            let scalars = rule.scalars().iter().map(|s| s.1).collect();
            parts.push((rule, g.sizes, 0, scalars, buffers));
        }
        Self::assemble(stream, parts)
    }

    /// An optimizer from a saved state (checked as [`Optimizer::from_saved`] checks it).
    pub fn from_saved(stream: &Arc<CudaStream>, saved: SavedState<T>) -> Result<Self, CudaError> {
        // The CPU optimizer checks every field; it is then read back in order.
        let checked = Optimizer::<T>::from_saved(saved.clone())?;
        let mut parts = Vec::with_capacity(saved.groups.len());
        for (index, g) in saved.groups.into_iter().enumerate() {
            let rule = checked.rule(index).clone();
            let names = rule.buffers();
            let mut host = Vec::new();
            for (name, _) in &names {
                host.extend_from_slice(&g.buffers[*name]);
            }
            let buffers = if host.is_empty() {
                stream.alloc_zeros::<T>(1)?
            } else {
                stream.clone_htod(&host)?
            };
            let scalars = rule.scalars().iter().map(|(n, _)| g.scalars[*n]).collect();
            parts.push((rule, g.sizes, g.step, scalars, buffers));
        }
        let mut opt = Self::assemble(stream, parts)?;
        opt.non_finite = checked.non_finite();
        Ok(opt)
    }

    /// Groups `(rule, sizes, step, scalars, buffers on the device)`, checked by the callers.
    #[allow(clippy::type_complexity)]
    fn assemble(
        stream: &Arc<CudaStream>,
        parts: Vec<(AnyRule, Vec<usize>, u64, Vec<f64>, CudaSlice<T>)>,
    ) -> Result<Self, CudaError> {
        let ctx = stream.context().clone();
        let mut groups = Vec::with_capacity(parts.len());
        let mut all_sizes = Vec::new();
        let mut first_chunk = 0;
        let mut total = 0;
        for (rule, sizes, step, scalars, buffers) in parts {
            let desc = kernels::desc(rule.name()).ok_or(CudaError::Unsupported(rule.name()))?;
            let kernels = compiled::<T>(&ctx, desc, ParamKind::Same)?;
            let len: usize = sizes.iter().sum();
            let chunks = chunk_table(&sizes).len() / 2;
            groups.push(DevGroup {
                nbuf: rule.buffers().len(),
                rule,
                len,
                step,
                scalars,
                buffers,
                chunks: (first_chunk, chunks),
                kernels,
                desc,
                sizes: sizes.clone(),
            });
            first_chunk += chunks;
            total += len;
            all_sizes.extend(sizes);
        }
        let table = chunk_table(&all_sizes);
        let chunk_table = if table.is_empty() {
            stream.alloc_zeros::<u32>(2)?
        } else {
            stream.clone_htod(&table)?
        };
        let tensors_host = vec![0u64; all_sizes.len() * TENSOR_WORDS];
        let tensors = stream.alloc_zeros::<u64>(tensors_host.len().max(1))?;
        let sms = ctx.attribute(
            cudarc::driver::sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
        )? as usize;
        Ok(CudaOptimizer {
            stream: stream.clone(),
            groups,
            len: total,
            non_finite: NonFinite::default(),
            chunk_table,
            chunk_count: table.len() / 2,
            tensors,
            tensors_host,
            counters: stream.alloc_zeros::<u64>(2)?,
            sms,
        })
    }

    /// The state as a [`SavedState`] (what [`Optimizer::save`] gives).
    pub fn save(&self) -> Result<SavedState<T>, CudaError> {
        let mut groups = Vec::with_capacity(self.groups.len());
        for g in &self.groups {
            let host = if g.nbuf * g.len == 0 {
                Vec::new()
            } else {
                let host = self
                    .stream
                    .clone_dtoh(&g.buffers.slice(0..g.nbuf * g.len))?;
                self.stream.synchronize()?;
                host
            };
            let mut buffers = BTreeMap::new();
            for (b, (name, _)) in g.rule.buffers().iter().enumerate() {
                buffers.insert(name.to_string(), host[b * g.len..(b + 1) * g.len].to_vec());
            }
            let scalars = g
                .rule
                .scalars()
                .iter()
                .zip(&g.scalars)
                .map(|((n, _), v)| (n.to_string(), *v))
                .collect();
            groups.push(SavedGroup {
                rule: g.rule.clone(),
                sizes: g.sizes.clone(),
                shapes: Vec::new(),
                step: g.step,
                scalars,
                buffers,
                extra: Vec::new(),
            });
        }
        Ok(SavedState {
            format: downhill_optim::state::FORMAT.into(),
            version: downhill_optim::state::VERSION,
            dtype: T::DTYPE.into(),
            groups,
        })
    }

    /// The same optimizer on the CPU, state copied exactly.
    pub fn to_cpu(&self) -> Result<Optimizer<T>, CudaError> {
        let mut cpu = Optimizer::from_saved(self.save()?)?;
        cpu.set_non_finite(self.non_finite);
        Ok(cpu)
    }

    /// The stream steps run on.
    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// Total number of parameters.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Number of parameter groups.
    pub fn group_count(&self) -> usize {
        self.groups.len()
    }

    /// The rule of group `group`.
    pub fn rule(&self, group: usize) -> &AnyRule {
        &self.groups[group].rule
    }

    /// Steps taken by group `group`.
    pub fn steps_taken(&self, group: usize) -> u64 {
        self.groups[group].step
    }

    /// The learning rate of group `group`.
    pub fn lr(&self, group: usize) -> f64 {
        self.groups[group].rule.lr()
    }

    /// Sets the learning rate of group `group` (checked as the CPU optimizer checks it).
    pub fn set_lr(&mut self, group: usize, lr: f64) -> Result<(), CudaError> {
        if !(lr.is_finite() && lr >= 0.0) {
            // The CPU optimizer's own error for this value.
            let mut probe = Optimizer::<T>::new(self.groups[group].rule.clone(), 0)?;
            probe.set_lr(0, lr)?;
        }
        self.groups[group].rule.set_lr(lr);
        Ok(())
    }

    /// The non-finite gradient policy.
    pub fn non_finite(&self) -> NonFinite {
        self.non_finite
    }

    pub fn set_non_finite(&mut self, policy: NonFinite) {
        self.non_finite = policy;
    }

    /// The number of gradient entries read as zero under [`NonFinite::Zero`]
    /// since the last call (waits for the stream).
    pub fn take_zeroed(&mut self) -> Result<u64, CudaError> {
        let v = self.stream.clone_dtoh(&self.counters.slice(0..1))?;
        self.stream.synchronize()?;
        self.stream
            .memset_zeros(&mut self.counters.slice_mut(0..1))?;
        Ok(v[0])
    }

    /// One update of a flat parameter vector (groups are consecutive ranges).
    /// Under `zero` the step returns [`Outcome::Applied`] without waiting; the
    /// count is on the device ([`CudaOptimizer::take_zeroed`]).
    pub fn step<P: DevicePtrMut<T>, G: DevicePtr<T>>(
        &mut self,
        params: &mut P,
        grads: &G,
    ) -> Result<Outcome, CudaError> {
        self.step_as::<T, P, G>(params, grads)
    }

    /// One update of separately stored tensors, in group order.
    pub fn step_tensors<P: DevicePtrMut<T>, G: DevicePtr<T>>(
        &mut self,
        params: &mut [P],
        grads: &[G],
    ) -> Result<Outcome, CudaError> {
        self.step_tensors_as::<T, P, G>(params, grads)
    }

    /// [`CudaOptimizer::step`] with parameters and gradients stored as `E`
    /// (`half::f16` or `half::bf16` for an f32 optimizer: computed in f32,
    /// parameters stored rounded to nearest even, state in f32).
    pub fn step_as<E: ParamElem, P: DevicePtrMut<E>, G: DevicePtr<E>>(
        &mut self,
        params: &mut P,
        grads: &G,
    ) -> Result<Outcome, CudaError> {
        for (what, got) in [("parameters", params.len()), ("gradients", grads.len())] {
            if got != self.len {
                return Err(StepError::Length {
                    what,
                    expected: self.len,
                    got,
                }
                .into());
            }
        }
        let size = std::mem::size_of::<E>() as u64;
        let stream = self.stream.clone();
        let (p0, _sp) = params.device_ptr_mut(&stream);
        let (g0, _sg) = grads.device_ptr(&stream);
        let mut ptrs = Vec::new();
        let mut offset = 0u64;
        for g in &self.groups {
            for &n in &g.sizes {
                ptrs.push((p0 + offset * size, g0 + offset * size));
                offset += n as u64;
            }
        }
        self.step_ptrs::<E>(&ptrs)
    }

    /// [`CudaOptimizer::step_tensors`] with parameters and gradients stored as `E`
    /// (see [`CudaOptimizer::step_as`]).
    pub fn step_tensors_as<E: ParamElem, P: DevicePtrMut<E>, G: DevicePtr<E>>(
        &mut self,
        params: &mut [P],
        grads: &[G],
    ) -> Result<Outcome, CudaError> {
        let count: usize = self.groups.iter().map(|g| g.sizes.len()).sum();
        for (what, got) in [("parameters", params.len()), ("gradients", grads.len())] {
            if got != count {
                return Err(StepError::TensorCount {
                    what,
                    expected: count,
                    got,
                }
                .into());
            }
        }
        let sizes = self.groups.iter().flat_map(|g| g.sizes.iter().copied());
        for (index, ((p, g), expected)) in params.iter().zip(grads).zip(sizes).enumerate() {
            for (what, got) in [("parameters", p.len()), ("gradients", g.len())] {
                if got != expected {
                    return Err(StepError::TensorLength {
                        what,
                        index,
                        expected,
                        got,
                    }
                    .into());
                }
            }
        }
        let stream = self.stream.clone();
        let mut guards = Vec::with_capacity(params.len() * 2);
        let mut ptrs = Vec::with_capacity(params.len());
        for (p, g) in params.iter_mut().zip(grads) {
            let (pp, sp) = p.device_ptr_mut(&stream);
            let (gp, sg) = g.device_ptr(&stream);
            guards.push(sp);
            guards.push(sg);
            ptrs.push((pp, gp));
        }
        let outcome = self.step_ptrs::<E>(&ptrs);
        drop(guards);
        outcome
    }

    /// The step on raw tensor pointers (checked by the callers).
    fn step_ptrs<E: ParamElem>(&mut self, ptrs: &[(u64, u64)]) -> Result<Outcome, CudaError> {
        if !E::pairs_with::<T>() {
            return Err(CudaError::ParamType {
                param: std::any::type_name::<E>(),
                dtype: T::DTYPE,
            });
        }
        let ctx = self.stream.context().clone();
        let kernels = self
            .groups
            .iter()
            .map(|g| match E::KIND {
                ParamKind::Same => Ok(g.kernels.clone()),
                kind => compiled::<T>(&ctx, g.desc, kind),
            })
            .collect::<Result<Vec<_>, _>>()?;
        let sizes: Vec<Vec<usize>> = self.groups.iter().map(|g| g.sizes.clone()).collect();
        let table = tensor_table(&sizes, ptrs);
        if table != self.tensors_host && !table.is_empty() {
            self.stream.memcpy_htod(&table, &mut self.tensors)?;
            self.tensors_host = table;
        }
        let policy = match self.non_finite {
            NonFinite::Propagate => DevicePolicy::Raw,
            NonFinite::Zero => DevicePolicy::Zero,
            NonFinite::Error | NonFinite::Skip => {
                if let Some((index, value)) = self.scan::<E>(&kernels, ptrs)? {
                    return match self.non_finite {
                        NonFinite::Error => {
                            Err(StepError::NonFiniteGradient { index, value }.into())
                        }
                        _ => Ok(Outcome::Skipped { index, value }),
                    };
                }
                DevicePolicy::Guarded
            }
        };
        for (gi, k) in kernels.iter().enumerate() {
            self.launch_update(gi, &k.update, policy)?;
        }
        Ok(Outcome::Applied)
    }

    fn raw<S>(&self, slice: &CudaSlice<S>) -> u64 {
        let (p, _sync) = slice.device_ptr(&self.stream);
        p
    }

    /// The scan: `None` if every gradient entry is finite, else the first bad
    /// entry's flat index and value (reads 8 bytes, and the entry if bad).
    fn scan<E: ParamElem>(
        &mut self,
        kernels: &[Compiled],
        ptrs: &[(u64, u64)],
    ) -> Result<Option<(usize, f64)>, CudaError> {
        let Some(compiled) = kernels.first() else {
            return Ok(None);
        };
        self.stream
            .memset_zeros(&mut self.counters.slice_mut(1..2))?;
        let (tensors, chunks, counters) = (
            self.raw(&self.tensors),
            self.raw(&self.chunk_table),
            self.raw(&self.counters),
        );
        let bad = counters + 8;
        let n = self.chunk_count as u32;
        let cfg = LaunchConfig {
            grid_dim: (grid_for(self.chunk_count, self.sms), 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        if n > 0 {
            let mut b = self.stream.launch_builder(&compiled.scan);
            b.arg(&tensors).arg(&chunks).arg(&n).arg(&bad);
            // SAFETY: the arguments match `dh_scan`'s signature; the tables
            // describe live device buffers of the right lengths.
            unsafe { b.launch(cfg) }?;
        }
        let code = self.stream.clone_dtoh(&self.counters.slice(1..2))?;
        self.stream.synchronize()?;
        if code[0] == 0 {
            return Ok(None);
        }
        let index = !code[0] as usize;
        // The entry's value, from the tensor holding it.
        let mut start = 0;
        let mut t = 0;
        'find: for g in &self.groups {
            for &n in &g.sizes {
                if index < start + n {
                    break 'find;
                }
                start += n;
                t += 1;
            }
        }
        let addr = ptrs[t].1 + ((index - start) * std::mem::size_of::<E>()) as u64;
        let mut value = vec![0u8; std::mem::size_of::<E>()];
        // SAFETY: `addr` is inside gradient tensor `t`, which the caller holds.
        unsafe { cudarc::driver::result::memcpy_dtoh_sync(&mut value, addr) }?;
        // SAFETY: `value` holds the bytes of one `E` (a plain float type).
        let value: E = unsafe { std::ptr::read_unaligned(value.as_ptr().cast::<E>()) };
        Ok(Some((index, value.to_f64())))
    }

    fn launch_update(
        &mut self,
        gi: usize,
        update: &CudaFunction,
        policy: DevicePolicy,
    ) -> Result<(), CudaError> {
        let (tensors, chunks, counters, state) = (
            self.raw(&self.tensors),
            self.raw(&self.chunk_table),
            self.raw(&self.counters),
            self.raw(&self.groups[gi].buffers),
        );
        let group = &mut self.groups[gi];
        group.step += 1;
        let (_, packed) = kernels::pack::<T>(&group.rule, group.step, &mut group.scalars)
            .ok_or(CudaError::Unsupported(group.rule.name()))?;
        let (first, count) = group.chunks;
        if count == 0 {
            return Ok(());
        }
        let chunks = chunks + (first * 8) as u64;
        let n = count as u32;
        let glen = group.len as u64;
        let nbuf = group.nbuf as u32;
        let policy = policy as u32;
        let zeroed = counters;
        let bad = counters + 8;
        let cfg = LaunchConfig {
            grid_dim: (grid_for(count, self.sms), 1, 1),
            block_dim: (BLOCK, 1, 1),
            shared_mem_bytes: 0,
        };
        let mut b = self.stream.launch_builder(update);
        b.arg(&tensors)
            .arg(&chunks)
            .arg(&n)
            .arg(&state)
            .arg(&glen)
            .arg(&nbuf)
            .arg(&packed.coeffs)
            .arg(&packed.flags)
            .arg(&policy)
            .arg(&zeroed)
            .arg(&bad);
        // SAFETY: the arguments match the update kernel's signature; the
        // tables and the state buffer are live device buffers of the right lengths.
        unsafe { b.launch(cfg) }?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_says_why_there_is_no_device() {
        match probe() {
            Ok(count) => assert!(count > 0),
            Err(e) => {
                let text = e.to_string();
                assert!(text.starts_with("no usable CUDA device: "), "{text}");
                eprintln!("probe: {text}");
            }
        }
    }

    #[test]
    fn chunk_table_covers_every_element_once() {
        let sizes = [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK];
        let words = chunk_table(&sizes);
        let mut covered = vec![0usize; sizes.len()];
        for pair in words.chunks(2) {
            let (t, c) = (pair[0] as usize, pair[1] as usize);
            let start = c * CHUNK;
            assert!(start < sizes[t]);
            covered[t] += (sizes[t] - start).min(CHUNK);
        }
        assert_eq!(covered, sizes);
    }

    #[test]
    fn tensor_table_offsets() {
        let groups = vec![vec![3, 4], vec![5]];
        let words = tensor_table(&groups, &[(10, 20), (30, 40), (50, 60)]);
        assert_eq!(
            words,
            vec![10, 20, 3, 0, 0, 30, 40, 4, 3, 3, 50, 60, 5, 0, 7]
        );
    }

    #[test]
    fn grid_is_bounded() {
        assert_eq!(grid_for(0, 132), 1);
        assert_eq!(grid_for(10, 132), 10);
        assert_eq!(grid_for(1_000_000, 132), 1056);
    }

    #[test]
    fn compile_options_make_ieee_arithmetic() {
        let o = compile_options(9, 0);
        assert_eq!(o.fmad, Some(false));
        assert_eq!(o.prec_div, Some(true));
        assert_eq!(o.prec_sqrt, Some(true));
        assert_eq!(o.ftz, Some(false));
        assert_eq!(o.options, vec!["--gpu-architecture=compute_90".to_string()]);
    }
}
