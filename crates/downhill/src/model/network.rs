//! Forward and backward passes of a stack of dense layers.
//!
//! Layer `l` computes `A_l = φ(A_{l−1} W_l + b_l)` (φ = identity on the last
//! layer). Backprop with `Δ_L = ∂loss/∂Z_L`: `∂W_l = A_{l−1}ᵀ Δ_l`,
//! `∂b_l = Σ_rows Δ_l`, `Δ_{l−1} = (Δ_l W_lᵀ) ⊙ φ'(A_{l−1})`.
//! Matrix products go through `ndarray::linalg::general_mat_mul` into
//! buffers preallocated for the largest batch.

use super::{Activation, Float, Init, Loss};
use ndarray::linalg::general_mat_mul;
use ndarray::{s, Array2, ArrayView2, ArrayViewMut2, Axis};
use rand::Rng;

/// Dense layers of `widths[0] → widths[1] → … → widths[L]`.
#[derive(Clone, Debug, PartialEq)]
pub struct Network {
    pub widths: Vec<usize>,
    pub activation: Activation,
    pub loss: Loss,
    pub init: Init,
}

/// Mean loss and, for classifiers, the fraction classified correctly.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Evaluation {
    pub loss: f64,
    pub accuracy: Option<f64>,
}

/// Buffers for one batch size: the gathered batch, each layer's outputs and deltas.
#[derive(Clone, Debug)]
pub struct Workspace<T> {
    x: Array2<T>,
    y: Vec<f64>,
    outs: Vec<Array2<T>>,
    deltas: Vec<Array2<T>>,
}

impl<T: Float> Workspace<T> {
    /// Copies the samples `rows` of `(x, y)` into the batch buffers.
    pub fn gather(&mut self, x: &Array2<T>, y: &[f64], rows: &[usize]) {
        for (k, &r) in rows.iter().enumerate() {
            self.x.row_mut(k).assign(&x.row(r));
            self.y[k] = y[r];
        }
    }

    /// The largest batch the buffers hold.
    pub fn capacity(&self) -> usize {
        self.x.nrows()
    }
}

impl Network {
    /// Number of dense layers.
    pub fn depth(&self) -> usize {
        self.widths.len() - 1
    }

    /// Tensor sizes in parameter order: `W_1, b_1, W_2, b_2, …`.
    pub fn tensor_sizes(&self) -> Vec<usize> {
        self.widths
            .windows(2)
            .flat_map(|w| [w[0] * w[1], w[1]])
            .collect()
    }

    /// Tensor shapes in parameter order: `W_l` is `[in, out]` (row-major), `b_l` is `[out]`.
    pub fn tensor_shapes(&self) -> Vec<Vec<usize>> {
        self.widths
            .windows(2)
            .flat_map(|w| [vec![w[0], w[1]], vec![w[1]]])
            .collect()
    }

    pub fn param_len(&self) -> usize {
        self.tensor_sizes().iter().sum()
    }

    /// Offset of `W_l` in the flat vector.
    fn offset(&self, layer: usize) -> usize {
        self.widths
            .windows(2)
            .take(layer)
            .map(|w| w[0] * w[1] + w[1])
            .sum()
    }

    fn weights<'a, T>(&self, params: &'a [T], layer: usize) -> (ArrayView2<'a, T>, &'a [T]) {
        let (i, o) = (self.widths[layer], self.widths[layer + 1]);
        let at = self.offset(layer);
        let w = ArrayView2::from_shape((i, o), &params[at..at + i * o]).expect("layer shape");
        (w, &params[at + i * o..at + i * o + o])
    }

    fn weights_mut<'a, T>(
        &self,
        params: &'a mut [T],
        layer: usize,
    ) -> (ArrayViewMut2<'a, T>, &'a mut [T]) {
        let (i, o) = (self.widths[layer], self.widths[layer + 1]);
        let at = self.offset(layer);
        let (w, b) = params[at..at + i * o + o].split_at_mut(i * o);
        (
            ArrayViewMut2::from_shape((i, o), w).expect("layer shape"),
            b,
        )
    }

    /// Draws initial parameters (see [`Init`]).
    pub fn init<T: Float>(&self, params: &mut [T], rng: &mut impl Rng) {
        for layer in 0..self.depth() {
            let (fan_in, fan_out) = (self.widths[layer] as f64, self.widths[layer + 1] as f64);
            let (w_bound, b_bound) = match self.init {
                Init::He => ((6.0 / fan_in).sqrt(), 0.0),
                Init::Xavier => ((6.0 / (fan_in + fan_out)).sqrt(), 0.0),
                Init::Torch => (1.0 / fan_in.sqrt(), 1.0 / fan_in.sqrt()),
                Init::Zeros => (0.0, 0.0),
            };
            let (mut w, b) = self.weights_mut(params, layer);
            w.iter_mut()
                .for_each(|v| *v = T::of(w_bound * (2.0 * rng.random::<f64>() - 1.0)));
            b.iter_mut()
                .for_each(|v| *v = T::of(b_bound * (2.0 * rng.random::<f64>() - 1.0)));
        }
    }

    /// Buffers for batches of up to `batch` samples.
    pub fn workspace<T: Float>(&self, batch: usize) -> Workspace<T> {
        let layers = || {
            self.widths[1..]
                .iter()
                .map(|&w| Array2::zeros((batch, w)))
                .collect::<Vec<_>>()
        };
        Workspace {
            x: Array2::zeros((batch, self.widths[0])),
            y: vec![0.0; batch],
            outs: layers(),
            deltas: layers(),
        }
    }

    fn forward<T: Float>(&self, params: &[T], input: ArrayView2<T>, outs: &mut [Array2<T>]) {
        let rows = input.nrows();
        for layer in 0..self.depth() {
            let (w, b) = self.weights(params, layer);
            let (before, after) = outs.split_at_mut(layer);
            let mut out = after[0].slice_mut(s![..rows, ..]);
            let inp = if layer == 0 {
                input.view()
            } else {
                before[layer - 1].slice(s![..rows, ..])
            };
            general_mat_mul(T::one(), &inp, &w, T::zero(), &mut out);
            let hidden = layer + 1 < self.depth();
            for mut row in out.rows_mut() {
                for (v, &bias) in row.iter_mut().zip(b) {
                    let z = *v + bias;
                    *v = if hidden {
                        activate(self.activation, z)
                    } else {
                        z
                    };
                }
            }
        }
    }

    /// Loss summed over rows and the number classified correctly; writes
    /// `scale · ∂loss_i/∂z` into `delta` when given.
    fn head<T: Float>(
        &self,
        out: ArrayView2<T>,
        y: &[f64],
        mut delta: Option<(ArrayViewMut2<T>, T)>,
    ) -> (f64, usize) {
        let mut total = 0.0;
        let mut correct = 0;
        for (i, z) in out.rows().into_iter().enumerate() {
            match self.loss {
                Loss::CrossEntropy => {
                    let label = y[i] as usize;
                    let (mut best, mut max) = (0, z[0]);
                    for (j, &v) in z.iter().enumerate() {
                        if v > max {
                            (best, max) = (j, v);
                        }
                    }
                    correct += usize::from(best == label);
                    let sum = match delta.as_mut() {
                        // Training: keep e^(z − max) in the delta row, then normalise it in place.
                        Some((d, scale)) => {
                            let mut row = d.row_mut(i);
                            let mut sum = T::zero();
                            for (dv, &v) in row.iter_mut().zip(z) {
                                *dv = (v - max).exp();
                                sum = sum + *dv;
                            }
                            let factor = *scale / sum;
                            row.iter_mut().for_each(|dv| *dv = *dv * factor);
                            row[label] = row[label] - *scale;
                            sum
                        }
                        None => z.iter().fold(T::zero(), |acc, &v| acc + (v - max).exp()),
                    };
                    total += (max + sum.ln() - z[label]).widen();
                }
                Loss::Mse => {
                    let err = z[0] - T::of(y[i]);
                    total += (err * err).widen();
                    if let Some((d, scale)) = delta.as_mut() {
                        d[[i, 0]] = T::of(2.0) * err * *scale;
                    }
                }
            }
        }
        (total, correct)
    }

    /// The mean loss over the batch gathered in `ws` (its first `rows` samples)
    /// and its exact gradient, written into `grads`.
    pub fn gradient<T: Float>(
        &self,
        params: &[T],
        ws: &mut Workspace<T>,
        rows: usize,
        grads: &mut [T],
    ) -> f64 {
        let last = self.depth() - 1;
        let input = ws.x.slice(s![..rows, ..]);
        self.forward(params, input, &mut ws.outs);
        let scale = T::one() / T::of(rows as f64);
        let delta = ws.deltas[last].slice_mut(s![..rows, ..]);
        let (total, _) = self.head(
            ws.outs[last].slice(s![..rows, ..]),
            &ws.y[..rows],
            Some((delta, scale)),
        );
        for layer in (0..=last).rev() {
            let (below, here) = ws.deltas.split_at_mut(layer);
            let d = here[0].slice(s![..rows, ..]);
            let inp = if layer == 0 {
                ws.x.slice(s![..rows, ..])
            } else {
                ws.outs[layer - 1].slice(s![..rows, ..])
            };
            let (mut gw, gb) = self.weights_mut(grads, layer);
            general_mat_mul(T::one(), &inp.t(), &d, T::zero(), &mut gw);
            gb.iter_mut().for_each(|g| *g = T::zero());
            for row in d.rows() {
                for (g, &v) in gb.iter_mut().zip(row) {
                    *g = *g + v;
                }
            }
            if layer > 0 {
                let (w, _) = self.weights(params, layer);
                let mut prev = below[layer - 1].slice_mut(s![..rows, ..]);
                general_mat_mul(T::one(), &d, &w.t(), T::zero(), &mut prev);
                prev.zip_mut_with(&inp, |dv, &a| *dv = *dv * derivative(self.activation, a));
            }
        }
        total / rows as f64
    }

    /// Mean loss (and accuracy for classifiers) over a whole set, in chunks of
    /// the workspace's capacity.
    pub fn evaluate<T: Float>(
        &self,
        params: &[T],
        x: &Array2<T>,
        y: &[f64],
        ws: &mut Workspace<T>,
    ) -> Evaluation {
        let last = self.depth() - 1;
        let (mut total, mut correct) = (0.0, 0);
        let step = ws.capacity().max(1);
        for (k, chunk) in x.axis_chunks_iter(Axis(0), step).enumerate() {
            let rows = chunk.nrows();
            self.forward(params, chunk, &mut ws.outs);
            let (t, c) = self.head(
                ws.outs[last].slice(s![..rows, ..]),
                &y[k * step..k * step + rows],
                None,
            );
            total += t;
            correct += c;
        }
        let n = y.len().max(1) as f64;
        let accuracy = (self.loss == Loss::CrossEntropy).then(|| correct as f64 / n);
        Evaluation {
            loss: total / n,
            accuracy,
        }
    }
}

fn activate<T: Float>(f: Activation, z: T) -> T {
    match f {
        Activation::Relu => z.max(T::zero()),
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => T::one() / (T::one() + (-z).exp()),
    }
}

/// φ'(z) written in terms of a = φ(z).
fn derivative<T: Float>(f: Activation, a: T) -> T {
    match f {
        Activation::Relu => {
            if a > T::zero() {
                T::one()
            } else {
                T::zero()
            }
        }
        Activation::Tanh => T::one() - a * a,
        Activation::Sigmoid => a * (T::one() - a),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Task;
    use crate::model::ModelSpec;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    /// Compares backprop with central differences (h = 1e-6) on random data.
    fn check(spec: &str, task: Task, init: Init) {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (n, d) = (7, 5);
        let mut net = ModelSpec::parse(spec).unwrap().build(d, task).unwrap();
        net.init = init;
        let x = Array2::from_shape_fn((n, d), |_| rng.random::<f64>() * 2.0 - 1.0);
        let y: Vec<f64> = match task {
            Task::Classification { classes } => (0..n).map(|i| (i % classes) as f64).collect(),
            Task::Regression => (0..n).map(|_| rng.random::<f64>() * 4.0 - 2.0).collect(),
        };
        let mut params = vec![0.0; net.param_len()];
        net.init(&mut params, &mut rng);
        let mut ws = net.workspace::<f64>(n);
        ws.gather(&x, &y, &(0..n).collect::<Vec<_>>());
        let mut grads = vec![0.0; params.len()];
        let loss = net.gradient(&params, &mut ws, n, &mut grads);
        assert!((loss - net.evaluate(&params, &x, &y, &mut ws).loss).abs() < 1e-14);
        let h = 1e-6;
        let mut scratch = vec![0.0; params.len()];
        for i in 0..params.len() {
            let mut at = |delta: f64| {
                let mut p = params.clone();
                p[i] += delta;
                net.gradient(&p, &mut ws, n, &mut scratch)
            };
            let numeric = (at(h) - at(-h)) / (2.0 * h);
            let err = (numeric - grads[i]).abs();
            assert!(
                err < 1e-8 * (1.0 + grads[i].abs()),
                "{spec} param {i}: backprop {} vs numeric {numeric}",
                grads[i]
            );
        }
    }

    #[test]
    fn gradients_match_finite_differences() {
        let classes = Task::Classification { classes: 3 };
        check("linear", Task::Regression, Init::Torch);
        check("softmax", classes, Init::Torch);
        check("mlp:hidden=[6,4],activation=tanh", classes, Init::Xavier);
        check(
            "mlp:hidden=[6],activation=sigmoid",
            Task::Regression,
            Init::Torch,
        );
        check("mlp:hidden=[8,6],activation=relu", classes, Init::He);
    }

    #[test]
    fn batch_rows_and_chunked_evaluation_agree() {
        let net = ModelSpec::parse("mlp:hidden=[4]")
            .unwrap()
            .build(3, Task::Classification { classes: 2 })
            .unwrap();
        let mut params = vec![0.0f32; net.param_len()];
        net.init(&mut params, &mut ChaCha8Rng::seed_from_u64(1));
        let x = Array2::from_shape_fn((5, 3), |(i, j)| (i * 3 + j) as f32 / 7.0 - 1.0);
        let y = [0.0, 1.0, 1.0, 0.0, 1.0];
        let whole = net.evaluate(&params, &x, &y, &mut net.workspace(5));
        let chunked = net.evaluate(&params, &x, &y, &mut net.workspace(2));
        assert!((whole.loss - chunked.loss).abs() < 1e-6);
        assert_eq!(whole.accuracy, chunked.accuracy);
    }
}
