//! What the GPU test and the host test of the kernels share: the specs that
//! cover every rule's flags, and deterministic data.
#![allow(dead_code)]

use downhill_cuda::CudaScalar;

/// Specs covering every kernel flag (maximize, decay modes, momentum,
/// Nesterov, centered, AMSGrad, rectification, averaging…).
pub const SPECS: &[&str] = &[
    "gd:lr=0.1",
    "sgd:lr=0.01,momentum=0.9",
    "sgd:lr=0.01,momentum=0.9,dampening=0.1,weight_decay=0.01,maximize=true",
    "sgd:lr=0.01,momentum=0.9,nesterov=true,weight_decay=0.1",
    "adagrad",
    "adagrad:lr=0.1,lr_decay=0.01,weight_decay=0.1,initial_accumulator_value=0.1,maximize=true",
    "rmsprop",
    "rmsprop:centered=true",
    "rmsprop:momentum=0.5,weight_decay=0.1",
    "rmsprop:centered=true,momentum=0.5,weight_decay=0.1,alpha=0.3,maximize=true",
    "adadelta",
    "adadelta:lr=0.5,rho=0.3,weight_decay=0.1,maximize=true",
    "adam",
    "adam:amsgrad=true,weight_decay=0.1",
    "adam:beta1=0.3,maximize=true,amsgrad=true",
    "adamw",
    "adamw:beta1=0.6,amsgrad=true,lr=0.01",
    "nadam",
    "nadam:decoupled_weight_decay=true,weight_decay=0.1",
    "nadam:weight_decay=0.1,beta1=0.4,maximize=true",
    "radam",
    "radam:beta2=0.9,weight_decay=0.1",
    "radam:beta2=0.9,decoupled_weight_decay=true,weight_decay=0.1,beta1=0.2",
    "adamax",
    "adamax:weight_decay=0.1,beta1=0.3,maximize=true",
    "rprop",
    "rprop:maximize=true,eta_minus=0.3,eta_plus=1.5,step_min=0.001,step_max=0.2",
    "asgd",
    "asgd:t0=2,weight_decay=0.1,lambd=0.01",
    "asgd:t0=0,maximize=true",
];

/// A deterministic value in about [-1.5, 1.5] with some exact zeros.
pub fn value(seed: u64, i: usize) -> f64 {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(i as u64)
        .wrapping_mul(2862933555777620809);
    x ^= x >> 29;
    x = x.wrapping_mul(0x9E3779B97F4A7C15);
    x ^= x >> 32;
    if x.is_multiple_of(17) {
        return 0.0;
    }
    (x % 1_000_003) as f64 / 333_334.0 - 1.5
}

pub fn tensors<T: CudaScalar>(sizes: &[usize], seed: u64) -> Vec<Vec<T>> {
    let mut k = 0;
    sizes
        .iter()
        .map(|&n| {
            (0..n)
                .map(|_| {
                    k += 1;
                    T::of(value(seed, k))
                })
                .collect()
        })
        .collect()
}

pub fn bits<T: CudaScalar>(v: &[T]) -> Vec<u64> {
    v.iter().map(|x| x.widen().to_bits()).collect()
}
