//! Local training throughput (samples per second) of both models on the CPU (Flex backend), and on
//! wgpu when built with the `wgpu` feature on a machine with a GPU adapter.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use droppin_fl::data::digits;
use droppin_fl::device::device;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::privacy::DpSgd;
use droppin_fl::train::{TrainConfig, train};

fn training(c: &mut Criterion) {
    let split = digits().expect("shipped digits");
    let mut group = c.benchmark_group("training");
    group.sample_size(10);
    group.throughput(Throughput::Elements(split.train.len() as u64));
    for name in ["cpu", "wgpu"] {
        let device = match device(name) {
            Ok(device) => device,
            Err(error) => {
                eprintln!("training/{name}: skipped ({error})");
                continue;
            }
        };
        for spec in [ModelSpec::digits_mlp(), ModelSpec::digits_cnn()] {
            let base = Weights::initial(&spec, 1);
            let config = TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            };
            let model = format!("{:?}", spec.kind).to_lowercase();
            group.bench_function(BenchmarkId::new(format!("{name}_epoch"), model), |b| {
                b.iter(|| {
                    train(&spec, &base, &split.train, &config, &device, |_| {}).expect("trains")
                })
            });
        }
    }
    // DP-SGD: one backward pass per example, the price of per-example clipping in burn.
    let device = device("cpu").expect("the CPU is always there");
    let spec = ModelSpec::digits_mlp();
    let base = Weights::initial(&spec, 1);
    let dp_sgd = Some(DpSgd {
        clip_norm: 1.0,
        noise_multiplier: 1.0,
    });
    let config = TrainConfig {
        epochs: 1,
        dp_sgd,
        ..TrainConfig::default()
    };
    group.bench_function(BenchmarkId::new("cpu_epoch_dp_sgd", "mlp"), |b| {
        b.iter(|| train(&spec, &base, &split.train, &config, &device, |_| {}).expect("trains"))
    });
    group.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
