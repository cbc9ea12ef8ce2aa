//! The engine's side of a task manifest ([`droppin_task::Manifest`]): the model it builds from
//! the manifest's layers, and the training recipe.

use droppin_task::{Manifest, Optimizer, Recipe};

use crate::{
    FlError,
    model::ModelSpec,
    train::{LocalOptimizer, TrainConfig},
};

/// The model `manifest` describes: its checked input shape, what it predicts and its layers.
pub fn model_spec(manifest: &Manifest) -> Result<ModelSpec, FlError> {
    let checked = manifest
        .check()
        .map_err(|e| FlError::Model(format!("task `{}`: {e}", manifest.name)))?;
    Ok(ModelSpec {
        input: checked.input.iter().map(|&v| v as usize).collect(),
        classes: checked.outputs as usize,
        layers: manifest.model.clone(),
    })
}

/// The training configuration a recipe asks for, with the node's own `seed`.
pub fn train_config(recipe: &Recipe, seed: u64) -> TrainConfig {
    TrainConfig {
        optimizer: match recipe.optimizer {
            Optimizer::Adam => LocalOptimizer::Adam,
            Optimizer::Sgd { momentum } => LocalOptimizer::Sgd { momentum },
        },
        epochs: recipe.epochs as usize,
        batch_size: recipe.batch_size as usize,
        learning_rate: recipe.learning_rate,
        proximal_mu: (recipe.proximal_mu > 0.0).then_some(recipe.proximal_mu),
        dp_sgd: None,
        seed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Weights;
    use droppin_task::catalog;

    #[test]
    fn every_catalog_task_is_a_model_the_engine_builds() {
        let digits = model_spec(&catalog::get("digits").unwrap()).unwrap();
        assert_eq!(
            digits,
            ModelSpec::digits_mlp(),
            "the digits task is the engine's MLP"
        );
        let mnist = model_spec(&catalog::get("mnist-cnn").unwrap()).unwrap();
        assert_eq!(mnist, ModelSpec::cnn([1, 28, 28], 16, 10));
        for (name, parameters) in [
            ("breast-cancer", 530),
            ("cifar10-cnn", 545_098),
            ("char-lm", 58_981),
        ] {
            let spec = model_spec(&catalog::get(name).unwrap()).unwrap();
            assert_eq!(spec.check().unwrap(), parameters, "{name}");
            let weights = Weights::initial(&spec, 1);
            assert_eq!(
                weights.values.len() as u64,
                parameters,
                "{name}: burn's model matches the checker's count"
            );
        }
    }

    #[test]
    fn a_recipe_is_a_training_configuration() {
        let recipe = catalog::get("digits").unwrap().recipe;
        let config = train_config(&recipe, 7);
        assert_eq!(config.epochs, 5);
        assert_eq!(config.learning_rate, 0.005);
        assert_eq!(config.batch_size, 32);
        assert_eq!(config.seed, 7);
        assert!(matches!(config.optimizer, LocalOptimizer::Adam));
        assert_eq!(config.proximal_mu, None);
    }
}
