//! The "Run a node" page: pick an open round, choose data (the demo shard or the visitor's own CSV,
//! which never leaves the tab), stake and train on WebGPU (or the CPU when there is no adapter),
//! commit, reveal when the phase opens, follow the committee drawn to judge the round, appeal a
//! wrong verdict, then see the verdict and settle. Progress survives a reload.

use droppin_coordinator::{Phase, phase, phase_name, settle_node, settlement_open};
use droppin_fl::data::{Dataset, Partition, digits, parse_csv, partition};
use droppin_fl::model::Weights;
use droppin_fl::privacy::DpSgd;
use droppin_fl::train::TrainConfig;
use droppin_fl::update::decode_model;
use droppin_fl::validate::outcome_name;
use droppin_interface::builders;
use droppin_interface::hash::{Sha256, commitment};
use droppin_interface::pda::find;
use droppin_interface::state::{NodeState, Reputation, Round, RoundStatus};
use droppin_node::RoundTask;
use droppin_task::catalog;
use leptos::prelude::*;
use leptos::task::spawn_local;
use solana_address::Address;
use wasm_bindgen::JsCast;

use crate::chain;
use crate::chart::{self, LineChart};
use crate::committee::Committee;
use crate::follow::{every_few_seconds, set_if_changed};
use crate::images::read_images;
use crate::node_record::{NodeRecord, current_round};
use crate::rounds::{amount, verdict_list};
use crate::session::{AppError, Session};
use crate::status::{RoundStatusPanel, expected_payout};
use crate::storage;
use crate::training::{Backend, StepReport, TabTrainer, choose_device};
use crate::upload::PreparedUpdate;

/// The task rounds opened here train: the catalog's digits.
pub fn digits_task() -> RoundTask {
    RoundTask::new(catalog::get("digits").expect("the catalog has the digits"))
        .expect("the digits task builds")
}
/// Demo shards: the shipped digits split IID in this many parts, one picked per wallet.
const DEMO_SHARDS: usize = 8;

/// The demo shard of `node`.
fn demo_shard(node: &Address) -> Result<Dataset, AppError> {
    let split = digits()?;
    let index = usize::from(node.as_ref()[0]) % DEMO_SHARDS;
    Ok(split
        .train
        .subset(&partition(&split.train, DEMO_SHARDS, Partition::Iid, 7)?[index]))
}

fn is_csv(file: &web_sys::File) -> bool {
    file.type_() == "text/csv" || file.name().to_lowercase().ends_with(".csv")
}

/// Reads the picked CSV file and checks it fits the round's model.
async fn read_csv(file: web_sys::File, label_column: String) -> Result<Dataset, AppError> {
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()
        .and_then(|t| t.as_string())
        .ok_or_else(|| AppError::Invalid(format!("cannot read {}", file.name())))?;
    let data = parse_csv(text.as_bytes(), &label_column, &file.name())?;
    let spec = digits_task().spec;
    if data.feature_dim() != spec.input_dim() || data.classes > spec.classes {
        return Err(AppError::Invalid(format!(
            "{}: this round's model takes {} features (8x8 images) and {} classes; the file has {} features and {} classes",
            file.name(),
            spec.input_dim(),
            spec.classes,
            data.feature_dim(),
            data.classes
        )));
    }
    Ok(data)
}

/// What the visitor should do next, given the wallet, the chain and the saved record.
pub fn next_step(
    round: &Round,
    slot: u64,
    connected: bool,
    joined: bool,
    record: Option<&NodeRecord>,
) -> String {
    let d = &round.deadlines;
    if !connected {
        return "Connect the wallet your node uses to see where it stands in this round.".into();
    }
    if record.is_some_and(|r| r.settled) {
        return "Done: your stake and reward are paid out.".into();
    }
    match round.status {
        RoundStatus::Failed => return "The round failed: settle to get your stake back.".into(),
        RoundStatus::Finalized if settlement_open(round, slot) => {
            return "The verdict is final: settle to receive your stake and reward.".into();
        }
        RoundStatus::Finalized if round.appeal.filed() => {
            return "The verdict is under appeal: settlement follows the appeal committee's verdict.".into();
        }
        RoundStatus::Finalized => {
            return match round.appeal_deadline() {
                Some(end) => format!(
                    "The committee has decided. Settlement opens when the appeal window closes at slot {end} (now {slot}); appeal if the verdict is wrong."
                ),
                None => {
                    "The committee has decided; its verdict's leaves are being posted on-chain."
                        .into()
                }
            };
        }
        RoundStatus::Open => {}
    }
    match (phase(round, slot), joined, record) {
        (Phase::Training, _, None) => format!(
            "Choose your data and press \"Join and train\" before slot {} (now {slot}).",
            d.commit
        ),
        (Phase::Training, _, Some(_)) => format!(
            "Committed. Come back when the reveal phase opens at slot {} (now {slot}); your update and salt are saved in this browser.",
            d.commit
        ),
        (Phase::Reveal, _, Some(r)) if !r.revealed => format!(
            "Reveal now: press \"Upload and reveal\" before slot {}.",
            d.reveal
        ),
        (Phase::Reveal | Phase::Validation | Phase::VoteReveal, _, Some(_)) => format!(
            "Revealed. A committee drawn by bond from the registry judges the round: sealed votes until slot {}, revealed until {} (now {slot}).",
            d.validation, d.vote_reveal
        ),
        (_, true, None) => "This browser has no saved update for this round: it cannot reveal, and part of the stake will be slashed. Settle what is left once the round settles.".into(),
        (Phase::Settlement, ..) => "The votes are in: waiting for anyone to finalize the round.".into(),
        _ => "Training has closed for this round: pick another.".into(),
    }
}

/// What the node page reads of the chain.
struct ChainRead {
    slot: u64,
    rounds: Vec<(Address, Round)>,
    /// The chosen round, this wallet and its node state there, when both are known.
    node: Option<(Address, Address, Option<NodeState>)>,
}

/// Reads the slot, every round and, given a chosen round and a connected wallet, its node state.
async fn read_chain(session: &Session, chosen: Option<String>) -> Result<ChainRead, AppError> {
    let (slot, rounds) = chain::slot_and_rounds(session).await?;
    let node = match (chosen, session.address()) {
        (Some(round), Ok(node)) => {
            let round: Address = round
                .parse()
                .map_err(|_| AppError::Invalid("round".into()))?;
            let state =
                chain::state(session, &find::node(&session.program(), &round, &node)).await?;
            Some((round, node, state))
        }
        _ => None,
    };
    Ok(ChainRead { slot, rounds, node })
}

/// The training's live charts: the loss of each step and the held-out accuracy after each epoch.
#[component]
fn TrainingCharts(losses: Vec<f32>, accuracies: Vec<f64>) -> impl IntoView {
    let steps: Vec<(f64, f64)> = losses
        .iter()
        .enumerate()
        .map(|(i, l)| ((i + 1) as f64, f64::from(*l)))
        .collect();
    let epochs: Vec<(f64, f64)> = accuracies
        .iter()
        .enumerate()
        .map(|(i, a)| ((i + 1) as f64, *a))
        .collect();
    view! {
        <div class="charts">
            <LineChart id="loss-chart" title="Training loss" x_title="step" y_title="cross-entropy (nats)"
                class="series-loss" data=steps x_format=chart::whole y_format=chart::loss />
            <LineChart id="accuracy-chart" title="Held-out accuracy" x_title="epoch" y_title="accuracy (%)"
                class="series-accuracy" data=epochs y_range=(0.0, 1.0) x_format=chart::whole y_format=chart::percent />
        </div>
    }
}

/// What an action did, and the transaction that did it.
#[derive(Clone, Debug)]
struct Done {
    message: String,
    signature: String,
}

/// Live training progress.
#[derive(Clone, Default)]
struct Progress {
    done: usize,
    total: usize,
    losses: Vec<f32>,
    accuracies: Vec<f64>,
}

#[component]
pub fn RunNode() -> impl IntoView {
    let session = expect_context::<Session>();
    let rounds = RwSignal::new(Vec::<(Address, Round)>::new());
    let chosen = RwSignal::new(current_round());
    let slot = RwSignal::new(0u64);
    let node_state = RwSignal::new(None::<NodeState>);
    let record = RwSignal::new(None::<NodeRecord>);
    // Whether `node_state` and `record` are those of the current wallet and round.
    let checked = RwSignal::new(false);
    let use_own_file = RwSignal::new(false);
    let label_column = RwSignal::new("label".to_owned());
    let files = RwSignal::new(Vec::<web_sys::File>::new());
    let prefer_cpu = RwSignal::new(false);
    let dp_on = RwSignal::new(false);
    let epsilon = RwSignal::new("3".to_owned());
    let epochs = RwSignal::new("5".to_owned());
    let progress = RwSignal::new(Progress::default());
    let backend_note = RwSignal::new(None::<String>);
    let verdict = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<Result<Done, String>>);
    let busy = RwSignal::new(false);

    let round_of = move || {
        let chosen = chosen.get()?;
        rounds
            .get()
            .into_iter()
            .find(|(a, _)| a.to_string() == chosen)
    };
    // Reloads rounds, the slot, and this wallet's state and saved record in the chosen round.
    let refresh = move || {
        checked.set(false);
        spawn_local(async move {
            match read_chain(&session, chosen.get_untracked()).await {
                Ok(read) => {
                    slot.set(read.slot);
                    rounds.set(read.rounds);
                    if let Some((round, node, state)) = read.node {
                        node_state.set(state);
                        record.set(NodeRecord::load(&round.to_string(), &node.to_string()));
                        checked.set(true);
                    }
                }
                Err(error) => status.set(Some(Err(error.to_string()))),
            }
        });
    };
    Effect::new(move |_| {
        session.cluster.track();
        session.wallet.track();
        chosen.track();
        refresh();
    });
    // The page follows the chain by itself: the slot, the rounds and this node's account. It
    // only reads, so it goes on while an action runs: the head counts move as it lands.
    every_few_seconds(move || {
        spawn_local(async move {
            if let Ok(read) = read_chain(&session, chosen.get_untracked()).await {
                slot.set(read.slot);
                set_if_changed(rounds, read.rounds);
                if let Some((_, _, state)) = read.node {
                    set_if_changed(node_state, state);
                }
            }
        });
    });

    let run = move |action: &'static str| {
        let Some((round_address, round)) = round_of() else {
            status.set(Some(Err("pick a round first".into())));
            return;
        };
        busy.set(true);
        status.set(None);
        spawn_local(async move {
            let outcome = match action {
                "train" => {
                    join_and_train(
                        session,
                        round_address,
                        round,
                        use_own_file.get_untracked(),
                        files.get_untracked(),
                        label_column.get_untracked(),
                        prefer_cpu.get_untracked(),
                        dp_on.get_untracked().then(|| {
                            epsilon
                                .get_untracked()
                                .trim()
                                .parse::<f64>()
                                .unwrap_or(f64::NAN)
                        }),
                        epochs.get_untracked().trim().parse().unwrap_or(0),
                        progress,
                        backend_note,
                        record,
                    )
                    .await
                }
                "reveal" => reveal(session, round_address, record).await,
                "appeal" => appeal(session, round_address, round).await,
                _ => settle(session, round_address, record, verdict).await,
            };
            status.set(Some(outcome.map_err(|e| e.to_string())));
            busy.set(false);
            refresh();
        });
    };

    // Open rounds, and the one this page works on whatever its state.
    let open_rounds = move || {
        let current = chosen.get();
        rounds
            .get()
            .into_iter()
            .filter(|(a, r)| {
                r.status == RoundStatus::Open || current.as_deref() == Some(a.to_string().as_str())
            })
            .collect::<Vec<_>>()
    };
    // The options change only when a round's phase or head count does, so the list is not
    // rebuilt under the visitor's pointer at every slot.
    let round_options = Memo::new(move |_| {
        open_rounds()
            .into_iter()
            .map(|(address, round)| {
                let label = format!(
                    "Round {} · {} · pool {} · stake {} · {}/{} nodes",
                    round.id,
                    phase_name(&round, slot.get()),
                    amount(&round, round.pool),
                    amount(&round, round.node_stake),
                    round.counts.nodes_joined,
                    round.max_nodes
                );
                (address.to_string(), label)
            })
            .collect::<Vec<_>>()
    });
    let phase_now = move || round_of().map(|(_, r)| phase(&r, slot.get()));
    let can_train = move || {
        !busy.get()
            && session.wallet.get().is_some()
            && record.get().is_none()
            && phase_now() == Some(Phase::Training)
    };
    let can_reveal = move || {
        !busy.get()
            && record.get().is_some_and(|r| !r.revealed)
            && phase_now() == Some(Phase::Reveal)
    };
    let can_settle = move || {
        !busy.get()
            && round_of().is_some_and(|(_, r)| settlement_open(&r, slot.get()))
            && record.get().is_none_or(|r| !r.settled)
            && node_state.get().is_some()
    };
    // Anyone may appeal a first verdict while its window is open, bonding a seat's lock.
    let appeal_bond = move || {
        round_of().and_then(|(_, r)| {
            let open = !r.appeal.filed() && r.appeal_deadline().is_some_and(|end| slot.get() < end);
            open.then(|| amount(&r, r.committees[0].seat_lock))
        })
    };

    // What each action will ask the wallet to sign, said before the wallet opens.
    let signs = move || {
        let (_, round) = round_of()?;
        let line = if can_train() {
            format!(
                "\"Join, train and commit\" asks your wallet to sign two transactions: JoinRound, which stakes {} into round #{}'s escrow (skipped if you already joined), then, after training, CommitUpdate, which records your update's hash. Nothing else leaves this tab.",
                amount(&round, round.node_stake),
                round.id
            )
        } else if can_reveal() {
            "\"Upload and reveal\" uploads your update and asks your wallet to sign RevealUpdate, which publishes its CID and salt; no funds move.".into()
        } else if can_settle() {
            "\"Settle\" asks your wallet to sign SettleNode: the escrow pays your stake and reward (or refund) to this wallet.".into()
        } else {
            return None;
        };
        Some(view! { <p class="signs" id="signs">{line}</p> })
    };
    let primary = |enabled: bool| if enabled { "primary" } else { "" };

    view! {
        <section class="node">
            <h2>"Run a node"</h2>
            <p class="note">"Your samples never leave this tab: only the trained model update is uploaded, after you commit to it."</p>
            <div class="panel">
                <label for="round">"Round"</label>
                <select id="round" on:change=move |ev| chosen.set(Some(event_target_value(&ev)))>
                    <option value="">"Choose an open round"</option>
                    {move || round_options.get().into_iter().map(|(value, label)| {
                        let selected = chosen.get().as_deref() == Some(value.as_str());
                        view! { <option value=value selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
                {move || round_of().map(|(_, round)| view! { <RoundStatusPanel round=round.clone() now=slot.get() /> })}
                {move || round_of().map(|(_, round)| {
                    let text = if session.wallet.get().is_some() && !checked.get() {
                        "Checking where your node stands in this round...".to_owned()
                    } else {
                        next_step(&round, slot.get(), session.wallet.get().is_some(), node_state.get().is_some(), record.get().as_ref())
                    };
                    let payout = (round.status == RoundStatus::Open).then(|| format!(
                        "If your update is accepted with an even share: about {} back (your stake of {} plus a reward); the verdict's weights decide.",
                        amount(&round, expected_payout(&round)), amount(&round, round.node_stake)
                    ));
                    view! {
                        <p id="next-step" class="next" aria-live="polite">{text}</p>
                        {payout.map(|p| view! { <p class="note" id="expected-payout">{p}</p> })}
                    }
                })}
            </div>
            <fieldset>
                <legend>"Your data"</legend>
                <label class="inline"><input type="radio" name="data" id="data-demo" prop:checked=move || !use_own_file.get()
                    on:change=move |_| use_own_file.set(false) />" Demo shard of the handwritten digits"</label>
                <label class="inline"><input type="radio" name="data" id="data-file" prop:checked=use_own_file
                    on:change=move |_| use_own_file.set(true) />" My own files: one CSV (64 pixel columns and a label column) or images named after their label (3.png, 7_b.jpg)"</label>
                {move || use_own_file.get().then(|| view! {
                    <label for="file">"Files"</label>
                    <input type="file" id="file" multiple accept=".csv,text/csv,image/*" on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        let picked = input.files().map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect());
                        files.set(picked.unwrap_or_default());
                    } />
                    <label class="inline">"Label column " <input id="label-column" prop:value=label_column
                        on:input=move |ev| label_column.set(event_target_value(&ev)) /></label>
                })}
            </fieldset>
            <fieldset>
                <legend>"Training"</legend>
                <label class="inline">"Epochs " <input id="epochs" inputmode="numeric" prop:value=epochs
                    on:input=move |ev| epochs.set(event_target_value(&ev)) /></label>
                <label class="inline"><input type="checkbox" id="prefer-cpu" prop:checked=prefer_cpu
                    on:change=move |ev| prefer_cpu.set(event_target_checked(&ev)) />" Train on the CPU (default: the GPU through WebGPU)"</label>
                <label class="inline"><input type="checkbox" id="dp" prop:checked=dp_on
                    on:change=move |ev| dp_on.set(event_target_checked(&ev)) />" Differential privacy (DP-SGD) with epsilon "
                    <input id="epsilon" inputmode="decimal" aria-label="epsilon" prop:value=epsilon on:input=move |ev| epsilon.set(event_target_value(&ev)) />
                    " (delta 1e-5)"</label>
            </fieldset>
            <div class="actions">
                <button id="train" class=move || primary(can_train()) prop:disabled=move || !can_train() on:click=move |_| run("train")>"Join, train and commit"</button>
                <button id="reveal" class=move || primary(can_reveal()) prop:disabled=move || !can_reveal() on:click=move |_| run("reveal")>"Upload and reveal"</button>
                <button id="settle" class=move || primary(can_settle()) prop:disabled=move || !can_settle() on:click=move |_| run("settle")>"Settle"</button>
                {move || appeal_bond().map(|bond| view! {
                    <button id="appeal" prop:disabled=move || busy.get() || session.wallet.get().is_none()
                        on:click=move |_| run("appeal")>{format!("Appeal the verdict (bond {bond})")}</button>
                })}
            </div>
            {signs}
            {move || appeal_bond().map(|bond| view! {
                <p class="signs">{format!("\"Appeal\" asks your wallet to sign Appeal, which bonds {bond} until the appeal committee decides.")}</p>
            })}
            <div role="status" aria-live="polite">
                {move || busy.get().then(|| view! {
                    <p class="pending" id="working">"Working: approve in your wallet, then wait for the cluster to confirm..."</p>
                })}
                {move || backend_note.get().map(|note| view! { <p id="backend">{note}</p> })}
                {move || {
                    let p = progress.get();
                    (p.total > 0).then(|| view! {
                        <p><progress id="progress" max=p.total value=p.done aria-label="training steps"></progress>
                        <span>{format!(" {}/{} steps", p.done, p.total)}</span></p>
                    })
                }}
                {move || status.get().map(|s| match s {
                    Ok(done) => view! {
                        <p id="node-status" class="ok">{done.message}" "
                            <a href=session.explorer_tx(&done.signature) target="_blank" rel="noopener">"View the transaction"</a>
                        </p>
                    }.into_any(),
                    Err(error) => view! { <p id="node-error" class="error">{error}</p> }.into_any(),
                })}
            </div>
            {move || {
                let p = progress.get();
                (p.total > 0).then(|| view! { <TrainingCharts losses=p.losses.clone() accuracies=p.accuracies.clone() /> })
            }}
            {move || record.get().map(|r| view! {
                <p id="committed">{format!(
                    "Committed update {} from {} samples{}.",
                    storage::cid_text(&r.cid()), r.samples,
                    r.epsilon.map(|e| format!(", differential privacy epsilon {e:.2} (delta 1e-5)")).unwrap_or_default()
                )}</p>
            })}
            {move || node_state.get().map(|n| view! {
                <p id="reputation-snapshot">{format!("Reputation multiplier at join: x{:.2}", f64::from(n.reputation_bps) / 10_000.0)}</p>
            })}
            {move || verdict.get().map(|v| view! { <p id="verdict">{v}</p> })}
            {move || round_of().map(|(_, round)| view! { <Committee round=round now=slot.get() /> })}
        </section>
    }
}

/// Loads the round's global model from storage.
async fn global_model(session: &Session, round: &Round) -> Result<Weights, AppError> {
    let bytes = storage::download(&session.storage_url(), &round.model_cid).await?;
    Ok(decode_model(
        &digits_task().spec,
        &bytes,
        &round.model_hash,
    )?)
}

#[allow(clippy::too_many_arguments)]
async fn join_and_train(
    session: Session,
    round_address: Address,
    round: Round,
    own_file: bool,
    files: Vec<web_sys::File>,
    label_column: String,
    prefer_cpu: bool,
    epsilon: Option<f64>,
    epochs: usize,
    progress: RwSignal<Progress>,
    backend_note: RwSignal<Option<String>>,
    record: RwSignal<Option<NodeRecord>>,
) -> Result<Done, AppError> {
    let node = session.address()?;
    if !digits_task().is_of(&round) {
        return Err(AppError::Invalid(
            "this round trains a model this page does not know".into(),
        ));
    }
    if !(1..=50).contains(&epochs) {
        return Err(AppError::Invalid("epochs must be between 1 and 50".into()));
    }
    let data = match (own_file, files.as_slice()) {
        (false, _) => demo_shard(&node)?,
        (true, []) => {
            return Err(AppError::Invalid("pick a CSV file or images first".into()));
        }
        (true, [file]) if is_csv(file) => read_csv(file.clone(), label_column).await?,
        (true, images) => {
            let spec = digits_task().spec;
            read_images(images, spec.input[1] as u32, spec.classes).await?
        }
    };
    let base = global_model(&session, &round).await?;
    let mut config = TrainConfig {
        epochs,
        learning_rate: 0.005,
        seed: rand::random(),
        ..TrainConfig::default()
    };
    let mut spent = None;
    if let Some(epsilon) = epsilon {
        if !(epsilon > 0.0 && epsilon.is_finite()) {
            return Err(AppError::Invalid(
                "epsilon must be a positive number".into(),
            ));
        }
        let dp = DpSgd::for_budget(epsilon, data.len(), config.batch_size, epochs, 1)?;
        spent = Some(dp.epsilon_spent(data.len(), config.batch_size, epochs, 1)?);
        config.dp_sgd = Some(dp);
    }
    let program = session.program();
    if chain::state::<NodeState>(&session, &find::node(&program, &round_address, &node))
        .await?
        .is_none()
    {
        session
            .send(&[builders::join_round(&program, &node, &round_address)])
            .await?;
    }
    let chosen = choose_device(if prefer_cpu {
        Backend::Cpu
    } else {
        Backend::WebGpu
    })
    .await;
    let spec = digits_task().spec;
    let (trainer, note) = TabTrainer::new(&chosen, &spec, &base, &data, &config).await?;
    backend_note.set(Some(note));
    let total = epochs * data.len().div_ceil(config.batch_size);
    progress.set(Progress {
        total,
        ..Progress::default()
    });
    let trained = trainer
        .run(&spec, Some(&data), |report: StepReport| {
            progress.update(|p| {
                p.done += 1;
                p.losses.push(report.progress.loss);
                p.accuracies.extend(report.accuracy);
            })
        })
        .await?;
    let update = PreparedUpdate::new(
        &spec,
        &base,
        &round_address.to_bytes(),
        &trained,
        data.len() as u64,
    );
    let salt: [u8; 32] = rand::random();
    let mut saved = NodeRecord::new(
        &round_address.to_string(),
        &node.to_string(),
        &update.bytes,
        salt,
        data.len() as u64,
    );
    saved.epsilon = spent;
    // Saved before the commit is sent: if the commit lands unseen, only this salt can reveal it.
    saved.save();
    record.set(Some(saved));
    let hash = commitment::<Sha256>(&node.to_bytes(), &update.cid, &salt);
    let signature = session
        .send(&[builders::commit_update(
            &program,
            &node,
            &round_address,
            hash,
        )])
        .await?;
    Ok(Done {
        message:
            "Committed: your update's hash is on-chain. Reveal it when the reveal phase opens."
                .into(),
        signature,
    })
}

async fn reveal(
    session: Session,
    round_address: Address,
    record: RwSignal<Option<NodeRecord>>,
) -> Result<Done, AppError> {
    let mut saved = record
        .get_untracked()
        .ok_or_else(|| AppError::Invalid("nothing to reveal".into()))?;
    let node = session.address()?;
    let cid = storage::upload(&session.storage_url(), &saved.update_bytes()).await?;
    if cid != saved.cid() {
        return Err(storage::StorageError::WrongCid.into());
    }
    let signature = session
        .send(&[builders::reveal_update(
            &session.program(),
            &node,
            &round_address,
            cid,
            saved.salt,
            saved.samples,
        )])
        .await?;
    saved.revealed = true;
    saved.save();
    record.set(Some(saved));
    Ok(Done {
        message: "Revealed: the committee will validate your update.".into(),
        signature,
    })
}

/// Files an appeal against the first verdict, bonding a seat's lock from the wallet.
async fn appeal(session: Session, round_address: Address, round: Round) -> Result<Done, AppError> {
    let appellant = session.address()?;
    let signature = session
        .send(&[builders::appeal(
            &session.program(),
            &appellant,
            &round_address,
        )])
        .await?;
    Ok(Done {
        message: format!(
            "Appealed with a bond of {}: a larger committee is drawn to judge the round again. If it overturns the verdict, the bond comes back with a reward from the first majority's bonds.",
            amount(&round, round.committees[0].seat_lock)
        ),
        signature,
    })
}

/// Settles the node by its leaf in the verdict in force (finalized round) or by a refund
/// (failed round); the coordinator previews what the program will pay.
async fn settle(
    session: Session,
    round_address: Address,
    record: RwSignal<Option<NodeRecord>>,
    verdict: RwSignal<Option<String>>,
) -> Result<Done, AppError> {
    let node = session.address()?;
    let program = session.program();
    let slot = session.rpc().slot().await?;
    let round: Round = chain::state(&session, &round_address)
        .await?
        .ok_or_else(|| AppError::Invalid("the round is closed".into()))?;
    let state: NodeState = chain::state(&session, &find::node(&program, &round_address, &node))
        .await?
        .ok_or_else(|| {
            AppError::Invalid("this wallet has nothing to settle in the round".into())
        })?;
    let level = (round.status == RoundStatus::Finalized).then_some(round.outcome.level);
    let leaf = match level {
        Some(level) => chain::verdict_leaf(&session, &round_address, level, state.index).await?,
        None => None,
    };
    let reputation_address = find::reputation(&program, &node);
    let mut reputation = chain::state::<Reputation>(&session, &reputation_address)
        .await?
        .unwrap_or_default();
    let payout = settle_node(&mut round.clone(), &state, &mut reputation, leaf, slot)
        .map_err(|e| AppError::Invalid(format!("cannot settle yet: {e}")))?;
    let reason = match level {
        Some(_) => verdict_list(session, round_address, round.clone())
            .await
            .ok()
            .and_then(|list| list.entry(&node.to_bytes()).and_then(|e| e.reason.clone())),
        None => None,
    };
    verdict.set(Some(format!(
        "Verdict: {}; contribution {:.2}% of the node pool{}.",
        outcome_name(payout.outcome),
        f64::from(leaf.map_or(0, |l| l.weight_bps)) / 100.0,
        reason.map(|r| format!("; {r}")).unwrap_or_default()
    )));
    let cid = state.cid.is_well_formed().then_some(state.cid);
    let signature = session
        .send(&[builders::settle_node(
            &program,
            &node,
            &round_address,
            &node,
            cid.as_ref(),
            level,
        )])
        .await?;
    if let Some(mut saved) = record.get_untracked() {
        saved.settled = true;
        saved.save();
        record.set(Some(saved));
    }
    let half_life = round.terms.reputation_half_life;
    Ok(Done {
        message: format!(
            "Paid {}. Reputation: {} points, multiplier x{:.2} in your next round.",
            amount(&round, payout.to_node),
            reputation.points_at(slot, half_life),
            f64::from(reputation.multiplier_bps(slot, half_life)) / 10_000.0
        ),
        signature,
    })
}

/// The element an event fired on, as the type it is.
fn event_target<T: JsCast>(ev: &web_sys::Event) -> T {
    ev.target().expect("an event target").unchecked_into()
}
