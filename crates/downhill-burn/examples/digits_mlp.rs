//! A small MLP on the bundled digits (1797 8×8 images, 10 classes) trained
//! with burn and downhill's AdamW, a linear warm-up then cosine schedule, and
//! burn's per-parameter gradient-norm clipping; checkpointed half-way with
//! burn's records, resumed, and scored on a held-out test set.
//!
//! `cargo run -p downhill-burn --example digits_mlp`

use burn::grad_clipping::GradientClipping;
use burn::lr_scheduler::{LrScheduler, LrSchedulerRecord};
use burn::module::Module;
use burn::nn::{Linear, LinearConfig};
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::store::ModuleRecord;
use burn::tensor::{activation, Device, Tensor, TensorData};
use downhill::data::{bundled, split, Dataset, Scaler, Scaling};
use downhill_burn::{Downhill, DownhillLrScheduler};
use std::error::Error;

const EPOCHS: usize = 12;
const BATCH: usize = 64;
const LR: f64 = 3e-3;

#[derive(Module, Debug)]
struct Mlp {
    hidden: Linear,
    out: Linear,
}

impl Mlp {
    fn new(device: &Device) -> Self {
        Mlp {
            hidden: LinearConfig::new(64, 64).init(device),
            out: LinearConfig::new(64, 10).init(device),
        }
    }

    fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        self.out.forward(activation::relu(self.hidden.forward(x)))
    }
}

/// Rows `rows` of `data` as (features, one-hot targets).
fn batch(data: &Dataset, rows: &[usize], device: &Device) -> (Tensor<2>, Tensor<2>) {
    let x: Vec<f32> = rows
        .iter()
        .flat_map(|&r| data.features.row(r).to_vec())
        .map(|v| v as f32)
        .collect();
    let mut y = vec![0.0f32; rows.len() * 10];
    for (i, &r) in rows.iter().enumerate() {
        y[i * 10 + data.targets[r] as usize] = 1.0;
    }
    (
        Tensor::from_data(TensorData::new(x, [rows.len(), 64]), device),
        Tensor::from_data(TensorData::new(y, [rows.len(), 10]), device),
    )
}

fn accuracy(model: &Mlp, data: &Dataset, device: &Device) -> f64 {
    let rows: Vec<usize> = (0..data.len()).collect();
    let (x, _) = batch(data, &rows, device);
    let logits = model.forward(x).into_data().try_into_vec::<f32>().unwrap();
    let right = logits
        .chunks(10)
        .zip(&data.targets)
        .filter(|(row, &t)| {
            let best = (0..10).max_by(|&a, &b| row[a].total_cmp(&row[b])).unwrap();
            best == t as usize
        })
        .count();
    right as f64 / data.len() as f64
}

/// Trains epochs `epochs`, mini-batches in a fixed order per epoch.
fn train(
    mut model: Mlp,
    optim: &mut ModuleOptimizer,
    sched: &mut DownhillLrScheduler,
    data: &Dataset,
    epochs: std::ops::Range<usize>,
    device: &Device,
) -> Mlp {
    for epoch in epochs {
        let mut order: Vec<usize> = (0..data.len()).collect();
        order.rotate_left((epoch * 97) % data.len());
        for rows in order.chunks(BATCH) {
            let (x, y) = batch(data, rows, device);
            let logp = activation::log_softmax(model.forward(x), 1);
            let loss = (logp * y).sum_dim(1).mean().neg();
            let grads = GradientsParams::from_grads(loss.backward(), &model);
            model = optim.step(sched.step(), model, grads);
        }
    }
    model
}

fn optimizer() -> Result<ModuleOptimizer, downhill_burn::Error> {
    let adamw = Downhill::from_spec("adamw:weight_decay=0.01")?;
    Ok(ModuleOptimizer::from(adamw).with_grad_clipping(GradientClipping::Norm(1.0)))
}

fn scheduler(steps: usize) -> Result<DownhillLrScheduler, downhill_burn::Error> {
    let warm = steps / 10;
    let spec = format!(
        "sequential:schedulers=[linear:start_factor=0.1,total_iters={warm};cosine:t_max={}],milestones=[{warm}]",
        steps - warm
    );
    DownhillLrScheduler::from_spec(&spec, LR)
}

fn main() -> Result<(), Box<dyn Error>> {
    let device = Device::default().autodiff();
    device.seed(0);
    let digits = bundled("digits").expect("digits is bundled")?;
    let (mut train_set, mut test_set) = split(&digits, 0.2, true, 0);
    let scaler = Scaler::fit(&train_set.features, Scaling::Standard);
    scaler.apply(&mut train_set.features);
    scaler.apply(&mut test_set.features);
    let steps = EPOCHS * train_set.len().div_ceil(BATCH);

    let (mut optim, mut sched) = (optimizer()?, scheduler(steps)?);
    let half = EPOCHS / 2;
    let model = train(
        Mlp::new(&device),
        &mut optim,
        &mut sched,
        &train_set,
        0..half,
        &device,
    );
    println!(
        "epoch {half}: test accuracy {:.4}",
        accuracy(&model, &test_set, &device)
    );

    let dir = std::env::temp_dir().join(format!("downhill-burn-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    model.save_file(dir.join("model.bpk"))?;
    optim.save(dir.join("optim.bpk"))?;
    sched.to_record().save(dir.join("schedule.bpk"))?;
    println!("checkpoint written to {}", dir.display());

    let model = Mlp::new(&device).load_record(ModuleRecord::load(dir.join("model.bpk"))?);
    let mut optim = optimizer()?.load(dir.join("optim.bpk"))?;
    let mut sched = scheduler(steps)?;
    sched.load_record(LrSchedulerRecord::load(dir.join("schedule.bpk"))?);
    std::fs::remove_dir_all(&dir)?;
    let model = train(
        model,
        &mut optim,
        &mut sched,
        &train_set,
        half..EPOCHS,
        &device,
    );
    println!(
        "resumed to epoch {EPOCHS}: test accuracy {:.4} ({} train, {} test)",
        accuracy(&model, &test_set, &device),
        train_set.len(),
        test_set.len()
    );
    Ok(())
}
