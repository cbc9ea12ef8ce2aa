//! Aggregation rules at n = 10 and 100 updates of d = 100k and 1M values, beside a memcpy of the
//! same n * d values (the memory-bandwidth yardstick). `scripts/bench-flower.py` times Flower's
//! implementations on the same shapes.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use droppin_fl::aggregate::{Aggregator, ClientUpdate, Rule};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_distr::{Distribution, StandardNormal};

fn updates(n: usize, d: usize) -> Vec<Vec<f32>> {
    let mut rng = ChaCha20Rng::seed_from_u64(0);
    (0..n)
        .map(|_| (0..d).map(|_| StandardNormal.sample(&mut rng)).collect())
        .collect()
}

fn aggregation(c: &mut Criterion) {
    let mut group = c.benchmark_group("aggregation");
    group.sample_size(10);
    for (n, d) in [
        (10, 100_000),
        (10, 1_000_000),
        (100, 100_000),
        (100, 1_000_000),
    ] {
        let data = updates(n, d);
        let inputs: Vec<ClientUpdate<'_>> = data
            .iter()
            .map(|u| ClientUpdate {
                delta: u,
                samples: 100,
            })
            .collect();
        let f = n / 10;
        group.throughput(Throughput::Bytes((n * d * 4) as u64));
        let shape = format!("n{n}_d{d}");
        group.bench_with_input(BenchmarkId::new("memcpy", &shape), &data, |b, data| {
            let mut out: Vec<Vec<f32>> = data.iter().map(|u| vec![0.0; u.len()]).collect();
            b.iter(|| {
                out.iter_mut()
                    .zip(data)
                    .for_each(|(o, u)| o.copy_from_slice(u))
            })
        });
        let mut rules = vec![
            ("fedavg", Rule::FedAvg),
            ("fedavgm", Rule::named("fedavgm", f, n).expect("named")),
            ("fedadam", Rule::named("fedadam", f, n).expect("named")),
            ("fedyogi", Rule::named("fedyogi", f, n).expect("named")),
            ("median", Rule::Median),
            ("trimmed-mean", Rule::TrimmedMean { beta: 0.2 }),
            ("krum", Rule::Krum { f }),
            ("multi-krum", Rule::MultiKrum { f, m: n - f }),
            (
                "fltrust",
                Rule::FlTrust {
                    root: data[0].clone(),
                },
            ),
        ];
        if n >= 4 * f + 3 {
            rules.push(("bulyan", Rule::Bulyan { f }));
        }
        for (name, rule) in rules {
            let mut aggregator = Aggregator::new(rule);
            group.bench_function(BenchmarkId::new(name, &shape), |b| {
                b.iter(|| aggregator.aggregate(&inputs).expect("aggregates"))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, aggregation);
criterion_main!(benches);
