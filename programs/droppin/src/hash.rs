//! sha256 through the runtime's `sol_sha256` syscall.

use droppin_interface::hash::Hasher;

/// The runtime's sha256: far cheaper in compute units than hashing in program code.
pub struct SyscallSha256;

impl Hasher for SyscallSha256 {
    fn hashv(parts: &[&[u8]]) -> [u8; 32] {
        let mut out = [0u8; 32];
        // SAFETY: the syscall reads `parts.len()` (pointer, length) pairs, which is the layout of
        // a `&[&[u8]]`, and writes 32 bytes to `out`.
        unsafe {
            pinocchio::syscalls::sol_sha256(
                parts.as_ptr() as *const u8,
                parts.len() as u64,
                out.as_mut_ptr(),
            );
        }
        out
    }
}
