//! `dpin validator`: the registry.

use clap::ArgGroup;
use droppin_cli::operator::serialize_currency;
use droppin_interface::state::{Currency, ValidatorBond};
use droppin_node::money::unit_name;

use super::*;

/// An amount in SOL or in $dPIN: exactly one of the two flags.
#[derive(Args)]
#[command(group(ArgGroup::new("amount").required(true).args(["sol", "dpin"])))]
pub struct Amount {
    /// SOL (for a SOL bond).
    #[arg(long)]
    sol: Option<String>,
    /// $dPIN, whole tokens (for a $dPIN bond, once $dPIN is launched).
    #[arg(long)]
    dpin: Option<String>,
}

impl Amount {
    /// The currency and the amount in its base units.
    fn parse(&self) -> anyhow::Result<(Currency, u64)> {
        match (&self.sol, &self.dpin) {
            (Some(sol), _) => Ok((Currency::Sol, lamports(sol, "--sol")?)),
            (None, Some(dpin)) => Ok((Currency::Dpin, base_units(dpin, "--dpin")?)),
            (None, None) => bail!("give --sol or --dpin"),
        }
    }

    /// The amount, which must be in `bond`'s currency.
    fn of_bond(&self, bond: &ValidatorBond) -> anyhow::Result<u64> {
        let (currency, amount) = self.parse()?;
        if currency != bond.currency {
            bail!(
                "this bond is held in {}: give the amount with --{}",
                unit_name(bond.currency),
                currency_flag(bond.currency)
            );
        }
        Ok(amount)
    }
}

fn currency_flag(currency: Currency) -> &'static str {
    match currency {
        Currency::Sol => "sol",
        Currency::Dpin => "dpin",
    }
}

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
            protocol.top_up_bond(&validator, amount.of_bond(&registered()?)?)?;
        }
        ValidatorCommand::Unbond { amount } => {
            protocol.unbond(&validator, amount.of_bond(&registered()?)?)?;
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
        let sol = |lamports: u64| format_amount(lamports, Currency::Sol);
        if !v.registered {
            println!("{} is not registered (or has withdrawn everything)", v.validator);
            return;
        }
        println!(
            "{}: bond {} (worth {}; {} locked by {} open seats), unbonding {} until slot {}",
            v.validator,
            in_bond(v.bond),
            sol(v.bond_worth_lamports),
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
            sol(v.registry_worth_lamports),
            100.0 * v.seat_chance_of_7
        );
    })
}
