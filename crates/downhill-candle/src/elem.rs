//! Element types the optimizer steps in: f32 (for f32, bf16 and f16
//! variables) and f64 (for f64 variables), read from and written to candle's
//! CPU storage (in place) or host tensors (staged).

use candle_core::{CpuStorage, Layout, Result, WithDType};
use downhill_optim::Scalar;
use half::{bf16, f16};

/// The contiguous element range a layout covers, or an error naming the variable.
pub(crate) fn range(layout: &Layout, name: &str) -> Result<std::ops::Range<usize>> {
    layout
        .contiguous_offsets()
        .map(|(start, end)| start..end)
        .ok_or_else(|| {
            candle_core::Error::Msg(format!(
                "variable '{name}' is not contiguous in memory; downhill steps contiguous CPU tensors only"
            ))
        })
}

/// A scalar type the optimizer keeps state in, with its view of candle storage.
pub(crate) trait Elem: Scalar + WithDType {
    /// The storage's values when it holds this type natively.
    fn native(storage: &CpuStorage) -> Option<&Vec<Self>>;
    /// The storage's values, mutably, when it holds this type natively.
    fn native_mut(storage: &mut CpuStorage) -> Option<&mut Vec<Self>>;
    /// Widens half-precision values into `out`; false when the storage holds another type.
    fn widen_from(storage: &CpuStorage, range: std::ops::Range<usize>, out: &mut [Self]) -> bool;
    /// Rounds `values` to nearest (ties to even) into half-precision storage.
    fn narrow_into(values: &[Self], storage: &mut CpuStorage, range: std::ops::Range<usize>);
}

impl Elem for f32 {
    fn native(storage: &CpuStorage) -> Option<&Vec<f32>> {
        match storage {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn native_mut(storage: &mut CpuStorage) -> Option<&mut Vec<f32>> {
        match storage {
            CpuStorage::F32(v) => Some(v),
            _ => None,
        }
    }
    fn widen_from(storage: &CpuStorage, range: std::ops::Range<usize>, out: &mut [f32]) -> bool {
        match storage {
            CpuStorage::BF16(v) => out
                .iter_mut()
                .zip(&v[range])
                .for_each(|(o, x)| *o = x.to_f32()),
            CpuStorage::F16(v) => out
                .iter_mut()
                .zip(&v[range])
                .for_each(|(o, x)| *o = x.to_f32()),
            _ => return false,
        }
        true
    }
    fn narrow_into(values: &[f32], storage: &mut CpuStorage, range: std::ops::Range<usize>) {
        match storage {
            CpuStorage::BF16(v) => v[range]
                .iter_mut()
                .zip(values)
                .for_each(|(o, &x)| *o = bf16::from_f32(x)),
            CpuStorage::F16(v) => v[range]
                .iter_mut()
                .zip(values)
                .for_each(|(o, &x)| *o = f16::from_f32(x)),
            _ => {}
        }
    }
}

impl Elem for f64 {
    fn native(storage: &CpuStorage) -> Option<&Vec<f64>> {
        match storage {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn native_mut(storage: &mut CpuStorage) -> Option<&mut Vec<f64>> {
        match storage {
            CpuStorage::F64(v) => Some(v),
            _ => None,
        }
    }
    fn widen_from(_: &CpuStorage, _: std::ops::Range<usize>, _: &mut [f64]) -> bool {
        false
    }
    fn narrow_into(_: &[f64], _: &mut CpuStorage, _: std::ops::Range<usize>) {}
}
