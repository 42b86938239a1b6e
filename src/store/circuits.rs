//! The sinks' circuit breakers as the delivery worker last saved them: what
//! `tidings alerts` shows (the store directly, or the daemon's `/api/v1/sinks`), and what a
//! restarted worker resumes from.
//!
//! | tree            | key  | value                      |
//! |-----------------|------|----------------------------|
//! | `sink_circuits` | sink | [`SinkCircuit`] as JSON    |
//!
//! A sink with no entry has never failed: closed. Each write is one state change, so the
//! tree is written a few times per outage, never per alert.

use super::codec::write_json;
use super::{SledStore, StoreError};
use crate::model::SinkCircuit;

const TREE: &str = "sink_circuits";

impl SledStore {
    /// Saves one sink's breaker after a state change.
    pub fn save_sink_circuit(&self, circuit: &SinkCircuit) -> Result<(), StoreError> {
        let value = write_json(circuit, TREE, || circuit.sink.clone())?;
        self.sink_circuits.insert(circuit.sink.as_bytes(), value)?;
        Ok(())
    }

    /// Every saved breaker, by sink id.
    pub fn sink_circuits(&self) -> Result<Vec<SinkCircuit>, StoreError> {
        let mut out = Vec::new();
        for entry in self.sink_circuits.iter() {
            let (key, value) = entry?;
            let circuit = serde_json::from_slice(&value).map_err(|source| StoreError::Decode {
                tree: TREE,
                key: String::from_utf8_lossy(&key).into_owned(),
                source,
            })?;
            out.push(circuit);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CircuitState;
    use crate::store::test_support::reopen;

    /// Saving and replacing per sink is in the shared suite
    /// (`tests/store_backends.rs`); here, what is sled's own: it survives a reopen.
    #[test]
    fn a_saved_circuit_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let store = SledStore::open(dir.path()).unwrap();
        assert!(store.sink_circuits().unwrap().is_empty());
        let now: chrono::DateTime<chrono::Utc> = "2026-12-07T12:00:00Z".parse().unwrap();
        let open = SinkCircuit {
            sink: "hook".into(),
            state: CircuitState::Open,
            failures: 1,
            since: now,
            next_probe: Some(now + chrono::Duration::seconds(1)),
            changes: 1,
            last_error: Some("HTTP 503".into()),
        };
        store.save_sink_circuit(&open).unwrap();
        drop(store);
        let store = reopen(dir.path()).unwrap();
        assert_eq!(store.sink_circuits().unwrap(), vec![open]);
    }
}
