//! The "Run a node" page: pick an open round, see the task it trains and the data it expects,
//! choose data (the task's demo shard or the visitor's own files, read by the task's schema,
//! which never leave the tab), stake and train by the task's recipe on WebGPU (or the CPU),
//! commit, reveal when the phase opens, follow the committee drawn to judge the round, appeal a
//! wrong verdict, then see the verdict and settle (or fail a timed-out round and take the
//! refund). What to do next is the node library's step function; this page only carries the
//! steps out. Progress survives a reload.

use droppin_coordinator::phase_name;
use droppin_fl::model::Weights;
use droppin_fl::update::decode_model;
use droppin_interface::builders;
use droppin_interface::pda::find;
use droppin_interface::state::{Currency, NodeState, NodeStatus, Reputation, Round, RoundStatus};
use droppin_node::currency::paying;
use droppin_node::money::format_amount;
use droppin_node::privacy::{apply_budget, exposure_warning};
use droppin_node::settle::preview_settlement;
use droppin_node::trainer::{TrainerKind, choose_trainer};
use droppin_node::{RoundTask, Snapshot, Step, next_step};
use droppin_task::catalog;
use leptos::prelude::*;
use leptos::task::spawn_local;
use solana_address::Address;

use crate::chain;
use crate::chart::{self, LineChart};
use crate::committee::Committee;
use crate::follow::{every_few_seconds, set_if_changed};
use crate::node_data::{demo_shard, has_demo_data, read_own};
use crate::node_record::{NodeRecord, current_round};
use crate::open::protocol_config;
use crate::rounds::{amount, verdict_list};
use crate::session::{AppError, Session, event_target};
use crate::status::{RoundStatusPanel, expected_payout};
use crate::storage;
use crate::training::{Backend, StepReport, TabTrainer, choose_device};
use crate::upload::PreparedUpdate;

/// The catalog's digits task: what the order form opens by default.
pub fn digits_task() -> RoundTask {
    RoundTask::new(catalog::get("digits").expect("the catalog has the digits"))
        .expect("the digits task builds")
}

/// The task `round` trains, fetched from storage by its CID and checked against it, and
/// against the validation set the round pins: nobody stakes on a round no committee can judge.
pub async fn round_task(session: &Session, round: &Round) -> Result<RoundTask, AppError> {
    let bytes = storage::download(&session.storage_url(), &round.task_cid).await?;
    let invalid = |e: droppin_node::TaskLoadError| AppError::Invalid(e.to_string());
    let task = RoundTask::from_stored(&bytes, &round.task_cid).map_err(invalid)?;
    task.judged_split(round).map_err(invalid)?;
    Ok(task)
}

/// The node's next step in `round`, as the node library decides it.
fn step_of(
    round: &Round,
    slot: u64,
    node: Option<&NodeState>,
    record: Option<&NodeRecord>,
) -> Step {
    next_step(
        Snapshot { slot, round, node },
        record.map(|r| &r.commitment),
    )
}

/// The $dPIN mint, when the cluster launched it (a $dPIN round's transfers need it).
async fn dpin_mint(session: &Session) -> Result<Option<Address>, AppError> {
    let config = protocol_config(session).await?;
    Ok(config
        .token_launched()
        .then(|| Address::new_from_array(config.token.mint)))
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

/// The training's live charts: the loss of each step and the accuracy on the node's own data
/// after each epoch (it holds no other set).
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
            <LineChart id="accuracy-chart" title="Accuracy on your data" x_title="epoch" y_title="accuracy (%)"
                class="series-accuracy" data=epochs y_range=(0.0, 1.0) x_format=chart::whole y_format=chart::percent />
        </div>
    }
}

/// What an action did, and the transaction that did it.
#[derive(Clone, Debug)]
struct Done {
    message: String,
    /// The transaction the action sent; `None` for an upload, which sends none.
    signature: Option<String>,
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
    // The task of the round it names, fetched by its CID and checked against that round (or
    // why it could not be): another round of the same task may pin another validation set.
    let task = RwSignal::new(None::<(Address, Result<RoundTask, String>)>);
    let loaded = move || task.get().map(|(_, loaded)| loaded);
    let progress = RwSignal::new(Progress::default());
    let backend_note = RwSignal::new(None::<String>);
    let privacy_note = RwSignal::new(None::<String>);
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
                    let chosen_round = chosen.get_untracked().and_then(|c| {
                        read.rounds
                            .iter()
                            .find(|(a, _)| a.to_string() == c)
                            .cloned()
                    });
                    rounds.set(read.rounds);
                    if let Some((address, round)) = chosen_round {
                        let known = task
                            .get_untracked()
                            .is_some_and(|(checked, t)| checked == address && t.is_ok());
                        if !known {
                            let loaded = round_task(&session, &round)
                                .await
                                .map_err(|e| e.to_string());
                            task.set(Some((address, loaded)));
                        }
                    }
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
                "train" => match task.get_untracked() {
                    Some((checked, Ok(task))) if checked == round_address => {
                        let choices = Choices {
                            own_files: use_own_file
                                .get_untracked()
                                .then(|| (files.get_untracked(), label_column.get_untracked())),
                            prefer_cpu: prefer_cpu.get_untracked(),
                            epsilon: dp_on.get_untracked().then(|| {
                                epsilon
                                    .get_untracked()
                                    .trim()
                                    .parse::<f64>()
                                    .unwrap_or(f64::NAN)
                            }),
                        };
                        join_and_train(
                            session,
                            round_address,
                            round,
                            task,
                            choices,
                            Live {
                                progress,
                                backend_note,
                                privacy_note,
                            },
                            record,
                        )
                        .await
                    }
                    _ => Err(AppError::Invalid(
                        "this round's task is not loaded: see the task panel".into(),
                    )),
                },
                "reveal" => reveal(session, round_address, record).await,
                "upload" => upload_again(session, record).await,
                "appeal" => appeal(session, round_address, round).await,
                _ => settle(session, round_address, record, verdict).await,
            };
            status.set(Some(outcome.map_err(|e| e.to_string())));
            busy.set(false);
            refresh();
        });
    };

    // Open rounds, the one this page works on, and any this wallet still has a saved update in
    // (to reveal or to settle), whatever their state.
    let open_rounds = move || {
        let current = chosen.get();
        let wallet = session.wallet.get().and(session.address().ok());
        rounds
            .get()
            .into_iter()
            .filter(|(a, r)| {
                let address = a.to_string();
                // Local storage is read only for closed rounds that are not the current one.
                r.status == RoundStatus::Open
                    || current.as_deref() == Some(address.as_str())
                    || wallet.is_some_and(|node| {
                        NodeRecord::load(&address, &node.to_string())
                            .is_some_and(|saved| !saved.commitment.settled)
                    })
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
    // The node library's next step for this wallet in the chosen round.
    let step_now = move || {
        let (_, round) = round_of()?;
        (session.wallet.get().is_some() && checked.get()).then(|| {
            step_of(
                &round,
                slot.get(),
                node_state.get().as_ref(),
                record.get().as_ref(),
            )
        })
    };
    let task_ready = move || matches!(loaded(), Some(Ok(_)));
    let can_train = move || {
        !busy.get()
            && task_ready()
            && matches!(
                step_now(),
                Some(Step::Join | Step::TrainAndCommit | Step::Commit)
            )
    };
    let can_reveal = move || !busy.get() && step_now() == Some(Step::Reveal);
    let can_upload = move || !busy.get() && matches!(step_now(), Some(Step::Upload { .. }));
    let can_settle =
        move || !busy.get() && matches!(step_now(), Some(Step::Settle | Step::FailRound));
    // Anyone may appeal a first verdict while its window is open, bonding a seat's lock.
    let appeal_bond = move || {
        round_of().and_then(|(_, r)| {
            let open = !r.appeal.filed() && r.appeal_deadline().is_some_and(|end| slot.get() < end);
            // A seat's lock, and so the appeal bond, is in lamports whatever the round pays in.
            open.then(|| format_amount(r.committees[0].seat_lock, Currency::Sol))
        })
    };

    // What each action will ask the wallet to sign, said before the wallet opens.
    let signs = move || {
        let (_, round) = round_of()?;
        let line = if can_train() {
            format!(
                "\"Join, train and commit\" trains first, then asks your wallet to sign one transaction: JoinRound, which stakes {} into round #{}'s escrow (left out if you already joined), with CommitUpdate, which records your update's hash. Nothing else leaves this tab.",
                amount(&round, round.node_stake),
                round.id
            )
        } else if can_reveal() {
            "\"Upload and reveal\" asks your wallet to sign RevealUpdate, which publishes your update's CID and salt (no funds move), then uploads the update to the storage gateway for the committee.".into()
        } else if can_upload() {
            "\"Upload the update\" sends your revealed update to the storage gateway again; your wallet signs nothing.".into()
        } else if can_settle() {
            if step_now() == Some(Step::FailRound) {
                "\"Settle\" asks your wallet to sign CrankTimeout, which fails the timed-out round, and SettleNode, which refunds your stake to this wallet.".into()
            } else {
                "\"Settle\" asks your wallet to sign SettleNode: the escrow pays your stake and reward (or refund) to this wallet.".into()
            }
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
                    let text = match (session.wallet.get().is_some(), step_now()) {
                        (false, _) => "Connect the wallet your node uses to see where it stands in this round.".to_owned(),
                        (true, None) => "Checking where your node stands in this round...".to_owned(),
                        (true, Some(step)) => step.describe(slot.get()),
                    };
                    let joined = node_state.get().is_some();
                    let payout = (round.status == RoundStatus::Open).then(|| {
                        let (least, most) = expected_payout(&round, joined);
                        format!(
                            "If your update is accepted with an even share: {} to {} back (your stake of {} plus a reward, smaller the more nodes join, up to {}); the verdict's weights decide.",
                            amount(&round, least), amount(&round, most), amount(&round, round.node_stake), round.max_nodes
                        )
                    });
                    view! {
                        <p id="next-step" class="next" aria-live="polite">{text}</p>
                        {payout.map(|p| view! { <p class="note" id="expected-payout">{p}</p> })}
                    }
                })}
            </div>
            {move || loaded().map(|loaded| match loaded {
                Ok(task) => {
                    let parameters = task.spec.check().unwrap_or_default();
                    view! {
                        <div class="panel" id="task">
                            <p><strong>{format!("Task: {}", task.manifest.name)}</strong>{format!(" · {} · {parameters} parameters", task.manifest.description)}</p>
                            <p id="task-data">{format!("Data it expects: {}.", task.manifest.data.summary())}</p>
                            <p id="task-recipe">{format!("Recipe: {}.", task.manifest.recipe.summary())}</p>
                        </div>
                    }.into_any()
                }
                Err(error) => view! { <p class="error" id="task-error">{format!("This round's task cannot be loaded: {error}")}</p> }.into_any(),
            })}
            <fieldset>
                <legend>"Your data"</legend>
                {move || loaded().and_then(Result::ok).filter(has_demo_data).map(|task| view! {
                    <label class="inline"><input type="radio" name="data" id="data-demo" prop:checked=move || !use_own_file.get()
                        on:change=move |_| use_own_file.set(false) />{format!(" Demo shard of the task's shipped data ({})", task.manifest.name)}</label>
                })}
                <label class="inline"><input type="radio" name="data" id="data-file" prop:checked=use_own_file
                    on:change=move |_| use_own_file.set(true) />" My own files, read by the task's schema: a CSV with its columns, a text file, or images (in folders named after their class, or named after it)"</label>
                {move || use_own_file.get().then(|| view! {
                    <label for="file">"Files"</label>
                    <input type="file" id="file" multiple accept=".csv,text/csv,.txt,text/plain,image/*" on:change=move |ev| {
                        let input: web_sys::HtmlInputElement = event_target(&ev);
                        let picked = input.files().map(|list| (0..list.length()).filter_map(|i| list.get(i)).collect());
                        files.set(picked.unwrap_or_default());
                    } />
                    <label class="inline">"Label column of a CSV of pixels " <input id="label-column" prop:value=label_column
                        on:input=move |ev| label_column.set(event_target_value(&ev)) /></label>
                })}
            </fieldset>
            <fieldset>
                <legend>"Training"</legend>
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
                {move || can_upload().then(|| view! {
                    <button id="upload" class="primary" on:click=move |_| run("upload")>"Upload the update"</button>
                })}
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
                {move || privacy_note.get().map(|note| view! { <p id="privacy-note" class="warn">{note}</p> })}
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
                            {done.signature.map(|signature| view! {
                                <a href=session.explorer_tx(&signature) target="_blank" rel="noopener">"View the transaction"</a>
                            })}
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
                    storage::cid_text(&r.commitment.cid), r.commitment.samples,
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
async fn global_model(
    session: &Session,
    round: &Round,
    task: &RoundTask,
) -> Result<Weights, AppError> {
    let bytes = storage::download(&session.storage_url(), &round.model_cid).await?;
    Ok(decode_model(&task.spec, &bytes, &round.model_hash)?)
}

/// Where training reports as it goes: the steps and the engine it runs on.
#[derive(Clone, Copy)]
struct Live {
    progress: RwSignal<Progress>,
    backend_note: RwSignal<Option<String>>,
    /// Set when the update comes from few rows without differential privacy.
    privacy_note: RwSignal<Option<String>>,
}

/// What the visitor chose on the page for training.
struct Choices {
    own_files: Option<(Vec<web_sys::File>, String)>,
    prefer_cpu: bool,
    epsilon: Option<f64>,
}

/// Joins (unless joined), trains by the task's recipe, saves the commitment, commits. A saved
/// commitment whose commit did not land is committed as it is, never retrained.
async fn join_and_train(
    session: Session,
    round_address: Address,
    round: Round,
    task: RoundTask,
    choices: Choices,
    live: Live,
    record: RwSignal<Option<NodeRecord>>,
) -> Result<Done, AppError> {
    let node = session.address()?;
    let program = session.program();
    // A join and commit sent before a reload (or from another tab) may still land: its saved
    // salt is the only one that reveals it, so nothing is trained over it while it may.
    session.settle_in_flight().await?;
    let state =
        chain::state::<NodeState>(&session, &find::node(&program, &round_address, &node)).await?;
    let slot = session.rpc().slot().await?;
    let saved = match step_of(
        &round,
        slot,
        state.as_ref(),
        record.get_untracked().as_ref(),
    ) {
        Step::Join | Step::TrainAndCommit => {
            train_and_save(&session, round_address, &round, &task, choices, live).await?
        }
        Step::Commit => record
            .get_untracked()
            .ok_or_else(|| AppError::Invalid("the saved update vanished".into()))?,
        other => return Err(AppError::Invalid(other.describe(slot))),
    };
    record.set(Some(saved.clone()));
    // Joining and committing in one transaction: the stake is never locked without the
    // commitment that saves it from the no-show's slash, however long training took.
    let mut instructions = Vec::new();
    if state.is_none() {
        let mint = dpin_mint(&session).await?;
        instructions.push(
            builders::in_currency(
                builders::join_round(&program, &node, &round_address),
                round.currency,
                &round_address,
                &node,
                mint.as_ref(),
            )
            .map_err(|e| AppError::Invalid(e.to_string()))?,
        );
    }
    let hash = saved.commitment.hash(&node.to_bytes());
    instructions.push(builders::commit_update(
        &program,
        &node,
        &round_address,
        hash,
    ));
    let signature = session.send(&instructions).await?;
    Ok(Done {
        message:
            "Committed: your update's hash is on-chain. Reveal it when the reveal phase opens."
                .into(),
        signature: Some(signature),
    })
}

/// Trains on the chosen data by the task's recipe and saves the commitment (before anything is
/// sent: if the commit lands unseen, only this salt can reveal it).
async fn train_and_save(
    session: &Session,
    round_address: Address,
    round: &Round,
    task: &RoundTask,
    choices: Choices,
    Live {
        progress,
        backend_note,
        privacy_note,
    }: Live,
) -> Result<NodeRecord, AppError> {
    let node = session.address()?;
    let data = match &choices.own_files {
        None => demo_shard(task, &node)?,
        Some((files, label_column)) => read_own(task, files, label_column).await?,
    };
    let base = global_model(session, round, task).await?;
    let mut config = task.recipe(rand::random());
    let spent = choices
        .epsilon
        .map(|epsilon| apply_budget(&mut config, epsilon, data.len()))
        .transpose()
        .map_err(|e| AppError::Invalid(e.to_string()))?;
    // Shown while training, before the wallet is asked to stake.
    privacy_note.set(exposure_warning(
        &config,
        data.len(),
        choices.own_files.is_some(),
    ));
    let chosen = choose_device(if choices.prefer_cpu {
        Backend::Cpu
    } else {
        Backend::WebGpu
    })
    .await;
    let spec = &task.spec;
    if choose_trainer(spec, chosen.gpu.is_some()) == TrainerKind::BurnGpu {
        backend_note.set(Some(
            "Loading the GPU trainer this model needs (several MB, cached afterwards)...".into(),
        ));
    }
    let (trainer, note) = TabTrainer::new(&chosen, spec, &base, &data, &config).await?;
    backend_note.set(Some(note));
    let total = config.epochs * data.len().div_ceil(config.batch_size);
    progress.set(Progress {
        total,
        ..Progress::default()
    });
    let trained = trainer
        .run(spec, Some(&data), |report: StepReport| {
            progress.update(|p| {
                p.done += 1;
                p.losses.push(report.progress.loss);
                p.accuracies.extend(report.accuracy);
            })
        })
        .await?;
    let update = PreparedUpdate::new(
        spec,
        &base,
        &round_address.to_bytes(),
        &trained,
        data.len() as u64,
    );
    let mut saved = NodeRecord::new(
        &round_address.to_string(),
        round,
        &node.to_string(),
        &update.bytes,
        rand::random(),
        data.len() as u64,
    );
    saved.epsilon = spent;
    // Another tab may have committed meanwhile: its saved salt is the only one that reveals
    // what the chain holds, so it is never replaced.
    let node_account = find::node(&session.program(), &round_address, &node);
    if chain::state::<NodeState>(session, &node_account)
        .await?
        .is_some_and(|state| state.status != NodeStatus::Joined)
    {
        return Err(AppError::Invalid(
            "this round already holds a commitment of yours (made in another tab?): its saved update is kept, this one is dropped".into(),
        ));
    }
    // Nothing is staked or committed unless the salt is kept: without it the update can never
    // be revealed, and the stake would be slashed as a no-show's.
    saved.save().map_err(AppError::Invalid)?;
    Ok(saved)
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
    let committed = saved.commitment;
    // Revealed first, then uploaded: the committee fetches updates only once the reveal phase
    // is over, so a gateway that stalls or fails cannot make the node miss its reveal (a
    // no-show loses the slash fraction; an update that never reaches the gateway is excluded,
    // its stake back).
    let signature = session
        .send(&[builders::reveal_update(
            &session.program(),
            &node,
            &round_address,
            committed.cid,
            committed.salt,
            committed.samples,
        )])
        .await?;
    saved.commitment.revealed = true;
    // The chain says it was revealed too: the flag only spares a lookup.
    let _ = saved.save();
    let uploaded = upload_committed(&session, &mut saved).await;
    record.set(Some(saved));
    Ok(Done {
        message: match uploaded {
            Ok(()) => "Revealed: the committee will validate your update.".into(),
            Err(error) => format!(
                "Revealed, but {error}. Upload it again while the committee fetches (this page offers it), or it is excluded and the stake returned."
            ),
        },
        signature: Some(signature),
    })
}

/// Uploads a revealed update the storage never took (the upload failed, or the tab closed
/// between the reveal and the upload): no transaction, only the gateway.
async fn upload_again(
    session: Session,
    record: RwSignal<Option<NodeRecord>>,
) -> Result<Done, AppError> {
    let mut saved = record
        .get_untracked()
        .ok_or_else(|| AppError::Invalid("no saved update to upload".into()))?;
    let uploaded = upload_committed(&session, &mut saved).await;
    record.set(Some(saved));
    uploaded.map_err(AppError::Invalid)?;
    Ok(Done {
        message: "Uploaded: the committee can fetch your update.".into(),
        signature: None,
    })
}

/// Uploads the saved update and, once the gateway holds it under its committed CID, saves
/// that it did: the node's next step then waits for the verdict instead of uploading again.
async fn upload_committed(session: &Session, saved: &mut NodeRecord) -> Result<(), String> {
    match upload_patiently(session, &saved.update_bytes()).await {
        Ok(cid) if cid == saved.commitment.cid => {
            saved.commitment.uploaded = true;
            // Not kept, the flag only costs another (content-addressed, harmless) upload.
            let _ = saved.save();
            Ok(())
        }
        Ok(_) => Err("the gateway stored the update under another CID".into()),
        Err(error) => Err(format!("the upload failed ({error})")),
    }
}

/// Uploads an update, trying again after a failure: five tries, 1 to 8 s apart.
async fn upload_patiently(
    session: &Session,
    bytes: &[u8],
) -> Result<droppin_interface::Cid, storage::StorageError> {
    let mut pause_ms = 1_000;
    loop {
        match storage::upload(&session.storage_url(), bytes).await {
            Err(_) if pause_ms <= 8_000 => {
                crate::timer::sleep_ms(pause_ms).await;
                pause_ms *= 2;
            }
            uploaded => return uploaded,
        }
    }
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
            format_amount(round.committees[0].seat_lock, Currency::Sol)
        ),
        signature: Some(signature),
    })
}

/// Settles the node by its leaf in the verdict in force (finalized round) or by a refund
/// (failed round), failing a timed-out round first in the same transaction; the coordinator
/// previews what the program will pay.
async fn settle(
    session: Session,
    round_address: Address,
    record: RwSignal<Option<NodeRecord>>,
    verdict: RwSignal<Option<String>>,
) -> Result<Done, AppError> {
    let node = session.address()?;
    let program = session.program();
    let slot = session.rpc().slot().await?;
    let mut round: Round = chain::state(&session, &round_address)
        .await?
        .ok_or_else(|| AppError::Invalid("the round is closed".into()))?;
    let state: NodeState = chain::state(&session, &find::node(&program, &round_address, &node))
        .await?
        .ok_or_else(|| {
            AppError::Invalid("this wallet has nothing to settle in the round".into())
        })?;
    let mut instructions = Vec::new();
    match step_of(&round, slot, Some(&state), record.get_untracked().as_ref()) {
        Step::FailRound => {
            droppin_coordinator::crank_timeout(&mut round, slot)
                .map_err(|e| AppError::Invalid(format!("cannot fail the round: {e}")))?;
            instructions.push(builders::crank_timeout(&program, &round_address));
        }
        Step::Settle => {}
        other => return Err(AppError::Invalid(other.describe(slot))),
    }
    let level = (round.status == RoundStatus::Finalized).then_some(round.outcome.level);
    let leaf = match level {
        Some(level) => chain::verdict_leaf(&session, &round_address, level, state.index).await?,
        None => None,
    };
    let reputation_address = find::reputation(&program, &node);
    let reputation = chain::state::<Reputation>(&session, &reputation_address)
        .await?
        .unwrap_or_default();
    let preview = preview_settlement(&round, &state, &reputation, leaf, slot)
        .map_err(|e| AppError::Invalid(format!("cannot settle yet: {e}")))?;
    let payout = preview.payout;
    let reason = match level {
        Some(_) => verdict_list(session, round_address, round.clone())
            .await
            .ok()
            .and_then(|list| list.entry(&node.to_bytes()).and_then(|e| e.reason.clone())),
        None => None,
    };
    verdict.set(Some(format!(
        "Verdict: {}; contribution {:.2}% of the node pool{}.",
        preview.outcome,
        f64::from(preview.weight_bps) / 100.0,
        reason.map(|r| format!("; {r}")).unwrap_or_default()
    )));
    let cid = state.cid.is_well_formed().then_some(state.cid);
    let mint = dpin_mint(&session).await?;
    instructions.extend(
        paying(
            builders::settle_node(&program, &node, &round_address, &node, cid.as_ref(), level),
            round.currency,
            &round_address,
            &node,
            &node,
            mint.as_ref(),
        )
        .map_err(|e| AppError::Invalid(e.to_string()))?,
    );
    let signature = session.send(&instructions).await?;
    if let Some(mut saved) = record.get_untracked() {
        // Settled: the update and its salt are of no more use, and local storage is small.
        saved.forget();
        saved.commitment.settled = true;
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
        signature: Some(signature),
    })
}
