//! Access to a group's state buffers for the elements one update touches.

/// The most buffers a rule keeps per element (Adan: three averages and the previous gradient).
pub const MAX_BUFFERS: usize = 4;

/// The state buffers of one run of elements: up to `MAX_BUFFERS` (4) disjoint
/// slices of equal length, in the order the rule declared them.
pub struct Bufs<'a, T> {
    slices: [&'a mut [T]; MAX_BUFFERS],
    count: usize,
}

impl<'a, T> Bufs<'a, T> {
    /// Buffer `b` of element `i` lives at `storage[b·stride + i]`; takes `range` of each.
    pub(crate) fn over(storage: &'a mut [T], stride: usize, range: std::ops::Range<usize>) -> Self {
        let declared = storage.len().checked_div(stride).unwrap_or(0);
        assert!(
            declared <= MAX_BUFFERS,
            "a rule declared more than {MAX_BUFFERS} buffers"
        );
        let mut slices: [&'a mut [T]; MAX_BUFFERS] = Default::default();
        let mut count = 0;
        for (slot, buffer) in slices
            .iter_mut()
            .zip(storage.chunks_exact_mut(stride.max(1)))
        {
            *slot = &mut buffer[range.clone()];
            count += 1;
        }
        Bufs { slices, count }
    }

    /// The buffers as `N` slices, in declaration order.
    ///
    /// # Panics
    /// If the rule declared fewer than `N` buffers (a bug in the rule, not in input).
    pub fn take<const N: usize>(self) -> [&'a mut [T]; N] {
        assert!(
            N <= self.count,
            "update rule uses a buffer it did not declare"
        );
        let mut slices = self.slices.into_iter();
        std::array::from_fn(|_| slices.next().unwrap_or_default())
    }

    /// The declared buffers one after another.
    pub fn into_slices(self) -> impl Iterator<Item = &'a mut [T]> {
        self.slices.into_iter().take(self.count)
    }

    /// The same buffers, borrowed for a shorter time.
    pub(crate) fn reborrow<'b>(this: &'b mut Self) -> Bufs<'b, T> {
        let mut slices: [&'b mut [T]; MAX_BUFFERS] = Default::default();
        for (slot, slice) in slices.iter_mut().zip(this.slices.iter_mut()) {
            *slot = &mut **slice;
        }
        Bufs {
            slices,
            count: this.count,
        }
    }

    /// Splits every buffer at `mid`: elements `..mid` and `mid..`.
    pub(crate) fn split_at(self, mid: usize) -> (Self, Self) {
        let mut left: [&'a mut [T]; MAX_BUFFERS] = Default::default();
        let mut right: [&'a mut [T]; MAX_BUFFERS] = Default::default();
        for ((slice, l), r) in self
            .slices
            .into_iter()
            .zip(&mut left)
            .zip(&mut right)
            .take(self.count)
        {
            let (a, b) = slice.split_at_mut(mid);
            *l = a;
            *r = b;
        }
        (
            Bufs {
                slices: left,
                count: self.count,
            },
            Bufs {
                slices: right,
                count: self.count,
            },
        )
    }
}
