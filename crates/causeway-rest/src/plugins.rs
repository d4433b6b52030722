//! `/connector-plugins/**` (Apache's `ConnectorPluginsResource`).
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use causeway_runtime::herder::entities::{ConfigInfo, ConfigInfos, ConfigValueInfo, PluginInfo};

use crate::body::{self, NULL_VALUE_ERROR};
use crate::error::ApiError;
use crate::extract::{JsonBody, PathParams, Query};
use crate::router::{AppState, timed};
use crate::version_range::VersionRange;

type ApiResult = Result<Response, ApiError>;

const CONNECTOR_CLASS_CONFIG: &str = "connector.class";
const ALIAS_SUFFIX: &str = "Connector";

/// `GET /connector-plugins[?connectorsOnly=false]` (default: connectors only).
pub(crate) async fn list(State(s): State<AppState>, query: Query) -> ApiResult {
    let connectors_only = query.boolean("connectorsOnly", true);
    Ok(Json(s.herder.connector_plugins(connectors_only)).into_response())
}

/// The simple class name (after the last `.` and `$`).
fn simple_name(class: &str) -> &str {
    let simple = class.rsplit('.').next().unwrap_or(class);
    simple.rsplit('$').next().unwrap_or(simple)
}

/// `PluginUtils.prunedName`: the simple name cut at the last occurrence of the type's suffix.
fn pruned_name<'a>(class: &'a str, plugin_type: &str) -> &'a str {
    let suffix = match plugin_type {
        "source" | "sink" => "Connector",
        "converter" => "Converter",
        "header_converter" => "HeaderConverter",
        "transformation" => "Transformation",
        "predicate" => "Predicate",
        _ => return simple_name(class),
    };
    let simple = simple_name(class);
    match simple.rfind(suffix) {
        Some(pos) if pos > 0 => &simple[..pos],
        _ => simple,
    }
}

fn names_plugin(p: &str, plugin: &PluginInfo) -> bool {
    plugin.class == p
        || simple_name(&plugin.class) == p
        || pruned_name(&plugin.class, &plugin.plugin_type) == p
}

/// `GET /connector-plugins/{p}/config[?version=]`.
///
/// `version` is `latest` (the default), a bare version (exactly that one) or a Maven range; a malformed one
/// is 400 `Invalid version specification: <v>`. With one installed version per plugin, a requirement is
/// checked against it.
pub(crate) async fn config(
    State(s): State<AppState>,
    PathParams(p): PathParams<String>,
    query: Query,
) -> ApiResult {
    let version = query.first("version");
    let requirement = VersionRange::requirement(version).map_err(|_| {
        ApiError::bad_request(format!(
            "Invalid version specification: {}",
            version.unwrap_or_default()
        ))
    })?;
    let definitions = s.herder.connector_plugin_config(&p)?;
    if let Some(range) = requirement {
        let installed: Vec<PluginInfo> = s
            .herder
            .connector_plugins(false)
            .into_iter()
            .filter(|plugin| names_plugin(&p, plugin))
            .collect();
        let versions: Vec<&str> = installed
            .iter()
            .filter_map(|plugin| plugin.version.as_deref())
            .collect();
        // A plugin without a version (or one we cannot find in the listing) is not held to the range.
        let satisfied = installed.is_empty()
            || installed.iter().any(|plugin| plugin.version.is_none())
            || versions.iter().any(|v| range.contains(v));
        if !satisfied {
            return Err(ApiError::bad_request(format!(
                "Plugin {p} not found that matches the version range {range}, available versions: [{}]",
                versions.join(", ")
            )));
        }
    }
    Ok(Json(definitions).into_response())
}

/// Apache's `normalizedPluginName`: a trailing `Connector` is dropped when something precedes it.
fn normalized_plugin_name(name: &str) -> &str {
    if name.len() > ALIAS_SUFFIX.len() {
        name.strip_suffix(ALIAS_SUFFIX).unwrap_or(name)
    } else {
        name
    }
}

/// `PUT /connector-plugins/{p}/config/validate`: 200 ConfigInfos even with errors.
///
/// `{p}` is only checked against the body's `connector.class`: after dropping a trailing `Connector` from
/// both, the class must end with `{p}`. JSON null values are reported as validation errors on their keys.
pub(crate) async fn validate(
    State(s): State<AppState>,
    PathParams(p): PathParams<String>,
    JsonBody(body): JsonBody,
) -> ApiResult {
    let body::ConfigWithNulls { config, nulls } = body::connector_config(body)?;
    if let Some(class) = config.get(CONNECTOR_CLASS_CONFIG)
        && !normalized_plugin_name(class).ends_with(normalized_plugin_name(&p))
    {
        return Err(ApiError::bad_request(format!(
            "Included connector type {class} does not match request type {p}"
        )));
    }
    if nulls.is_empty() {
        return Ok(Json(timed(s.herder.validate_connector_config(config)).await?).into_response());
    }
    if !config.contains_key(CONNECTOR_CLASS_CONFIG) {
        return Err(body::no_connector_type(&config, &nulls));
    }
    let mut infos = timed(s.herder.validate_connector_config(config)).await?;
    add_null_value_errors(&mut infos, &nulls);
    Ok(Json(infos).into_response())
}

/// Adds Apache's null-value error to each key given as JSON null: on the key's entry when the validation
/// reported one, else as a value-only entry (`definition: null`), which Apache lists first.
fn add_null_value_errors(infos: &mut ConfigInfos, nulls: &[String]) {
    let mut value_only = Vec::new();
    for key in nulls {
        let existing = infos
            .configs
            .iter_mut()
            .filter_map(|c| c.value.as_mut())
            .find(|v| &v.name == key);
        match existing {
            Some(value) => {
                value.value = None;
                value.errors.push(NULL_VALUE_ERROR.to_owned());
            }
            None => value_only.push(ConfigInfo {
                definition: None,
                value: Some(ConfigValueInfo {
                    name: key.clone(),
                    value: None,
                    recommended_values: Vec::new(),
                    errors: vec![NULL_VALUE_ERROR.to_owned()],
                    visible: true,
                }),
            }),
        }
        infos.error_count += 1;
    }
    infos.configs.splice(0..0, value_only);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(class: &str, t: &str) -> PluginInfo {
        PluginInfo {
            class: class.into(),
            plugin_type: t.into(),
            version: None,
        }
    }

    #[test]
    fn plugin_names_resolve_like_apache_aliases() {
        let sink = plugin(
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            "sink",
        );
        assert!(names_plugin(
            "org.apache.kafka.connect.file.FileStreamSinkConnector",
            &sink
        ));
        assert!(names_plugin("FileStreamSinkConnector", &sink));
        assert!(names_plugin("FileStreamSink", &sink));
        assert!(!names_plugin("FileStream", &sink));
        let hc = plugin(
            "org.apache.kafka.connect.storage.SimpleHeaderConverter",
            "header_converter",
        );
        assert!(names_plugin("Simple", &hc));
        let smt = plugin(
            "org.apache.kafka.connect.transforms.InsertField$Value",
            "transformation",
        );
        assert!(names_plugin("Value", &smt));
    }

    #[test]
    fn normalized_names() {
        assert_eq!(
            normalized_plugin_name("FileStreamSinkConnector"),
            "FileStreamSink"
        );
        assert_eq!(normalized_plugin_name("Connector"), "Connector");
        assert_eq!(normalized_plugin_name("FileStreamSink"), "FileStreamSink");
    }
}
