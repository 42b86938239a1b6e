//! Standard Webhooks signing (being written).
