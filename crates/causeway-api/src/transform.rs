use causeway_data::ConnectRecord;

use crate::{ConfigDef, Props, Result};

/// A single message transform (`Transformation`).
///
/// Each task owns its own chain, so `apply` takes `&mut self` and may cache schemas.
pub trait Transformation: Send {
    /// Applies the transform's settings (the `transforms.<alias>.` keys, stripped).
    fn configure(&mut self, props: &Props) -> Result<()>;

    /// Transforms one record; `Ok(None)` drops it.
    fn apply(&mut self, record: ConnectRecord) -> Result<Option<ConnectRecord>>;

    /// The transform's configuration keys.
    fn config(&self) -> ConfigDef;

    /// Releases resources.
    fn close(&mut self) {}
}

/// A condition on a record that decides whether a transform applies (`Predicate`).
pub trait Predicate: Send + Sync {
    /// Applies the predicate's settings (the `predicates.<alias>.` keys, stripped).
    fn configure(&mut self, props: &Props) -> Result<()>;

    /// Whether the record matches.
    fn test(&self, record: &ConnectRecord) -> bool;

    /// The predicate's configuration keys.
    fn config(&self) -> ConfigDef;
}
