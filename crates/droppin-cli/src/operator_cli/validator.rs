//! `dpin validator`: the registry.

use droppin_cli::operator::serialize_currency;

use super::*;

/// `dpin validator ...`
#[derive(Subcommand)]
pub enum ValidatorCommand {
    /// Register the signer as a validator with a first bond, in SOL or $dPIN (for good).
    Register {
        #[command(flatten)]
        bond: Amount,
    },
    /// Add to the signer's bond, in its currency (it counts for rounds opened afterwards).
    TopUp {
        #[command(flatten)]
        amount: Amount,
    },
    /// Start unbonding part of the free bond (withdrawable after the unbonding delay).
    Unbond {
        #[command(flatten)]
        amount: Amount,
    },
    /// Withdraw what finished unbonding.
    Withdraw,
    /// The signer's bond, locks, seats and the registry's total.
    Status,
}

/// What `dpin validator status` reports. Amounts are in the bond's currency's base units
/// (lamports or $dPIN base units); the registry's total is in lamports' worth.
#[derive(Serialize)]
struct BondView {
    validator: String,
    registered: bool,
    #[serde(serialize_with = "serialize_currency")]
    currency: Currency,
    bond: u64,
    locked: u64,
    unbonding: u64,
    unbond_at_slot: u64,
    open_seats: u32,
    seats_taken: u32,
    slashed: u64,
    /// The bond's worth in lamports at the reference price.
    bond_worth_lamports: u64,
    registry_worth_lamports: u64,
    validators: u32,
    /// The chance of a seat in a committee of 7 expected, at today's bonds.
    seat_chance_of_7: f64,
}

pub fn run_validator(command: ValidatorCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let validator = cluster.signer()?;
    let key = validator.pubkey();
    let mut protocol = cluster.protocol()?;
    let existing = protocol.bond(&key)?;
    let registered = || {
        existing
            .clone()
            .ok_or_else(|| anyhow::anyhow!("{key} is not a registered validator"))
    };
    match command {
        ValidatorCommand::Register { bond } => match bond.parse()? {
            (Currency::Sol, amount) => {
                protocol.register_validator(&validator, amount)?;
            }
            (Currency::Dpin, amount) => {
                protocol.register_dpin_validator(&validator, amount)?;
            }
        },
        ValidatorCommand::TopUp { amount } => {
            protocol.top_up_bond(
                &validator,
                amount.in_currency(registered()?.currency, "bond")?,
            )?;
        }
        ValidatorCommand::Unbond { amount } => {
            protocol.unbond(
                &validator,
                amount.in_currency(registered()?.currency, "bond")?,
            )?;
        }
        ValidatorCommand::Withdraw => {
            protocol.withdraw_bond(&validator)?;
        }
        ValidatorCommand::Status => {}
    }
    let bond = protocol.bond(&key)?.unwrap_or_default();
    let registry = protocol.registry()?;
    let price = protocol.config()?.params.swap.reference_price;
    let registry_worth = registry.bonded_worth(price);
    let view = BondView {
        validator: key.to_string(),
        registered: bond.validator == key.to_bytes(),
        currency: bond.currency,
        bond: bond.bond,
        locked: bond.locked,
        unbonding: bond.unbonding,
        unbond_at_slot: bond.unbond_at,
        open_seats: bond.open_seats,
        seats_taken: bond.seats_taken,
        slashed: bond.slashed_total,
        bond_worth_lamports: bond.worth(price),
        registry_worth_lamports: registry_worth,
        validators: registry.validators,
        seat_chance_of_7: droppin_interface::sortition::probability(
            bond.worth(price),
            registry_worth,
            7,
        ),
    };
    cluster.print(&view, |v| {
        let in_bond = |amount: u64| format_amount(amount, v.currency);
        if !v.registered {
            println!("{} is not registered (or has withdrawn everything)", v.validator);
            return;
        }
        println!(
            "{}: bond {} (worth {}; {} locked by {} open seats), unbonding {} until slot {}",
            v.validator,
            in_bond(v.bond),
            format_amount(v.bond_worth_lamports, Currency::Sol),
            in_bond(v.locked),
            v.open_seats,
            in_bond(v.unbonding),
            v.unbond_at_slot,
        );
        println!(
            "{} seats taken, {} slashed; registry: {} validators, {}'s worth bonded; chance of a seat in a committee of 7: {:.1}%",
            v.seats_taken,
            in_bond(v.slashed),
            v.validators,
            format_amount(v.registry_worth_lamports, Currency::Sol),
            100.0 * v.seat_chance_of_7
        );
    })
}
