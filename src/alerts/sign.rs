//! Standard Webhooks signing for generic webhook sinks.
//!
//! Every delivery carries three headers: `webhook-id` (the alert's stable message id, the
//! same on every attempt), `webhook-timestamp` (unix seconds of this attempt) and
//! `webhook-signature`: `v1,` followed by the base64 HMAC-SHA256 of
//! `"{id}.{timestamp}.{body}"` under the sink's secret. Receivers verify it with any
//! Standard Webhooks library and the same `whsec_…` secret.
//!
//! The secret never appears in logs, errors or debug output.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Prefix of a Standard Webhooks secret.
const PREFIX: &str = "whsec_";

/// Shortest accepted key, in bytes.
pub const MIN_KEY_BYTES: usize = 16;

/// A Standard Webhooks secret: "whsec_" followed by base64 of the key bytes (a secret
/// without the prefix is taken as base64 too). Debug and Display never show the key.
#[derive(Clone)]
pub struct WebhookSecret {
    key: Vec<u8>,
    /// HMAC-SHA256 keyed with `key`, ready to be cloned for each signature.
    mac: Hmac<Sha256>,
}

/// Why a signing secret was refused. The messages never contain the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret is empty")]
    Empty,
    #[error(
        "the secret is not valid base64 (expected \"whsec_\" followed by the base64 of the key)"
    )]
    NotBase64,
    #[error("the secret's key is {bytes} bytes long; at least {MIN_KEY_BYTES} are needed")]
    TooShort { bytes: usize },
}

impl std::str::FromStr for WebhookSecret {
    type Err = SecretError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        let encoded = s.strip_prefix(PREFIX).unwrap_or(s);
        if encoded.is_empty() {
            return Err(SecretError::Empty);
        }
        // The decoder's own error names the offending byte, which is part of the secret.
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| SecretError::NotBase64)?;
        if key.len() < MIN_KEY_BYTES {
            return Err(SecretError::TooShort { bytes: key.len() });
        }
        // HMAC takes keys of any length; the length check above is what refuses keys.
        let mac = Hmac::<Sha256>::new_from_slice(&key)
            .map_err(|_| SecretError::TooShort { bytes: key.len() })?;
        Ok(WebhookSecret { key, mac })
    }
}

impl PartialEq for WebhookSecret {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}

impl Eq for WebhookSecret {}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(…)")
    }
}

impl fmt::Display for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("whsec_…")
    }
}

/// The `webhook-signature` header value: "v1," + base64(HMAC-SHA256(key,
/// "{msg_id}.{timestamp}.{body}")).
pub fn signature(secret: &WebhookSecret, msg_id: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac = secret.mac.clone();
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The three headers in order: ("webhook-id", ..), ("webhook-timestamp", ..),
/// ("webhook-signature", ..).
pub fn headers(
    secret: &WebhookSecret,
    msg_id: &str,
    timestamp: i64,
    body: &[u8],
) -> [(&'static str, String); 3] {
    [
        ("webhook-id", msg_id.to_string()),
        ("webhook-timestamp", timestamp.to_string()),
        (
            "webhook-signature",
            signature(secret, msg_id, timestamp, body),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderName, HeaderValue};

    /// The secret of the Standard Webhooks reference test suite.
    const REFERENCE_SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
    const BODY: &[u8] = br#"{"type":"event.new","data":{"alert_id":"msg_tidings_42"}}"#;

    fn secret(s: &str) -> WebhookSecret {
        s.parse().unwrap_or_else(|e| panic!("secret {s:?}: {e}"))
    }

    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    fn header_map(pairs: [(&'static str, String); 3]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(
                HeaderName::from_static(name),
                HeaderValue::from_str(&value).expect("header value"),
            );
        }
        map
    }

    fn reference(s: &str) -> standardwebhooks::Webhook {
        standardwebhooks::Webhook::new(s).expect("reference library accepts the secret")
    }

    #[test]
    fn matches_the_reference_test_vector() {
        // From the Standard Webhooks reference implementation's own tests.
        assert_eq!(
            signature(
                &secret(REFERENCE_SECRET),
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#,
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn the_reference_library_accepts_our_headers() {
        let ts = now();
        for s in [
            REFERENCE_SECRET,
            // Without the prefix.
            "C2FVsBQIhrscChlQIMV+b5sSYspob7oD",
            // A key longer than SHA-256's block, which HMAC hashes first.
            &format!("whsec_{}", STANDARD.encode([7u8; 100])),
        ] {
            let ours = secret(s);
            let wh = reference(s);
            let headers = headers(&ours, "msg_tidings_42", ts, BODY);
            assert_eq!(headers[0], ("webhook-id", "msg_tidings_42".to_string()));
            assert_eq!(headers[1], ("webhook-timestamp", ts.to_string()));
            assert_eq!(headers[2].0, "webhook-signature");
            assert_eq!(
                headers[2].1,
                wh.sign("msg_tidings_42", ts, BODY)
                    .expect("reference signs")
            );
            wh.verify(BODY, &header_map(headers))
                .expect("reference verifies our signature");
        }
    }

    #[test]
    fn the_reference_library_rejects_a_tampered_body() {
        let headers = headers(&secret(REFERENCE_SECRET), "msg_tidings_42", now(), BODY);
        let tampered = br#"{"type":"event.new","data":{"alert_id":"msg_tidings_43"}}"#;
        assert!(reference(REFERENCE_SECRET)
            .verify(tampered, &header_map(headers))
            .is_err());
    }

    #[test]
    fn the_reference_library_rejects_another_secret() {
        let other = format!("whsec_{}", STANDARD.encode([9u8; 32]));
        let headers = headers(&secret(&other), "msg_tidings_42", now(), BODY);
        assert!(reference(REFERENCE_SECRET)
            .verify(BODY, &header_map(headers))
            .is_err());
    }

    #[test]
    fn another_message_id_or_time_changes_the_signature() {
        let s = secret(REFERENCE_SECRET);
        let base = signature(&s, "msg_tidings_1", 1_700_000_000, BODY);
        assert_ne!(base, signature(&s, "msg_tidings_2", 1_700_000_000, BODY));
        assert_ne!(base, signature(&s, "msg_tidings_1", 1_700_000_001, BODY));
    }

    #[test]
    fn the_key_is_never_shown() {
        let s = secret(REFERENCE_SECRET);
        let encoded = REFERENCE_SECRET.trim_start_matches(PREFIX);
        for shown in [format!("{s:?}"), format!("{s}"), format!("{s:#?}")] {
            assert!(!shown.contains(encoded), "{shown}");
            assert!(!shown.contains("C2FV"), "{shown}");
        }
        assert_eq!(format!("{s:?}"), "WebhookSecret(…)");
    }

    #[test]
    fn bad_secrets_are_refused_with_the_reason() {
        let parse = |s: &str| s.parse::<WebhookSecret>().map(|_| ());
        assert_eq!(parse(""), Err(SecretError::Empty));
        assert_eq!(parse("whsec_"), Err(SecretError::Empty));
        assert_eq!(parse("   "), Err(SecretError::Empty));
        assert_eq!(parse("whsec_not*base64!"), Err(SecretError::NotBase64));
        assert_eq!(
            parse(&format!("whsec_{}", STANDARD.encode([1u8; 15]))),
            Err(SecretError::TooShort { bytes: 15 })
        );
        assert!(parse(&format!("whsec_{}", STANDARD.encode([1u8; 16]))).is_ok());
    }

    #[test]
    fn errors_do_not_repeat_the_secret() {
        let bad = "whsec_hunter2-is-my-secret";
        let err = bad.parse::<WebhookSecret>().expect_err("not base64");
        let message = err.to_string();
        assert!(!message.contains("hunter2"), "{message}");
        assert!(!format!("{err:?}").contains("hunter2"));
        let short = format!("whsec_{}", STANDARD.encode(b"tiny"));
        let message = short
            .parse::<WebhookSecret>()
            .expect_err("too short")
            .to_string();
        assert!(
            !message.contains(short.trim_start_matches(PREFIX)),
            "{message}"
        );
    }

    #[test]
    fn equal_keys_make_equal_secrets() {
        assert_eq!(
            secret(REFERENCE_SECRET),
            secret("C2FVsBQIhrscChlQIMV+b5sSYspob7oD")
        );
        assert_ne!(
            secret(REFERENCE_SECRET),
            secret(&format!("whsec_{}", STANDARD.encode([9u8; 32])))
        );
    }
}
