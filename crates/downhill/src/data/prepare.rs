//! Seeded train/test splits and feature scaling fitted on the training set.

use super::{Dataset, Task};
use ndarray::{Array2, Axis};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Splits into (train, test) with `round(test_fraction · n)` test samples,
/// chosen by a ChaCha8 stream seeded with `seed`. Stratified splits take
/// `round(test_fraction · n_c)` from each class `c` instead. Both parts keep
/// the original sample order.
pub fn split(data: &Dataset, test_fraction: f64, stratify: bool, seed: u64) -> (Dataset, Dataset) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut test = Vec::new();
    let pools: Vec<Vec<usize>> = match (stratify, data.task) {
        (true, Task::Classification { classes }) => {
            let mut pools = vec![Vec::new(); classes];
            for (i, &t) in data.targets.iter().enumerate() {
                pools[t as usize].push(i);
            }
            pools
        }
        _ => vec![(0..data.len()).collect()],
    };
    for mut pool in pools {
        pool.shuffle(&mut rng);
        let take = (test_fraction * pool.len() as f64).round() as usize;
        test.extend_from_slice(&pool[..take.min(pool.len())]);
    }
    test.sort_unstable();
    let mut in_test = vec![false; data.len()];
    for &i in &test {
        in_test[i] = true;
    }
    let train: Vec<usize> = (0..data.len()).filter(|&i| !in_test[i]).collect();
    (data.subset(&train), data.subset(&test))
}

/// How features are rescaled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scaling {
    /// `(x − mean) / std` per feature (population std).
    Standard,
    /// `(x − min) / (max − min)` per feature, onto `[0, 1]`.
    MinMax,
    None,
}

/// A per-feature affine map `x ↦ (x − offset) / scale`, fitted on one set
/// (the training set) and applied to others. Constant features get scale 1.
#[derive(Clone, Debug, PartialEq)]
pub struct Scaler {
    pub offset: Vec<f64>,
    pub scale: Vec<f64>,
}

impl Scaler {
    pub fn fit(features: &Array2<f64>, scaling: Scaling) -> Scaler {
        let d = features.ncols();
        let (offset, scale) = match scaling {
            Scaling::None => (vec![0.0; d], vec![1.0; d]),
            Scaling::Standard => {
                let mean = features.mean_axis(Axis(0)).expect("a dataset has samples");
                let std = features.std_axis(Axis(0), 0.0);
                (mean.to_vec(), std.to_vec())
            }
            Scaling::MinMax => {
                let lo = features.fold_axis(Axis(0), f64::INFINITY, |a, &b| a.min(b));
                let hi = features.fold_axis(Axis(0), f64::NEG_INFINITY, |a, &b| a.max(b));
                (lo.to_vec(), (&hi - &lo).to_vec())
            }
        };
        let scale = scale
            .into_iter()
            .map(|s| if s > 0.0 { s } else { 1.0 })
            .collect();
        Scaler { offset, scale }
    }

    pub fn apply(&self, features: &mut Array2<f64>) {
        for mut row in features.rows_mut() {
            for ((v, o), s) in row.iter_mut().zip(&self.offset).zip(&self.scale) {
                *v = (*v - o) / s;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    fn labelled(targets: Vec<f64>) -> Dataset {
        let n = targets.len();
        let x = Array2::from_shape_fn((n, 1), |(i, _)| i as f64);
        let classes = Task::infer(&targets);
        Dataset::new("t", x, targets, classes).unwrap()
    }

    #[test]
    fn split_is_seeded_disjoint_and_stratified() {
        let data = labelled((0..100).map(|i| if i < 80 { 0.0 } else { 1.0 }).collect());
        let (train, test) = split(&data, 0.25, true, 7);
        assert_eq!((train.len(), test.len()), (75, 25));
        assert_eq!(test.targets.iter().filter(|&&t| t == 1.0).count(), 5);
        let mut all: Vec<f64> = train
            .features
            .iter()
            .chain(test.features.iter())
            .copied()
            .collect();
        all.sort_by(f64::total_cmp);
        assert_eq!(all, (0..100).map(f64::from).collect::<Vec<_>>());
        assert_eq!(split(&data, 0.25, true, 7), (train, test.clone()));
        assert_ne!(split(&data, 0.25, true, 8).1, test);
        assert_eq!(split(&data, 0.0, false, 0).1.len(), 0);
    }

    #[test]
    fn scalers_fit_on_one_set_and_apply_to_another() {
        let train = array![[1.0, 5.0], [3.0, 5.0]];
        let s = Scaler::fit(&train, Scaling::Standard);
        assert_eq!(
            (s.offset.clone(), s.scale.clone()),
            (vec![2.0, 5.0], vec![1.0, 1.0])
        );
        let mut test = array![[4.0, 6.0]];
        s.apply(&mut test);
        assert_eq!(test, array![[2.0, 1.0]]);
        let m = Scaler::fit(&array![[0.0], [16.0]], Scaling::MinMax);
        let mut x = array![[4.0]];
        m.apply(&mut x);
        assert_eq!(x, array![[0.25]]);
    }
}
