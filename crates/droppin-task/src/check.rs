//! Checking a manifest before anything trains: the schema, every layer's shape from the input
//! to the output, the parameter count against the limit, the recipe and the validation.

use crate::{
    TaskError,
    manifest::{Column, DataSchema, Layer, Manifest, Metric, Optimizer, Vocabulary},
};

/// The most parameters a task's model may have: a dense update of this many `f32`s (16 MB), with
/// its header, fits the largest blob the protocol's stores take (16 MiB).
pub const MAX_PARAMETERS: u64 = 4_000_000;

/// The most values one optimizer step may keep for its backward pass: the batch times every
/// layer's output (and the input) for one sample. 2^27 `f32`s (512 MB) is what a browser tab's
/// GPU or a validator training the committee's reference can be asked to hold; a model small in
/// parameters can still be huge in activations (wide convolutions over large images). The
/// catalog's largest step, the CIFAR-shaped CNN's at a batch of 64, holds about 7.8M.
pub const MAX_STEP_ACTIVATIONS: u64 = 1 << 27;

/// What a checked manifest's model is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    /// The input's shape (`[channels, height, width]`, `[features]` or `[context]`).
    pub input: Vec<u64>,
    /// Each layer's output shape, in order.
    pub shapes: Vec<Vec<u64>>,
    /// Trainable parameters.
    pub parameters: u64,
    /// What the model's output predicts: classes, or tokens at every position.
    pub outputs: u64,
}

fn fail(field: impl Into<String>, problem: impl Into<String>) -> TaskError {
    TaskError::Invalid {
        field: field.into(),
        problem: problem.into(),
    }
}

/// A shape as the checker's messages write it (`16x14x14`).
pub fn shape_text(shape: &[u64]) -> String {
    shape
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join("x")
}

/// The shape a node's samples come in, and the number of classes (or tokens) to predict.
fn input_of(data: &DataSchema) -> Result<(Vec<u64>, u64), TaskError> {
    match data {
        DataSchema::Images {
            channels,
            height,
            width,
            classes,
            ..
        } => {
            if !(1..=4).contains(channels) {
                return Err(fail("data.channels", "must be 1 to 4"));
            }
            if *height == 0 || *width == 0 || *height > 1024 || *width > 1024 {
                return Err(fail("data.height/width", "must be 1 to 1024 pixels"));
            }
            check_classes(classes)?;
            Ok((
                vec![u64::from(*channels), u64::from(*height), u64::from(*width)],
                classes.len() as u64,
            ))
        }
        DataSchema::Tabular {
            columns,
            label,
            classes,
            ..
        } => {
            if columns.is_empty() {
                return Err(fail(
                    "data.columns",
                    "a tabular task needs a feature column",
                ));
            }
            let mut features = 0u64;
            for (i, column) in columns.iter().enumerate() {
                let name = column.name();
                if name.is_empty() || columns[..i].iter().any(|c| c.name() == name) {
                    return Err(fail(
                        format!("data.columns[{i}].name"),
                        format!("`{name}` is empty or named twice"),
                    ));
                }
                if name == label {
                    return Err(fail(
                        format!("data.columns[{i}]"),
                        "the label column is not a feature",
                    ));
                }
                features += match column {
                    Column::Numeric { .. } => 1,
                    Column::Categorical { values, .. } if values.len() >= 2 => values.len() as u64,
                    Column::Categorical { .. } => {
                        return Err(fail(
                            format!("data.columns[{i}].values"),
                            "a categorical column needs two values or more",
                        ));
                    }
                };
            }
            if label.is_empty() {
                return Err(fail("data.label", "name the label column"));
            }
            check_classes(classes)?;
            Ok((vec![features], classes.len() as u64))
        }
        DataSchema::Text {
            vocabulary,
            context,
        } => {
            if !(2..=4096).contains(context) {
                return Err(fail("data.context", "must be 2 to 4096 tokens"));
            }
            if let Vocabulary::Characters { alphabet } = vocabulary {
                let chars: Vec<char> = alphabet.chars().collect();
                let unique = chars
                    .iter()
                    .enumerate()
                    .all(|(i, c)| !chars[..i].contains(c));
                // Every listed character, and one more token for any other: 256 at most, so a
                // token fits a byte.
                if chars.is_empty() || chars.len() > 255 || !unique {
                    return Err(fail(
                        "data.vocabulary.alphabet",
                        "list each character once, 1 to 255 of them",
                    ));
                }
            }
            let tokens = vocabulary.len() as u64;
            Ok((vec![u64::from(*context)], tokens))
        }
    }
}

fn check_classes(classes: &[String]) -> Result<(), TaskError> {
    if classes.len() < 2 {
        return Err(fail(
            "data.classes",
            "a classifier needs two classes or more",
        ));
    }
    if let Some(i) = (0..classes.len()).find(|&i| classes[..i].contains(&classes[i])) {
        return Err(fail(
            format!("data.classes[{i}]"),
            format!("`{}` is listed twice", classes[i]),
        ));
    }
    Ok(())
}

/// `size` after a window of `kernel` with `stride` and `padding`, if one fits.
fn windows(size: u64, kernel: u64, stride: u64, padding: u64) -> Option<u64> {
    let padded = size.saturating_add(padding.saturating_mul(2));
    (kernel >= 1 && stride >= 1 && kernel <= padded).then(|| (padded - kernel) / stride + 1)
}

/// One layer's output shape and parameters from its input shape (`tokens`: the vocabulary of
/// a text task, 0 otherwise).
fn apply(
    layer: &Layer,
    shape: &[u64],
    tokens: u64,
    first: bool,
) -> Result<(Vec<u64>, u64), String> {
    let image = |what: &str| match shape {
        [c, h, w] => Ok((*c, *h, *w)),
        _ => Err(format!(
            "{what} takes a [channels, height, width] input, not {}",
            shape_text(shape)
        )),
    };
    let last = *shape.last().ok_or("an empty shape")?;
    match layer {
        Layer::Embedding { .. } if !first => Err("an embedding is the model's first layer".into()),
        Layer::Embedding { .. } if tokens == 0 => {
            Err("an embedding takes token ids: a text task's input".into())
        }
        Layer::Embedding { dim } => match shape {
            // A vector per token and one per position.
            [context] if *dim > 0 => Ok((
                vec![*context, u64::from(*dim)],
                (tokens + context).saturating_mul(u64::from(*dim)),
            )),
            [_] => Err("dim must be positive".into()),
            _ => Err("an embedding takes token ids: a text task's input".into()),
        },
        _ if first && tokens > 0 => Err("a text model starts with an embedding".into()),
        Layer::Dense { units: 0 } => Err("units must be positive".into()),
        Layer::Dense { units } => {
            let units = u64::from(*units);
            let mut out = shape.to_vec();
            *out.last_mut().expect("not empty") = units;
            Ok((out, last.saturating_mul(units).saturating_add(units)))
        }
        Layer::Conv2d {
            channels,
            kernel,
            stride,
            padding,
        } => {
            let (c, h, w) = image("conv2d")?;
            let (k, s, p) = (u64::from(*kernel), u64::from(*stride), u64::from(*padding));
            if p >= k {
                return Err(format!("padding {p} must be smaller than the kernel {k}"));
            }
            let out = |side| {
                windows(side, k, s, p).ok_or(format!(
                    "a {k}x{k} kernel does not fit the {h}x{w} input (padding {p})"
                ))
            };
            if *channels == 0 {
                return Err("channels must be positive".into());
            }
            let channels = u64::from(*channels);
            let parameters = c
                .saturating_mul(channels)
                .saturating_mul(k.saturating_mul(k))
                .saturating_add(channels);
            Ok((vec![channels, out(h)?, out(w)?], parameters))
        }
        Layer::MaxPool2d { kernel } | Layer::AvgPool2d { kernel } => {
            let (c, h, w) = image("pooling")?;
            let k = u64::from(*kernel);
            let out = |side| {
                windows(side, k, k, 0)
                    .ok_or(format!("a {k}x{k} window does not fit the {h}x{w} input"))
            };
            Ok((vec![c, out(h)?, out(w)?], 0))
        }
        Layer::Relu | Layer::Gelu | Layer::Tanh => Ok((shape.to_vec(), 0)),
        Layer::Dropout { rate } if (0.0..1.0).contains(rate) => Ok((shape.to_vec(), 0)),
        Layer::Dropout { .. } => Err("rate must be in [0, 1)".into()),
        Layer::Flatten => Ok((vec![elements(shape)], 0)),
        Layer::LayerNorm => Ok((shape.to_vec(), last.saturating_mul(2))),
        Layer::TransformerBlock { heads, hidden } => match shape {
            [_, width] if *heads > 0 && width % u64::from(*heads) == 0 && *hidden > 0 => {
                let (d, f) = (*width, u64::from(*hidden));
                // Query, key, value and output projections; two layer norms; the two dense
                // layers of the feed-forward block.
                let (square, wide) = (d.saturating_mul(d), d.saturating_mul(f));
                let parameters = [square, d, square, d, square, d, square, d]
                    .into_iter()
                    .chain([d, d, d, d, wide, f, wide, d])
                    .fold(0u64, u64::saturating_add);
                Ok((shape.to_vec(), parameters))
            }
            [_, width] => Err(format!(
                "heads must divide the width {width}, and hidden must be positive"
            )),
            _ => Err(format!(
                "a transformer block takes [tokens, width], not {}",
                shape_text(shape)
            )),
        },
    }
}

/// How many values a tensor of `shape` holds (saturating: shapes come from manifests).
fn elements(shape: &[u64]) -> u64 {
    shape.iter().fold(1, |n, &d| n.saturating_mul(d))
}

/// The model half of [`Manifest::check`], for callers holding a layer list without a whole
/// manifest: each layer's output shape from `input` and the parameter count, with the last
/// layer required to predict `outputs` classes (or, for a text model, `outputs` tokens at every
/// position). Errors name the layer (`model[2] (conv2d)`).
pub fn check_model(
    layers: &[Layer],
    input: &[u64],
    outputs: u64,
    text: bool,
) -> Result<(Vec<Vec<u64>>, u64), TaskError> {
    let mut shape = input.to_vec();
    let mut shapes = Vec::with_capacity(layers.len());
    let mut parameters = 0u64;
    if layers.is_empty() {
        return Err(fail("model", "list the layers"));
    }
    let tokens = if text { outputs } else { 0 };
    for (i, layer) in layers.iter().enumerate() {
        let (out, count) = apply(layer, &shape, tokens, i == 0).map_err(|problem| {
            fail(
                format!("model[{i}] ({})", layer_name(layer)),
                format!("{problem} (its input is {})", shape_text(&shape)),
            )
        })?;
        parameters = parameters.saturating_add(count);
        if parameters > MAX_PARAMETERS {
            return Err(fail(
                format!("model[{i}] ({})", layer_name(layer)),
                format!(
                    "the model reaches {parameters} parameters here, over the limit of {MAX_PARAMETERS}"
                ),
            ));
        }
        shape = out;
        shapes.push(shape.clone());
    }
    let expected = if text {
        vec![input[0], outputs]
    } else {
        vec![outputs]
    };
    if shape != expected {
        return Err(fail(
            "model",
            format!(
                "the last layer gives {}, and the task predicts {} ({})",
                shape_text(&shape),
                shape_text(&expected),
                if text {
                    "a token at every position"
                } else {
                    "one score per class"
                }
            ),
        ));
    }
    Ok((shapes, parameters))
}

impl Manifest {
    /// Checks everything a node and a validator rely on, and works out the model's shapes and
    /// size. The error names the first field that is wrong.
    pub fn check(&self) -> Result<Checked, TaskError> {
        if self.name.trim().is_empty() || self.name.len() > 64 {
            return Err(fail("name", "must be 1 to 64 characters"));
        }
        let (input, outputs) = input_of(&self.data)?;
        let text = matches!(self.data, DataSchema::Text { .. });
        let (shapes, parameters) = check_model(&self.model, &input, outputs, text)?;
        self.check_recipe()?;
        let per_sample = std::iter::once(&input)
            .chain(&shapes)
            .map(|shape| elements(shape))
            .fold(0u64, u64::saturating_add);
        let step = per_sample.saturating_mul(u64::from(self.recipe.batch_size));
        if step > MAX_STEP_ACTIVATIONS {
            let field = if per_sample > MAX_STEP_ACTIVATIONS {
                "model"
            } else {
                "recipe.batch_size"
            };
            return Err(fail(
                field,
                format!(
                    "a step holds {step} activations ({per_sample} a sample), over the limit of \
                     {MAX_STEP_ACTIVATIONS}: lower the batch size or the layers' widths"
                ),
            ));
        }
        match (self.validation.metric, text) {
            (Metric::Perplexity, false) => {
                return Err(fail(
                    "validation.metric",
                    "perplexity measures a text model; a classifier reports accuracy",
                ));
            }
            (Metric::Accuracy, true) => {
                return Err(fail("validation.metric", "a text model reports perplexity"));
            }
            _ => {}
        }
        if !positive(self.validation.max_loss_increase) {
            return Err(fail("validation.max_loss_increase", "must be positive"));
        }
        Ok(Checked {
            input,
            shapes,
            parameters,
            outputs,
        })
    }

    fn check_recipe(&self) -> Result<(), TaskError> {
        let r = &self.recipe;
        if !positive(r.learning_rate) || r.learning_rate > 10.0 {
            return Err(fail("recipe.learning_rate", "must be in (0, 10]"));
        }
        if !(1..=100).contains(&r.epochs) {
            return Err(fail("recipe.epochs", "must be 1 to 100"));
        }
        if !(1..=4096).contains(&r.batch_size) {
            return Err(fail("recipe.batch_size", "must be 1 to 4096"));
        }
        if !(r.proximal_mu.is_finite() && r.proximal_mu >= 0.0) {
            return Err(fail("recipe.proximal_mu", "must be 0 or more"));
        }
        if let Optimizer::Sgd { momentum } = r.optimizer
            && !(0.0..1.0).contains(&momentum)
        {
            return Err(fail("recipe.optimizer.momentum", "must be in [0, 1)"));
        }
        if let Some(p) = &r.privacy
            && !(positive(p.epsilon) && positive(p.clip) && p.delta > 0.0 && p.delta < 1.0)
        {
            return Err(fail(
                "recipe.privacy",
                "epsilon and clip must be positive, delta in (0, 1)",
            ));
        }
        Ok(())
    }
}

/// A finite number above zero (NaN is not).
fn positive(x: f64) -> bool {
    x.is_finite() && x > 0.0
}

/// The layer's name as the manifest spells it.
pub fn layer_name(layer: &Layer) -> &'static str {
    match layer {
        Layer::Dense { .. } => "dense",
        Layer::Conv2d { .. } => "conv2d",
        Layer::MaxPool2d { .. } => "max_pool2d",
        Layer::AvgPool2d { .. } => "avg_pool2d",
        Layer::Relu => "relu",
        Layer::Gelu => "gelu",
        Layer::Tanh => "tanh",
        Layer::Dropout { .. } => "dropout",
        Layer::Flatten => "flatten",
        Layer::LayerNorm => "layer_norm",
        Layer::Embedding { .. } => "embedding",
        Layer::TransformerBlock { .. } => "transformer_block",
    }
}
