//! Transactions for a wallet to sign: the interface's instructions in a legacy message paid by
//! the wallet, serialized with empty signature slots, which is what Wallet Standard's
//! `solana:signTransaction` takes.

use solana_address::Address;
use solana_hash::Hash;
use solana_instruction::Instruction;
use solana_message::Message;

/// Bytes of one Ed25519 signature.
const SIGNATURE_LEN: usize = 64;

/// The unsigned transaction: a compact-u16 signature count, zeroed signature slots, then the
/// message. Every transaction here has fewer than 128 signers, so the count is one byte.
pub fn unsigned_transaction(
    instructions: &[Instruction],
    payer: &Address,
    blockhash: &Hash,
) -> Vec<u8> {
    let message = Message::new_with_blockhash(instructions, Some(payer), blockhash);
    let signers = message.header.num_required_signatures;
    assert!(signers < 0x80, "a compact-u16 of one byte");
    let mut bytes = vec![signers];
    bytes.resize(1 + usize::from(signers) * SIGNATURE_LEN, 0);
    bytes.extend(message.serialize());
    bytes
}

/// The message part of a transaction's bytes (what each signer signs), or `None` if malformed.
pub fn message_of(transaction: &[u8]) -> Option<&[u8]> {
    let signers = usize::from(*transaction.first()?);
    (signers < 0x80)
        .then(|| transaction.get(1 + signers * SIGNATURE_LEN..))
        .flatten()
}

/// The first signature of signed transaction bytes: the transaction's id.
pub fn first_signature(transaction: &[u8]) -> Option<[u8; SIGNATURE_LEN]> {
    transaction.get(1..1 + SIGNATURE_LEN)?.try_into().ok()
}
