//! The layers' forward and backward passes on plain `f64` slices, each sum in one fixed order.
//! A backward pass adds its parameters' gradients to the slices it is given (so a batch's
//! samples accumulate, in order) and returns its input's gradient when asked for it.

use crate::model::NORM_EPSILON;

/// `x W + b` row by row, `W` being `[in, out]` row-major; inputs that are zero are skipped.
pub(super) fn dense(x: &[f64], weight: &[f64], bias: &[f64]) -> Vec<f64> {
    let outputs = bias.len();
    let inputs = weight.len() / outputs;
    let mut data = Vec::with_capacity(x.len() / inputs * outputs);
    for row in x.chunks(inputs) {
        let mut out = bias.to_vec();
        for (i, &v) in row.iter().enumerate() {
            if v == 0.0 {
                continue;
            }
            for (o, &w) in out.iter_mut().zip(&weight[i * outputs..(i + 1) * outputs]) {
                *o += v * w;
            }
        }
        data.extend(out);
    }
    data
}

/// [`dense`]'s backward pass for `d_out` (one row per row of `x`).
pub(super) fn dense_back(
    x: &[f64],
    weight: &[f64],
    d_out: &[f64],
    [grad_weight, grad_bias]: [&mut [f64]; 2],
    input_gradient: bool,
) -> Option<Vec<f64>> {
    let outputs = grad_bias.len();
    let inputs = weight.len() / outputs;
    let mut d_x = input_gradient.then(|| vec![0f64; x.len()]);
    for (row, (xs, ds)) in x.chunks(inputs).zip(d_out.chunks(outputs)).enumerate() {
        for (i, &v) in xs.iter().enumerate() {
            let weights = &weight[i * outputs..(i + 1) * outputs];
            if v != 0.0 {
                for (g, &d) in grad_weight[i * outputs..(i + 1) * outputs]
                    .iter_mut()
                    .zip(ds)
                {
                    *g += v * d;
                }
            }
            if let Some(d_x) = d_x.as_mut() {
                let mut back = 0f64;
                for (&w, &d) in weights.iter().zip(ds) {
                    back += w * d;
                }
                d_x[row * inputs + i] = back;
            }
        }
        for (g, &d) in grad_bias.iter_mut().zip(ds) {
            *g += d;
        }
    }
    d_x
}

/// A convolution's geometry: `[channels, height, width]` in, `filters` out, square kernel.
#[derive(Clone, Copy)]
pub(super) struct Conv {
    pub input: [usize; 3],
    pub filters: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl Conv {
    pub(super) fn output(&self) -> [usize; 3] {
        let [_, height, width] = self.input;
        let side = |len: usize| (len + 2 * self.padding - self.kernel) / self.stride + 1;
        [self.filters, side(height), side(width)]
    }

    /// The input row (or column) that tap `tap` of output `out` reads along a side of `len`,
    /// unless it falls in the padding.
    fn source(&self, out: usize, tap: usize, len: usize) -> Option<usize> {
        (out * self.stride + tap)
            .checked_sub(self.padding)
            .filter(|&v| v < len)
    }

    /// Calls `visit(input index, kernel index)` for each tap of output `(f, oy, ox)`, channel
    /// after channel, row after row: the order every sum over the taps runs in.
    fn taps(&self, f: usize, oy: usize, ox: usize, mut visit: impl FnMut(usize, usize)) {
        let [channels, height, width] = self.input;
        let k = self.kernel;
        for c in 0..channels {
            for ky in 0..k {
                let Some(iy) = self.source(oy, ky, height) else {
                    continue;
                };
                for kx in 0..k {
                    let Some(ix) = self.source(ox, kx, width) else {
                        continue;
                    };
                    visit(
                        (c * height + iy) * width + ix,
                        ((f * channels + c) * k + ky) * k + kx,
                    );
                }
            }
        }
    }
}

/// A 2-D convolution of a `[channels, height, width]` input by a `[out, in, k, k]` kernel.
pub(super) fn conv2d(x: &[f64], kernel: &[f64], bias: &[f64], conv: Conv) -> Vec<f64> {
    let [filters, out_h, out_w] = conv.output();
    let mut data = Vec::with_capacity(filters * out_h * out_w);
    for (f, &b) in bias.iter().enumerate() {
        for oy in 0..out_h {
            for ox in 0..out_w {
                let mut sum = b;
                conv.taps(f, oy, ox, |at, tap| sum += kernel[tap] * x[at]);
                data.push(sum);
            }
        }
    }
    data
}

/// [`conv2d`]'s backward pass.
pub(super) fn conv2d_back(
    x: &[f64],
    kernel: &[f64],
    d_out: &[f64],
    [grad_kernel, grad_bias]: [&mut [f64]; 2],
    conv: Conv,
    input_gradient: bool,
) -> Option<Vec<f64>> {
    let [_, out_h, out_w] = conv.output();
    let mut d_x = input_gradient.then(|| vec![0f64; x.len()]);
    for (at, &d) in d_out.iter().enumerate() {
        if d == 0.0 {
            continue;
        }
        let (f, oy, ox) = (at / (out_h * out_w), at / out_w % out_h, at % out_w);
        grad_bias[f] += d;
        conv.taps(f, oy, ox, |input, tap| {
            grad_kernel[tap] += d * x[input];
            if let Some(d_x) = d_x.as_mut() {
                d_x[input] += d * kernel[tap];
            }
        });
    }
    d_x
}

/// Square windows of side `k`, step `k`, over `[channels, height, width]`: the index in `x` of
/// each window, in output order, its taps row after row.
pub(super) fn windows(shape: [usize; 3], k: usize) -> impl Iterator<Item = Vec<usize>> {
    let [channels, height, width] = shape;
    let (out_h, out_w) = (height / k, width / k);
    (0..channels * out_h * out_w).map(move |at| {
        let (c, oy, ox) = (at / (out_h * out_w), at / out_w % out_h, at % out_w);
        (0..k)
            .flat_map(|dy| {
                let row = (c * height + oy * k + dy) * width + ox * k;
                row..row + k
            })
            .collect()
    })
}

/// Max pooling: each window's first largest value, and where it sits in `x`.
pub(super) fn max_pool(x: &[f64], shape: [usize; 3], k: usize) -> (Vec<f64>, Vec<usize>) {
    windows(shape, k)
        .map(|window| {
            let best = window[1..].iter().fold(
                window[0],
                |best, &at| if x[at] > x[best] { at } else { best },
            );
            (x[best], best)
        })
        .unzip()
}

/// Average pooling, each window summed row after row.
pub(super) fn avg_pool(x: &[f64], shape: [usize; 3], k: usize) -> Vec<f64> {
    windows(shape, k)
        .map(|window| window.iter().map(|&at| x[at]).sum::<f64>() / window.len() as f64)
        .collect()
}

/// [`avg_pool`]'s backward pass into an input of `len` values.
pub(super) fn avg_pool_back(d_out: &[f64], shape: [usize; 3], k: usize) -> Vec<f64> {
    let mut d_x = vec![0f64; shape.iter().product()];
    for (window, &d) in windows(shape, k).zip(d_out) {
        for at in window {
            d_x[at] += d / (k * k) as f64;
        }
    }
    d_x
}

/// burn's exact GELU: `x/2 (1 + erf(x / sqrt 2))`.
pub(super) fn gelu(x: f64) -> f64 {
    x * 0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2))
}

/// GELU's derivative: `Phi(x) + x phi(x)`.
pub(super) fn gelu_slope(x: f64) -> f64 {
    let normal = libm::exp(-0.5 * x * x) / (2.0 * std::f64::consts::PI).sqrt();
    0.5 * (1.0 + libm::erf(x / std::f64::consts::SQRT_2)) + x * normal
}

/// Normalizes each row of `width` values (biased variance), then scales and shifts.
pub(super) fn layer_norm(x: &[f64], gamma: &[f64], beta: &[f64]) -> Vec<f64> {
    let mut data = Vec::with_capacity(x.len());
    for row in x.chunks(gamma.len()) {
        let (mean, scale) = moments(row);
        data.extend(
            row.iter()
                .zip(gamma.iter().zip(beta))
                .map(|(v, (g, b))| (v - mean) * scale * g + b),
        );
    }
    data
}

/// A row's mean and `1 / sqrt(variance + epsilon)`.
fn moments(row: &[f64]) -> (f64, f64) {
    let width = row.len() as f64;
    let mean = row.iter().sum::<f64>() / width;
    let variance = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / width;
    (mean, 1.0 / libm::sqrt(variance + NORM_EPSILON))
}

/// [`layer_norm`]'s backward pass; returns the input's gradient.
pub(super) fn layer_norm_back(
    x: &[f64],
    gamma: &[f64],
    d_out: &[f64],
    [grad_gamma, grad_beta]: [&mut [f64]; 2],
) -> Vec<f64> {
    let width = gamma.len();
    let mut d_x = Vec::with_capacity(x.len());
    for (row, ds) in x.chunks(width).zip(d_out.chunks(width)) {
        let (mean, scale) = moments(row);
        let normed: Vec<f64> = row.iter().map(|v| (v - mean) * scale).collect();
        let d_normed: Vec<f64> = ds.iter().zip(gamma).map(|(d, g)| d * g).collect();
        for (((gg, gb), &d), &n) in grad_gamma
            .iter_mut()
            .zip(grad_beta.iter_mut())
            .zip(ds)
            .zip(&normed)
        {
            *gg += d * n;
            *gb += d;
        }
        let mean_d = d_normed.iter().sum::<f64>() / width as f64;
        let mean_dn = d_normed
            .iter()
            .zip(&normed)
            .map(|(d, n)| d * n)
            .sum::<f64>()
            / width as f64;
        d_x.extend(
            d_normed
                .iter()
                .zip(&normed)
                .map(|(d, n)| scale * (d - mean_d - n * mean_dn)),
        );
    }
    d_x
}
