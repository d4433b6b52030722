//! The `Worker`: creates and runs connector instances and tasks, wiring each task to converters,
//! transforms, the log and the offset store. The herder decides *what* runs; the worker makes it run.
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use causeway_api::{
    ConnectError, ConnectorContext, ConnectorContextHandle, PluginFactory, PluginType, Props,
    SinkConnector, SinkTaskContext, SourceConnector, SourceTaskContext,
};
use causeway_log::{ConsumerConfig, LogBackend, ProducerConfig, Subscription};

use crate::client_overrides::{
    ADMIN_OVERRIDES_PREFIX, CONSUMER_OVERRIDES_PREFIX, PRODUCER_OVERRIDES_PREFIX, client_overrides,
};
use crate::task::TopicCreator;
use crate::topic_creation::TopicCreation;
use futures::FutureExt;
use parking_lot::Mutex;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::connector_config::{
    HEADER_CONVERTER_CONFIG, KEY_CONVERTER_CONFIG, TOPICS_CONFIG, TOPICS_REGEX_CONFIG,
    VALUE_CONVERTER_CONFIG,
};
use crate::herder::entities::{ConnectorTaskId, ConnectorType, State, TargetState};
use crate::metrics::{ConnectMetrics, MetricsSettings};
use crate::offset_store::{ConnectorOffsetReader, OffsetStore};
use crate::plugins::PluginRegistry;
use crate::status::{Status, StatusStore};
use crate::task::{
    DeadLetterQueue, ErrorHandler, ErrorSettings, RecordConverters, SinkTaskLoop, SourceTaskLoop,
    TaskControl, TaskReporter, TransformationChain, trace_of,
};
use crate::worker_config::{HEADER_CONVERTER_CLASS_DEFAULT, WorkerConfig};

/// Something a running connector asked of the herder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerEvent {
    /// The connector wants its task configurations regenerated.
    ReconfigurationRequested(String),
}

enum ConnectorInstance {
    Source(Box<dyn SourceConnector>),
    Sink(Box<dyn SinkConnector>),
}

impl ConnectorInstance {
    fn as_connector(&mut self) -> &mut dyn causeway_api::Connector {
        match self {
            ConnectorInstance::Source(c) => c.as_mut(),
            ConnectorInstance::Sink(c) => c.as_mut(),
        }
    }
}

struct ConnectorRunner {
    instance: Arc<tokio::sync::Mutex<ConnectorInstance>>,
    props: Props,
    started: bool,
}

struct TaskRunner {
    target: watch::Sender<TargetState>,
    stop: CancellationToken,
    handle: tokio::task::JoinHandle<()>,
}

struct ContextHandle {
    name: String,
    worker_id: String,
    status: Arc<StatusStore>,
    events: mpsc::UnboundedSender<WorkerEvent>,
}

impl ConnectorContextHandle for ContextHandle {
    fn request_task_reconfiguration(&self) {
        let _ = self
            .events
            .send(WorkerEvent::ReconfigurationRequested(self.name.clone()));
    }

    fn raise_error(&self, error: ConnectError) {
        tracing::error!(connector = %self.name, %error, "Connector raised an error.");
        self.status.put_connector(
            &self.name,
            Status {
                state: State::Failed,
                worker_id: self.worker_id.clone(),
                trace: Some(trace_of(&error)),
            },
        );
    }
}

/// Turns a panic payload into a message.
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into())
}

/// Runs a plugin call, turning a panic into a [`ConnectError::Fatal`] so a bad plugin never takes the
/// worker down.
async fn guarded<T>(
    what: &str,
    fut: impl std::future::Future<Output = Result<T, ConnectError>>,
) -> Result<T, ConnectError> {
    match std::panic::AssertUnwindSafe(fut).catch_unwind().await {
        Ok(r) => r,
        Err(payload) => Err(ConnectError::fatal(format!(
            "{what} panicked: {}",
            panic_message(payload.as_ref())
        ))),
    }
}

/// Runs connectors and tasks on this process.
pub struct Worker {
    worker_id: String,
    config: WorkerConfig,
    plugins: PluginRegistry,
    log: Arc<dyn LogBackend>,
    offsets: Arc<dyn OffsetStore>,
    status: Arc<StatusStore>,
    events: mpsc::UnboundedSender<WorkerEvent>,
    connectors: Mutex<HashMap<String, ConnectorRunner>>,
    tasks: Mutex<HashMap<ConnectorTaskId, TaskRunner>>,
    metrics: Arc<ConnectMetrics>,
}

impl Worker {
    /// A worker; `events` receives requests from running connectors.
    pub fn new(
        worker_id: String,
        config: WorkerConfig,
        plugins: PluginRegistry,
        log: Arc<dyn LogBackend>,
        offsets: Arc<dyn OffsetStore>,
        status: Arc<StatusStore>,
        events: mpsc::UnboundedSender<WorkerEvent>,
    ) -> Self {
        let metrics = Arc::new(ConnectMetrics::new(
            MetricsSettings::from_worker(&config),
            status.clone(),
        ));
        Worker {
            worker_id,
            config,
            plugins,
            log,
            offsets,
            status,
            events,
            connectors: Mutex::default(),
            tasks: Mutex::default(),
            metrics,
        }
    }

    /// This worker's metrics registry (`GET /metrics`).
    pub fn metrics(&self) -> &Arc<ConnectMetrics> {
        &self.metrics
    }

    /// This worker's id (`host:port`).
    pub fn worker_id(&self) -> &str {
        &self.worker_id
    }

    /// The worker configuration.
    pub fn config(&self) -> &WorkerConfig {
        &self.config
    }

    /// The plugin registry.
    pub fn plugins(&self) -> &PluginRegistry {
        &self.plugins
    }

    /// The log backend.
    pub fn log(&self) -> &Arc<dyn LogBackend> {
        &self.log
    }

    /// The offset store.
    pub fn offsets(&self) -> &Arc<dyn OffsetStore> {
        &self.offsets
    }

    /// The status store.
    pub fn status(&self) -> &Arc<StatusStore> {
        &self.status
    }

    fn put_connector_status(&self, name: &str, state: State, trace: Option<String>) {
        self.status.put_connector(
            name,
            Status {
                state,
                worker_id: self.worker_id.clone(),
                trace,
            },
        );
    }

    /// Reports a connector FAILED with the error's trace.
    pub fn connector_failed(&self, name: &str, error: &ConnectError) {
        self.put_connector_status(name, State::Failed, Some(trace_of(error)));
    }

    /// The type of a connector config's class.
    pub fn connector_type(&self, props: &Props) -> ConnectorType {
        let plugin = props
            .get(crate::connector_config::CONNECTOR_CLASS_CONFIG)
            .and_then(|c| self.plugins.connector(c).ok());
        crate::connector_config::connector_type(plugin)
    }

    /// Creates a connector instance and brings it to `target`. A failure to start marks it FAILED and is
    /// returned, but the instance stays registered so a restart can retry.
    ///
    /// # Errors
    /// The class cannot be resolved, or the connector failed to start.
    pub async fn start_connector(
        &self,
        name: &str,
        props: &Props,
        target: TargetState,
    ) -> Result<(), ConnectError> {
        let Some(class) = props.get(crate::connector_config::CONNECTOR_CLASS_CONFIG) else {
            self.metrics.connector_failed(name);
            return Err(ConnectError::config(
                "Connector config contains no connector type",
            ));
        };
        let plugin = match self.plugins.connector(class) {
            Ok(p) => p,
            Err(e) => {
                self.metrics.connector_failed(name);
                let err = ConnectError::config(e);
                self.put_connector_status(name, State::Failed, Some(trace_of(&err)));
                return Err(err);
            }
        };
        let instance = match plugin.factory {
            PluginFactory::Source { connector, .. } => ConnectorInstance::Source(connector()),
            PluginFactory::Sink { connector, .. } => ConnectorInstance::Sink(connector()),
            _ => {
                self.metrics.connector_failed(name);
                return Err(ConnectError::config(format!("{class} is not a connector")));
            }
        };
        self.metrics.add_connector(name);
        self.connectors.lock().insert(
            name.to_owned(),
            ConnectorRunner {
                instance: Arc::new(tokio::sync::Mutex::new(instance)),
                props: props.clone(),
                started: false,
            },
        );
        self.transition_connector(name, target).await
    }

    /// Moves a connector instance to a target state: started, or stopped (PAUSED and STOPPED both stop the
    /// instance, as Apache's `WorkerConnector` does).
    ///
    /// # Errors
    /// When starting the connector fails (it is then FAILED).
    pub async fn transition_connector(
        &self,
        name: &str,
        target: TargetState,
    ) -> Result<(), ConnectError> {
        let (instance, props, started) = {
            let guard = self.connectors.lock();
            let Some(r) = guard.get(name) else {
                return Err(ConnectError::fatal(format!(
                    "Connector {name} not found on this worker"
                )));
            };
            (r.instance.clone(), r.props.clone(), r.started)
        };
        match target {
            TargetState::Started => {
                if started {
                    self.put_connector_status(name, State::Running, None);
                    return Ok(());
                }
                let ctx = ConnectorContext::new(Arc::new(ContextHandle {
                    name: name.to_owned(),
                    worker_id: self.worker_id.clone(),
                    status: self.status.clone(),
                    events: self.events.clone(),
                }));
                let mut inst = instance.lock().await;
                let result =
                    guarded("Connector start", inst.as_connector().start(ctx, &props)).await;
                drop(inst);
                match result {
                    Ok(()) => {
                        self.metrics.connector_started(name);
                        self.set_started(name, true);
                        self.put_connector_status(name, State::Running, None);
                        tracing::info!(connector = %name, "Connector started.");
                        Ok(())
                    }
                    Err(e) => {
                        tracing::error!(connector = %name, error = %e, "Connector failed to start.");
                        self.metrics.connector_failed(name);
                        self.put_connector_status(name, State::Failed, Some(trace_of(&e)));
                        Err(e)
                    }
                }
            }
            TargetState::Paused | TargetState::Stopped => {
                if started {
                    let mut inst = instance.lock().await;
                    if let Err(e) = guarded("Connector stop", inst.as_connector().stop()).await {
                        tracing::warn!(connector = %name, error = %e, "Connector failed to stop cleanly.");
                    }
                    self.set_started(name, false);
                }
                let state = if target == TargetState::Paused {
                    State::Paused
                } else {
                    State::Stopped
                };
                self.put_connector_status(name, state, None);
                Ok(())
            }
        }
    }

    fn set_started(&self, name: &str, started: bool) {
        if let Some(r) = self.connectors.lock().get_mut(name) {
            r.started = started;
        }
    }

    /// Stops and forgets a connector instance (not its tasks).
    pub async fn stop_connector(&self, name: &str) {
        let runner = self.connectors.lock().remove(name);
        self.metrics.remove_connector(name);
        if let Some(r) = runner
            && r.started
        {
            let mut inst = r.instance.lock().await;
            if let Err(e) = guarded("Connector stop", inst.as_connector().stop()).await {
                tracing::warn!(connector = %name, error = %e, "Connector failed to stop cleanly.");
            }
            tracing::info!(connector = %name, "Connector stopped.");
        }
    }

    /// Whether a connector instance exists and is started.
    pub fn connector_running(&self, name: &str) -> bool {
        self.connectors.lock().get(name).is_some_and(|r| r.started)
    }

    /// Asks a started connector for task configs (adding `task.class`, and `topics`/`topics.regex` for
    /// sinks, as Apache's `Worker.connectorTaskConfigs` does).
    ///
    /// # Errors
    /// When the connector is not started or fails.
    pub async fn connector_task_configs(
        &self,
        name: &str,
        max_tasks: usize,
    ) -> Result<Vec<Props>, ConnectError> {
        let (instance, props) = {
            let guard = self.connectors.lock();
            let r = guard
                .get(name)
                .filter(|r| r.started)
                .ok_or_else(|| ConnectError::fatal(format!("Connector {name} is not running")))?;
            (r.instance.clone(), r.props.clone())
        };
        let mut inst = instance.lock().await;
        let is_sink = matches!(&*inst, ConnectorInstance::Sink(_));
        let configs = guarded("Connector taskConfigs", async {
            inst.as_connector().task_configs(max_tasks)
        })
        .await?;
        let class = props
            .get(crate::connector_config::CONNECTOR_CLASS_CONFIG)
            .cloned()
            .unwrap_or_default();
        let task_class = self
            .plugins
            .connector(&class)
            .map(|p| {
                let c = p.class_name;
                c.strip_suffix("Connector")
                    .map_or_else(|| format!("{c}Task"), |s| format!("{s}Task"))
            })
            .unwrap_or_default();
        Ok(configs
            .into_iter()
            .map(|mut c| {
                c.insert("task.class".into(), task_class.clone());
                if is_sink {
                    for k in [TOPICS_CONFIG, TOPICS_REGEX_CONFIG] {
                        if let Some(v) = props.get(k) {
                            c.insert(k.into(), v.clone());
                        }
                    }
                }
                c
            })
            .collect())
    }

    fn converter_props(&self, connector_props: &Props, key: &str) -> (Option<String>, Props) {
        let prefix = format!("{key}.");
        let strip = |props: &Props| -> Props {
            props
                .iter()
                .filter_map(|(k, v)| k.strip_prefix(&prefix).map(|s| (s.to_owned(), v.clone())))
                .collect()
        };
        match connector_props.get(key) {
            Some(class) => (Some(class.clone()), strip(connector_props)),
            None => (
                self.config.string(key).map(str::to_owned),
                strip(self.config.originals()),
            ),
        }
    }

    /// Builds a task's converters: the connector's own if it sets them, else the worker's.
    ///
    /// # Errors
    /// Unknown converter classes or invalid converter settings.
    pub fn converters(&self, connector_props: &Props) -> Result<RecordConverters, ConnectError> {
        let make =
            |key: &str,
             is_key: bool|
             -> Result<(Box<dyn causeway_api::Converter>, &'static str), ConnectError> {
                let (class, mut props) = self.converter_props(connector_props, key);
                let class = class.ok_or_else(|| {
                    ConnectError::config(format!(
                        "Missing required configuration \"{key}\" which has no default value."
                    ))
                })?;
                let plugin = self
                .plugins
                .find(PluginType::Converter, &class)
                .ok_or_else(|| ConnectError::config(format!("Invalid value {class} for configuration {key}: Class {class} could not be found.")))?;
                let PluginFactory::Converter(new) = plugin.factory else {
                    return Err(ConnectError::config(format!("{class} is not a converter")));
                };
                props.insert(
                    "converter.type".into(),
                    if is_key { "key" } else { "value" }.into(),
                );
                let mut c = new();
                c.configure(&props, is_key)?;
                Ok((c, plugin.class_name))
            };
        let (key, key_class) = make(KEY_CONVERTER_CONFIG, true)?;
        let (value, value_class) = make(VALUE_CONVERTER_CONFIG, false)?;
        let (class, mut props) = self.converter_props(connector_props, HEADER_CONVERTER_CONFIG);
        let class = class.unwrap_or_else(|| HEADER_CONVERTER_CLASS_DEFAULT.to_owned());
        let plugin = self
            .plugins
            .find(PluginType::HeaderConverter, &class)
            .ok_or_else(|| ConnectError::config(format!("Invalid value {class} for configuration header.converter: Class {class} could not be found.")))?;
        let PluginFactory::HeaderConverter(new) = plugin.factory else {
            return Err(ConnectError::config(format!(
                "{class} is not a header converter"
            )));
        };
        props.insert("converter.type".into(), "header".into());
        let mut header = new();
        header.configure(&props)?;
        Ok(RecordConverters {
            key,
            value,
            header,
            classes: [key_class, value_class, plugin.class_name],
        })
    }

    /// Starts a task. Build failures mark it FAILED and are returned.
    ///
    /// # Errors
    /// When the task cannot be built (unknown class, bad converter or transform config).
    pub fn start_task(
        &self,
        id: ConnectorTaskId,
        connector_props: &Props,
        task_props: Props,
        target: TargetState,
    ) -> Result<(), ConnectError> {
        let reporter = TaskReporter {
            id: id.clone(),
            worker_id: self.worker_id.clone(),
            status: self.status.clone(),
            track_topics: self.config.topic_tracking_enabled(),
            metrics: self
                .metrics
                .add_task(&id, self.connector_type(connector_props)),
        };
        match self.build_task(&id, connector_props, task_props, target, reporter.clone()) {
            Ok(runner) => {
                self.tasks.lock().insert(id, runner);
                Ok(())
            }
            Err(e) => {
                self.metrics.remove_task(&id);
                reporter.failed(trace_of(&e));
                Err(e)
            }
        }
    }

    fn build_task(
        &self,
        id: &ConnectorTaskId,
        connector_props: &Props,
        task_props: Props,
        target: TargetState,
        reporter: TaskReporter,
    ) -> Result<TaskRunner, ConnectError> {
        let class = connector_props
            .get(crate::connector_config::CONNECTOR_CLASS_CONFIG)
            .cloned()
            .unwrap_or_default();
        let plugin = self
            .plugins
            .connector(&class)
            .map_err(ConnectError::config)?;
        let converters = self.converters(connector_props)?;
        let chain = TransformationChain::build(connector_props, &self.plugins)?;
        let error_settings = ErrorSettings::from_props(connector_props);
        let (target_tx, target_rx) = watch::channel(target);
        let stop = CancellationToken::new();
        let control = TaskControl {
            target: target_rx,
            stop: stop.clone(),
        };
        let props = Arc::new(task_props);
        let name = id.connector.clone();
        let fut: futures::future::BoxFuture<'static, Result<(), ConnectError>> = match plugin
            .factory
        {
            PluginFactory::Source { task, .. } => {
                let producer = self
                    .log
                    .producer(ProducerConfig {
                        client_id: format!("connector-producer-{id}"),
                        properties: client_overrides(connector_props, PRODUCER_OVERRIDES_PREFIX),
                    })
                    .map_err(|e| ConnectError::fatal(format!("Failed to create producer: {e}")))?;
                let context = SourceTaskContext::new(
                    Arc::new(ConnectorOffsetReader::new(
                        name.clone(),
                        self.offsets.clone(),
                    )),
                    props.clone(),
                );
                let topic_creation = if self.config.topic_creation_enabled() {
                    TopicCreation::from_props(connector_props)?
                } else {
                    None
                };
                SourceTaskLoop {
                    task: task(),
                    topic_creation: topic_creation.map(|tc| {
                        TopicCreator::new(
                            tc,
                            self.log.clone(),
                            client_overrides(connector_props, ADMIN_OVERRIDES_PREFIX),
                        )
                    }),
                    props,
                    context,
                    chain,
                    converters,
                    producer,
                    offsets: self.offsets.clone(),
                    control,
                    reporter: reporter.clone(),
                    errors: ErrorHandler::new(id.clone(), error_settings, None, stop.clone())
                        .with_metrics(reporter.metrics.clone()),
                    flush_interval: self.config.offset_flush_interval(),
                    flush_timeout: self.config.offset_flush_timeout(),
                }
                .run()
                .boxed()
            }
            PluginFactory::Sink { task, .. } => {
                let subscription = sink_subscription(connector_props)?;
                let group_id = connector_props
                    .get("consumer.override.group.id")
                    .cloned()
                    .unwrap_or_else(|| format!("connect-{name}"));
                let consumer = self
                    .log
                    .consumer(ConsumerConfig {
                        group_id,
                        client_id: format!("connector-consumer-{id}"),
                        properties: client_overrides(connector_props, CONSUMER_OVERRIDES_PREFIX),
                    })
                    .map_err(|e| ConnectError::fatal(format!("Failed to create consumer: {e}")))?;
                let dlq = if error_settings.dlq_topic.is_empty() {
                    None
                } else {
                    let producer = self
                        .log
                        .producer(ProducerConfig {
                            client_id: format!("connector-dlq-producer-{id}"),
                            properties: client_overrides(
                                connector_props,
                                PRODUCER_OVERRIDES_PREFIX,
                            ),
                        })
                        .map_err(|e| {
                            ConnectError::fatal(format!(
                                "Failed to create dead letter queue producer: {e}"
                            ))
                        })?;
                    Some(DeadLetterQueue::new(
                        &error_settings,
                        producer,
                        self.log.clone(),
                        client_overrides(connector_props, ADMIN_OVERRIDES_PREFIX),
                    ))
                };
                SinkTaskLoop {
                    task: task(),
                    context: SinkTaskContext::new(props.clone()),
                    props,
                    chain,
                    converters,
                    consumer,
                    subscription,
                    control,
                    reporter: reporter.clone(),
                    errors: ErrorHandler::new(id.clone(), error_settings, dlq, stop.clone())
                        .with_metrics(reporter.metrics.clone()),
                    commit_interval: self.config.offset_flush_interval(),
                }
                .run()
                .boxed()
            }
            _ => return Err(ConnectError::config(format!("{class} is not a connector"))),
        };
        let task_id = id.clone();
        let handle = tokio::spawn(async move {
            tracing::info!(task = %task_id, "Task starting.");
            match guarded("Task", fut).await {
                Ok(()) => tracing::info!(task = %task_id, "Task stopped."),
                Err(e) => reporter.failed(trace_of(&e)),
            }
        });
        Ok(TaskRunner {
            target: target_tx,
            stop,
            handle,
        })
    }

    /// Pauses or resumes a running task.
    pub fn set_task_target(&self, id: &ConnectorTaskId, target: TargetState) {
        if let Some(t) = self.tasks.lock().get(id) {
            let _ = t.target.send(target);
        }
    }

    /// Ids of the running tasks of a connector.
    pub fn task_ids(&self, connector: &str) -> Vec<ConnectorTaskId> {
        let mut ids: Vec<ConnectorTaskId> = self
            .tasks
            .lock()
            .keys()
            .filter(|id| id.connector == connector)
            .cloned()
            .collect();
        ids.sort();
        ids
    }

    /// Stops tasks and waits for them within `task.shutdown.graceful.timeout.ms` in total; tasks that miss
    /// the deadline are aborted.
    pub async fn stop_tasks(&self, ids: &[ConnectorTaskId]) {
        let runners: Vec<(ConnectorTaskId, TaskRunner)> = {
            let mut tasks = self.tasks.lock();
            ids.iter()
                .filter_map(|id| tasks.remove(id).map(|r| (id.clone(), r)))
                .collect()
        };
        for (id, _) in &runners {
            self.metrics.remove_task(id);
        }
        for (_, r) in &runners {
            r.stop.cancel();
        }
        let deadline = tokio::time::Instant::now() + self.config.task_shutdown_timeout();
        for (id, r) in runners {
            let abort = r.handle.abort_handle();
            if tokio::time::timeout_at(deadline, r.handle).await.is_err() {
                tracing::error!(task = %id, "Graceful stop of task failed; aborting it.");
                abort.abort();
            }
        }
    }

    /// Stops every task and connector (worker shutdown).
    pub async fn stop_all(&self) {
        let ids: Vec<ConnectorTaskId> = self.tasks.lock().keys().cloned().collect();
        self.stop_tasks(&ids).await;
        let names: Vec<String> = self.connectors.lock().keys().cloned().collect();
        for n in names {
            self.stop_connector(&n).await;
        }
    }

    /// How long the worker waits for tasks to stop.
    pub fn shutdown_timeout(&self) -> Duration {
        self.config.task_shutdown_timeout()
    }
}

/// The subscription of a sink connector from `topics` or `topics.regex` (Java regexes match whole names).
///
/// # Errors
/// Neither set, or an invalid regex.
pub fn sink_subscription(props: &Props) -> Result<Subscription, ConnectError> {
    let topics: Vec<String> = props
        .get(TOPICS_CONFIG)
        .map(|s| {
            s.split(',')
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !topics.is_empty() {
        return Ok(Subscription::Topics(topics));
    }
    match props
        .get(TOPICS_REGEX_CONFIG)
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        // As written: each backend anchors it for a whole-name match (Java's `matches()`).
        Some(re) => regex::Regex::new(re)
            .map(Subscription::Pattern)
            .map_err(|e| {
                ConnectError::config(format!(
                    "Invalid value {re} for configuration topics.regex: {e}"
                ))
            }),
        None => Err(ConnectError::config(
            "Must configure one of topics or topics.regex",
        )),
    }
}
