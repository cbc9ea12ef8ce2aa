//! The transformer block, forward and backward: a pre-norm block, `x + attention(norm(x))`,
//! then `x + down(gelu(up(norm(x))))`, attention causal (a position sees itself and the
//! positions before it).

use super::ops::{dense, dense_back, gelu, gelu_slope, layer_norm, layer_norm_back};

/// The block's tensors, in the layout's order: the attention's norm, the query, key, value and
/// output projections (weight, bias each), the feed-forward norm, then up and down.
pub(super) const TENSORS: usize = 16;

/// What the forward pass leaves for the backward pass.
pub(super) struct Cache {
    input: Vec<f64>,
    normed: Vec<f64>,
    projections: [Vec<f64>; 3],
    /// Each head's attention weights, position after position, `t + 1` of them at `t`.
    weights: Vec<Vec<f64>>,
    context: Vec<f64>,
    attended: Vec<f64>,
    fed_normed: Vec<f64>,
    up: Vec<f64>,
}

/// The block over `x` (`positions x width`, row-major) with `heads` heads.
pub(super) fn forward(x: Vec<f64>, width: usize, heads: usize, p: &[&[f64]]) -> (Vec<f64>, Cache) {
    let positions = x.len() / width;
    let normed = layer_norm(&x, p[0], p[1]);
    let projections = [2, 4, 6].map(|at| dense(&normed, p[at], p[at + 1]));
    let [q, k, v] = &projections;
    let head = width / heads;
    let scale = 1.0 / libm::sqrt(head as f64);
    let mut context = vec![0f64; positions * width];
    let mut weights = Vec::with_capacity(heads * positions);
    for h in 0..heads {
        let slot = |t: usize| t * width + h * head..t * width + (h + 1) * head;
        for t in 0..positions {
            let scores: Vec<f64> = (0..=t)
                .map(|s| {
                    q[slot(t)]
                        .iter()
                        .zip(&k[slot(s)])
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                        * scale
                })
                .collect();
            let max = scores.iter().fold(f64::NEG_INFINITY, |m, &v| m.max(v));
            let exps: Vec<f64> = scores.iter().map(|&s| libm::exp(s - max)).collect();
            let sum: f64 = exps.iter().sum();
            let row: Vec<f64> = exps.iter().map(|e| e / sum).collect();
            for (s, &weight) in row.iter().enumerate() {
                for (out, &val) in context[slot(t)].iter_mut().zip(&v[slot(s)]) {
                    *out += weight * val;
                }
            }
            weights.push(row);
        }
    }
    let projected = dense(&context, p[8], p[9]);
    let attended: Vec<f64> = x.iter().zip(&projected).map(|(a, b)| a + b).collect();
    let fed_normed = layer_norm(&attended, p[10], p[11]);
    let up = dense(&fed_normed, p[12], p[13]);
    let activated: Vec<f64> = up.iter().map(|&u| gelu(u)).collect();
    let fed = dense(&activated, p[14], p[15]);
    let output = attended.iter().zip(&fed).map(|(a, b)| a + b).collect();
    (
        output,
        Cache {
            input: x,
            normed,
            projections,
            weights,
            context,
            attended,
            fed_normed,
            up,
        },
    )
}

/// The block's backward pass: adds to `grads` (the block's tensors, in order) and returns the
/// input's gradient.
pub(super) fn backward(
    cache: &Cache,
    d_out: &[f64],
    width: usize,
    heads: usize,
    p: &[&[f64]],
    grads: &mut [&mut [f64]],
) -> Vec<f64> {
    let [g_norm, g_q, g_k, g_v, g_out, g_fed_norm, g_up, g_down] = pairs(grads);
    // The feed-forward branch and its residual.
    let activated: Vec<f64> = cache.up.iter().map(|&u| gelu(u)).collect();
    let d_activated =
        dense_back(&activated, p[14], d_out, g_down, true).expect("asked for the input's");
    let d_up: Vec<f64> = d_activated
        .iter()
        .zip(&cache.up)
        .map(|(d, &u)| d * gelu_slope(u))
        .collect();
    let d_fed_normed =
        dense_back(&cache.fed_normed, p[12], &d_up, g_up, true).expect("asked for the input's");
    let d_attended: Vec<f64> = layer_norm_back(&cache.attended, p[10], &d_fed_normed, g_fed_norm)
        .iter()
        .zip(d_out)
        .map(|(a, b)| a + b)
        .collect();
    // The attention branch and its residual.
    let d_context =
        dense_back(&cache.context, p[8], &d_attended, g_out, true).expect("asked for the input's");
    let [d_q, d_k, d_v] = attention_back(cache, &d_context, width, heads);
    let mut d_normed = vec![0f64; cache.normed.len()];
    for ((at, d), grads) in [2, 4, 6]
        .into_iter()
        .zip([d_q, d_k, d_v])
        .zip([g_q, g_k, g_v])
    {
        let back =
            dense_back(&cache.normed, p[at], &d, grads, true).expect("asked for the input's");
        for (sum, b) in d_normed.iter_mut().zip(back) {
            *sum += b;
        }
    }
    layer_norm_back(&cache.input, p[0], &d_normed, g_norm)
        .iter()
        .zip(&d_attended)
        .map(|(a, b)| a + b)
        .collect()
}

/// The gradients of the queries, keys and values from the context's.
fn attention_back(cache: &Cache, d_context: &[f64], width: usize, heads: usize) -> [Vec<f64>; 3] {
    let [q, k, v] = &cache.projections;
    let positions = q.len() / width;
    let head = width / heads;
    let scale = 1.0 / libm::sqrt(head as f64);
    let [mut d_q, mut d_k, mut d_v] = [0; 3].map(|_| vec![0f64; q.len()]);
    for h in 0..heads {
        let slot = |t: usize| t * width + h * head..t * width + (h + 1) * head;
        for t in 0..positions {
            let weights = &cache.weights[h * positions + t];
            let d_ctx = &d_context[slot(t)];
            let d_weights: Vec<f64> = (0..=t)
                .map(|s| {
                    d_ctx
                        .iter()
                        .zip(&v[slot(s)])
                        .map(|(a, b)| a * b)
                        .sum::<f64>()
                })
                .collect();
            for (s, &weight) in weights.iter().enumerate() {
                for (dv, &d) in d_v[slot(s)].iter_mut().zip(d_ctx) {
                    *dv += weight * d;
                }
            }
            let mean: f64 = weights.iter().zip(&d_weights).map(|(w, d)| w * d).sum();
            for (s, (&weight, &d_weight)) in weights.iter().zip(&d_weights).enumerate() {
                let d_score = weight * (d_weight - mean) * scale;
                for (dq, &key) in d_q[slot(t)].iter_mut().zip(&k[slot(s)]) {
                    *dq += d_score * key;
                }
                for (dk, &query) in d_k[slot(s)].iter_mut().zip(&q[slot(t)]) {
                    *dk += d_score * query;
                }
            }
        }
    }
    [d_q, d_k, d_v]
}

/// The block's gradient slices as (weight or scale, bias or shift) pairs.
fn pairs<'g>(grads: &'g mut [&mut [f64]]) -> [[&'g mut [f64]; 2]; 8] {
    let mut slices = grads.iter_mut().map(|g| &mut **g);
    [0; 8].map(|_| {
        [
            slices.next().expect("sixteen tensors"),
            slices.next().expect("sixteen tensors"),
        ]
    })
}
