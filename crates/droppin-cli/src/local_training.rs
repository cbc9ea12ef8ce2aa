//! Where a CLI node trains: on the engine the node library picks for the model
//! (`choose_trainer`: the fused kernels for the plain MLP, burn's GPU backend for any other
//! model) when this build and machine offer a GPU, else on burn's CPU backend.

use droppin_fl::data::Dataset;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::train::{TrainConfig, train};
use droppin_node::trainer::TrainerKind;

/// Which hardware a node may train on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Hardware {
    /// A GPU when the build has one (`--features wgpu`) and a hardware adapter answers, else
    /// the CPU.
    Auto,
    /// The CPU only.
    Cpu,
    /// A GPU, or fail.
    Gpu,
}

/// Trains `base` on `data` by `config` on the engine chosen for `spec` on `hardware`; returns
/// the trained weights and the engine that ran.
pub fn train_locally(
    hardware: Hardware,
    spec: &ModelSpec,
    base: &Weights,
    data: &Dataset,
    config: &TrainConfig,
) -> anyhow::Result<(Weights, TrainerKind)> {
    let gpu = match hardware {
        Hardware::Cpu => None,
        // A software adapter (llvmpipe) is slower than the CPU it runs on: only a real GPU.
        Hardware::Auto => gpu::find().ok().filter(|gpu| !gpu::is_software(gpu)),
        Hardware::Gpu => Some(gpu::find()?),
    };
    if let Some(gpu) = &gpu {
        return gpu::train(gpu, spec, base, data, config);
    }
    let cpu = droppin_fl::device::device("cpu")?;
    Ok((
        train(spec, base, data, config, &cpu, |_| {})?,
        TrainerKind::Cpu,
    ))
}

#[cfg(feature = "wgpu")]
mod gpu {
    use droppin_fl::FlError;
    use droppin_fl::gpu::{Gpu, train_mlp};
    use droppin_node::trainer::choose_trainer;

    use super::*;

    /// The first GPU adapter.
    pub fn find() -> anyhow::Result<Gpu> {
        Ok(pollster::block_on(Gpu::request())?)
    }

    /// Whether the adapter emulates a GPU on the CPU.
    pub fn is_software(gpu: &Gpu) -> bool {
        gpu.software
    }

    /// Trains on the engine [`choose_trainer`] picks for a GPU; the fused kernels hand a job they
    /// do not take (DP-SGD) to burn's GPU backend.
    pub fn train(
        gpu: &Gpu,
        spec: &ModelSpec,
        base: &Weights,
        data: &Dataset,
        config: &TrainConfig,
    ) -> anyhow::Result<(Weights, TrainerKind)> {
        if choose_trainer(spec, true) == TrainerKind::FusedKernels {
            match pollster::block_on(train_mlp(gpu, spec, base, data, config)) {
                Ok(trained) => return Ok((trained, TrainerKind::FusedKernels)),
                Err(FlError::Gpu(_)) => {}
                Err(other) => return Err(other.into()),
            }
        }
        let device = droppin_fl::device::device("wgpu")?;
        let trained = super::train(spec, base, data, config, &device, |_| {})?;
        Ok((trained, TrainerKind::BurnGpu))
    }
}

#[cfg(not(feature = "wgpu"))]
mod gpu {
    use super::*;

    /// No GPU in a build without the `wgpu` feature.
    pub enum Never {}

    pub fn find() -> anyhow::Result<Never> {
        anyhow::bail!("this build has no GPU backend: build dpin with --features wgpu")
    }

    pub fn is_software(gpu: &Never) -> bool {
        match *gpu {}
    }

    pub fn train(
        gpu: &Never,
        _: &ModelSpec,
        _: &Weights,
        _: &Dataset,
        _: &TrainConfig,
    ) -> anyhow::Result<(Weights, TrainerKind)> {
        match *gpu {}
    }
}

#[cfg(test)]
mod tests {
    use droppin_fl::data::digits;

    use super::*;

    #[test]
    fn the_cpu_trains_what_train_does_and_a_gpu_is_refused_without_one() {
        let spec = ModelSpec::digits_mlp();
        let base = Weights::initial(&spec, 1);
        let data = digits().unwrap().train.subset(&(0..64).collect::<Vec<_>>());
        let config = TrainConfig {
            epochs: 1,
            ..TrainConfig::default()
        };
        let (trained, kind) = train_locally(Hardware::Cpu, &spec, &base, &data, &config).unwrap();
        let cpu = droppin_fl::device::device("cpu").unwrap();
        assert_eq!(kind, TrainerKind::Cpu);
        assert_eq!(
            trained,
            train(&spec, &base, &data, &config, &cpu, |_| {}).unwrap()
        );
        if cfg!(not(feature = "wgpu")) {
            let error = train_locally(Hardware::Gpu, &spec, &base, &data, &config).unwrap_err();
            assert!(error.to_string().contains("--features wgpu"), "{error}");
            let (_, kind) = train_locally(Hardware::Auto, &spec, &base, &data, &config).unwrap();
            assert_eq!(kind, TrainerKind::Cpu);
        }
    }
}
