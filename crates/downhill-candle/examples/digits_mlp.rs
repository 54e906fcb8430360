//! A small MLP on the bundled digits (1797 8×8 images, 10 classes), trained
//! with candle and downhill's AdamW: linear warm-up then cosine, global-norm
//! clipping, biases without weight decay; checkpointed half-way (model and
//! optimizer as safetensors), resumed from the files, test accuracy printed.
//!
//! `cargo run -p downhill-candle --example digits_mlp`

use candle_core::{DType, Device, Module, Result, Tensor, D};
use candle_nn::{linear, loss, Linear, Optimizer as _, VarBuilder, VarMap};
use downhill::data::{bundled, split, Dataset};

const STEPS: usize = 200;
const WARMUP: usize = 10;

struct Mlp {
    fc1: Linear,
    fc2: Linear,
}

impl Mlp {
    fn new(vb: VarBuilder) -> Result<Self> {
        Ok(Mlp {
            fc1: linear(64, 64, vb.pp("fc1"))?,
            fc2: linear(64, 10, vb.pp("fc2"))?,
        })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        self.fc2.forward(&self.fc1.forward(x)?.relu()?)
    }
}

/// Features scaled to [0, 1] and labels, as tensors.
fn tensors(data: &Dataset) -> Result<(Tensor, Tensor)> {
    let x: Vec<f32> = data.features.iter().map(|&v| (v / 16.0) as f32).collect();
    let y: Vec<u32> = data.targets.iter().map(|&t| t as u32).collect();
    Ok((
        Tensor::from_vec(x, (data.len(), 64), &Device::Cpu)?,
        Tensor::new(y, &Device::Cpu)?,
    ))
}

/// The model and its optimizer: AdamW, warm-up then cosine, clipping at norm 1.
fn setup() -> Result<(VarMap, Mlp, downhill_candle::Optimizer)> {
    let varmap = VarMap::new();
    let model = Mlp::new(VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu))?;
    let schedule = format!(
        "sequential:schedulers=[linear:start_factor=0.1,total_iters={WARMUP};cosine:t_max={}],milestones=[{WARMUP}]",
        STEPS - WARMUP
    );
    let opt = downhill_candle::Builder::new(&varmap, "adamw:lr=0.01,weight_decay=0.01")?
        .group("*.bias", "weight_decay=0")?
        .schedule(
            downhill_schedule::build(&schedule)
                .map_err(|e| candle_core::Error::Msg(e.to_string()))?,
        )
        .clip_global_norm(1.0)
        .build()?;
    Ok((varmap, model, opt))
}

fn train(
    model: &Mlp,
    opt: &mut downhill_candle::Optimizer,
    x: &Tensor,
    y: &Tensor,
    steps: usize,
) -> Result<f32> {
    let mut last = f32::NAN;
    for _ in 0..steps {
        let loss = loss::cross_entropy(&model.forward(x)?, y)?;
        opt.backward_step(&loss)?;
        last = loss.to_scalar()?;
    }
    Ok(last)
}

fn accuracy(model: &Mlp, x: &Tensor, y: &Tensor) -> Result<f32> {
    let hits = model
        .forward(x)?
        .argmax(D::Minus1)?
        .eq(y)?
        .to_dtype(DType::F32)?;
    hits.mean_all()?.to_scalar()
}

fn main() -> Result<()> {
    let data = bundled("digits")
        .expect("digits is bundled")
        .map_err(|e| candle_core::Error::Msg(e.to_string()))?;
    let (train_set, test_set) = split(&data, 0.2, true, 0);
    let (x, y) = tensors(&train_set)?;
    let (tx, ty) = tensors(&test_set)?;
    let dir = std::env::temp_dir().join(format!("downhill-candle-digits-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let (model_file, opt_file) = (
        dir.join("model.safetensors"),
        dir.join("optimizer.safetensors"),
    );

    let (varmap, model, mut opt) = setup()?;
    let loss = train(&model, &mut opt, &x, &y, STEPS / 2)?;
    varmap.save(&model_file)?;
    opt.save(&opt_file)?;
    println!(
        "step {}: loss {loss:.4}, checkpoint written",
        opt.steps_taken()
    );

    // Resume in a fresh model and optimizer from the two files.
    let (mut varmap, model, mut opt) = setup()?;
    varmap.load(&model_file)?;
    opt.load(&opt_file)?;
    let loss = train(&model, &mut opt, &x, &y, STEPS / 2)?;
    println!(
        "step {}: loss {loss:.4}, lr {:.2e}",
        opt.steps_taken(),
        opt.lr(0)
    );
    println!("test accuracy {:.4}", accuracy(&model, &tx, &ty)?);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
