//! Herder operations that read the worker only (statuses, topics, plugins, validation), shared by the
//! standalone and distributed herders so both answer them identically.
use std::collections::BTreeMap;

use causeway_api::Props;

use super::entities::*;
use super::{HerderError, HerderResult};
use crate::connector_config::{
    self, CONNECTOR_CLASS_CONFIG, invalid_config_message, validate_connector_config,
};
use crate::worker::Worker;

/// Applies a `PATCH /connectors/{c}/config` body: `null` removes a key.
pub fn apply_patch(config: &mut Props, patch: BTreeMap<String, Option<String>>) {
    for (k, v) in patch {
        match v {
            Some(v) => {
                config.insert(k, v);
            }
            None => {
                config.remove(&k);
            }
        }
    }
}

/// Validates a connector config for a create or update: Apache's 400 with every error.
///
/// # Errors
/// The config is invalid.
pub fn validate_or_reject(worker: &Worker, config: &Props) -> HerderResult<()> {
    let infos = validate_connector_config(
        config,
        worker.plugins(),
        &connector_config::ValidationSettings::of(worker.config()),
    )
    .map_err(|f| HerderError::BadRequest(f.0))?;
    if infos.error_count > 0 {
        return Err(HerderError::BadRequest(invalid_config_message(&infos)));
    }
    Ok(())
}

/// `PUT /connector-plugins/{p}/config/validate`.
///
/// # Errors
/// A config without `connector.class`, or a class that is not a connector.
pub fn validate(worker: &Worker, config: &Props) -> HerderResult<ConfigInfos> {
    if !config.contains_key(CONNECTOR_CLASS_CONFIG) {
        return Err(HerderError::BadRequest(format!(
            "Connector config {} contains no connector type",
            connector_config::java_map_string(config)
        )));
    }
    validate_connector_config(
        config,
        worker.plugins(),
        &connector_config::ValidationSettings::of(worker.config()),
    )
    .map_err(|f| HerderError::BadRequest(f.0))
}

/// `GET /connector-plugins/{p}/config`.
///
/// # Errors
/// An unknown plugin.
pub fn plugin_config(worker: &Worker, plugin: &str) -> HerderResult<Vec<ConfigKeyInfo>> {
    let plugins = worker.plugins();
    let p = plugins
        .any(plugin)
        .ok_or_else(|| HerderError::NotFound(format!("Unknown plugin {plugin}.")))?;
    Ok(connector_config::plugin_config_listing(p, plugins))
}

/// `GET /connectors/{c}/status` from the worker's status store; `config` gives the connector type.
///
/// # Errors
/// No status for the connector.
pub fn connector_status(
    worker: &Worker,
    name: &str,
    config: Option<&Props>,
) -> HerderResult<ConnectorStateInfo> {
    let status = worker.status();
    let connector = status
        .connector(name)
        .ok_or_else(|| HerderError::NotFound(format!("No status found for connector {name}")))?;
    let tasks = status
        .tasks_of(name)
        .into_iter()
        .map(|(id, s)| TaskState {
            id,
            state: s.state,
            worker_id: s.worker_id,
            trace: s.trace,
            version: Some(causeway_api::VERSION.to_owned()),
        })
        .collect();
    Ok(ConnectorStateInfo {
        name: name.to_owned(),
        connector: ConnectorState {
            state: connector.state,
            worker_id: connector.worker_id,
            trace: connector.trace,
            version: Some(causeway_api::VERSION.to_owned()),
        },
        tasks,
        connector_type: config.map_or(ConnectorType::Unknown, |c| worker.connector_type(c)),
    })
}

/// `GET /connectors/{c}/tasks/{t}/status`.
///
/// # Errors
/// No status for the task.
pub fn task_status(worker: &Worker, id: &ConnectorTaskId) -> HerderResult<TaskState> {
    let s = worker
        .status()
        .task(id)
        .ok_or_else(|| HerderError::NotFound(format!("No status found for task {id}")))?;
    Ok(TaskState {
        id: id.task,
        state: s.state,
        worker_id: s.worker_id,
        trace: s.trace,
        version: Some(causeway_api::VERSION.to_owned()),
    })
}

/// `GET /connectors/{c}/topics`.
///
/// # Errors
/// Topic tracking is disabled.
pub fn active_topics(worker: &Worker, name: &str) -> HerderResult<Vec<String>> {
    if !worker.config().topic_tracking_enabled() {
        return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
    }
    Ok(worker.status().topics(name))
}

/// `PUT /connectors/{c}/topics/reset`.
///
/// # Errors
/// Topic tracking or its reset is disabled.
pub fn reset_active_topics(worker: &Worker, name: &str) -> HerderResult<()> {
    if !worker.config().topic_tracking_enabled() {
        return Err(HerderError::Forbidden("Topic tracking is disabled.".into()));
    }
    if !worker.config().topic_tracking_reset_allowed() {
        return Err(HerderError::Forbidden(
            "Topic tracking reset is disabled.".into(),
        ));
    }
    worker.status().reset_topics(name);
    Ok(())
}
