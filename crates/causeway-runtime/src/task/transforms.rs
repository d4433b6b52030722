use std::sync::Arc;

use causeway_api::{ConnectError, PluginFactory, PluginType, Predicate, Props, Transformation};
use causeway_data::ConnectRecord;

use super::{Failure, Stage};
use crate::plugins::PluginRegistry;

struct ChainStage {
    /// The transform's class name, reported as the executing class of its failures.
    class: &'static str,
    transform: Box<dyn Transformation>,
    predicate: Option<Arc<dyn Predicate>>,
    negate: bool,
}

/// The connector's `transforms` applied in order (`TransformationChain`); a stage applies when
/// `negate XOR predicate(record)`, and a dropped record ends the chain.
#[derive(Default)]
pub struct TransformationChain {
    stages: Vec<ChainStage>,
}

fn sub_props(props: &Props, prefix: &str) -> Props {
    props
        .iter()
        .filter_map(|(k, v)| k.strip_prefix(prefix).map(|s| (s.to_owned(), v.clone())))
        .collect()
}

fn aliases(props: &Props, key: &str) -> Vec<String> {
    props
        .get(key)
        .map(|s| {
            s.split(',')
                .map(|a| a.trim().to_owned())
                .filter(|a| !a.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

impl TransformationChain {
    /// Builds the chain from a connector config.
    ///
    /// # Errors
    /// Unknown classes or predicates, or a transform rejecting its config.
    pub fn build(props: &Props, plugins: &PluginRegistry) -> Result<Self, ConnectError> {
        let mut predicates: std::collections::HashMap<String, Arc<dyn Predicate>> =
            Default::default();
        for alias in aliases(props, "predicates") {
            let prefix = format!("predicates.{alias}.");
            let class = props.get(&format!("{prefix}type")).ok_or_else(|| {
                ConnectError::config(format!(
                    "Missing required configuration \"{prefix}type\" which has no default value."
                ))
            })?;
            let plugin = plugins.find(PluginType::Predicate, class).ok_or_else(|| {
                ConnectError::config(format!("Class {class} could not be found."))
            })?;
            let PluginFactory::Predicate(make) = plugin.factory else {
                return Err(ConnectError::config(format!("{class} is not a predicate")));
            };
            let mut p = make();
            p.configure(&sub_props(props, &prefix))?;
            predicates.insert(alias, Arc::from(p));
        }
        let mut stages = Vec::new();
        for alias in aliases(props, "transforms") {
            let prefix = format!("transforms.{alias}.");
            let class = props.get(&format!("{prefix}type")).ok_or_else(|| {
                ConnectError::config(format!(
                    "Missing required configuration \"{prefix}type\" which has no default value."
                ))
            })?;
            let plugin = plugins
                .find(PluginType::Transformation, class)
                .ok_or_else(|| {
                    ConnectError::config(format!("Class {class} could not be found."))
                })?;
            let PluginFactory::Transformation(make) = plugin.factory else {
                return Err(ConnectError::config(format!(
                    "{class} is not a transformation"
                )));
            };
            let mut sub = sub_props(props, &prefix);
            let predicate = match sub.remove("predicate").filter(|p| !p.trim().is_empty()) {
                Some(p) => Some(predicates.get(p.trim()).cloned().ok_or_else(|| {
                    ConnectError::config(format!(
                        "Transform '{alias}' refers to unknown predicate '{p}'"
                    ))
                })?),
                None => None,
            };
            let negate = sub
                .remove("negate")
                .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
            sub.remove("type");
            let mut transform = make();
            transform.configure(&sub)?;
            stages.push(ChainStage {
                class: plugin.class_name,
                transform,
                predicate,
                negate,
            });
        }
        Ok(TransformationChain { stages })
    }

    /// True when there are no transforms (lets loops skip the chain).
    pub fn is_empty(&self) -> bool {
        self.stages.is_empty()
    }

    /// Runs the chain; `Ok(None)` means the record was dropped.
    ///
    /// # Errors
    /// The first transform error, with the transform's class.
    pub fn apply(&mut self, mut record: ConnectRecord) -> Result<Option<ConnectRecord>, Failure> {
        for stage in &mut self.stages {
            let applies = match &stage.predicate {
                Some(p) => stage.negate ^ p.test(&record),
                None => true,
            };
            if !applies {
                continue;
            }
            match stage.transform.apply(record) {
                Ok(Some(r)) => record = r,
                Ok(None) => return Ok(None),
                Err(e) => return Err(Failure::new(Stage::Transformation, stage.class, e)),
            }
        }
        Ok(Some(record))
    }

    /// Closes every transform.
    pub fn close(&mut self) {
        for s in &mut self.stages {
            s.transform.close();
        }
    }
}
