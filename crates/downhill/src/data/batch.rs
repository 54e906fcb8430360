//! Epochs as the learning notes describe them: shuffle the training set, then
//! partition it into batches — the whole set (batch gradient descent), `N`
//! samples (mini-batch) or one sample (stochastic gradient descent).

use rand::seq::SliceRandom;
use rand::Rng;
use std::fmt;
use std::str::FromStr;

/// `--batch-size`: `full` or a whole number ≥ 1.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum BatchSize {
    Full,
    Size(usize),
}

impl BatchSize {
    /// The number of samples per batch for a training set of `n`.
    pub fn resolve(self, n: usize) -> usize {
        match self {
            BatchSize::Full => n,
            BatchSize::Size(b) => b.min(n),
        }
    }
}

impl FromStr for BatchSize {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text.trim() {
            "full" => Ok(BatchSize::Full),
            t => match t.parse::<usize>() {
                Ok(b) if b >= 1 => Ok(BatchSize::Size(b)),
                _ => Err(format!(
                    "batch size must be 'full' or a whole number ≥ 1, got '{text}'"
                )),
            },
        }
    }
}

impl fmt::Display for BatchSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BatchSize::Full => write!(f, "full"),
            BatchSize::Size(b) => write!(f, "{b}"),
        }
    }
}

/// The sample order of one epoch and its partition into batches.
#[derive(Clone, Debug)]
pub struct Batcher {
    order: Vec<usize>,
    size: usize,
    drop_last: bool,
}

impl Batcher {
    /// Batches of `size` (≥ 1) over `n` samples; `drop_last` skips a final short batch.
    pub fn new(n: usize, size: usize, drop_last: bool) -> Batcher {
        assert!(size >= 1, "batch size must be at least 1");
        Batcher {
            order: (0..n).collect(),
            size,
            drop_last,
        }
    }

    /// Starts an epoch: a uniformly random permutation of `0..n` drawn from
    /// `rng` (depending only on the RNG's state, not on earlier epochs).
    pub fn shuffle(&mut self, rng: &mut impl Rng) {
        for (i, slot) in self.order.iter_mut().enumerate() {
            *slot = i;
        }
        self.order.shuffle(rng);
    }

    /// The batches of the current epoch, in order.
    pub fn batches(&self) -> impl Iterator<Item = &[usize]> {
        let keep = if self.drop_last {
            self.order.len() / self.size * self.size
        } else {
            self.order.len()
        };
        self.order[..keep].chunks(self.size)
    }

    /// Updates per epoch.
    pub fn steps_per_epoch(&self) -> usize {
        if self.drop_last {
            self.order.len() / self.size
        } else {
            self.order.len().div_ceil(self.size)
        }
    }

    /// The largest batch.
    pub fn size(&self) -> usize {
        self.size.min(self.order.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn epoch(n: usize, batch: BatchSize, drop_last: bool, rng: &mut ChaCha8Rng) -> Vec<Vec<usize>> {
        let mut b = Batcher::new(n, batch.resolve(n), drop_last);
        b.shuffle(rng);
        let batches: Vec<Vec<usize>> = b.batches().map(<[usize]>::to_vec).collect();
        assert_eq!(batches.len(), b.steps_per_epoch());
        batches
    }

    #[test]
    fn every_sample_once_per_epoch() {
        let mut rng = ChaCha8Rng::seed_from_u64(0);
        for (batch, sizes) in [
            (BatchSize::Full, vec![10]),
            (BatchSize::Size(4), vec![4, 4, 2]),
            (BatchSize::Size(1), vec![1; 10]),
            (BatchSize::Size(64), vec![10]),
        ] {
            let batches = epoch(10, batch, false, &mut rng);
            assert_eq!(
                batches.iter().map(Vec::len).collect::<Vec<_>>(),
                sizes,
                "{batch}"
            );
            let mut seen: Vec<usize> = batches.concat();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<_>>());
        }
    }

    #[test]
    fn drop_last_skips_the_short_batch_and_epochs_reshuffle() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let first = epoch(10, BatchSize::Size(4), true, &mut rng);
        assert_eq!(first.iter().map(Vec::len).collect::<Vec<_>>(), vec![4, 4]);
        let second = epoch(10, BatchSize::Size(4), true, &mut rng);
        assert_ne!(first, second);
        let again = epoch(
            10,
            BatchSize::Size(4),
            true,
            &mut ChaCha8Rng::seed_from_u64(1),
        );
        assert_eq!(first, again);
    }

    #[test]
    fn parses_batch_sizes() {
        assert_eq!("full".parse(), Ok(BatchSize::Full));
        assert_eq!("32".parse(), Ok(BatchSize::Size(32)));
        assert!("0"
            .parse::<BatchSize>()
            .unwrap_err()
            .contains("'full' or a whole number ≥ 1, got '0'"));
    }
}
