//! tidings — a news-event monitor.
//!
//! Data flows one way through these modules:
//!
//! ```text
//! config ─► daemon/scheduler ─► fetcher ─► parser ─► normalise ─► dedup ─► store
//!                               (poll: one feed, start to finish)
//! ```
//!
//! See `ARCHITECTURE.md` for the map and its invariants.

pub mod alerts;
pub mod api;
pub mod config;
pub mod daemon;
pub mod dedup;
pub mod detect;
pub mod diagnostics;
pub mod eval;
pub mod feedlist;
pub mod fetcher;
pub mod http;
pub mod merge;
pub mod metrics;
pub mod model;
pub mod normalise;
pub mod parser;
pub mod poll;
pub mod scheduler;
pub mod store;
pub mod telemetry;
pub mod views;
