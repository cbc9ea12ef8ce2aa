//! Where a model trains: the engine's fused kernels for the plain MLP on a GPU (a step there is
//! all overhead, which they cut), burn's GPU backend (wgpu natively, WebGPU in a browser) for
//! any other model on a GPU, and burn's CPU backend when there is no GPU.

use droppin_fl::model::{ModelKind, ModelSpec};

/// The training path for a model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrainerKind {
    /// The engine's own compute shaders (the standard MLP only).
    FusedKernels,
    /// burn's wgpu backend on the GPU.
    BurnGpu,
    /// burn's CPU backend.
    Cpu,
}

impl TrainerKind {
    /// The engine, in words, for the node's log and page.
    pub fn describe(self) -> &'static str {
        match self {
            TrainerKind::FusedKernels => "the engine's fused kernels",
            TrainerKind::BurnGpu => "burn's GPU backend",
            TrainerKind::Cpu => "burn's CPU backend",
        }
    }
}

/// Widest hidden layer the fused kernels take: the widest at which a GPU measured them (an H200
/// on Vulkan, 0.77 ms a step against burn's 1.9-2.7 ms; BENCHMARKS.md). Their products do not
/// tile through workgroup memory, so past it burn's tuned matrix products may win.
pub const FUSED_MAX_WIDTH: usize = 1024;

/// The path `spec` trains on, given whether a GPU answered.
pub fn choose_trainer(spec: &ModelSpec, gpu: bool) -> TrainerKind {
    match (gpu, spec.standard()) {
        (false, _) => TrainerKind::Cpu,
        (true, Some((ModelKind::Mlp, width))) if width <= FUSED_MAX_WIDTH => {
            TrainerKind::FusedKernels
        }
        (true, _) => TrainerKind::BurnGpu,
    }
}

#[cfg(test)]
mod tests {
    use droppin_task::catalog;

    use super::*;

    #[test]
    fn the_kernels_take_the_plain_mlp_and_burn_the_rest() {
        let spec = |name| droppin_fl::task::model_spec(&catalog::get(name).unwrap()).unwrap();
        assert_eq!(
            choose_trainer(&spec("digits"), true),
            TrainerKind::FusedKernels
        );
        assert_eq!(
            choose_trainer(&spec("breast-cancer"), true),
            TrainerKind::FusedKernels
        );
        assert_eq!(
            choose_trainer(&spec("cifar10-cnn"), true),
            TrainerKind::BurnGpu
        );
        assert_eq!(choose_trainer(&spec("char-lm"), true), TrainerKind::BurnGpu);
        assert_eq!(choose_trainer(&spec("char-lm"), false), TrainerKind::Cpu);
        let widest = ModelSpec::mlp(vec![784], FUSED_MAX_WIDTH, 10);
        assert_eq!(choose_trainer(&widest, true), TrainerKind::FusedKernels);
        let wider = ModelSpec::mlp(vec![784], FUSED_MAX_WIDTH + 1, 10);
        assert_eq!(choose_trainer(&wider, true), TrainerKind::BurnGpu);
    }
}
