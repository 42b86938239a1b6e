//! Alerts: announcing events to the sinks a user configured.
//!
//! - [`payload`]: each sink kind's message shape (generic webhook JSON, Slack, Discord,
//!   ntfy), with text escaped for it.
//! - [`sign`]: Standard Webhooks signatures for generic webhooks.

pub mod payload;
pub mod sign;

use serde::{Deserialize, Serialize};

/// The kinds of sink tidings can deliver to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SinkKind {
    /// Generic JSON, signed per the Standard Webhooks spec.
    Webhook,
    /// A Slack incoming webhook.
    Slack,
    /// A Discord channel webhook.
    Discord,
    /// An ntfy server (JSON publishing to the server's root URL).
    Ntfy,
}

impl SinkKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            SinkKind::Webhook => "webhook",
            SinkKind::Slack => "slack",
            SinkKind::Discord => "discord",
            SinkKind::Ntfy => "ntfy",
        }
    }
}
