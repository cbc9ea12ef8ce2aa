//! $dPIN on the real program with the real SPL Token program (bundled in LiteSVM): token rounds,
//! the conversion of a pre-launch SOL round, the treasury's batch swaps and every rule around
//! them. Payouts are checked to the base unit against the protocol's terms.

use droppin_client::{Chain, token};
use droppin_interface::{
    DropPinError, LAMPORTS_PER_SOL, builders,
    pda::find,
    state::{Currency, ProtocolParams, Round, SwapParams, Treasury, dpin_covering, dpin_worth},
    verdict::{Leaf, Outcome},
};
use droppin_tests::{
    DPIN, Dpin, Failure, Harness, Node, RoundRun, STAKE, accepted, leaf, round_args, test_params,
};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn err(e: DropPinError) -> Result<u64, Failure> {
    Err(Failure::Program(e))
}

fn treasury(h: &Harness) -> Treasury {
    h.state(&find::treasury(&h.program)).expect("treasury")
}

fn swap_params(h: &Harness) -> SwapParams {
    h.state::<droppin_interface::state::ProtocolConfig>(&find::config(&h.program))
        .expect("config")
        .params
        .swap
}

#[test]
fn an_eight_node_token_round_pays_slashes_forfeits_and_burns_exactly() {
    let mut h = Harness::new();
    let validators = h.validators(6, 5);
    let dpin = Dpin::launch(&mut h);
    let supply = dpin.supply(&h);
    let amount = 1_000 * DPIN;
    let run = dpin.open_round(&mut h, amount);
    let fee = amount * 800 / 10_000;
    let pool = amount - fee;
    assert_eq!(dpin.supply(&h), supply - fee, "the fee is burned at once");
    assert_eq!(treasury(&h).totals.dpin_burned, fee);
    let round: Round = run.state(&h);
    assert_eq!(round.currency, Currency::Dpin);
    assert_eq!(dpin.balance(&h, &Address::from(round.token_vault)), pool);

    // Five honest nodes, two poisoners, one no-show.
    let nodes: Vec<Node> = (0..8).map(|i| Node::new(&mut h, i + 1)).collect();
    for n in &nodes {
        dpin.give(&mut h, &n.address(), STAKE);
        dpin.join_and_commit(&mut h, &run, n);
        assert_eq!(dpin.balance_of(&h, &n.address()), 0);
    }
    h.warp(run.deadlines.commit);
    for n in &nodes[..7] {
        run.reveal(&mut h, n).unwrap();
    }
    let mut leaves: Vec<Leaf> = (0..5).map(|_| accepted(2_000)).collect();
    leaves.extend([
        leaf(Outcome::Slashed, 0),
        leaf(Outcome::Slashed, 0),
        leaf(Outcome::NoShow, 0),
    ]);
    let (tree, vote) = run.verdict(&leaves);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    for n in &nodes {
        dpin.settle_node(&mut h, &run, n).unwrap();
    }
    for v in &drawn {
        dpin.settle_seat(&mut h, &run, v, 0).unwrap();
    }
    let token_vault = Address::from(round.token_vault);
    let remainder = dpin.balance(&h, &token_vault);
    dpin.give(&mut h, &run.funder.pubkey(), 0);
    dpin.close(&mut h, &run).unwrap();

    let validator_pool = pool * 500 / 10_000;
    let slash = STAKE / 2;
    let node_pool = pool - validator_pool;
    for n in &nodes[..5] {
        assert_eq!(
            dpin.balance_of(&h, &n.address()),
            STAKE + node_pool * 2_000 / 10_000
        );
    }
    for n in &nodes[5..] {
        assert_eq!(
            dpin.balance_of(&h, &n.address()),
            STAKE - slash,
            "slashed nodes and the no-show keep their floor"
        );
    }
    for v in &drawn {
        assert_eq!(
            dpin.balance_of(&h, &v.pubkey()),
            validator_pool / drawn.len() as u64
        );
    }
    assert!(
        h.chain.account(&token_vault).unwrap().is_none(),
        "the token vault is closed"
    );
    let funder_tokens = dpin.balance_of(&h, &run.funder.pubkey());
    let burned = fee + 3 * slash + (remainder - funder_tokens);
    assert_eq!(
        treasury(&h).totals.dpin_burned,
        burned,
        "slashes are burned"
    );
    assert_eq!(
        dpin.supply(&h),
        supply - burned,
        "supply falls by exactly the burn"
    );
    let held: u64 = nodes
        .iter()
        .map(|n| n.address())
        .chain(drawn.iter().map(|v| v.pubkey()))
        .chain([run.funder.pubkey()])
        .map(|owner| dpin.balance_of(&h, &owner))
        .sum();
    assert_eq!(
        held + burned,
        amount + 8 * STAKE,
        "every token is paid out or burned"
    );
    assert_eq!(h.balance(&run.round), 0);
    assert_eq!(h.balance(&find::vault(&h.program, &run.round)), 0);
}

#[test]
fn finding_6_only_a_pre_launch_round_converts_by_its_funder_while_open() {
    let mut h = Harness::new();
    let validators = h.validators(4, 5);
    let run = RoundRun::open(&mut h, 2 * LAMPORTS_PER_SOL, |_| {});
    let pool = run.state(&h).pool;
    let slot = h.slot();
    h.warp(slot + 1);
    let dpin = Dpin::launch(&mut h);
    let after = RoundRun::open(&mut h, 2 * LAMPORTS_PER_SOL, |_| {});
    let program = h.program;
    let keeper = h.funded(10);
    let market = h.funded(10);
    dpin.give(&mut h, &market.pubkey(), 100_000 * DPIN);
    let convert =
        |who: &Address, round: &Address| builders::convert_round(&program, who, round, &dpin.mint);
    assert_eq!(
        h.send(&[convert(&keeper.pubkey(), &run.round)], &[&keeper]),
        err(DropPinError::NotConvertible),
        "a stranger cannot convert someone's round"
    );
    assert_eq!(
        h.send(
            &[convert(&after.funder.pubkey(), &after.round)],
            &[&after.funder]
        ),
        err(DropPinError::NotConvertible),
        "a round opened after the launch was funded in SOL by choice"
    );
    h.send(&[convert(&run.funder.pubkey(), &run.round)], &[&run.funder])
        .unwrap();
    let round: Round = run.state(&h);
    let token_vault = Address::from(round.token_vault);
    let vault_rent = h.balance(&token_vault);
    assert_eq!(round.currency, Currency::Dpin);
    assert_eq!(round.unconverted, pool - vault_rent);
    assert_eq!(round.node_stake, STAKE, "0.02 SOL at 1,000 $dPIN per SOL");
    let node = Node::new(&mut h, 1);
    dpin.give(&mut h, &node.address(), STAKE);
    let join = builders::join_round(&program, &node.address(), &run.round);
    assert_eq!(
        h.send(
            &[dpin.ix(join.clone(), &run.round, &node.address())],
            &[&node.key]
        ),
        err(DropPinError::ConversionPending)
    );
    assert_eq!(
        h.send(&[convert(&run.funder.pubkey(), &run.round)], &[&run.funder]),
        err(DropPinError::NotConvertible),
        "a round converts once"
    );

    // Two batches at the auction's current price.
    let swap = swap_params(&h);
    let mut received = 0;
    for lamports in [
        round.unconverted / 2,
        round.unconverted - round.unconverted / 2,
    ] {
        let out = swap.min_out(lamports, h.slot());
        let ixs = dpin.batch(
            &h,
            &keeper,
            lamports,
            Some(&run.round),
            dpin.route(&keeper, &market, &token_vault, lamports, out),
        );
        h.send(&ixs, &[&keeper, &market]).unwrap();
        received += out;
    }
    let round: Round = run.state(&h);
    assert_eq!(round.unconverted, 0);
    assert_eq!(round.pool, received);
    assert_eq!(treasury(&h).totals.sol_converted, pool - vault_rent);

    // Now a $dPIN round: one node takes the whole nodes' pool.
    h.send(&[dpin.ix(join, &run.round, &node.address())], &[&node.key])
        .unwrap();
    h.send(
        &[builders::commit_update(
            &program,
            &node.address(),
            &run.round,
            node.commitment(),
        )],
        &[&node.key],
    )
    .unwrap();
    h.warp(run.deadlines.commit);
    run.reveal(&mut h, &node).unwrap();
    let (tree, vote) = run.verdict(&[accepted(10_000)]);
    run.draw(&mut h, 0).unwrap();
    let drawn = run.drawn(&h, &validators, 0);
    let votes: Vec<_> = drawn.iter().map(|v| (*v, Some(vote))).collect();
    run.judge(&mut h, 0, &votes);
    run.finalize(&mut h, drawn[0]).unwrap();
    run.post(&mut h, drawn[0], 0, &tree).unwrap();
    run.wait_out_appeals(&mut h);
    dpin.settle_node(&mut h, &run, &node).unwrap();
    let validator_pool = received * 500 / 10_000;
    assert_eq!(
        dpin.balance_of(&h, &node.address()),
        STAKE + (received - validator_pool)
    );
    for v in &drawn {
        dpin.settle_seat(&mut h, &run, v, 0).unwrap();
    }
    dpin.give(&mut h, &run.funder.pubkey(), 0);
    dpin.close(&mut h, &run).unwrap();
    assert!(h.chain.account(&token_vault).unwrap().is_none());
    assert_eq!(h.balance(&find::vault(&program, &run.round)), 0);
}

/// A 2-SOL round opened before the launch (`tweak` sets its terms), converted by its funder,
/// with a market holding $dPIN to route batches through.
fn converting_round(
    h: &mut Harness,
    tweak: impl FnOnce(&mut droppin_interface::instruction::OpenRoundArgs),
) -> (RoundRun, Dpin, Keypair) {
    h.validators(3, 5);
    let run = RoundRun::open(h, 2 * LAMPORTS_PER_SOL, tweak);
    let slot = h.slot();
    h.warp(slot + 1);
    let dpin = Dpin::launch(h);
    let market = h.funded(10);
    dpin.give(h, &market.pubkey(), 100_000 * DPIN);
    let convert = builders::convert_round(&h.program, &run.funder.pubkey(), &run.round, &dpin.mint);
    h.send(&[convert], &[&run.funder]).unwrap();
    (run, dpin, market)
}

#[test]
fn a_one_lamport_remainder_holds_a_converting_round_for_half_a_window_at_most() {
    // Anyone may run a conversion batch. A griefer converts all of a round's pool but one
    // lamport, late in an auction window, where one lamport's $dPIN rounds down to nothing and
    // no batch can take it: joins wait on the conversion. From the next window's start the
    // lamport is worth one base unit again and anyone converts it, for that base unit: the
    // shortest training phase (an hour) spans six windows of ten minutes.
    let mut h = Harness::new();
    let window = swap_params(&h).window_slots;
    let (run, dpin, market) = converting_round(&mut h, |args| {
        args.commit += 3 * window;
        args.reveal += 3 * window;
        args.validation += 3 * window;
    });
    let program = h.program;
    let griefer = h.funded(10);
    let token_vault = Address::from(run.state(&h).token_vault);
    let swap = swap_params(&h);
    let batch = |h: &Harness, caller: &Keypair, lamports: u64| {
        let out = swap.min_out(lamports, h.slot());
        let route = dpin.route(caller, &market, &token_vault, lamports, out);
        dpin.batch(h, caller, lamports, Some(&run.round), route)
    };

    h.warp(swap.window_start(h.slot()) + window - 1);
    let all_but_one = run.state(&h).unconverted - 1;
    h.send(&batch(&h, &griefer, all_but_one), &[&griefer, &market])
        .unwrap();
    assert_eq!(run.state(&h).unconverted, 1);
    assert_eq!(
        h.send(&batch(&h, &run.funder, 1), &[&run.funder, &market]),
        err(DropPinError::ZeroAmount),
        "one lamport buys nothing late in the window"
    );
    let node = Node::new(&mut h, 1);
    dpin.give(&mut h, &node.address(), STAKE);
    let join = dpin.ix(
        builders::join_round(&program, &node.address(), &run.round),
        &run.round,
        &node.address(),
    );
    assert_eq!(
        h.send(std::slice::from_ref(&join), &[&node.key]),
        err(DropPinError::ConversionPending)
    );

    h.warp(swap.window_start(h.slot()) + window);
    assert_eq!(swap.min_out(1, h.slot()), 1);
    h.send(&batch(&h, &run.funder, 1), &[&run.funder, &market])
        .unwrap();
    assert_eq!(run.state(&h).unconverted, 0);
    h.send(&[join], &[&node.key]).unwrap();
}

#[test]
fn a_conversion_batch_needs_the_round_still_open() {
    let mut h = Harness::new();
    let (run, dpin, market) = converting_round(&mut h, |_| {});
    let program = h.program;
    let round: Round = run.state(&h);
    h.warp(run.deadlines.commit);
    let lamports = round.unconverted / 2;
    let swap = swap_params(&h);
    let out = swap.min_out(lamports, h.slot());
    let token_vault = Address::from(round.token_vault);
    let ixs = dpin.batch(
        &h,
        &run.funder,
        lamports,
        Some(&run.round),
        dpin.route(&run.funder, &market, &token_vault, lamports, out),
    );
    assert_eq!(
        h.send(&ixs, &[&run.funder, &market]),
        err(DropPinError::RoundNotOpen),
        "once nobody can join, the pool is not converted but refunded"
    );
    h.send(
        &[builders::crank_timeout(&program, &run.round)],
        &[&run.funder],
    )
    .unwrap();
    dpin.give(&mut h, &run.funder.pubkey(), 0);
    let before = h.balance(&run.funder.pubkey());
    dpin.close(&mut h, &run).unwrap();
    assert!(
        h.balance(&run.funder.pubkey()) > before + round.unconverted - 10_000,
        "the funder gets its unconverted SOL back"
    );
}

/// A protocol with fees in its treasury, $dPIN launched and a market maker holding $dPIN.
fn treasury_with_fees(params: ProtocolParams) -> (Harness, Dpin, Keypair, Keypair) {
    let mut h = Harness::with_params(params);
    h.validators(3, 5);
    RoundRun::open(&mut h, 10 * LAMPORTS_PER_SOL, |_| {});
    let dpin = Dpin::launch(&mut h);
    let caller = h.funded(10);
    let market = h.funded(10);
    dpin.give(&mut h, &market.pubkey(), 100_000 * DPIN);
    (h, dpin, caller, market)
}

#[test]
fn a_batch_that_pays_enough_burns_and_one_that_pays_too_little_fails_whole() {
    let (mut h, dpin, caller, market) = treasury_with_fees(test_params());
    let treasury_key = find::treasury(&h.program);
    let treasury_token = find::treasury_token(&h.program);
    let swap = swap_params(&h);
    let supply = dpin.supply(&h);
    let lamports = LAMPORTS_PER_SOL / 2;
    let before = h.balance(&treasury_key);
    // A Dutch auction: each window opens above the reference price and falls through it.
    let start = swap.window_start(h.slot()) + swap.window_slots;
    h.warp(start);
    let out = swap.min_out(lamports, start);
    assert_eq!(
        out,
        505 * DPIN,
        "1% above the reference at the window's start"
    );
    assert!(swap.min_out(lamports, start + swap.window_slots - 1) < 500 * DPIN);
    let ixs = dpin.batch(
        &h,
        &caller,
        lamports,
        None,
        dpin.route(&caller, &market, &treasury_token, lamports, out),
    );
    h.send(&ixs, &[&caller, &market]).unwrap();
    let units = h.chain.program_units().to_vec();
    println!(
        "BeginSwap {} CU, EndSwap (with burn) {} CU",
        units[0], units[1]
    );
    assert!(units.iter().all(|u| *u <= 50_000));
    assert_eq!(h.balance(&treasury_key), before - lamports);
    assert_eq!(dpin.supply(&h), supply - out, "the bought $dPIN is burned");
    assert_eq!(dpin.balance(&h, &treasury_token), 0);
    let totals = treasury(&h).totals;
    assert_eq!(
        (totals.sol_in, totals.dpin_bought, totals.dpin_burned),
        (lamports, out, out)
    );

    // One base unit short of the bound: the whole transaction fails, no SOL leaves.
    let lamports = LAMPORTS_PER_SOL / 5;
    let short = swap.min_out(lamports, h.slot()) - 1;
    let market_sol = h.balance(&market.pubkey());
    let market_dpin = dpin.balance_of(&h, &market.pubkey());
    let before = h.balance(&treasury_key);
    let ixs = dpin.batch(
        &h,
        &caller,
        lamports,
        None,
        dpin.route(&caller, &market, &treasury_token, lamports, short),
    );
    assert_eq!(
        h.send(&ixs, &[&caller, &market]),
        err(DropPinError::SlippageExceeded)
    );
    assert_eq!(h.balance(&treasury_key), before);
    assert_eq!(h.balance(&market.pubkey()), market_sol);
    assert_eq!(dpin.balance_of(&h, &market.pubkey()), market_dpin);
    assert_eq!(treasury(&h).totals, totals);
    // Exactly the bound passes.
    let ixs = dpin.batch(
        &h,
        &caller,
        lamports,
        None,
        dpin.route(&caller, &market, &treasury_token, lamports, short + 1),
    );
    h.send(&ixs, &[&caller, &market]).unwrap();
}

#[test]
fn swaps_are_paired_top_level_and_rate_limited() {
    let params = ProtocolParams {
        swap: SwapParams {
            window_cap: LAMPORTS_PER_SOL / 4,
            window_slots: 100,
            ..SwapParams::default()
        },
        ..test_params()
    };
    let (mut h, dpin, caller, market) = treasury_with_fees(params);
    let program = h.program;
    let treasury_token = find::treasury_token(&program);
    let swap = swap_params(&h);
    // Paying 2% above the reference clears the auction at any slot of a window.
    let paid = |lamports: u64| {
        dpin.route(
            &caller,
            &market,
            &treasury_token,
            lamports,
            swap.to_dpin(lamports) * 102 / 100,
        )
    };
    let lamports = LAMPORTS_PER_SOL / 10;
    let begin = builders::begin_swap(&program, &caller.pubkey(), lamports, None);
    let end = builders::end_swap(&program, &dpin.mint, None);

    let mut alone = vec![begin.clone()];
    alone.extend(paid(lamports));
    assert_eq!(
        h.send(&alone, &[&caller, &market]),
        err(DropPinError::MissingEndSwap)
    );
    let mut twice = vec![begin.clone(), begin.clone()];
    twice.extend(paid(lamports));
    twice.push(end.clone());
    assert_eq!(
        h.send(&twice, &[&caller, &market]),
        err(DropPinError::SwapInProgress)
    );
    assert_eq!(
        h.send(std::slice::from_ref(&end), &[&caller]),
        err(DropPinError::NoSwapInProgress)
    );
    let mut inside = vec![begin.clone()];
    inside.extend(paid(lamports));
    inside.push(builders::crank_timeout(&program, &find::round(&program, 0)));
    inside.push(end.clone());
    assert_eq!(
        h.send(&inside, &[&caller, &market]),
        err(DropPinError::InvalidSwapRoute)
    );
    let mut wrong_sysvar = begin.clone();
    wrong_sysvar.accounts[3].pubkey = caller.pubkey();
    let mut forged = vec![wrong_sysvar];
    forged.extend(paid(lamports));
    forged.push(end.clone());
    assert_eq!(
        h.send(&forged, &[&caller, &market]),
        err(DropPinError::InvalidSysvar)
    );

    // The window's cap: 0.25 SOL per 100 slots.
    let over = dpin.batch(
        &h,
        &caller,
        LAMPORTS_PER_SOL / 2,
        None,
        paid(LAMPORTS_PER_SOL / 2),
    );
    assert_eq!(
        h.send(&over, &[&caller, &market]),
        err(DropPinError::SwapWindowCapExceeded)
    );
    for _ in 0..2 {
        let ixs = dpin.batch(&h, &caller, lamports, None, paid(lamports));
        h.send(&ixs, &[&caller, &market]).unwrap();
    }
    let third = dpin.batch(&h, &caller, lamports, None, paid(lamports));
    assert_eq!(
        h.send(&third, &[&caller, &market]),
        err(DropPinError::SwapWindowCapExceeded),
        "0.3 SOL would pass the window's 0.25"
    );
    // Windows are aligned to multiples of their length: the next one starts at the boundary.
    let next = swap.window_start(h.slot()) + swap.window_slots;
    h.warp(next);
    h.send(&third, &[&caller, &market]).unwrap();
    let more_than_there_is =
        dpin.batch(&h, &caller, LAMPORTS_PER_SOL, None, paid(LAMPORTS_PER_SOL));
    assert_eq!(
        h.send(&more_than_there_is, &[&caller, &market]),
        err(DropPinError::SwapExceedsAvailable),
        "the treasury holds 0.5 SOL of fees by now"
    );
}

#[test]
fn token_accounts_mints_and_programs_are_checked() {
    let mut h = Harness::new();
    h.validators(3, 5);
    let program = h.program;
    let admin = h.admin.insecure_clone();

    // Before launch: no token round, no swap.
    let funder = h.funded(10);
    let mut args = round_args(h.slot(), 100 * DPIN);
    args.currency = Currency::Dpin;
    let round = find::round(&program, 0);
    let early = builders::open_round(&program, &funder.pubkey(), 0, args.clone());
    assert_eq!(
        h.send(&[early], &[&funder]),
        err(DropPinError::TokenNotLaunched)
    );

    // A mint that can still be inflated is refused; a fixed one is adopted once.
    let inflatable = h.keypair();
    let mut ixs = droppin_client::token::fixed_supply_mint(
        &admin.pubkey(),
        &inflatable.pubkey(),
        &admin.pubkey(),
        1,
    );
    ixs.pop();
    h.send(&ixs, &[&admin, &inflatable]).unwrap();
    assert_eq!(
        h.send(
            &[builders::launch_token(
                &program,
                &admin.pubkey(),
                &inflatable.pubkey()
            )],
            &[&admin]
        ),
        err(DropPinError::InvalidMint)
    );
    let dpin = Dpin::launch(&mut h);
    assert_eq!(
        h.send(
            &[builders::launch_token(
                &program,
                &admin.pubkey(),
                &dpin.mint
            )],
            &[&admin]
        ),
        err(DropPinError::TokenAlreadyLaunched)
    );
    let intruder = h.funded(1);
    let other = Dpin::mint_only(&mut h);
    assert_eq!(
        h.send(
            &[builders::launch_token(
                &program,
                &intruder.pubkey(),
                &other.mint
            )],
            &[&intruder]
        ),
        err(DropPinError::Unauthorized)
    );

    // Opening with another token is refused.
    dpin.give(&mut h, &funder.pubkey(), 100 * DPIN);
    other.give(&mut h, &funder.pubkey(), 100 * DPIN);
    let open = builders::open_round(&program, &funder.pubkey(), 0, args.clone());
    let wrong_mint = builders::in_dpin(
        open.clone(),
        &other.mint,
        &round,
        &other.account(&funder.pubkey()),
    );
    assert_eq!(
        h.send(&[wrong_mint], &[&funder]),
        err(DropPinError::WrongMint)
    );
    let mut fake_program = dpin.ix(open.clone(), &round, &funder.pubkey());
    let n = fake_program.accounts.len();
    fake_program.accounts[n - 4].pubkey = Address::new_from_array([7; 32]);
    assert_eq!(
        h.send(&[fake_program], &[&funder]),
        err(DropPinError::InvalidTokenProgram)
    );
    h.send(&[dpin.ix(open, &round, &funder.pubkey())], &[&funder])
        .unwrap();

    // A node paying with someone else's account, or with another token.
    let node = h.funded(1);
    let victim = h.funded(1);
    dpin.give(&mut h, &victim.pubkey(), STAKE * 10);
    other.give(&mut h, &node.pubkey(), STAKE * 10);
    let join = builders::join_round(&program, &node.pubkey(), &round);
    let theirs = builders::in_dpin(
        join.clone(),
        &dpin.mint,
        &round,
        &dpin.account(&victim.pubkey()),
    );
    assert_eq!(
        h.send(&[theirs], &[&node]),
        err(DropPinError::TokenAccountOwnerMismatch)
    );
    let foreign = builders::in_dpin(
        join.clone(),
        &dpin.mint,
        &round,
        &other.account(&node.pubkey()),
    );
    assert_eq!(h.send(&[foreign], &[&node]), err(DropPinError::WrongMint));
    let mut missing = dpin.ix(join.clone(), &round, &node.pubkey());
    missing.accounts.truncate(missing.accounts.len() - 1);
    assert_eq!(
        h.send(&[missing], &[&node]),
        err(DropPinError::NotEnoughAccountKeys)
    );
    let mut stolen_vault = dpin.ix(join, &round, &node.pubkey());
    let n = stolen_vault.accounts.len();
    stolen_vault.accounts[n - 2].pubkey = find::treasury_token(&program);
    assert_eq!(
        h.send(&[stolen_vault], &[&node]),
        err(DropPinError::VaultMismatch)
    );
    assert_eq!(
        h.send(
            &[builders::convert_round(
                &program,
                &node.pubkey(),
                &round,
                &dpin.mint
            )],
            &[&node]
        ),
        err(DropPinError::NotConvertible),
        "a $dPIN round has nothing to convert"
    );
}

/// `amount * bps / 10_000`, as the program rounds.
fn share(amount: u64, bps: u16) -> u64 {
    droppin_coordinator::bps_of(amount, bps)
}

#[test]
fn dpin_bonds_are_drawn_by_their_worth_and_lose_pay_and_withdraw_in_dpin() {
    let mut h = Harness::new();
    let dpin = Dpin::mint_only(&mut h);
    let price = swap_params(&h).reference_price;
    let program = h.program;
    let bond = dpin_covering(5 * LAMPORTS_PER_SOL, price);
    let register = |v: &Keypair, wallet: &Address, amount: u64| {
        builders::register_dpin_validator(
            &program,
            &v.pubkey(),
            amount,
            &dpin.mint,
            &dpin.account(wallet),
        )
    };
    let early = h.funded(2);
    dpin.give(&mut h, &early.pubkey(), bond);
    assert_eq!(
        h.send(&[register(&early, &early.pubkey(), bond)], &[&early]),
        err(DropPinError::TokenNotLaunched),
        "no $dPIN bond before launch"
    );
    let admin = h.admin.insecure_clone();
    let launch = builders::launch_token(&program, &admin.pubkey(), &dpin.mint);
    h.send(&[launch], &[&admin]).unwrap();
    let thief = h.funded(2);
    assert_eq!(
        h.send(&[register(&thief, &early.pubkey(), bond)], &[&thief]),
        err(DropPinError::TokenAccountOwnerMismatch),
        "nobody bonds with another wallet's tokens"
    );
    let min_bond = test_params().committee.min_bond;
    let short = dpin_covering(min_bond, price) - 1;
    assert_eq!(
        h.send(&[register(&early, &early.pubkey(), short)], &[&early]),
        err(DropPinError::BondTooSmall),
        "the minimum bond is a worth in lamports"
    );

    // Twelve validators bond 5 SOL's worth of $dPIN each.
    let validators: Vec<Keypair> = (0..12).map(|_| h.funded(2)).collect();
    for v in &validators {
        dpin.give(&mut h, &v.pubkey(), bond);
        let units = h
            .send(&[register(v, &v.pubkey(), bond)], &[v])
            .expect("register a $dPIN bond");
        assert!(units <= 50_000, "RegisterValidator ($dPIN) {units} CU");
        let bond_token = find::bond_token(&program, &v.pubkey());
        assert_eq!(dpin.balance(&h, &bond_token), bond);
        assert_eq!(dpin.balance_of(&h, &v.pubkey()), 0);
    }
    let registry = h.registry();
    assert_eq!(
        (registry.total_bond, registry.total_dpin_bond),
        (0, 12 * bond)
    );
    let slot = h.slot();
    h.warp(slot + 1);

    // A SOL round: its draw weighs the $dPIN bonds at the round's reference price.
    let run = RoundRun::open(&mut h, LAMPORTS_PER_SOL, |_| {});
    assert_eq!(
        run.state(&h).committees[0].bonded_total,
        dpin_worth(12 * bond, price)
    );
    let nodes: Vec<Node> = (1..=2).map(|t| Node::new(&mut h, t)).collect();
    for node in &nodes {
        run.join_and_commit(&mut h, node);
    }
    h.warp(run.deadlines.commit);
    for node in &nodes {
        run.reveal(&mut h, node).unwrap();
    }
    let (honest_tree, honest) = run.verdict(&[accepted(5_000), accepted(5_000)]);
    let (slashing_tree, slashing) =
        run.verdict(&[leaf(Outcome::Slashed, 0), leaf(Outcome::Slashed, 0)]);
    run.draw(&mut h, 0).unwrap();
    let first = run.drawn(&h, &validators, 0);
    assert!(first.len() >= 2, "{} drawn", first.len());
    // The whole first committee votes to slash the honest nodes.
    let votes: Vec<_> = first.iter().map(|v| (*v, Some(slashing))).collect();
    run.judge(&mut h, 0, &votes);
    let terms = run.state(&h).terms;
    let lock = dpin_covering(run.state(&h).committees[0].seat_lock, price);
    assert_eq!(
        h.bond(&first[0].pubkey()).locked,
        lock,
        "a seat locks its worth in $dPIN"
    );
    run.finalize(&mut h, first[0]).unwrap();
    run.post(&mut h, first[0], 0, &slashing_tree).unwrap();

    let appellant = h.funded(20);
    dpin.give(&mut h, &appellant.pubkey(), 0);
    h.send(
        &[builders::appeal(&program, &appellant.pubkey(), &run.round)],
        &[&appellant],
    )
    .unwrap();
    run.draw(&mut h, 1).unwrap();
    let rest: Vec<Keypair> = validators
        .iter()
        .filter(|v| !first.iter().any(|f| f.pubkey() == v.pubkey()))
        .map(|v| v.insecure_clone())
        .collect();
    let second = run.drawn(&h, &rest, 1);
    assert!(second.len() >= 3, "{} drawn on appeal", second.len());
    let (absent, sitting) = second.split_last().unwrap();
    let votes: Vec<_> = sitting.iter().map(|v| (*v, Some(honest))).collect();
    run.judge(&mut h, 1, &votes);

    // An absence from a $dPIN bond: the reporter's bounty in $dPIN, the rest burned.
    let reporter = h.funded(2);
    dpin.give(&mut h, &reporter.pubkey(), 0);
    let report = builders::report_absent(
        &program,
        &reporter.pubkey(),
        &run.round,
        &absent.pubkey(),
        1,
    );
    let report = h.for_bond(report, &absent.pubkey(), &reporter.pubkey());
    let supply = dpin.supply(&h);
    let burned = treasury(&h).totals.dpin_burned;
    let before = h.bond(&absent.pubkey()).bond;
    let units = h.send(&[report], &[&reporter]).unwrap();
    assert!(units <= 50_000, "ReportAbsent ($dPIN bond) {units} CU");
    let penalty = share(lock, terms.slash_bps);
    let bounty = share(penalty, 1_000);
    assert_eq!(before - h.bond(&absent.pubkey()).bond, penalty);
    assert_eq!(dpin.balance_of(&h, &reporter.pubkey()), bounty);
    assert_eq!(supply - dpin.supply(&h), penalty - bounty, "burned");
    assert_eq!(treasury(&h).totals.dpin_burned - burned, penalty - bounty);

    let payer = h.funded(1);
    let voter = sitting[0].pubkey();
    let resolve = builders::resolve_appeal(&program, &run.round, Some(&voter));
    h.send(&[resolve], &[&payer]).unwrap();
    assert_eq!(
        run.state(&h).appeal.resolution,
        droppin_interface::state::AppealResolution::Overturned
    );
    run.post(&mut h, &payer, 1, &honest_tree).unwrap();
    run.wait_out_appeals(&mut h);
    for node in &nodes {
        run.settle_node(&mut h, node).unwrap();
    }
    // The overturned majority loses its whole lock: the appellant's reward in $dPIN, the rest
    // burned. A settler cannot send the reward anywhere else.
    let stranger = h.funded(2);
    dpin.give(&mut h, &stranger.pubkey(), 0);
    let seat: droppin_interface::state::Seat = h
        .state(&find::seat(&program, &run.round, &first[0].pubkey(), 0))
        .unwrap();
    let misdirected = builders::bond_in_dpin(
        builders::settle_seat(
            &program,
            &stranger.pubkey(),
            &run.round,
            &first[0].pubkey(),
            0,
            &Address::new_from_array(seat.payer),
        ),
        &dpin.mint,
        &first[0].pubkey(),
        &dpin.account(&stranger.pubkey()),
    );
    assert_eq!(
        h.send(&[misdirected], &[&stranger]),
        err(DropPinError::TokenAccountOwnerMismatch)
    );
    for v in &first {
        let (bond_before, paid_before) = (
            h.bond(&v.pubkey()).bond,
            dpin.balance_of(&h, &appellant.pubkey()),
        );
        let supply = dpin.supply(&h);
        let units = run.settle_seat(&mut h, &stranger, &v.pubkey(), 0).unwrap();
        assert!(units <= 50_000, "SettleSeat ($dPIN bond) {units} CU");
        let reward = share(lock, terms.appeal_reward_bps);
        assert_eq!(bond_before - h.bond(&v.pubkey()).bond, lock);
        assert_eq!(
            dpin.balance_of(&h, &appellant.pubkey()) - paid_before,
            reward
        );
        assert_eq!(supply - dpin.supply(&h), lock - reward);
    }
    for v in sitting {
        run.settle_seat(&mut h, v, &v.pubkey(), 1).unwrap();
    }
    run.settle_seat(&mut h, &stranger, &absent.pubkey(), 1)
        .unwrap();
    run.settle_appeal_and_close(&mut h).unwrap();

    // Every bond is free and its token account holds exactly its bond.
    let mut bonded = 0;
    for v in &validators {
        let state = h.bond(&v.pubkey());
        assert_eq!((state.locked, state.open_seats), (0, 0));
        let held = dpin.balance(&h, &find::bond_token(&program, &v.pubkey()));
        assert_eq!(held, state.bond, "bond books match its tokens");
        bonded += state.bond;
    }
    assert_eq!(h.registry().total_dpin_bond, bonded);

    // An honest validator leaves: tokens someone sent its bond account cannot block the close.
    let leaver = sitting[0];
    let key = leaver.pubkey();
    let bond_token = find::bond_token(&program, &key);
    let gift = token::transfer_tokens(
        &dpin.account(&appellant.pubkey()),
        &bond_token,
        &appellant.pubkey(),
        1,
    );
    h.send(&[gift], &[&appellant]).unwrap();
    let amount = h.bond(&key).bond;
    h.send(&[builders::unbond(&program, &key, amount)], &[leaver])
        .unwrap();
    let withdraw = h.for_bond(builders::withdraw_bond(&program, &key), &key, &key);
    assert_eq!(
        h.send(std::slice::from_ref(&withdraw), &[leaver]),
        err(DropPinError::StillUnbonding)
    );
    h.warp(h.bond(&key).unbond_at);
    let units = h.send(&[withdraw], &[leaver]).unwrap();
    assert!(units <= 50_000, "WithdrawBond ($dPIN, closing) {units} CU");
    assert_eq!(dpin.balance_of(&h, &key), amount + 1);
    assert!(
        h.chain.account(&bond_token).unwrap().is_none(),
        "token account closed"
    );
    assert!(
        h.state::<droppin_interface::state::ValidatorBond>(&find::bond(&program, &key))
            .is_none()
    );
    assert_eq!(h.registry().total_dpin_bond, bonded - amount);
}

/// A node one base unit short of a $dPIN round's stake is told that it lacks tokens: the token
/// program's code 1 inside the transfer is its "insufficient funds", not the dropPIN program's
/// error 1 ("not enough accounts"), which it used to read as.
#[test]
fn a_node_short_of_its_dpin_stake_is_told_so() {
    let mut h = Harness::new();
    h.validators(4, 5);
    let dpin = Dpin::launch(&mut h);
    let run = dpin.open_round(&mut h, 1_000 * DPIN);
    let node = Node::new(&mut h, 1);
    dpin.give(&mut h, &node.address(), STAKE - 1);
    let join = builders::join_round(&h.program, &node.address(), &run.round);
    let refused = h.send(&[dpin.ix(join, &run.round, &node.address())], &[&node.key]);
    assert!(
        matches!(&refused, Err(Failure::Other(text)) if text.contains("JoinRound needs more tokens than the signer holds")),
        "{refused:?}"
    );
}
