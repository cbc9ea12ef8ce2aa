#!/usr/bin/env python3
"""Times Flower's own aggregation functions on the same shapes as `cargo bench --bench aggregation`.

Usage: python3 scripts/bench-flower.py [n] [d]   (installs flwr 1.42 and numpy if missing)
"""
import subprocess
import sys
import time

try:
    import numpy as np
    from flwr.server.strategy import aggregate as agg
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "-q", "flwr==1.42.*", "numpy"])
    import numpy as np
    from flwr.server.strategy import aggregate as agg

n = int(sys.argv[1]) if len(sys.argv) > 1 else 100
d = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
f = n // 10
rng = np.random.default_rng(0)
updates = [[rng.standard_normal(d, dtype=np.float32)] for _ in range(n)]
results = [(u, 100) for u in updates]


def timed(name, fn, repeats=3):
    """Best of `repeats` calls (numpy's temporaries then reuse freed heap memory, as in a
    long-running server), and the first call of its kind in this process (fresh memory)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    print(f"{name:<14} n={n} d={d}: best {min(times):.3f} s, first call {times[0]:.3f} s")


timed("memcpy", lambda: [u[0].copy() for u in updates])
timed("fedavg", lambda: agg.aggregate(results))
timed("median", lambda: agg.aggregate_median(results))
timed("trimmed-mean", lambda: agg.aggregate_trimmed_avg(results, 0.2))
timed("krum", lambda: agg.aggregate_krum(results, f, 0), repeats=1)
timed("multi-krum", lambda: agg.aggregate_krum(results, f, n - f), repeats=1)
timed("bulyan", lambda: agg.aggregate_bulyan(results, f, agg.aggregate_krum, to_keep=0), repeats=1)
