//! Settings every converter shares (`ConverterConfig`) and a small LRU cache.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;

use causeway_api::config::validators;
use causeway_api::{ConfigDef, ConfigType, Importance, ParsedConfig, Props, Result};

/// `converter.type`: how the converter is used (`key`, `value` or `header`).
pub(crate) const TYPE_CONFIG: &str = "converter.type";
const TYPE_DOC: &str = "How this converter will be used.";

/// `ConverterConfig.newConfigDef()`: just `converter.type`, required, one of key/value/header.
pub(crate) fn converter_config_def() -> ConfigDef {
    ConfigDef::new()
        .define_required(TYPE_CONFIG, ConfigType::String, Importance::Low, TYPE_DOC)
        .with_last(|k| k.validator(validators::one_of(&["key", "value", "header"])))
}

/// Parses a converter's settings the way `configure(Map, isKey)` does: `converter.type` is forced to
/// `key`/`value` first.
pub(crate) fn parse_for_data(def: &ConfigDef, props: &Props, is_key: bool) -> Result<ParsedConfig> {
    let mut props = props.clone();
    props.insert(
        TYPE_CONFIG.to_owned(),
        if is_key { "key" } else { "value" }.to_owned(),
    );
    def.parse(&props)
}

/// Parses a header converter's settings: the worker passes `converter.type=header`; it is filled in when the
/// caller did not.
pub(crate) fn parse_for_header(def: &ConfigDef, props: &Props) -> Result<ParsedConfig> {
    if props.contains_key(TYPE_CONFIG) {
        return def.parse(props);
    }
    let mut props = props.clone();
    props.insert(TYPE_CONFIG.to_owned(), "header".to_owned());
    def.parse(&props)
}

/// A bounded least-recently-used map (Kafka's `LRUCache`); capacity 0 or less caches nothing.
#[derive(Debug)]
pub(crate) struct Lru<K, V> {
    map: HashMap<K, (V, u64)>,
    tick: u64,
    capacity: usize,
}

impl<K: Hash + Eq + Clone, V: Clone> Lru<K, V> {
    pub(crate) fn new(capacity: i32) -> Self {
        Lru {
            map: HashMap::new(),
            tick: 0,
            capacity: usize::try_from(capacity).unwrap_or(0),
        }
    }

    pub(crate) fn get<Q>(&mut self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.tick += 1;
        let tick = self.tick;
        self.map.get_mut(key).map(|(v, t)| {
            *t = tick;
            v.clone()
        })
    }

    pub(crate) fn put(&mut self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        self.tick += 1;
        if self.map.len() >= self.capacity && !self.map.contains_key(&key) {
            let oldest = self
                .map
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.map.remove(&oldest);
            }
        }
        self.map.insert(key, (value, self.tick));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lru_evicts_least_recently_used() {
        let mut c = Lru::new(2);
        c.put(1, "a");
        c.put(2, "b");
        assert_eq!(c.get(&1), Some("a"));
        c.put(3, "c");
        assert_eq!(c.get(&2), None);
        assert_eq!(c.get(&1), Some("a"));
        assert_eq!(c.get(&3), Some("c"));
        assert_eq!(c.len(), 2);
        let mut none = Lru::new(0);
        none.put(1, 1);
        assert_eq!(none.get(&1), None);
    }

    #[test]
    fn converter_type_is_validated() {
        let def = converter_config_def();
        let mut p = Props::new();
        assert!(parse_for_header(&def, &p).is_ok());
        assert!(parse_for_data(&def, &p, true).is_ok());
        p.insert(TYPE_CONFIG.into(), "bogus".into());
        let err = parse_for_header(&def, &p).unwrap_err();
        assert!(
            matches!(err, causeway_api::ConnectError::Config(_)),
            "{err:?}"
        );
    }
}
