//! The browser side of the product, tested in headless Chromium (`scripts/test-web`): the order
//! form's math, transactions built from the interface's instructions, the update encoding against
//! the host's, and training on the CPU fallback, on WebGPU through the engine's kernels (which
//! must match the CPU), and the messages to and from the training worker (which the end-to-end
//! test runs: it needs the built worker).
#![cfg(target_arch = "wasm32")]

use borsh::BorshDeserialize;
use droppin_fl::data::{Dataset, digits};
use droppin_fl::model::{ModelSpec, Weights};
use droppin_fl::privacy::DpSgd;
use droppin_fl::train::{TrainConfig, TrainProgress};
use droppin_interface::{
    PROGRAM_ID, builders, instruction::DropPinInstruction, state::ProtocolParams,
};
use droppin_web::images::read_images;
use droppin_web::in_flight::InFlight;
use droppin_web::order::{Order, preview};
use droppin_web::training::{Backend, Chosen, TabTrainer, choose_device};
use droppin_web::tx::{message_of, unsigned_transaction};
use droppin_web::upload::{REFERENCE_UPDATE_DIGEST, REFERENCE_UPDATE_LEN, reference_update};
use droppin_web_trainer::protocol::{Event, Job, TimedStep};
use solana_address::Address;
use solana_hash::Hash;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn order_form_math_matches_the_coordinator() {
    let preview = preview(&Order::default(), &ProtocolParams::default()).unwrap();
    assert_eq!(preview.fee, 80_000_000);
    assert_eq!(preview.pool, 920_000_000);
    assert_eq!(preview.per_honest_node, 109_250_000);
    let bad = Order {
        max_nodes: 0,
        ..Order::default()
    };
    assert!(preview_errors(&bad).contains("1 to 1024 nodes"));
}

fn preview_errors(order: &Order) -> String {
    preview(order, &ProtocolParams::default())
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[wasm_bindgen_test]
fn join_transaction_is_what_the_program_expects() {
    let program = Address::new_from_array(PROGRAM_ID);
    let node = Address::new_from_array([7; 32]);
    let round = Address::new_from_array([9; 32]);
    let ix = builders::join_round(&program, &node, &round);
    assert_eq!(
        DropPinInstruction::try_from_slice(&ix.data).unwrap(),
        DropPinInstruction::JoinRound
    );
    assert!(ix.accounts[0].is_signer && ix.accounts[0].pubkey == node);
    let blockhash = Hash::new_from_array([3; 32]);
    let tx = unsigned_transaction(&[ix], &node, &blockhash);
    assert_eq!(tx[0], 1, "one signer: the node's wallet");
    assert!(tx[1..65].iter().all(|&b| b == 0), "an empty signature slot");
    let message = message_of(&tx).unwrap();
    assert_eq!(message[0], 1, "header: one required signature");
    // The fee payer is the first account key, right after the header and the key count.
    assert_eq!(&message[4..36], node.as_ref());
    assert!(message.windows(32).any(|w| w == blockhash.as_ref()));
}

/// A page reloaded while a transaction confirms finds it again, for that cluster and wallet
/// only, until it is forgotten.
#[wasm_bindgen_test]
fn a_transaction_in_flight_is_remembered_per_cluster_and_wallet() {
    let wallet = Address::new_from_array([5; 32]);
    let sent = InFlight {
        signature: "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi".into(),
        last_valid: 160,
    };
    sent.save("http://127.0.0.1:8899", &wallet);
    assert_eq!(InFlight::load("http://127.0.0.1:8899", &wallet), Some(sent));
    assert_eq!(
        InFlight::load("https://api.devnet.solana.com", &wallet),
        None
    );
    let other = Address::new_from_array([6; 32]);
    assert_eq!(InFlight::load("http://127.0.0.1:8899", &other), None);
    InFlight::forget("http://127.0.0.1:8899", &wallet);
    assert_eq!(InFlight::load("http://127.0.0.1:8899", &wallet), None);
}

#[wasm_bindgen_test]
fn update_encoding_and_cid_equal_the_hosts() {
    let update = reference_update();
    assert_eq!(update.bytes.len(), REFERENCE_UPDATE_LEN);
    assert_eq!(update.digest_hex(), REFERENCE_UPDATE_DIGEST);
    assert!(update.cid.is_well_formed());
}

fn shard_and_model() -> (Dataset, ModelSpec, Weights, TrainConfig) {
    let split = digits().unwrap();
    let rows: Vec<usize> = (0..256).collect();
    let spec = ModelSpec::digits_mlp();
    let config = TrainConfig {
        epochs: 2,
        batch_size: 32,
        learning_rate: 0.01,
        // FedProx, so that its term's own pass runs on WebGPU too.
        proximal_mu: Some(0.1),
        ..TrainConfig::default()
    };
    let base = Weights::initial(&spec, 1);
    (split.train.subset(&rows), spec, base, config)
}

/// Two epochs on the first 256 training digits on `chosen`: the loss must fall, the accuracy
/// check run once per epoch, and the update be finite. Returns the trained weights.
async fn train_steps(chosen: &Chosen, expected: Backend) -> Weights {
    let (shard, spec, base, config) = shard_and_model();
    let mut losses = Vec::new();
    let mut accuracies = Vec::new();
    let (trainer, note) = TabTrainer::new(chosen, &spec, &base, &shard, &config)
        .await
        .unwrap();
    assert_eq!(trainer.backend(), expected, "{note}");
    let trained = trainer
        .run(&spec, Some(&shard), |r| {
            losses.push(r.progress.loss);
            accuracies.extend(r.accuracy);
        })
        .await
        .unwrap();
    assert_eq!(losses.len(), 16);
    assert_eq!(accuracies.len(), 2, "one check per epoch");
    assert!(accuracies[1] > 0.5, "{accuracies:?}");
    let early: f32 = losses[..4].iter().sum();
    let late: f32 = losses[12..].iter().sum();
    assert!(late < early, "{expected} loss must fall: {losses:?}");
    assert!(trained.values.iter().all(|v| v.is_finite()));
    assert_ne!(trained, base);
    trained
}

fn largest_difference(a: &Weights, b: &Weights) -> f32 {
    a.values
        .iter()
        .zip(&b.values)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

#[wasm_bindgen_test]
async fn trains_on_the_cpu_fallback() {
    let chosen = choose_device(Backend::Cpu).await;
    assert_eq!(chosen.backend(), Backend::Cpu);
    train_steps(&chosen, Backend::Cpu).await;
}

#[wasm_bindgen_test]
async fn trains_on_webgpu_like_the_cpu() {
    // Headless Chromium with --enable-unsafe-webgpu offers SwiftShader's adapter.
    let chosen = choose_device(Backend::WebGpu).await;
    assert_eq!(
        chosen.backend(),
        Backend::WebGpu,
        "no WebGPU adapter: {:?}",
        chosen.fallback_reason
    );
    let on_gpu = train_steps(&chosen, Backend::WebGpu).await;
    let on_cpu = train_steps(&choose_device(Backend::Cpu).await, Backend::Cpu).await;
    let worst = largest_difference(&on_gpu, &on_cpu);
    assert!(worst < 1e-5, "the kernels and the CPU differ by {worst}");
}

#[wasm_bindgen_test]
async fn options_the_kernels_lack_train_on_the_cpu() {
    let chosen = choose_device(Backend::WebGpu).await;
    let (shard, spec, base, config) = shard_and_model();
    let dp = TrainConfig {
        dp_sgd: Some(DpSgd {
            clip_norm: 1.0,
            noise_multiplier: 1.0,
        }),
        ..config
    };
    let (trainer, note) = TabTrainer::new(&chosen, &spec, &base, &shard, &dp)
        .await
        .unwrap();
    assert_eq!(trainer.backend(), Backend::Cpu);
    assert!(note.contains("DP-SGD"), "{note}");
}

#[wasm_bindgen_test]
async fn picked_images_become_samples_labelled_by_name() {
    // A white 16x16 PNG with a black band over its top quarter, encoded by the browser itself.
    let canvas = web_sys::OffscreenCanvas::new(16, 16).unwrap();
    let context: web_sys::OffscreenCanvasRenderingContext2d =
        canvas.get_context("2d").unwrap().unwrap().unchecked_into();
    context.set_fill_style_str("white");
    context.fill_rect(0.0, 0.0, 16.0, 16.0);
    context.set_fill_style_str("black");
    context.fill_rect(0.0, 0.0, 16.0, 4.0);
    let blob: web_sys::Blob = JsFuture::from(canvas.convert_to_blob().unwrap())
        .await
        .unwrap()
        .unchecked_into();
    let file =
        web_sys::File::new_with_blob_sequence(&js_sys::Array::of1(&blob), "4_band.png").unwrap();
    let digits: Vec<String> = (0..10).map(|d| d.to_string()).collect();
    let data = read_images(&[file], [1, 8, 8], &digits).await.unwrap();
    assert_eq!(data.labels, vec![4]);
    assert_eq!(data.feature_dim(), 64);
    // Dark ink on white reads as high intensity: the top two rows are ink, the rest paper.
    assert!(
        data.features[..16].iter().all(|&v| v > 0.9),
        "{:?}",
        data.features
    );
    assert!(
        data.features[24..].iter().all(|&v| v < 0.1),
        "{:?}",
        data.features
    );
    let text =
        web_sys::File::new_with_str_sequence(&js_sys::Array::of1(&"x".into()), "cat.png").unwrap();
    let error = read_images(&[text], [1, 8, 8], &digits)
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("named after its class"), "{error}");
}

#[wasm_bindgen_test]
fn training_worker_messages_carry_the_job_and_its_events_whole() {
    let (shard, spec, base, config) = shard_and_model();
    let message = Job::message(&spec, &config, &base, &shard);
    let job = Job::read(&message).unwrap();
    assert_eq!(
        job,
        Job {
            spec: spec.clone(),
            config,
            base: base.clone(),
            data: shard.clone(),
        }
    );
    let events = [
        Event::Ready,
        Event::Started,
        Event::Step(TimedStep {
            progress: TrainProgress::checked(1, 3, 8, 0.25).unwrap(),
            ms: 1.5,
        }),
        Event::Weights {
            values: vec![0.5, -1.0, 2.0],
        },
        Event::Done,
        Event::Failed {
            message: "no adapter".into(),
        },
    ];
    for event in events {
        assert_eq!(Event::read(&event.message()).unwrap(), event);
    }
    // A job whose weights are not the model's, or with a field missing, is refused by name.
    let other = Weights::initial(&ModelSpec::mlp(vec![64], 32, 10), 1);
    let error = Job::read(&Job::message(&spec, &config, &other, &shard)).unwrap_err();
    assert!(error.to_string().contains("base weights hold"), "{error}");
    js_sys::Reflect::delete_property(message.unchecked_ref::<js_sys::Object>(), &"labels".into())
        .unwrap();
    let error = Job::read(&message).unwrap_err().to_string();
    assert!(error.contains("no labels"), "{error}");
}
