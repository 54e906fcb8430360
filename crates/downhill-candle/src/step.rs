//! One step over candle variables: gradients read from their storage,
//! clipped, and the variables' storage stepped in place.

use crate::elem::{range, Elem};
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, InplaceOp1, Layout, Result, Storage, Tensor, Var};
use std::cell::RefCell;

/// The optimizer over one element type, with the reusable buffers a step needs.
pub(crate) struct Core<T: Elem> {
    pub opt: downhill_optim::Optimizer<T>,
    /// Per variable: the parameters widened to `T` (half-precision variables only).
    pub params: Vec<Vec<T>>,
    /// Per variable: the gradient as stepped, when it cannot be read in place
    /// (half precision, clipped); sized on first use.
    pub grads: Vec<Vec<T>>,
}

fn error(message: String) -> candle_core::Error {
    candle_core::Error::Msg(message)
}

impl<T: Elem> Core<T> {
    pub fn new(opt: downhill_optim::Optimizer<T>, count: usize) -> Self {
        Core {
            opt,
            params: vec![Vec::new(); count],
            grads: vec![Vec::new(); count],
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
        let mut tensors = Vec::with_capacity(vars.len());
        for (name, var) in names.iter().zip(vars) {
            let grad = store
                .get(var.as_tensor())
                .ok_or_else(|| error(format!("variable '{name}' has no gradient")))?;
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
        if let Some(max) = clip {
            // One running sum in order, as `Clip` sums a flat gradient.
            let norm = (0..vars.len())
                .flat_map(|i| native[i].unwrap_or(&self.grads[i]))
                .map(|&x| x.widen() * x.widen())
                .sum::<f64>()
                .sqrt();
            if let Some(coef) = downhill::train::Clip::coefficient(norm, max) {
                let c = T::of(coef);
                for (i, slot) in native.iter_mut().enumerate() {
                    let buf = &mut self.grads[i];
                    if let Some(g) = slot.take() {
                        buf.clear();
                        buf.extend_from_slice(g);
                    }
                    buf.iter_mut().for_each(|x| *x = *x * c);
                }
            }
        }
        let grads: Vec<&[T]> = (0..vars.len())
            .map(|i| native[i].unwrap_or(&self.grads[i]))
            .collect();
        let opt = &mut self.opt;
        let mut finish = |params: Vec<&mut [T]>| -> Result<()> {
            let mut params = params;
            opt.step_tensors(&mut params, &grads)
                .map(drop)
                .map_err(|e| error(e.to_string()))
        };
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
