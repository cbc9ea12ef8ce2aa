//! Seeds of every program-derived address.
//!
//! Each kind of account has its own prefix, and per-round accounts include the round's address,
//! so no PDA can stand for two things (PDA sharing).

/// `["config"]`
pub const CONFIG_SEED: &[u8] = b"config";
/// `["treasury"]`
pub const TREASURY_SEED: &[u8] = b"treasury";
/// `["round", id as u64 LE]`
pub const ROUND_SEED: &[u8] = b"round";
/// `["vault", round]`
pub const VAULT_SEED: &[u8] = b"vault";
/// `["node", round, node]`
pub const NODE_SEED: &[u8] = b"node";
/// `["validator", round, validator]`
pub const VALIDATOR_SEED: &[u8] = b"validator";
/// `["cid", round, cid digest]`
pub const CID_SEED: &[u8] = b"cid";
/// `["reputation", node]`
pub const REPUTATION_SEED: &[u8] = b"reputation";

/// PDA derivation for clients.
#[cfg(feature = "client")]
pub mod find {
    use super::*;
    use crate::Pubkey;
    use solana_address::Address;

    fn find(seeds: &[&[u8]], program: &Address) -> Address {
        Address::find_program_address(seeds, program).0
    }

    /// The protocol config.
    pub fn config(program: &Address) -> Address {
        find(&[CONFIG_SEED], program)
    }

    /// The treasury.
    pub fn treasury(program: &Address) -> Address {
        find(&[TREASURY_SEED], program)
    }

    /// Round number `id`.
    pub fn round(program: &Address, id: u64) -> Address {
        find(&[ROUND_SEED, &id.to_le_bytes()], program)
    }

    /// A round's escrow.
    pub fn vault(program: &Address, round: &Address) -> Address {
        find(&[VAULT_SEED, round.as_ref()], program)
    }

    /// A node's state in a round.
    pub fn node(program: &Address, round: &Address, node: &Address) -> Address {
        find(&[NODE_SEED, round.as_ref(), node.as_ref()], program)
    }

    /// A committee member's state in a round.
    pub fn validator(program: &Address, round: &Address, validator: &Address) -> Address {
        find(
            &[VALIDATOR_SEED, round.as_ref(), validator.as_ref()],
            program,
        )
    }

    /// The marker of a CID's first reveal in a round.
    pub fn cid_marker(program: &Address, round: &Address, cid: &crate::Cid) -> Address {
        find(&[CID_SEED, round.as_ref(), cid.digest()], program)
    }

    /// A node's reputation.
    pub fn reputation(program: &Address, node: &Address) -> Address {
        find(&[REPUTATION_SEED, node.as_ref()], program)
    }

    /// Raw key bytes of an address.
    pub fn key(address: &Address) -> Pubkey {
        address.to_bytes()
    }
}
