use crate::{
    Converter, HeaderConverter, Predicate, SinkConnector, SinkTask, SourceConnector, SourceTask,
    Transformation,
};

/// The kind of a plugin, as `GET /connector-plugins` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PluginType {
    /// A sink connector (listed first, as Apache does).
    Sink,
    /// A source connector.
    Source,
    /// A single message transform.
    Transformation,
    /// A predicate.
    Predicate,
    /// A key/value converter.
    Converter,
    /// A header converter.
    HeaderConverter,
}

impl PluginType {
    /// The lower-case name used in REST responses.
    pub fn name(self) -> &'static str {
        match self {
            PluginType::Sink => "sink",
            PluginType::Source => "source",
            PluginType::Transformation => "transformation",
            PluginType::Predicate => "predicate",
            PluginType::Converter => "converter",
            PluginType::HeaderConverter => "header_converter",
        }
    }

    /// The suffix Apache prunes from the simple class name to make an alias (`PluginUtils.prunedName`).
    pub fn alias_suffix(self) -> &'static str {
        match self {
            PluginType::Sink | PluginType::Source => "Connector",
            PluginType::Transformation => "Transformation",
            PluginType::Predicate => "Predicate",
            PluginType::Converter => "Converter",
            PluginType::HeaderConverter => "HeaderConverter",
        }
    }
}

/// How to make instances of a plugin.
#[derive(Clone, Copy)]
pub enum PluginFactory {
    /// A source connector and its task.
    Source {
        /// New connector instance.
        connector: fn() -> Box<dyn SourceConnector>,
        /// New task instance.
        task: fn() -> Box<dyn SourceTask>,
    },
    /// A sink connector and its task.
    Sink {
        /// New connector instance.
        connector: fn() -> Box<dyn SinkConnector>,
        /// New task instance.
        task: fn() -> Box<dyn SinkTask>,
    },
    /// A key/value converter.
    Converter(fn() -> Box<dyn Converter>),
    /// A header converter.
    HeaderConverter(fn() -> Box<dyn HeaderConverter>),
    /// A transform.
    Transformation(fn() -> Box<dyn Transformation>),
    /// A predicate.
    Predicate(fn() -> Box<dyn Predicate>),
}

impl PluginFactory {
    /// The plugin type this factory makes.
    pub fn plugin_type(&self) -> PluginType {
        match self {
            PluginFactory::Source { .. } => PluginType::Source,
            PluginFactory::Sink { .. } => PluginType::Sink,
            PluginFactory::Converter(_) => PluginType::Converter,
            PluginFactory::HeaderConverter(_) => PluginType::HeaderConverter,
            PluginFactory::Transformation(_) => PluginType::Transformation,
            PluginFactory::Predicate(_) => PluginType::Predicate,
        }
    }
}

/// One plugin as a crate publishes it: its Apache class name, version and factory.
///
/// Aliases (simple name, pruned name) are derived by the runtime's registry. A class that is both a
/// converter and a header converter (`StringConverter`) is published twice, once per type.
#[derive(Clone, Copy)]
pub struct PluginDescriptor {
    /// Fully-qualified class name, e.g. `org.apache.kafka.connect.file.FileStreamSourceConnector`.
    pub class_name: &'static str,
    /// Plugin version.
    pub version: &'static str,
    /// Instance factory.
    pub factory: PluginFactory,
}

impl PluginDescriptor {
    /// The plugin type.
    pub fn plugin_type(&self) -> PluginType {
        self.factory.plugin_type()
    }

    /// The simple class name (after the last `.`), e.g. `FileStreamSourceConnector` or `InsertField$Value`.
    pub fn simple_name(&self) -> &'static str {
        self.class_name
            .rsplit('.')
            .next()
            .unwrap_or(self.class_name)
    }
}

impl std::fmt::Debug for PluginDescriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginDescriptor")
            .field("class_name", &self.class_name)
            .field("type", &self.plugin_type())
            .finish()
    }
}
