use std::collections::HashMap;
use std::fs::OpenOptions;
use std::io::Write;
use std::path::PathBuf;

use async_trait::async_trait;
use causeway_api::{
    ConfigDef, ConfigType, ConnectError, Connector, ConnectorContext, Importance, Props, Result,
    SinkConnector, SinkTask, SinkTaskContext,
};
use causeway_data::{SinkRecord, TopicPartition};

use crate::FILE_CONFIG;

fn config_def() -> ConfigDef {
    ConfigDef::new().define_null(
        FILE_CONFIG,
        ConfigType::String,
        Importance::High,
        "Destination filename. If not specified, the standard output will be used",
    )
}

/// `org.apache.kafka.connect.file.FileStreamSinkConnector`.
#[derive(Default)]
pub struct FileStreamSinkConnector {
    props: Props,
}

#[async_trait]
impl Connector for FileStreamSinkConnector {
    fn config(&self) -> ConfigDef {
        config_def()
    }

    async fn start(&mut self, _ctx: ConnectorContext, props: &Props) -> Result<()> {
        config_def().parse(props)?;
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
}

/// `org.apache.kafka.connect.file.FileStreamSinkTask`: appends each record's value as a line; `flush` hands
/// the buffered lines to the OS before offsets are committed.
#[derive(Default)]
pub struct FileStreamSinkTask {
    out: Option<Box<dyn Write + Send>>,
    path: Option<PathBuf>,
}

#[async_trait]
impl SinkTask for FileStreamSinkTask {
    async fn start(&mut self, _ctx: SinkTaskContext, props: &Props) -> Result<()> {
        let parsed = config_def().parse(props)?;
        self.path = parsed
            .string(FILE_CONFIG)
            .filter(|f| !f.is_empty())
            .map(PathBuf::from);
        self.out = Some(match &self.path {
            Some(path) => {
                let file = OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(path)
                    .map_err(|e| {
                        ConnectError::fatal(format!(
                            "Couldn't find or create file '{}' for FileStreamSinkTask: {e}",
                            path.display()
                        ))
                    })?;
                Box::new(std::io::BufWriter::with_capacity(1024 * 1024, file))
            }
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        });
        Ok(())
    }

    async fn put(&mut self, records: &[SinkRecord]) -> Result<()> {
        let out = self
            .out
            .as_mut()
            .ok_or_else(|| ConnectError::fatal("FileStreamSinkTask used before start"))?;
        for r in records {
            writeln!(out, "{}", r.value)
                .map_err(|e| ConnectError::fatal(format!("Failed to write to sink file: {e}")))?;
        }
        Ok(())
    }

    async fn flush(&mut self, _offsets: &HashMap<TopicPartition, i64>) -> Result<()> {
        if let Some(out) = self.out.as_mut() {
            out.flush()
                .map_err(|e| ConnectError::fatal(format!("Failed to flush sink file: {e}")))?;
        }
        Ok(())
    }

    async fn stop(&mut self) -> Result<()> {
        if let Some(mut out) = self.out.take() {
            out.flush()?;
        }
        Ok(())
    }
}
