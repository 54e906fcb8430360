//! The linear scaling rule for large mini-batches.

use downhill_optim::hyper::KeyError;

/// The linear scaling rule (Goyal et al., "Accurate, Large Minibatch SGD:
/// Training ImageNet in 1 Hour", 2017): when the mini-batch grows by a factor
/// k, multiply the lr by k, lr = lr_ref · batch / reference_batch.
/// Usually paired with a warm-up (`sequential` of `linear` then the main schedule).
///
/// ```
/// assert_eq!(downhill_schedule::linear_scaling(0.1, 1024, 256).unwrap(), 0.4);
/// ```
pub fn linear_scaling(
    reference_lr: f64,
    batch: u64,
    reference_batch: u64,
) -> Result<f64, KeyError> {
    if !(reference_lr.is_finite() && reference_lr >= 0.0) {
        return Err(KeyError::Constraint(format!(
            "the reference lr must be a finite number >= 0, got {reference_lr}"
        )));
    }
    if batch == 0 || reference_batch == 0 {
        return Err(KeyError::Constraint(format!(
            "batch sizes must be whole numbers > 0, got batch {batch} and reference batch {reference_batch}"
        )));
    }
    Ok(reference_lr * batch as f64 / reference_batch as f64)
}
