//! Causal self-attention and dense layers over sequences, written for few kernel launches.
//!
//! burn's `MultiHeadAttention` holds the parameters (so the weight layout is burn's), but its
//! forward pass is written here: a step of a small model on a GPU is paid in launches, not
//! arithmetic. burn keeps a rank-3 input to a dense layer batched and broadcasts the weight to
//! every sample (a copy forward, a reduction backward, per layer), and builds the causal mask on
//! the device every step from two `arange`s (six launches). Here a sequence's rows go through a
//! dense layer as one `[batch * positions, width]` product, and the mask is uploaded.

use burn::nn::Linear;
use burn::nn::attention::MultiHeadAttention;
use burn::tensor::activation::softmax;
use burn::tensor::{Bool, Device, Tensor, TensorData};

/// A dense layer applied to every position of `[batch, positions, width]`, as one product over
/// the rows.
pub(super) fn dense_rows(linear: &Linear, x: Tensor<3>) -> Tensor<3> {
    let [batch, positions, width] = x.dims();
    let y = linear.forward(x.reshape([batch * positions, width]));
    let [_, units] = y.dims();
    y.reshape([batch, positions, units])
}

/// burn's multi-head attention of `x` with itself, each position seeing itself and the ones
/// before it: the same function as `MultiHeadAttention::forward` with a causal mask.
pub(super) fn causal_self_attention(attention: &MultiHeadAttention, x: Tensor<3>) -> Tensor<3> {
    let [batch, positions, width] = x.dims();
    let (heads, head_width) = (attention.n_heads, attention.d_k);
    let split = |linear: &Linear| {
        dense_rows(linear, x.clone())
            .reshape([batch, positions, heads, head_width])
            .swap_dims(1, 2)
    };
    let scores = split(&attention.query)
        .matmul(split(&attention.key).transpose())
        .div_scalar((head_width as f32).sqrt())
        .mask_fill(causal_mask(positions, &x.device()), attention.min_float);
    let weights = attention.dropout.forward(softmax(scores, 3));
    let context = weights
        .matmul(split(&attention.value))
        .swap_dims(1, 2)
        .reshape([batch, positions, width]);
    dense_rows(&attention.output, context)
}

/// `[1, 1, positions, positions]`, true where a position would see a later one: built on the
/// host, one upload and no launch.
fn causal_mask(positions: usize, device: &Device) -> Tensor<4, Bool> {
    let later: Vec<bool> = (0..positions)
        .flat_map(|row| (0..positions).map(move |column| column > row))
        .collect();
    Tensor::from_data(TensorData::new(later, [1, 1, positions, positions]), device)
}

#[cfg(test)]
mod tests {
    use burn::nn::LinearConfig;
    use burn::nn::attention::{MhaInput, MultiHeadAttentionConfig, generate_autoregressive_mask};
    use burn::tensor::{Distribution, Tolerance};

    use super::*;

    /// The output and the input's gradient through each function, against burn's.
    fn assert_same(ours: impl Fn(Tensor<3>) -> Tensor<3>, burns: impl Fn(Tensor<3>) -> Tensor<3>) {
        let device = Device::flex().autodiff();
        let x = Tensor::<3>::random([3, 5, 8], Distribution::Normal(0.0, 1.0), &device);
        let run = |f: &dyn Fn(Tensor<3>) -> Tensor<3>| {
            let x = x.clone().detach().require_grad();
            let y = f(x.clone());
            let weight = Tensor::<3>::ones(y.dims(), &device).cumsum(2);
            let grads = (y.clone() * weight).sum().backward();
            [y.inner(), x.grad(&grads).expect("x is tracked")]
        };
        let [expected, actual] = [run(&burns), run(&ours)];
        for (e, a) in expected.iter().zip(&actual) {
            assert_eq!(e.dims(), a.dims());
            e.to_data()
                .assert_approx_eq::<f32>(&a.to_data(), Tolerance::rel_abs(1e-4, 1e-5));
        }
    }

    #[test]
    fn matches_burns_causal_attention() {
        let device = Device::flex().autodiff();
        let attention = MultiHeadAttentionConfig::new(8, 2)
            .with_dropout(0.0)
            .init(&device);
        assert_same(
            |x| causal_self_attention(&attention, x),
            |x| {
                let [batch, positions, _] = x.dims();
                let mask = generate_autoregressive_mask(batch, positions, &x.device());
                attention
                    .forward(MhaInput::self_attn(x).mask_attn(mask))
                    .context
            },
        );
    }

    #[test]
    fn matches_burns_dense_layer_on_a_sequence() {
        let linear = LinearConfig::new(8, 3).init(&Device::flex().autodiff());
        assert_same(|x| dense_rows(&linear, x), |x| linear.forward(x));
    }
}
