//! Connector configuration: the framework keys every connector has (`ConnectorConfig`,
//! `SourceConnectorConfig`, `SinkConnectorConfig`) and full validation as `AbstractHerder` does it.
use std::sync::Arc;

use causeway_api::config::Recommender;
use causeway_api::config::validators::{
    NonEmptyStringWithoutControlChars, at_least, from_fn, one_of_ignore_case,
};
use causeway_api::{
    ConfigDef, ConfigKey, ConfigType, ConfigValue, Importance, PluginDescriptor, PluginFactory,
    PluginType, Props, Width,
};

use crate::client_overrides::{
    ADMIN_OVERRIDES_PREFIX, CONSUMER_OVERRIDES_PREFIX, OverridePolicy, PRODUCER_OVERRIDES_PREFIX,
};
use crate::herder::entities::{
    ConfigInfo, ConfigInfos, ConfigKeyInfo, ConfigValueInfo, ConnectorType,
};
use crate::plugins::PluginRegistry;

/// `name`.
pub const NAME_CONFIG: &str = "name";
/// `connector.class`.
pub const CONNECTOR_CLASS_CONFIG: &str = "connector.class";
/// `tasks.max`.
pub const TASKS_MAX_CONFIG: &str = "tasks.max";
/// `tasks.max.enforce`.
pub const TASKS_MAX_ENFORCE_CONFIG: &str = "tasks.max.enforce";
/// `key.converter`.
pub const KEY_CONVERTER_CONFIG: &str = "key.converter";
/// `value.converter`.
pub const VALUE_CONVERTER_CONFIG: &str = "value.converter";
/// `header.converter`.
pub const HEADER_CONVERTER_CONFIG: &str = "header.converter";
/// `transforms`.
pub const TRANSFORMS_CONFIG: &str = "transforms";
/// `predicates`.
pub const PREDICATES_CONFIG: &str = "predicates";
/// `topics` (sinks).
pub const TOPICS_CONFIG: &str = "topics";
/// `topics.regex` (sinks).
pub const TOPICS_REGEX_CONFIG: &str = "topics.regex";
/// `errors.tolerance`.
pub const ERRORS_TOLERANCE_CONFIG: &str = "errors.tolerance";
/// `errors.deadletterqueue.topic.name` (sinks).
pub const DLQ_TOPIC_NAME_CONFIG: &str = "errors.deadletterqueue.topic.name";

const COMMON_GROUP: &str = "Common";
const TRANSFORMS_GROUP: &str = "Transforms";
const PREDICATES_GROUP: &str = "Predicates";
const ERROR_GROUP: &str = "Error Handling";

/// Recommends installed plugin classes of one type (converters).
struct ClassRecommender(Vec<String>);

impl Recommender for ClassRecommender {
    fn valid_values(
        &self,
        _name: &str,
        _parsed: &std::collections::HashMap<String, Option<causeway_api::ParsedValue>>,
    ) -> Vec<causeway_api::ParsedValue> {
        self.0
            .iter()
            .cloned()
            .map(causeway_api::ParsedValue::Class)
            .collect()
    }
}

fn unique_aliases(kind: &'static str) -> Arc<dyn causeway_api::config::Validator> {
    from_fn("unique aliases", move |name, value| {
        let Some(causeway_api::ParsedValue::List(items)) = value else {
            return Ok(());
        };
        let mut seen = std::collections::HashSet::new();
        for i in items {
            if !seen.insert(i) {
                return Err(format!(
                    "Duplicate alias provided for {kind}: {}",
                    items.join(",")
                ))
                .map_err(|e| {
                    format!(
                        "!Invalid value {} for configuration {name}: {e}",
                        items.join(",")
                    )
                });
            }
        }
        Ok(())
    })
}

/// The framework keys of every connector (`ConnectorConfig.configDef()`).
pub fn connector_config_def(plugins: &PluginRegistry) -> ConfigDef {
    let converters = Arc::new(ClassRecommender(plugins.class_names(PluginType::Converter)));
    let header_converters = Arc::new(ClassRecommender(
        plugins.class_names(PluginType::HeaderConverter),
    ));
    let mut order = 0;
    let mut next = || {
        order += 1;
        order
    };
    ConfigDef::new()
        .define_key(
            ConfigDef::key(NAME_CONFIG, ConfigType::String, Importance::High, "Globally unique name to use for this connector.")
                .validator(Arc::new(NonEmptyStringWithoutControlChars))
                .in_group(COMMON_GROUP, next())
                .width(Width::Medium)
                .display_name("Connector name"),
        )
        .define_key(
            ConfigDef::key(CONNECTOR_CLASS_CONFIG, ConfigType::String, Importance::High,
                "Name or alias of the class for this connector. Must be a subclass of org.apache.kafka.connect.connector.Connector. If the connector is org.apache.kafka.connect.file.FileStreamSinkConnector, you can either specify this full name,  or use \"FileStreamSink\" or \"FileStreamSinkConnector\" to make the configuration a bit shorter")
                .in_group(COMMON_GROUP, next())
                .width(Width::Long)
                .display_name("Connector class"),
        )
        .define_key(
            ConfigKey {
                default: causeway_api::config::DefaultValue::Value(causeway_api::ParsedValue::Int(1)),
                ..ConfigDef::key(TASKS_MAX_CONFIG, ConfigType::Int, Importance::High, "Maximum number of tasks to use for this connector.")
            }
            .validator(at_least(1.0))
            .in_group(COMMON_GROUP, next())
            .width(Width::Short)
            .display_name("Tasks max"),
        )
        .define(TASKS_MAX_ENFORCE_CONFIG, ConfigType::Boolean, "true", Importance::Low,
            "(Deprecated) Whether to enforce that the tasks.max property is respected by the connector. By default, connectors that generate too many tasks will fail, and existing sets of tasks that exceed the tasks.max property will also be failed. If this property is set to false, then connectors will be allowed to generate more than the maximum number of tasks, and existing sets of tasks that exceed the tasks.max property will be allowed to run. This property is deprecated and will be removed in an upcoming major release.")
        .with_last(|k| k.in_group(COMMON_GROUP, 4).width(Width::Short).display_name("Enforce tasks max"))
        .define_null(KEY_CONVERTER_CONFIG, ConfigType::Class, Importance::Low,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the keys in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.")
        .with_last(|k| k.in_group(COMMON_GROUP, 5).width(Width::Short).display_name("Key converter class").recommender(converters.clone()))
        .define_null(VALUE_CONVERTER_CONFIG, ConfigType::Class, Importance::Low,
            "Converter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro.")
        .with_last(|k| k.in_group(COMMON_GROUP, 6).width(Width::Short).display_name("Value converter class").recommender(converters))
        .define_null(HEADER_CONVERTER_CONFIG, ConfigType::Class, Importance::Low,
            "HeaderConverter class used to convert between Kafka Connect format and the serialized form that is written to Kafka. This controls the format of the header values in messages written to or read from Kafka, and since this is independent of connectors it allows any connector to work with any serialization format. Examples of common formats include JSON and Avro. By default, the SimpleHeaderConverter is used to serialize header values to strings and deserialize them by inferring the schemas.")
        .with_last(|k| k.in_group(COMMON_GROUP, 7).width(Width::Short).display_name("Header converter class").recommender(header_converters))
        .define("config.action.reload", ConfigType::String, "restart", Importance::Low,
            "The action that Connect should take on the connector when changes in external configuration providers result in a change in the connector's configuration properties. A value of 'none' indicates that Connect will do nothing. A value of 'restart' indicates that Connect should restart/reload the connector with the updated configuration properties.The restart may actually be scheduled in the future if the external configuration provider indicates that a configuration value will expire in the future.")
        .with_last(|k| k.validator(one_of_ignore_case(&["none", "restart"])).in_group(COMMON_GROUP, 8).width(Width::Medium).display_name("Reload Action"))
        .define(TRANSFORMS_CONFIG, ConfigType::List, "", Importance::Low,
            "Aliases for the transformations to be applied to records.")
        .with_last(|k| k.validator(unique_aliases("transformations")).in_group(TRANSFORMS_GROUP, 1).width(Width::Long).display_name("Transforms"))
        .define(PREDICATES_CONFIG, ConfigType::List, "", Importance::Low,
            "Aliases for the predicates used by transformations.")
        .with_last(|k| k.validator(unique_aliases("predicates")).in_group(PREDICATES_GROUP, 1).width(Width::Long).display_name("Predicates"))
        .define("errors.retry.timeout", ConfigType::Long, "0", Importance::Medium,
            "The maximum duration in milliseconds that a failed operation will be reattempted. The default is 0, which means no retries will be attempted. Use -1 for infinite retries.")
        .with_last(|k| k.in_group(ERROR_GROUP, 1).width(Width::Medium).display_name("Retry Timeout for Errors"))
        .define("errors.retry.delay.max.ms", ConfigType::Long, "60000", Importance::Medium,
            "The maximum duration in milliseconds between consecutive retry attempts. Jitter will be added to the delay once this limit is reached to prevent thundering herd issues.")
        .with_last(|k| k.in_group(ERROR_GROUP, 2).width(Width::Medium).display_name("Maximum Delay Between Retries for Errors"))
        .define(ERRORS_TOLERANCE_CONFIG, ConfigType::String, "none", Importance::Medium,
            "Behavior for tolerating errors during connector operation. 'none' is the default value and signals that any error will result in an immediate connector task failure; 'all' changes the behavior to skip over problematic records.")
        .with_last(|k| k.validator(one_of_ignore_case(&["none", "all"])).in_group(ERROR_GROUP, 3).width(Width::Short).display_name("Error Tolerance"))
        .define("errors.log.enable", ConfigType::Boolean, "false", Importance::Medium,
            "If true, write each error and the details of the failed operation and problematic record to the Connect application log. This is 'false' by default, so that only errors that are not tolerated are reported.")
        .with_last(|k| k.in_group(ERROR_GROUP, 4).width(Width::Short).display_name("Log Errors"))
        .define("errors.log.include.messages", ConfigType::Boolean, "false", Importance::Medium,
            "Whether to include in the log the Connect record that resulted in a failure. For sink records, the topic, partition, offset, and timestamp will be logged. For source records, the key and value (and their schemas), all headers, and the timestamp, Kafka topic, Kafka partition, source partition, and source offset will be logged. This is 'false' by default, which will prevent record keys, values, and headers from being written to log files.")
        .with_last(|k| k.in_group(ERROR_GROUP, 5).width(Width::Short).display_name("Log Error Details"))
}

/// Framework keys of sink connectors (`SinkConnectorConfig`).
pub fn sink_config_def(plugins: &PluginRegistry) -> ConfigDef {
    connector_config_def(plugins)
        .define(TOPICS_CONFIG, ConfigType::List, "", Importance::High,
            "List of topics to consume, separated by commas")
        .with_last(|k| k.in_group(COMMON_GROUP, 4).width(Width::Long).display_name("Topics"))
        .define(TOPICS_REGEX_CONFIG, ConfigType::String, "", Importance::High,
            "Regular expression giving topics to consume. Under the hood, the regex is compiled to a <code>java.util.regex.Pattern</code>. Only one of topics or topics.regex should be specified.")
        .with_last(|k| k.in_group(COMMON_GROUP, 4).width(Width::Long).display_name("Topics regex"))
        .define(DLQ_TOPIC_NAME_CONFIG, ConfigType::String, "", Importance::Medium,
            "The name of the topic to be used as the dead letter queue (DLQ) for messages that result in an error when processed by this sink connector, or its transformations or converters. The topic name is blank by default, which means that no messages are to be recorded in the DLQ.")
        .with_last(|k| k.in_group(ERROR_GROUP, 6).width(Width::Medium).display_name("Dead Letter Queue Topic Name"))
        .define("errors.deadletterqueue.topic.replication.factor", ConfigType::Short, "3", Importance::Medium,
            "Replication factor used to create the dead letter queue topic when it doesn't already exist.")
        .with_last(|k| k.in_group(ERROR_GROUP, 7).width(Width::Medium).display_name("Dead Letter Queue Topic Replication Factor"))
        .define("errors.deadletterqueue.context.headers.enable", ConfigType::Boolean, "false", Importance::Medium,
            "If true, add headers containing error context to the messages written to the dead letter queue. To avoid clashing with headers from the original record, all error context header keys, all error context header keys will start with <code>__connect.errors.</code>")
        .with_last(|k| k.in_group(ERROR_GROUP, 8).width(Width::Medium).display_name("Enable Error Context Headers"))
}

/// Framework keys of source connectors (`SourceConnectorConfig`).
pub fn source_config_def(plugins: &PluginRegistry) -> ConfigDef {
    connector_config_def(plugins)
        .define("topic.creation.groups", ConfigType::List, "", Importance::Low,
            "Groups of configurations for topics created by source connectors")
        .with_last(|k| k.in_group("Topic Creation", 1).width(Width::Long).display_name("Topic Creation Groups"))
        .define("exactly.once.support", ConfigType::String, "requested", Importance::Medium,
            "Permitted values are requested, required. If set to \"required\", forces a preflight check for the connector to ensure that it can provide exactly-once semantics with the given configuration.")
        .with_last(|k| k.validator(one_of_ignore_case(&["requested", "required"])).in_group("Exactly Once Support", 1).width(Width::Short).display_name("Exactly once support"))
        .define("transaction.boundary", ConfigType::String, "poll", Importance::Medium,
            "Permitted values are: poll, interval, connector. If set to 'poll', a new producer transaction will be started and committed for every batch of records that each task from this connector provides to Connect.")
        .with_last(|k| k.validator(one_of_ignore_case(&["poll", "interval", "connector"])).in_group("Exactly Once Support", 2).width(Width::Short).display_name("Transaction Boundary"))
        .define_null("transaction.boundary.interval.ms", ConfigType::Long, Importance::Low,
            "If 'transaction.boundary' is set to 'interval', determines the interval for producer transaction commits by connector tasks.")
        .with_last(|k| k.in_group("Exactly Once Support", 3).width(Width::Short).display_name("Transaction boundary interval"))
        .define_null("offsets.storage.topic", ConfigType::String, Importance::Low,
            "The name of a separate offsets topic to use for this connector. If empty or not specified, the worker’s global offsets topic name will be used.")
        .with_last(|k| k.in_group("offsets.topic", 1).width(Width::Long).display_name("Offsets topic"))
}

/// The connector type of a plugin.
pub fn connector_type(plugin: Option<&PluginDescriptor>) -> ConnectorType {
    match plugin.map(PluginDescriptor::plugin_type) {
        Some(PluginType::Source) => ConnectorType::Source,
        Some(PluginType::Sink) => ConnectorType::Sink,
        _ => ConnectorType::Unknown,
    }
}

/// `ConfigKeyInfo` for a key, with an optional name prefix.
pub fn key_info(key: &ConfigKey, prefix: &str) -> ConfigKeyInfo {
    ConfigKeyInfo {
        name: format!("{prefix}{}", key.name),
        config_type: key.config_type.name().to_owned(),
        required: key.required(),
        default_value: key.default_string(),
        importance: key.importance.name().to_owned(),
        documentation: key.documentation.clone(),
        group: key.group.clone(),
        order_in_group: key.order_in_group,
        width: key.width.name().to_owned(),
        display_name: Some(key.display_name.clone()),
        dependents: key.dependents.clone(),
        order: key.order_in_group,
    }
}

fn value_info(v: &ConfigValue, prefix: &str) -> ConfigValueInfo {
    ConfigValueInfo {
        name: format!("{prefix}{}", v.name),
        value: v.value.clone(),
        recommended_values: v.recommended_values.clone(),
        errors: v.errors.clone(),
        visible: v.visible,
    }
}

/// Adds `transforms.<a>.*` and `predicates.<p>.*` definitions for the aliases in `props`
/// (`ConnectorConfig.enrich`), and returns errors found while resolving their classes.
fn enrich(def: ConfigDef, props: &Props, plugins: &PluginRegistry) -> ConfigDef {
    let mut def = def;
    let list = |key: &str| -> Vec<String> {
        props
            .get(key)
            .map(|s| {
                s.split(',')
                    .map(|x| x.trim().to_owned())
                    .filter(|x| !x.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    };
    for (kind, key, ty, group_prefix) in [
        (
            "transforms",
            TRANSFORMS_CONFIG,
            PluginType::Transformation,
            "Transforms: ",
        ),
        (
            "predicates",
            PREDICATES_CONFIG,
            PluginType::Predicate,
            "Predicates: ",
        ),
    ] {
        for alias in list(key) {
            let prefix = format!("{kind}.{alias}.");
            let group = format!("{group_prefix}{alias}");
            let class_key = format!("{prefix}type");
            let class_names = plugins.class_names(ty);
            let lookup = plugins.clone();
            let type_validator = from_fn("plugin class", move |name, value| {
                let Some(s) = value.and_then(causeway_api::ParsedValue::as_str) else {
                    return Ok(());
                };
                if lookup.find(ty, s).is_some() {
                    Ok(())
                } else {
                    Err(format!(
                        "!Invalid value {s} for configuration {name}: Class {s} could not be found."
                    ))
                }
            });
            def = def.define_key(
                ConfigDef::key(
                    &class_key,
                    ConfigType::Class,
                    Importance::High,
                    if ty == PluginType::Transformation {
                        "Class for the 'ALIAS' transformation."
                    } else {
                        "Class for the 'ALIAS' predicate."
                    },
                )
                .doc(format!(
                    "Class for the '{alias}' {}.",
                    if ty == PluginType::Transformation {
                        "transformation"
                    } else {
                        "predicate"
                    }
                ))
                .validator(type_validator)
                .recommender(Arc::new(ClassRecommender(class_names)))
                .in_group(&group, 0)
                .width(Width::Long)
                .display_name(format!(
                    "{} type for {alias}",
                    if ty == PluginType::Transformation {
                        "Transformation"
                    } else {
                        "Predicate"
                    }
                )),
            );
            if ty == PluginType::Transformation {
                def = def
                    .define_null(&format!("{prefix}predicate"), ConfigType::String, Importance::Medium,
                        "The alias of a predicate used to determine whether to apply this transformation.")
                    .with_last(|k| k.in_group(&group, 1).width(Width::Long).display_name(format!("Predicate for {alias}")))
                    .define(&format!("{prefix}negate"), ConfigType::Boolean, "false", Importance::Medium,
                        "Whether the configured predicate should be negated.")
                    .with_last(|k| k.in_group(&group, 2).width(Width::Short).display_name(format!("Negate for {alias}")));
            }
            if let Some(class) = props.get(&class_key)
                && let Some(plugin) = plugins.find(ty, class)
            {
                let plugin_def = match plugin.factory {
                    PluginFactory::Transformation(f) => f().config(),
                    PluginFactory::Predicate(f) => f().config(),
                    _ => ConfigDef::new(),
                };
                for k in plugin_def.keys() {
                    let mut k = k.clone();
                    k.name = format!("{prefix}{}", k.name);
                    if k.group.is_none() {
                        k.group = Some(group.clone());
                    }
                    def = def.define_key(k);
                }
            }
        }
    }
    def
}

/// Extra sink checks (`SinkConnectorConfig.validate`): exactly one of `topics` / `topics.regex`, a valid
/// regex, and a DLQ topic that is not also consumed.
fn validate_sink(props: &Props, values: &mut [ConfigValue]) {
    let topics: Vec<String> = props
        .get(TOPICS_CONFIG)
        .map(|s| {
            s.split(',')
                .map(|x| x.trim().to_owned())
                .filter(|x| !x.is_empty())
                .collect()
        })
        .unwrap_or_default();
    let regex = props
        .get(TOPICS_REGEX_CONFIG)
        .map(|s| s.trim())
        .unwrap_or("");
    let mut add = |key: &str, msg: &str| {
        if let Some(v) = values.iter_mut().find(|v| v.name == key) {
            v.add_error(msg);
        }
    };
    match (topics.is_empty(), regex.is_empty()) {
        (true, true) => {
            let msg = "Must configure one of topics or topics.regex";
            add(TOPICS_CONFIG, msg);
            add(TOPICS_REGEX_CONFIG, msg);
        }
        (false, false) => {
            let msg = "topics and topics.regex are mutually exclusive options, but both are set.";
            add(TOPICS_CONFIG, msg);
            add(TOPICS_REGEX_CONFIG, msg);
        }
        (true, false) => {
            if let Err(e) = regex::Regex::new(regex) {
                add(
                    TOPICS_REGEX_CONFIG,
                    &format!("Invalid value {regex} for configuration topics.regex: {e}"),
                );
            }
        }
        (false, true) => {}
    }
    let dlq = props
        .get(DLQ_TOPIC_NAME_CONFIG)
        .map(|s| s.trim())
        .unwrap_or("");
    if !dlq.is_empty() {
        if topics.iter().any(|t| t == dlq) {
            add(
                DLQ_TOPIC_NAME_CONFIG,
                &format!(
                    "The DLQ topic '{dlq}' may not be included in the list of topics ('{TOPICS_CONFIG}={}') consumed by the connector",
                    topics.join(",")
                ),
            );
        } else if !regex.is_empty()
            && regex::Regex::new(&format!("^(?:{regex})$")).is_ok_and(|r| r.is_match(dlq))
        {
            add(
                DLQ_TOPIC_NAME_CONFIG,
                &format!(
                    "The DLQ topic '{dlq}' may not be included in the regex matching the topics ('{TOPICS_REGEX_CONFIG}={regex}') consumed by the connector"
                ),
            );
        }
    }
}

/// What of the worker's configuration shapes connector validation.
#[derive(Debug, Clone, Copy, Default)]
pub struct ValidationSettings {
    /// `topic.creation.enable`.
    pub topic_creation_enabled: bool,
    /// `connector.client.config.override.policy`.
    pub override_policy: OverridePolicy,
}

impl ValidationSettings {
    /// The settings of a worker.
    pub fn of(config: &crate::WorkerConfig) -> Self {
        ValidationSettings {
            topic_creation_enabled: config.topic_creation_enabled(),
            override_policy: config.client_override_policy(),
        }
    }
}

/// Validation failures that are not per-key errors (they become HTTP 400 directly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidationFailure(pub String);

/// Renders a config map as Java's `Map.toString` (`{k=v, k2=v2}`), as Apache echoes it in errors.
pub fn java_map_string(props: &Props) -> String {
    let inner: Vec<String> = props.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// Validates a connector configuration as `AbstractHerder.validateConnectorConfig` does: framework keys
/// (enriched with transforms and predicates), the connector's own keys, sink topic rules, and converter
/// sub-configs for converters set in the config.
///
/// # Errors
/// A [`ValidationFailure`] when there is no `connector.class` or it cannot be resolved.
pub fn validate_connector_config(
    props: &Props,
    plugins: &PluginRegistry,
    worker: &ValidationSettings,
) -> Result<ConfigInfos, ValidationFailure> {
    let class = props
        .get(CONNECTOR_CLASS_CONFIG)
        .filter(|c| !c.trim().is_empty())
        .ok_or_else(|| {
            ValidationFailure(format!(
                "Connector config {} contains no connector type",
                java_map_string(props)
            ))
        })?;
    let plugin = plugins.connector(class).map_err(ValidationFailure)?;
    let (framework, connector_def, connector_values) = match plugin.factory {
        PluginFactory::Source { connector, .. } => {
            let c = connector();
            (source_config_def(plugins), c.config(), c.validate(props))
        }
        PluginFactory::Sink { connector, .. } => {
            let c = connector();
            (sink_config_def(plugins), c.config(), c.validate(props))
        }
        _ => unreachable!("registry.connector only returns connectors"),
    };
    let is_source = plugin.plugin_type() == PluginType::Source;
    let creates_topics = is_source
        && worker.topic_creation_enabled
        && crate::topic_creation::uses_topic_creation(props);
    let framework = if creates_topics {
        crate::topic_creation::topic_creation_def(framework, props)
    } else {
        framework
    };
    let framework = enrich(framework, props, plugins);
    let mut framework_values = framework.validate(props);
    if plugin.plugin_type() == PluginType::Sink {
        validate_sink(props, &mut framework_values);
    }

    let mut groups: Vec<String> = Vec::new();
    let mut push_groups = |def: &ConfigDef| {
        for g in def.groups() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
    };
    push_groups(&framework);
    push_groups(&connector_def);

    let mut configs: Vec<ConfigInfo> = Vec::new();
    // Framework and connector keys form one section; connector keys override framework ones of the same name.
    let mut section_keys: Vec<&ConfigKey> = framework
        .keys()
        .iter()
        .filter(|k| connector_def.find(&k.name).is_none())
        .collect();
    section_keys.extend(connector_def.keys().iter());
    let mut section_values: Vec<ConfigValue> = framework_values
        .into_iter()
        .filter(|v| connector_def.find(&v.name).is_none())
        .collect();
    section_values.extend(connector_values);
    push_section(&mut configs, &section_keys, &section_values, "");

    // Client overrides the worker's policy may forbid (`validateClientOverrides`).
    let uses_dlq = !is_source
        && props
            .get(DLQ_TOPIC_NAME_CONFIG)
            .is_some_and(|t| !t.trim().is_empty());
    let mut prefixes = vec![if is_source {
        PRODUCER_OVERRIDES_PREFIX
    } else {
        CONSUMER_OVERRIDES_PREFIX
    }];
    if creates_topics || uses_dlq {
        prefixes.push(ADMIN_OVERRIDES_PREFIX);
    }
    if uses_dlq {
        prefixes.push(PRODUCER_OVERRIDES_PREFIX);
    }
    for prefix in prefixes {
        for v in worker.override_policy.validate(props, prefix) {
            configs.push(ConfigInfo {
                definition: None,
                value: Some(value_info(&v, "")),
            });
        }
    }

    for (key, ty) in [
        (KEY_CONVERTER_CONFIG, PluginType::Converter),
        (VALUE_CONVERTER_CONFIG, PluginType::Converter),
        (HEADER_CONVERTER_CONFIG, PluginType::HeaderConverter),
    ] {
        let Some(class) = props.get(key) else {
            continue;
        };
        let Some(p) = plugins.find(ty, class) else {
            continue;
        };
        let def = match p.factory {
            PluginFactory::Converter(f) => f().config(),
            PluginFactory::HeaderConverter(f) => f().config(),
            _ => continue,
        };
        let prefix = format!("{key}.");
        let mut sub: Props = props
            .iter()
            .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_owned(), v.clone())))
            .collect();
        // As `AbstractHerder.validateConverterConfig`: the worker says which side the converter serves.
        let side = match key {
            KEY_CONVERTER_CONFIG => "key",
            VALUE_CONVERTER_CONFIG => "value",
            _ => "header",
        };
        sub.insert("converter.type".into(), side.into());
        let values = def.validate(&sub);
        let keys: Vec<&ConfigKey> = def.keys().iter().collect();
        for g in def.groups() {
            if !groups.contains(&g) {
                groups.push(g);
            }
        }
        push_section(&mut configs, &keys, &values, &prefix);
    }

    let error_count = configs
        .iter()
        .filter_map(|c| c.value.as_ref())
        .map(|v| v.errors.len())
        .sum();
    Ok(ConfigInfos {
        name: class.clone(),
        error_count,
        groups,
        configs,
    })
}

fn push_section(
    out: &mut Vec<ConfigInfo>,
    keys: &[&ConfigKey],
    values: &[ConfigValue],
    prefix: &str,
) {
    for v in values {
        if !keys.iter().any(|k| k.name == v.name) {
            out.push(ConfigInfo {
                definition: None,
                value: Some(value_info(v, prefix)),
            });
        }
    }
    for k in keys {
        out.push(ConfigInfo {
            definition: Some(key_info(k, prefix)),
            value: values
                .iter()
                .find(|v| v.name == k.name)
                .map(|v| value_info(v, prefix)),
        });
    }
}

/// Apache's 400 message for a config with validation errors.
pub fn invalid_config_message(infos: &ConfigInfos) -> String {
    let errors: Vec<&str> = infos
        .configs
        .iter()
        .filter_map(|c| c.value.as_ref())
        .flat_map(|v| v.errors.iter().map(String::as_str))
        .collect();
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        errors.len(),
        errors.join("\n")
    )
}

/// The `GET /connector-plugins/{p}/config` listing for one plugin: its own keys, then (for connectors) the
/// framework keys it does not override.
pub fn plugin_config_listing(
    plugin: &PluginDescriptor,
    plugins: &PluginRegistry,
) -> Vec<ConfigKeyInfo> {
    let (own, framework) = match plugin.factory {
        PluginFactory::Source { connector, .. } => {
            (connector().config(), Some(source_config_def(plugins)))
        }
        PluginFactory::Sink { connector, .. } => {
            (connector().config(), Some(sink_config_def(plugins)))
        }
        PluginFactory::Converter(f) => (f().config(), None),
        PluginFactory::HeaderConverter(f) => (f().config(), None),
        PluginFactory::Transformation(f) => (f().config(), None),
        PluginFactory::Predicate(f) => (f().config(), None),
    };
    let mut out: Vec<ConfigKeyInfo> = own.keys().iter().map(|k| key_info(k, "")).collect();
    if let Some(fw) = framework {
        out.extend(
            fw.keys()
                .iter()
                .filter(|k| own.find(&k.name).is_none())
                .map(|k| key_info(k, "")),
        );
    }
    out
}
