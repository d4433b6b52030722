use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use causeway_api::config::validators::NonEmptyString;
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Connector, ConnectorContext, Importance, Props, Result,
    SourceConnector, SourceTask, SourceTaskContext,
};
use causeway_data::{Schema, SourceMap, SourceRecord, Value};
use parking_lot::Mutex;

use crate::{
    DEFAULT_TASK_BATCH_SIZE, FILE_CONFIG, FILENAME_FIELD, POSITION_FIELD, TASK_BATCH_SIZE_CONFIG,
    TOPIC_CONFIG,
};

/// How long `poll` waits at the end of the input before returning an empty batch (Apache waits 1 s; a
/// shorter wait picks up appended lines sooner at negligible cost).
const EOF_WAIT: Duration = Duration::from_millis(250);

fn config_def() -> ConfigDef {
    ConfigDef::new()
        .define_null(FILE_CONFIG, ConfigType::String, Importance::High,
            "Source filename. If not specified, the standard input will be used")
        .define_key(
            ConfigDef::key(TOPIC_CONFIG, ConfigType::String, Importance::High, "The topic to publish data to")
                .validator(Arc::new(NonEmptyString)),
        )
        .define(TASK_BATCH_SIZE_CONFIG, ConfigType::Int, &DEFAULT_TASK_BATCH_SIZE.to_string(), Importance::Low,
            "The maximum number of records the source task can read from the file each time it is polled")
}

/// `org.apache.kafka.connect.file.FileStreamSourceConnector`: one task reading a file or stdin.
#[derive(Default)]
pub struct FileStreamSourceConnector {
    props: Props,
}

#[async_trait]
impl Connector for FileStreamSourceConnector {
    fn config(&self) -> ConfigDef {
        config_def()
    }

    async fn start(&mut self, _ctx: ConnectorContext, props: &Props) -> Result<()> {
        config_def().parse(props)?;
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
}

/// The reader state, shared with the blocking thread that reads; lines read but not yet returned stay in
/// `pending`, so a cancelled `poll` loses nothing.
struct ReaderState {
    path: Option<PathBuf>,
    input: Option<Box<dyn BufRead + Send>>,
    /// Byte position after the last complete line read.
    position: u64,
    /// Bytes of a line whose newline has not arrived yet.
    partial: Vec<u8>,
    /// A `\r` ended the previous chunk: skip a `\n` that follows.
    skip_lf: bool,
    pending: Vec<(String, u64)>,
}

impl ReaderState {
    fn open(&mut self) -> std::io::Result<bool> {
        if self.input.is_some() {
            return Ok(true);
        }
        match &self.path {
            None => {
                self.input = Some(Box::new(BufReader::with_capacity(
                    64 * 1024,
                    std::io::stdin(),
                )));
                Ok(true)
            }
            Some(path) => match File::open(path) {
                Ok(mut f) => {
                    if self.position > 0 {
                        f.seek(SeekFrom::Start(self.position))?;
                        tracing::debug!(file = %path.display(), position = self.position, "Resuming file source.");
                    }
                    self.input = Some(Box::new(BufReader::with_capacity(256 * 1024, f)));
                    Ok(true)
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    tracing::warn!(file = %path.display(), "Couldn't find file for FileStreamSourceTask, sleeping to wait for it to be created.");
                    Ok(false)
                }
                Err(e) => Err(e),
            },
        }
    }

    /// Reads complete lines into `pending`, up to `max`. Handles `\n`, `\r` and `\r\n` endings as Apache's
    /// `extractLine` does.
    fn fill(&mut self, max: usize) -> std::io::Result<()> {
        if !self.open()? {
            return Ok(());
        }
        let Some(input) = self.input.as_mut() else {
            return Ok(());
        };
        while self.pending.len() < max {
            let buf = input.fill_buf()?;
            if buf.is_empty() {
                break;
            }
            let mut consumed = 0;
            let mut i = 0;
            while i < buf.len() && self.pending.len() < max {
                let b = buf[i];
                if self.skip_lf {
                    self.skip_lf = false;
                    if b == b'\n' {
                        i += 1;
                        consumed = i;
                        self.position += 1;
                        continue;
                    }
                }
                if b == b'\n' || b == b'\r' {
                    self.partial.extend_from_slice(&buf[consumed..i]);
                    // The whole line, including bytes carried over from earlier reads, plus its terminator.
                    self.position += self.partial.len() as u64 + 1;
                    let line = String::from_utf8_lossy(&self.partial).into_owned();
                    self.partial.clear();
                    i += 1;
                    if b == b'\r' {
                        // `\r\n` is one terminator; when the `\n` is not read yet, skip it later.
                        match buf.get(i) {
                            Some(b'\n') => {
                                i += 1;
                                self.position += 1;
                            }
                            Some(_) => {}
                            None => self.skip_lf = true,
                        }
                    }
                    self.pending.push((line, self.position));
                    consumed = i;
                    continue;
                }
                i += 1;
            }
            if self.pending.len() >= max {
                input.consume(consumed);
                break;
            }
            // Keep the unterminated rest of the buffer; its bytes count once its newline arrives.
            self.partial.extend_from_slice(&buf[consumed..]);
            let n = buf.len();
            input.consume(n);
        }
        Ok(())
    }
}

/// `org.apache.kafka.connect.file.FileStreamSourceTask`.
#[derive(Default)]
pub struct FileStreamSourceTask {
    state: Option<Arc<Mutex<ReaderState>>>,
    topic: String,
    batch_size: usize,
    partition: Option<SourceMap>,
}

#[async_trait]
impl SourceTask for FileStreamSourceTask {
    async fn start(&mut self, ctx: SourceTaskContext, props: &Props) -> Result<()> {
        let parsed = config_def().parse(props)?;
        self.topic = parsed.string(TOPIC_CONFIG).unwrap_or_default().to_owned();
        self.batch_size = parsed
            .int(TASK_BATCH_SIZE_CONFIG)
            .unwrap_or(DEFAULT_TASK_BATCH_SIZE)
            .max(1) as usize;
        let path = parsed
            .string(FILE_CONFIG)
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        let mut position = 0;
        if let Some(p) = &path {
            let mut partition = SourceMap::new();
            partition.insert(FILENAME_FIELD.into(), p.display().to_string().into());
            if let Some(offset) = ctx.offset_storage_reader().offset(&partition).await? {
                match offset
                    .get(POSITION_FIELD)
                    .and_then(serde_json::Value::as_i64)
                {
                    Some(pos) if pos >= 0 => position = pos as u64,
                    _ => return Err(ConnectError::fatal("Offset position is the incorrect type")),
                }
            }
            self.partition = Some(partition);
        }
        self.state = Some(Arc::new(Mutex::new(ReaderState {
            path,
            input: None,
            position,
            partial: Vec::new(),
            skip_lf: false,
            pending: Vec::new(),
        })));
        Ok(())
    }

    async fn poll(&mut self) -> Result<Vec<SourceRecord>> {
        let state = self
            .state
            .clone()
            .ok_or_else(|| ConnectError::fatal("FileStreamSourceTask polled before start"))?;
        let max = self.batch_size;
        let reader = state.clone();
        tokio::task::spawn_blocking(move || reader.lock().fill(max))
            .await
            .map_err(|e| ConnectError::fatal(e.to_string()))?
            .map_err(|e| {
                ConnectError::fatal(format!("Error while reading from the source file: {e}"))
            })?;
        // Taken without an await in between, so a cancelled poll leaves the lines for the next one.
        let lines = std::mem::take(&mut state.lock().pending);
        if lines.is_empty() {
            tokio::time::sleep(EOF_WAIT).await;
            return Ok(Vec::new());
        }
        let schema = Schema::string();
        Ok(lines
            .into_iter()
            .map(|(line, position)| {
                let offset = self.partition.as_ref().map(|_| {
                    let mut o = SourceMap::new();
                    o.insert(POSITION_FIELD.into(), (position as i64).into());
                    o
                });
                SourceRecord::new(
                    self.partition.clone(),
                    offset,
                    self.topic.clone(),
                    Some(schema.clone()),
                    Value::String(line),
                )
            })
            .collect())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(s) = self.state.take() {
            s.lock().input = None;
        }
        Ok(())
    }
}
