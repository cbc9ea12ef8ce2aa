//! The training loss, softmax cross-entropy, as one differentiable operation.
//!
//! burn differentiates its cross-entropy through the operations that compute it: a log-softmax
//! (a maximum, an exponential, a sum, a logarithm), a gather and a mean, each with its own
//! gradient (about fifteen launches on a GPU for the backward pass). In closed form the gradient
//! is `(softmax(logits) - onehot(targets)) / rows`: the forward pass's log-probabilities
//! exponentiated and scaled, and one scatter for the targets. The forward pass is burn's,
//! operation for operation, so a loss does not change.

use burn::backend::autodiff::checkpoint::base::Checkpointer;
use burn::backend::autodiff::checkpoint::strategy::CheckpointStrategy;
use burn::backend::autodiff::grads::Gradients;
use burn::backend::autodiff::ops::{Backward, Ops, OpsKind, unary};
use burn::backend::tensor::{FloatTensor, IntTensor};
use burn::backend::{Autodiff, Backend, Dispatch, TensorMetadata, backend_extension};
use burn::tensor::{IndexingUpdateOp, Int, Shape, Tensor};

/// The mean cross-entropy of logits against class targets.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait LossOps: Backend {
    /// `mean(-log softmax(logits)[target])` over the rows of `logits` `[rows, classes]`, one
    /// target class each in `targets` `[rows]`: a one-element tensor.
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        mean_negative_pick::<Self>(Self::log_softmax(logits, 1), targets)
    }
}

impl LossOps for burn::backend::Flex {}

#[cfg(feature = "wgpu")]
impl<B: burn::backend::fusion::FusionBackend> LossOps for burn::backend::fusion::Fusion<B> {}

impl<B: Backend, C: CheckpointStrategy> LossOps for Autodiff<B, C> {
    fn cross_entropy(logits: FloatTensor<Self>, targets: IntTensor<Self>) -> FloatTensor<Self> {
        let parents = [logits.node()];
        let log_probabilities = B::log_softmax(logits.into_primitive(), 1);
        let loss = mean_negative_pick::<B>(log_probabilities.clone(), targets.clone());
        match CrossEntropyBackward
            .prepare::<C>(parents)
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => prep.finish((log_probabilities, targets), loss),
            OpsKind::UnTracked(prep) => prep.finish(loss),
        }
    }
}

/// The closed-form gradient of [`LossOps::cross_entropy`].
#[derive(Debug)]
struct CrossEntropyBackward;

impl<B: Backend> Backward<B, 1> for CrossEntropyBackward {
    /// The forward pass's log-probabilities `[rows, classes]` and the targets `[rows]`.
    type State = (FloatTensor<B>, IntTensor<B>);

    fn backward(self, ops: Ops<Self::State, 1>, grads: &mut Gradients, _: &mut Checkpointer) {
        let (log_probabilities, targets) = ops.state;
        unary::<B, _>(ops.parents, ops.node, grads, |grad| {
            let rows = log_probabilities.shape()[0];
            // The loss's gradient (one element) over the rows, for every logit of a row.
            let scale = B::float_div_scalar(
                B::float_reshape(grad, Shape::new([1, 1])),
                (rows as f32).into(),
            );
            let probabilities = B::float_mul(B::float_exp(log_probabilities), scale.clone());
            let targets = B::int_reshape(targets, Shape::new([rows, 1]));
            let at_targets = B::float_neg(B::float_expand(scale, Shape::new([rows, 1])));
            B::float_scatter(1, probabilities, targets, at_targets, IndexingUpdateOp::Add)
        });
    }
}

/// `-mean(log_probabilities[row, targets[row]])`, as burn's cross-entropy takes it.
fn mean_negative_pick<B: Backend>(
    log_probabilities: FloatTensor<B>,
    targets: IntTensor<B>,
) -> FloatTensor<B> {
    let rows = log_probabilities.shape()[0];
    let targets = B::int_reshape(targets, Shape::new([rows, 1]));
    let picked = B::float_gather(1, log_probabilities, targets);
    B::float_neg(B::float_mean(B::float_reshape(picked, Shape::new([rows]))))
}

/// The mean cross-entropy of `logits` `[rows, classes]` against `targets` `[rows]`.
pub fn cross_entropy(logits: Tensor<2>, targets: Tensor<1, Int>) -> Tensor<1> {
    Tensor::from_dispatch(<Dispatch as LossOps>::cross_entropy(
        logits.into_dispatch(),
        targets.into_dispatch(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::nn::loss::CrossEntropyLossConfig;
    use burn::tensor::{Device, Distribution, Tolerance};

    /// The closed form against burn's cross-entropy differentiated operation by operation: the
    /// same loss, the same gradient for the logits, with a class drawn twice and one never.
    #[test]
    fn matches_burns_cross_entropy_and_its_gradient() {
        let device = Device::flex().autodiff();
        let logits = Tensor::<2>::random([6, 5], Distribution::Normal(0.0, 3.0), &device);
        let targets = Tensor::<1, Int>::from_data([4, 0, 2, 2, 1, 0], &device);
        let burns = CrossEntropyLossConfig::new().init(&device);
        let run = |loss: &dyn Fn(Tensor<2>, Tensor<1, Int>) -> Tensor<1>| {
            let logits = logits.clone().detach().require_grad();
            let value = loss(logits.clone(), targets.clone());
            let grads = value.clone().mul_scalar(3.0).backward();
            (value.inner(), logits.grad(&grads).unwrap())
        };
        let (expected_loss, expected_grad) = run(&|l, t| burns.forward(l, t));
        let (loss, grad) = run(&cross_entropy);
        expected_loss
            .to_data()
            .assert_approx_eq::<f32>(&loss.to_data(), Tolerance::rel_abs(1e-5, 1e-6));
        expected_grad
            .to_data()
            .assert_approx_eq::<f32>(&grad.to_data(), Tolerance::rel_abs(1e-4, 1e-6));
    }
}
