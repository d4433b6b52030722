use std::collections::HashMap;
use std::fs::File;
use std::io::{self, Write};

use async_trait::async_trait;
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Connector, ConnectorContext, Importance, Props, Result,
    SinkConnector, SinkTask, SinkTaskContext,
};
use causeway_data::{SinkRecord, TopicPartition, Value};
use tokio::task::JoinHandle;

use crate::FILE_CONFIG;

pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new().define_null(
        FILE_CONFIG,
        ConfigType::String,
        Importance::High,
        "Destination filename. If not specified, the standard output will be used",
    )
}

/// The configured file; `None` (or empty) means stdout.
fn configured_file(props: &Props) -> Result<Option<String>> {
    Ok(config_def()
        .parse(props)?
        .string(FILE_CONFIG)
        .filter(|f| !f.is_empty())
        .map(str::to_owned))
}

/// `org.apache.kafka.connect.file.FileStreamSinkConnector`: appends the records of its topics to a file (or
/// stdout), one line per record. `topics`/`topics.regex` are the framework's keys, not declared here.
#[derive(Debug, Default)]
pub struct FileStreamSinkConnector {
    props: Props,
}

#[async_trait]
impl Connector for FileStreamSinkConnector {
    fn config(&self) -> ConfigDef {
        config_def()
    }

    async fn start(&mut self, _ctx: ConnectorContext, props: &Props) -> Result<()> {
        let file = configured_file(props)?;
        tracing::info!(
            "Starting file sink connector writing to {}.",
            file.as_deref().unwrap_or("standard output")
        );
        self.props = props.clone();
        Ok(())
    }

    fn task_configs(&mut self, max_tasks: usize) -> Result<Vec<Props>> {
        Ok(vec![self.props.clone(); max_tasks])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl SinkConnector for FileStreamSinkConnector {
    fn create_task(&self) -> Box<dyn SinkTask> {
        Box::new(FileStreamSinkTask::default())
    }

    /// Returns `true` as Apache does: the offsets live only in the consumer group and need no validation.
    async fn alter_offsets(
        &self,
        _props: &Props,
        _offsets: &HashMap<TopicPartition, Option<i64>>,
    ) -> Result<bool> {
        Ok(true)
    }
}

enum Output {
    File(File),
    Stdout,
}

impl Output {
    /// Writes the whole buffer. Blocking.
    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Output::File(f) => f.write_all(bytes),
            Output::Stdout => {
                let mut out = io::stdout().lock();
                out.write_all(bytes)?;
                out.flush()
            }
        }
    }
}

type WriteHandle = JoinHandle<(Output, Vec<u8>, io::Result<()>)>;

/// `org.apache.kafka.connect.file.FileStreamSinkTask`: writes each record's value (as Java's `toString`
/// renders it, `null` for a null value) followed by `\n` to a file opened for appending, or to stdout.
///
/// `put` formats its whole batch into one buffer and hands it to the OS with a single write on the blocking
/// thread pool, so lines are in the file once `put` returns, as with Apache's unbuffered stream. `flush`
/// writes anything still pending; like Apache it does not fsync.
#[derive(Default)]
pub struct FileStreamSinkTask {
    /// For messages: the file, or `stdout`.
    name: String,
    /// The output, when no write is in flight.
    out: Option<Output>,
    /// Lines formatted but not yet written.
    pending: Vec<u8>,
    /// The write in progress; kept here so a dropped future leaves it for the next call to finish.
    in_flight: Option<WriteHandle>,
}

impl FileStreamSinkTask {
    /// Waits for a write in progress and takes the output back.
    async fn finish_write(&mut self) -> Result<()> {
        let Some(handle) = self.in_flight.as_mut() else {
            return Ok(());
        };
        let joined = handle.await;
        self.in_flight = None;
        let (out, mut buf, result) = joined
            .map_err(|e| ConnectError::fatal(format!("Writing to {} failed: {e}", self.name)))?;
        self.out = Some(out);
        if self.pending.is_empty() {
            // Reuse the written buffer's allocation.
            buf.clear();
            self.pending = buf;
        }
        result.map_err(|e| {
            tracing::error!(error = %e, "Failed to write to {}.", self.name);
            ConnectError::fatal(format!("Failed to write to {}: {e}", self.name))
        })
    }

    /// Writes everything pending.
    async fn write_pending(&mut self) -> Result<()> {
        self.finish_write().await?;
        if self.pending.is_empty() {
            return Ok(());
        }
        let Some(mut out) = self.out.take() else {
            return Err(ConnectError::fatal("FileStreamSinkTask used before start"));
        };
        let buf = std::mem::take(&mut self.pending);
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            let result = out.write_all(&buf);
            (out, buf, result)
        }));
        self.finish_write().await
    }
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(&mut self, _ctx: SinkTaskContext, props: &Props) -> Result<()> {
        let file = configured_file(props)?;
        self.out = Some(match &file {
            None => Output::Stdout,
            Some(path) => {
                let opened = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .await;
                match opened {
                    Ok(f) => Output::File(f.into_std().await),
                    Err(e) => {
                        tracing::error!(error = %e, "Couldn't find or create file '{path}' for FileStreamSinkTask.");
                        return Err(ConnectError::fatal(format!(
                            "Couldn't find or create file '{path}' for FileStreamSinkTask: {e}"
                        )));
                    }
                }
            }
        });
        self.name = file.unwrap_or_else(|| "stdout".to_owned());
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<()> {
        tracing::trace!(records = records.len(), "Writing lines to {}.", self.name);
        for record in records {
            match &record.value {
                Value::String(s) => self.pending.extend_from_slice(s.as_bytes()),
                other => {
                    write!(self.pending, "{other}").expect("writing to a Vec cannot fail");
                }
            }
            self.pending.push(b'\n');
        }
        self.write_pending().await
    }

    async fn flush(&mut self, _offsets: &HashMap<TopicPartition, i64>) -> Result<()> {
        tracing::trace!("Flushing output stream for {}.", self.name);
        self.write_pending().await
    }

    async fn stop(&mut self) -> Result<()> {
        let result = if self.out.is_some() || self.in_flight.is_some() {
            self.write_pending().await
        } else {
            Ok(())
        };
        self.out = None;
        result
    }
}
