//! Parameter changes: proposed by the admin within one bounded step, applied after a timelock.

use droppin_interface::{
    DropPinError, Pubkey,
    state::{PendingConfig, ProtocolConfig, ProtocolParams},
};

use crate::Result;

/// Records a proposed change by `admin`: valid parameters one bounded step from the current
/// ones, and optionally a new admin, effective after the timelock. Replaces a waiting proposal.
pub fn propose_config(
    config: &mut ProtocolConfig,
    admin: &Pubkey,
    params: &ProtocolParams,
    new_admin: Option<Pubkey>,
    slot: u64,
) -> Result<()> {
    if admin != &config.admin {
        return Err(DropPinError::Unauthorized);
    }
    params.check()?;
    if !config.params.within_step(params) {
        return Err(DropPinError::ConfigStepTooLarge);
    }
    config.pending = PendingConfig {
        active: true,
        params: *params,
        new_admin: new_admin.unwrap_or([0; 32]),
        effective_slot: slot.saturating_add(config.params.timelock_slots),
    };
    Ok(())
}

/// Applies the waiting change once its timelock has passed (anyone may).
pub fn apply_config(config: &mut ProtocolConfig, slot: u64) -> Result<()> {
    let pending = config.pending;
    if !pending.active {
        return Err(DropPinError::NoPendingConfig);
    }
    if slot < pending.effective_slot {
        return Err(DropPinError::TimelockActive);
    }
    config.params = pending.params;
    if pending.new_admin != [0; 32] {
        config.admin = pending.new_admin;
    }
    config.pending = PendingConfig::default();
    Ok(())
}
