//! Topic creation for source connectors (KIP-158): `topic.creation.groups` and the per-group `include`,
//! `exclude`, `replication.factor`, `partitions` and topic configs, the `default` group last.
use std::collections::HashMap;
use std::sync::Arc;

use causeway_api::config::{ConfigDef, ConfigType, Importance, ParsedValue, Width, validators};
use causeway_api::{ConnectError, Props};
use causeway_log::NewTopic;

/// Prefix of every topic creation key.
pub const TOPIC_CREATION_PREFIX: &str = "topic.creation.";
/// `topic.creation.groups`.
pub const TOPIC_CREATION_GROUPS_CONFIG: &str = "topic.creation.groups";
/// The group every connector using topic creation has.
pub const DEFAULT_GROUP: &str = "default";

const INCLUDE_DOC: &str = "A list of regular expression literals used to match the topic names used by the source connector. This list is used to include topics that should be created using the topic settings defined by this group.";
const EXCLUDE_DOC: &str = "A list of regular expression literals used to match the topic names used by the source connector. This list is used to exclude topics from being created with the topic settings defined by this group. Note that exclusion rules have precedent and override any inclusion rules for the topics.";
const REPLICATION_FACTOR_DOC: &str = "The replication factor for new topics created for this connector using this group. This value may be -1 to use the broker'sdefault replication factor, or may be a positive number not larger than the number of brokers in the Kafka cluster. A value larger than the number of brokers in the Kafka cluster will result in an error when the new topic is created. For the default group this configuration is required. For any other group defined in topic.creation.groups this config is optional and if it's missing it gets the value of the default group";
const PARTITIONS_DOC: &str = "The number of partitions new topics created for this connector. This value may be -1 to use the broker's default number of partitions, or a positive number representing the desired number of partitions. For the default group this configuration is required. For any other group defined in topic.creation.groups this config is optional and if it's missing it gets the value of the default group";

/// Whether a connector config asks for topic creation (any `topic.creation.` key).
pub fn uses_topic_creation(props: &Props) -> bool {
    props.keys().any(|k| k.starts_with(TOPIC_CREATION_PREFIX))
}

fn list(props: &Props, key: &str) -> Vec<String> {
    props
        .get(key)
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// The groups named in `topic.creation.groups`, without duplicates or `default`.
fn group_names(props: &Props) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for g in list(props, TOPIC_CREATION_GROUPS_CONFIG) {
        if g == DEFAULT_GROUP {
            tracing::warn!(
                "'default' topic creation group always exists and does not need to be listed explicitly"
            );
        } else if !names.contains(&g) {
            names.push(g);
        }
    }
    names
}

fn validate_partitions() -> Arc<dyn causeway_api::config::Validator> {
    validators::from_fn(
        "Positive number, or -1 to use the broker's default",
        |_, v| match v {
            Some(ParsedValue::Int(n)) if *n != -1 && *n < 1 => Err(
                "Number of partitions must be positive, or -1 to use the broker's default".into(),
            ),
            _ => Ok(()),
        },
    )
}

fn validate_replication_factor() -> Arc<dyn causeway_api::config::Validator> {
    validators::from_fn(
        "Positive number not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default",
        |_, v| {
            match v {
            Some(ParsedValue::Short(n)) if *n != -1 && *n < 1 => Err(
                "Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default".into(),
            ),
            _ => Ok(()),
        }
        },
    )
}

fn validate_regex_list() -> Arc<dyn causeway_api::config::Validator> {
    validators::from_fn(
        "Positive number, or -1 to use the broker's default",
        |_, v| {
            if let Some(ParsedValue::List(items)) = v {
                for item in items {
                    if let Err(e) = regex::Regex::new(item) {
                        return Err(format!("Syntax error in regular expression: {e}"));
                    }
                }
            }
            Ok(())
        },
    )
}

/// Keys topic creation adds to a source connector's definition (`SourceConnectorConfig.enrich`): the
/// default group's, then each listed group's, whose replication factor and partitions default to the
/// default group's.
pub fn topic_creation_def(def: ConfigDef, props: &Props) -> ConfigDef {
    let d = format!("{TOPIC_CREATION_PREFIX}{DEFAULT_GROUP}.");
    let mut def = def
        .define(
            &format!("{d}include"),
            ConfigType::List,
            ".*",
            Importance::Low,
            INCLUDE_DOC,
        )
        .with_last(|k| {
            k.in_group(DEFAULT_GROUP, 1)
                .width(Width::Long)
                .display_name("Inclusion Topic Pattern for default")
        })
        .define(
            &format!("{d}exclude"),
            ConfigType::List,
            "",
            Importance::Low,
            EXCLUDE_DOC,
        )
        .with_last(|k| {
            k.in_group(DEFAULT_GROUP, 2)
                .width(Width::Long)
                .display_name("Exclusion Topic Pattern for default")
        })
        .define_required(
            &format!("{d}replication.factor"),
            ConfigType::Short,
            Importance::Low,
            REPLICATION_FACTOR_DOC,
        )
        .with_last(|k| {
            k.validator(validate_replication_factor())
                .in_group(DEFAULT_GROUP, 3)
                .width(Width::Long)
                .display_name("Replication Factor for Topics in default")
        })
        .define_required(
            &format!("{d}partitions"),
            ConfigType::Int,
            Importance::Low,
            PARTITIONS_DOC,
        )
        .with_last(|k| {
            k.validator(validate_partitions())
                .in_group(DEFAULT_GROUP, 4)
                .width(Width::Long)
                .display_name("Partition Count for Topics in default")
        });
    // Other groups inherit the default group's numbers when they can be read.
    let rf_default = props
        .get(&format!("{d}replication.factor"))
        .and_then(|v| v.trim().parse::<i16>().ok());
    let partitions_default = props
        .get(&format!("{d}partitions"))
        .and_then(|v| v.trim().parse::<i32>().ok());
    for g in group_names(props) {
        let p = format!("{TOPIC_CREATION_PREFIX}{g}.");
        let group = format!("Topic Creation: {g}");
        def = def
            .define(
                &format!("{p}include"),
                ConfigType::List,
                "",
                Importance::Low,
                INCLUDE_DOC,
            )
            .with_last(|k| {
                k.validator(validate_regex_list())
                    .in_group(&group, 1)
                    .width(Width::Long)
                    .display_name(format!("Inclusion Topic Pattern for {group}"))
            })
            .define(
                &format!("{p}exclude"),
                ConfigType::List,
                "",
                Importance::Low,
                EXCLUDE_DOC,
            )
            .with_last(|k| {
                k.validator(validate_regex_list())
                    .in_group(&group, 2)
                    .width(Width::Long)
                    .display_name(format!("Exclusion Topic Pattern for {group}"))
            });
        def = match rf_default {
            Some(rf) => def.define(
                &format!("{p}replication.factor"),
                ConfigType::Short,
                &rf.to_string(),
                Importance::Low,
                REPLICATION_FACTOR_DOC,
            ),
            None => def.define_required(
                &format!("{p}replication.factor"),
                ConfigType::Short,
                Importance::Low,
                REPLICATION_FACTOR_DOC,
            ),
        }
        .with_last(|k| {
            k.validator(validate_replication_factor())
                .in_group(&group, 3)
                .width(Width::Long)
                .display_name(format!("Replication Factor for Topics in {group}"))
        });
        def = match partitions_default {
            Some(n) => def.define(
                &format!("{p}partitions"),
                ConfigType::Int,
                &n.to_string(),
                Importance::Low,
                PARTITIONS_DOC,
            ),
            None => def.define_required(
                &format!("{p}partitions"),
                ConfigType::Int,
                Importance::Low,
                PARTITIONS_DOC,
            ),
        }
        .with_last(|k| {
            k.validator(validate_partitions())
                .in_group(&group, 4)
                .width(Width::Long)
                .display_name(format!("Partition Count for Topics in {group}"))
        });
    }
    def
}

/// One group: which topics it creates and how (`TopicCreationGroup`).
#[derive(Debug, Clone)]
pub struct TopicCreationGroup {
    /// Group name.
    pub name: String,
    include: regex::Regex,
    exclude: regex::Regex,
    partitions: i32,
    replication_factor: i16,
    configs: HashMap<String, String>,
}

impl TopicCreationGroup {
    /// True if the topic matches `include` and not `exclude` (whole-name matches, as Java's `matches()`).
    pub fn matches(&self, topic: &str) -> bool {
        !self.exclude.is_match(topic) && self.include.is_match(topic)
    }

    /// The topic to create for `topic`.
    pub fn new_topic(&self, topic: &str) -> NewTopic {
        NewTopic {
            name: topic.to_owned(),
            partitions: (self.partitions != -1).then_some(self.partitions),
            replication_factor: (self.replication_factor != -1).then_some(self.replication_factor),
            configs: self.configs.clone(),
        }
    }
}

/// A connector's topic creation settings: the listed groups in order, then `default`.
#[derive(Debug, Clone)]
pub struct TopicCreation {
    groups: Vec<TopicCreationGroup>,
}

fn whole_match(patterns: &[String]) -> Result<regex::Regex, String> {
    regex::Regex::new(&format!("^(?:{})$", patterns.join("|")))
        .map_err(|e| format!("Syntax error in regular expression: {e}"))
}

impl TopicCreation {
    /// Reads the settings of a connector config, or `None` when it does not use topic creation. The config
    /// has passed validation, so missing numbers are errors only for hand-built configs.
    pub fn from_props(props: &Props) -> Result<Option<TopicCreation>, ConnectError> {
        if !uses_topic_creation(props) {
            return Ok(None);
        }
        let read = |group: &str,
                    fallback: Option<(i16, i32)>|
         -> Result<TopicCreationGroup, ConnectError> {
            let p = format!("{TOPIC_CREATION_PREFIX}{group}.");
            let (include, exclude) = if group == DEFAULT_GROUP {
                // The default group ignores user regexes: it takes whatever no other group took.
                (vec![".*".to_owned()], Vec::new())
            } else {
                (
                    list(props, &format!("{p}include")),
                    list(props, &format!("{p}exclude")),
                )
            };
            let number = |key: &str| props.get(&format!("{p}{key}")).map(|v| v.trim().to_owned());
            let replication_factor = match (number("replication.factor"), fallback) {
                (Some(v), _) => v.parse::<i16>().map_err(|_| {
                    ConnectError::config(format!("Invalid value {v} for configuration {p}replication.factor: Not a number of type SHORT"))
                })?,
                (None, Some((rf, _))) => rf,
                (None, None) => {
                    return Err(ConnectError::config(format!(
                        "Missing required configuration \"{p}replication.factor\" which has no default value."
                    )));
                }
            };
            let partitions = match (number("partitions"), fallback) {
                (Some(v), _) => v.parse::<i32>().map_err(|_| {
                    ConnectError::config(format!("Invalid value {v} for configuration {p}partitions: Not a number of type INT"))
                })?,
                (None, Some((_, n))) => n,
                (None, None) => {
                    return Err(ConnectError::config(format!(
                        "Missing required configuration \"{p}partitions\" which has no default value."
                    )));
                }
            };
            let configs = props
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&p).map(|rest| (rest, v)))
                .filter(|(rest, _)| {
                    !matches!(
                        *rest,
                        "include" | "exclude" | "replication.factor" | "partitions"
                    )
                })
                .map(|(rest, v)| (rest.to_owned(), v.clone()))
                .collect();
            Ok(TopicCreationGroup {
                name: group.to_owned(),
                include: whole_match(&include).map_err(ConnectError::config)?,
                exclude: if exclude.is_empty() {
                    // Java's Pattern.compile("") matches only the empty name.
                    regex::Regex::new("^$").expect("valid")
                } else {
                    whole_match(&exclude).map_err(ConnectError::config)?
                },
                partitions,
                replication_factor,
                configs,
            })
        };
        let default = read(DEFAULT_GROUP, None)?;
        let fallback = Some((default.replication_factor, default.partitions));
        let mut groups = Vec::new();
        for g in group_names(props) {
            groups.push(read(&g, fallback)?);
        }
        groups.push(default);
        Ok(Some(TopicCreation { groups }))
    }

    /// The first listed group that matches the topic, else `default`.
    pub fn group_for(&self, topic: &str) -> &TopicCreationGroup {
        let (default, listed) = self.groups.split_last().expect("default group present");
        listed.iter().find(|g| g.matches(topic)).unwrap_or(default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn groups_pick_topics_in_order_with_default_last() {
        let p = props(&[
            ("topic.creation.default.replication.factor", "1"),
            ("topic.creation.default.partitions", "3"),
            ("topic.creation.default.cleanup.policy", "delete"),
            ("topic.creation.groups", "compacted, audit"),
            ("topic.creation.compacted.include", "state-.*, config"),
            ("topic.creation.compacted.exclude", "state-tmp"),
            ("topic.creation.compacted.partitions", "1"),
            ("topic.creation.compacted.cleanup.policy", "compact"),
            ("topic.creation.audit.include", "audit"),
        ]);
        let tc = TopicCreation::from_props(&p).unwrap().unwrap();
        let t = tc.group_for("state-users").new_topic("state-users");
        assert_eq!(t.partitions, Some(1));
        assert_eq!(t.replication_factor, Some(1));
        assert_eq!(
            t.configs.get("cleanup.policy").map(String::as_str),
            Some("compact")
        );
        assert_eq!(tc.group_for("config").name, "compacted");
        assert_eq!(tc.group_for("state-tmp").name, "default");
        assert_eq!(tc.group_for("xstate-users").name, "default");
        let audit = tc.group_for("audit").new_topic("audit");
        assert_eq!(
            (audit.partitions, audit.replication_factor),
            (Some(3), Some(1))
        );
        let other = tc.group_for("orders").new_topic("orders");
        assert_eq!(other.partitions, Some(3));
        assert_eq!(
            other.configs.get("cleanup.policy").map(String::as_str),
            Some("delete")
        );
    }

    #[test]
    fn minus_one_means_broker_default() {
        let p = props(&[
            ("topic.creation.default.replication.factor", "-1"),
            ("topic.creation.default.partitions", "-1"),
        ]);
        let t = TopicCreation::from_props(&p)
            .unwrap()
            .unwrap()
            .group_for("x")
            .new_topic("x");
        assert_eq!((t.partitions, t.replication_factor), (None, None));
    }

    #[test]
    fn validation_uses_apache_texts() {
        let p = props(&[
            ("topic.creation.default.replication.factor", "0"),
            ("topic.creation.default.partitions", "-5"),
            ("topic.creation.groups", "g"),
            ("topic.creation.g.include", "a(b"),
        ]);
        let def = topic_creation_def(ConfigDef::new(), &p);
        let values = def.validate(&p);
        let errors = |name: &str| {
            values
                .iter()
                .find(|v| v.name == name)
                .unwrap()
                .errors
                .clone()
        };
        assert_eq!(
            errors("topic.creation.default.replication.factor"),
            vec![
                "Invalid value 0 for configuration topic.creation.default.replication.factor: Replication factor must be positive and not larger than the number of brokers in the Kafka cluster, or -1 to use the broker's default"
            ]
        );
        assert_eq!(
            errors("topic.creation.default.partitions"),
            vec![
                "Invalid value -5 for configuration topic.creation.default.partitions: Number of partitions must be positive, or -1 to use the broker's default"
            ]
        );
        assert!(
            errors("topic.creation.g.include")[0].contains("Syntax error in regular expression")
        );
        let missing = props(&[("topic.creation.groups", "g")]);
        let values = topic_creation_def(ConfigDef::new(), &missing).validate(&missing);
        let rf = values
            .iter()
            .find(|v| v.name == "topic.creation.default.replication.factor")
            .unwrap();
        assert_eq!(
            rf.errors,
            vec![
                "Missing required configuration \"topic.creation.default.replication.factor\" which has no default value."
            ]
        );
    }
}
