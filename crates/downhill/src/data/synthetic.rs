//! Seeded synthetic datasets, specs like `moons:n=500,noise=0.2`.
//!
//! Each generator draws from its own ChaCha8 stream seeded by its `seed` key,
//! so the same spec gives the same data on every machine.

use super::{DataError, Dataset, Task};
use crate::hyper::Check;
use crate::spec::{ConfigError, Spec};
use ndarray::Array2;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::StandardNormal;
use std::f64::consts::PI;

/// The generator names.
pub const GENERATORS: &[&str] = &["linear", "blobs", "moons", "spirals"];

downhill_optim::hyperparams! {
    /// Keys of the synthetic generators (each generator accepts the keys it uses).
    pub struct SynthConfig {
        /// Number of samples.
        n: u64 = 200, Check::Range { lo: 1.0, lo_open: false, hi: 10_000_000.0, hi_open: false };
        /// Standard deviation of the Gaussian noise (moons, spirals, linear).
        noise: f64 = 0.1, Check::NON_NEGATIVE;
        /// Number of features (linear, blobs).
        features: u64 = 2, Check::Range { lo: 1.0, lo_open: false, hi: 10_000.0, hi_open: false };
        /// Number of classes (blobs, spirals).
        classes: u64 = 3, Check::Range { lo: 2.0, lo_open: false, hi: 1000.0, hi_open: false };
        /// Standard deviation of each blob.
        std: f64 = 1.0, Check::NON_NEGATIVE;
        /// Seed of the generator's random stream.
        seed: u64 = 0, Check::NON_NEGATIVE;
    }
}

fn keys_of(name: &str) -> &'static [&'static str] {
    match name {
        "linear" => &["n", "features", "noise", "seed"],
        "blobs" => &["n", "features", "classes", "std", "seed"],
        "moons" => &["n", "noise", "seed"],
        _ => &["n", "classes", "noise", "seed"],
    }
}

/// Builds the dataset a generator spec describes.
pub fn generate(text: &str) -> Result<Dataset, DataError> {
    let spec = Spec::parse(text)?;
    if !GENERATORS.contains(&spec.name.as_str()) {
        return Err(ConfigError::unknown_name("generator", &spec.name, GENERATORS).into());
    }
    let mut c = SynthConfig::default();
    spec.apply(&mut c, Some(keys_of(&spec.name)))?;
    let mut rng = ChaCha8Rng::seed_from_u64(c.seed);
    let n = c.n as usize;
    let mut gauss = |s: f64| s * rng.sample::<f64, _>(StandardNormal);
    let (features, targets, task) = match spec.name.as_str() {
        "linear" => linear(n, c.features as usize, c.noise, &mut gauss),
        "blobs" => blobs(
            n,
            c.features as usize,
            c.classes as usize,
            c.std,
            &mut gauss,
        ),
        "moons" => moons(n, c.noise, &mut gauss),
        _ => spirals(n, c.classes as usize, c.noise, &mut gauss),
    };
    Dataset::new(text, features, targets, task)
}

type Generated = (Array2<f64>, Vec<f64>, Task);

/// `y = w·x + b + ε`, `x ~ N(0, I)`, weights `w_j = j + 1` and `b = 0.5`.
fn linear(n: usize, d: usize, noise: f64, gauss: &mut impl FnMut(f64) -> f64) -> Generated {
    let x = Array2::from_shape_simple_fn((n, d), || gauss(1.0));
    let y = x
        .rows()
        .into_iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(j, v)| (j + 1) as f64 * v)
                .sum::<f64>()
                + 0.5
                + gauss(noise)
        })
        .collect();
    (x, y, Task::Regression)
}

/// Gaussian blobs around centres drawn from `N(0, 5²)` (one per class), samples assigned round-robin.
fn blobs(n: usize, d: usize, k: usize, std: f64, gauss: &mut impl FnMut(f64) -> f64) -> Generated {
    let centres = Array2::from_shape_simple_fn((k, d), || gauss(5.0));
    let y: Vec<f64> = (0..n).map(|i| (i % k) as f64).collect();
    let x = Array2::from_shape_fn((n, d), |(i, j)| centres[[i % k, j]]).mapv(|v| v + gauss(std));
    (x, y, Task::Classification { classes: k })
}

/// scikit-learn's two moons: upper half circle `(cos t, sin t)` and lower
/// `(1 − cos t, 1 − sin t − ½)`, `t ∈ [0, π]` evenly, plus `N(0, noise²)`.
fn moons(n: usize, noise: f64, gauss: &mut impl FnMut(f64) -> f64) -> Generated {
    let outer = n / 2;
    let inner = n - outer;
    let at = |i: usize, m: usize| {
        if m > 1 {
            PI * i as f64 / (m - 1) as f64
        } else {
            0.0
        }
    };
    let mut x = Array2::zeros((n, 2));
    let mut y = vec![0.0; n];
    for i in 0..n {
        let (px, py, label) = if i < outer {
            let t = at(i, outer);
            (t.cos(), t.sin(), 0.0)
        } else {
            let t = at(i - outer, inner);
            (1.0 - t.cos(), 1.0 - t.sin() - 0.5, 1.0)
        };
        x[[i, 0]] = px + gauss(noise);
        x[[i, 1]] = py + gauss(noise);
        y[i] = label;
    }
    (x, y, Task::Classification { classes: 2 })
}

/// Interleaved spiral arms (CS231n): arm `c` has radius `r ∈ [0, 1]` and
/// angle `4c + 4r + N(0, noise²)` radians, point `(r sin θ, r cos θ)`.
fn spirals(n: usize, k: usize, noise: f64, gauss: &mut impl FnMut(f64) -> f64) -> Generated {
    let mut x = Array2::zeros((n, 2));
    let mut y = vec![0.0; n];
    let per = n.div_ceil(k);
    for i in 0..n {
        let (c, j) = (i / per, i % per);
        let r = if per > 1 {
            j as f64 / (per - 1) as f64
        } else {
            0.0
        };
        let theta = 4.0 * c as f64 + 4.0 * r + gauss(noise);
        x[[i, 0]] = r * theta.sin();
        x[[i, 1]] = r * theta.cos();
        y[i] = c as f64;
    }
    (x, y, Task::Classification { classes: k })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_seeded_and_shaped() {
        for spec in [
            "linear:n=50,features=3",
            "blobs:n=60,classes=4",
            "moons:n=41",
            "spirals:n=90,classes=3",
        ] {
            let a = generate(spec).unwrap();
            assert_eq!(a, generate(spec).unwrap(), "{spec}");
            assert_eq!(
                a.len(),
                spec.split("n=")
                    .nth(1)
                    .unwrap()
                    .split(',')
                    .next()
                    .unwrap()
                    .parse::<usize>()
                    .unwrap()
            );
        }
        assert_ne!(
            generate("moons:seed=1").unwrap(),
            generate("moons:seed=2").unwrap()
        );
        let blobs = generate("blobs:n=60,classes=4,features=5").unwrap();
        assert_eq!(
            (blobs.dim(), blobs.task),
            (5, Task::Classification { classes: 4 })
        );
        let moons = generate("moons:n=4,noise=0").unwrap();
        assert_eq!(moons.features.row(0).to_vec(), vec![1.0, 0.0]);
        assert_eq!(moons.targets, vec![0.0, 0.0, 1.0, 1.0]);
    }

    #[test]
    fn bad_specs_are_errors() {
        let e = generate("moons:classes=3").unwrap_err().to_string();
        assert!(
            e.starts_with("moons: unknown key 'classes'; valid keys: n, noise, seed"),
            "{e}"
        );
        let e = generate("blobs:std=-1").unwrap_err().to_string();
        assert!(e.contains("std must be in [0, inf), got -1"), "{e}");
    }
}
