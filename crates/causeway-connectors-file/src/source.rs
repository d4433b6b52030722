use std::fs::File;
use std::io::{self, Read, SeekFrom};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use causeway_api::config::validators::NonEmptyString;
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Connector, ConnectorContext, Importance, Props, Result,
    SourceConnector, SourceTask, SourceTaskContext,
};
use causeway_data::{ConnectRecord, Schema, SchemaRef, SourceMap, SourceRecord, Value};
use tokio::io::AsyncSeekExt;
use tokio::task::JoinHandle;

use crate::lines::{LineBuffer, decode};
use crate::{
    DEFAULT_TASK_BATCH_SIZE, FILE_CONFIG, FILENAME_FIELD, POSITION_FIELD, TASK_BATCH_SIZE_CONFIG,
    TOPIC_CONFIG, stdin,
};

/// How long `poll` waits when no complete line is available before returning an empty batch. Apache waits
/// 1 s; a tenth of that picks up appended lines sooner, for one `read` returning 0 per wait.
const EOF_WAIT: Duration = Duration::from_millis(100);

/// How long `poll` waits before looking for a file that does not exist yet (Apache's 1 s).
const MISSING_FILE_WAIT: Duration = Duration::from_secs(1);

/// Initial read buffer; it doubles whenever a single line does not fit.
const READ_BUFFER: usize = 256 * 1024;

pub(crate) fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define_null(
            FILE_CONFIG,
            ConfigType::String,
            Importance::High,
            "Source filename. If not specified, the standard input will be used",
        )
        .define_key(
            ConfigDef::key(
                TOPIC_CONFIG,
                ConfigType::String,
                Importance::High,
                "The topic to publish data to",
            )
            .validator(Arc::new(NonEmptyString)),
        )
        .define(
            TASK_BATCH_SIZE_CONFIG,
            ConfigType::Int,
            &DEFAULT_TASK_BATCH_SIZE.to_string(),
            Importance::Low,
            "The maximum number of records the source task can read from the file each time it is polled",
        )
}

/// The configured file, `None` (or empty) meaning stdin.
fn configured_file(props: &Props) -> Result<Option<String>> {
    Ok(config_def()
        .parse(props)?
        .string(FILE_CONFIG)
        .map(str::to_owned))
}

/// `org.apache.kafka.connect.file.FileStreamSourceConnector`: a single task reading a file (or stdin) line by
/// line into one topic.
#[derive(Debug, Default)]
pub struct FileStreamSourceConnector {
    props: Props,
}

#[async_trait]
impl Connector for FileStreamSourceConnector {
    fn config(&self) -> ConfigDef {
        config_def()
    }

    async fn start(&mut self, _ctx: ConnectorContext, props: &Props) -> Result<()> {
        let file = configured_file(props)?.filter(|f| !f.is_empty());
        tracing::info!(
            "Starting file source connector reading from {}.",
            file.as_deref().unwrap_or("standard input")
        );
        self.props = props.clone();
        Ok(())
    }

    fn task_configs(&mut self, _max_tasks: usize) -> Result<Vec<Props>> {
        // Only one input stream makes sense.
        Ok(vec![self.props.clone()])
    }

    async fn stop(&mut self) -> Result<()> {
        Ok(())
    }
}

#[async_trait]
impl SourceConnector for FileStreamSourceConnector {
    fn create_task(&self) -> Box<dyn SourceTask> {
        Box::new(FileStreamSourceTask::default())
    }

    /// Validates offsets as Apache does and returns `true`: the offsets live only in Connect's offset store,
    /// and the task checks the position against the file when it starts.
    async fn alter_offsets(
        &self,
        props: &Props,
        offsets: &[(SourceMap, Option<SourceMap>)],
    ) -> Result<bool> {
        if configured_file(props)?.is_none_or(|f| f.is_empty()) {
            return Err(ConnectError::fatal(format!(
                "Offsets cannot be modified if the '{FILE_CONFIG}' configuration is unspecified. \
                 This is because stdin is used for input and offsets are not tracked."
            )));
        }
        // One source partition per file: the configured one, and possibly others from earlier configurations.
        for (partition, offset) in offsets {
            let Some(offset) = offset else {
                // Tombstones are allowed for anything, so garbage can always be cleaned up.
                continue;
            };
            let Some(position) = offset.get(POSITION_FIELD) else {
                return Err(ConnectError::fatal(format!(
                    "Offset objects should either be null or contain the key '{POSITION_FIELD}'"
                )));
            };
            // A position is a byte offset: a non-negative long (JSON integer).
            let Some(position) = position.as_i64() else {
                return Err(ConnectError::fatal(format!(
                    "The value for the '{POSITION_FIELD}' key in the offset is expected to be a Long value"
                )));
            };
            if position < 0 {
                return Err(ConnectError::fatal(format!(
                    "The value for the '{POSITION_FIELD}' key in the offset should be a non-negative value"
                )));
            }
            if !partition.contains_key(FILENAME_FIELD) {
                return Err(ConnectError::fatal(format!(
                    "Partition objects should contain the key '{FILENAME_FIELD}'"
                )));
            }
        }
        Ok(true)
    }
}

/// What every record of a task shares.
struct RecordTemplate {
    topic: String,
    /// `{"filename": <file>}`; for stdin the file is null (or the empty string it was configured as).
    partition: Arc<SourceMap>,
    schema: SchemaRef,
}

impl RecordTemplate {
    /// A record for one line read at `timestamp`; `position` is `None` for stdin, whose offsets Apache leaves
    /// null.
    fn record(&self, line: String, position: Option<u64>, timestamp: i64) -> SourceRecord {
        let mut offset = SourceMap::with_capacity(1);
        offset.insert(
            POSITION_FIELD.to_owned(),
            position.map_or(serde_json::Value::Null, |p| (p as i64).into()),
        );
        SourceRecord {
            source_partition: Some(self.partition.clone()),
            source_offset: Some(offset),
            record: ConnectRecord {
                topic: self.topic.clone(),
                value_schema: Some(self.schema.clone()),
                value: Value::String(line),
                timestamp: Some(timestamp),
                ..ConnectRecord::default()
            },
        }
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

/// An open file and the lines read from it so far. Moved into a blocking task for each batch.
struct FileReader {
    file: File,
    lines: LineBuffer,
    template: Arc<RecordTemplate>,
}

impl FileReader {
    /// Reads up to `max` complete lines, stopping early at the current end of the file. Blocking.
    fn read_batch(&mut self, max: usize) -> io::Result<Vec<SourceRecord>> {
        let mut records = Vec::new();
        // One clock reading per batch: a batch is read within a millisecond or two.
        let now = now_ms();
        loop {
            while records.len() < max {
                let Some((line, position)) = self.lines.next_line() else {
                    break;
                };
                if records.is_empty() {
                    // Allocated only once there is a line: polls at the end of the file allocate nothing.
                    records.reserve(max.min(4096));
                }
                records.push(self.template.record(decode(line), Some(position), now));
            }
            if records.len() >= max {
                return Ok(records);
            }
            match self.file.read(self.lines.spare()) {
                Ok(0) => return Ok(records),
                Ok(n) => self.lines.filled(n),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // Lines already taken from the buffer must be returned; the error will recur next time.
                Err(_) if !records.is_empty() => return Ok(records),
                Err(e) => return Err(e),
            }
        }
    }
}

type BatchHandle = JoinHandle<(FileReader, io::Result<Vec<SourceRecord>>)>;

/// Standard input's share of the task state.
struct StdinState {
    lines: LineBuffer,
    closed: bool,
}

/// A started task.
struct Running {
    ctx: SourceTaskContext,
    /// The file to read; `None` reads stdin.
    file: Option<String>,
    batch_size: usize,
    template: Arc<RecordTemplate>,
    /// The open file, when no batch is being read from it.
    reader: Option<FileReader>,
    /// The batch being read: by a `poll` that was dropped, or ahead of the next `poll` while the last batch
    /// is sent.
    in_flight: Option<BatchHandle>,
    /// `in_flight` was started ahead of a poll, not by one.
    read_ahead: bool,
    stdin: StdinState,
}

/// `org.apache.kafka.connect.file.FileStreamSourceTask`: reads lines from a file (or stdin) and tails it.
///
/// Each record has source partition `{"filename": <file>}`, source offset `{"position": <byte offset after
/// the line>}`, a required string value schema and the line (without terminator) as value. `\n`, `\r` and
/// `\r\n` end lines; an unterminated last line is held back until its terminator arrives. The file is opened
/// on the first `poll`, resuming from the committed position; until it exists `poll` waits 1 s and returns
/// nothing. At the end of the file `poll` waits 100 ms and returns nothing, so appended lines are picked up
/// by later polls. From stdin the offsets are null, as in Apache.
///
/// Reads happen on the blocking thread pool, up to `batch.size` lines at a time, one batch ahead of `poll`
/// while lines keep coming. `poll` is cancel-safe: the batch being read stays in the task until a later `poll`
/// returns it.
#[derive(Default)]
pub struct FileStreamSourceTask {
    running: Option<Running>,
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> Result<()> {
        let parsed = config_def().parse(props)?;
        let file_config = parsed.string(FILE_CONFIG).map(str::to_owned);
        let topic = parsed.string(TOPIC_CONFIG).unwrap_or_default().to_owned();
        // Apache returns a batch once it holds `batch.size` records, so anything below 1 behaves as 1.
        let batch_size = parsed
            .int(TASK_BATCH_SIZE_CONFIG)
            .unwrap_or(DEFAULT_TASK_BATCH_SIZE)
            .max(1) as usize;
        let mut partition = SourceMap::with_capacity(1);
        partition.insert(
            FILENAME_FIELD.to_owned(),
            file_config
                .clone()
                .map_or(serde_json::Value::Null, serde_json::Value::String),
        );
        self.running = Some(Running {
            ctx,
            file: file_config.filter(|f| !f.is_empty()),
            batch_size,
            template: Arc::new(RecordTemplate {
                topic,
                partition: Arc::new(partition),
                schema: Schema::string(),
            }),
            reader: None,
            in_flight: None,
            read_ahead: false,
            stdin: StdinState {
                lines: LineBuffer::new(64 * 1024, 0),
                closed: false,
            },
        });
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let running = self
            .running
            .as_mut()
            .ok_or_else(|| ConnectError::fatal("FileStreamSourceTask polled before start"))?;
        match running.file.clone() {
            Some(file) => running.poll_file(&file).await,
            None => running.poll_stdin().await,
        }
    }

    async fn stop(&mut self) -> Result<()> {
        tracing::trace!("Stopping.");
        // Dropping the reader closes the file; a batch still being read closes it when it finishes.
        self.running = None;
        Ok(())
    }
}

impl Running {
    async fn poll_file(&mut self, file: &str) -> Result<Vec<SourceRecord>> {
        if self.in_flight.is_none() {
            let reader = match self.reader.take() {
                Some(reader) => reader,
                None => match self.open(file).await? {
                    Some(reader) => reader,
                    None => {
                        tokio::time::sleep(MISSING_FILE_WAIT).await;
                        return Ok(Vec::new());
                    }
                },
            };
            self.read_next(reader);
        }
        let (reader, batch) = self.join_read(file).await?;
        // A read ahead that found the end of the file ran before this poll: read again, as a poll that reads
        // only now would, so lines appended meanwhile come now rather than one poll later.
        let (reader, batch) = match batch {
            Ok(records) if records.is_empty() && std::mem::take(&mut self.read_ahead) => {
                self.read_next(reader);
                self.join_read(file).await?
            }
            batch => (reader, batch),
        };
        let records = match batch {
            Ok(records) => records,
            Err(e) => {
                self.reader = Some(reader);
                tracing::warn!(file, error = %e, "Error while reading from file for FileStreamSourceTask.");
                return Err(ConnectError::retriable(format!(
                    "Error while reading from file {file}: {e}"
                )));
            }
        };
        tracing::trace!(file, records = records.len(), "Read lines.");
        if records.is_empty() {
            self.reader = Some(reader);
            tokio::time::sleep(EOF_WAIT).await;
        } else {
            // The next batch is read while the worker sends this one. A stopped task drops it unsent; its
            // lines are read again from the committed position.
            self.read_next(reader);
            self.read_ahead = true;
        }
        Ok(records)
    }

    /// Waits for the batch being read.
    async fn join_read(
        &mut self,
        file: &str,
    ) -> Result<(FileReader, io::Result<Vec<SourceRecord>>)> {
        let handle = self.in_flight.as_mut().expect("a batch is in flight");
        let joined = handle.await;
        self.in_flight = None;
        joined.map_err(|e| {
            ConnectError::fatal(format!(
                "Reading {file} for FileStreamSourceTask failed: {e}"
            ))
        })
    }

    /// Reads the next batch from `reader` on the blocking pool.
    fn read_next(&mut self, mut reader: FileReader) {
        let max = self.batch_size;
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            let batch = reader.read_batch(max);
            (reader, batch)
        }));
    }

    /// Opens the file at the committed position, or returns `None` if it does not exist yet.
    async fn open(&self, file: &str) -> Result<Option<FileReader>> {
        let mut f = match tokio::fs::File::open(file).await {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                tracing::warn!(
                    "Couldn't find file {file} for FileStreamSourceTask, sleeping to wait for it to be created."
                );
                return Ok(None);
            }
            Err(e) => {
                tracing::error!(error = %e, "Error while trying to open file {file}.");
                return Err(ConnectError::fatal(format!(
                    "Error while trying to open file {file}: {e}"
                )));
            }
        };
        let offset = self
            .ctx
            .offset_storage_reader()
            .offset(&self.template.partition)
            .await?;
        let position = match offset.as_ref().and_then(|o| o.get(POSITION_FIELD)) {
            None | Some(serde_json::Value::Null) => 0,
            Some(p) => p
                .as_i64()
                .ok_or_else(|| ConnectError::fatal("Offset position is the incorrect type"))?,
        };
        let position = if position < 0 {
            tracing::warn!(
                "Ignoring negative offset position {position} for {file}; reading from the start."
            );
            0
        } else {
            position as u64
        };
        if position > 0 {
            tracing::debug!("Found previous offset, trying to skip to file offset {position}.");
            let skip_err = |e: io::Error| {
                tracing::error!(error = %e, "Error while trying to seek to previous offset in file {file}.");
                ConnectError::fatal(format!(
                    "Error while trying to seek to previous offset in file {file}: {e}"
                ))
            };
            let len = f.metadata().await.map_err(skip_err)?.len();
            if position > len {
                tracing::warn!(
                    "Committed position {position} is past the end of {file} ({len} bytes); waiting for the file to grow past it."
                );
            }
            f.seek(SeekFrom::Start(position)).await.map_err(skip_err)?;
            tracing::debug!("Skipped to offset {position}.");
        }
        tracing::debug!("Opened {file} for reading.");
        Ok(Some(FileReader {
            file: f.into_std().await,
            lines: LineBuffer::new(READ_BUFFER, position),
            template: self.template.clone(),
        }))
    }

    async fn poll_stdin(&mut self) -> Result<Vec<SourceRecord>> {
        let mut records = Vec::new();
        self.drain_stdin(&mut records);
        if !records.is_empty() {
            return Ok(records);
        }
        if self.stdin.closed {
            tokio::time::sleep(EOF_WAIT).await;
            return Ok(records);
        }
        let mut rx = stdin::receiver().lock().await;
        let mut next = match tokio::time::timeout(EOF_WAIT, rx.recv()).await {
            Ok(chunk) => chunk,
            Err(_) => return Ok(records),
        };
        // Nothing below awaits, so a chunk received is always buffered.
        loop {
            match next {
                Some(Ok(chunk)) => {
                    self.stdin.lines.extend(&chunk);
                    self.drain_stdin(&mut records);
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "Error while reading from standard input; no more lines will be read.");
                    self.stdin.closed = true;
                    break;
                }
                None => {
                    tracing::info!("Reached the end of standard input.");
                    self.stdin.closed = true;
                    break;
                }
            }
            if records.len() >= self.batch_size {
                break;
            }
            next = match rx.try_recv() {
                Ok(chunk) => Some(chunk),
                Err(mpsc_error) if is_empty(&mpsc_error) => break,
                Err(_) => None,
            };
        }
        Ok(records)
    }

    fn drain_stdin(&mut self, records: &mut Vec<SourceRecord>) {
        while records.len() < self.batch_size {
            let Some((line, _)) = self.stdin.lines.next_line() else {
                break;
            };
            records.push(self.template.record(decode(line), None, now_ms()));
        }
    }
}

fn is_empty(e: &tokio::sync::mpsc::error::TryRecvError) -> bool {
    matches!(e, tokio::sync::mpsc::error::TryRecvError::Empty)
}
