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
/// `["registry"]`
pub const REGISTRY_SEED: &[u8] = b"registry";
/// `["bond", validator]`
pub const BOND_SEED: &[u8] = b"bond";
/// `["seat", round, validator, level]`
pub const SEAT_SEED: &[u8] = b"seat";
/// `["verdict", round, level]`
pub const VERDICT_SEED: &[u8] = b"verdict";
/// `["contribution", round, payer]`
pub const CONTRIBUTION_SEED: &[u8] = b"contribution";
/// `["reputation", node]`
pub const REPUTATION_SEED: &[u8] = b"reputation";
/// `["token-vault", round]`: a token round's $dPIN escrow.
pub const TOKEN_VAULT_SEED: &[u8] = b"token-vault";
/// `["treasury-token"]`: the treasury's $dPIN account.
pub const TREASURY_TOKEN_SEED: &[u8] = b"treasury-token";

/// Length of a CID marker's seed: the longest seed the system program takes.
pub const CID_MARKER_SEED_LEN: usize = 32;

/// The seed of a CID's marker: the first 16 bytes of its digest in lowercase hex. 128 bits keep
/// a second preimage (someone squatting on another node's CID) out of reach.
pub fn cid_marker_seed(cid: &crate::Cid) -> [u8; CID_MARKER_SEED_LEN] {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut seed = [0u8; CID_MARKER_SEED_LEN];
    for (i, byte) in cid.digest()[..CID_MARKER_SEED_LEN / 2].iter().enumerate() {
        seed[2 * i] = HEX[usize::from(byte >> 4)];
        seed[2 * i + 1] = HEX[usize::from(byte & 0x0f)];
    }
    seed
}

/// A CID marker's address: the system program's `create_with_seed` address with the round as
/// base, `sha256(round || seed || program)`. Not a PDA on purpose: one hash, no bump search, so a
/// reveal costs the same for every CID, and there is exactly one marker address per CID.
pub fn cid_marker_address<H: crate::hash::Hasher>(
    program: &crate::Pubkey,
    round: &crate::Pubkey,
    cid: &crate::Cid,
) -> crate::Pubkey {
    H::hashv(&[round, &cid_marker_seed(cid), program])
}

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

    /// A token round's $dPIN escrow.
    pub fn token_vault(program: &Address, round: &Address) -> Address {
        find(&[TOKEN_VAULT_SEED, round.as_ref()], program)
    }

    /// The treasury's $dPIN account.
    pub fn treasury_token(program: &Address) -> Address {
        find(&[TREASURY_TOKEN_SEED], program)
    }

    /// A node's state in a round.
    pub fn node(program: &Address, round: &Address, node: &Address) -> Address {
        find(&[NODE_SEED, round.as_ref(), node.as_ref()], program)
    }

    /// The validator registry.
    pub fn registry(program: &Address) -> Address {
        find(&[REGISTRY_SEED], program)
    }

    /// A validator's bond.
    pub fn bond(program: &Address, validator: &Address) -> Address {
        find(&[BOND_SEED, validator.as_ref()], program)
    }

    /// A validator's seat in committee `level` of a round.
    pub fn seat(program: &Address, round: &Address, validator: &Address, level: u8) -> Address {
        find(
            &[SEAT_SEED, round.as_ref(), validator.as_ref(), &[level]],
            program,
        )
    }

    /// The leaves of the verdict judged by committee `level` of a round.
    pub fn verdict(program: &Address, round: &Address, level: u8) -> Address {
        find(&[VERDICT_SEED, round.as_ref(), &[level]], program)
    }

    /// A third party's top-up of a round's pool.
    pub fn contribution(program: &Address, round: &Address, payer: &Address) -> Address {
        find(&[CONTRIBUTION_SEED, round.as_ref(), payer.as_ref()], program)
    }

    /// The ProgramData account of an upgradeable program (it names the upgrade authority).
    pub fn program_data(program: &Address) -> Address {
        find(
            &[program.as_ref()],
            &Address::new_from_array(crate::BPF_LOADER_UPGRADEABLE_ID),
        )
    }

    /// The marker of a CID's first reveal in a round (a seed address, see [`cid_marker_address`]).
    pub fn cid_marker(program: &Address, round: &Address, cid: &crate::Cid) -> Address {
        Address::from(cid_marker_address::<crate::hash::Sha256>(
            &program.to_bytes(),
            &round.to_bytes(),
            cid,
        ))
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
