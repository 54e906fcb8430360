//! L-BFGS's state in the optimizer's extra state, and its undo log.
//!
//! Layout for a group of n elements and history size h:
//! `[d (n) | prev_flat_grad (n) | y ring (h·n) | s ring (h·n) | ρ ring (h)]`.
//! PyTorch's lists `old_dirs` (y), `old_stps` (s) and `ro` (ρ = 1/yᵀs) drop
//! their first entry when full; here the oldest pair is overwritten in
//! place, and the scalars `history` (pairs held) and `head` (the slot of the
//! oldest) say where each pair is.

use crate::scalar::Scalar;

/// The extra state's length: 2·n + h·(2·n + 1), saturating (a history
/// size is bounded by validation, so it never saturates for real groups).
pub(super) fn extra_len(n: usize, h: usize) -> usize {
    h.saturating_mul(n.saturating_mul(2).saturating_add(1))
        .saturating_add(n.saturating_mul(2))
}

/// A group's extra state, split by the layout above.
pub(super) struct Memory<'a, T> {
    /// The last direction d.
    pub d: &'a mut [T],
    /// The gradient at the start of the last iteration.
    pub prev: &'a mut [T],
    y: &'a mut [T],
    s: &'a mut [T],
    ro: &'a mut [T],
    n: usize,
    h: usize,
    /// Pairs held (≤ h).
    pub len: usize,
    /// The slot of the oldest pair.
    pub head: usize,
}

impl<'a, T: Scalar> Memory<'a, T> {
    /// Splits `extra` for n elements and history size h, with `len` pairs
    /// from slot `head` (both read from saved scalars, so clamped into range).
    pub fn new(extra: &'a mut [T], n: usize, h: usize, len: f64, head: f64) -> Self {
        let (d, rest) = extra.split_at_mut(n);
        let (prev, rest) = rest.split_at_mut(n);
        let (y, rest) = rest.split_at_mut(h * n);
        let (s, ro) = rest.split_at_mut(h * n);
        Memory {
            d,
            prev,
            y,
            s,
            ro,
            n,
            h,
            len: (len as usize).min(h),
            head: (head as usize) % h.max(1),
        }
    }

    fn slot(&self, i: usize) -> usize {
        (self.head + i) % self.h
    }

    /// Pair `i` (0 the oldest): y, s and ρ.
    pub fn pair(&self, i: usize) -> (&[T], &[T], T) {
        let at = self.slot(i) * self.n;
        (
            &self.y[at..at + self.n],
            &self.s[at..at + self.n],
            self.ro[self.slot(i)],
        )
    }

    /// Forgets every pair (the first iteration's empty lists).
    pub fn clear(&mut self) {
        self.len = 0;
        self.head = 0;
    }

    /// Appends the pair (y, s) with ρ = 1/ys, dropping the oldest when full;
    /// `undo` first keeps the slot's old contents.
    pub fn push(&mut self, y_new: &[T], s_new: &[T], ys: T, undo: Option<&mut Undo<T>>) {
        let slot = if self.len == self.h {
            let oldest = self.head;
            self.head = (oldest + 1) % self.h;
            oldest
        } else {
            self.len += 1;
            self.slot(self.len - 1)
        };
        let at = slot * self.n;
        let (y, s) = (&mut self.y[at..at + self.n], &mut self.s[at..at + self.n]);
        if let Some(undo) = undo {
            undo.keep(slot, y, s);
        }
        y.copy_from_slice(y_new);
        s.copy_from_slice(s_new);
        self.ro[slot] = T::one() / ys;
    }

    /// The ρ ring (saved whole by [`Undo`]).
    fn ro_mut(&mut self) -> &mut [T] {
        self.ro
    }
}

/// What a step that may be refused keeps to put back: the parameters,
/// scalars, d, prev_flat_grad and ρ at the start, and each history slot
/// before its first overwrite (at most min(max_iter, h) of them).
pub(super) struct Undo<T> {
    p: Vec<T>,
    scalars: Vec<f64>,
    d_prev: Vec<T>,
    ro: Vec<T>,
    slots: Vec<(usize, Vec<T>)>,
}

impl<T: Scalar> Undo<T> {
    pub fn take(p: &[T], scalars: &[f64], memory: &mut Memory<'_, T>) -> Self {
        Undo {
            p: p.to_vec(),
            scalars: scalars.to_vec(),
            d_prev: [&memory.d[..], &memory.prev[..]].concat(),
            ro: memory.ro_mut().to_vec(),
            slots: Vec::new(),
        }
    }

    fn keep(&mut self, slot: usize, y: &[T], s: &[T]) {
        if self.slots.iter().all(|(kept, _)| *kept != slot) {
            self.slots.push((slot, [y, s].concat()));
        }
    }

    /// Puts everything back as it was when taken.
    pub fn restore(self, p: &mut [T], scalars: &mut [f64], memory: &mut Memory<'_, T>) {
        let n = memory.n;
        p.copy_from_slice(&self.p);
        scalars.copy_from_slice(&self.scalars);
        memory.d.copy_from_slice(&self.d_prev[..n]);
        memory.prev.copy_from_slice(&self.d_prev[n..]);
        memory.ro_mut().copy_from_slice(&self.ro);
        for (slot, kept) in self.slots {
            let at = slot * n;
            memory.y[at..at + n].copy_from_slice(&kept[..n]);
            memory.s[at..at + n].copy_from_slice(&kept[n..]);
        }
    }
}
