//! Apache Kafka's FileStream connectors (`org.apache.kafka.connect.file`), with the same configs, offsets
//! and behaviour: [`FileStreamSourceConnector`] tails a file (or stdin) line by line into a topic, and
//! [`FileStreamSinkConnector`] appends each record's value to a file (or stdout) as a line. The runtime
//! registers them through [`plugins`].
#![warn(missing_docs)]

mod lines;
mod sink;
mod source;
mod stdin;

pub use self::sink::{FileStreamSinkConnector, FileStreamSinkTask};
pub use self::source::{FileStreamSourceConnector, FileStreamSourceTask};

use causeway_api::{PluginDescriptor, PluginFactory, VERSION};

/// `file`: the file to read or write (stdin/stdout when absent or empty).
pub const FILE_CONFIG: &str = "file";
/// `topic`: where the source writes.
pub const TOPIC_CONFIG: &str = "topic";
/// `batch.size`: the most lines one `poll` returns.
pub const TASK_BATCH_SIZE_CONFIG: &str = "batch.size";
/// Apache's default `batch.size`.
pub const DEFAULT_TASK_BATCH_SIZE: i32 = 2000;
/// The source partition key: `{"filename": <file>}`.
pub const FILENAME_FIELD: &str = "filename";
/// The source offset key: `{"position": <byte offset after the last line read>}`.
pub const POSITION_FIELD: &str = "position";

/// The connectors of this crate, under Apache's class names, with version [`VERSION`].
pub fn plugins() -> Vec<PluginDescriptor> {
    vec![
        PluginDescriptor {
            class_name: "org.apache.kafka.connect.file.FileStreamSourceConnector",
            version: VERSION,
            factory: PluginFactory::Source {
                connector: || Box::new(FileStreamSourceConnector::default()),
                task: || Box::new(FileStreamSourceTask::default()),
            },
        },
        PluginDescriptor {
            class_name: "org.apache.kafka.connect.file.FileStreamSinkConnector",
            version: VERSION,
            factory: PluginFactory::Sink {
                connector: || Box::new(FileStreamSinkConnector::default()),
                task: || Box::new(FileStreamSinkTask::default()),
            },
        },
    ]
}
