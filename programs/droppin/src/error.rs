//! Errors the program returns: the interface's [`DropPinError`] as `ProgramError::Custom`.

pub use droppin_interface::DropPinError;
use pinocchio::error::ProgramError;

/// Shorthand for a processor's result.
pub type Result<T = ()> = core::result::Result<T, ProgramError>;

/// Converts a coordinator or check failure into the program error the runtime reports.
pub fn fail(error: DropPinError) -> ProgramError {
    error.into()
}
