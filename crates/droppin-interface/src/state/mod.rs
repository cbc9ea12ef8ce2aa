//! Account layouts.
//!
//! Every program account starts with a two-byte header, `[account type, layout version]`,
//! followed by the borsh encoding of its body. The type byte stops one account from being
//! passed off as another (type cosplay); the version byte lets a layout grow without a rewrite.
//! Every body has a fixed size (fixed arrays, no vectors) so account sizes are known up front;
//! the one exception, the verdict leaves, has a fixed body followed by a region sized when the
//! account is created (see [`verdict`]).

use borsh::{BorshDeserialize, BorshSerialize};
use codama_macros::CodamaType;

use crate::DropPinError;

pub(crate) mod config;
mod node;
mod round;
mod validator;
pub mod verdict;

pub use config::{
    CommitteeParams, MAX_BPS_STEP, MAX_COMMITTEE_CAP, MAX_NODES_CAP, PendingConfig, PendingSwap,
    ProtocolConfig, ProtocolParams, ReputationParams, SLOTS_PER_HOUR, SwapParams, SwapTotals,
    SwapWindow, TokenLaunch, Treasury,
};
pub use node::{
    CidMarker, LAMPORTS_PER_POINT, MAX_MULTIPLIER_BPS, NEUTRAL_MULTIPLIER_BPS,
    NEW_IDENTITY_MULTIPLIER_BPS, NodeState, NodeStatus, REPUTATION_POINTS_CAP, Reputation,
};
pub use round::{
    Appeal, AppealResolution, CommitteeDraw, Contribution, Currency, Deadlines, FailReason,
    MAX_TALLIES, Round, RoundCounts, RoundOutcome, RoundStatus, RoundTerms, SeedAnchor, Vault,
    VoteTally,
};
pub use validator::{Registry, Seat, SeatStatus, ValidatorBond, dpin_covering, dpin_worth};
pub use verdict::VerdictLeaves;

/// Length of the `[type, version]` header.
pub const HEADER_LEN: usize = 2;

/// The kind of a program account, stored in its first byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq, BorshSerialize, BorshDeserialize, CodamaType)]
#[borsh(use_discriminant = true)]
#[repr(u8)]
pub enum AccountType {
    /// Zeroed data: never a valid account.
    Uninitialized = 0,
    /// [`ProtocolConfig`].
    Config = 1,
    /// [`Treasury`].
    Treasury = 2,
    /// [`Round`].
    Round = 3,
    /// [`Vault`].
    Vault = 4,
    /// [`NodeState`].
    Node = 5,
    /// [`Seat`].
    Seat = 6,
    /// [`CidMarker`].
    CidMarker = 7,
    /// [`Reputation`].
    Reputation = 8,
    /// [`Registry`].
    Registry = 9,
    /// [`ValidatorBond`].
    Bond = 10,
    /// [`VerdictLeaves`].
    Verdict = 11,
    /// [`Contribution`].
    Contribution = 12,
}

/// A program account body with its type, layout version and encoded size.
pub trait AccountState: BorshSerialize + BorshDeserialize {
    /// The type byte.
    const TYPE: AccountType;
    /// The current layout version.
    const VERSION: u8 = 1;
    /// Size of the body's borsh encoding (every body is fixed-size).
    const BODY_LEN: usize;
    /// Size of the whole account: header plus body.
    const LEN: usize = HEADER_LEN + Self::BODY_LEN;
    /// Whether the account carries a region of its own after the body (sized at creation).
    const TRAILING: bool = false;
    /// Size the account is created with, when its trailing region has a fixed size.
    const SPACE: usize = Self::LEN;

    /// Decodes an account's data, checking its type and version first.
    fn load(data: &[u8]) -> Result<Self, DropPinError> {
        match data {
            [t, _, ..] if *t != Self::TYPE as u8 => Err(DropPinError::InvalidAccountType),
            [_, v, ..] if *v != Self::VERSION => Err(DropPinError::UnsupportedAccountVersion),
            [_, _, body @ ..]
                if body.len() == Self::BODY_LEN
                    || (Self::TRAILING && body.len() > Self::BODY_LEN) =>
            {
                Self::try_from_slice(&body[..Self::BODY_LEN])
                    .map_err(|_| DropPinError::InvalidAccountType)
            }
            _ => Err(DropPinError::InvalidAccountType),
        }
    }

    /// Encodes the account into its data, header included (the trailing region is left alone).
    fn store(&self, data: &mut [u8]) -> Result<(), DropPinError> {
        let fits = data.len() == Self::LEN || (Self::TRAILING && data.len() > Self::LEN);
        if !fits {
            return Err(DropPinError::InvalidAccountType);
        }
        let (header, rest) = data.split_at_mut(HEADER_LEN);
        header.copy_from_slice(&[Self::TYPE as u8, Self::VERSION]);
        let mut body = &mut rest[..Self::BODY_LEN];
        self.serialize(&mut body)
            .map_err(|_| DropPinError::InvalidAccountType)
    }
}

#[cfg(all(test, feature = "std"))]
mod tests {
    use super::*;

    pub(crate) fn round_trips<T: AccountState + Default + PartialEq + core::fmt::Debug>() {
        let value = T::default();
        assert_eq!(borsh::to_vec(&value).unwrap().len(), T::BODY_LEN);
        let mut data = std::vec![0u8; T::LEN];
        value.store(&mut data).unwrap();
        assert_eq!(T::load(&data).unwrap(), value);
    }

    #[test]
    fn layouts_have_their_declared_sizes() {
        round_trips::<Treasury>();
        round_trips::<Round>();
        round_trips::<Vault>();
        round_trips::<NodeState>();
        round_trips::<CidMarker>();
        round_trips::<Seat>();
        round_trips::<Reputation>();
        round_trips::<Registry>();
        round_trips::<ValidatorBond>();
        round_trips::<Contribution>();
        round_trips::<VerdictLeaves>();
        round_trips::<ProtocolConfig>();
    }

    #[test]
    fn load_rejects_other_types_versions_and_sizes() {
        let mut data = std::vec![0u8; NodeState::LEN];
        NodeState::default().store(&mut data).unwrap();
        assert_eq!(Round::load(&data), Err(DropPinError::InvalidAccountType));
        data[1] = 9;
        assert_eq!(
            NodeState::load(&data),
            Err(DropPinError::UnsupportedAccountVersion)
        );
        data[1] = 1;
        assert_eq!(
            NodeState::load(&data[..10]),
            Err(DropPinError::InvalidAccountType)
        );
        let mut longer = data.clone();
        longer.push(0);
        assert_eq!(
            NodeState::load(&longer),
            Err(DropPinError::InvalidAccountType),
            "only accounts with a trailing region may be longer than their layout"
        );
        assert_eq!(
            NodeState::load(&[0; NodeState::LEN]),
            Err(DropPinError::InvalidAccountType)
        );
    }
}
