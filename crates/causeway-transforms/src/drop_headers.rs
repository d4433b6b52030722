//! `DropHeaders`: removes headers by name.
use std::collections::HashSet;

use causeway_api::config::{ConfigDef, ConfigType, Importance, validators};
use causeway_api::{Props, Result, Transformation};
use causeway_data::ConnectRecord;

/// `org.apache.kafka.connect.transforms.DropHeaders`.
#[derive(Default)]
pub struct DropHeaders {
    names: HashSet<String>,
}

impl Transformation for DropHeaders {
    fn configure(&mut self, props: &Props) -> Result<()> {
        let parsed = self.config().parse(props)?;
        self.names = parsed.list("headers").into_iter().collect();
        Ok(())
    }

    fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>> {
        record.headers.retain(|h| !self.names.contains(&h.key));
        Ok(Some(record))
    }

    fn config(&self) -> ConfigDef {
        ConfigDef::new()
            .define_required(
                "headers",
                ConfigType::List,
                Importance::High,
                "The name of the headers to be removed.",
            )
            .with_last(|k| k.validator(validators::non_empty_list()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use causeway_data::Value;

    #[test]
    fn removes_every_header_with_a_listed_name() {
        let mut t = DropHeaders::default();
        let props: Props = [("headers".to_owned(), "a, b".to_owned())]
            .into_iter()
            .collect();
        t.configure(&props).unwrap();
        let mut r = ConnectRecord::new("t", None, Value::Null);
        r.headers
            .add_string("a", "1")
            .add_string("c", "2")
            .add_string("b", "3")
            .add_string("a", "4");
        let out = t.apply(r).unwrap().unwrap();
        let keys: Vec<&str> = out.headers.iter().map(|h| h.key.as_str()).collect();
        assert_eq!(keys, vec!["c"]);
        let err = t
            .configure(
                &[("headers".to_owned(), "".to_owned())]
                    .into_iter()
                    .collect(),
            )
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("Invalid value [] for configuration headers: Empty list"),
            "{err}"
        );
    }
}
