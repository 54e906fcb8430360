//! ndarray parameters: contiguous arrays of any dimension are stepped in
//! place exactly as the slice path; non-contiguous views are refused and
//! left unchanged.
#![cfg(feature = "ndarray")]

use downhill_optim::{build, Optimizer, ParamGroup, StepError};
use ndarray::{s, Array, Array2, ArrayD, IxDyn};

fn ramp(shape: &[usize], scale: f64) -> ArrayD<f64> {
    let n: usize = shape.iter().product();
    Array::from_shape_vec(
        IxDyn(shape),
        (0..n).map(|i| ((i as f64) * 0.37 + scale).sin()).collect(),
    )
    .unwrap()
}

fn optimizer(spec: &str, shapes: &[&[usize]]) -> Optimizer<f64> {
    let group = ParamGroup::shaped(shapes.iter().map(|s| s.to_vec()).collect());
    Optimizer::with_groups(build(spec).unwrap(), vec![group]).unwrap()
}

#[test]
fn arrays_of_any_dimension_step_like_slices() {
    let shapes: [&[usize]; 4] = [&[5], &[3, 4], &[2, 3, 2], &[2, 1, 2, 3]];
    for spec in ["adamw:lr=0.01,weight_decay=0.1", "lamb", "adafactor"] {
        let mut by_array = optimizer(spec, &shapes);
        let mut by_slice = optimizer(spec, &shapes);
        let mut arrays: Vec<ArrayD<f64>> = shapes.iter().map(|s| ramp(s, 1.0)).collect();
        let mut slices: Vec<Vec<f64>> =
            arrays.iter().map(|a| a.iter().copied().collect()).collect();
        for step in 0..3 {
            let grads: Vec<ArrayD<f64>> = shapes.iter().map(|s| ramp(s, step as f64)).collect();
            let mut views: Vec<_> = arrays.iter_mut().map(|a| a.view_mut()).collect();
            let grad_views: Vec<_> = grads.iter().map(|g| g.view()).collect();
            by_array.step_arrays(&mut views, &grad_views).unwrap();
            let mut refs: Vec<&mut [f64]> = slices.iter_mut().map(|v| v.as_mut_slice()).collect();
            let grad_refs: Vec<&[f64]> = grads.iter().map(|g| g.as_slice().unwrap()).collect();
            by_slice.step_tensors(&mut refs, &grad_refs).unwrap();
        }
        for (array, slice) in arrays.iter().zip(&slices) {
            let stepped: Vec<f64> = array.iter().copied().collect();
            assert_eq!(&stepped, slice, "{spec}");
            assert_ne!(array, &ramp(array.shape(), 1.0), "{spec}: nothing moved");
        }
    }
}

#[test]
fn a_fixed_dimension_array_steps_in_place() {
    let mut params = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
    let grads = Array2::from_elem((3, 4), 0.5);
    let mut slice: Vec<f64> = params.iter().copied().collect();
    let mut a = optimizer("sgd:lr=0.1,momentum=0.9", &[&[3, 4]]);
    let mut b = optimizer("sgd:lr=0.1,momentum=0.9", &[&[3, 4]]);
    let before = params.as_ptr();
    a.step_array(&mut params, &grads).unwrap();
    b.step(&mut slice, grads.as_slice().unwrap()).unwrap();
    assert_eq!(params.as_ptr(), before);
    assert_eq!(params.as_slice().unwrap(), slice.as_slice());
    assert_eq!(params[[0, 0]], -0.05);
}

fn refused(result: Result<downhill_optim::Outcome, StepError>) -> StepError {
    let err = result.unwrap_err();
    assert!(matches!(err, StepError::NotContiguous { .. }), "{err:?}");
    assert!(err.to_string().contains("not contiguous"), "{err}");
    err
}

#[test]
fn a_transposed_view_is_refused_and_left_unchanged() {
    let mut params = Array2::from_shape_fn((3, 4), |(i, j)| (i * 4 + j) as f64);
    let original = params.clone();
    let grads = Array2::from_elem((4, 3), 1.0);
    let mut opt = optimizer("adam:lr=0.1", &[&[4, 3]]);
    let err = refused(opt.step_array(&mut params.view_mut().reversed_axes(), &grads));
    assert_eq!(
        err,
        StepError::NotContiguous {
            what: "parameters",
            index: 0,
            shape: vec![4, 3],
            strides: vec![1, 4],
        }
    );
    assert_eq!(params, original);
    assert_eq!(opt.steps_taken(0), 0);
}

#[test]
fn a_strided_slice_is_refused_for_parameters_and_gradients() {
    let mut params = ArrayD::<f64>::zeros(IxDyn(&[4, 6]));
    let grads = ArrayD::<f64>::ones(IxDyn(&[4, 6]));
    let mut opt = optimizer("adam:lr=0.1", &[&[4, 3]]);
    let mut view = params.slice_mut(s![.., ..;2]).into_dyn();
    let err = refused(opt.step_array(&mut view, &grads.slice(s![.., ..3]).into_dyn()));
    assert!(err
        .to_string()
        .contains("parameters: array 0 (shape [4, 3], strides [6, 2])"));
    let mut contiguous = ArrayD::<f64>::zeros(IxDyn(&[4, 3]));
    let err = refused(opt.step_arrays(
        &mut [contiguous.view_mut()],
        &[grads.slice(s![.., ..;2]).into_dyn()],
    ));
    assert!(err.to_string().starts_with("gradients: array 0"), "{err}");
    assert!(params.iter().chain(contiguous.iter()).all(|&x| x == 0.0));
    assert_eq!(opt.steps_taken(0), 0);
}
