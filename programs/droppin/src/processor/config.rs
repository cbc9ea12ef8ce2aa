//! InitializeConfig, UpdateConfig and ApplyConfig.

use droppin_coordinator as coordinator;
use droppin_interface::{
    BPF_LOADER_UPGRADEABLE_ID,
    pda::{CONFIG_SEED, REGISTRY_SEED, TREASURY_SEED},
    state::{ProtocolConfig, ProtocolParams, Registry, Treasury},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        create_pda, current_slot, load, require_canonical_pda, require_distinct, require_signer,
        require_system_program, require_writable, save,
    },
    error::{DropPinError, Result, fail},
};

/// Creates the config, treasury and registry PDAs; the program's upgrade authority, who must
/// sign, becomes the admin.
#[inline(never)]
pub fn initialize(
    program_id: &Address,
    accounts: &mut [AccountView],
    params: ProtocolParams,
) -> Result {
    let [admin, config, treasury, registry, program_data, system, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(admin)?;
    require_writable(&[admin, config, treasury, registry])?;
    require_distinct(&[admin, config, treasury, registry])?;
    require_system_program(system)?;
    require_upgrade_authority(program_id, program_data, admin)?;
    let config_bump = require_canonical_pda(config, &[CONFIG_SEED], program_id)?;
    let treasury_bump = require_canonical_pda(treasury, &[TREASURY_SEED], program_id)?;
    let registry_bump = require_canonical_pda(registry, &[REGISTRY_SEED], program_id)?;
    params.check().map_err(fail)?;

    let state = ProtocolConfig {
        admin: admin.address().to_bytes(),
        bump: config_bump,
        treasury: treasury.address().to_bytes(),
        treasury_bump,
        registry: registry.address().to_bytes(),
        params,
        ..ProtocolConfig::default()
    };
    let bump = [config_bump];
    create_pda(
        admin,
        config,
        &[Seed::from(CONFIG_SEED), Seed::from(&bump)],
        program_id,
        &state,
    )?;
    let bump = [treasury_bump];
    let treasury_state = Treasury {
        bump: treasury_bump,
        ..Treasury::default()
    };
    create_pda(
        admin,
        treasury,
        &[Seed::from(TREASURY_SEED), Seed::from(&bump)],
        program_id,
        &treasury_state,
    )?;
    let bump = [registry_bump];
    let registry_state = Registry {
        bump: registry_bump,
        ..Registry::default()
    };
    create_pda(
        admin,
        registry,
        &[Seed::from(REGISTRY_SEED), Seed::from(&bump)],
        program_id,
        &registry_state,
    )
}

/// The signer must be the upgrade authority named in this program's ProgramData account (the
/// account at the loader's PDA of the program id, owned by the upgradeable loader).
fn require_upgrade_authority(
    program_id: &Address,
    program_data: &AccountView,
    signer: &AccountView,
) -> Result {
    let loader = Address::new_from_array(BPF_LOADER_UPGRADEABLE_ID);
    require_canonical_pda(program_data, &[program_id.as_ref()], &loader)?;
    if !program_data.owned_by(&loader) {
        return Err(fail(DropPinError::InvalidAccountOwner));
    }
    let data = program_data.try_borrow()?;
    // bincode of UpgradeableLoaderState::ProgramData: u32 tag 3, u64 slot, Option<Pubkey>.
    let authority = match data.get(..45) {
        Some([3, 0, 0, 0, _, _, _, _, _, _, _, _, 1, key @ ..]) => key,
        _ => return Err(fail(DropPinError::NotUpgradeAuthority)),
    };
    if authority == signer.address().as_ref() {
        Ok(())
    } else {
        Err(fail(DropPinError::NotUpgradeAuthority))
    }
}

/// Proposes new parameters (and optionally a new admin) behind the timelock.
#[inline(never)]
pub fn update(
    program_id: &Address,
    accounts: &mut [AccountView],
    params: &ProtocolParams,
    new_admin: &Option<[u8; 32]>,
) -> Result {
    let [admin, config, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(admin)?;
    require_writable(&[config])?;
    let mut state: ProtocolConfig = load(config, program_id)?;
    coordinator::propose_config(
        &mut state,
        &admin.address().to_bytes(),
        params,
        *new_admin,
        current_slot()?,
    )
    .map_err(fail)?;
    save(config, &state)
}

/// Applies a proposed change once its timelock has passed.
#[inline(never)]
pub fn apply(program_id: &Address, accounts: &mut [AccountView]) -> Result {
    let [config, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_writable(&[config])?;
    let mut state: ProtocolConfig = load(config, program_id)?;
    coordinator::apply_config(&mut state, current_slot()?).map_err(fail)?;
    save(config, &state)
}
