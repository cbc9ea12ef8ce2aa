//! The training worker (burn's WebGPU backend), started when a model needs it: its wasm is
//! fetched then, not with the app, and it trains off the page's thread.

use droppin_fl::FlError;
use droppin_fl::data::Dataset;
use droppin_fl::model::{ModelSpec, TensorSpec, Weights};
use droppin_fl::train::TrainConfig;
use droppin_web_trainer::protocol::{Event, Job, TimedStep};
use droppin_web_trainer::{WORKER_SCRIPT, WORKER_WASM};
use futures::StreamExt;
use futures::channel::mpsc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{Blob, BlobPropertyBag, ErrorEvent, MessageEvent, Url, Worker};

/// A job running in the worker, read back a step at a time.
pub struct WorkerTrainer {
    worker: Worker,
    script_url: String,
    events: mpsc::UnboundedReceiver<Event>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_error: Closure<dyn FnMut(ErrorEvent)>,
    layout: Vec<TensorSpec>,
    weights: Option<Weights>,
}

impl WorkerTrainer {
    /// Loads the worker and hands it the job. Fails with [`FlError::Gpu`] when the worker does
    /// not load or no GPU answers it, so that the caller can train on the CPU instead.
    pub async fn start(
        spec: &ModelSpec,
        base: &Weights,
        data: &Dataset,
        config: &TrainConfig,
    ) -> Result<Self, FlError> {
        let (worker, script_url) = spawn()?;
        let (sender, events) = mpsc::unbounded();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new({
            let sender = sender.clone();
            move |message: MessageEvent| {
                let event = Event::read(&message.data()).unwrap_or_else(|error| Event::Failed {
                    message: error.to_string(),
                });
                let _ = sender.unbounded_send(event);
            }
        });
        let on_error = Closure::<dyn FnMut(ErrorEvent)>::new(move |error: ErrorEvent| {
            let _ = sender.unbounded_send(Event::Failed {
                message: format!("the training worker failed: {}", error.message()),
            });
        });
        worker.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        worker.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut trainer = Self {
            worker,
            script_url,
            events,
            _on_message: on_message,
            _on_error: on_error,
            layout: base.layout.clone(),
            weights: None,
        };
        trainer.expect(Event::Ready).await?;
        trainer
            .worker
            .post_message(&Job::message(spec, config, base, data))
            .map_err(|e| FlError::Gpu(format!("handing the job to the worker: {e:?}")))?;
        trainer.expect(Event::Started).await?;
        Ok(trainer)
    }

    async fn expect(&mut self, wanted: Event) -> Result<(), FlError> {
        match self.events.next().await {
            Some(event) if event == wanted => Ok(()),
            Some(Event::Failed { message }) => Err(FlError::Gpu(message)),
            Some(other) => Err(FlError::Gpu(format!(
                "the training worker sent {other:?} before {wanted:?}"
            ))),
            None => Err(FlError::Gpu("the training worker stopped".into())),
        }
    }

    /// The next step once the worker has run it, or `None` once every epoch is done.
    pub async fn step(&mut self) -> Option<Result<TimedStep, FlError>> {
        loop {
            match self.events.next().await? {
                Event::Step(step) => return Some(Ok(step)),
                Event::Weights { values } => {
                    self.weights = Some(Weights {
                        layout: self.layout.clone(),
                        values,
                    })
                }
                Event::Done => return None,
                Event::Failed { message } => return Some(Err(FlError::Training(message))),
                other => {
                    return Some(Err(FlError::Training(format!(
                        "the training worker sent {other:?} while training"
                    ))));
                }
            }
        }
    }

    /// The weights at the end of the last finished epoch (the worker sends them before that
    /// epoch's last step).
    pub fn weights(&self) -> Result<Weights, FlError> {
        self.weights
            .clone()
            .ok_or_else(|| FlError::Training("no epoch has finished yet".into()))
    }
}

impl Drop for WorkerTrainer {
    fn drop(&mut self) {
        self.worker.terminate();
        let _ = Url::revoke_object_url(&self.script_url);
    }
}

/// Starts the worker from a small script that loads its wasm beside the app's. A wasm that fails
/// to load is reported as the protocol's `failed` event, the one message the script writes itself.
fn spawn() -> Result<(Worker, String), FlError> {
    let failed = |what: &str, error: wasm_bindgen::JsValue| {
        FlError::Gpu(format!("starting the training worker ({what}): {error:?}"))
    };
    let base = web_sys::window()
        .and_then(|window| window.document())
        .and_then(|document| document.base_uri().ok().flatten())
        .ok_or_else(|| FlError::Gpu("the page has no base address".into()))?;
    let beside_app = |name: &str| {
        Url::new_with_base(name, &base)
            .map(|url| serde_json::to_string(&url.href()).expect("a string serializes"))
            .map_err(|e| failed("its address", e))
    };
    let source = format!(
        "importScripts({script}); wasm_bindgen({wasm}).catch((error) => postMessage({{ header: \
         JSON.stringify({{ kind: \"failed\", message: \"loading the training worker: \" + error }}) }}));",
        script = beside_app(WORKER_SCRIPT)?,
        wasm = beside_app(WORKER_WASM)?,
    );
    let options = BlobPropertyBag::new();
    options.set_type("text/javascript");
    let blob =
        Blob::new_with_str_sequence_and_options(&js_sys::Array::of1(&source.into()), &options)
            .map_err(|e| failed("its script", e))?;
    let script_url =
        Url::create_object_url_with_blob(&blob).map_err(|e| failed("its script", e))?;
    let worker = Worker::new(&script_url).map_err(|e| failed("the worker", e))?;
    Ok((worker, script_url))
}
