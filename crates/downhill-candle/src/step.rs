//! One step over candle variables, by one of two paths that share the
//! gradient clipping and the update (`downhill_optim::Optimizer::step_tensors`):
//! in place, stepping CPU variables' storage under its write lock, or staged,
//! through host copies written back with `Var::set` (any device).

use crate::elem::{range, Elem};
use candle_core::backprop::GradStore;
use candle_core::{
    CpuStorage, Device, InplaceOp1, Layout, Result, Storage, Tensor, Var, WithDType,
};
use std::cell::RefCell;

/// The optimizer over one element type, with the reusable buffers a step needs.
pub(crate) struct Core<T: Elem> {
    pub opt: downhill_optim::Optimizer<T>,
    /// Per variable: the parameters widened to `T` (half-precision variables only).
    pub params: Vec<Vec<T>>,
    /// Per variable: the gradient as stepped, when it cannot be read in place
    /// (half precision, clipped); sized on first use.
    pub grads: Vec<Vec<T>>,
    /// Whether steps take the staged path (see [`Core::step_staged`]).
    pub staged: bool,
}

fn error(message: String) -> candle_core::Error {
    candle_core::Error::Msg(message)
}

/// The gradient of `var` in `store`, or an error naming the variable.
fn gradient<'a>(store: &'a GradStore, var: &Var, name: &str) -> Result<&'a Tensor> {
    store
        .get(var.as_tensor())
        .ok_or_else(|| error(format!("variable '{name}' has no gradient")))
}

/// Rescales all gradients together to global norm `max` (downhill's `Clip`
/// formula, one running sum in order, as `Clip` sums a flat gradient).
/// Gradient `i` is `native[i]` when read in place, else `bufs[i]`; a clipped
/// one is always in `bufs[i]` afterwards.
fn clip<T: Elem>(max: f64, native: &mut [Option<&[T]>], bufs: &mut [Vec<T>]) {
    let norm = (0..bufs.len())
        .flat_map(|i| native[i].unwrap_or(&bufs[i]))
        .map(|&x| x.widen() * x.widen())
        .sum::<f64>()
        .sqrt();
    if let Some(coef) = downhill::train::Clip::coefficient(norm, max) {
        let c = T::of(coef);
        for (slot, buf) in native.iter_mut().zip(bufs.iter_mut()) {
            if let Some(g) = slot.take() {
                buf.clear();
                buf.extend_from_slice(g);
            }
            buf.iter_mut().for_each(|x| *x *= c);
        }
    }
}

/// The update both paths take: the rule's fused step over the slices.
fn update<T: Elem>(
    opt: &mut downhill_optim::Optimizer<T>,
    params: &mut [&mut [T]],
    grads: &[Option<&[T]>],
    bufs: &[Vec<T>],
) -> Result<()> {
    let grads: Vec<&[T]> = (0..bufs.len())
        .map(|i| grads[i].unwrap_or(&bufs[i]))
        .collect();
    opt.step_tensors(params, &grads)
        .map(drop)
        .map_err(|e| error(e.to_string()))
}

impl<T: Elem> Core<T> {
    pub fn new(opt: downhill_optim::Optimizer<T>, count: usize, staged: bool) -> Self {
        Core {
            opt,
            params: vec![Vec::new(); count],
            grads: vec![Vec::new(); count],
            staged,
        }
    }

    /// One step of `vars` (in group order) with the gradients in `store`,
    /// clipped to global norm `clip` when given.
    pub fn step(
        &mut self,
        names: &[String],
        vars: &[Var],
        store: &GradStore,
        clip: Option<f64>,
    ) -> Result<()> {
        if self.staged {
            self.step_staged(names, vars, store, clip)
        } else {
            self.step_in_place(names, vars, store, clip)
        }
    }

    /// The staged path, for variables on any device: each variable and its
    /// gradient are copied to host memory in `T` (candle's `to_device`,
    /// `to_dtype`: bf16/f16 widened exactly), stepped there as the in-place
    /// path steps them, rounded back to the variable's dtype on the host (to
    /// nearest, ties to even, as in place) and written back to its device
    /// with `Var::set`. When the step fails nothing is written.
    fn step_staged(
        &mut self,
        names: &[String],
        vars: &[Var],
        store: &GradStore,
        max_norm: Option<f64>,
    ) -> Result<()> {
        let host = |t: &Tensor| -> Result<Vec<T>> {
            t.to_device(&Device::Cpu)?
                .to_dtype(<T as WithDType>::DTYPE)?
                .flatten_all()?
                .to_vec1()
        };
        let mut params = Vec::with_capacity(vars.len());
        let mut grads = Vec::with_capacity(vars.len());
        for (name, var) in names.iter().zip(vars) {
            grads.push(host(gradient(store, var, name)?)?);
            params.push(host(var.as_tensor())?);
        }
        let mut native = vec![None; vars.len()];
        if let Some(max) = max_norm {
            clip(max, &mut native, &mut grads);
        }
        let mut slices: Vec<&mut [T]> = params.iter_mut().map(Vec::as_mut_slice).collect();
        update(&mut self.opt, &mut slices, &native, &grads)?;
        let updated = vars
            .iter()
            .zip(params)
            .map(|(var, p)| {
                Tensor::from_vec(p, var.shape(), &Device::Cpu)?
                    .to_dtype(var.dtype())?
                    .to_device(var.device())
            })
            .collect::<Result<Vec<_>>>()?;
        for (var, value) in vars.iter().zip(&updated) {
            var.set(value)?;
        }
        Ok(())
    }

    /// The in-place path, for CPU variables: gradients read from their
    /// storage, the variables' storage stepped under its write lock.
    fn step_in_place(
        &mut self,
        names: &[String],
        vars: &[Var],
        store: &GradStore,
        max_norm: Option<f64>,
    ) -> Result<()> {
        let mut tensors = Vec::with_capacity(vars.len());
        for (name, var) in names.iter().zip(vars) {
            let grad = gradient(store, var, name)?;
            // A broadcast gradient (of a sum) is made contiguous: the one copy a step may make.
            tensors.push(if grad.is_contiguous() {
                grad.clone()
            } else {
                grad.contiguous()?
            });
        }
        let guards: Vec<_> = tensors.iter().map(Tensor::storage_and_layout).collect();
        let mut native = vec![None; vars.len()];
        for (i, ((storage, layout), name)) in guards.iter().zip(names).enumerate() {
            let Storage::Cpu(cpu) = &**storage else {
                return Err(error(format!("gradient of '{name}' is not on the CPU")));
            };
            let r = range(layout, name)?;
            match T::native(cpu) {
                Some(v) => native[i] = Some(&v[r]),
                None => {
                    let buf = &mut self.grads[i];
                    buf.resize(r.len(), T::zero());
                    if !T::widen_from(cpu, r, buf) {
                        return Err(error(format!(
                            "gradient of '{name}' has dtype {:?}, not the variable's",
                            tensors[i].dtype()
                        )));
                    }
                }
            }
        }
        if let Some(max) = max_norm {
            clip(max, &mut native, &mut self.grads);
        }
        let (opt, bufs) = (&mut self.opt, &self.grads);
        let mut finish =
            |mut params: Vec<&mut [T]>| -> Result<()> { update(opt, &mut params, &native, bufs) };
        nest(
            names,
            vars,
            &mut self.params,
            Vec::with_capacity(vars.len()),
            &mut finish,
        )
    }
}

/// Holds the write lock of each variable's storage in turn (nested
/// [`InplaceOp1`] calls), collecting their parameters, then runs `finish`
/// over all of them. Half-precision variables are widened into `scratch`
/// before and rounded back after.
fn nest<T: Elem>(
    names: &[String],
    vars: &[Var],
    scratch: &mut [Vec<T>],
    mut acc: Vec<&mut [T]>,
    finish: &mut dyn FnMut(Vec<&mut [T]>) -> Result<()>,
) -> Result<()> {
    let (Some((var, vars)), Some((buf, scratch)), Some((name, names))) = (
        vars.split_first(),
        scratch.split_first_mut(),
        names.split_first(),
    ) else {
        return finish(acc);
    };
    let mut inner = |storage: &mut CpuStorage, layout: &Layout| -> Result<()> {
        let r = range(layout, name)?;
        let mut next: Vec<&mut [T]> = Vec::with_capacity(acc.capacity());
        next.extend(std::mem::take(&mut acc));
        if T::native(storage).is_some() {
            let values = T::native_mut(storage).map(|v| &mut v[r]);
            next.extend(values);
            return nest(names, vars, scratch, next, finish);
        }
        buf.resize(r.len(), T::zero());
        if !T::widen_from(storage, r.clone(), buf) {
            return Err(error(format!(
                "variable '{name}' has a dtype this optimizer does not step"
            )));
        }
        next.push(buf);
        let result = nest(names, vars, scratch, next, finish);
        T::narrow_into(buf, storage, r);
        result
    };
    var.inplace_op1(&Nest(RefCell::new(&mut inner)))
}

/// An [`InplaceOp1`] that hands the CPU storage to a closure.
struct Nest<'a>(RefCell<&'a mut StorageFn<'a>>);

/// What [`Nest`] runs on a variable's storage.
type StorageFn<'a> = dyn FnMut(&mut CpuStorage, &Layout) -> Result<()> + 'a;

impl InplaceOp1 for Nest<'_> {
    fn name(&self) -> &'static str {
        "downhill-step"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> Result<()> {
        (self.0.borrow_mut())(storage, layout)
    }
}
