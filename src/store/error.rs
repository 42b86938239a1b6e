//! The store's error type: what went wrong, where, and the error that caused it (kept as
//! its [`source`](std::error::Error::source), and named in the message too, since the
//! daemon logs and the API show an error's message alone).

use std::path::PathBuf;

use sled::transaction::TransactionError;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the store at {path} is in use by another process (is `tidings run` running? \
         stop it to use this command while the read API is not available)"
    )]
    InUse { path: PathBuf },
    #[error("cannot open the store at {path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: sled::Error,
    },
    #[error("the store at {path} has schema version {found}, this tidings understands version {expected}")]
    SchemaMismatch {
        path: PathBuf,
        found: String,
        expected: u32,
    },
    /// A read, write, transaction or flush failed in sled.
    #[error("store I/O error: {0}")]
    Backend(#[source] sled::Error),
    /// A record could not be encoded to be written to `tree` at `key`.
    #[error("cannot encode the record for {tree} at key {key}: {source}")]
    Encode {
        tree: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// A stored record does not decode.
    #[error("corrupt record in {tree} at key {key}: {source}")]
    Decode {
        tree: &'static str,
        key: String,
        #[source]
        source: serde_json::Error,
    },
    /// An index leads to a record that is not there.
    #[error("corrupt record in {tree} at key {key}: an index points to a record that is missing")]
    Missing { tree: &'static str, key: String },
    /// An import into a store that already holds records, without `force`.
    #[error("the store at {path} already holds records: import into an empty data directory (or pass --force to merge into it)")]
    NotEmpty { path: PathBuf },
    /// A line of an export that cannot be imported.
    #[error("import, line {line}: {message}")]
    Import { line: u64, message: String },
    /// Reading or writing a file or stream (`what` says which).
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    /// The PostgreSQL backend failed.
    #[error(transparent)]
    Postgres(#[from] super::postgres::PgError),
    /// A call the backend in use does not offer.
    #[error("{what} is not available on the {backend} backend")]
    Unsupported {
        what: &'static str,
        backend: &'static str,
    },
    /// A blocking store call run on a task of its own (`task` names it) did not finish:
    /// it panicked or was cancelled.
    #[error("{task} task failed: {source}")]
    Task {
        task: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },
}

impl From<sled::Error> for StoreError {
    fn from(e: sled::Error) -> Self {
        StoreError::Backend(e)
    }
}

impl From<TransactionError<StoreError>> for StoreError {
    fn from(e: TransactionError<StoreError>) -> Self {
        match e {
            TransactionError::Abort(e) => e,
            TransactionError::Storage(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error;

    #[test]
    fn errors_keep_their_source_and_say_where() {
        let io = sled::Error::Io(std::io::Error::other("disk full"));
        let e = StoreError::from(io);
        assert_eq!(e.to_string(), "store I/O error: IO error: disk full");
        assert!(e.source().is_some_and(|s| s.is::<sled::Error>()));

        let json = serde_json::from_slice::<u32>(b"not json").unwrap_err();
        let e = StoreError::Decode {
            tree: "stories",
            key: "42".into(),
            source: json,
        };
        assert!(
            e.to_string()
                .starts_with("corrupt record in stories at key 42: expected"),
            "{e}"
        );
        assert!(e.source().is_some_and(|s| s.is::<serde_json::Error>()));

        let aborted: TransactionError<StoreError> = TransactionError::Abort(StoreError::Missing {
            tree: "stories",
            key: "7".into(),
        });
        assert!(matches!(
            StoreError::from(aborted),
            StoreError::Missing { key, .. } if key == "7"
        ));
    }
}
