//! Access to a group's state buffers, stored buffer-major in one vector.

use std::ops::Range;

/// The state buffers of one parameter range: buffer `b` of element `i` lives at
/// `data[b·stride + i]`; `range` selects the elements an update touches.
pub struct Bufs<'a, T> {
    data: &'a mut [T],
    stride: usize,
    range: Range<usize>,
}

impl<'a, T> Bufs<'a, T> {
    pub(crate) fn new(data: &'a mut [T], stride: usize, range: Range<usize>) -> Self {
        Bufs {
            data,
            stride,
            range,
        }
    }

    /// The buffers as `N` disjoint slices over the range, in declaration order.
    ///
    /// # Panics
    /// If the rule declared fewer than `N` buffers (a bug in the rule, not in input).
    pub fn take<const N: usize>(self) -> [&'a mut [T]; N] {
        let mut slices = self.into_slices();
        std::array::from_fn(|_| {
            slices
                .next()
                .expect("update rule uses a buffer it did not declare")
        })
    }

    /// The buffers one after another, each sliced to the range.
    pub fn into_slices(self) -> impl Iterator<Item = &'a mut [T]> {
        let Bufs {
            data,
            stride,
            range,
        } = self;
        data.chunks_exact_mut(stride.max(1))
            .map(move |buffer| &mut buffer[range.clone()])
    }
}
