//! One optimizer step of each benchmark workload (Adam at 1e-3, the batch already on the device,
//! the loss read back), on burn's CPU backend, and with the `wgpu` feature on a machine with a GPU
//! adapter on burn's wgpu backend and, for the MLPs, on the engine's fused kernels. Their PyTorch
//! twin is `benchmarks/pytorch/steps.py`.
//!
//! `cargo bench -p droppin-fl --features wgpu,autotune --bench steps`

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use droppin_fl::device::{DEVICE_NAMES, device};
use droppin_fl::model::Weights;
use droppin_fl::train::{LocalOptimizer, LocalTrainer, TrainConfig};
use droppin_fl::workload::{WORKLOADS, Workload};

/// Batches cycled through, placed on the device before timing.
const BATCHES: usize = 4;

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("step");
    group.sample_size(10);
    #[cfg(feature = "gpu")]
    let gpu = pollster::block_on(droppin_fl::gpu::Gpu::request())
        .inspect(|gpu| eprintln!("step/kernels: on {}", gpu.adapter))
        .inspect_err(|error| eprintln!("step/kernels: skipped ({error})"))
        .ok();
    for name in WORKLOADS {
        let workload = Workload::parse(name).expect("a known workload");
        let data = workload
            .synthetic_data(BATCHES)
            .expect("samples of the model's shape");
        let base = Weights::initial(&workload.spec, 1);
        let config = TrainConfig {
            optimizer: LocalOptimizer::Adam,
            epochs: 1,
            batch_size: workload.batch,
            learning_rate: 1e-3,
            ..TrainConfig::default()
        };
        let rows: Vec<Vec<usize>> = (0..BATCHES)
            .map(|b| (b * workload.batch..(b + 1) * workload.batch).collect())
            .collect();
        group.throughput(Throughput::Elements(workload.batch as u64));
        for device_name in DEVICE_NAMES {
            let device = match device(device_name) {
                Ok(device) => device,
                Err(error) => {
                    eprintln!("step/burn_{device_name}: skipped ({error})");
                    continue;
                }
            };
            let mut trainer = LocalTrainer::new(&workload.spec, &base, &data, &config, &device)
                .expect("a trainer for the workload");
            let batches: Vec<_> = rows.iter().map(|rows| trainer.device_batch(rows)).collect();
            let mut next = 0;
            let mut step = || {
                let (inputs, targets) = batches[next % BATCHES].clone();
                next += 1;
                trainer.step_on(inputs, targets).into_scalar::<f32>()
            };
            let mut tuned = false;
            group.bench_function(BenchmarkId::new(format!("burn_{device_name}"), name), |b| {
                // burn tunes its kernels on their first launches: tuned before anything is
                // timed, and only for a benchmark the filter runs.
                if !tuned {
                    (0..BATCHES).for_each(|_| _ = step());
                    tuned = true;
                }
                b.iter(&mut step)
            });
        }
        #[cfg(feature = "gpu")]
        if let (Some(gpu), Some((droppin_fl::model::ModelKind::Mlp, _))) =
            (&gpu, workload.spec.standard())
        {
            let mut trainer = pollster::block_on(droppin_fl::gpu::MlpTrainer::new(
                gpu,
                &workload.spec,
                &base,
                &data,
                &config,
            ))
            .expect("the kernels take the MLP");
            let mut next = 0;
            group.bench_function(BenchmarkId::new("kernels", name), |b| {
                b.iter(|| {
                    trainer.step_on(&rows[next % BATCHES]).expect("a step");
                    next += 1;
                    pollster::block_on(trainer.loss()).expect("the loss")
                })
            });
        }
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
