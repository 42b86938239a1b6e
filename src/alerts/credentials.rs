//! The secrets the sinks need, read when they are needed: when the daemon starts or
//! reloads, and when `alerts test` sends. The config only names them
//! ([`crate::config::SecretRef`]), so commands that read the store never need them.

use std::collections::HashMap;

use crate::alerts::sign::WebhookSecret;
use crate::config::{Secret, SecretError, SinkConfig};

/// One sink's resolved secrets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SinkCredentials {
    /// The Standard Webhooks signing key of a webhook sink.
    pub secret: Option<WebhookSecret>,
    /// The bearer token of an ntfy server that requires one.
    pub token: Option<Secret>,
}

/// The resolved secrets of every configured sink, by sink id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Credentials(HashMap<String, SinkCredentials>);

/// Every secret that could not be resolved, one per line.
#[derive(Debug, thiserror::Error)]
#[error("{}", .0.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
pub struct CredentialErrors(pub Vec<SecretError>);

impl Credentials {
    /// Reads every sink's secrets now; fails with all the problems found, not the first.
    pub fn resolve(sinks: &[SinkConfig]) -> Result<Credentials, CredentialErrors> {
        let mut found = HashMap::with_capacity(sinks.len());
        let mut errors = Vec::new();
        for sink in sinks {
            match resolve_sink(sink) {
                Ok(c) => {
                    found.insert(sink.id.clone(), c);
                }
                Err(mut e) => errors.append(&mut e),
            }
        }
        if errors.is_empty() {
            Ok(Credentials(found))
        } else {
            Err(CredentialErrors(errors))
        }
    }

    /// The secrets of sink `id`, if it was configured when they were resolved.
    pub fn get(&self, id: &str) -> Option<&SinkCredentials> {
        self.0.get(id)
    }
}

/// One sink's secrets, or every problem with them.
pub fn resolve_sink(sink: &SinkConfig) -> Result<SinkCredentials, Vec<SecretError>> {
    let mut errors = Vec::new();
    let secret = match &sink.secret {
        Some(r) => match r.resolve() {
            Ok(s) => match s.expose().parse::<WebhookSecret>() {
                Ok(w) => Some(w),
                Err(e) => {
                    errors.push(SecretError {
                        named_at: r.named_at.clone(),
                        problem: format!("bad signing secret in {}: {e}", r.describe()),
                    });
                    None
                }
            },
            Err(e) => {
                errors.push(e);
                None
            }
        },
        None => None,
    };
    let token = match sink.token.as_ref().map(|r| r.resolve()).transpose() {
        Ok(t) => t,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if errors.is_empty() {
        Ok(SinkCredentials { secret, token })
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const KEY: &str = "whsec_dGlkaW5ncy10ZXN0LXNpZ25pbmcta2V5LTMyYnl0ZXM=";

    #[test]
    fn every_problem_is_reported_with_where_the_config_names_it() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("good.secret"), format!("{KEY}\n")).unwrap();
        std::fs::write(dir.path().join("bad.secret"), "whsec_!!!\n").unwrap();
        let origin = dir.path().join("t.toml");
        let c = Config::parse(
            "[[sinks]]\nid = \"good\"\nkind = \"webhook\"\nurl = \"https://h/\"\nsecret_file = \"good.secret\"\n\n\
             [[sinks]]\nid = \"bad\"\nkind = \"webhook\"\nurl = \"https://h/\"\nsecret_file = \"bad.secret\"\n\n\
             [[sinks]]\nid = \"phone\"\nkind = \"ntfy\"\nurl = \"https://h/\"\ntoken_env = \"TIDINGS_TEST_UNSET_NTFY_TOKEN\"\n",
            &origin.display().to_string(),
        )
        .unwrap();
        let good = resolve_sink(c.sink("good").unwrap()).unwrap();
        assert!(good.secret.is_some() && good.token.is_none());
        let e = Credentials::resolve(&c.sinks).unwrap_err();
        assert_eq!(e.0.len(), 2, "{e}");
        let text = e.to_string();
        assert!(
            text.contains(":11:15: sink \"bad\": bad signing secret in file")
                && text.contains("not valid base64"),
            "{text}"
        );
        assert!(
            text.contains(":17:13: sink \"phone\": environment variable TIDINGS_TEST_UNSET_NTFY_TOKEN is not set"),
            "{text}"
        );
        assert!(
            !text.contains("whsec_!!!"),
            "the secret never appears: {text}"
        );
    }
}
