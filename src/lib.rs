//! tidings — a news-event monitor.
//!
//! Data flows one way:
//!
//! ```text
//! daemon ─► scheduler ─► poll: fetcher ─► parser ─► normalise ─► dedup ─► detect ─► merge ─► store
//!                                                                   store outbox ─► alerts ─► sinks
//! api (read API, metrics) ◄── store        CLI ─► store, or the daemon's api while it runs
//! ```
//!
//! and the modules depend on each other one way, bottom first (`tests/layering.rs`
//! fails on a cycle or on a module that reaches up):
//!
//! 1. records and diagnostics: [`model`], [`diagnostics`], [`http`], [`metrics`],
//!    [`telemetry`];
//! 2. [`config`];
//! 3. the pure stages and the fetcher: [`parser`], [`normalise`], [`dedup`], [`detect`],
//!    [`merge`], [`scheduler`], [`fetcher`], and [`eval`], [`feedlist`];
//! 4. [`store`];
//! 5. [`alerts`], [`poll`], [`views`], [`web`], [`api`];
//! 6. [`daemon`], then the binary (`main.rs`, `cli/`).
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
pub mod web;
