// One optimizer step of the MLP (dense, ReLU, dense, softmax cross-entropy) in six dispatches
// (seven with FedProx): forward_hidden, forward_logits, (proximal_partials,) forward_loss (the
// loss and its gradient), backward_output, backward_input, then adam or sgd. Everything stays on
// the device; only the loss is read back. Each dispatch spreads its work over the device, one
// invocation per output value (or block of them), but forward_loss, whose one workgroup sums the
// loss in a fixed order over only rows x classes values (and the proximal partial sums).
//
// Parameters use the engine's flat layout, burn's: hidden weight [INPUTS, HIDDEN] row-major,
// hidden bias [HIDDEN], output weight [HIDDEN, CLASSES], output bias [CLASSES].

override INPUTS: u32;
override HIDDEN: u32;
override CLASSES: u32;
// Rows the batch buffers hold (the configured batch size).
override BATCH: u32;

struct Step {
    // Rows in this step's batch (<= BATCH).
    rows: u32,
    // 1 on an optimizer's first step (momentum starts from the gradient).
    first: u32,
    learning_rate: f32,
    // FedProx: adds mu/2 * ||w - base||^2 to the loss.
    mu: f32,
    beta_1: f32,
    beta_2: f32,
    // Adam's bias corrections, computed on the host as burn does:
    // sqrt(1 - beta_2^t) / (1 - beta_1^t), and epsilon * sqrt(1 - beta_2^t).
    adam_factor: f32,
    adam_epsilon: f32,
    momentum: f32,
    // 1 - dampening: the share of the gradient entering the velocity.
    gradient_share: f32,
    pad_0: u32,
    pad_1: u32,
}

@group(0) @binding(0) var<storage, read> samples: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<u32>;
@group(0) @binding(2) var<storage, read> batch_rows: array<u32>;
@group(0) @binding(3) var<storage, read_write> params: array<f32>;
// gradient | first moment (or velocity) | second moment | base model, each params_len() long.
@group(0) @binding(4) var<storage, read_write> state: array<f32>;
// hidden activations [BATCH, HIDDEN] | logits, then their gradient [BATCH, CLASSES]
// | hidden gradient [BATCH, HIDDEN] | FedProx's partial sums [partials()] | loss [1].
@group(0) @binding(5) var<storage, read_write> scratch: array<f32>;
@group(0) @binding(6) var<uniform> step: Step;

const GROUP: u32 = 64u;
// Parameters whose squared distance to the base model one workgroup of proximal_partials sums.
const CHUNK: u32 = GROUP * 16u;

fn hidden_bias() -> u32 { return INPUTS * HIDDEN; }
fn output_weight() -> u32 { return hidden_bias() + HIDDEN; }
fn output_bias() -> u32 { return output_weight() + HIDDEN * CLASSES; }
fn params_len() -> u32 { return output_bias() + CLASSES; }
fn logits() -> u32 { return BATCH * HIDDEN; }
fn hidden_grad() -> u32 { return logits() + BATCH * CLASSES; }
fn proximal_partials_at() -> u32 { return hidden_grad() + BATCH * HIDDEN; }
fn partials() -> u32 { return (params_len() + CHUNK - 1u) / CHUNK; }
fn loss_slot() -> u32 { return proximal_partials_at() + partials(); }

// Each invocation of the two big products computes a TILE x TILE block, so that every value it
// loads serves TILE multiply-adds. Indices past an edge are clamped for loading, and skipped when
// storing, so shapes need not be multiples of TILE.
const TILE: u32 = 4u;

fn tiles(n: u32) -> u32 {
    return (n + TILE - 1u) / TILE;
}

// start, start + 1, ... clamped to below `end`.
fn tile_indices(start: u32, end: u32) -> vec4<u32> {
    let last = end - 1u;
    return vec4<u32>(start, min(start + 1u, last), min(start + 2u, last), min(start + 3u, last));
}

// hidden[b, h] = relu(x[b] . w1[:, h] + b1[h]), one invocation per TILE rows x TILE units.
@compute @workgroup_size(64)
fn forward_hidden(@builtin(global_invocation_id) id: vec3<u32>) {
    let rows = step.rows;
    let b0 = (id.x / tiles(HIDDEN)) * TILE;
    let h0 = (id.x % tiles(HIDDEN)) * TILE;
    if (b0 >= rows) {
        return;
    }
    let hs = tile_indices(h0, HIDDEN);
    let bs = tile_indices(b0, rows);
    let r = vec4<u32>(batch_rows[bs.x], batch_rows[bs.y], batch_rows[bs.z], batch_rows[bs.w]) * INPUTS;
    var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
    for (var i = 0u; i < INPUTS; i++) {
        let at = i * HIDDEN;
        let w = vec4<f32>(params[at + hs.x], params[at + hs.y], params[at + hs.z], params[at + hs.w]);
        acc[0] += samples[r.x + i] * w;
        acc[1] += samples[r.y + i] * w;
        acc[2] += samples[r.z + i] * w;
        acc[3] += samples[r.w + i] * w;
    }
    let bias = hidden_bias();
    let b1 = vec4<f32>(params[bias + hs.x], params[bias + hs.y], params[bias + hs.z], params[bias + hs.w]);
    for (var k = 0u; k < TILE; k++) {
        let b = b0 + k;
        for (var j = 0u; j < TILE; j++) {
            let h = h0 + j;
            if (b < rows && h < HIDDEN) {
                scratch[b * HIDDEN + h] = max(acc[k][j] + b1[j], 0.0);
            }
        }
    }
}

// logits[b, c] = hidden[b] . w2[:, c] + b2[c], one invocation per logit: the product over the
// hidden units is the forward pass's second largest, so it is spread over the whole device.
@compute @workgroup_size(64)
fn forward_logits(@builtin(global_invocation_id) id: vec3<u32>) {
    let b = id.x / CLASSES;
    let c = id.x % CLASSES;
    if (b >= step.rows) {
        return;
    }
    var acc = 0.0;
    for (var h = 0u; h < HIDDEN; h++) {
        acc += scratch[b * HIDDEN + h] * params[output_weight() + h * CLASSES + c];
    }
    scratch[logits() + b * CLASSES + c] = acc + params[output_bias() + c];
}

var<workgroup> partial: array<f32, GROUP>;

// The sum of every invocation's `partial`, in a fixed order: a tree over the workgroup.
fn workgroup_sum(t: u32) -> f32 {
    workgroupBarrier();
    for (var width = GROUP / 2u; width > 0u; width /= 2u) {
        if (t < width) {
            partial[t] += partial[t + width];
        }
        workgroupBarrier();
    }
    return partial[0];
}

// FedProx's ||w - base||^2 over one CHUNK of the parameters per workgroup, summed by
// forward_loss (dispatched only when mu > 0).
@compute @workgroup_size(64)
fn proximal_partials(
    @builtin(workgroup_id) group: vec3<u32>,
    @builtin(local_invocation_index) t: u32,
) {
    let start = group.x * CHUNK;
    let end = min(start + CHUNK, params_len());
    let base = 3u * params_len();
    var sum = 0.0;
    for (var p = start + t; p < end; p += GROUP) {
        let d = params[p] - state[base + p];
        sum += d * d;
    }
    partial[t] = sum;
    let total = workgroup_sum(t);
    if (t == 0u) {
        scratch[proximal_partials_at() + group.x] = total;
    }
}

// The mean cross-entropy (plus the proximal term) and its gradient with respect to the logits,
// (softmax - one_hot) / rows, in place of the logits. One workgroup, so the loss is summed in a
// fixed order.
@compute @workgroup_size(64)
fn forward_loss(@builtin(local_invocation_index) t: u32) {
    let rows = step.rows;
    var total = 0.0;
    for (var b = t; b < rows; b += GROUP) {
        let z = logits() + b * CLASSES;
        var top = -3.0e38;
        for (var c = 0u; c < CLASSES; c++) {
            top = max(top, scratch[z + c]);
        }
        var sum = 0.0;
        for (var c = 0u; c < CLASSES; c++) {
            sum += exp(scratch[z + c] - top);
        }
        let label = labels[batch_rows[b]];
        total += log(sum) + top - scratch[z + label];
        for (var c = 0u; c < CLASSES; c++) {
            let p = exp(scratch[z + c] - top) / sum;
            scratch[z + c] = (p - select(0.0, 1.0, c == label)) / f32(rows);
        }
    }
    var proximal = 0.0;
    if (step.mu > 0.0) {
        for (var w = t; w < partials(); w += GROUP) {
            proximal += scratch[proximal_partials_at() + w];
        }
    }
    partial[t] = total / f32(rows) + 0.5 * step.mu * proximal;
    let loss = workgroup_sum(t);
    if (t == 0u) {
        scratch[loss_slot()] = loss;
    }
}

// Gradients of the output layer, and the gradient flowing back into the hidden layer (through
// the ReLU), one invocation per output value.
@compute @workgroup_size(64)
fn backward_output(@builtin(global_invocation_id) id: vec3<u32>) {
    let index = id.x;
    let rows = step.rows;
    let weights = HIDDEN * CLASSES;
    if (index < weights) {
        let h = index / CLASSES;
        let c = index % CLASSES;
        var acc = 0.0;
        for (var b = 0u; b < rows; b++) {
            acc += scratch[b * HIDDEN + h] * scratch[logits() + b * CLASSES + c];
        }
        state[output_weight() + index] = acc;
    } else if (index < weights + CLASSES) {
        let c = index - weights;
        var acc = 0.0;
        for (var b = 0u; b < rows; b++) {
            acc += scratch[logits() + b * CLASSES + c];
        }
        state[output_bias() + c] = acc;
    } else if (index < weights + CLASSES + rows * HIDDEN) {
        let j = index - weights - CLASSES;
        let b = j / HIDDEN;
        let h = j % HIDDEN;
        var acc = 0.0;
        if (scratch[j] > 0.0) {
            for (var c = 0u; c < CLASSES; c++) {
                acc += scratch[logits() + b * CLASSES + c] * params[output_weight() + h * CLASSES + c];
            }
        }
        scratch[hidden_grad() + j] = acc;
    }
}

// Gradients of the hidden layer: its weights a TILE x TILE block per invocation, then its bias.
@compute @workgroup_size(64)
fn backward_input(@builtin(global_invocation_id) id: vec3<u32>) {
    let rows = step.rows;
    let blocks = tiles(INPUTS) * tiles(HIDDEN);
    if (id.x < blocks) {
        let i0 = (id.x / tiles(HIDDEN)) * TILE;
        let h0 = (id.x % tiles(HIDDEN)) * TILE;
        let is = tile_indices(i0, INPUTS);
        let hs = tile_indices(h0, HIDDEN);
        var acc = array<vec4<f32>, 4>(vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0), vec4<f32>(0.0));
        for (var b = 0u; b < rows; b++) {
            let row = batch_rows[b] * INPUTS;
            let at = hidden_grad() + b * HIDDEN;
            let g = vec4<f32>(scratch[at + hs.x], scratch[at + hs.y], scratch[at + hs.z], scratch[at + hs.w]);
            acc[0] += samples[row + is.x] * g;
            acc[1] += samples[row + is.y] * g;
            acc[2] += samples[row + is.z] * g;
            acc[3] += samples[row + is.w] * g;
        }
        for (var k = 0u; k < TILE; k++) {
            let i = i0 + k;
            for (var j = 0u; j < TILE; j++) {
                let h = h0 + j;
                if (i < INPUTS && h < HIDDEN) {
                    state[i * HIDDEN + h] = acc[k][j];
                }
            }
        }
    } else if (id.x < blocks + HIDDEN) {
        let h = id.x - blocks;
        var acc = 0.0;
        for (var b = 0u; b < rows; b++) {
            acc += scratch[hidden_grad() + b * HIDDEN + h];
        }
        state[hidden_bias() + h] = acc;
    }
}

// The gradient with the proximal term's, mu * (w - base).
fn gradient(p: u32) -> f32 {
    var g = state[p];
    if (step.mu > 0.0) {
        g += step.mu * (params[p] - state[3u * params_len() + p]);
    }
    return g;
}

// Adam as burn computes it.
@compute @workgroup_size(64)
fn adam(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = id.x;
    let len = params_len();
    if (p >= len) {
        return;
    }
    let g = gradient(p);
    let m = state[len + p] * step.beta_1 + g * (1.0 - step.beta_1);
    let v = state[2u * len + p] * step.beta_2 + (g * g) * (1.0 - step.beta_2);
    state[len + p] = m;
    state[2u * len + p] = v;
    let update = (m * step.adam_factor) / (sqrt(v) + step.adam_epsilon);
    params[p] = params[p] - update * step.learning_rate;
}

// SGD with burn's heavy-ball momentum (velocity = (1 - dampening) g + momentum * velocity).
@compute @workgroup_size(64)
fn sgd(@builtin(global_invocation_id) id: vec3<u32>) {
    let p = id.x;
    let len = params_len();
    if (p >= len) {
        return;
    }
    var velocity = gradient(p);
    if (step.momentum > 0.0) {
        if (step.first == 0u) {
            velocity = velocity * step.gradient_share + state[len + p] * step.momentum;
        }
        state[len + p] = velocity;
    }
    params[p] = params[p] - velocity * step.learning_rate;
}
