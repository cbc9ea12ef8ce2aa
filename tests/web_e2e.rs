//! The browser end to end: `trunk build --release`, the local network serving the app, and
//! headless Chromium over WebDriver with an injected Wallet Standard test wallet. A funder picks
//! the breast cancer diagnosis task in the order form and opens two rounds naming only their
//! committee's size: one paid in SOL, then, once $dPIN launches, one paid in $dPIN. Two browser
//! nodes read each round's task by its CID (one on WebGPU with the task's demo shard, one on the
//! CPU with its own CSV, read by the task's columns), train by its recipe, stake in the round's
//! currency, commit and reveal; a committee drawn from three bonded validators judges with the CLI validator's code,
//! seals and reveals its votes; anyone finalizes and posts the verdict's leaves; once the appeal
//! window closes both nodes settle from the page, which shows the drawn committee. Balances are
//! checked, every request the node pages made is checked for training data, and each page and
//! state is screenshotted at 375 and 1280 px into `target/e2e-artifacts` and checked with axe
//! (no serious or critical accessibility violation). While the rounds wait for their reveal
//! deadline, the catalog's character model trains in the page's benchmark mode on burn's WebGPU
//! backend in the training worker and on the CPU, to the same losses.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use droppin_cli::committee::{SealedVote, drawn, reveal, sit_and_report, sit_and_seal};
use droppin_cli::keeper::{Step, advance, drive_to_settlement};
use droppin_cli::localnet::{Localnet, LocalnetOptions, PageOrigins};
use droppin_cli::validator::{HeldTask, committee_availability, fetch_updates, judge};
use droppin_client::{Chain, Protocol, RpcChain, token};
use droppin_fl::data::task_split;
use droppin_fl::sim::SimData;
use droppin_interface::pda::find;
use droppin_interface::state::{Currency, RoundStatus};
use droppin_interface::{LAMPORTS_PER_SOL, PROGRAM_ID, availability::availability_deadline};
use droppin_node::money::unit_size;
use droppin_storage::{KuboStore, Limits};
use droppin_task::{DataSchema, catalog};
use droppin_tests::browser::Browser;
use droppin_tests::program_path;
use serde_json::{Value, json};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

const WALLET: &str = include_str!("fixtures/test-wallet.js");
const RECORDER: &str = include_str!("fixtures/record-requests.js");
const STEP: Duration = Duration::from_secs(120);
/// The rounds' reveal and validation phases, each, from the order form.
const REVIEW_SLOTS: u64 = 360;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Builds the app as users get it.
fn build_app(root: &Path) -> PathBuf {
    let status = Command::new("trunk")
        .args(["build", "--release"])
        .current_dir(root)
        .env("CARGO_PROFILE_RELEASE_DEBUG", "0")
        .status()
        .expect("trunk runs (scripts/setup web)");
    assert!(status.success(), "trunk build --release failed");
    root.join("dist")
}

/// A browser on the app with `key`'s test wallet connected and the local network selected.
async fn open_app(app: &str, rpc: &str, key: &Keypair, page: &str) -> anyhow::Result<Browser> {
    let browser = Browser::start(&root()).await?;
    browser.client.goto(app).await?;
    let cluster = json!({"Custom": {"rpc": rpc, "storage": null}}).to_string();
    browser
        .run_script(
            "localStorage.setItem('droppin.cluster', arguments[0])",
            vec![cluster.into()],
        )
        .await?;
    // A new query string makes this a full load, which reads the stored cluster.
    browser
        .client
        .goto(&format!("{app}/?e2e=1#/{page}"))
        .await?;
    browser.wait_for("header nav", STEP).await?;
    inject_wallet(&browser, key).await?;
    browser.click("button.connect", STEP).await?;
    browser.wait_for("#wallet-address", STEP).await?;
    Ok(browser)
}

/// Reloads the page, as a visitor would mid-round: the app must reconnect the wallet by itself
/// and pick up where the node was from the browser's storage.
async fn reload(browser: &Browser, key: &Keypair) -> anyhow::Result<()> {
    browser.client.refresh().await?;
    browser.wait_for("header nav", STEP).await?;
    inject_wallet(browser, key).await?;
    browser.wait_for("#wallet-address", STEP).await?;
    Ok(())
}

/// The request recorder and `key`'s test wallet (extensions inject theirs into every page).
async fn inject_wallet(browser: &Browser, key: &Keypair) -> anyhow::Result<()> {
    browser.run_script(RECORDER, vec![]).await?;
    let seed = &key.to_bytes()[..32];
    browser
        .run_script(
            WALLET,
            vec![
                BASE64.encode(seed).into(),
                BASE64.encode(key.pubkey().to_bytes()).into(),
                key.pubkey().to_string().into(),
            ],
        )
        .await?;
    Ok(())
}

/// Every request the page recorded: method, URL, body bytes.
async fn requests(browser: &Browser) -> anyhow::Result<Vec<(String, String, Vec<u8>)>> {
    let recorded = browser
        .run_script(
            "return JSON.parse(sessionStorage.getItem('__requests') || '[]')",
            vec![],
        )
        .await?;
    Ok(recorded
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r: &Value| {
            (
                r["method"].as_str().unwrap_or_default().to_owned(),
                r["url"].as_str().unwrap_or_default().to_owned(),
                BASE64
                    .decode(r["body"].as_str().unwrap_or_default())
                    .unwrap_or_default(),
            )
        })
        .collect())
}

fn wait_for_slot(chain: &RpcChain, slot: u64) {
    while chain.slot().unwrap() < slot {
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The node's own data for the breast cancer task: 120 rows of the shipped set's training split
/// as a CSV with the task's named columns (in another order, with an extra column the task does
/// not read) and the diagnosis by class name.
fn csv_shard(path: &Path) -> String {
    let task = catalog::get("breast-cancer").unwrap();
    let DataSchema::Tabular {
        columns, classes, ..
    } = &task.data
    else {
        panic!("a tabular task")
    };
    let split = task_split(&task).unwrap().unwrap();
    // The clinic's own records: none of them in the task's public sample, which anyone may
    // train on and which earns nothing.
    let (_, private) = SimData::split_public(&split.train);
    let mut text = String::from("patient,diagnosis");
    for column in columns.iter().rev() {
        text += &format!(",{}", column.name());
    }
    text += "\n";
    for row in 0..120 {
        text += &format!("{row},{}", classes[usize::from(private.labels[row])]);
        for value in private.row(row).iter().rev() {
            text += &format!(",{value}");
        }
        text += "\n";
    }
    std::fs::write(path, &text).unwrap();
    text
}

/// The funder fills the order form for the breast cancer task in `currency` (`sol` or `dpin`)
/// and pays through the wallet; returns the opened round's address.
async fn open_round_in_form(
    app: &str,
    rpc: &str,
    funder: &Keypair,
    currency: &str,
    amounts: (&str, &str),
    artifacts: &Path,
) -> anyhow::Result<String> {
    let browser = open_app(app, rpc, funder, "fund").await?;
    // A task from the catalog: the form shows what it trains and on what.
    browser
        .click("#task option[value='breast-cancer']", STEP)
        .await?;
    browser
        .wait_text("#task-data", "the label column `diagnosis`", STEP)
        .await?;
    browser
        .click(&format!("#currency option[value='{currency}']"), STEP)
        .await?;
    browser.fill("#amount", amounts.0).await?;
    browser.fill("#stake", amounts.1).await?;
    browser.fill("#max-nodes", "2").await?;
    // 400 slots (100 s here) to load two browser nodes, train and commit in both rounds; 360
    // for the reveals (and the worker's comparison beside them), and as many for validation.
    browser.fill("#training-slots", "400").await?;
    browser
        .fill("#review-slots", &REVIEW_SLOTS.to_string())
        .await?;
    browser
        .wait_text("#timeline", "take about 2 min 24 s each", STEP)
        .await?;
    browser.fill("#committee-size", "3").await?;
    browser
        .wait_text("#registry", "from 3 bonded validators", STEP)
        .await?;
    browser.wait_for("#signs", STEP).await?;
    browser
        .capture(artifacts, &format!("fund-form-{currency}"))
        .await?;
    browser.click("#open-round", STEP).await?;
    let (outcome, text) = browser.first_of(&["#opened", "#open-error"], STEP).await?;
    anyhow::ensure!(outcome == 0, "opening failed: {text}");
    browser
        .capture(artifacts, &format!("fund-opened-{currency}"))
        .await?;
    browser.close().await?;
    Ok(text)
}

/// Reloads the node page on `round`, as a visitor coming back to it.
async fn on_round(browser: &Browser, key: &Keypair, round: &Address) -> anyhow::Result<()> {
    reload(browser, key).await?;
    browser
        .click(&format!("#round option[value='{round}']"), STEP)
        .await?;
    browser
        .wait_text("#task", "Task: breast-cancer", STEP)
        .await?;
    Ok(())
}

/// The committee drawn for each round takes its seats, reports what it fetched, judges what the
/// majority fetched with the CLI validator's code, seals and reveals: both browser updates are
/// accepted. The rounds run side by side, each step done for every round before the next.
fn judge_rounds(
    protocol: &mut Protocol<RpcChain>,
    store: &KuboStore,
    validators: &[Keypair],
    funder: &Keypair,
    rounds: &[Address],
) {
    let mut committees = Vec::new();
    for round_address in rounds {
        loop {
            match advance(protocol, funder, store, round_address).unwrap() {
                Step::Drew(0) => break,
                Step::Anchored => {}
                Step::Waiting { until, .. } => wait_for_slot(&protocol.chain, until),
                other => panic!("expected the draw, got {other:?}"),
            }
        }
        let drawn_round = protocol.round(round_address).unwrap();
        let seated: Vec<&Keypair> = validators
            .iter()
            .filter(|v| {
                let bond = protocol.bond(&v.pubkey()).unwrap().unwrap();
                drawn(&drawn_round, &v.pubkey(), &bond, 0)
            })
            .collect();
        assert_eq!(
            seated.len(),
            3,
            "equal bonds, three expected seats: all drawn"
        );
        // The validators hold the task the round names, with its shipped validation set.
        let held = HeldTask::load(store, &drawn_round).unwrap();
        assert_eq!(held.task.manifest.name, "breast-cancer");
        for validator in &seated {
            let fetched = fetch_updates(protocol, store, round_address, &drawn_round).unwrap();
            sit_and_report(
                protocol,
                validator,
                round_address,
                0,
                &fetched.availability(),
            )
            .unwrap();
        }
        committees.push((round_address, drawn_round, seated, held));
    }
    let mut sealed = Vec::new();
    for (round_address, drawn_round, seated, held) in &committees {
        wait_for_slot(
            &protocol.chain,
            availability_deadline(&drawn_round.committees[0]),
        );
        let available = committee_availability(protocol, round_address, 0).unwrap();
        for validator in seated {
            let judgement =
                judge(protocol, store, round_address, &held.view(), &available).unwrap();
            assert_eq!(
                judgement.vote.accepted, 2,
                "both browser updates are accepted"
            );
            let vote = SealedVote {
                vote: judgement.vote,
                salt: [sealed.len() as u8 + 1; 32],
            };
            sit_and_seal(protocol, validator, round_address, 0, &vote).unwrap();
            sealed.push((
                *round_address,
                *validator,
                vote,
                drawn_round.deadlines.validation,
            ));
        }
    }
    for (round_address, validator, vote, validation) in &sealed {
        wait_for_slot(&protocol.chain, *validation);
        reveal(protocol, validator, round_address, 0, vote).unwrap();
    }
    // Anyone finalizes, posts the leaves and waits out the appeal window.
    for round_address in rounds {
        drive_to_settlement(protocol, funder, store, round_address, |_| {}).unwrap();
        assert_eq!(
            protocol.round(round_address).unwrap().status,
            RoundStatus::Finalized
        );
    }
}

/// The catalog's character model (a transformer) trains on burn's WebGPU backend in the training
/// worker, which the page fetches only then, as it trains on the CPU in the page: the same first
/// loss, and training moves the weights as far.
async fn the_worker_trains_like_the_cpu(app: &str) -> anyhow::Result<()> {
    let browser = Browser::start(&root()).await?;
    let mut results = Vec::new();
    for backend in ["webgpu", "cpu"] {
        let url = format!("{app}/?bench=char-lm&backend={backend}&steps=1");
        let text = browser
            .published_result(&url, "#bench-result", STEP)
            .await?;
        results.push(serde_json::from_str::<Value>(&text)?);
    }
    browser.close().await?;
    let (gpu, cpu) = (&results[0], &results[1]);
    assert_eq!(gpu["engine"], "burn's GPU backend", "{gpu}");
    assert_eq!(cpu["engine"], "burn's CPU backend", "{cpu}");
    for (field, tolerance) in [("loss_first", 1e-3), ("update_norm", 1e-2)] {
        let (on_gpu, on_cpu) = (gpu[field].as_f64().unwrap(), cpu[field].as_f64().unwrap());
        assert!(
            on_gpu.is_finite() && (on_gpu - on_cpu).abs() <= tolerance * on_cpu.abs(),
            "{field}: {on_gpu} on WebGPU, {on_cpu} on the CPU"
        );
    }
    Ok(())
}

#[test]
fn fund_train_commit_reveal_judge_settle_in_the_browser() {
    let root = root();
    let dist = build_app(&root);
    let artifacts = root.join("target/e2e-artifacts");
    let dir = tempfile::tempdir().unwrap();
    let admin = Keypair::new();
    let localnet = Localnet::start(LocalnetOptions {
        rpc_port: 0,
        gateway_port: 0,
        data_dir: dir.path().join("localnet"),
        web_root: Some(dist),
        pages: PageOrigins::Any,
        program: program_path(),
        admin: admin.insecure_clone(),
    })
    .unwrap();
    let app = localnet.gateway_url();
    let rpc = localnet.rpc_url.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut chain = RpcChain::connect(&rpc).unwrap();
    let [funder, node_a, node_b] = [(); 3].map(|_| Keypair::new());
    let validators = [(); 3].map(|_| Keypair::new());
    for key in [&funder, &node_a, &node_b, &admin]
        .into_iter()
        .chain(&validators)
    {
        chain.airdrop(&key.pubkey(), 5 * LAMPORTS_PER_SOL).unwrap();
    }
    // The registry the committee is drawn from; bonded before the rounds open.
    let mut protocol = Protocol::new(chain);
    for validator in &validators {
        protocol
            .register_validator(validator, 2 * LAMPORTS_PER_SOL)
            .unwrap();
    }
    let csv_path = dir.path().join("my-clinic.csv");
    let csv = csv_shard(&csv_path);
    let program = Address::new_from_array(PROGRAM_ID);
    let (sol_round, dpin_round) = (find::round(&program, 0), find::round(&program, 1));

    // A SOL round from the order form, then $dPIN launches (a fixed supply the admin hands to
    // the funder and the nodes) and a $dPIN round opens beside it.
    let opened = runtime
        .block_on(open_round_in_form(
            &app,
            &rpc,
            &funder,
            "sol",
            ("1", "0.02"),
            &artifacts,
        ))
        .unwrap();
    assert!(opened.contains(&sol_round.to_string()), "{opened}");
    let mint = Keypair::new();
    let unit = unit_size(Currency::Dpin);
    let supply = 1_000_000 * unit;
    let ixs = token::fixed_supply_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), supply);
    protocol.chain.send(&ixs, &[&admin, &mint]).unwrap();
    protocol.launch_token(&admin, &mint.pubkey()).unwrap();
    let admin_tokens = token::wallet_account(&admin.pubkey(), &mint.pubkey());
    for key in [&funder, &node_a, &node_b] {
        let ixs = [
            token::create_wallet_account(&admin.pubkey(), &key.pubkey(), &mint.pubkey()),
            token::transfer_tokens(
                &admin_tokens,
                &token::wallet_account(&key.pubkey(), &mint.pubkey()),
                &admin.pubkey(),
                10_000 * unit,
            ),
        ];
        protocol.chain.send(&ixs, &[&admin]).unwrap();
    }
    let params = protocol.config().unwrap().params;
    let dpin_stake = 2.0 * params.swap.to_dpin(params.min_stake) as f64 / unit as f64;
    let opened = runtime
        .block_on(open_round_in_form(
            &app,
            &rpc,
            &funder,
            "dpin",
            ("1000", &dpin_stake.to_string()),
            &artifacts,
        ))
        .unwrap();
    assert!(opened.contains(&dpin_round.to_string()), "{opened}");
    let rounds = [sol_round, dpin_round].map(|r| protocol.round(&r).unwrap());
    assert_eq!(rounds[1].currency, Currency::Dpin);
    for round in &rounds {
        let d = &round.deadlines;
        assert_eq!(d.reveal - d.commit, REVIEW_SLOTS);
        assert_eq!(d.validation - d.reveal, REVIEW_SLOTS);
        assert_eq!(round.committees[0].expected, 3);
        assert!(!round.committees[0].drawn, "nobody knows the committee yet");
    }
    let tokens_of = |protocol: &Protocol<RpcChain>, key: &Keypair| {
        token::balance(
            &protocol.chain,
            &token::wallet_account(&key.pubkey(), &mint.pubkey()),
        )
        .unwrap()
        .unwrap_or_default()
    };
    let before = [&node_a, &node_b].map(|k| {
        (
            protocol.chain.balance(&k.pubkey()).unwrap(),
            tokens_of(&protocol, k),
        )
    });

    // Two browser nodes read each round's task and train by its recipe, then commit: one on
    // WebGPU with the task's demo shard, one on the CPU with its own file. Each joins both
    // rounds, staking SOL in one and $dPIN in the other.
    let nodes = runtime
        .block_on(async {
            let a = open_app(&app, &rpc, &node_a, "node").await?;
            let b = open_app(&app, &rpc, &node_b, "node").await?;
            for (i, round) in [sol_round, dpin_round].iter().enumerate() {
                for (browser, key) in [(&a, &node_a), (&b, &node_b)] {
                    on_round(browser, key, round).await?;
                    browser.wait_text("#signs", "JoinRound", STEP).await?;
                    if key.pubkey() == node_b.pubkey() {
                        b.click("#prefer-cpu", STEP).await?;
                        b.click("#data-file", STEP).await?;
                        b.wait_for("#file", STEP)
                            .await?
                            .send_keys(csv_path.to_str().unwrap())
                            .await?;
                    } else if i == 0 {
                        a.wait_for("#round-status", STEP).await?;
                        a.capture(&artifacts, "node-ready").await?;
                    }
                    browser.click("#train", STEP).await?;
                }
                for browser in [&a, &b] {
                    let (outcome, text) = browser
                        .first_of(&["#committed", "#node-error"], Duration::from_secs(300))
                        .await?;
                    anyhow::ensure!(outcome == 0, "training failed: {text}");
                }
                let backend_a = a.wait_for("#backend", STEP).await?.text().await?;
                anyhow::ensure!(backend_a.contains("WebGPU"), "{backend_a}");
                let backend_b = b.wait_for("#backend", STEP).await?.text().await?;
                anyhow::ensure!(backend_b.contains("CPU"), "{backend_b}");
                if i == 0 {
                    a.wait_for("#loss-chart", STEP).await?;
                    a.capture(&artifacts, "node-trained").await?;
                }
            }
            anyhow::Ok((a, b))
        })
        .unwrap();
    let reveal_from = rounds.iter().map(|r| r.deadlines.commit).max().unwrap();
    wait_for_slot(&protocol.chain, reveal_from);
    runtime
        .block_on(async {
            for round in [sol_round, dpin_round] {
                for (browser, key) in [(&nodes.0, &node_a), (&nodes.1, &node_b)] {
                    // After a reload the page finds the saved update and says what to do.
                    on_round(browser, key, &round).await?;
                    browser.wait_text("#next-step", "Reveal now", STEP).await?;
                    if round == sol_round && key.pubkey() == node_a.pubkey() {
                        browser.capture(&artifacts, "node-reveal").await?;
                    }
                    browser.click("#reveal", STEP).await?;
                    let (outcome, text) = browser
                        .first_of(&["#node-status", "#node-error"], STEP)
                        .await?;
                    anyhow::ensure!(outcome == 0 && text.contains("Revealed"), "reveal: {text}");
                }
            }
            anyhow::Ok(())
        })
        .unwrap();

    // The training worker is compared with the CPU while the rounds wait for their reveal
    // deadline, in time they would spend idle: the reveals are in, and a comparison that ran
    // late would only delay the committee's work, whose validation window is as long again.
    runtime
        .block_on(the_worker_trains_like_the_cpu(&app))
        .unwrap();

    // Each committee is drawn after its round's reveals and judges with the CLI validator's code.
    let reveal_until = rounds.iter().map(|r| r.deadlines.reveal).max().unwrap();
    wait_for_slot(&protocol.chain, reveal_until);
    let store = KuboStore::new(&app, Limits::default()).unwrap();
    judge_rounds(
        &mut protocol,
        &store,
        &validators,
        &funder,
        &[sol_round, dpin_round],
    );

    // Both nodes settle both rounds from the page, which shows the drawn committee; the rounds
    // page shows the lineage.
    runtime
        .block_on(async {
            for round in [sol_round, dpin_round] {
                for (browser, key) in [(&nodes.0, &node_a), (&nodes.1, &node_b)] {
                    on_round(browser, key, &round).await?;
                    browser
                        .wait_text("#committee", "drawn, not picked, from seed", STEP)
                        .await?;
                    browser
                        .wait_text("#committee", "appeal window closed", STEP)
                        .await?;
                    browser.click("#settle", STEP).await?;
                    let (outcome, text) = browser
                        .first_of(&["#node-status", "#node-error"], STEP)
                        .await?;
                    anyhow::ensure!(outcome == 0 && text.contains("Paid"), "settle: {text}");
                    let unit = if round == sol_round { "SOL" } else { "$dPIN" };
                    anyhow::ensure!(text.contains(unit), "settle in {unit}: {text}");
                    let verdict = browser.wait_for("#verdict", STEP).await?.text().await?;
                    anyhow::ensure!(verdict.contains("accepted"), "{verdict}");
                }
            }
            nodes.0.capture(&artifacts, "node-settled").await?;
            // Nothing the CPU node sent contains its training file: only the update left.
            let first_row = csv.lines().nth(1).unwrap();
            for (method, url, body) in requests(&nodes.1).await? {
                anyhow::ensure!(
                    !String::from_utf8_lossy(&body).contains(first_row),
                    "{method} {url} carried training data"
                );
                let allowed = url.starts_with(&rpc)
                    || url.contains("/api/v0/block/put")
                    || url.contains("/ipfs/");
                anyhow::ensure!(allowed, "unexpected request {method} {url}");
            }
            nodes.0.client.goto(&format!("{app}/#/rounds")).await?;
            nodes.0.wait_for("#rounds", STEP).await?;
            nodes.0.click("tr.round", STEP).await?;
            let verdicts = nodes
                .0
                .wait_for("#round-detail table.verdicts", STEP)
                .await?;
            let verdicts = verdicts.text().await?;
            anyhow::ensure!(verdicts.matches("accepted").count() == 2, "{verdicts}");
            nodes.0.wait_for("#lineage-chart", STEP).await?;
            nodes.0.capture(&artifacts, "rounds").await?;
            let (a, b) = nodes;
            a.close().await?;
            b.close().await
        })
        .unwrap();
    for (key, (lamports, tokens)) in [&node_a, &node_b].into_iter().zip(before) {
        let after = protocol.chain.balance(&key.pubkey()).unwrap();
        assert!(
            after > lamports,
            "{}: the SOL reward must exceed the fees ({lamports} -> {after})",
            key.pubkey()
        );
        let after = tokens_of(&protocol, key);
        assert!(
            after > tokens,
            "{}: the $dPIN round pays back more than the stake ({tokens} -> {after})",
            key.pubkey()
        );
    }
}
