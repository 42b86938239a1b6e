//! The log of recent writes: the dedup keys of the stories and copies committed lately,
//! numbered, so that a look made outside the writer lock is checked against them in
//! memory.

use std::collections::VecDeque;

use crate::dedup::{Fingerprint, MatchKeys};
use crate::model::Candidate;

/// The dedup keys of the stories and copies committed lately, each with the number of
/// the write that committed it (the store's write count after it), so that a look made
/// without the writer lock is checked against the writes since in memory rather than
/// made again in the store.
#[derive(Default)]
pub(in crate::store) struct CommitLog {
    entries: VecDeque<(u64, MatchKeys)>,
    /// Every write numbered above this has all its keys in `entries`.
    complete_after: u64,
}

/// How many written stories and copies the [`CommitLog`] keeps (a few hundred bytes each).
const COMMIT_LOG_LEN: usize = 4096;

impl CommitLog {
    pub(in crate::store) fn record(&mut self, write: u64, keys: MatchKeys) {
        if self.entries.len() == COMMIT_LOG_LEN {
            if let Some((oldest, _)) = self.entries.pop_front() {
                self.complete_after = self.complete_after.max(oldest);
            }
        }
        self.entries.push_back((write, keys));
    }

    /// Write number `write` removed keys (pruning): every look made before it is made
    /// again, since the story it found may be gone.
    pub(in crate::store) fn forget_through(&mut self, write: u64) {
        self.complete_after = self.complete_after.max(write);
    }

    /// Whether a write after write number `since` could change what a look at `c` made
    /// then found: one of them could match `c` ([`MatchKeys::could_match`]), or the log
    /// no longer reaches back that far. (A write that only pushes a story out of the
    /// near-duplicate index — a crowded band, the horizon — redoes no look: a match
    /// found before it is a near-duplicate within the window all the same.)
    pub(super) fn may_change(&self, since: u64, c: &Candidate, fp: &Fingerprint) -> bool {
        self.complete_after > since
            || self
                .entries
                .iter()
                .rev()
                .take_while(|(write, _)| *write > since)
                .any(|(_, keys)| keys.could_match(c, fp))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::cand;

    #[test]
    fn the_commit_log_tells_which_looks_a_later_write_could_change() {
        let at = "2023-02-22T10:00:00Z";
        let written = cand("a", "1", "https://x/1", "Written story", at);
        let same_url = cand("b", "7", "https://x/1", "Another title", at);
        let unrelated = cand("c", "9", "https://x/9", "Unrelated", at);
        let fp = |c: &Candidate| Fingerprint::of(c);
        let mut log = CommitLog::default();
        assert!(!log.may_change(0, &same_url, &fp(&same_url)));
        log.record(1, MatchKeys::of(&written, &fp(&written)));
        assert!(
            log.may_change(0, &same_url, &fp(&same_url)),
            "written after the look"
        );
        assert!(
            !log.may_change(1, &same_url, &fp(&same_url)),
            "seen by the look"
        );
        assert!(!log.may_change(0, &unrelated, &fp(&unrelated)));
        // Once the log has dropped writes a look did not see, every look is made again.
        for write in 2..(COMMIT_LOG_LEN as u64 + 2) {
            log.record(write, MatchKeys::of(&unrelated, &fp(&unrelated)));
        }
        assert!(log.may_change(0, &same_url, &fp(&same_url)));
        assert!(log.may_change(0, &written, &fp(&written)));
        assert!(!log.may_change(1, &written, &fp(&written)));
    }

    #[test]
    fn a_prune_makes_every_earlier_look_be_made_again() {
        let at = "2023-02-22T10:00:00Z";
        let c = cand("a", "1", "https://x/1", "A story", at);
        let fp = Fingerprint::of(&c);
        let mut log = CommitLog::default();
        log.record(1, MatchKeys::of(&c, &fp));
        let unrelated = cand("c", "9", "https://x/9", "Unrelated", at);
        let ufp = Fingerprint::of(&unrelated);
        assert!(!log.may_change(1, &unrelated, &ufp));
        // Write 2 removed keys: a look made before it may have found a story now gone.
        log.forget_through(2);
        assert!(log.may_change(1, &unrelated, &ufp));
        assert!(
            !log.may_change(2, &unrelated, &ufp),
            "a look made after it stands"
        );
    }
}
