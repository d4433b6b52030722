//! Apache Kafka's FileStream connectors (`org.apache.kafka.connect.file`), with the same configs, offsets
//! and behaviour: the source tails a file (or stdin) line by line, the sink appends each record's value as a
//! line. Depend on this crate only to register its [`plugins`].
#![warn(missing_docs)]

mod sink;
mod source;

pub use self::sink::{FileStreamSinkConnector, FileStreamSinkTask};
pub use self::source::{FileStreamSourceConnector, FileStreamSourceTask};

use causeway_api::{PluginDescriptor, PluginFactory, VERSION};

/// `file`: the file to read or write (stdin/stdout when absent).
pub const FILE_CONFIG: &str = "file";
/// `topic`: where the source writes.
pub const TOPIC_CONFIG: &str = "topic";
/// `batch.size`: most lines per poll.
pub const TASK_BATCH_SIZE_CONFIG: &str = "batch.size";
/// Apache's default `batch.size`.
pub const DEFAULT_TASK_BATCH_SIZE: i32 = 2000;
/// Source partition key.
pub const FILENAME_FIELD: &str = "filename";
/// Source offset key.
pub const POSITION_FIELD: &str = "position";

/// The connectors of this crate, under Apache's class names.
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
