//! `dpin treasury`: the $dPIN launch, the treasury's totals and its SOL -> $dPIN batches.

use droppin_client::token;
use droppin_interface::DPIN_DECIMALS;

use super::*;

/// `dpin treasury ...`
#[derive(Subcommand)]
pub enum TreasuryCommand {
    /// The treasury's SOL, the buy-and-burn totals, the swap window and the $dPIN supply.
    Show,
    /// One batch: lend SOL from the treasury (or a converting round's pool) to a counterparty's
    /// route, which must return at least the reference price less the slippage bound.
    Swap(SwapArgs),
    /// Create a fixed-supply $dPIN mint held by the signer and adopt it (admin only, once).
    Launch {
        /// Whole tokens minted, all to the signer; the mint authority is removed afterwards.
        #[arg(long, default_value_t = 1_000_000_000)]
        supply: u64,
    },
    /// Turn a SOL round opened before the launch, that nobody has joined, into a $dPIN round
    /// awaiting conversion (its funder only).
    Convert { round: String },
}

#[derive(Args)]
pub struct SwapArgs {
    /// SOL in the batch.
    #[arg(long)]
    sol: String,
    /// Convert this round's pool instead of buying $dPIN to burn.
    #[arg(long)]
    round: Option<String>,
    /// Keypair of the counterparty that sells $dPIN for the batch's SOL (a market maker's OTC
    /// route; any DEX route can sit between the two halves instead).
    #[arg(long)]
    counterparty: PathBuf,
    /// $dPIN the counterparty pays, in whole tokens; default: the reference price.
    #[arg(long)]
    dpin: Option<String>,
}

/// What `dpin treasury show` reports: amounts exactly, as integers of base units (lamports,
/// and $dPIN's smallest unit: `DPIN_DECIMALS` decimals), never rounded through a float.
#[derive(Serialize)]
struct TreasuryView {
    treasury: String,
    balance_lamports: u64,
    fees_collected_lamports: u64,
    slashes_collected_lamports: u64,
    other_collected_lamports: u64,
    mint: Option<String>,
    /// $dPIN's supply, once launched.
    supply_dpin_base_units: Option<u64>,
    swapped_lamports: u64,
    bought_dpin_base_units: u64,
    burned_dpin_base_units: u64,
    converted_lamports: u64,
    reference_dpin_base_units_per_sol: u64,
    max_slippage_bps: u16,
    window_slots: u64,
    window_cap_lamports: u64,
    window_start_slot: u64,
    window_spent_lamports: u64,
}

fn sol(lamports: u64) -> String {
    format_amount(lamports, Currency::Sol)
}

fn dpin(base_units: u64) -> String {
    format_amount(base_units, Currency::Dpin)
}

pub fn run_treasury(command: TreasuryCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let mut protocol = cluster.protocol()?;
    match command {
        TreasuryCommand::Show => show(&protocol, cluster),
        TreasuryCommand::Launch { supply } => {
            let admin = cluster.signer()?;
            if protocol.config()?.token_launched() {
                bail!("$dPIN is already launched: {}", protocol.dpin_mint()?);
            }
            let mint = Keypair::new();
            let supply = supply
                .checked_mul(10u64.pow(u32::from(DPIN_DECIMALS)))
                .context("the supply overflows u64 base units")?;
            let ixs =
                token::fixed_supply_mint(&admin.pubkey(), &mint.pubkey(), &admin.pubkey(), supply);
            protocol.chain.send(&ixs, &[&admin, &mint])?;
            protocol.launch_token(&admin, &mint.pubkey())?;
            say(
                cluster,
                &format!(
                    "$dPIN launched: mint {} (fixed supply, held by {})",
                    mint.pubkey(),
                    admin.pubkey()
                ),
            );
            show(&protocol, cluster)
        }
        TreasuryCommand::Convert { round } => {
            let payer = cluster.signer()?;
            let round = parse_address(&round)?;
            protocol.convert_round(&payer, &round)?;
            let state = protocol.round(&round)?;
            say(
                cluster,
                &format!(
                    "round {round} now pays in $dPIN; {} of its pool awaits conversion (dpin treasury swap --round {round})",
                    exact(state.unconverted, Currency::Sol)
                ),
            );
            Ok(())
        }
        TreasuryCommand::Swap(args) => swap(&mut protocol, args, cluster),
    }
}

fn swap(
    protocol: &mut Protocol<RpcChain>,
    args: SwapArgs,
    cluster: &Cluster,
) -> anyhow::Result<()> {
    let caller = cluster.signer()?;
    let counterparty = read_keypair(&args.counterparty)?;
    let lamports = lamports(&args.sol, "--sol")?;
    let config = protocol.config()?;
    let mint = protocol.dpin_mint()?;
    let round = args.round.as_deref().map(parse_address).transpose()?;
    let destination = match &round {
        Some(round) => Address::new_from_array(protocol.round(round)?.token_vault),
        None => Address::new_from_array(config.token.treasury_token),
    };
    let swap = config.params.swap;
    // The batch price falls through each window (a Dutch auction); a margin of a few slots
    // covers the time the transaction spends in flight.
    let floor = swap.min_out(lamports, protocol.chain.slot()?);
    let out = match &args.dpin {
        Some(whole) => base_units(whole, "--dpin")?,
        None => floor,
    };
    if out < floor {
        bail!(
            "the counterparty would pay {}, below the {} the batch's auction price requires now",
            exact(out, Currency::Dpin),
            exact(floor, Currency::Dpin)
        );
    }
    let route = vec![
        token::transfer_tokens(
            &token::wallet_account(&counterparty.pubkey(), &mint),
            &destination,
            &counterparty.pubkey(),
            out,
        ),
        solana_system_interface::instruction::transfer(
            &caller.pubkey(),
            &counterparty.pubkey(),
            lamports,
        ),
    ];
    let sent = protocol.swap_batch(&caller, lamports, round.as_ref(), route, &[&counterparty])?;
    say(
        cluster,
        &format!(
            "swapped {} for {} ({})",
            sol(lamports),
            dpin(out),
            sent.signature
        ),
    );
    show(protocol, cluster)
}

fn show(protocol: &Protocol<RpcChain>, cluster: &Cluster) -> anyhow::Result<()> {
    let config = protocol.config()?;
    let treasury_key = find::treasury(&protocol.program);
    let treasury = protocol.treasury()?;
    let launched = config.token_launched();
    let mint = Address::new_from_array(config.token.mint);
    let swap = config.params.swap;
    let view = TreasuryView {
        treasury: treasury_key.to_string(),
        balance_lamports: protocol.chain.balance(&treasury_key)?,
        fees_collected_lamports: treasury.fees_collected,
        slashes_collected_lamports: treasury.slashes_collected,
        other_collected_lamports: treasury.other_collected,
        mint: launched.then(|| mint.to_string()),
        supply_dpin_base_units: if launched {
            Some(token::supply(&protocol.chain, &mint)?)
        } else {
            None
        },
        swapped_lamports: treasury.totals.sol_in,
        bought_dpin_base_units: treasury.totals.dpin_bought,
        burned_dpin_base_units: treasury.totals.dpin_burned,
        converted_lamports: treasury.totals.sol_converted,
        reference_dpin_base_units_per_sol: swap.reference_price,
        max_slippage_bps: swap.max_slippage_bps,
        window_slots: swap.window_slots,
        window_cap_lamports: swap.window_cap,
        window_start_slot: treasury.window.start,
        window_spent_lamports: treasury.window.spent,
    };
    cluster.print(&view, |v| {
        println!(
            "treasury {} holds {} (fees {}, slashes and forfeits {}, dust {})",
            v.treasury,
            sol(v.balance_lamports),
            sol(v.fees_collected_lamports),
            sol(v.slashes_collected_lamports),
            sol(v.other_collected_lamports)
        );
        match (&v.mint, v.supply_dpin_base_units) {
            (Some(mint), Some(supply)) => println!("$dPIN mint {mint}, supply {}", dpin(supply)),
            _ => println!("$dPIN is not launched yet (dpin treasury launch)"),
        }
        println!(
            "bought {} for {}; burned {} in all; converted {} of pre-launch pools",
            dpin(v.bought_dpin_base_units),
            sol(v.swapped_lamports),
            dpin(v.burned_dpin_base_units),
            sol(v.converted_lamports)
        );
        println!(
            "reference {} per SOL, max slippage {} bps; batches up to {} per {} slots ({} used in the window from slot {})",
            dpin(v.reference_dpin_base_units_per_sol),
            v.max_slippage_bps,
            sol(v.window_cap_lamports),
            v.window_slots,
            sol(v.window_spent_lamports),
            v.window_start_slot
        );
    })
}
