//! Stepping `ndarray` parameters in place (feature `ndarray`).
//!
//! An array in standard (row-major, contiguous) layout is a slice, stepped by
//! the same engine as [`Optimizer::step_tensors`]. Any other view (transposed,
//! sliced with a stride) is refused with [`StepError::NotContiguous`]: stepping
//! a copy would leave the parameters unchanged.

use crate::{Optimizer, Outcome, RuleSet, Scalar, StepError};
use ndarray::{ArrayBase, ArrayViewD, ArrayViewMutD, Data, DataMut, Dimension};

fn contiguous<S: Data, D: Dimension>(
    what: &'static str,
    index: usize,
    array: &ArrayBase<S, D>,
) -> Result<(), StepError> {
    if array.is_standard_layout() {
        Ok(())
    } else {
        Err(StepError::NotContiguous {
            what,
            index,
            shape: array.shape().to_vec(),
            strides: array.strides().to_vec(),
        })
    }
}

impl<T: Scalar, R: RuleSet> Optimizer<T, R> {
    /// One update of an optimizer built for a single tensor, from an array of
    /// any dimension and its gradient (same shape).
    pub fn step_array<S, G, D>(
        &mut self,
        params: &mut ArrayBase<S, D>,
        grads: &ArrayBase<G, D>,
    ) -> Result<Outcome, StepError>
    where
        S: DataMut<Elem = T>,
        G: Data<Elem = T>,
        D: Dimension,
    {
        contiguous("parameters", 0, params)?;
        contiguous("gradients", 0, grads)?;
        let params = params.as_slice_mut().expect("standard layout is a slice");
        let grads = grads.as_slice().expect("standard layout is a slice");
        self.step_tensors(&mut [params], &[grads])
    }

    /// One update of separately stored arrays (of any dimensions), in group
    /// order, like [`Optimizer::step_tensors`].
    pub fn step_arrays(
        &mut self,
        params: &mut [ArrayViewMutD<'_, T>],
        grads: &[ArrayViewD<'_, T>],
    ) -> Result<Outcome, StepError> {
        for (index, array) in params.iter().enumerate() {
            contiguous("parameters", index, array)?;
        }
        for (index, array) in grads.iter().enumerate() {
            contiguous("gradients", index, array)?;
        }
        let mut params: Vec<&mut [T]> = params
            .iter_mut()
            .map(|a| a.as_slice_mut().expect("standard layout is a slice"))
            .collect();
        let grads: Vec<&[T]> = grads
            .iter()
            .map(|a| a.as_slice().expect("standard layout is a slice"))
            .collect();
        self.step_tensors(&mut params, &grads)
    }
}
