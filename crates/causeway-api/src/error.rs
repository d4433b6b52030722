use causeway_data::DataError;

/// Result with [`ConnectError`] as the default error.
pub type Result<T, E = ConnectError> = std::result::Result<T, E>;

/// What went wrong in a plugin, and so what the runtime should do about it.
///
/// The variants mirror Connect's exception hierarchy, which the runtime's error handling keys on:
/// `Retriable` is retried with backoff (`RetriableException`), `Data` goes to `errors.tolerance` and the
/// dead letter queue (`DataException`), `Config` is a user error in a configuration (`ConfigException`) and
/// `Fatal` fails the task or connector (`ConnectException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConnectError {
    /// A transient failure; the same call may succeed later.
    #[error("{0}")]
    Retriable(String),
    /// A record could not be converted, transformed or written.
    #[error("{0}")]
    Data(String),
    /// A configuration is invalid.
    #[error("{0}")]
    Config(String),
    /// Anything else: the task or connector cannot go on.
    #[error("{0}")]
    Fatal(String),
}

impl ConnectError {
    /// A [`ConnectError::Fatal`] with the given message.
    pub fn fatal(msg: impl Into<String>) -> Self {
        ConnectError::Fatal(msg.into())
    }

    /// A [`ConnectError::Retriable`] with the given message.
    pub fn retriable(msg: impl Into<String>) -> Self {
        ConnectError::Retriable(msg.into())
    }

    /// A [`ConnectError::Data`] with the given message.
    pub fn data(msg: impl Into<String>) -> Self {
        ConnectError::Data(msg.into())
    }

    /// A [`ConnectError::Config`] with the given message.
    pub fn config(msg: impl Into<String>) -> Self {
        ConnectError::Config(msg.into())
    }

    /// True for [`ConnectError::Retriable`].
    pub fn is_retriable(&self) -> bool {
        matches!(self, ConnectError::Retriable(_))
    }

    /// The message without the class name.
    pub fn message(&self) -> &str {
        match self {
            ConnectError::Retriable(m)
            | ConnectError::Data(m)
            | ConnectError::Config(m)
            | ConnectError::Fatal(m) => m,
        }
    }

    /// The Java exception class a Connect user would expect to see in a trace.
    pub fn class_name(&self) -> &'static str {
        match self {
            ConnectError::Retriable(_) => "org.apache.kafka.connect.errors.RetriableException",
            ConnectError::Data(_) => "org.apache.kafka.connect.errors.DataException",
            ConnectError::Config(_) => "org.apache.kafka.common.config.ConfigException",
            ConnectError::Fatal(_) => "org.apache.kafka.connect.errors.ConnectException",
        }
    }

    /// Prefixes the message with context, keeping the kind: `"{context}: {message}"`.
    pub fn context(self, context: impl std::fmt::Display) -> Self {
        let wrap = |m: String| format!("{context}: {m}");
        match self {
            ConnectError::Retriable(m) => ConnectError::Retriable(wrap(m)),
            ConnectError::Data(m) => ConnectError::Data(wrap(m)),
            ConnectError::Config(m) => ConnectError::Config(wrap(m)),
            ConnectError::Fatal(m) => ConnectError::Fatal(wrap(m)),
        }
    }
}

impl From<DataError> for ConnectError {
    fn from(e: DataError) -> Self {
        ConnectError::Data(e.0)
    }
}

impl From<std::io::Error> for ConnectError {
    fn from(e: std::io::Error) -> Self {
        ConnectError::Fatal(e.to_string())
    }
}
