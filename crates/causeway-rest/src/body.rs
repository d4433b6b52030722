//! Request bodies, parsed by hand so that every user error is a 400 with a message that says what to fix
//! (Apache answers 500 with Jackson's text for most of these; see [`crate::DEVIATIONS`]).
//!
//! Config maps follow Jackson's `Map<String, String>` coercions: strings as they are, numbers and booleans
//! as their JSON text (`"tasks.max": 1` becomes `"1"`), `null` kept as "no value".
use std::collections::BTreeMap;

use causeway_api::Props;
use causeway_runtime::herder::entities::{ConnectorOffset, ConnectorOffsets, TargetState};
use serde::de::IgnoredAny;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::error::ApiError;

const NAME_CONFIG: &str = "name";
const CONNECTOR_CLASS_CONFIG: &str = "connector.class";
/// Apache's per-key error for a JSON null config value (`AbstractHerder.validateConnectorConfig`).
pub(crate) const NULL_VALUE_ERROR: &str =
    "Null value can not be supplied as the configuration value.";

type RawObject = BTreeMap<String, Box<RawValue>>;

fn required(body: Option<String>) -> Result<String, ApiError> {
    body.ok_or_else(|| ApiError::bad_request("Request body is missing; a JSON body is required"))
}

fn check_syntax(text: &str) -> Result<(), ApiError> {
    serde_json::from_str::<IgnoredAny>(text)
        .map(|_| ())
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))
}

fn first_char(text: &str) -> Option<char> {
    text.trim_start().chars().next()
}

/// A JSON object body, keys to raw values (duplicate keys: the last wins, as in Jackson).
fn object(text: &str, expected: &str) -> Result<RawObject, ApiError> {
    check_syntax(text)?;
    if first_char(text) != Some('{') {
        return Err(ApiError::bad_request(format!(
            "The request body must be {expected}"
        )));
    }
    serde_json::from_str(text)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))
}

fn unrecognized_field(field: &str, class: &str, known: &[&str]) -> ApiError {
    let known = known
        .iter()
        .map(|k| format!("\"{k}\""))
        .collect::<Vec<_>>()
        .join(", ");
    ApiError::bad_request(format!(
        "Unrecognized field \"{field}\" (class org.apache.kafka.connect.runtime.rest.entities.{class}), not marked as ignorable ({} known properties: {known})",
        known.matches('"').count() / 2
    ))
}

/// The JSON kind of a raw value, for messages.
fn kind(raw: &RawValue) -> &'static str {
    match first_char(raw.get()) {
        Some('{') => "an object",
        Some('[') => "an array",
        Some('"') => "a string",
        Some('n') => "null",
        Some('t' | 'f') => "a boolean",
        _ => "a number",
    }
}

/// A scalar as Jackson reads it into a `String`: the string itself, or a number's or boolean's JSON text
/// (numbers keep their exact text); `Ok(None)` for null; `Err` for objects and arrays.
fn scalar_text(raw: &RawValue) -> Result<Option<String>, ()> {
    let text = raw.get().trim();
    match first_char(text) {
        Some('"') => serde_json::from_str::<String>(text)
            .map(Some)
            .map_err(|_| ()),
        Some('n') => Ok(None),
        Some('{' | '[') | None => Err(()),
        Some(_) => Ok(Some(text.to_owned())),
    }
}

/// A flat config map; values that are JSON null are reported separately.
fn config_map(object: RawObject) -> Result<(Props, Vec<String>), ApiError> {
    let mut props = Props::new();
    let mut nulls = Vec::new();
    for (key, raw) in object {
        match scalar_text(&raw) {
            Ok(Some(v)) => {
                props.insert(key, v);
            }
            Ok(None) => nulls.push(key),
            Err(()) => {
                return Err(ApiError::bad_request(format!(
                    "Invalid value for configuration '{key}': expected a string, number or boolean, got {}",
                    kind(&raw)
                )));
            }
        }
    }
    Ok((props, nulls))
}

/// A connector config with its JSON-null keys (PUT `/connectors/{c}/config`, validate).
pub(crate) struct ConfigWithNulls {
    pub(crate) config: Props,
    pub(crate) nulls: Vec<String>,
}

/// Parses a flat config map body.
pub(crate) fn connector_config(body: Option<String>) -> Result<ConfigWithNulls, ApiError> {
    let text = required(body)?;
    let (config, nulls) = config_map(object(
        &text,
        "a JSON object of connector configuration properties",
    )?)?;
    Ok(ConfigWithNulls { config, nulls })
}

/// Parses a PATCH body: a flat map where `null` removes the key.
pub(crate) fn config_patch(
    body: Option<String>,
) -> Result<BTreeMap<String, Option<String>>, ApiError> {
    let text = required(body)?;
    let (config, nulls) = config_map(object(
        &text,
        "a JSON object of connector configuration properties",
    )?)?;
    let mut patch: BTreeMap<String, Option<String>> =
        config.into_iter().map(|(k, v)| (k, Some(v))).collect();
    patch.extend(nulls.into_iter().map(|k| (k, None)));
    Ok(patch)
}

/// `POST /connectors` (`CreateConnectorRequest`).
pub(crate) struct CreateConnectorRequest {
    /// Trimmed; `""` when absent or null.
    pub(crate) name: String,
    pub(crate) config: ConfigWithNulls,
    pub(crate) initial_state: Option<TargetState>,
}

/// Parses a `POST /connectors` body.
pub(crate) fn create_connector_request(
    body: Option<String>,
) -> Result<CreateConnectorRequest, ApiError> {
    const KNOWN: &[&str] = &["name", "config", "initial_state"];
    let text = required(body)?;
    let mut obj = object(
        &text,
        "a JSON object such as {\"name\": \"...\", \"config\": {...}}",
    )?;
    if let Some(field) = obj.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(unrecognized_field(field, "CreateConnectorRequest", KNOWN));
    }
    let name = match obj.get("name").map(|raw| (scalar_text(raw), raw)) {
        None | Some((Ok(None), _)) => String::new(),
        Some((Ok(Some(n)), _)) => n.trim().to_owned(),
        Some((Err(()), raw)) => {
            return Err(ApiError::bad_request(format!(
                "The connector 'name' must be a string, got {}",
                kind(raw)
            )));
        }
    };
    let config = match obj.remove("config") {
        Some(raw) if first_char(raw.get()) == Some('{') => {
            let (config, nulls) = config_map(serde_json::from_str(raw.get()).map_err(|e| {
                ApiError::bad_request(format!("Malformed JSON in request body: {e}"))
            })?)?;
            ConfigWithNulls { config, nulls }
        }
        Some(raw) if first_char(raw.get()) != Some('n') => {
            return Err(ApiError::bad_request(format!(
                "The connector 'config' must be a JSON object of configuration properties, got {}",
                kind(&raw)
            )));
        }
        _ => {
            return Err(ApiError::bad_request(
                "The connector 'config' is missing; it must be a JSON object of configuration properties",
            ));
        }
    };
    let initial_state = match obj.get("initial_state").map(|raw| (scalar_text(raw), raw)) {
        None | Some((Ok(None), _)) => None,
        Some((Ok(Some(s)), _)) => Some(TargetState::parse_initial(&s).ok_or_else(|| {
            ApiError::bad_request(format!(
                "Invalid initial_state '{s}': expected one of RUNNING, PAUSED, STOPPED"
            ))
        })?),
        Some((Err(()), raw)) => {
            return Err(ApiError::bad_request(format!(
                "Invalid initial_state: expected one of RUNNING, PAUSED, STOPPED, got {}",
                kind(raw)
            )));
        }
    };
    Ok(CreateConnectorRequest {
        name,
        config,
        initial_state,
    })
}

/// Java's `AbstractMap.toString()` of a config that may hold nulls: `{k=v, k2=null}`.
fn java_map_string(config: &Props, nulls: &[String]) -> String {
    let mut all: BTreeMap<&str, &str> = config
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    all.extend(nulls.iter().map(|k| (k.as_str(), "null")));
    let entries: Vec<String> = all.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!("{{{}}}", entries.join(", "))
}

/// Apache's aggregated validation failure message (`AbstractHerder.maybeAddConfigErrors`).
pub(crate) fn invalid_config_message(errors: &[&str]) -> String {
    format!(
        "Connector configuration is invalid and contains the following {} error(s):\n{}\nYou can also find the above list of errors at the endpoint `/connector-plugins/{{connectorType}}/config/validate`",
        errors.len(),
        errors.join("\n")
    )
}

/// `ConnectorsResource.checkAndPutConnectorConfigName`, then the null-value check that Apache's herder
/// performs during validation: a `name` in the config must equal `name` (a null `name` counts as absent
/// and is replaced); any other null value fails as Apache's validation does.
pub(crate) fn complete_connector_config(
    name: &str,
    request: ConfigWithNulls,
) -> Result<Props, ApiError> {
    let ConfigWithNulls {
        mut config,
        mut nulls,
    } = request;
    nulls.retain(|k| k != NAME_CONFIG);
    match config.get(NAME_CONFIG) {
        Some(included) if included != name => {
            return Err(ApiError::bad_request(format!(
                "Connector name configuration ({included}) doesn't match connector name in the URL ({name})"
            )));
        }
        Some(_) => {}
        None => {
            config.insert(NAME_CONFIG.to_owned(), name.to_owned());
        }
    }
    if !nulls.is_empty() {
        if !config.contains_key(CONNECTOR_CLASS_CONFIG) {
            return Err(no_connector_type(&config, &nulls));
        }
        let errors = vec![NULL_VALUE_ERROR; nulls.len()];
        return Err(ApiError::bad_request(invalid_config_message(&errors)));
    }
    Ok(config)
}

/// `Connector config {...} contains no connector type` (Apache echoes the whole map).
pub(crate) fn no_connector_type(config: &Props, nulls: &[String]) -> ApiError {
    ApiError::bad_request(format!(
        "Connector config {} contains no connector type",
        java_map_string(config, nulls)
    ))
}

/// Parses a `PATCH /connectors/{c}/offsets` body (`ConnectorOffsets`), including Apache's resource-level
/// check that some offsets are given.
pub(crate) fn connector_offsets(body: Option<String>) -> Result<ConnectorOffsets, ApiError> {
    let text = required(body)?;
    let obj = object(&text, "a JSON object such as {\"offsets\": [...]}")?;
    if let Some(field) = obj.keys().find(|k| *k != "offsets") {
        return Err(unrecognized_field(field, "ConnectorOffsets", &["offsets"]));
    }
    let no_offsets = || {
        ApiError::bad_request(
            "Partitions / offsets need to be provided for an alter offsets request",
        )
    };
    let Some(raw) = obj.get("offsets") else {
        return Err(no_offsets());
    };
    let entries: Value = serde_json::from_str(raw.get())
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))?;
    let entries = match entries {
        Value::Null => return Err(no_offsets()),
        Value::Array(entries) => entries,
        _ => {
            return Err(ApiError::bad_request(format!(
                "The 'offsets' field must be a JSON array, got {}",
                kind(raw)
            )));
        }
    };
    if entries.is_empty() {
        return Err(no_offsets());
    }
    let mut offsets = Vec::with_capacity(entries.len());
    for entry in entries {
        let Value::Object(mut entry) = entry else {
            return Err(ApiError::bad_request(
                "Each element of 'offsets' must be a JSON object with 'partition' and 'offset'",
            ));
        };
        if let Some(field) = entry.keys().find(|k| *k != "partition" && *k != "offset") {
            return Err(unrecognized_field(
                field,
                "ConnectorOffset",
                &["partition", "offset"],
            ));
        }
        let mut map = |key: &str| match entry.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(_) => Err(ApiError::bad_request(format!(
                "The '{key}' of an offset must be a JSON object or null"
            ))),
        };
        let partition = map("partition")?;
        let offset = map("offset")?;
        offsets.push(ConnectorOffset { partition, offset });
    }
    Ok(ConnectorOffsets {
        offsets: Some(offsets),
    })
}

/// The `level` of a `PUT /admin/loggers/{l}` body; other keys are ignored.
pub(crate) fn logger_level(body: Option<String>) -> Result<String, ApiError> {
    let missing =
        || ApiError::bad_request("Desired 'level' parameter was not specified in request.");
    let text = required(body)?;
    let obj = object(&text, "a JSON object such as {\"level\": \"DEBUG\"}")?;
    let Some(raw) = obj.get("level") else {
        return Err(missing());
    };
    match scalar_text(raw) {
        Ok(Some(level)) => Ok(level),
        Ok(None) => Err(missing()),
        Err(()) => Err(ApiError::bad_request(format!(
            "The 'level' must be a string such as \"DEBUG\", got {}",
            kind(raw)
        ))),
    }
}

/// The body of the internal `POST /connectors/{c}/tasks`: a JSON array of task config maps.
pub(crate) fn task_configs(body: Option<String>) -> Result<Vec<Props>, ApiError> {
    let text = required(body)?;
    check_syntax(&text)?;
    if first_char(&text) != Some('[') {
        return Err(ApiError::bad_request(
            "The request body must be a JSON array of task configurations",
        ));
    }
    let items: Vec<Box<RawValue>> = serde_json::from_str(&text)
        .map_err(|e| ApiError::bad_request(format!("Malformed JSON in request body: {e}")))?;
    items
        .iter()
        .map(|raw| {
            let (config, nulls) = config_map(object(raw.get(), "a task configuration object")?)?;
            match nulls.first() {
                Some(k) => Err(ApiError::bad_request(format!(
                    "Invalid value for task configuration '{k}': {NULL_VALUE_ERROR}"
                ))),
                None => Ok(config),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(s: &str) -> Option<String> {
        Some(s.to_owned())
    }

    #[test]
    fn config_values_are_coerced_like_jackson() {
        let c = connector_config(some(
            r#"{"tasks.max": 1, "flag": true, "ratio": 1.50, "big": 123456789012345678901234, "s": "x", "gone": null}"#,
        ))
        .unwrap();
        assert_eq!(c.config["tasks.max"], "1");
        assert_eq!(c.config["flag"], "true");
        assert_eq!(c.config["ratio"], "1.50");
        assert_eq!(c.config["big"], "123456789012345678901234");
        assert_eq!(c.config["s"], "x");
        assert_eq!(c.nulls, ["gone"]);
    }

    #[test]
    fn nested_config_values_are_400() {
        let e = connector_config(some(r#"{"a": {"b": "c"}}"#))
            .err()
            .unwrap();
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.message(),
            "Invalid value for configuration 'a': expected a string, number or boolean, got an object"
        );
    }

    #[test]
    fn malformed_and_non_object_bodies_are_400() {
        let e = connector_config(some("{nope")).err().unwrap();
        assert_eq!(e.status(), 400);
        assert!(e.message().starts_with("Malformed JSON in request body: "));
        let e = connector_config(some("[1]")).err().unwrap();
        assert_eq!(
            e.message(),
            "The request body must be a JSON object of connector configuration properties"
        );
        let e = connector_config(None).err().unwrap();
        assert_eq!(e.status(), 400);
    }

    #[test]
    fn create_request_trims_name_and_parses_initial_state() {
        let r = create_connector_request(some(
            r#"{"name": "  a ", "config": {"k": "v"}, "initial_state": "stopped"}"#,
        ))
        .unwrap();
        assert_eq!(r.name, "a");
        assert_eq!(r.initial_state, Some(TargetState::Stopped));
        let r = create_connector_request(some(r#"{"config": {}}"#)).unwrap();
        assert_eq!(r.name, "");
        assert_eq!(r.initial_state, None);
    }

    #[test]
    fn create_request_rejects_user_errors_with_400() {
        let msg = |b: &str| {
            let e = create_connector_request(some(b)).err().unwrap();
            assert_eq!(e.status(), 400, "{b}");
            e.message().to_owned()
        };
        assert!(msg(r#"{"name": "a", "config": {}, "tasks": []}"#)
            .starts_with("Unrecognized field \"tasks\" (class org.apache.kafka.connect.runtime.rest.entities.CreateConnectorRequest), not marked as ignorable (3 known properties: \"name\", \"config\", \"initial_state\")"));
        assert!(msg(r#"{"name": "a"}"#).contains("'config' is missing"));
        assert!(msg(r#"{"name": "a", "config": null}"#).contains("'config' is missing"));
        assert!(msg(r#"{"name": "a", "config": "x"}"#).contains("got a string"));
        assert_eq!(
            msg(r#"{"name": "a", "config": {}, "initial_state": "RUNNING!"}"#),
            "Invalid initial_state 'RUNNING!': expected one of RUNNING, PAUSED, STOPPED"
        );
    }

    #[test]
    fn name_is_checked_and_inserted() {
        let with = |json: &str| connector_config(some(json)).unwrap();
        let c = complete_connector_config("a", with(r#"{"connector.class": "X"}"#)).unwrap();
        assert_eq!(c["name"], "a");
        let c = complete_connector_config("a", with(r#"{"name": null, "connector.class": "X"}"#))
            .unwrap();
        assert_eq!(c["name"], "a");
        let e = complete_connector_config("a", with(r#"{"name": "b"}"#)).unwrap_err();
        assert_eq!(
            e.message(),
            "Connector name configuration (b) doesn't match connector name in the URL (a)"
        );
    }

    #[test]
    fn null_values_fail_like_apaches_validation() {
        let with = |json: &str| connector_config(Some(json.to_owned())).unwrap();
        let e = complete_connector_config("a", with(r#"{"connector.class": "X", "topics": null}"#))
            .unwrap_err();
        assert_eq!(e.status(), 400);
        assert_eq!(
            e.message(),
            "Connector configuration is invalid and contains the following 1 error(s):\nNull value can not be supplied as the configuration value.\nYou can also find the above list of errors at the endpoint `/connector-plugins/{connectorType}/config/validate`"
        );
        let e = complete_connector_config("a", with(r#"{"topics": null, "x": "1"}"#)).unwrap_err();
        assert_eq!(
            e.message(),
            "Connector config {name=a, topics=null, x=1} contains no connector type"
        );
    }

    #[test]
    fn offsets_bodies() {
        let o = connector_offsets(some(
            r#"{"offsets": [{"partition": {"kafka_topic": "t", "kafka_partition": 0}, "offset": null}]}"#,
        ))
        .unwrap();
        let entries = o.offsets.unwrap();
        assert_eq!(entries.len(), 1);
        assert!(entries[0].offset.is_none());
        let none = "Partitions / offsets need to be provided for an alter offsets request";
        for body in ["{}", r#"{"offsets": []}"#, r#"{"offsets": null}"#] {
            assert_eq!(connector_offsets(some(body)).unwrap_err().message(), none);
        }
        for body in [
            "[]",
            r#"{"offsets": [], "x": 1}"#,
            r#"{"offsets": {}}"#,
            r#"{"offsets": [1]}"#,
            r#"{"offsets": [{"partition": {}, "offset": {}, "extra": 1}]}"#,
            r#"{"offsets": [{"partition": 5}]}"#,
        ] {
            let e = connector_offsets(some(body)).unwrap_err();
            assert_eq!(e.status(), 400, "{body}");
            assert_ne!(e.message(), none, "{body}");
        }
    }

    #[test]
    fn logger_level_bodies() {
        assert_eq!(
            logger_level(some(r#"{"level": "DEBUG", "x": [1]}"#)).unwrap(),
            "DEBUG"
        );
        let missing = "Desired 'level' parameter was not specified in request.";
        assert_eq!(logger_level(some("{}")).unwrap_err().message(), missing);
        assert_eq!(
            logger_level(some(r#"{"level": null}"#))
                .unwrap_err()
                .message(),
            missing
        );
        assert_eq!(logger_level(None).unwrap_err().status(), 400);
        assert_eq!(logger_level(some("\"DEBUG\"")).unwrap_err().status(), 400);
    }

    #[test]
    fn task_config_bodies() {
        let t = task_configs(some(r#"[{"task.class": "X", "n": 1}]"#)).unwrap();
        assert_eq!(t[0]["n"], "1");
        assert_eq!(task_configs(some("{}")).unwrap_err().status(), 400);
        assert_eq!(task_configs(some("[1]")).unwrap_err().status(), 400);
    }
}
