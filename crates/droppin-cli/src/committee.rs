//! A validator's seat: whether it was drawn, its availability report, and its sealed vote from
//! commitment to reveal.

use droppin_client::{Chain, ChainError, Protocol};
use droppin_interface::{
    availability::Availability,
    hash::Sha256,
    instruction::VerdictVote,
    sortition::vote_commitment,
    state::{Round, ValidatorBond},
};
use solana_address::Address;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// Whether `validator` (with `bond`) was drawn for committee `level` of `round`, by the rule
/// the program checks when it takes its seat.
pub fn drawn(round: &Round, validator: &Address, bond: &ValidatorBond, level: u8) -> bool {
    droppin_interface::sortition::drawn::<Sha256>(round, &validator.to_bytes(), bond, level)
}

/// A sealed vote: what was committed and the salt that opens it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SealedVote {
    /// The vote.
    pub vote: VerdictVote,
    /// Its salt.
    pub salt: [u8; 32],
}

impl SealedVote {
    /// The commitment that goes on-chain for `validator` in committee `level`.
    pub fn commitment(&self, round: &Address, validator: &Address, level: u8) -> [u8; 32] {
        vote_commitment::<Sha256>(
            &round.to_bytes(),
            &validator.to_bytes(),
            level,
            &self.vote.digest::<Sha256>(),
            &self.salt,
        )
    }
}

/// Takes the validator's seat unless it holds it already.
fn take_seat<C: Chain>(
    protocol: &mut Protocol<C>,
    validator: &Keypair,
    round: &Address,
    level: u8,
) -> Result<(), ChainError> {
    if protocol.seat(round, &validator.pubkey(), level)?.is_none() {
        protocol.claim_seat(validator, round, level)?;
    }
    Ok(())
}

/// Takes the seat (if not taken) and reports which of the round's updates the validator
/// fetched, before the committee's availability deadline.
pub fn sit_and_report<C: Chain>(
    protocol: &mut Protocol<C>,
    validator: &Keypair,
    round: &Address,
    level: u8,
    fetched: &Availability,
) -> Result<(), ChainError> {
    take_seat(protocol, validator, round, level)?;
    let nodes = protocol.round(round)?.counts.nodes_joined;
    protocol.report_availability(validator, round, level, fetched, nodes)?;
    Ok(())
}

/// Takes the seat (if not taken) and commits the sealed vote.
pub fn sit_and_seal<C: Chain>(
    protocol: &mut Protocol<C>,
    validator: &Keypair,
    round: &Address,
    level: u8,
    sealed: &SealedVote,
) -> Result<(), ChainError> {
    take_seat(protocol, validator, round, level)?;
    let commitment = sealed.commitment(round, &validator.pubkey(), level);
    protocol.commit_vote(validator, round, level, commitment)?;
    Ok(())
}

/// Reveals a sealed vote.
pub fn reveal<C: Chain>(
    protocol: &mut Protocol<C>,
    validator: &Keypair,
    round: &Address,
    level: u8,
    sealed: &SealedVote,
) -> Result<(), ChainError> {
    protocol.reveal_vote(validator, round, level, sealed.vote, sealed.salt)?;
    Ok(())
}
