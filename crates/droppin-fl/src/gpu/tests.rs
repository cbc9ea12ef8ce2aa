//! The kernels against the CPU trainer, on the same batches: a machine without a GPU runs them
//! on a software adapter (Mesa's llvmpipe).

use burn::tensor::Device;

use super::*;
use crate::data::digits;
use crate::model::{ModelSpec, Weights};
use crate::privacy::DpSgd;
use crate::train::{LocalOptimizer, LocalTrainer, TrainConfig};

fn gpu() -> Gpu {
    pollster::block_on(Gpu::request())
        .expect("a wgpu adapter (Mesa's software adapters serve machines without a GPU)")
}

/// Per-step losses and final weights of the CPU trainer.
fn on_cpu(
    spec: &ModelSpec,
    base: &Weights,
    data: &crate::data::Dataset,
    config: &TrainConfig,
) -> (Vec<f32>, Weights) {
    let mut trainer = LocalTrainer::new(spec, base, data, config, &Device::flex()).unwrap();
    let mut losses = Vec::new();
    while let Some(step) = trainer.step() {
        losses.push(step.loss.into_scalar::<f32>());
    }
    (losses, trainer.into_weights())
}

/// The same on the GPU kernels.
fn on_gpu(
    gpu: &Gpu,
    spec: &ModelSpec,
    base: &Weights,
    data: &crate::data::Dataset,
    config: &TrainConfig,
) -> (Vec<f32>, Weights) {
    let mut trainer = pollster::block_on(MlpTrainer::new(gpu, spec, base, data, config)).unwrap();
    let mut losses = Vec::new();
    while trainer.step().is_some() {
        losses.push(pollster::block_on(trainer.loss()).unwrap());
    }
    (losses, pollster::block_on(trainer.weights()).unwrap())
}

/// Trains on both and holds the kernels' losses and weights to the CPU trainer's; returns the
/// kernels' losses.
fn assert_trains_like_the_cpu(
    gpu: &Gpu,
    spec: &ModelSpec,
    base: &Weights,
    data: &crate::data::Dataset,
    config: &TrainConfig,
) -> Vec<f32> {
    let (cpu_losses, cpu_weights) = on_cpu(spec, base, data, config);
    let (gpu_losses, gpu_weights) = on_gpu(gpu, spec, base, data, config);
    assert_eq!(cpu_losses.len(), gpu_losses.len(), "{config:?}");
    for (step, (c, g)) in cpu_losses.iter().zip(&gpu_losses).enumerate() {
        assert!(
            (c - g).abs() <= 1e-5 * c.abs().max(1.0),
            "{config:?}: step {step}: loss {g} on the GPU, {c} on the CPU"
        );
    }
    let worst = cpu_weights
        .values
        .iter()
        .zip(&gpu_weights.values)
        .map(|(c, g)| (c - g).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-5, "{config:?}: weights differ by up to {worst}");
    assert_eq!(cpu_weights.layout, gpu_weights.layout);
    gpu_losses
}

#[test]
fn kernels_train_like_the_cpu_trainer() {
    let gpu = gpu();
    let data = digits()
        .unwrap()
        .train
        .subset(&(0..300).collect::<Vec<_>>());
    let spec = ModelSpec::digits_mlp();
    let base = Weights::initial(&spec, 7);
    let configs = [
        TrainConfig {
            optimizer: LocalOptimizer::Adam,
            learning_rate: 0.01,
            ..TrainConfig::default()
        },
        TrainConfig {
            optimizer: LocalOptimizer::Adam,
            learning_rate: 0.005,
            proximal_mu: Some(0.1),
            batch_size: 64,
            ..TrainConfig::default()
        },
        TrainConfig {
            optimizer: LocalOptimizer::Sgd { momentum: 0.9 },
            learning_rate: 0.1,
            ..TrainConfig::default()
        },
        TrainConfig {
            optimizer: LocalOptimizer::Sgd { momentum: 0.0 },
            learning_rate: 0.2,
            seed: 5,
            ..TrainConfig::default()
        },
        TrainConfig {
            optimizer: LocalOptimizer::Sgd { momentum: 0.5 },
            learning_rate: 0.1,
            proximal_mu: Some(0.5),
            // Larger than the data: one batch of all 300 samples per epoch.
            batch_size: 512,
            epochs: 4,
            ..TrainConfig::default()
        },
    ];
    for config in configs {
        let losses = assert_trains_like_the_cpu(&gpu, &spec, &base, &data, &config);
        assert!(losses.last() < losses.first(), "{losses:?}");
    }
}

/// Seeded uniform samples for `spec` and their labels: `batches` batches of `batch`.
fn synthetic_data(spec: &ModelSpec, batch: usize, batches: usize) -> crate::data::Dataset {
    let workload = crate::workload::Workload {
        name: "test",
        spec: spec.clone(),
        batch,
    };
    workload.synthetic_data(batches).unwrap()
}

#[test]
fn fedprox_over_more_chunks_than_invocations_trains_like_the_cpu() {
    // 68,003 parameters: 67 partial sums of FedProx's term, more than the 64 invocations of the
    // workgroup that adds them up, so some add two.
    let spec = ModelSpec::mlp(vec![64], 1000, 3);
    let data = synthetic_data(&spec, 20, 2);
    let base = Weights::initial(&spec, 3);
    // SGD: Adam's step is steepest in the gradient where the gradient is near its epsilon
    // (lr / 4 epsilon: 250x at lr 0.01) and FedProx pulls gradients there; with Adam at 0.01 on
    // this shape, some seeds' data left the kernels' and the CPU's rounding 3.4e-5 apart in the
    // weights.
    let config = TrainConfig {
        optimizer: LocalOptimizer::Sgd { momentum: 0.9 },
        learning_rate: 0.1,
        proximal_mu: Some(0.5),
        batch_size: 20,
        epochs: 2,
        ..TrainConfig::default()
    };
    let losses = assert_trains_like_the_cpu(&gpu(), &spec, &base, &data, &config);
    assert_eq!(losses.len(), 4);
}

#[test]
fn shapes_off_the_tile_grid_train_like_the_cpu() {
    // 13 inputs, 10 hidden units, 3 classes, 50 samples in batches of 16: every edge of the
    // kernels' 4 x 4 blocks is ragged.
    let spec = ModelSpec::mlp(vec![13], 10, 3);
    let data = synthetic_data(&spec, 10, 5);
    let base = Weights::initial(&spec, 2);
    let config = TrainConfig {
        batch_size: 16,
        epochs: 3,
        ..TrainConfig::default()
    };
    let losses = assert_trains_like_the_cpu(&gpu(), &spec, &base, &data, &config);
    assert_eq!(losses.len(), 12);
}

#[test]
fn refuses_what_the_kernels_do_not_compute() {
    let gpu = gpu();
    let data = digits().unwrap().train.subset(&[0, 1, 2, 3]);
    let mlp = ModelSpec::digits_mlp();
    let base = Weights::initial(&mlp, 1);
    let refused = |spec: &ModelSpec, base: &Weights, config: &TrainConfig| {
        pollster::block_on(MlpTrainer::new(&gpu, spec, base, &data, config))
            .err()
            .expect("refused")
            .to_string()
    };
    let cnn = ModelSpec::digits_cnn();
    let err = refused(&cnn, &Weights::initial(&cnn, 1), &TrainConfig::default());
    assert!(err.contains("MLP"), "{err}");
    let dp = TrainConfig {
        dp_sgd: Some(DpSgd {
            clip_norm: 1.0,
            noise_multiplier: 1.0,
        }),
        ..TrainConfig::default()
    };
    assert!(refused(&mlp, &base, &dp).contains("DP-SGD"));
    let err = refused(&mlp, &Weights::initial(&cnn, 1), &TrainConfig::default());
    assert!(err.contains("layout"), "{err}");
    let zero_epochs = TrainConfig {
        epochs: 0,
        ..TrainConfig::default()
    };
    assert!(refused(&mlp, &base, &zero_epochs).contains("epoch"));
    let mut twelve_classes = data.clone();
    twelve_classes.classes = 12;
    twelve_classes.labels[0] = 11;
    let err = pollster::block_on(MlpTrainer::new(
        &gpu,
        &mlp,
        &base,
        &twelve_classes,
        &TrainConfig::default(),
    ))
    .err()
    .expect("refused")
    .to_string();
    assert!(err.contains("label 11"), "{err}");
}

#[test]
fn explicit_batches_are_checked() {
    let gpu = gpu();
    let data = digits().unwrap().train.subset(&(0..40).collect::<Vec<_>>());
    let spec = ModelSpec::digits_mlp();
    let base = Weights::initial(&spec, 1);
    let config = TrainConfig {
        batch_size: 8,
        ..TrainConfig::default()
    };
    let mut trainer =
        pollster::block_on(MlpTrainer::new(&gpu, &spec, &base, &data, &config)).unwrap();
    assert!(trainer.step_on(&[]).is_err());
    assert!(trainer.step_on(&(0..9).collect::<Vec<_>>()).is_err());
    let err = trainer.step_on(&[3, 40]).unwrap_err().to_string();
    assert!(err.contains("row 40"), "{err}");
    trainer.step_on(&[0, 1, 2, 39]).unwrap();
    let loss = pollster::block_on(trainer.loss()).unwrap();
    assert!(loss.is_finite() && loss > 0.0, "{loss}");
}
