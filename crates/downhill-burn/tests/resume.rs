//! Save → load → continue through burn's records gives bit-identical
//! parameters; the schedule adapter gives downhill's lr sequence.

mod common;

use burn::lr_scheduler::LrScheduler;
use burn::module::Module;
use burn::optim::ModuleOptimizer;
use burn::store::ModuleRecord;
use common::Mlp;
use downhill_burn::{Downhill, DownhillLrScheduler, Error};

const SPEC: &str = "adamw:lr=0.01,weight_decay=0.1";
const SCHEDULE: &str =
    "sequential:schedulers=[linear:start_factor=0.1,total_iters=2;cosine:t_max=6],milestones=[2]";

fn optimizer() -> ModuleOptimizer {
    ModuleOptimizer::from(Downhill::from_spec(SPEC).unwrap())
}

fn scheduler() -> DownhillLrScheduler {
    DownhillLrScheduler::from_spec(SCHEDULE, 0.01).unwrap()
}

fn train(
    mut model: Mlp,
    optim: &mut ModuleOptimizer,
    sched: &mut DownhillLrScheduler,
    steps: std::ops::Range<usize>,
) -> Mlp {
    for k in steps {
        let grads = model.grads(k);
        model = optim.step(sched.step(), model, grads);
    }
    model
}

#[test]
fn resume_from_burn_records_is_bit_identical() {
    let start = Mlp::new(true);
    let (mut optim, mut sched) = (optimizer(), scheduler());
    let straight = train(start.clone(), &mut optim, &mut sched, 0..8);

    let dir = tempfile::tempdir().unwrap();
    let (model_file, optim_file) = (dir.path().join("model.bpk"), dir.path().join("optim.bpk"));
    let (mut optim, mut sched) = (optimizer(), scheduler());
    let half = train(start, &mut optim, &mut sched, 0..4);
    half.clone().save_file(&model_file).unwrap();
    optim.save(&optim_file).unwrap();
    let sched_record = sched.to_record();
    drop((half, optim, sched));

    let model = Mlp::new(true).load_record(ModuleRecord::load(&model_file).unwrap());
    let mut optim = optimizer().load(&optim_file).unwrap();
    let mut sched = scheduler();
    sched.load_record(sched_record);
    let resumed = train(model, &mut optim, &mut sched, 4..8);
    assert_eq!(resumed.params(), straight.params());

    // The saved moments matter: continuing with a fresh optimizer differs.
    let model = Mlp::new(true).load_record(ModuleRecord::load(&model_file).unwrap());
    let mut sched = scheduler();
    sched.load_record(sched.to_record().with_scalar("step", 4u64));
    let fresh = train(model, &mut optimizer(), &mut sched, 4..8);
    assert_ne!(fresh.params(), straight.params());
}

#[test]
fn the_scheduler_gives_downhills_lr_sequence() {
    let mut sched = scheduler();
    let burn: Vec<f64> = (0..12).map(|_| sched.step()).collect();
    let schedule = downhill_schedule::build(SCHEDULE).unwrap();
    let want = downhill_schedule::lrs(&schedule, 0.01, 12).unwrap();
    assert_eq!(burn, want.lr);
    assert!(burn[0] < burn[1] && burn[2] > burn[8], "{burn:?}");
}

#[test]
fn plateau_is_refused() {
    let err = DownhillLrScheduler::from_spec("plateau", 0.1).unwrap_err();
    assert!(matches!(err, Error::Plateau), "{err}");
}
