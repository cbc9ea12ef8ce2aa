//! Patience with a cluster or a store that stops answering for a while. A node's round and a
//! validator's service run for many minutes, and one dropped request must not cost a reveal
//! (a slashed stake) or a vote (a slashed seat). Every step of those loops reads the chain
//! before it acts, so a step tried again after a transient failure never does its work twice.

use std::time::Duration;

use backon::{BlockingRetryable, ExponentialBuilder};
use droppin_client::ChainError;
use droppin_storage::StorageError;

/// How long, and how often, to try again while the failure is transient.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Patience {
    /// The first pause; each next one doubles. Jitter adds up to as much again to each, so
    /// that many nodes cut off at once do not all come back in the same instant.
    pub first: Duration,
    /// The longest pause before jitter.
    pub longest: Duration,
    /// The pauses' sum after which the last error is returned (the tries' own time, up to a
    /// request's timeout each, comes on top).
    pub total: Duration,
}

impl Patience {
    /// A long-running command's: pauses from one second doubling to thirty (before jitter),
    /// for `total`.
    pub fn lasting(total: Duration) -> Self {
        Patience {
            first: Duration::from_secs(1),
            longest: Duration::from_secs(30),
            total,
        }
    }

    /// An update's upload `slots_left` before its deadline (the reveal's, or, once revealed,
    /// the committee's reports'): tried for half the time left (at 400 ms a slot, 15 s at
    /// least), so that the reveal itself, or another try, still comes in time.
    pub fn before_deadline(slots_left: u64) -> Self {
        let half = Duration::from_millis(slots_left.saturating_mul(200));
        Patience {
            first: Duration::from_millis(500),
            longest: Duration::from_secs(30),
            total: half.max(Duration::from_secs(15)),
        }
    }

    /// Runs `op` until it succeeds, fails for good, or this patience runs out (then its last
    /// error is returned). `on_retry` hears each transient error and the pause before the next
    /// try.
    pub fn retry<T>(
        &self,
        op: impl FnMut() -> anyhow::Result<T>,
        on_retry: impl FnMut(&anyhow::Error, Duration),
    ) -> anyhow::Result<T> {
        let backoff = ExponentialBuilder::new()
            .with_min_delay(self.first)
            .with_max_delay(self.longest)
            .with_jitter()
            .without_max_times()
            .with_total_delay(Some(self.total));
        op.retry(backoff).when(transient).notify(on_retry).call()
    }
}

/// Whether a later try may cure `error`: somewhere in its chain the cluster or the store did not
/// answer, or a transaction did not land.
pub fn transient(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<ChainError>()
            .is_some_and(ChainError::is_transient)
            || cause
                .downcast_ref::<StorageError>()
                .is_some_and(StorageError::is_transient)
    })
}

#[cfg(test)]
mod tests {
    use anyhow::Context;
    use droppin_interface::DropPinError;

    use super::*;

    const QUICK: Patience = Patience {
        first: Duration::from_millis(1),
        longest: Duration::from_millis(4),
        total: Duration::from_millis(60),
    };

    fn unreachable() -> anyhow::Error {
        anyhow::Error::from(ChainError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "connection refused".into(),
        })
        .context("reading the round")
    }

    #[test]
    fn only_failures_a_later_try_may_cure_are_transient() {
        assert!(transient(&unreachable()));
        let expired = ChainError::Expired {
            signature: "5x".into(),
        };
        assert!(transient(&anyhow::Error::from(expired)));
        let early = ChainError::NotAccepted("Blockhash not found".into());
        assert!(transient(&anyhow::Error::from(early)));
        let storage = StorageError::Unreachable {
            url: "http://127.0.0.1:9".into(),
            reason: "502".into(),
        };
        assert!(transient(
            &Err::<(), _>(storage).context("uploading").unwrap_err()
        ));
        let refused = ChainError::Program {
            instruction: "RevealUpdate".into(),
            error: DropPinError::RoundNotOpen,
        };
        assert!(!transient(&anyhow::Error::from(refused)));
        assert!(!transient(&anyhow::Error::from(StorageError::NotFound(
            "bafk".into()
        ))));
        assert!(!transient(&anyhow::anyhow!(
            "the saved commitment vanished"
        )));
    }

    #[test]
    fn a_cluster_that_comes_back_is_waited_for() {
        let mut tries = 0;
        let mut heard = Vec::new();
        let slot = QUICK
            .retry(
                || {
                    tries += 1;
                    if tries < 4 {
                        Err(unreachable())
                    } else {
                        Ok(42)
                    }
                },
                |error, pause| heard.push((error.to_string(), pause)),
            )
            .unwrap();
        assert_eq!((slot, tries), (42, 4));
        assert_eq!(heard.len(), 3);
        assert!(heard.iter().all(|(what, _)| what == "reading the round"));
        // Each pause at least doubles the last one's base, up to the longest (jitter adds at
        // most as much again).
        let pauses: Vec<Duration> = heard.iter().map(|(_, pause)| *pause).collect();
        assert!(pauses[0] >= QUICK.first && pauses[0] <= 2 * QUICK.first);
        assert!(pauses.iter().all(|p| *p <= 2 * QUICK.longest));
    }

    #[test]
    fn a_refusal_is_returned_at_once_and_an_outage_once_patience_runs_out() {
        let mut tries = 0;
        let refused = QUICK
            .retry(
                || -> anyhow::Result<()> {
                    tries += 1;
                    Err(ChainError::Program {
                        instruction: "CommitUpdate".into(),
                        error: DropPinError::RoundNotOpen,
                    }
                    .into())
                },
                |_, _| {},
            )
            .unwrap_err();
        assert_eq!(tries, 1);
        assert!(!transient(&refused));
        let mut tries = 0;
        let mut paused = Duration::ZERO;
        let outage = QUICK
            .retry(
                || -> anyhow::Result<()> {
                    tries += 1;
                    Err(unreachable())
                },
                |_, pause| paused += pause,
            )
            .unwrap_err();
        assert!(transient(&outage), "the last error comes back: {outage:#}");
        assert!(tries > 2, "{tries} tries");
        assert!(paused <= QUICK.total, "{paused:?}");
    }
}
