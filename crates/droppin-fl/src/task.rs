//! The engine's side of a task manifest ([`droppin_task::Manifest`]): the model it builds from
//! the manifest's layers, and the training recipe.
//!
//! The engine builds two layer lists: a dense network (`flatten`, `dense`, `relu`, `dense`) and a
//! one-block CNN (`conv2d` 3x3 with padding 1, `relu`, `max_pool2d` 2, `flatten`, `dense`). Any
//! other list is checked by the manifest crate but refused here, with the lists it takes.

use droppin_task::{DataSchema, Layer, Manifest, Optimizer, Recipe};

use crate::{
    FlError,
    model::{ModelKind, ModelSpec},
    train::{LocalOptimizer, TrainConfig},
};

/// The model `manifest` describes, when the engine builds it.
pub fn model_spec(manifest: &Manifest) -> Result<ModelSpec, FlError> {
    let refuse = |why: &str| {
        FlError::Model(format!(
            "task `{}`: {why}; the engine builds a dense network (flatten, dense, relu, dense) or a one-block CNN (conv2d 3x3 padding 1, relu, max_pool2d 2, flatten, dense)",
            manifest.name
        ))
    };
    let checked = manifest
        .check()
        .map_err(|e| FlError::Model(format!("task `{}`: {e}", manifest.name)))?;
    let input = match (checked.input.as_slice(), &manifest.data) {
        (_, DataSchema::Text { .. }) => return Err(refuse("it is a text model")),
        ([c, h, w], _) => [*c as usize, *h as usize, *w as usize],
        ([features], _) => [1, 1, *features as usize],
        _ => return Err(refuse("its input has no shape the engine takes")),
    };
    let classes = checked.outputs as usize;
    let layers = manifest.model.as_slice();
    let layers = layers.strip_prefix(&[Layer::Flatten]).unwrap_or(layers);
    let (kind, width) = match layers {
        [Layer::Dense { units }, Layer::Relu, Layer::Dense { .. }] => (ModelKind::Mlp, *units),
        [
            Layer::Conv2d {
                channels,
                kernel: 3,
                stride: 1,
                padding: 1,
            },
            Layer::Relu,
            Layer::MaxPool2d { kernel: 2 },
            Layer::Flatten,
            Layer::Dense { .. },
        ] => (ModelKind::Cnn, *channels),
        _ => return Err(refuse("its layers are neither list")),
    };
    let spec = ModelSpec {
        kind,
        input,
        classes,
        width: width as usize,
    };
    spec.check()?;
    Ok(spec)
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
    use droppin_task::catalog;

    #[test]
    fn the_catalog_maps_onto_the_engine_where_it_can() {
        let digits = model_spec(&catalog::get("digits").unwrap()).unwrap();
        assert_eq!(digits, ModelSpec::digits_mlp());
        assert_eq!(
            digits.hash(),
            ModelSpec::digits_mlp().hash(),
            "the digits task is the engine's MLP"
        );
        let mnist = model_spec(&catalog::get("mnist-cnn").unwrap()).unwrap();
        assert_eq!(
            (mnist.kind, mnist.input, mnist.width),
            (ModelKind::Cnn, [1, 28, 28], 16)
        );
        let tabular = model_spec(&catalog::get("breast-cancer").unwrap()).unwrap();
        assert_eq!((tabular.input, tabular.classes), ([1, 1, 30], 2));
        for name in ["cifar10-cnn", "char-lm"] {
            let error = model_spec(&catalog::get(name).unwrap()).unwrap_err();
            assert!(error.to_string().contains(name), "{error}");
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
