/// A value did not fit its schema, or a schema was built inconsistently (Connect's `DataException`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DataError(pub String);

impl DataError {
    /// Creates an error with the given message.
    pub fn new(msg: impl Into<String>) -> Self {
        DataError(msg.into())
    }
}
