//! What a failed transaction's runtime logs say about who failed: the CLI and the browser read
//! them alike, so that a code is taken for the dropPIN program's error only when it is.

/// The log line of a program other than `program` (base-58) that failed: the token program
/// inside a $dPIN transfer, say. A custom code is then that program's, not dropPIN's.
pub fn failed_elsewhere<'a, S: AsRef<str>>(logs: &'a [S], program: &str) -> Option<&'a str> {
    logs.iter().map(AsRef::as_ref).find(|line| {
        line.strip_prefix("Program ").is_some_and(|rest| {
            let ours = rest
                .strip_prefix(program)
                .is_some_and(|after| after.starts_with(' '));
            rest.contains(" failed") && !ours
        })
    })
}

/// Whether the token program refused a transfer for want of tokens.
pub fn tokens_short<S: AsRef<str>>(logs: &[S]) -> bool {
    logs.iter()
        .any(|line| line.as_ref().contains("Error: insufficient funds"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_other_program_to_fail_is_named() {
        let ours = "DropPin1111111111111111111111111111111111111";
        let token =
            "Program TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA failed: custom program error: 0x1";
        let logs = [
            "Program log: Error: insufficient funds",
            token,
            "Program DropPin1111111111111111111111111111111111111 failed: custom program error: 0x1",
        ];
        assert_eq!(failed_elsewhere(&logs, ours), Some(token));
        assert!(tokens_short(&logs));
        assert_eq!(failed_elsewhere(&logs[2..], ours), None);
        assert!(!tokens_short(&logs[1..]));
    }
}
