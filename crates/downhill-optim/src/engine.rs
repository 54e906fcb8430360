//! The step engine: runs a rule's elementwise update over a group's tensors,
//! across rayon's threads for long runs and many tensors, compiled for AVX2
//! where the processor has it, and (for [`NonFinite::Zero`](super::NonFinite))
//! with non-finite gradient entries read as zero in the same single pass.
//!
//! Every element gets the same arithmetic whatever the split, so results do
//! not depend on the number of threads or on how tensors are laid out.
//!
//! Rules whose update depends on the tensor ([`Rule::PER_TENSOR`]) are run
//! tensor by tensor: first (with [`Rule::TENSOR_SUMS`]) a pass that sums over
//! the tensor in element order, then the update given the shape and the sums.

use super::gradient::{Raw, Zeroing};
use super::ops::Squares;
use super::optimizer::GroupState;
use super::{Bufs, Rule, Tensor, Visit, WholeTensor};
use crate::scalar::Scalar;

/// Elements per parallel task: large enough that scheduling costs are noise.
pub(crate) const GRAIN: usize = 1 << 15;

/// One step of one group, as a [`Visit`] of its rule (see [`update_group`]).
pub(crate) struct UpdateGroup<'a, 'p, T> {
    pub state: &'a mut GroupState<T>,
    /// The group's tensors, or all of them as one flat run.
    pub params: &'a mut [&'p mut [T]],
    pub grads: &'a [&'a [T]],
    /// The shapes of the group's tensors.
    pub shapes: &'a [Vec<usize>],
    pub zero_bad: bool,
}

impl<T: Scalar> Visit for UpdateGroup<'_, '_, T> {
    type Output = usize;
    fn visit<R: Rule>(self, rule: &R) -> usize {
        update_group(rule, self)
    }
}

/// One step of one group whose tensors are `params` (laid out one after
/// another in the group's state buffers). With `zero_bad`, non-finite gradient
/// entries count as zero; returns how many there were (0 without `zero_bad`).
pub(crate) fn update_group<T: Scalar, R: Rule>(rule: &R, group: UpdateGroup<'_, '_, T>) -> usize {
    let UpdateGroup {
        state,
        params,
        grads,
        shapes,
        zero_bad,
    } = group;
    state.step += 1;
    let coeffs = rule.begin_step(state.step, &mut state.scalars);
    let len = params.iter().map(|p| p.len()).sum();
    let mut bufs = Bufs::over(&mut state.buffers, len, 0..len);
    let pass = Pass {
        rule,
        coeffs: &coeffs,
        zero_bad,
    };
    if R::GROUP_SUMS > 0 {
        let sums = pass.group_sums(Bufs::reborrow(&mut bufs), params, grads, shapes, len);
        let coeffs = rule.group_coeffs(&coeffs, &sums[..R::GROUP_SUMS], &mut state.scalars);
        let pass = Pass {
            coeffs: &coeffs,
            ..pass
        };
        let zeroed = pass.tensors(bufs, params, grads, len);
        return if zero_bad {
            // The update may not read every gradient entry: count here.
            grads
                .iter()
                .flat_map(|g| g.iter())
                .filter(|x| !x.is_finite())
                .count()
        } else {
            zeroed
        };
    }
    if !R::PER_TENSOR && !R::WHOLE_TENSOR {
        return pass.tensors(bufs, params, grads, len);
    }
    let mut zeroed = 0;
    if R::WHOLE_TENSOR {
        let mut extra = &mut state.extra[..];
        each_tensor(bufs, params, grads, shapes, |shape, bufs, p, g| {
            let (part, rest) = std::mem::take(&mut extra)
                .split_at_mut(rule.extra_len(std::slice::from_ref(&shape.to_vec())));
            extra = rest;
            let tensor = WholeTensor {
                shape,
                p,
                bufs,
                extra: part,
            };
            zeroed += whole_tensor(rule, &coeffs, tensor, g, zero_bad);
        });
    } else {
        each_tensor(bufs, params, grads, shapes, |shape, bufs, p, g| {
            zeroed += pass.tensor(bufs, shape, p, g);
        });
    }
    zeroed
}

/// Calls `visit` on each tensor of `shapes` in order with its state buffers,
/// parameters and gradient: the next elements of the current run (a flat
/// step passes the group as one run).
fn each_tensor<T>(
    bufs: Bufs<'_, T>,
    params: &mut [&mut [T]],
    grads: &[&[T]],
    shapes: &[Vec<usize>],
    mut visit: impl FnMut(&[usize], Bufs<'_, T>, &mut [T], &[T]),
) {
    let mut bufs = bufs;
    let (mut run, mut at) = (0, 0);
    for shape in shapes {
        let n = shape.iter().product::<usize>();
        while at == params[run].len() && run + 1 < params.len() {
            (run, at) = (run + 1, 0);
        }
        let (head, tail) = bufs.split_at(n);
        bufs = tail;
        visit(
            shape,
            head,
            &mut params[run][at..at + n],
            &grads[run][at..at + n],
        );
        at += n;
    }
}

/// [`Rule::step_tensor`] on one tensor, reading non-finite gradient entries
/// as zero with `zero_bad`; returns how many there were. Compiled for AVX2
/// and FMA when the processor has them (the same IEEE operations either way).
fn whole_tensor<T: Scalar, R: Rule>(
    rule: &R,
    coeffs: &R::Coeffs,
    tensor: WholeTensor<'_, T>,
    g: &[T],
    zero_bad: bool,
) -> usize {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
        // SAFETY: the processor supports AVX2 and FMA, checked just above.
        return unsafe { whole_tensor_avx2(rule, coeffs, tensor, g, zero_bad) };
    }
    whole_tensor_body(rule, coeffs, tensor, g, zero_bad)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn whole_tensor_avx2<T: Scalar, R: Rule>(
    rule: &R,
    coeffs: &R::Coeffs,
    tensor: WholeTensor<'_, T>,
    g: &[T],
    zero_bad: bool,
) -> usize {
    whole_tensor_body(rule, coeffs, tensor, g, zero_bad)
}

#[inline(always)]
fn whole_tensor_body<T: Scalar, R: Rule>(
    rule: &R,
    coeffs: &R::Coeffs,
    tensor: WholeTensor<'_, T>,
    g: &[T],
    zero_bad: bool,
) -> usize {
    if !zero_bad {
        rule.step_tensor(coeffs, tensor, &mut Raw(g));
        return 0;
    }
    let mut read = Zeroing::new(g);
    rule.step_tensor(coeffs, tensor, &mut read);
    if read.saw_bad {
        g.iter().filter(|x| !x.is_finite()).count()
    } else {
        0
    }
}

/// What every element of one step gets: the rule, its coefficients for this
/// step (or tensor), and whether non-finite gradient entries are replaced with zero.
struct Pass<'a, R: Rule> {
    rule: &'a R,
    coeffs: &'a R::Coeffs,
    zero_bad: bool,
}

impl<R: Rule> Pass<'_, R> {
    /// One tensor of a [`Rule::PER_TENSOR`] rule: the sums over it (in runs
    /// of [`GRAIN`] elements, in an order fixed by position, see
    /// [`Squares`]), the tensor's coefficients, then the update, split
    /// across threads as [`Pass::run`] splits.
    fn tensor<T: Scalar>(&self, bufs: Bufs<'_, T>, shape: &[usize], p: &mut [T], g: &[T]) -> usize {
        let mut bufs = bufs;
        let mut squares = Squares::new(p.len());
        if R::TENSOR_SUMS > 0 {
            self.sum_runs(Bufs::reborrow(&mut bufs), shape, p, g, 0, &mut squares);
        }
        let totals = squares.totals();
        let sums = &totals[..R::TENSOR_SUMS];
        let coeffs = self
            .rule
            .tensor_coeffs::<T>(self.coeffs, Tensor { shape, sums });
        let pass = Pass {
            rule: self.rule,
            coeffs: &coeffs,
            zero_bad: self.zero_bad,
        };
        let zeroed = pass.run(bufs, p, g);
        if R::TENSOR_SUMS > 0 && self.zero_bad {
            // The update may not read the gradient again (LAMB): count here.
            g.iter().filter(|x| !x.is_finite()).count()
        } else {
            zeroed
        }
    }

    /// [`Rule::sum`] over one tensor that starts at `start` among the summed
    /// elements, in runs of [`GRAIN`] elements, one after another.
    fn sum_runs<T: Scalar>(
        &self,
        bufs: Bufs<'_, T>,
        shape: &[usize],
        p: &mut [T],
        g: &[T],
        start: usize,
        squares: &mut Squares,
    ) {
        let mut rest = bufs;
        for (k, (p, g)) in p.chunks_mut(GRAIN).zip(g.chunks(GRAIN)).enumerate() {
            let (head, tail) = rest.split_at(p.len());
            rest = tail;
            squares.at(start + k * GRAIN, start);
            self.sums(shape, head, p, g, squares);
        }
    }

    /// The [`Rule::GROUP_SUMS`] over a group's `len` elements: [`Rule::sum`]
    /// over every tensor, positions counted across the group.
    fn group_sums<T: Scalar>(
        &self,
        bufs: Bufs<'_, T>,
        params: &mut [&mut [T]],
        grads: &[&[T]],
        shapes: &[Vec<usize>],
        len: usize,
    ) -> [f64; crate::MAX_TENSOR_SUMS] {
        let mut squares = Squares::new(len);
        let mut start = 0;
        each_tensor(bufs, params, grads, shapes, |shape, bufs, p, g| {
            self.sum_runs(bufs, shape, p, g, start, &mut squares);
            start += p.len();
        });
        squares.totals()
    }

    /// Updates a list of tensors holding `total` elements: halves of the list
    /// (split by element count) go to different threads when the list is long.
    fn tensors<T: Scalar>(
        &self,
        bufs: Bufs<'_, T>,
        params: &mut [&mut [T]],
        grads: &[&[T]],
        total: usize,
    ) -> usize {
        if let ([p], [g]) = (&mut *params, grads) {
            return self.run(bufs, p, g);
        }
        if total < 2 * GRAIN || threads() == 1 {
            let mut rest = bufs;
            let mut zeroed = 0;
            for (p, g) in params.iter_mut().zip(grads) {
                let (head, tail) = rest.split_at(p.len());
                zeroed += self.leaf(head, p, g);
                rest = tail;
            }
            return zeroed;
        }
        // The first k tensors hold about half of the elements (at least one tensor each side).
        let (mut k, mut left) = (1, params[0].len());
        while k + 1 < params.len() && left + params[k].len() <= total / 2 {
            left += params[k].len();
            k += 1;
        }
        let (bufs_left, bufs_right) = bufs.split_at(left);
        let (p_left, p_right) = params.split_at_mut(k);
        let (g_left, g_right) = grads.split_at(k);
        let (a, b) = join(
            || self.tensors(bufs_left, p_left, g_left, left),
            || self.tensors(bufs_right, p_right, g_right, total - left),
        );
        a + b
    }

    /// Updates one run of elements, split in halves across threads when it is long.
    fn run<T: Scalar>(&self, bufs: Bufs<'_, T>, p: &mut [T], g: &[T]) -> usize {
        if p.len() < 2 * GRAIN || threads() == 1 {
            return self.leaf(bufs, p, g);
        }
        let mid = p.len() / 2 / GRAIN * GRAIN;
        let (left, right) = bufs.split_at(mid);
        let (p_left, p_right) = p.split_at_mut(mid);
        let (g_left, g_right) = g.split_at(mid);
        let (a, b) = join(
            || self.run(left, p_left, g_left),
            || self.run(right, p_right, g_right),
        );
        a + b
    }

    /// The rule's loop over one run on this thread, compiled for AVX2 and FMA
    /// when the processor has them. The arithmetic is the same IEEE operations
    /// either way (`mul_add` rounds once on both paths), so results are
    /// bit-identical; only the vector width differs.
    fn leaf<T: Scalar>(&self, bufs: Bufs<'_, T>, p: &mut [T], g: &[T]) -> usize {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the processor supports AVX2 and FMA, checked just above.
            return unsafe { self.leaf_avx2(bufs, p, g) };
        }
        self.leaf_body(bufs, p, g)
    }

    /// [`Rule::sum`] over one run, compiled for AVX2 and FMA when the
    /// processor has them (the same IEEE operations either way).
    fn sums<T: Scalar>(
        &self,
        shape: &[usize],
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &[T],
        squares: &mut Squares,
    ) {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the processor supports AVX2 and FMA, checked just above.
            return unsafe { self.sums_avx2(shape, bufs, p, g, squares) };
        }
        self.sums_body(shape, bufs, p, g, squares)
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn sums_avx2<T: Scalar>(
        &self,
        shape: &[usize],
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &[T],
        squares: &mut Squares,
    ) {
        self.sums_body(shape, bufs, p, g, squares)
    }

    #[inline(always)]
    fn sums_body<T: Scalar>(
        &self,
        shape: &[usize],
        bufs: Bufs<'_, T>,
        p: &mut [T],
        g: &[T],
        squares: &mut Squares,
    ) {
        let g = &g[..p.len()];
        if self.zero_bad {
            self.rule
                .sum(self.coeffs, shape, bufs, p, &mut Zeroing::new(g), squares);
        } else {
            self.rule
                .sum(self.coeffs, shape, bufs, p, &mut Raw(g), squares);
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    unsafe fn leaf_avx2<T: Scalar>(&self, bufs: Bufs<'_, T>, p: &mut [T], g: &[T]) -> usize {
        self.leaf_body(bufs, p, g)
    }

    /// [`Rule::apply`]; with `zero_bad` the rule reads bad entries as zero,
    /// and only a run that had some is read again to count them.
    #[inline(always)]
    fn leaf_body<T: Scalar>(&self, bufs: Bufs<'_, T>, p: &mut [T], g: &[T]) -> usize {
        let g = &g[..p.len()];
        if !self.zero_bad {
            self.rule.apply(self.coeffs, bufs, p, &mut Raw(g));
            return 0;
        }
        let mut read = Zeroing::new(g);
        self.rule.apply(self.coeffs, bufs, p, &mut read);
        if read.saw_bad {
            g.iter().filter(|x| !x.is_finite()).count()
        } else {
            0
        }
    }
}

/// The flat index and value of the first NaN or ±∞ in `tensors` (taken one
/// after another), found by a vectorised scan spread across rayon's threads
/// (over tensors, and over chunks of long ones); only a bad gradient is searched
/// again for the position.
pub(crate) fn first_non_finite<T: Scalar>(tensors: &[&[T]]) -> Option<(usize, f64)> {
    let total: usize = tensors.iter().map(|g| g.len()).sum();
    let bad = if total < 2 * GRAIN || threads() == 1 {
        tensors.iter().any(|g| has_non_finite(g))
    } else {
        any_non_finite_parallel(tensors)
    };
    if !bad {
        return None;
    }
    tensors
        .iter()
        .flat_map(|g| g.iter())
        .enumerate()
        .find(|(_, x)| !x.is_finite())
        .map(|(index, x)| (index, x.widen()))
}

#[cfg(feature = "parallel")]
fn any_non_finite_parallel<T: Scalar>(tensors: &[&[T]]) -> bool {
    use rayon::prelude::*;
    tensors.par_iter().any(|g| {
        if g.len() < 2 * GRAIN {
            has_non_finite(g)
        } else {
            g.par_chunks(GRAIN).any(has_non_finite)
        }
    })
}

#[cfg(not(feature = "parallel"))]
fn any_non_finite_parallel<T: Scalar>(tensors: &[&[T]]) -> bool {
    tensors.iter().any(|g| has_non_finite(g))
}

/// The threads a step may use: rayon's pool, or 1 without the `parallel` feature.
fn threads() -> usize {
    #[cfg(feature = "parallel")]
    return rayon::current_num_threads();
    #[cfg(not(feature = "parallel"))]
    1
}

/// Runs both halves, on two threads when the `parallel` feature is on.
fn join<A: Send, B: Send>(a: impl FnOnce() -> A + Send, b: impl FnOnce() -> B + Send) -> (A, B) {
    #[cfg(feature = "parallel")]
    return rayon::join(a, b);
    #[cfg(not(feature = "parallel"))]
    (a(), b())
}

/// A branch-free OR over the whole run (no early exit, so it vectorises).
fn has_non_finite<T: Scalar>(values: &[T]) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor supports AVX2, checked just above.
        return unsafe { has_non_finite_avx2(values) };
    }
    any_non_finite(values)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn has_non_finite_avx2<T: Scalar>(values: &[T]) -> bool {
    any_non_finite(values)
}

/// The OR over four quarters of the run read side by side: four memory
/// streams at once get more bandwidth from one core than one stream does.
#[inline(always)]
fn any_non_finite<T: Scalar>(values: &[T]) -> bool {
    let quarter = values.len() / 4;
    let (a, rest) = values.split_at(quarter);
    let (b, rest) = rest.split_at(quarter);
    let (c, rest) = rest.split_at(quarter);
    let (d, tail) = rest.split_at(quarter);
    let mut bad = tail.iter().fold(false, |bad, x| bad | !x.is_finite());
    for i in 0..quarter {
        bad |= !a[i].is_finite() | !b[i].is_finite() | !c[i].is_finite() | !d[i].is_finite();
    }
    bad
}

#[cfg(all(test, target_arch = "x86_64"))]
mod tests {
    use super::*;
    use crate::optimizer::Group;
    use crate::{build, RuleSet};

    /// The AVX2 build of every update loop against the baseline (SSE2) build
    /// of the same loop: bit-identical parameters and state; with `zero_bad`
    /// on gradients holding NaN and ±∞ (read as zero).
    fn compare<T: Scalar>(spec: &str, zero_bad: bool) {
        let rule = build(spec).unwrap();
        let n = 1003;
        let mut plain = Group::<T>::fresh(rule.clone(), vec![n], vec![vec![n]], 0);
        let mut wide = plain.clone();
        let mut p_plain: Vec<T> = (0..n)
            .map(|i| T::of(((i * 37) % 101) as f64 / 50.0 - 1.0))
            .collect();
        let mut p_wide = p_plain.clone();
        for step in 0..5 {
            let mut g: Vec<T> = (0..n)
                .map(|i| T::of((((i + step) * 13) % 29) as f64 * 1e-2 - 0.14))
                .collect();
            if zero_bad {
                g[7 * step + 1] = T::of(f64::NAN);
                g[500 + step] = T::of(f64::INFINITY);
                g[n - 1 - step] = T::of(f64::NEG_INFINITY);
            }
            rule.visit(StepBoth {
                states: [&mut plain.state, &mut wide.state],
                params: [&mut p_plain, &mut p_wide],
                g: &g,
                zero_bad,
            });
        }
        let bits = |v: &[T]| v.iter().map(|x| x.widen().to_bits()).collect::<Vec<_>>();
        assert!(p_plain.iter().all(|x| x.is_finite()), "{spec}");
        assert_eq!(bits(&p_plain), bits(&p_wide), "{spec} ({})", T::DTYPE);
        assert_eq!(
            bits(&plain.state.buffers),
            bits(&wide.state.buffers),
            "{spec} ({})",
            T::DTYPE
        );
    }

    /// One step of the baseline loop on the first state and of the AVX2 loop
    /// on the second; both must see the same number of bad entries.
    struct StepBoth<'a, T> {
        states: [&'a mut GroupState<T>; 2],
        params: [&'a mut [T]; 2],
        g: &'a [T],
        zero_bad: bool,
    }

    impl<T: Scalar> Visit for StepBoth<'_, T> {
        type Output = ();
        fn visit<R: Rule>(self, rule: &R) {
            step_both(rule, self)
        }
    }

    fn step_both<T: Scalar, R: Rule>(rule: &R, both: StepBoth<'_, T>) {
        let StepBoth {
            states: [plain, wide],
            params: [p_plain, p_wide],
            g,
            zero_bad,
        } = both;
        let n = g.len();
        plain.step += 1;
        let coeffs = rule.begin_step(plain.step, &mut plain.scalars);
        let bufs = Bufs::over(&mut plain.buffers, n, 0..n);
        let saw_bad = if zero_bad {
            let mut read = Zeroing::new(g);
            rule.apply(&coeffs, bufs, p_plain, &mut read);
            read.saw_bad
        } else {
            rule.apply(&coeffs, bufs, p_plain, &mut Raw(g));
            false
        };
        wide.step += 1;
        let coeffs = rule.begin_step(wide.step, &mut wide.scalars);
        let pass = Pass {
            rule,
            coeffs: &coeffs,
            zero_bad,
        };
        // SAFETY: only called after the AVX2 check in the test.
        let zeroed = unsafe { pass.leaf_avx2(Bufs::over(&mut wide.buffers, n, 0..n), p_wide, g) };
        assert_eq!(saw_bad, zero_bad);
        assert_eq!(zeroed, if zero_bad { 3 } else { 0 });
    }

    #[test]
    fn avx2_loops_match_the_baseline_loops() {
        if !std::arch::is_x86_feature_detected!("avx2") {
            eprintln!("this processor has no AVX2: only the baseline loops run here");
            return;
        }
        for spec in [
            "sgd:lr=0.01,momentum=0.9,dampening=0.1,weight_decay=0.01,maximize=true",
            "sgd:lr=0.01,momentum=0.9,nesterov=true",
            "gd:lr=0.1",
            "nag",
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
            "lion:weight_decay=0.1",
            "adopt:weight_decay=0.1,maximize=true",
            "adopt:clip_lambda=none,weight_decay=0.1,weight_decouple=true",
            "ademamix:t_alpha_beta3=5,weight_decay=0.1",
            "ademamix:weight_decay=0.1,weight_decouple=true,fixed_decay=true",
            "adan:weight_decay=0.1",
            "adan:weight_decay=0.1,weight_decouple=true,maximize=true",
        ] {
            for zero_bad in [false, true] {
                compare::<f32>(spec, zero_bad);
                compare::<f64>(spec, zero_bad);
            }
        }
    }

    #[test]
    fn the_finiteness_scan_finds_a_bad_value_at_every_position() {
        for len in [0usize, 1, 3, 4, 5, 17, 103, 1001] {
            let mut values = vec![0.5f64; len];
            assert!(!has_non_finite(&values), "{len}");
            for i in 0..len {
                values[i] = f64::NAN;
                assert!(has_non_finite(&values), "{len} at {i}");
                values[i] = 0.5;
            }
        }
    }

    #[test]
    fn the_finiteness_scan_finds_every_kind_of_bad_value() {
        let mut values = vec![1.0f32; 5000];
        assert!(!has_non_finite(&values));
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            values[4321] = bad;
            assert!(has_non_finite(&values));
        }
    }
}
