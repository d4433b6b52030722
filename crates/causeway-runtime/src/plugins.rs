//! The plugin registry: resolves class names and aliases to factories, as Apache's `Plugins` does.
use std::collections::{BTreeMap, HashMap};

use causeway_api::{PluginDescriptor, PluginType};

use crate::herder::entities::PluginInfo;

/// Every installed plugin, indexed by class name and alias.
#[derive(Debug, Clone, Default)]
pub struct PluginRegistry {
    plugins: Vec<PluginDescriptor>,
    /// (type, name or alias) → index; ambiguous aliases are dropped, as Apache does.
    by_name: HashMap<(PluginType, String), usize>,
}

/// Apache's `PluginUtils.prunedName`: the simple name with the type suffix cut at its last occurrence.
fn pruned_name(simple: &str, suffix: &str) -> Option<String> {
    let pos = simple.rfind(suffix)?;
    (pos > 0).then(|| simple[..pos].to_owned())
}

impl PluginRegistry {
    /// Indexes the given plugins by class name, simple name and pruned name.
    pub fn new(plugins: Vec<PluginDescriptor>) -> Self {
        let mut by_name = HashMap::new();
        let mut alias_counts: HashMap<(PluginType, String), Vec<usize>> = HashMap::new();
        for (i, p) in plugins.iter().enumerate() {
            let ty = p.plugin_type();
            by_name.insert((ty, p.class_name.to_owned()), i);
            let simple = p.simple_name();
            let mut aliases = vec![simple.to_owned()];
            if let Some(pruned) = pruned_name(simple, ty.alias_suffix()) {
                aliases.push(pruned);
            }
            for a in aliases {
                let slot = alias_counts.entry((ty, a)).or_default();
                if !slot.contains(&i) {
                    slot.push(i);
                }
            }
        }
        // Connectors share one alias namespace (source and sink), as Apache's alias map is global.
        for ((ty, alias), idxs) in alias_counts {
            let distinct_classes: std::collections::BTreeSet<&str> =
                idxs.iter().map(|i| plugins[*i].class_name).collect();
            if distinct_classes.len() == 1 && !by_name.contains_key(&(ty, alias.clone())) {
                by_name.insert((ty, alias), idxs[0]);
            }
        }
        PluginRegistry { plugins, by_name }
    }

    /// All descriptors.
    pub fn all(&self) -> &[PluginDescriptor] {
        &self.plugins
    }

    /// Resolves a name of the given type.
    pub fn find(&self, ty: PluginType, name: &str) -> Option<&PluginDescriptor> {
        self.by_name
            .get(&(ty, name.trim().to_owned()))
            .map(|i| &self.plugins[*i])
    }

    /// Resolves a connector class (source or sink) with Apache's fallback: any connector whose simple name
    /// is `name` or `name + "Connector"`.
    ///
    /// # Errors
    /// Apache's messages for no match and for an ambiguous alias.
    pub fn connector(&self, name: &str) -> Result<&PluginDescriptor, String> {
        let name = name.trim();
        for ty in [PluginType::Source, PluginType::Sink] {
            if let Some(p) = self.find(ty, name) {
                return Ok(p);
            }
        }
        let connectors: Vec<&PluginDescriptor> = self.connectors().collect();
        let matches: Vec<&&PluginDescriptor> = connectors
            .iter()
            .filter(|p| p.simple_name() == name || p.simple_name() == format!("{name}Connector"))
            .collect();
        match matches.len() {
            1 => Ok(matches[0]),
            0 => Err(format!(
                "Failed to find any class that implements Connector and which name matches {name}, available connectors are: {}",
                connectors
                    .iter()
                    .map(|p| format!(
                        "PluginDesc{{klass=class {}, name='{}', version='{}', encodedVersion={}, type={}, typeName='{}', location='classpath'}}",
                        p.class_name,
                        p.class_name,
                        p.version,
                        p.version,
                        p.plugin_type().name(),
                        p.plugin_type().name()
                    ))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            _ => Err(format!(
                "More than one connector matches alias {name}. Please use full package and class name instead. Classes found: {}",
                matches.iter().map(|p| p.class_name).collect::<Vec<_>>().join(", ")
            )),
        }
    }

    /// Resolves any plugin by name regardless of type (for `GET /connector-plugins/{p}/config`).
    pub fn any(&self, name: &str) -> Option<&PluginDescriptor> {
        [
            PluginType::Sink,
            PluginType::Source,
            PluginType::Transformation,
            PluginType::Predicate,
            PluginType::Converter,
            PluginType::HeaderConverter,
        ]
        .into_iter()
        .find_map(|ty| self.find(ty, name))
    }

    /// Source and sink connectors.
    pub fn connectors(&self) -> impl Iterator<Item = &PluginDescriptor> {
        self.plugins
            .iter()
            .filter(|p| matches!(p.plugin_type(), PluginType::Source | PluginType::Sink))
    }

    /// Class names of plugins of one type, sorted (for recommenders).
    pub fn class_names(&self, ty: PluginType) -> Vec<String> {
        let mut names: Vec<String> = self
            .plugins
            .iter()
            .filter(|p| p.plugin_type() == ty)
            .map(|p| p.class_name.to_owned())
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// The `GET /connector-plugins` listing: sinks, sources, transformations, predicates, converters,
    /// header converters; each group sorted by class name.
    pub fn plugin_infos(&self, connectors_only: bool) -> Vec<PluginInfo> {
        let mut grouped: BTreeMap<(PluginType, &str, &str), ()> = BTreeMap::new();
        for p in &self.plugins {
            let ty = p.plugin_type();
            if connectors_only && !matches!(ty, PluginType::Source | PluginType::Sink) {
                continue;
            }
            grouped.insert((ty, p.class_name, p.version), ());
        }
        grouped
            .into_keys()
            .map(|(ty, class, version)| PluginInfo {
                class: class.to_owned(),
                plugin_type: ty.name().to_owned(),
                version: (version != "undefined").then(|| version.to_owned()),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruned_names_follow_apache() {
        assert_eq!(
            pruned_name("FileStreamSourceConnector", "Connector").as_deref(),
            Some("FileStreamSource")
        );
        assert_eq!(
            pruned_name("StringConverter", "Converter").as_deref(),
            Some("String")
        );
        assert_eq!(pruned_name("Connector", "Connector"), None);
        assert_eq!(pruned_name("Filter", "Transformation"), None);
    }
}
