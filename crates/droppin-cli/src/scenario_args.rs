//! The arguments `dpin demo` and `dpin sim` share: the attack, the model, DP and the seed.

use clap::Args;
use droppin_fl::{model::ModelKind, sim::Attack};

#[derive(Args)]
pub struct ScenarioArgs {
    /// What the malicious nodes do.
    #[arg(long, default_value = "sign-flip", value_parser = clap::builder::PossibleValuesParser::new(Attack::NAMES))]
    attack: String,
    /// mlp or cnn.
    #[arg(long, default_value = "mlp", value_parser = ["mlp", "cnn"])]
    model: String,
    /// DP-SGD in every honest node: target epsilon over all rounds (delta 1e-5).
    #[arg(long)]
    pub dp_epsilon: Option<f64>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

impl ScenarioArgs {
    /// The attack.
    pub fn attack(&self) -> Attack {
        Attack::from_name(&self.attack).expect("clap checked the name")
    }

    /// The model family.
    pub fn model(&self) -> ModelKind {
        match self.model.as_str() {
            "cnn" => ModelKind::Cnn,
            _ => ModelKind::Mlp,
        }
    }
}
