use causeway_api::{ConnectError, Props};

/// Where in a task loop an operation failed (`Stage` in Apache's error handling).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// `SourceTask.poll`.
    TaskPoll,
    /// `SinkTask.put`.
    TaskPut,
    /// A transformation.
    Transformation,
    /// The key converter.
    KeyConverter,
    /// The value converter.
    ValueConverter,
    /// The header converter.
    HeaderConverter,
    /// Producing to the log.
    KafkaProduce,
    /// Consuming from the log.
    KafkaConsume,
}

impl Stage {
    /// Apache's enum name (`VALUE_CONVERTER` …), used in traces and DLQ headers.
    pub fn name(self) -> &'static str {
        match self {
            Stage::TaskPoll => "TASK_POLL",
            Stage::TaskPut => "TASK_PUT",
            Stage::Transformation => "TRANSFORMATION",
            Stage::KeyConverter => "KEY_CONVERTER",
            Stage::ValueConverter => "VALUE_CONVERTER",
            Stage::HeaderConverter => "HEADER_CONVERTER",
            Stage::KafkaProduce => "KAFKA_PRODUCE",
            Stage::KafkaConsume => "KAFKA_CONSUME",
        }
    }

    /// Converters and transformations tolerate any error; other stages only retriable ones (KIP-298).
    fn tolerates(self, error: &ConnectError) -> bool {
        match self {
            Stage::Transformation
            | Stage::KeyConverter
            | Stage::ValueConverter
            | Stage::HeaderConverter => true,
            _ => error.is_retriable(),
        }
    }
}

/// The connector's `errors.tolerance` / `errors.log.*` settings.
#[derive(Debug, Clone, Default)]
pub struct ErrorPolicy {
    tolerate_all: bool,
    log_errors: bool,
    log_messages: bool,
}

impl ErrorPolicy {
    /// Reads the `errors.*` keys of a connector config.
    pub fn from_props(props: &Props) -> Self {
        let flag = |k: &str| {
            props
                .get(k)
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
        };
        ErrorPolicy {
            tolerate_all: props
                .get("errors.tolerance")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("all")),
            log_errors: flag("errors.log.enable"),
            log_messages: flag("errors.log.include.messages"),
        }
    }

    /// Decides about a failed record: `Ok(())` means skip it and go on; `Err` fails the task with a
    /// message naming the stage and the record (`context`, e.g. `topic t, partition 0, offset 5`).
    ///
    /// # Errors
    /// When the error is not tolerated.
    pub fn handle(
        &self,
        stage: Stage,
        error: ConnectError,
        context: &str,
    ) -> Result<(), ConnectError> {
        if self.tolerate_all && stage.tolerates(&error) {
            if self.log_errors {
                if self.log_messages {
                    tracing::error!(stage = stage.name(), %error, record = context, "Error encountered in task. Skipping record.");
                } else {
                    tracing::error!(stage = stage.name(), %error, "Error encountered in task. Skipping record.");
                }
            }
            return Ok(());
        }
        Err(ConnectError::fatal(format!(
            "Tolerance exceeded in error handler\nCaused by: {}: {}\n\tat stage {} while processing {context}",
            error.class_name(),
            error.message(),
            stage.name()
        )))
    }
}
