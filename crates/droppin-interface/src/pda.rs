//! Seeds of every program-derived address.
//!
//! Each kind of account has its own prefix, and per-round accounts include the round's address,
//! so no address can stand for two things (PDA sharing). Accounts a round creates for each
//! participant (node states, seats, CID markers) sit at `create_with_seed` addresses based on
//! the round, each kind with its own seed prefix: cheap to check on-chain, creatable only by the
//! program signing for the round.

use codama_macros::CodamaPda;

/// `["config"]`
pub const CONFIG_SEED: &[u8] = b"config";
/// `["treasury"]`
pub const TREASURY_SEED: &[u8] = b"treasury";
/// `["round", id as u64 LE]`
pub const ROUND_SEED: &[u8] = b"round";
/// `["vault", round]`
pub const VAULT_SEED: &[u8] = b"vault";
/// `["registry"]`
pub const REGISTRY_SEED: &[u8] = b"registry";
/// `["bond", validator]`
pub const BOND_SEED: &[u8] = b"bond";
/// `["verdict", round, level]`
pub const VERDICT_SEED: &[u8] = b"verdict";
/// `["contribution", round, payer]`
pub const CONTRIBUTION_SEED: &[u8] = b"contribution";
/// `["reputation", node]`
pub const REPUTATION_SEED: &[u8] = b"reputation";
/// `["token-vault", round]`: a token round's $dPIN escrow.
pub const TOKEN_VAULT_SEED: &[u8] = b"token-vault";
/// `["bond-token", validator]`: a $dPIN bond's token account.
pub const BOND_TOKEN_SEED: &[u8] = b"bond-token";
/// `["treasury-token"]`: the treasury's $dPIN account.
pub const TREASURY_TOKEN_SEED: &[u8] = b"treasury-token";

/// Length of a round-scoped seed: the longest seed the system program takes.
pub const SEED_LEN: usize = 32;

/// The $dPIN escrow of a token round, an SPL token account at a PDA of this program (the program's
/// own accounts declare their seeds on their layouts).
#[derive(CodamaPda)]
#[codama(seed(type = string(utf8), value = "token-vault"))]
#[codama(seed(name = "round", type = public_key))]
pub struct TokenVault;

/// A $dPIN bond's token account.
#[derive(CodamaPda)]
#[codama(seed(type = string(utf8), value = "bond-token"))]
#[codama(seed(name = "validator", type = public_key))]
pub struct BondToken;

/// The treasury's $dPIN account.
#[derive(CodamaPda)]
#[codama(seed(type = string(utf8), value = "treasury-token"))]
pub struct TreasuryToken;

const HEX: &[u8; 16] = b"0123456789abcdef";

/// `prefix` then the lowercase hex of the first bytes of `bytes`, up to [`SEED_LEN`] characters.
fn hex_seed(prefix: &[u8], bytes: &[u8; 32]) -> [u8; SEED_LEN] {
    let mut seed = [0u8; SEED_LEN];
    seed[..prefix.len()].copy_from_slice(prefix);
    for (i, slot) in seed[prefix.len()..].iter_mut().enumerate() {
        let byte = bytes[i / 2];
        *slot = HEX[usize::from(if i % 2 == 0 { byte >> 4 } else { byte & 0x0f })];
    }
    seed
}

/// The seed of a CID's marker: the first 16 bytes of its digest in lowercase hex. 128 bits keep
/// a second preimage (someone squatting on another node's CID) out of reach.
pub fn cid_marker_seed(cid: &crate::Cid) -> [u8; SEED_LEN] {
    hex_seed(b"", cid.digest())
}

/// The seed of a node's state in a round: `n` then the first 15.5 bytes of its key in hex
/// (124 bits: nobody can find another key with the same seed). The letter keeps node, seat and
/// CID-marker seeds apart.
pub fn node_seed(node: &crate::Pubkey) -> [u8; SEED_LEN] {
    hex_seed(b"n", node)
}

/// The seed of a validator's seat in committee `level` of a round: `s`, the level's digit, then
/// the first 15 bytes of its key in hex (120 bits).
pub fn seat_seed(validator: &crate::Pubkey, level: u8) -> [u8; SEED_LEN] {
    hex_seed(&[b's', b'0' + level.min(9)], validator)
}

/// The address of a round-scoped account: the system program's `create_with_seed` address with
/// the round as base, `sha256(round || seed || program)`. Not a PDA on purpose: one hash, no bump
/// search, so the program can check such an address for a few hundred compute units (a node's
/// state, a validator's seat, a CID's marker), and only the round can sign for its creation.
pub fn round_scoped_address<H: crate::hash::Hasher>(
    program: &crate::Pubkey,
    round: &crate::Pubkey,
    seed: &[u8; SEED_LEN],
) -> crate::Pubkey {
    H::hashv(&[round, seed, program])
}

/// A CID marker's address (see [`round_scoped_address`]): exactly one per CID and round.
pub fn cid_marker_address<H: crate::hash::Hasher>(
    program: &crate::Pubkey,
    round: &crate::Pubkey,
    cid: &crate::Cid,
) -> crate::Pubkey {
    round_scoped_address::<H>(program, round, &cid_marker_seed(cid))
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

    fn scoped(program: &Address, round: &Address, seed: &[u8; SEED_LEN]) -> Address {
        Address::from(round_scoped_address::<crate::hash::Sha256>(
            &program.to_bytes(),
            &round.to_bytes(),
            seed,
        ))
    }

    /// A node's state in a round (a seed address, see [`round_scoped_address`]).
    pub fn node(program: &Address, round: &Address, node: &Address) -> Address {
        scoped(program, round, &node_seed(&node.to_bytes()))
    }

    /// The validator registry.
    pub fn registry(program: &Address) -> Address {
        find(&[REGISTRY_SEED], program)
    }

    /// A validator's bond.
    pub fn bond(program: &Address, validator: &Address) -> Address {
        find(&[BOND_SEED, validator.as_ref()], program)
    }

    /// A $dPIN bond's token account.
    pub fn bond_token(program: &Address, validator: &Address) -> Address {
        find(&[BOND_TOKEN_SEED, validator.as_ref()], program)
    }

    /// A validator's seat in committee `level` of a round (a seed address).
    pub fn seat(program: &Address, round: &Address, validator: &Address, level: u8) -> Address {
        scoped(program, round, &seat_seed(&validator.to_bytes(), level))
    }

    /// The leaves of the verdict judged by committee `level` of a round.
    pub fn verdict(program: &Address, round: &Address, level: u8) -> Address {
        find(&[VERDICT_SEED, round.as_ref(), &[level]], program)
    }

    /// A third party's top-up of a round's pool.
    pub fn contribution(program: &Address, round: &Address, payer: &Address) -> Address {
        find(
            &[CONTRIBUTION_SEED, round.as_ref(), payer.as_ref()],
            program,
        )
    }

    /// The ProgramData account of an upgradeable program (it names the upgrade authority).
    pub fn program_data(program: &Address) -> Address {
        find(
            &[program.as_ref()],
            &Address::new_from_array(crate::BPF_LOADER_UPGRADEABLE_ID),
        )
    }

    /// The marker of a CID's first reveal in a round (a seed address).
    pub fn cid_marker(program: &Address, round: &Address, cid: &crate::Cid) -> Address {
        scoped(program, round, &cid_marker_seed(cid))
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_of_different_kinds_never_collide() {
        let key = [0xab; 32];
        let cid = crate::Cid::from_digest(&key);
        let seeds = [
            node_seed(&key),
            seat_seed(&key, 0),
            seat_seed(&key, 1),
            cid_marker_seed(&cid),
        ];
        for (i, a) in seeds.iter().enumerate() {
            assert!(core::str::from_utf8(a).is_ok());
            for b in &seeds[i + 1..] {
                assert_ne!(a, b);
            }
        }
        // CID markers are pure hex; node and seat seeds start with a letter that is not.
        assert!(cid_marker_seed(&cid).iter().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(&node_seed(&key)[..3], b"nab");
        assert_eq!(&seat_seed(&key, 1)[..4], b"s1ab");
    }
}
