//! Layer normalization as one differentiable operation.
//!
//! burn differentiates its layer norm through the operations that compute it: two means, a
//! subtraction, a square root, a division, the scale and the shift, each with its own gradient
//! (about twenty launches on a GPU for every norm's backward pass). Here the backward pass is the
//! closed form, `dx = (g - mean(g) - x̂ mean(g x̂)) / σ` with `g = dy γ`: two row means and the
//! element-wise rest, plus one column sum for each of `γ` and `β`. The forward pass is burn's,
//! operation for operation, so a model's outputs do not change.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind};
use burn::backend::tensor::FloatTensor;
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::tensor::{Device, Shape, Tensor};

/// The variance's guard against division by zero: the training norm's and the committee's exact
/// norm's (`validate/exact`), which must agree.
pub(crate) const NORM_EPSILON: f64 = 1e-5;

/// Layer normalization over the last dimension with a learned scale and shift.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait NormOps: Backend {
    /// `(x - mean) / sqrt(variance + epsilon) * gamma + beta` over `x`'s last dimension.
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let (normalized, _) = standardize::<Self>(x, epsilon);
        scale_and_shift::<Self>(normalized, gamma, beta)
    }
}

impl NormOps for burn::backend::Flex {}

#[cfg(feature = "wgpu")]
impl<B: burn::backend::fusion::FusionBackend> NormOps for burn::backend::fusion::Fusion<B> {}

impl<B: Backend, C: CheckpointStrategy> NormOps for Autodiff<B, C> {
    fn layer_norm(
        x: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
        beta: FloatTensor<Self>,
        epsilon: f64,
    ) -> FloatTensor<Self> {
        let parents = [x.node(), gamma.node(), beta.node()];
        let (normalized, deviation) = standardize::<B>(x.into_primitive(), epsilon);
        let gamma = gamma.into_primitive();
        let output = scale_and_shift::<B>(normalized.clone(), gamma.clone(), beta.into_primitive());
        match LayerNormBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((normalized, deviation, gamma), output),
            OpsKind::UnTracked(prep) => prep.finish(output),
        }
    }
}

/// The closed-form gradient of [`NormOps::layer_norm`].
#[derive(Debug)]
struct LayerNormBackward;

impl<B: Backend> Backward<B, 3> for LayerNormBackward {
    /// The normalized input `x̂`, each row's `σ = sqrt(variance + epsilon)`, and `γ`.
    type State = (FloatTensor<B>, FloatTensor<B>, FloatTensor<B>);

    fn backward(self, ops: Ops<Self::State, 3>, grads: &mut Gradients, _: &mut Checkpointer) {
        let [node_x, node_gamma, node_beta] = ops.parents;
        let grad = grads.consume::<B>(&ops.node);
        let (normalized, deviation, gamma) = ops.state;
        let shape = grad.shape();
        let last = shape.num_dims() - 1;
        let width = shape[last];
        let rows = Shape::new([shape.num_elements() / width, width]);
        let as_rows = |tensor: FloatTensor<B>| B::float_reshape(tensor, rows.clone());
        let column_sum = |tensor: FloatTensor<B>| {
            B::float_reshape(B::float_sum_dim(tensor, 0), Shape::new([width]))
        };
        // The input's gradient first: queued after the column sums, its element-wise chain ran
        // as five separate launches on burn's fused wgpu backend (the software adapter); queued
        // first, it fuses into one.
        if let Some(node) = node_x {
            let scaled = B::float_mul(grad.clone(), broadcast_last::<B>(gamma, &shape));
            let mean = B::float_mean_dim(scaled.clone(), last);
            let projection =
                B::float_mean_dim(B::float_mul(scaled.clone(), normalized.clone()), last);
            let centered = B::float_sub(
                B::float_sub(scaled, mean),
                B::float_mul(normalized.clone(), projection),
            );
            grads.register::<B>(node.id, B::float_div(centered, deviation));
        }
        if let Some(node) = node_gamma {
            let products = B::float_mul(as_rows(grad.clone()), as_rows(normalized));
            grads.register::<B>(node.id, column_sum(products));
        }
        if let Some(node) = node_beta {
            grads.register::<B>(node.id, column_sum(as_rows(grad)));
        }
    }
}

/// `x̂ = (x - mean) / σ` over the last dimension and `σ = sqrt(variance + epsilon)` (biased
/// variance), with the operations of burn's own layer norm.
fn standardize<B: Backend>(x: FloatTensor<B>, epsilon: f64) -> (FloatTensor<B>, FloatTensor<B>) {
    let last = x.shape().num_dims() - 1;
    let mean = B::float_mean_dim(x.clone(), last);
    let centered = B::float_sub(x, mean);
    let variance = B::float_mean_dim(B::float_mul(centered.clone(), centered.clone()), last);
    let deviation = B::float_sqrt(B::float_add_scalar(variance, epsilon.into()));
    (B::float_div(centered, deviation.clone()), deviation)
}

/// `x̂ γ + β`, `γ` and `β` over the last dimension.
fn scale_and_shift<B: Backend>(
    normalized: FloatTensor<B>,
    gamma: FloatTensor<B>,
    beta: FloatTensor<B>,
) -> FloatTensor<B> {
    let shape = normalized.shape();
    let scaled = B::float_mul(normalized, broadcast_last::<B>(gamma, &shape));
    B::float_add(scaled, broadcast_last::<B>(beta, &shape))
}

/// A vector over the last dimension of `shape`, reshaped to broadcast against it.
fn broadcast_last<B: Backend>(vector: FloatTensor<B>, shape: &Shape) -> FloatTensor<B> {
    let rank = shape.num_dims();
    let dims: Vec<usize> = (0..rank)
        .map(|dim| if dim == rank - 1 { shape[dim] } else { 1 })
        .collect();
    B::float_reshape(vector, Shape::from(dims))
}

/// A layer norm over `width` features (`γ` ones, `β` zeros): burn's module, so that the
/// weights' layout is burn's, applied by [`normalize`].
pub fn norm(width: usize, device: &Device) -> LayerNorm {
    LayerNormConfig::new(width)
        .with_epsilon(NORM_EPSILON)
        .init(device)
}

/// Normalizes `x` over its last dimension with `norm`'s scale and shift.
pub fn normalize<const D: usize>(norm: &LayerNorm, x: Tensor<D>) -> Tensor<D> {
    let beta = norm.beta.as_ref().expect("a norm is built with a shift");
    Tensor::from_dispatch(<Dispatch as NormOps>::layer_norm(
        x.into_dispatch(),
        norm.gamma.val().into_dispatch(),
        beta.val().into_dispatch(),
        NORM_EPSILON,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::module::Param;
    use burn::tensor::{Distribution, Tolerance};

    /// The closed form against burn's layer norm differentiated operation by operation: the same
    /// output, the same gradients for the input, `γ` and `β`, on rows of any rank.
    #[test]
    fn matches_burns_layer_norm_and_its_gradients() {
        let device = Device::flex().autodiff();
        let x = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.5, 2.0), &device);
        let weight = Tensor::<3>::random([2, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let mut ours = norm(8, &device);
        ours.gamma =
            Param::from_tensor(Tensor::random([8], Distribution::Normal(1.0, 0.5), &device));
        ours.beta = Some(Param::from_tensor(Tensor::random(
            [8],
            Distribution::Normal(0.0, 0.5),
            &device,
        )));
        let burns = ours.clone();
        let run = |norm_x: &dyn Fn(Tensor<3>) -> Tensor<3>, norm: &LayerNorm| {
            let x = x.clone().detach().require_grad();
            let y = norm_x(x.clone());
            let grads = (y.clone() * weight.clone()).sum().backward();
            let beta = norm.beta.as_ref().unwrap();
            [
                y.inner(),
                x.grad(&grads).unwrap(),
                norm.gamma.val().grad(&grads).unwrap().unsqueeze(),
                beta.val().grad(&grads).unwrap().unsqueeze(),
            ]
        };
        let expected = run(&|x| burns.forward(x), &burns);
        let actual = run(&|x| normalize(&ours, x), &ours);
        for (name, (e, a)) in ["output", "x", "gamma", "beta"]
            .iter()
            .zip(expected.iter().zip(&actual))
        {
            assert_eq!(e.dims(), a.dims(), "{name}");
            e.to_data()
                .assert_approx_eq::<f32>(&a.to_data(), Tolerance::rel_abs(1e-4, 1e-5));
        }
    }
}
