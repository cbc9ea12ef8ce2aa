//! InitializeConfig and UpdateConfig.

use droppin_interface::{
    pda::{CONFIG_SEED, TREASURY_SEED},
    state::{ProtocolConfig, ProtocolParams, Treasury},
};
use pinocchio::{AccountView, Address, cpi::Seed};

use super::not_enough_accounts;
use crate::{
    accounts::{
        create_pda, load, require_canonical_pda, require_distinct, require_signer,
        require_system_program, require_writable, save,
    },
    error::{DropPinError, Result, fail},
};

/// Creates the config and treasury PDAs; the signer becomes the admin.
#[inline(never)]
pub fn initialize(
    program_id: &Address,
    accounts: &mut [AccountView],
    params: ProtocolParams,
) -> Result {
    let [admin, config, treasury, system, ..] = accounts else {
        return Err(not_enough_accounts());
    };
    require_signer(admin)?;
    require_writable(&[admin, config, treasury])?;
    require_distinct(&[admin, config, treasury])?;
    require_system_program(system)?;
    let config_bump = require_canonical_pda(config, &[CONFIG_SEED], program_id)?;
    let treasury_bump = require_canonical_pda(treasury, &[TREASURY_SEED], program_id)?;
    params.check().map_err(fail)?;

    let state = ProtocolConfig {
        admin: admin.address().to_bytes(),
        bump: config_bump,
        treasury: treasury.address().to_bytes(),
        treasury_bump,
        params,
        round_count: 0,
        token: Default::default(),
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
    )
}

/// Replaces the parameters (for rounds opened later) and optionally the admin.
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
    if admin.address().as_array() != &state.admin {
        return Err(fail(DropPinError::Unauthorized));
    }
    params.check().map_err(fail)?;
    state.params = *params;
    if let Some(new_admin) = new_admin {
        state.admin = *new_admin;
    }
    save(config, &state)
}
