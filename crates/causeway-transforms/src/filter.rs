//! `Filter`: drops every record it sees; used with a predicate.
use causeway_api::config::ConfigDef;
use causeway_api::{Props, Result, Transformation};
use causeway_data::ConnectRecord;

/// `org.apache.kafka.connect.transforms.Filter`.
#[derive(Default)]
pub struct Filter;

impl Transformation for Filter {
    fn configure(&mut self, _props: &Props) -> Result<()> {
        Ok(())
    }

    fn apply(&mut self, _record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        Ok(None)
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
    }
}
