//! Task loops and what they share: control signals, status reporting, record conversion, the transform
//! chain and error handling.
use std::collections::HashSet;
use std::sync::Arc;

use causeway_api::ConnectError;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::herder::entities::{ConnectorTaskId, State, TargetState};
use crate::metrics::TaskMetrics;
use crate::status::{Status, StatusStore};

mod convert;
mod errors;
mod sink_loop;
mod source_loop;
mod transforms;

pub use self::convert::RecordConverters;
pub use self::errors::{
    DeadLetterQueue, ErrorHandler, ErrorSettings, FailedRecord, Failure, Stage,
};
pub use self::sink_loop::SinkTaskLoop;
pub use self::source_loop::{SourceTaskLoop, TopicCreator};
pub use self::transforms::TransformationChain;

/// How the worker steers a running task: target state changes and stop.
#[derive(Clone)]
pub struct TaskControl {
    /// Target state (STARTED or PAUSED; STOPPED tasks are not running at all).
    pub target: watch::Receiver<TargetState>,
    /// Cancelled when the task must stop.
    pub stop: CancellationToken,
}

impl TaskControl {
    /// True when the task should be paused.
    pub fn paused(&self) -> bool {
        *self.target.borrow() == TargetState::Paused
    }

    /// Waits until resumed (`Ok(true)`) or stopped (`Ok(false)`).
    pub async fn wait_while_paused(&mut self) -> bool {
        loop {
            if self.stop.is_cancelled() {
                return false;
            }
            if !self.paused() {
                return true;
            }
            tokio::select! {
                _ = self.stop.cancelled() => return false,
                r = self.target.changed() => if r.is_err() { return false },
            }
        }
    }
}

/// Reports a task's state and the topics it uses.
#[derive(Clone)]
pub struct TaskReporter {
    /// Task id.
    pub id: ConnectorTaskId,
    /// This worker's id.
    pub worker_id: String,
    /// Where statuses go.
    pub status: Arc<StatusStore>,
    /// Whether KIP-558 topic tracking is on.
    pub track_topics: bool,
    /// The task's metrics; state changes also feed the worker's task startup counts.
    pub metrics: TaskMetrics,
}

impl TaskReporter {
    /// Reports a state without a trace.
    pub fn state(&self, state: State) {
        if state == State::Running {
            self.metrics.task_started();
        }
        self.status.put_task(
            &self.id,
            Status {
                state,
                worker_id: self.worker_id.clone(),
                trace: None,
            },
        );
    }

    /// Reports FAILED with a trace.
    pub fn failed(&self, trace: String) {
        tracing::error!(task = %self.id, %trace, "Task failed.");
        self.metrics.task_failed();
        self.status.put_task(
            &self.id,
            Status {
                state: State::Failed,
                worker_id: self.worker_id.clone(),
                trace: Some(trace),
            },
        );
    }
}

/// Remembers topics already reported so the hot path does not lock the status store per record.
#[derive(Default)]
pub(crate) struct TopicTracker {
    seen: HashSet<String>,
    /// The topic recorded last: records come in runs of one topic, so most calls stop at this comparison.
    last: String,
}

impl TopicTracker {
    pub(crate) fn record(&mut self, reporter: &TaskReporter, topic: &str) {
        if !reporter.track_topics || self.last == topic {
            return;
        }
        topic.clone_into(&mut self.last);
        if !self.seen.contains(topic) {
            self.seen.insert(topic.to_owned());
            reporter.status.add_task_topic(&reporter.id, topic);
        }
    }
}

/// A Java-style trace for a failure, as status `trace` shows it.
pub fn trace_of(error: &ConnectError) -> String {
    format!("{}: {}", error.class_name(), error.message())
}
