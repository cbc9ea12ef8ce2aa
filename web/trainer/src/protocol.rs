//! The messages between the page and the training worker. Each is a plain JS object: a small JSON
//! header typed with serde, and the large arrays (weights, samples, labels) beside it as typed
//! arrays, which the browser copies as they are instead of encoding them.

use droppin_fl::FlError;
use droppin_fl::data::Dataset;
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::train::{TrainConfig, TrainProgress};
use js_sys::{Float32Array, Object, Reflect, Uint8Array};
use serde::{Deserialize, Serialize};
use wasm_bindgen::{JsCast, JsValue};

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ProtocolError {
    #[error("the training message has no {0}")]
    Missing(&'static str),
    #[error("the training message's {field} is not a {expected}")]
    WrongType {
        field: &'static str,
        expected: &'static str,
    },
    #[error("the training message's header does not parse: {0}")]
    Header(#[from] serde_json::Error),
    #[error("the training message's base weights hold {got} values; the model has {expected}")]
    WeightCount { expected: usize, got: usize },
    #[error(transparent)]
    Data(#[from] FlError),
}

/// The page's request: train `base` on `data` by `config`.
#[derive(Clone, Debug, PartialEq)]
pub struct Job {
    pub spec: ModelSpec,
    pub config: TrainConfig,
    pub base: Weights,
    pub data: Dataset,
}

#[derive(Serialize, Deserialize)]
struct JobHeader {
    spec: ModelSpec,
    config: TrainConfig,
    sample_shape: Vec<usize>,
    classes: usize,
}

impl Job {
    /// The message for the worker, built from borrowed parts (the samples are copied once, into
    /// the message).
    pub fn message(
        spec: &ModelSpec,
        config: &TrainConfig,
        base: &Weights,
        data: &Dataset,
    ) -> JsValue {
        let header = JobHeader {
            spec: spec.clone(),
            config: *config,
            sample_shape: data.sample_shape.clone(),
            classes: data.classes,
        };
        let message = Object::new();
        set(&message, "header", &json(&header).into());
        set(&message, "base", &Float32Array::from(&base.values[..]));
        set(
            &message,
            "features",
            &Float32Array::from(&data.features[..]),
        );
        set(&message, "labels", &Uint8Array::from(&data.labels[..]));
        message.into()
    }

    /// Reads a job, checking the weights against the model and the samples against their shape.
    pub fn read(message: &JsValue) -> Result<Self, ProtocolError> {
        let header: JobHeader = serde_json::from_str(&string(message, "header")?)?;
        header.spec.check()?;
        let values = typed::<Float32Array>(message, "base", "Float32Array")?.to_vec();
        let layout = Weights::layout_of(&header.spec);
        let expected = layout.iter().map(|tensor| tensor.len()).sum();
        if values.len() != expected {
            return Err(ProtocolError::WeightCount {
                expected,
                got: values.len(),
            });
        }
        let data = Dataset::new(
            typed::<Float32Array>(message, "features", "Float32Array")?.to_vec(),
            typed::<Uint8Array>(message, "labels", "Uint8Array")?.to_vec(),
            header.sample_shape,
            header.classes,
        )?;
        Ok(Self {
            spec: header.spec,
            config: header.config,
            base: Weights { layout, values },
            data,
        })
    }
}

/// A step that has run, with its wall time where it ran (loss read back included).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimedStep {
    pub progress: TrainProgress,
    pub ms: f64,
}

/// What the worker tells the page, in order: ready, started (or failed), then steps, the weights
/// after each epoch, and done.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The worker has loaded and listens: a job sent before this is lost.
    Ready,
    /// A GPU answered and training begins.
    Started,
    Step(TimedStep),
    /// The weights at the end of an epoch (the values travel beside the header).
    Weights {
        #[serde(skip)]
        values: Vec<f32>,
    },
    /// Every epoch has run; the last weights sent are the trained ones.
    Done,
    Failed {
        message: String,
    },
}

impl Event {
    /// The message for the page.
    pub fn message(&self) -> JsValue {
        let message = Object::new();
        set(&message, "header", &json(self).into());
        if let Event::Weights { values } = self {
            set(&message, "values", &Float32Array::from(&values[..]));
        }
        message.into()
    }

    /// Reads an event.
    pub fn read(message: &JsValue) -> Result<Self, ProtocolError> {
        let mut event: Event = serde_json::from_str(&string(message, "header")?)?;
        if let Event::Weights { values } = &mut event {
            *values = typed::<Float32Array>(message, "values", "Float32Array")?.to_vec();
        }
        Ok(event)
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).expect("message headers serialize")
}

fn set(object: &Object, key: &str, value: &JsValue) {
    Reflect::set(object, &JsValue::from_str(key), value).expect("setting a field of a new object");
}

fn field(message: &JsValue, key: &'static str) -> Result<JsValue, ProtocolError> {
    match Reflect::get(message, &JsValue::from_str(key)) {
        Ok(value) if !value.is_undefined() && !value.is_null() => Ok(value),
        _ => Err(ProtocolError::Missing(key)),
    }
}

fn string(message: &JsValue, key: &'static str) -> Result<String, ProtocolError> {
    field(message, key)?
        .as_string()
        .ok_or(ProtocolError::WrongType {
            field: key,
            expected: "string",
        })
}

fn typed<T: JsCast>(
    message: &JsValue,
    key: &'static str,
    expected: &'static str,
) -> Result<T, ProtocolError> {
    field(message, key)?
        .dyn_into::<T>()
        .map_err(|_| ProtocolError::WrongType {
            field: key,
            expected,
        })
}
