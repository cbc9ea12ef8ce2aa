// The dropPIN benchmark workloads on TensorFlow.js, with the protocol of the app's benchmark mode
// (web/src/bench.rs): seeded synthetic data, 4 batches placed on the device first, Adam lr 1e-3,
// softmax cross-entropy, 5 warm-up steps (the first reported alone), then 50 timed steps, each
// timed until its loss has been read back.
// `?workload=mnist|digits|cifar10-cnn|char-lm&backend=webgpu|wasm|cpu`. The last two are the catalog
// tasks' models, layer for layer (crates/droppin-task/catalog), at their recipes' batch sizes.
const WORKLOADS = {
  mnist: { kind: "mlp", input: 784, hidden: 128, classes: 10, batch: 64 },
  digits: { kind: "mlp", input: 64, hidden: 64, classes: 10, batch: 32 },
  "cifar10-cnn": { kind: "cnn", side: 32, channels: 3, classes: 10, batch: 64 },
  "char-lm": { kind: "text", context: 64, vocabulary: 37, dim: 64, heads: 4, hidden: 256, batch: 8 },
};
const WARMUP = 5, TIMED = 50, BATCHES = 4;

// A small seeded generator (mulberry32): the data only has to be the same on every run.
function random(seed) {
  return () => {
    seed |= 0; seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// One batch of seeded inputs and one-hot targets: uniform features (NHWC images for the CNN), or
// token ids with a next token at every position for the text model.
function syntheticBatch(w, next) {
  if (w.kind === "text") {
    const ids = Int32Array.from({ length: w.batch * w.context }, () => Math.floor(next() * w.vocabulary));
    const targets = Int32Array.from({ length: w.batch * w.context }, () => Math.floor(next() * w.vocabulary));
    return [tf.tensor2d(ids, [w.batch, w.context], "int32"), tf.oneHot(tf.tensor1d(targets, "int32"), w.vocabulary)];
  }
  const shape = w.kind === "cnn" ? [w.batch, w.side, w.side, w.channels] : [w.batch, w.input];
  const size = shape.reduce((a, b) => a * b, 1);
  const x = new Float32Array(size).map(() => next());
  const labels = Int32Array.from({ length: w.batch }, () => Math.floor(next() * w.classes));
  return [tf.tensor(x, shape), tf.oneHot(tf.tensor1d(labels, "int32"), w.classes)];
}

// The MLP and the CNN as Keras-style layers; the step's loss with dropout on.
function layersModel(w) {
  const layers = w.kind === "cnn"
    ? [
        tf.layers.conv2d({ inputShape: [w.side, w.side, w.channels], filters: 32, kernelSize: 3, padding: "same", activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.conv2d({ filters: 64, kernelSize: 3, padding: "same", activation: "relu" }),
        tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }),
        tf.layers.flatten(),
        tf.layers.dropout({ rate: 0.25 }),
        tf.layers.dense({ units: 128, activation: "relu" }),
        tf.layers.dense({ units: w.classes }),
      ]
    : [
        tf.layers.dense({ inputShape: [w.input], units: w.hidden, activation: "relu" }),
        tf.layers.dense({ units: w.classes }),
      ];
  const model = tf.sequential({ layers });
  return (x, y) => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true }));
}

// The character model as the engine builds it: token and position vectors, one pre-norm block
// (causal multi-head attention, then a GELU feed-forward, each added back), a final layer norm
// and the output layer, predicting the next token at every position. TF.js has no attention
// layer, so it is written with its ops.
function textModel(w) {
  const [T, D, H, F, V] = [w.context, w.dim, w.heads, w.hidden, w.vocabulary];
  const dk = D / H;
  const uniform = (shape, bound) => tf.variable(tf.randomUniform(shape, -bound, bound));
  const ones = (n) => tf.variable(tf.ones([n]));
  const zeros = (n) => tf.variable(tf.zeros([n]));
  const dense = (i, o) => ({ w: uniform([i, o], 1 / Math.sqrt(i)), b: zeros(o) });
  const p = {
    tokens: uniform([V, D], 0.05), positions: uniform([T, D], 0.05),
    norm1: [ones(D), zeros(D)], q: dense(D, D), k: dense(D, D), v: dense(D, D), o: dense(D, D),
    norm2: [ones(D), zeros(D)], up: dense(D, F), down: dense(F, D),
    norm3: [ones(D), zeros(D)], out: dense(D, V),
  };
  const norm = (x, [g, b]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).div(variance.add(1e-5).sqrt()).mul(g).add(b);
  };
  const linear = (x, l) => x.matMul(l.w).add(l.b);
  const gelu = (x) => x.mul(0.5).mul(tf.erf(x.div(Math.SQRT2)).add(1));
  const causal = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e4);
  const heads = (x, B) => x.reshape([B, T, H, dk]).transpose([0, 2, 1, 3]);
  return (ids, y) => {
    const B = ids.shape[0];
    let x = tf.gather(p.tokens, ids).add(p.positions).reshape([B * T, D]);
    const h = norm(x, p.norm1);
    const [q, k, v] = [p.q, p.k, p.v].map((l) => heads(linear(h, l), B));
    const scores = q.matMul(k, false, true).div(Math.sqrt(dk)).add(causal);
    const context = tf.softmax(scores).matMul(v).transpose([0, 2, 1, 3]).reshape([B * T, D]);
    x = x.add(linear(context, p.o));
    x = x.add(linear(gelu(linear(norm(x, p.norm2), p.up)), p.down));
    const logits = linear(norm(x, p.norm3), p.out);
    return tf.losses.softmaxCrossEntropy(y, logits);
  };
}

async function run(name, backend) {
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown workload ${name}`);
  if (backend === "wasm") tf.wasm.setWasmPaths("lib/");
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  await tf.ready();
  const next = random(42);
  const batches = [];
  for (let b = 0; b < BATCHES; b++) batches.push(syntheticBatch(w, next));
  const lossOf = w.kind === "text" ? textModel(w) : layersModel(w);
  const optimizer = tf.train.adam(1e-3);
  const times = [], losses = [];
  for (let step = 0; step < WARMUP + TIMED; step++) {
    const [x, y] = batches[step % BATCHES];
    const start = performance.now();
    const loss = optimizer.minimize(() => lossOf(x, y), true);
    const value = (await loss.data())[0];
    times.push(performance.now() - start);
    losses.push(value);
    loss.dispose();
    // Back to the event loop between steps (untimed), as the app does: a slow backend keeps the
    // page responsive to the runner.
    await new Promise((resolve) => setTimeout(resolve, 0));
  }
  const timed = times.slice(WARMUP).sort((a, b) => a - b);
  const median = (timed[TIMED / 2 - 1] + timed[TIMED / 2]) / 2;
  return {
    workload: name, backend, batch: w.batch,
    first_step_ms: times[0], median_ms_per_step: median,
    samples_per_s: (w.batch * 1000) / median,
    loss_first: losses[0], loss_last: losses[losses.length - 1], timed_steps: TIMED,
  };
}

const params = new URLSearchParams(location.search);
const out = document.getElementById("bench-result");
run(params.get("workload") || "mnist", params.get("backend") || "webgpu").then(
  (result) => { out.textContent = JSON.stringify(result); out.dataset.state = "done"; },
  (error) => { out.textContent = String(error); out.dataset.state = "error"; },
);
