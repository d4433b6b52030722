//! Per-connector client overrides (`producer.override.*`, `consumer.override.*`, `admin.override.*`) and
//! the worker's `connector.client.config.override.policy` that governs them (KIP-458).
use std::collections::HashMap;

use causeway_api::Props;
use causeway_api::config::ConfigValue;

/// Prefix of producer overrides in a connector config.
pub const PRODUCER_OVERRIDES_PREFIX: &str = "producer.override.";
/// Prefix of consumer overrides in a connector config.
pub const CONSUMER_OVERRIDES_PREFIX: &str = "consumer.override.";
/// Prefix of admin overrides in a connector config.
pub const ADMIN_OVERRIDES_PREFIX: &str = "admin.override.";

/// Which client overrides a connector config may carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OverridePolicy {
    /// Any client setting (Apache 4.x's default).
    #[default]
    All,
    /// None at all.
    None,
    /// Only who the client is: `sasl.jaas.config`, `sasl.mechanism`, `security.protocol`.
    Principal,
}

impl OverridePolicy {
    /// Parses a policy alias or class name (`All`, `org.apache.kafka.connect.connector.policy.AllConnectorClientConfigOverridePolicy` …).
    pub fn parse(value: &str) -> Option<OverridePolicy> {
        let simple = value.trim().rsplit('.').next().unwrap_or("");
        let alias = simple
            .strip_suffix("ConnectorClientConfigOverridePolicy")
            .unwrap_or(simple);
        match alias {
            "All" => Some(OverridePolicy::All),
            "None" => Some(OverridePolicy::None),
            "Principal" => Some(OverridePolicy::Principal),
            _ => None,
        }
    }

    /// The name Apache's policy reports in its error messages.
    pub fn name(self) -> &'static str {
        match self {
            OverridePolicy::All => "All",
            OverridePolicy::None => "None",
            OverridePolicy::Principal => "Principal",
        }
    }

    fn allows(self, key: &str) -> bool {
        match self {
            OverridePolicy::All => true,
            OverridePolicy::None => false,
            OverridePolicy::Principal => {
                matches!(
                    key,
                    "sasl.jaas.config" | "sasl.mechanism" | "security.protocol"
                )
            }
        }
    }

    /// Validates the overrides under `prefix` (`AbstractHerder.validateClientOverrides`): one value per
    /// override, named with its prefix, with Apache's error when the policy forbids it.
    pub fn validate(self, props: &Props, prefix: &str) -> Vec<ConfigValue> {
        props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(prefix).map(|key| (k, key, v)))
            .map(|(full, key, v)| {
                let mut cv = ConfigValue::new(full, Some(v.clone()));
                if !self.allows(key) {
                    cv.add_error(format!(
                        "The '{}' policy does not allow '{key}' to be overridden in the connector configuration.",
                        self.name()
                    ));
                }
                cv
            })
            .collect()
    }
}

/// The overrides under `prefix`, prefix removed, for the client a task creates.
pub fn client_overrides(props: &Props, prefix: &str) -> HashMap<String, String> {
    props
        .iter()
        .filter_map(|(k, v)| {
            k.strip_prefix(prefix)
                .map(|key| (key.to_owned(), v.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_aliases_and_class_names() {
        assert_eq!(OverridePolicy::parse("All"), Some(OverridePolicy::All));
        assert_eq!(
            OverridePolicy::parse(
                "org.apache.kafka.connect.connector.policy.PrincipalConnectorClientConfigOverridePolicy"
            ),
            Some(OverridePolicy::Principal)
        );
        assert_eq!(OverridePolicy::parse("Nope"), None);
    }

    #[test]
    fn principal_allows_only_identity_keys() {
        let props: Props = [
            ("producer.override.sasl.jaas.config", "x"),
            ("producer.override.acks", "1"),
            ("name", "c"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let values = OverridePolicy::Principal.validate(&props, PRODUCER_OVERRIDES_PREFIX);
        assert_eq!(values.len(), 2);
        let acks = values
            .iter()
            .find(|v| v.name == "producer.override.acks")
            .unwrap();
        assert_eq!(
            acks.errors,
            vec![
                "The 'Principal' policy does not allow 'acks' to be overridden in the connector configuration."
            ]
        );
        let jaas = values
            .iter()
            .find(|v| v.name == "producer.override.sasl.jaas.config")
            .unwrap();
        assert!(jaas.errors.is_empty());
        assert!(
            OverridePolicy::All
                .validate(&props, PRODUCER_OVERRIDES_PREFIX)
                .iter()
                .all(|v| v.errors.is_empty())
        );
    }
}
