//! The training worker: waits for a [`Job`], trains it on burn's WebGPU backend and reports each
//! step, the weights at the end of each epoch, and the end (or why it failed). The app's package
//! builds it as its `droppin-trainer` binary, so that the app's and the worker's builds share
//! every dependency but burn's.

use crate::clock::now_ms;
use crate::protocol::{Event, Job, TimedStep};
use droppin_fl::FlError;
use droppin_fl::train::LocalTrainer;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

/// Starts the worker: it answers each job the page posts, and says it is ready.
pub fn run() {
    // A panic also reaches the page, with its message, before the worker dies.
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        post(
            &js_sys::global().unchecked_into(),
            &Event::Failed {
                message: format!("the training worker stopped: {info}"),
            },
        );
    }));
    let scope: DedicatedWorkerGlobalScope = js_sys::global().unchecked_into();
    let on_job = Closure::<dyn Fn(MessageEvent)>::new({
        let scope = scope.clone();
        move |message: MessageEvent| {
            let scope = scope.clone();
            wasm_bindgen_futures::spawn_local(async move {
                let outcome = match Job::read(&message.data()) {
                    Ok(job) => train(&scope, job).await,
                    Err(error) => Err(error.to_string()),
                };
                if let Err(message) = outcome {
                    post(&scope, &Event::Failed { message });
                }
            });
        }
    });
    scope.set_onmessage(Some(on_job.as_ref().unchecked_ref()));
    on_job.forget();
    post(&scope, &Event::Ready);
}

async fn train(scope: &DedicatedWorkerGlobalScope, job: Job) -> Result<(), String> {
    let device = droppin_fl::device::wgpu_async()
        .await
        .map_err(|e| e.to_string())?;
    let mut trainer = LocalTrainer::new(&job.spec, &job.base, &job.data, &job.config, &device)
        .map_err(|e| e.to_string())?;
    post(scope, &Event::Started);
    loop {
        let start = now_ms();
        let Some(step) = trainer.step() else { break };
        let progress = step.read_progress().await.map_err(|e| e.to_string())?;
        let ms = now_ms() - start;
        // The page reads an epoch's weights when it sees the epoch's last step: they go first.
        if progress.step + 1 == progress.steps_per_epoch {
            let weights = trainer
                .current_weights_async()
                .await
                .map_err(|e: FlError| e.to_string())?;
            post(
                scope,
                &Event::Weights {
                    values: weights.values,
                },
            );
        }
        post(scope, &Event::Step(TimedStep { progress, ms }));
    }
    post(scope, &Event::Done);
    Ok(())
}

fn post(scope: &DedicatedWorkerGlobalScope, event: &Event) {
    // Posting a plain object of strings and typed arrays cannot fail.
    let _ = scope.post_message(&event.message());
}
