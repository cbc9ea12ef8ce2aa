//! Local training throughput (samples per second) of both models on the CPU (Flex backend), and on
//! wgpu when built with the `wgpu` feature on a machine with a GPU adapter: burn's backend, and
//! the engine's fused MLP kernels (feature `gpu`). Then the committee's reference update on each
//! catalog model (its exact `f64` trainer, twice: the recipe's seed and the retraining's) beside
//! one training of the same samples on burn's CPU backend.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use droppin_fl::data::digits;
use droppin_fl::device::device;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::privacy::DpSgd;
use droppin_fl::train::{TrainConfig, train};
use droppin_fl::validate::Reference;
use droppin_fl::workload::Workload;

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
        for (model, spec) in [
            ("mlp", ModelSpec::digits_mlp()),
            ("cnn", ModelSpec::digits_cnn()),
        ] {
            let base = Weights::initial(&spec, 1);
            let config = TrainConfig {
                epochs: 1,
                ..TrainConfig::default()
            };
            group.bench_function(BenchmarkId::new(format!("{name}_epoch"), model), |b| {
                b.iter(|| {
                    train(&spec, &base, &split.train, &config, &device, |_| {}).expect("trains")
                })
            });
        }
    }
    #[cfg(feature = "gpu")]
    fused_kernels(&mut group, &split.train);
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

/// One epoch of the MLP on the engine's GPU kernels, reading every step's loss as `train` does.
#[cfg(feature = "gpu")]
fn fused_kernels(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    data: &droppin_fl::data::Dataset,
) {
    use droppin_fl::gpu::{Gpu, train_mlp};
    let gpu = match pollster::block_on(Gpu::request()) {
        Ok(gpu) => gpu,
        Err(error) => {
            eprintln!("training/gpu_kernels: skipped ({error})");
            return;
        }
    };
    eprintln!("training/gpu_kernels: on {}", gpu.adapter);
    let spec = ModelSpec::digits_mlp();
    let base = Weights::initial(&spec, 1);
    let config = TrainConfig {
        epochs: 1,
        ..TrainConfig::default()
    };
    group.bench_function(BenchmarkId::new("gpu_kernels_epoch", "mlp"), |b| {
        b.iter(|| pollster::block_on(train_mlp(&gpu, &spec, &base, data, &config)).expect("trains"))
    });
}

/// The committee's reference (four exact trainings: the sample twice, each half for twice the
/// epochs) against one training on burn's CPU backend: one epoch over four of each workload's
/// batches, at its recipe's batch size.
fn reference(c: &mut Criterion) {
    let mut group = c.benchmark_group("reference");
    group.sample_size(10);
    let device = device("cpu").expect("the CPU is always there");
    for name in ["digits", "mnist-cnn", "cifar10-cnn", "char-lm"] {
        let workload = Workload::parse(name).expect("a workload");
        let data = workload.synthetic_data(4).expect("fits the model");
        let base = Weights::initial(&workload.spec, 1);
        let config = TrainConfig {
            epochs: 1,
            batch_size: workload.batch,
            ..TrainConfig::default()
        };
        group.throughput(Throughput::Elements(data.len() as u64));
        group.bench_function(BenchmarkId::new("exact_reference", name), |b| {
            b.iter(|| Reference::train(&workload.spec, &base, &data, &config).expect("trains"))
        });
        group.bench_function(BenchmarkId::new("burn_cpu_once", name), |b| {
            b.iter(|| {
                train(&workload.spec, &base, &data, &config, &device, |_| {}).expect("trains")
            })
        });
    }
    group.finish();
}

criterion_group!(benches, training, reference);
criterion_main!(benches);
