//! `dpin validator`: the registry.

use super::*;

/// `dpin validator ...`
#[derive(Subcommand)]
pub enum ValidatorCommand {
    /// Register the signer as a validator with a first bond.
    Register {
        #[arg(long)]
        bond_sol: f64,
    },
    /// Add to the signer's bond (it counts for rounds opened afterwards).
    TopUp {
        #[arg(long)]
        sol: f64,
    },
    /// Start unbonding part of the free bond (withdrawable after the unbonding delay).
    Unbond {
        #[arg(long)]
        sol: f64,
    },
    /// Withdraw what finished unbonding.
    Withdraw,
    /// The signer's bond, locks, seats and the registry's total.
    Status,
}

/// What `dpin validator status` reports.
#[derive(Serialize)]
struct BondView {
    validator: String,
    registered: bool,
    bond_lamports: u64,
    locked_lamports: u64,
    unbonding_lamports: u64,
    unbond_at_slot: u64,
    open_seats: u32,
    seats_taken: u32,
    slashed_lamports: u64,
    registry_total_lamports: u64,
    validators: u32,
    /// The chance of a seat in a committee of 7 expected, at today's bonds.
    seat_chance_of_7: f64,
}

pub fn run_validator(command: ValidatorCommand, cluster: &Cluster) -> anyhow::Result<()> {
    let validator = cluster.signer()?;
    let mut protocol = cluster.protocol()?;
    match command {
        ValidatorCommand::Register { bond_sol } => {
            protocol.register_validator(&validator, lamports(bond_sol, "--bond-sol")?)?;
        }
        ValidatorCommand::TopUp { sol } => {
            protocol.top_up_bond(&validator, lamports(sol, "--sol")?)?;
        }
        ValidatorCommand::Unbond { sol } => {
            protocol.unbond(&validator, lamports(sol, "--sol")?)?;
        }
        ValidatorCommand::Withdraw => {
            protocol.withdraw_bond(&validator)?;
        }
        ValidatorCommand::Status => {}
    }
    let key = validator.pubkey();
    let bond = protocol.bond(&key)?.unwrap_or_default();
    let registry = protocol.registry()?;
    let view = BondView {
        validator: key.to_string(),
        registered: bond.validator == key.to_bytes(),
        bond_lamports: bond.bond,
        locked_lamports: bond.locked,
        unbonding_lamports: bond.unbonding,
        unbond_at_slot: bond.unbond_at,
        open_seats: bond.open_seats,
        seats_taken: bond.seats_taken,
        slashed_lamports: bond.slashed_total,
        registry_total_lamports: registry.total_bond,
        validators: registry.validators,
        seat_chance_of_7: droppin_interface::sortition::probability(
            bond.bond,
            registry.total_bond,
            7,
        ),
    };
    cluster.print(&view, |v| {
        let sol = |l: u64| l as f64 / LAMPORTS_PER_SOL as f64;
        if !v.registered {
            println!("{} is not registered (or has withdrawn everything)", v.validator);
            return;
        }
        println!(
            "{}: bond {:.4} SOL ({:.4} locked by {} open seats), unbonding {:.4} SOL until slot {}",
            v.validator,
            sol(v.bond_lamports),
            sol(v.locked_lamports),
            v.open_seats,
            sol(v.unbonding_lamports),
            v.unbond_at_slot
        );
        println!(
            "{} seats taken, {:.4} SOL slashed; registry: {} validators, {:.4} SOL bonded; chance of a seat in a committee of 7: {:.1}%",
            v.seats_taken,
            sol(v.slashed_lamports),
            v.validators,
            sol(v.registry_total_lamports),
            100.0 * v.seat_chance_of_7
        );
    })
}
