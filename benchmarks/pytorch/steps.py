"""One optimizer step of each dropPIN benchmark workload on PyTorch, in ms: the twin of
`cargo bench -p droppin-fl --features wgpu,autotune --bench steps`
(crates/droppin-fl/benches/steps.rs, workloads in crates/droppin-fl/src/workload.rs). The same
step: uniform samples (token ids for the text model) in 4 batches placed on the device first,
Adam at 1e-3, softmax cross-entropy, each step timed until its loss has been read back. Criterion
warms up and samples on its side; here 5 warm-up steps run, then the median of 50 timed ones is
printed. The catalog models are built from their manifests (crates/droppin-task/catalog) layer
for layer.

    python3 benchmarks/pytorch/steps.py [--device cuda|cpu] [--criterion target/criterion]

With --criterion (the folder where that benchmark left its results, run on the same machine
first), it also prints each workload's dropPIN engines beside PyTorch: ms per step and the ratio
to PyTorch's step time (the issue's target: within 2x), and the fused kernels' time over burn's
wgpu backend's (the target: never above 1).
"""

import argparse
import json
import pathlib
import statistics
import time

import torch
from torch import nn

CATALOG = pathlib.Path(__file__).resolve().parents[2] / "crates/droppin-task/catalog"
WARMUP, TIMED, BATCHES = 5, 50, 4


class Embed(nn.Module):
    """Token vectors plus a learned vector per position."""

    def __init__(self, vocabulary, context, dim):
        super().__init__()
        self.tokens = nn.Embedding(vocabulary, dim)
        self.positions = nn.Parameter(torch.zeros(context, dim))

    def forward(self, ids):
        return self.tokens(ids) + self.positions


class TransformerBlock(nn.Module):
    """Pre-norm: causal self-attention, then a GELU feed-forward block, each added back."""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.attention_norm = nn.LayerNorm(dim)
        self.attention = nn.MultiheadAttention(dim, heads, batch_first=True)
        self.feed_norm = nn.LayerNorm(dim)
        self.feed = nn.Sequential(nn.Linear(dim, hidden), nn.GELU(), nn.Linear(hidden, dim))

    def forward(self, x):
        positions = x.shape[1]
        mask = torch.triu(torch.ones(positions, positions, dtype=torch.bool, device=x.device), 1)
        normed = self.attention_norm(x)
        x = x + self.attention(normed, normed, normed, attn_mask=mask, need_weights=False)[0]
        return x + self.feed(self.feed_norm(x))


def catalog_model(name):
    """The manifest's layers; returns (model, sample shape, classes, is_text)."""
    manifest = json.loads((CATALOG / f"{name}.json").read_text())
    data, layers, width = manifest["data"], [], None
    text = data["kind"] == "text"
    if text:
        shape = [data["context"]]
    elif data["kind"] == "tabular":
        # A number per numeric column, a one-hot per categorical one.
        shape = [sum(len(c["values"]) if c["type"] == "categorical" else 1 for c in data["columns"])]
    else:
        shape = [data["channels"], data["height"], data["width"]]
    for layer in manifest["model"]:
        kind = layer["layer"]
        if kind == "dense":
            layers.append(nn.LazyLinear(layer["units"]))
            width = layer["units"]
        elif kind == "conv2d":
            layers.append(nn.LazyConv2d(layer["channels"], layer["kernel"], layer["stride"], layer["padding"]))
        elif kind == "max_pool2d":
            layers.append(nn.MaxPool2d(layer["kernel"]))
        elif kind == "avg_pool2d":
            layers.append(nn.AvgPool2d(layer["kernel"]))
        elif kind == "relu":
            layers.append(nn.ReLU())
        elif kind == "gelu":
            layers.append(nn.GELU())
        elif kind == "tanh":
            layers.append(nn.Tanh())
        elif kind == "dropout":
            layers.append(nn.Dropout(layer["rate"]))
        elif kind == "flatten":
            layers.append(nn.Flatten())
        elif kind == "layer_norm":
            if width is None:
                raise SystemExit(f"{name}: a layer norm here needs the width of a dense or embedding layer before it")
            layers.append(nn.LayerNorm(width))
        elif kind == "embedding":
            # The vocabulary is the model's last dense layer's width (the next-token classes).
            vocabulary = manifest["model"][-1]["units"]
            layers.append(Embed(vocabulary, data["context"], layer["dim"]))
            width = layer["dim"]
        elif kind == "transformer_block":
            layers.append(TransformerBlock(width, layer["heads"], layer["hidden"]))
        else:
            raise SystemExit(f"{name}: layer {kind} has no PyTorch twin here")
    return nn.Sequential(*layers), shape, manifest["model"][-1]["units"], text


def mlp(inputs, width, classes):
    return nn.Sequential(nn.Linear(inputs, width), nn.ReLU(), nn.Linear(width, classes)), [inputs], classes, False


WORKLOADS = {
    "digits": (lambda: mlp(64, 64, 10), 32),
    "breast-cancer": (lambda: catalog_model("breast-cancer"), 16),
    "mnist": (lambda: mlp(784, 128, 10), 64),
    "mnist-256": (lambda: mlp(784, 256, 10), 64),
    "mnist-512": (lambda: mlp(784, 512, 10), 64),
    "mnist-wide": (lambda: mlp(784, 1024, 10), 256),
    "mnist-cnn": (lambda: catalog_model("mnist-cnn"), 64),
    "cifar10-cnn": (lambda: catalog_model("cifar10-cnn"), 64),
    "char-lm": (lambda: catalog_model("char-lm"), 8),
}


def batches(shape, classes, text, batch, device, generator):
    """BATCHES seeded batches of samples and targets (a target per position for text)."""
    out = []
    for _ in range(BATCHES):
        if text:
            x = torch.randint(0, classes, [batch, *shape], generator=generator)
            y = torch.randint(0, classes, [batch * shape[0]], generator=generator)
        else:
            x = torch.rand([batch, *shape], generator=generator)
            y = torch.randint(0, classes, [batch], generator=generator)
        out.append((x.to(device), y.to(device)))
    return out


def run(name, device):
    build, batch = WORKLOADS[name]
    model, shape, classes, text = build()
    model = model.to(device)
    data = batches(shape, classes, text, batch, device, torch.Generator().manual_seed(42))
    model(data[0][0])  # materializes the lazy layers before the optimizer sees them
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    times = []
    for step in range(WARMUP + TIMED):
        x, y = data[step % BATCHES]
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        logits = model(x)
        loss = loss_fn(logits.reshape(-1, classes), y)
        loss.backward()
        optimizer.step()
        loss.item()  # reads the loss back, which waits for the step
        times.append((time.perf_counter() - start) * 1e3)
    return statistics.median(times[WARMUP:]), times[0]


# The step benchmark's engines (crates/droppin-fl/benches/steps.rs), as criterion names them.
ENGINES = ("kernels", "burn_wgpu", "burn_cpu")


def criterion_ms(folder, engine, workload):
    """Criterion's median for one engine and workload, in ms; None where it did not run."""
    estimates = pathlib.Path(folder) / "step" / engine / workload / "new" / "estimates.json"
    if not estimates.exists():
        return None
    return json.loads(estimates.read_text())["median"]["point_estimate"] / 1e6


def compare(folder, torch_ms):
    """Each workload's engines beside PyTorch: ms/step (x PyTorch), and kernels / burn wgpu."""
    print(f"\n{'workload':<13} " + " ".join(f"{engine:>20}" for engine in ENGINES) + f" {'PyTorch':>9} {'kernels/burn':>12}")
    for workload, reference in torch_ms.items():
        ms = {engine: criterion_ms(folder, engine, workload) for engine in ENGINES}
        cells = [f"{ms[e]:>9.3f} ({ms[e] / reference:>5.2f}x)" if ms[e] else f"{'-':>20}" for e in ENGINES]
        ratio = f"{ms['kernels'] / ms['burn_wgpu']:>12.2f}" if ms["kernels"] and ms["burn_wgpu"] else f"{'-':>12}"
        print(f"{workload:<13} " + " ".join(f"{cell:>20}" for cell in cells) + f" {reference:>9.3f} {ratio}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--criterion", help="the step benchmark's criterion folder, to compare")
    args = parser.parse_args()
    device = torch.device(args.device)
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"PyTorch {torch.__version__} on {name}")
    print(f"{'workload':<13} {'batch':>5} {'ms/step':>9} {'first ms':>9}")
    torch_ms = {}
    for workload, (_, batch) in WORKLOADS.items():
        median, first = run(workload, device)
        torch_ms[workload] = median
        print(f"{workload:<13} {batch:>5} {median:>9.3f} {first:>9.1f}")
    if args.criterion:
        compare(args.criterion, torch_ms)


if __name__ == "__main__":
    main()
