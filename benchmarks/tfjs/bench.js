// The dropPIN benchmark workloads on TensorFlow.js, with the protocol of the app's benchmark mode
// (web/src/bench.rs): seeded synthetic data, 4 batches placed on the device first, Adam lr 1e-3,
// softmax cross-entropy, 5 warm-up steps (the first reported alone), then 50 timed steps, each
// timed until its loss has been read back. `?workload=mnist|digits&backend=webgpu|wasm`.
const WORKLOADS = {
  mnist: { input: 784, hidden: 128, classes: 10, batch: 64 },
  digits: { input: 64, hidden: 64, classes: 10, batch: 32 },
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

async function run(name, backend) {
  const w = WORKLOADS[name];
  if (!w) throw new Error(`unknown workload ${name}`);
  if (backend === "wasm") tf.wasm.setWasmPaths("lib/");
  if (!(await tf.setBackend(backend))) throw new Error(`backend ${backend} unavailable`);
  await tf.ready();
  const next = random(42);
  const batches = [];
  for (let b = 0; b < BATCHES; b++) {
    const x = new Float32Array(w.batch * w.input).map(() => next());
    const labels = Int32Array.from({ length: w.batch }, () => Math.floor(next() * w.classes));
    batches.push([tf.tensor2d(x, [w.batch, w.input]), tf.oneHot(tf.tensor1d(labels, "int32"), w.classes)]);
  }
  const model = tf.sequential({ layers: [
    tf.layers.dense({ inputShape: [w.input], units: w.hidden, activation: "relu" }),
    tf.layers.dense({ units: w.classes }),
  ] });
  const optimizer = tf.train.adam(1e-3);
  const times = [], losses = [];
  for (let step = 0; step < WARMUP + TIMED; step++) {
    const [x, y] = batches[step % BATCHES];
    const start = performance.now();
    const loss = optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x)), true);
    const value = (await loss.data())[0];
    times.push(performance.now() - start);
    losses.push(value);
    loss.dispose();
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
