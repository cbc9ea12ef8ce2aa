//! Local training throughput (samples per second) of both models on the CPU (Flex) backend.

use burn::tensor::Device;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use droppin_fl::data::digits;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::train::{TrainConfig, train};

fn training(c: &mut Criterion) {
    let split = digits().expect("shipped digits");
    let mut group = c.benchmark_group("training");
    group.sample_size(10);
    group.throughput(Throughput::Elements(split.train.len() as u64));
    for spec in [ModelSpec::digits_mlp(), ModelSpec::digits_cnn()] {
        let base = Weights::initial(&spec, 1);
        let config = TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        };
        let device = Device::flex();
        group.bench_function(
            BenchmarkId::new("flex_epoch", format!("{:?}", spec.kind).to_lowercase()),
            |b| {
                b.iter(|| {
                    train(&spec, &base, &split.train, &config, &device, |_| {}).expect("trains")
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
