//! Connect's built-in metrics (Apache's `ConnectMetrics` with its worker, connector, task, source-task,
//! sink-task and task-error metric groups), exported in the Prometheus text format.
//!
//! One [`ConnectMetrics`] belongs to each [`Worker`](crate::worker::Worker). Each task gets a
//! [`TaskMetrics`] handle once, when it starts; the task loop records through it with atomic operations
//! only (no locks, no map lookups), and only per batch where time is involved. Rates, averages and maxima
//! are computed at scrape time over Connect's sampled window (`metrics.sample.window.ms` × `metrics.num.samples`,
//! 30 s × 2 by default). Removing a connector or task from the registry removes its series, as Connect
//! closes its metric groups.
//!
//! Names follow Connect's JMX names: `kafka_connect_<group>_<attribute>` with `-` turned into `_`
//! (`kafka_connect_source_task_metrics_source_record_poll_total{connector="c",task="0"}`). Cumulative
//! counts are Prometheus counters (named with a `_total` suffix, which the encoder adds), everything else is
//! a gauge. Connect's string-valued `status` attributes become one series per object with the current state
//! as a `state` label and the value 1.
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parking_lot::Mutex;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

use crate::herder::entities::{ConnectorTaskId, ConnectorType, State};
use crate::status::StatusStore;
use crate::worker_config::WorkerConfig;

/// The `Content-Type` of a scrape (Prometheus text format 0.0.4).
pub const CONTENT_TYPE: &str = prometheus_client::encoding::prometheus_text::CONTENT_TYPE;

/// Worker setting: the length of one metrics sample window (Apache's `metrics.sample.window.ms`).
pub const METRICS_SAMPLE_WINDOW_MS_CONFIG: &str = "metrics.sample.window.ms";
/// Worker setting: how many sample windows rates, averages and maxima cover (`metrics.num.samples`).
pub const METRICS_NUM_SAMPLES_CONFIG: &str = "metrics.num.samples";
/// Apache's default sample window, 30 s.
pub const METRICS_SAMPLE_WINDOW_MS_DEFAULT: u64 = 30_000;
/// Apache's default number of samples, 2.
pub const METRICS_NUM_SAMPLES_DEFAULT: usize = 2;

/// The sampling of windowed statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsSettings {
    /// Length of one sample window in ms (at least 1).
    pub sample_window_ms: u64,
    /// Number of sample windows kept (at least 1).
    pub num_samples: usize,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            sample_window_ms: METRICS_SAMPLE_WINDOW_MS_DEFAULT,
            num_samples: METRICS_NUM_SAMPLES_DEFAULT,
        }
    }
}

impl MetricsSettings {
    /// Reads `metrics.sample.window.ms` and `metrics.num.samples` from the worker properties; values that
    /// are absent, unparsable or below 1 fall back to Apache's defaults.
    pub fn from_worker(config: &WorkerConfig) -> Self {
        let number = |key: &str| {
            config
                .originals()
                .get(key)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n >= 1)
        };
        MetricsSettings {
            sample_window_ms: number(METRICS_SAMPLE_WINDOW_MS_CONFIG)
                .unwrap_or(METRICS_SAMPLE_WINDOW_MS_DEFAULT),
            num_samples: number(METRICS_NUM_SAMPLES_CONFIG)
                .and_then(|n| usize::try_from(n).ok())
                .unwrap_or(METRICS_NUM_SAMPLES_DEFAULT),
        }
    }

    fn sanitized(self) -> Self {
        MetricsSettings {
            sample_window_ms: self.sample_window_ms.max(1),
            num_samples: self.num_samples.max(1),
        }
    }
}

/// Milliseconds since the registry was created: the time base of every sample window.
#[derive(Debug, Clone, Copy)]
struct Clock {
    epoch: Instant,
}

impl Clock {
    fn now_ms(self) -> u64 {
        u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX)
    }
}

/// One sample window's events: which window (1-based window number, 0 = never used), when its first event
/// came (Connect's sample start), count, sum and max.
#[derive(Debug, Default)]
struct Sample {
    window: AtomicU64,
    start_ms: AtomicU64,
    count: AtomicU64,
    sum: AtomicU64,
    max: AtomicU64,
}

/// What a windowed statistic saw in the windows still kept at some instant.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Observed {
    count: u64,
    sum: u64,
    max: u64,
    /// First event of the oldest kept window, in ms since the clock's epoch.
    oldest_start_ms: Option<u64>,
}

/// Connect's `SampledStat` on a fixed grid: windows of `sample_window_ms` numbered from the registry's
/// creation, `num_samples` of them kept. Recording is lock-free; a concurrent scrape may see a window that
/// is being reset as empty, which only matters at window boundaries.
#[derive(Debug)]
struct Windowed {
    samples: Box<[Sample]>,
}

impl Windowed {
    fn new(settings: MetricsSettings) -> Self {
        Windowed {
            samples: (0..settings.num_samples)
                .map(|_| Sample::default())
                .collect(),
        }
    }

    fn record(&self, settings: MetricsSettings, now_ms: u64, value: u64) {
        let window = now_ms / settings.sample_window_ms + 1;
        let sample = &self.samples[(window % self.samples.len() as u64) as usize];
        let seen = sample.window.load(Ordering::Acquire);
        if seen != window
            && sample
                .window
                .compare_exchange(seen, window, Ordering::AcqRel, Ordering::Acquire)
                .is_ok()
        {
            sample.start_ms.store(now_ms, Ordering::Relaxed);
            sample.count.store(0, Ordering::Relaxed);
            sample.sum.store(0, Ordering::Relaxed);
            sample.max.store(0, Ordering::Relaxed);
        }
        sample.count.fetch_add(1, Ordering::Relaxed);
        sample.sum.fetch_add(value, Ordering::Relaxed);
        sample.max.fetch_max(value, Ordering::Relaxed);
    }

    fn observe(&self, settings: MetricsSettings, now_ms: u64) -> Observed {
        let current = now_ms / settings.sample_window_ms + 1;
        let kept = self.samples.len() as u64;
        let mut seen = Observed {
            count: 0,
            sum: 0,
            max: 0,
            oldest_start_ms: None,
        };
        for sample in self.samples.iter() {
            let window = sample.window.load(Ordering::Acquire);
            if window == 0 || window > current || current - window >= kept {
                continue;
            }
            let count = sample.count.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            seen.count += count;
            seen.sum += sample.sum.load(Ordering::Relaxed);
            seen.max = seen.max.max(sample.max.load(Ordering::Relaxed));
            let start = sample.start_ms.load(Ordering::Relaxed);
            seen.oldest_start_ms = Some(seen.oldest_start_ms.map_or(start, |o| o.min(start)));
        }
        seen
    }

    /// Connect's `Rate`: the sum over the kept windows per second of elapsed window time, where the elapsed
    /// time counts at least `num_samples - 1` full windows (so a young statistic does not report spikes).
    fn rate(&self, settings: MetricsSettings, now_ms: u64) -> f64 {
        let seen = self.observe(settings, now_ms);
        let start = seen.oldest_start_ms.unwrap_or(now_ms).min(now_ms);
        let mut elapsed = now_ms - start;
        let full_windows = elapsed / settings.sample_window_ms;
        let min_full_windows = settings.num_samples as u64 - 1;
        if full_windows < min_full_windows {
            elapsed += (min_full_windows - full_windows) * settings.sample_window_ms;
        }
        seen.sum as f64 / (elapsed.max(1) as f64 / 1000.0)
    }

    /// Connect's `Avg`: NaN when nothing was recorded in the kept windows.
    fn avg(&self, settings: MetricsSettings, now_ms: u64) -> f64 {
        let seen = self.observe(settings, now_ms);
        if seen.count == 0 {
            f64::NAN
        } else {
            seen.sum as f64 / seen.count as f64
        }
    }

    /// Connect's `Max`: NaN when nothing was recorded in the kept windows.
    fn max(&self, settings: MetricsSettings, now_ms: u64) -> f64 {
        let seen = self.observe(settings, now_ms);
        if seen.count == 0 {
            f64::NAN
        } else {
            seen.max as f64
        }
    }

    /// Connect's boolean `Frequencies` over values recorded as 1 (true) or 0 (false): the fraction of
    /// events that were `true` (or `false`), 0 when there were none.
    fn frequency(&self, settings: MetricsSettings, now_ms: u64, of_true: bool) -> f64 {
        let seen = self.observe(settings, now_ms);
        if seen.count == 0 {
            return 0.0;
        }
        let hits = if of_true {
            seen.sum
        } else {
            seen.count - seen.sum
        };
        hits as f64 / seen.count as f64
    }
}

/// A cumulative count with its windowed rate (a Connect sensor with `Rate` and `CumulativeSum`).
#[derive(Debug)]
struct Counted {
    total: AtomicU64,
    window: Windowed,
}

impl Counted {
    fn new(settings: MetricsSettings) -> Self {
        Counted {
            total: AtomicU64::new(0),
            window: Windowed::new(settings),
        }
    }

    fn record(&self, settings: MetricsSettings, now_ms: u64, n: u64) {
        self.total.fetch_add(n, Ordering::Relaxed);
        self.window.record(settings, now_ms, n);
    }

    fn total(&self) -> u64 {
        self.total.load(Ordering::Relaxed)
    }
}

/// Worker-wide startup counters (`WorkerMetricsGroup`).
#[derive(Debug)]
struct WorkerStats {
    connector_success: AtomicU64,
    connector_failure: AtomicU64,
    connector_results: Windowed,
    task_success: AtomicU64,
    task_failure: AtomicU64,
    task_results: Windowed,
}

impl WorkerStats {
    fn new(settings: MetricsSettings) -> Self {
        WorkerStats {
            connector_success: AtomicU64::new(0),
            connector_failure: AtomicU64::new(0),
            connector_results: Windowed::new(settings),
            task_success: AtomicU64::new(0),
            task_failure: AtomicU64::new(0),
            task_results: Windowed::new(settings),
        }
    }
}

/// Everything shared between the registry and its collector.
struct Shared {
    settings: MetricsSettings,
    clock: Clock,
    status: Arc<StatusStore>,
    worker: Arc<WorkerStats>,
    connectors: Mutex<BTreeMap<String, Arc<ConnectorGroup>>>,
    tasks: Mutex<BTreeMap<ConnectorTaskId, Arc<TaskGroup>>>,
}

impl Shared {
    fn record_connector_startup(&self, succeeded: bool) {
        let counter = if succeeded {
            &self.worker.connector_success
        } else {
            &self.worker.connector_failure
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.worker.connector_results.record(
            self.settings,
            self.clock.now_ms(),
            u64::from(succeeded),
        );
    }
}

/// One connector instance on this worker (`connector-metrics`).
#[derive(Debug, Default)]
struct ConnectorGroup {
    startup_succeeded: AtomicBool,
}

/// The per-task counters and statistics of every task metric group; a task exports the groups of its kind.
#[derive(Debug)]
struct TaskGroup {
    id: ConnectorTaskId,
    kind: ConnectorType,
    settings: MetricsSettings,
    clock: Clock,
    worker: Arc<WorkerStats>,
    startup_succeeded: AtomicBool,
    // connector-task-metrics
    commit_time: Windowed,
    commit_results: Windowed,
    batch_size: Windowed,
    // source-task-metrics
    poll: Counted,
    write: Counted,
    poll_time: Windowed,
    // sink-task-metrics
    read: Counted,
    send: Counted,
    put_time: Windowed,
    commit_completion: Counted,
    // task-error-metrics
    record_failures: AtomicU64,
    record_errors: AtomicU64,
    records_skipped: AtomicU64,
    retries: AtomicU64,
    errors_logged: AtomicU64,
    dlq_produce_requests: AtomicU64,
    dlq_produce_failures: AtomicU64,
    last_error_timestamp: AtomicU64,
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// A task's handle on its metric groups, obtained once when the task starts. Cloning is cheap; every
/// `record_*` call is a few atomic operations.
#[derive(Debug, Clone)]
pub struct TaskMetrics {
    group: Arc<TaskGroup>,
}

impl TaskMetrics {
    fn new(shared: &Shared, id: ConnectorTaskId, kind: ConnectorType) -> Self {
        let settings = shared.settings;
        let clock = shared.clock;
        TaskMetrics {
            group: Arc::new(TaskGroup {
                id,
                kind,
                settings,
                clock,
                worker: shared.worker.clone(),
                startup_succeeded: AtomicBool::new(false),
                commit_time: Windowed::new(settings),
                commit_results: Windowed::new(settings),
                batch_size: Windowed::new(settings),
                poll: Counted::new(settings),
                write: Counted::new(settings),
                poll_time: Windowed::new(settings),
                read: Counted::new(settings),
                send: Counted::new(settings),
                put_time: Windowed::new(settings),
                commit_completion: Counted::new(settings),
                record_failures: AtomicU64::new(0),
                record_errors: AtomicU64::new(0),
                records_skipped: AtomicU64::new(0),
                retries: AtomicU64::new(0),
                errors_logged: AtomicU64::new(0),
                dlq_produce_requests: AtomicU64::new(0),
                dlq_produce_failures: AtomicU64::new(0),
                last_error_timestamp: AtomicU64::new(0),
            }),
        }
    }

    /// A handle registered nowhere (for components used outside a worker, and tests): it records, but no
    /// scrape shows it.
    pub fn detached(id: ConnectorTaskId) -> Self {
        ConnectMetrics::new(MetricsSettings::default(), Arc::new(StatusStore::new()))
            .detached_task(id, ConnectorType::Unknown)
    }

    /// The task this handle belongs to.
    pub fn id(&self) -> &ConnectorTaskId {
        &self.group.id
    }

    fn now(&self) -> u64 {
        self.group.clock.now_ms()
    }

    /// The task reported RUNNING: the first time counts as a successful task startup.
    pub fn task_started(&self) {
        if !self.group.startup_succeeded.swap(true, Ordering::Relaxed) {
            let worker = &self.group.worker;
            bump(&worker.task_success);
            worker
                .task_results
                .record(self.group.settings, self.now(), 1);
        }
    }

    /// The task failed: before it ever ran, that is a failed task startup.
    pub fn task_failed(&self) {
        if !self.group.startup_succeeded.load(Ordering::Relaxed) {
            let worker = &self.group.worker;
            bump(&worker.task_failure);
            worker
                .task_results
                .record(self.group.settings, self.now(), 0);
        }
    }

    /// A source task's `poll` returned `records` records after `took` (source-record-poll,
    /// poll-batch-time and the task's batch size).
    pub fn record_poll(&self, records: usize, took: Duration) {
        let g = &self.group;
        let now = self.now();
        g.poll.record(g.settings, now, records as u64);
        g.poll_time.record(g.settings, now, millis(took));
        g.batch_size.record(g.settings, now, records as u64);
    }

    /// A source task handed `records` records to the log (source-record-write).
    pub fn record_write(&self, records: usize) {
        let g = &self.group;
        g.write.record(g.settings, self.now(), records as u64);
    }

    /// A sink task read `records` records from the log, before conversion (sink-record-read).
    pub fn record_read(&self, records: usize) {
        let g = &self.group;
        g.read.record(g.settings, self.now(), records as u64);
    }

    /// A sink task's `put` of `records` records succeeded after `took` (sink-record-send, put-batch-time
    /// and the task's batch size).
    pub fn record_put(&self, records: usize, took: Duration) {
        let g = &self.group;
        let now = self.now();
        g.send.record(g.settings, now, records as u64);
        g.batch_size.record(g.settings, now, records as u64);
        g.put_time.record(g.settings, now, millis(took));
    }

    /// An offset commit succeeded after `took` (sink tasks also count a completed commit).
    pub fn record_commit_success(&self, took: Duration) {
        let g = &self.group;
        let now = self.now();
        g.commit_time.record(g.settings, now, millis(took));
        g.commit_results.record(g.settings, now, 1);
        if g.kind == ConnectorType::Sink {
            g.commit_completion.record(g.settings, now, 1);
        }
    }

    /// An offset commit failed.
    pub fn record_commit_failure(&self) {
        let g = &self.group;
        g.commit_results.record(g.settings, self.now(), 0);
    }

    /// An operation on a record failed (one per failed attempt, retried or not): total-record-failures,
    /// and the task's last-error-timestamp.
    pub fn record_failure(&self) {
        bump(&self.group.record_failures);
        let epoch_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, millis);
        self.group
            .last_error_timestamp
            .store(epoch_ms, Ordering::Relaxed);
    }

    /// A record failed for good (total-record-errors).
    pub fn record_error(&self) {
        bump(&self.group.record_errors);
    }

    /// A failed record was skipped under `errors.tolerance=all` (total-records-skipped).
    pub fn record_skipped(&self) {
        bump(&self.group.records_skipped);
    }

    /// A failed operation is retried (total-retries).
    pub fn record_retry(&self) {
        bump(&self.group.retries);
    }

    /// A failure was written to the error log (total-errors-logged).
    pub fn record_error_logged(&self) {
        bump(&self.group.errors_logged);
    }

    /// A record is being written to the dead letter queue (deadletterqueue-produce-requests).
    pub fn record_dlq_produce_request(&self) {
        bump(&self.group.dlq_produce_requests);
    }

    /// A write to the dead letter queue failed (deadletterqueue-produce-failures).
    pub fn record_dlq_produce_failure(&self) {
        bump(&self.group.dlq_produce_failures);
    }
}

/// The worker's metrics registry: worker counters, and the metric groups of the connectors and tasks that
/// currently run here. [`ConnectMetrics::encode`] renders a scrape.
pub struct ConnectMetrics {
    shared: Arc<Shared>,
    registry: Registry,
}

impl std::fmt::Debug for ConnectMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectMetrics")
            .field("settings", &self.shared.settings)
            .finish_non_exhaustive()
    }
}

impl ConnectMetrics {
    /// An empty registry; connector and task `status` series read their state from `status`.
    pub fn new(settings: MetricsSettings, status: Arc<StatusStore>) -> Self {
        let settings = settings.sanitized();
        let shared = Arc::new(Shared {
            settings,
            clock: Clock {
                epoch: Instant::now(),
            },
            status,
            worker: Arc::new(WorkerStats::new(settings)),
            connectors: Mutex::default(),
            tasks: Mutex::default(),
        });
        let mut registry = Registry::default();
        registry.register_collector(Box::new(Scrape(shared.clone())));
        ConnectMetrics { shared, registry }
    }

    /// The sampling in use.
    pub fn settings(&self) -> MetricsSettings {
        self.shared.settings
    }

    /// A connector instance was created on this worker: its `connector-metrics` group appears.
    pub fn add_connector(&self, name: &str) {
        self.shared
            .connectors
            .lock()
            .insert(name.to_owned(), Arc::default());
    }

    /// A connector instance was stopped and forgotten: its series disappear.
    pub fn remove_connector(&self, name: &str) {
        self.shared.connectors.lock().remove(name);
    }

    /// A connector instance started; the first start of an instance counts as a successful startup.
    pub fn connector_started(&self, name: &str) {
        let group = self.shared.connectors.lock().get(name).cloned();
        if let Some(group) = group
            && !group.startup_succeeded.swap(true, Ordering::Relaxed)
        {
            self.shared.record_connector_startup(true);
        }
    }

    /// A connector failed: before it ever started (or before an instance existed), that is a failed
    /// startup.
    pub fn connector_failed(&self, name: &str) {
        let group = self.shared.connectors.lock().get(name).cloned();
        if group.is_none_or(|g| !g.startup_succeeded.load(Ordering::Relaxed)) {
            self.shared.record_connector_startup(false);
        }
    }

    /// Registers the metric groups of a starting task (replacing those of an earlier instance with the same
    /// id, as Connect does) and returns the task's handle.
    pub fn add_task(&self, id: &ConnectorTaskId, kind: ConnectorType) -> TaskMetrics {
        let handle = self.detached_task(id.clone(), kind);
        self.shared
            .tasks
            .lock()
            .insert(id.clone(), handle.group.clone());
        handle
    }

    /// Forgets a task's metric groups: its series disappear. A handle still held keeps recording into
    /// nothing.
    pub fn remove_task(&self, id: &ConnectorTaskId) {
        self.shared.tasks.lock().remove(id);
    }

    fn detached_task(&self, id: ConnectorTaskId, kind: ConnectorType) -> TaskMetrics {
        TaskMetrics::new(&self.shared, id, kind)
    }

    /// The current values in the Prometheus text format ([`CONTENT_TYPE`]).
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing to a String cannot fail, and the collector never returns an error of its own.
        if prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry).is_err() {
            tracing::error!("Failed to encode the metrics.");
        }
        out
    }
}

/// The collector that renders [`Shared`] at scrape time.
struct Scrape(Arc<Shared>);

impl std::fmt::Debug for Scrape {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scrape").finish_non_exhaustive()
    }
}

/// A sample's value.
#[derive(Clone, Copy)]
enum Value {
    Counter(u64),
    Gauge(f64),
}

type Labels = Vec<(&'static str, String)>;

/// Connect's JMX group names, turned into the middle of a metric name.
const WORKER_GROUP: &str = "connect-worker-metrics";
const CONNECTOR_GROUP: &str = "connector-metrics";
const TASK_GROUP: &str = "connector-task-metrics";
const SOURCE_TASK_GROUP: &str = "source-task-metrics";
const SINK_TASK_GROUP: &str = "sink-task-metrics";
const TASK_ERROR_GROUP: &str = "task-error-metrics";

/// The Prometheus name of a Connect attribute: `kafka_connect_<group>_<attribute>` with `-` → `_`. For a
/// counter, a trailing `-total` is dropped because the encoder appends `_total`.
fn metric_name(group: &str, attribute: &str, counter: bool) -> String {
    let attribute = if counter {
        attribute.strip_suffix("-total").unwrap_or(attribute)
    } else {
        attribute
    };
    format!("kafka_connect_{group}_{attribute}").replace('-', "_")
}

/// Writes one metric family; a family without series is left out entirely.
fn family(
    encoder: &mut DescriptorEncoder<'_>,
    group: &str,
    attribute: &str,
    help: &str,
    series: Vec<(Labels, Value)>,
) -> Result<(), std::fmt::Error> {
    let Some((_, first)) = series.first() else {
        return Ok(());
    };
    let counter = matches!(first, Value::Counter(_));
    let name = metric_name(group, attribute, counter);
    let metric_type = if counter {
        MetricType::Counter
    } else {
        MetricType::Gauge
    };
    let mut metric = encoder.encode_descriptor(&name, help, None, metric_type)?;
    for (labels, value) in &series {
        let mut sample = metric.encode_family(labels)?;
        match value {
            Value::Counter(v) => sample.encode_counter::<Labels, u64, f64>(v, None)?,
            Value::Gauge(v) => sample.encode_gauge(v)?,
        }
    }
    Ok(())
}

/// Connect's lower-case state name, as its `status` attributes show it.
fn state_name(state: Option<State>) -> String {
    state
        .unwrap_or(State::Unassigned)
        .name()
        .to_ascii_lowercase()
}

fn task_labels(id: &ConnectorTaskId) -> Labels {
    vec![
        ("connector", id.connector.clone()),
        ("task", id.task.to_string()),
    ]
}

/// A task metric: its group, attribute, description, and how to read it from a task at scrape time.
type TaskAttribute = (
    &'static str,
    &'static str,
    &'static str,
    fn(&TaskGroup, u64) -> Value,
);

/// Attributes of `connector-task-metrics` (other than `status`), every task.
const TASK_ATTRIBUTES: &[TaskAttribute] = &[
    (
        TASK_GROUP,
        "offset-commit-max-time-ms",
        "The maximum time in milliseconds taken by this task to commit offsets.",
        |t, now| Value::Gauge(t.commit_time.max(t.settings, now)),
    ),
    (
        TASK_GROUP,
        "offset-commit-avg-time-ms",
        "The average time in milliseconds taken by this task to commit offsets.",
        |t, now| Value::Gauge(t.commit_time.avg(t.settings, now)),
    ),
    (
        TASK_GROUP,
        "batch-size-max",
        "The number of records in the largest batch the task has processed so far.",
        |t, now| Value::Gauge(t.batch_size.max(t.settings, now)),
    ),
    (
        TASK_GROUP,
        "batch-size-avg",
        "The average number of records in the batches the task has processed so far.",
        |t, now| Value::Gauge(t.batch_size.avg(t.settings, now)),
    ),
    (
        TASK_GROUP,
        "offset-commit-failure-percentage",
        "The average percentage of this task's offset commit attempts that failed.",
        |t, now| Value::Gauge(t.commit_results.frequency(t.settings, now, false)),
    ),
    (
        TASK_GROUP,
        "offset-commit-success-percentage",
        "The average percentage of this task's offset commit attempts that succeeded.",
        |t, now| Value::Gauge(t.commit_results.frequency(t.settings, now, true)),
    ),
];

/// Attributes of `source-task-metrics`, source tasks only.
const SOURCE_ATTRIBUTES: &[TaskAttribute] = &[
    (
        SOURCE_TASK_GROUP,
        "source-record-poll-rate",
        "The average per-second number of records produced/polled (before transformation) by this task belonging to the named source connector in this worker.",
        |t, now| Value::Gauge(t.poll.window.rate(t.settings, now)),
    ),
    (
        SOURCE_TASK_GROUP,
        "source-record-poll-total",
        "The total number of records produced/polled (before transformation) by this task belonging to the named source connector in this worker.",
        |t, _| Value::Counter(t.poll.total()),
    ),
    (
        SOURCE_TASK_GROUP,
        "source-record-write-rate",
        "The average per-second number of records written to Kafka for this task belonging to the named source connector in this worker, since the task was last restarted. This is after transformations are applied, and excludes any records filtered out by the transformations.",
        |t, now| Value::Gauge(t.write.window.rate(t.settings, now)),
    ),
    (
        SOURCE_TASK_GROUP,
        "source-record-write-total",
        "The number of records output written to Kafka for this task belonging to the named source connector in this worker, since the task was last restarted. This is after transformations are applied, and excludes any records filtered out by the transformations.",
        |t, _| Value::Counter(t.write.total()),
    ),
    (
        SOURCE_TASK_GROUP,
        "poll-batch-max-time-ms",
        "The maximum time in milliseconds taken by this task to poll for a batch of source records.",
        |t, now| Value::Gauge(t.poll_time.max(t.settings, now)),
    ),
    (
        SOURCE_TASK_GROUP,
        "poll-batch-avg-time-ms",
        "The average time in milliseconds taken by this task to poll for a batch of source records.",
        |t, now| Value::Gauge(t.poll_time.avg(t.settings, now)),
    ),
];

/// Attributes of `sink-task-metrics`, sink tasks only.
const SINK_ATTRIBUTES: &[TaskAttribute] = &[
    (
        SINK_TASK_GROUP,
        "sink-record-read-rate",
        "The average per-second number of records read from Kafka for this task belonging to the named sink connector in this worker. This is before transformations are applied.",
        |t, now| Value::Gauge(t.read.window.rate(t.settings, now)),
    ),
    (
        SINK_TASK_GROUP,
        "sink-record-read-total",
        "The total number of records read from Kafka by this task belonging to the named sink connector in this worker, since the task was last restarted.",
        |t, _| Value::Counter(t.read.total()),
    ),
    (
        SINK_TASK_GROUP,
        "sink-record-send-rate",
        "The average per-second number of records output from the transformations and sent/put to this task belonging to the named sink connector in this worker. This is after transformations are applied and excludes any records filtered out by the transformations.",
        |t, now| Value::Gauge(t.send.window.rate(t.settings, now)),
    ),
    (
        SINK_TASK_GROUP,
        "sink-record-send-total",
        "The total number of records output from the transformations and sent/put to this task belonging to the named sink connector in this worker, since the task was last restarted.",
        |t, _| Value::Counter(t.send.total()),
    ),
    (
        SINK_TASK_GROUP,
        "offset-commit-completion-rate",
        "The average per-second number of offset commit completions that were completed successfully.",
        |t, now| Value::Gauge(t.commit_completion.window.rate(t.settings, now)),
    ),
    (
        SINK_TASK_GROUP,
        "offset-commit-completion-total",
        "The total number of offset commit completions that were completed successfully.",
        |t, _| Value::Counter(t.commit_completion.total()),
    ),
    // Commits here are synchronous, so no completion can arrive after a newer commit started and be
    // skipped: these stay 0, as they do in Connect for a task whose commits never overlap.
    (
        SINK_TASK_GROUP,
        "offset-commit-skip-rate",
        "The average per-second number of offset commit completions that were received too late and skipped/ignored.",
        |_, _| Value::Gauge(0.0),
    ),
    (
        SINK_TASK_GROUP,
        "offset-commit-skip-total",
        "The total number of offset commit completions that were received too late and skipped/ignored.",
        |_, _| Value::Counter(0),
    ),
    (
        SINK_TASK_GROUP,
        "put-batch-max-time-ms",
        "The maximum time taken by this task to put a batch of sinks records.",
        |t, now| Value::Gauge(t.put_time.max(t.settings, now)),
    ),
    (
        SINK_TASK_GROUP,
        "put-batch-avg-time-ms",
        "The average time taken by this task to put a batch of sinks records.",
        |t, now| Value::Gauge(t.put_time.avg(t.settings, now)),
    ),
];

fn count(c: &AtomicU64) -> Value {
    Value::Counter(c.load(Ordering::Relaxed))
}

/// Attributes of `task-error-metrics`, every task.
const ERROR_ATTRIBUTES: &[TaskAttribute] = &[
    (
        TASK_ERROR_GROUP,
        "total-record-failures",
        "The number of record processing failures in this task.",
        |t, _| count(&t.record_failures),
    ),
    (
        TASK_ERROR_GROUP,
        "total-record-errors",
        "The number of record processing errors in this task.",
        |t, _| count(&t.record_errors),
    ),
    (
        TASK_ERROR_GROUP,
        "total-records-skipped",
        "The number of records skipped due to errors.",
        |t, _| count(&t.records_skipped),
    ),
    (
        TASK_ERROR_GROUP,
        "total-retries",
        "The number of operations retried.",
        |t, _| count(&t.retries),
    ),
    (
        TASK_ERROR_GROUP,
        "total-errors-logged",
        "The number of errors that were logged.",
        |t, _| count(&t.errors_logged),
    ),
    (
        TASK_ERROR_GROUP,
        "deadletterqueue-produce-requests",
        "The number of attempted writes to the dead letter queue.",
        |t, _| count(&t.dlq_produce_requests),
    ),
    (
        TASK_ERROR_GROUP,
        "deadletterqueue-produce-failures",
        "The number of failed writes to the dead letter queue.",
        |t, _| count(&t.dlq_produce_failures),
    ),
    (
        TASK_ERROR_GROUP,
        "last-error-timestamp",
        "The epoch timestamp when this task last encountered an error.",
        |t, _| Value::Gauge(t.last_error_timestamp.load(Ordering::Relaxed) as f64),
    ),
];

/// Per-connector task counts of `connect-worker-metrics`: attribute, description, and the state counted
/// (`None` = all tasks).
const CONNECTOR_TASK_COUNTS: &[(&str, &str, Option<State>)] = &[
    (
        "connector-total-task-count",
        "The number of tasks of the connector on the worker.",
        None,
    ),
    (
        "connector-running-task-count",
        "The number of running tasks of the connector on the worker.",
        Some(State::Running),
    ),
    (
        "connector-paused-task-count",
        "The number of paused tasks of the connector on the worker.",
        Some(State::Paused),
    ),
    (
        "connector-failed-task-count",
        "The number of failed tasks of the connector on the worker.",
        Some(State::Failed),
    ),
    (
        "connector-unassigned-task-count",
        "The number of unassigned tasks of the connector on the worker.",
        Some(State::Unassigned),
    ),
    (
        "connector-restarting-task-count",
        "The number of restarting tasks of the connector on the worker.",
        Some(State::Restarting),
    ),
];

impl Collector for Scrape {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let shared = &self.0;
        let settings = shared.settings;
        let now = shared.clock.now_ms();
        // Snapshot the groups, then read them without holding the registry's locks.
        let connectors: Vec<String> = shared.connectors.lock().keys().cloned().collect();
        let tasks: Vec<Arc<TaskGroup>> = shared.tasks.lock().values().cloned().collect();
        let task_states: Vec<Option<State>> = tasks
            .iter()
            .map(|t| shared.status.task(&t.id).map(|s| s.state))
            .collect();

        let e = &mut encoder;
        let worker = &shared.worker;
        let none = || Labels::new();
        family(
            e,
            WORKER_GROUP,
            "connector-count",
            "The number of connectors run in this worker.",
            vec![(none(), Value::Gauge(connectors.len() as f64))],
        )?;
        family(
            e,
            WORKER_GROUP,
            "task-count",
            "The number of tasks run in this worker.",
            vec![(none(), Value::Gauge(tasks.len() as f64))],
        )?;
        let startups = [
            (
                "connector",
                &worker.connector_success,
                &worker.connector_failure,
                &worker.connector_results,
                "connector startups",
                "connector starts",
                "connectors starts",
            ),
            (
                "task",
                &worker.task_success,
                &worker.task_failure,
                &worker.task_results,
                "task startups",
                "task starts",
                "tasks starts",
            ),
        ];
        for (what, success, failure, results, startups, starts, percent_of) in startups {
            let success = success.load(Ordering::Relaxed);
            let failure = failure.load(Ordering::Relaxed);
            family(
                e,
                WORKER_GROUP,
                &format!("{what}-startup-attempts-total"),
                &format!("The total number of {startups} that this worker has attempted."),
                vec![(none(), Value::Counter(success + failure))],
            )?;
            family(
                e,
                WORKER_GROUP,
                &format!("{what}-startup-success-total"),
                &format!("The total number of {starts} that succeeded."),
                vec![(none(), Value::Counter(success))],
            )?;
            family(
                e,
                WORKER_GROUP,
                &format!("{what}-startup-success-percentage"),
                &format!("The average percentage of this worker's {percent_of} that succeeded."),
                vec![(none(), Value::Gauge(results.frequency(settings, now, true)))],
            )?;
            family(
                e,
                WORKER_GROUP,
                &format!("{what}-startup-failure-total"),
                &format!("The total number of {starts} that failed."),
                vec![(none(), Value::Counter(failure))],
            )?;
            family(
                e,
                WORKER_GROUP,
                &format!("{what}-startup-failure-percentage"),
                &format!("The average percentage of this worker's {percent_of} that failed."),
                vec![(
                    none(),
                    Value::Gauge(results.frequency(settings, now, false)),
                )],
            )?;
        }
        for (attribute, help, state) in CONNECTOR_TASK_COUNTS {
            let series = connectors
                .iter()
                .map(|c| {
                    let n = tasks
                        .iter()
                        .zip(&task_states)
                        .filter(|(t, s)| {
                            &t.id.connector == c
                                && state.is_none_or(|want| s.unwrap_or(State::Unassigned) == want)
                        })
                        .count();
                    (vec![("connector", c.clone())], Value::Gauge(n as f64))
                })
                .collect();
            family(e, WORKER_GROUP, attribute, help, series)?;
        }

        family(
            e,
            CONNECTOR_GROUP,
            "status",
            "The status of the connector. One of 'unassigned', 'running', 'paused', 'stopped', 'failed', or 'restarting'.",
            connectors
                .iter()
                .map(|c| {
                    let state = shared.status.connector(c).map(|s| s.state);
                    (
                        vec![("connector", c.clone()), ("state", state_name(state))],
                        Value::Gauge(1.0),
                    )
                })
                .collect(),
        )?;
        family(
            e,
            TASK_GROUP,
            "status",
            "The status of the connector task. One of 'unassigned', 'running', 'paused', 'failed', or 'restarting'.",
            tasks
                .iter()
                .zip(&task_states)
                .map(|(t, s)| {
                    let mut labels = task_labels(&t.id);
                    labels.push(("state", state_name(*s)));
                    (labels, Value::Gauge(1.0))
                })
                .collect(),
        )?;

        let groups: [(&[TaskAttribute], Option<ConnectorType>); 4] = [
            (TASK_ATTRIBUTES, None),
            (SOURCE_ATTRIBUTES, Some(ConnectorType::Source)),
            (SINK_ATTRIBUTES, Some(ConnectorType::Sink)),
            (ERROR_ATTRIBUTES, None),
        ];
        for (attributes, kind) in groups {
            for (group, attribute, help, read) in attributes {
                let series = tasks
                    .iter()
                    .filter(|t| kind.is_none_or(|k| t.kind == k))
                    .map(|t| (task_labels(&t.id), read(t, now)))
                    .collect();
                family(e, group, attribute, help, series)?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::Status;

    const SETTINGS: MetricsSettings = MetricsSettings {
        sample_window_ms: 30_000,
        num_samples: 2,
    };

    fn registry() -> (ConnectMetrics, Arc<StatusStore>) {
        let status = Arc::new(StatusStore::new());
        (ConnectMetrics::new(SETTINGS, status.clone()), status)
    }

    /// `name{labels} value` lines of a scrape, without comments.
    fn samples(text: &str) -> Vec<&str> {
        text.lines().filter(|l| !l.starts_with('#')).collect()
    }

    fn value(text: &str, series: &str) -> Option<f64> {
        samples(text).into_iter().find_map(|l| {
            let (name, v) = l.rsplit_once(' ')?;
            (name == series).then(|| v.parse().ok())?
        })
    }

    #[test]
    fn rate_covers_at_least_one_full_window_then_the_kept_windows() {
        let w = Windowed::new(SETTINGS);
        // Nothing recorded: 0 per second.
        assert_eq!(w.rate(SETTINGS, 500), 0.0);
        // 60 events at 1 s: elapsed time counts from the first event and is padded to one full window,
        // as Connect's `Rate` does, so a young sensor does not report 60/s.
        w.record(SETTINGS, 1_000, 60);
        assert_eq!(w.rate(SETTINGS, 1_000), 2.0);
        assert_eq!(w.rate(SETTINGS, 16_000), 60.0 / 45.0);
        // At 45 s both windows are kept: 90 events since 1 s.
        w.record(SETTINGS, 44_000, 30);
        assert_eq!(w.rate(SETTINGS, 45_000), 90.0 / 44.0);
        // At 61 s the first window expired; the second started at 44 s: 17 s elapsed, padded by 30 s.
        assert_eq!(w.rate(SETTINGS, 61_000), 30.0 / 47.0);
        // Long after, nothing is kept.
        assert_eq!(w.rate(SETTINGS, 200_000), 0.0);
    }

    #[test]
    fn more_samples_mean_a_longer_minimum_window() {
        let settings = MetricsSettings {
            sample_window_ms: 1_000,
            num_samples: 4,
        };
        let w = Windowed::new(settings);
        w.record(settings, 10_000, 30);
        // Three full windows at least: 30 events over 3 s.
        assert_eq!(w.rate(settings, 10_000), 10.0);
        // Still kept 3.5 s later (windows 10, 11, 12, 13 s); elapsed 3.5 s.
        assert_eq!(w.rate(settings, 13_500), 30.0 / 3.5);
        // Gone once four windows passed.
        assert_eq!(w.rate(settings, 14_000), 0.0);
    }

    #[test]
    fn avg_and_max_are_nan_without_events_and_forget_old_windows() {
        let w = Windowed::new(SETTINGS);
        assert!(w.avg(SETTINGS, 0).is_nan() && w.max(SETTINGS, 0).is_nan());
        w.record(SETTINGS, 10, 4);
        w.record(SETTINGS, 20, 10);
        w.record(SETTINGS, 31_000, 1);
        assert_eq!(w.avg(SETTINGS, 31_000), 5.0);
        assert_eq!(w.max(SETTINGS, 31_000), 10.0);
        // At 61 s only the 30–60 s window is kept.
        assert_eq!(w.avg(SETTINGS, 61_000), 1.0);
        assert_eq!(w.max(SETTINGS, 61_000), 1.0);
        // Recording into a reused slot starts it afresh.
        w.record(SETTINGS, 65_000, 7);
        assert_eq!(w.max(SETTINGS, 65_000), 7.0);
        assert_eq!(w.avg(SETTINGS, 65_000), 4.0);
    }

    #[test]
    fn frequencies_are_fractions_and_zero_without_events() {
        let w = Windowed::new(SETTINGS);
        assert_eq!(w.frequency(SETTINGS, 0, true), 0.0);
        assert_eq!(w.frequency(SETTINGS, 0, false), 0.0);
        for v in [1, 1, 1, 0] {
            w.record(SETTINGS, 5, v);
        }
        assert_eq!(w.frequency(SETTINGS, 5, true), 0.75);
        assert_eq!(w.frequency(SETTINGS, 5, false), 0.25);
    }

    #[test]
    fn names_follow_connect_groups_and_attributes() {
        assert_eq!(
            metric_name(SOURCE_TASK_GROUP, "source-record-poll-total", true),
            "kafka_connect_source_task_metrics_source_record_poll"
        );
        assert_eq!(
            metric_name(TASK_ERROR_GROUP, "total-record-failures", true),
            "kafka_connect_task_error_metrics_total_record_failures"
        );
        assert_eq!(
            metric_name(WORKER_GROUP, "connector-count", false),
            "kafka_connect_connect_worker_metrics_connector_count"
        );
    }

    #[test]
    fn settings_come_from_the_worker_properties() {
        let config = |pairs: &[(&str, &str)]| {
            let mut props: causeway_api::Props = [
                (
                    "key.converter",
                    "org.apache.kafka.connect.storage.StringConverter",
                ),
                (
                    "value.converter",
                    "org.apache.kafka.connect.storage.StringConverter",
                ),
            ]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
            for (k, v) in pairs {
                props.insert((*k).to_owned(), (*v).to_owned());
            }
            WorkerConfig::new(props).unwrap()
        };
        assert_eq!(
            MetricsSettings::from_worker(&config(&[])),
            MetricsSettings::default()
        );
        assert_eq!(
            MetricsSettings::from_worker(&config(&[
                (METRICS_SAMPLE_WINDOW_MS_CONFIG, "1000"),
                (METRICS_NUM_SAMPLES_CONFIG, "5"),
            ])),
            MetricsSettings {
                sample_window_ms: 1000,
                num_samples: 5
            }
        );
        assert_eq!(
            MetricsSettings::from_worker(&config(&[(METRICS_NUM_SAMPLES_CONFIG, "0")])),
            MetricsSettings::default()
        );
    }

    #[test]
    fn scrape_shows_worker_counts_and_task_counters_with_labels() {
        let (metrics, status) = registry();
        metrics.add_connector("src");
        metrics.add_connector("snk");
        metrics.connector_started("src");
        metrics.connector_started("src");
        metrics.connector_failed("snk");
        let source = metrics.add_task(&ConnectorTaskId::new("src", 0), ConnectorType::Source);
        let sink = metrics.add_task(&ConnectorTaskId::new("snk", 0), ConnectorType::Sink);
        status.put_task(
            &ConnectorTaskId::new("src", 0),
            Status {
                state: State::Running,
                worker_id: "w".into(),
                trace: None,
            },
        );
        status.put_connector(
            "src",
            Status {
                state: State::Paused,
                worker_id: "w".into(),
                trace: None,
            },
        );
        source.task_started();
        source.task_started();
        sink.task_failed();
        source.record_poll(3, Duration::from_millis(4));
        source.record_poll(5, Duration::from_millis(8));
        source.record_write(7);
        sink.record_read(10);
        sink.record_put(9, Duration::from_millis(2));
        sink.record_commit_success(Duration::from_millis(6));
        sink.record_commit_failure();
        sink.record_failure();
        sink.record_error();
        sink.record_skipped();
        sink.record_error_logged();
        sink.record_dlq_produce_request();

        let text = metrics.encode();
        let v = |s: &str| value(&text, s).unwrap_or_else(|| panic!("{s} missing in\n{text}"));
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_connector_count"),
            2.0
        );
        assert_eq!(v("kafka_connect_connect_worker_metrics_task_count"), 2.0);
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_connector_startup_attempts_total"),
            2.0
        );
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_connector_startup_success_total"),
            1.0
        );
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_connector_startup_failure_total"),
            1.0
        );
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_connector_startup_success_percentage"),
            0.5
        );
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_task_startup_attempts_total"),
            2.0
        );
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_task_startup_success_total"),
            1.0
        );
        assert_eq!(
            v("kafka_connect_connect_worker_metrics_task_startup_failure_total"),
            1.0
        );
        assert_eq!(
            v(
                "kafka_connect_connect_worker_metrics_connector_running_task_count{connector=\"src\"}"
            ),
            1.0
        );
        assert_eq!(
            v(
                "kafka_connect_connect_worker_metrics_connector_unassigned_task_count{connector=\"snk\"}"
            ),
            1.0
        );
        assert_eq!(
            v("kafka_connect_connector_metrics_status{connector=\"src\",state=\"paused\"}"),
            1.0
        );
        assert_eq!(
            v("kafka_connect_connector_metrics_status{connector=\"snk\",state=\"unassigned\"}"),
            1.0
        );
        assert_eq!(
            v(
                "kafka_connect_connector_task_metrics_status{connector=\"src\",task=\"0\",state=\"running\"}"
            ),
            1.0
        );
        let src = "{connector=\"src\",task=\"0\"}";
        let snk = "{connector=\"snk\",task=\"0\"}";
        assert_eq!(
            v(&format!(
                "kafka_connect_source_task_metrics_source_record_poll_total{src}"
            )),
            8.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_source_task_metrics_source_record_write_total{src}"
            )),
            7.0
        );
        assert!(
            v(&format!(
                "kafka_connect_source_task_metrics_source_record_poll_rate{src}"
            )) > 0.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_source_task_metrics_poll_batch_avg_time_ms{src}"
            )),
            6.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_source_task_metrics_poll_batch_max_time_ms{src}"
            )),
            8.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_connector_task_metrics_batch_size_avg{src}"
            )),
            4.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_connector_task_metrics_batch_size_max{src}"
            )),
            5.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_sink_task_metrics_sink_record_read_total{snk}"
            )),
            10.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_sink_task_metrics_sink_record_send_total{snk}"
            )),
            9.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_sink_task_metrics_put_batch_max_time_ms{snk}"
            )),
            2.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_sink_task_metrics_offset_commit_completion_total{snk}"
            )),
            1.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_sink_task_metrics_offset_commit_skip_total{snk}"
            )),
            0.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_connector_task_metrics_offset_commit_avg_time_ms{snk}"
            )),
            6.0
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_connector_task_metrics_offset_commit_success_percentage{snk}"
            )),
            0.5
        );
        assert_eq!(
            v(&format!(
                "kafka_connect_connector_task_metrics_offset_commit_failure_percentage{snk}"
            )),
            0.5
        );
        // No commit yet: NaN, as Connect's Avg and Max.
        assert!(
            v(&format!(
                "kafka_connect_connector_task_metrics_offset_commit_avg_time_ms{src}"
            ))
            .is_nan()
        );
        for (name, n) in [
            ("total_record_failures", 1.0),
            ("total_record_errors", 1.0),
            ("total_records_skipped", 1.0),
            ("total_retries", 0.0),
            ("total_errors_logged", 1.0),
            ("deadletterqueue_produce_requests", 1.0),
            ("deadletterqueue_produce_failures", 0.0),
        ] {
            assert_eq!(
                v(&format!(
                    "kafka_connect_task_error_metrics_{name}_total{snk}"
                )),
                n,
                "{name}"
            );
        }
        assert!(
            v(&format!(
                "kafka_connect_task_error_metrics_last_error_timestamp{snk}"
            )) > 1.0e12
        );
        // A source task has no sink series and vice versa.
        assert!(
            value(
                &text,
                &format!("kafka_connect_sink_task_metrics_sink_record_read_total{src}")
            )
            .is_none()
        );
        assert!(
            value(
                &text,
                &format!("kafka_connect_source_task_metrics_source_record_poll_total{snk}")
            )
            .is_none()
        );
        // Types and help.
        assert!(text.contains(
            "# TYPE kafka_connect_source_task_metrics_source_record_poll_total counter\n"
        ));
        assert!(
            text.contains(
                "# TYPE kafka_connect_source_task_metrics_source_record_poll_rate gauge\n"
            )
        );
        assert!(text.contains("# HELP kafka_connect_connect_worker_metrics_connector_count The number of connectors run in this worker.\n"));
    }

    #[test]
    fn removed_connectors_and_tasks_leave_the_scrape() {
        let (metrics, _) = registry();
        metrics.add_connector("gone");
        let id = ConnectorTaskId::new("gone", 0);
        let task = metrics.add_task(&id, ConnectorType::Sink);
        task.record_read(1);
        assert!(metrics.encode().contains("connector=\"gone\""));
        metrics.remove_task(&id);
        metrics.remove_connector("gone");
        // The old handle may still record; nothing shows.
        task.record_read(1);
        let text = metrics.encode();
        assert!(!text.contains("gone"), "{text}");
        assert_eq!(
            value(&text, "kafka_connect_connect_worker_metrics_task_count"),
            Some(0.0)
        );
        // Families without series are left out entirely.
        assert!(!text.contains("sink_record_read"), "{text}");
    }

    #[test]
    fn a_restarted_task_starts_from_zero_and_label_values_are_escaped() {
        let (metrics, _) = registry();
        let id = ConnectorTaskId::new("a\"b", 1);
        metrics.add_task(&id, ConnectorType::Source).record_write(5);
        metrics.add_task(&id, ConnectorType::Source).record_write(2);
        let text = metrics.encode();
        assert_eq!(
            value(
                &text,
                "kafka_connect_source_task_metrics_source_record_write_total{connector=\"a\\\"b\",task=\"1\"}"
            ),
            Some(2.0),
            "{text}"
        );
    }

    #[test]
    fn connector_failure_without_an_instance_counts_as_a_failed_startup() {
        let (metrics, _) = registry();
        metrics.connector_failed("unknown-class");
        metrics.add_connector("c");
        metrics.connector_started("c");
        // A failure after a successful start is not a startup failure.
        metrics.connector_failed("c");
        let text = metrics.encode();
        assert_eq!(
            value(
                &text,
                "kafka_connect_connect_worker_metrics_connector_startup_failure_total"
            ),
            Some(1.0)
        );
        assert_eq!(
            value(
                &text,
                "kafka_connect_connect_worker_metrics_connector_startup_success_total"
            ),
            Some(1.0)
        );
    }
}
