//! Logger levels behind `/admin/loggers`: Apache's `Loggers` over a `tracing` filter.
//!
//! Connect names loggers like log4j (`org.apache.kafka.connect.runtime.Worker`); Causeway logs through
//! `tracing`, whose targets are module paths (`causeway_runtime::worker`). A logger here is any string;
//! its filter directive uses the name with `.` replaced by `::`, so both spellings work. Every change
//! rebuilds the whole directive string (root level, other directives from the initial filter, then one
//! `target=level` per logger) and hands it to the `apply` function, which normally reloads the
//! subscriber's `EnvFilter`.
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::reload;

const ROOT: &str = "root";

/// A logger as `GET /admin/loggers` shows it (Apache's `LoggerLevel`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggerLevel {
    /// The level name (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`, `FATAL`, `OFF`, `ALL`).
    pub level: String,
    /// Epoch milliseconds of the last change made through the API, `null` if never changed.
    pub last_modified: Option<i64>,
}

/// Why [`LoggerLevels::set`] refused a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelError {
    /// Not one of the level names; carries the requested level as given (answered with 404
    /// `invalid log level '<level>'.`).
    InvalidLevel(String),
    /// The new filter could not be installed; nothing was changed (answered with 500).
    Apply(String),
}

impl std::fmt::Display for LevelError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LevelError::InvalidLevel(level) => write!(f, "invalid log level '{level}'."),
            LevelError::Apply(e) => write!(f, "Cannot apply the new log levels: {e}"),
        }
    }
}

impl std::error::Error for LevelError {}

/// Log4j's level names, the ones Connect accepts (case-insensitively).
fn canonical_level(level: &str) -> Option<&'static str> {
    const LEVELS: &[&str] = &[
        "OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL",
    ];
    let upper = level.to_ascii_uppercase();
    LEVELS.iter().copied().find(|l| *l == upper)
}

/// The `tracing` level a log4j level filters at.
fn tracing_level(level: &str) -> &'static str {
    match level {
        "TRACE" | "ALL" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "off",
    }
}

/// A `tracing` level filter (`info`, `WARN`, `3` …) as a log4j level name.
fn from_tracing_level(level: &str) -> Option<&'static str> {
    match level.trim().to_ascii_lowercase().as_str() {
        "trace" | "5" => Some("TRACE"),
        "debug" | "4" => Some("DEBUG"),
        "info" | "3" => Some("INFO"),
        "warn" | "2" => Some("WARN"),
        "error" | "1" => Some("ERROR"),
        "off" | "0" => Some("OFF"),
        _ => None,
    }
}

/// The `tracing` target a logger name filters, or `None` when the name cannot be written as a directive
/// (it then matches nothing `tracing` logs anyway).
fn directive_target(name: &str) -> Option<String> {
    let target = name.replace('.', "::");
    let first = target.chars().next()?;
    let valid_start = first.is_alphanumeric() || matches!(first, '-' | ':' | '_');
    let valid_rest = target
        .chars()
        .all(|c| !c.is_whitespace() && !matches!(c, '=' | '[' | ']' | '{' | '}' | ',' | '"'));
    (valid_start && valid_rest).then_some(target)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Entry {
    level: &'static str,
    last_modified: Option<i64>,
}

impl Entry {
    fn view(&self) -> LoggerLevel {
        LoggerLevel {
            level: self.level.to_owned(),
            last_modified: self.last_modified,
        }
    }
}

#[derive(Debug, Clone)]
struct State {
    root: Entry,
    loggers: BTreeMap<String, Entry>,
    /// Directives of the initial filter that are not a plain level or `target=level` (span filters …),
    /// kept as they are.
    other_directives: Vec<String>,
}

impl State {
    fn parse(initial_filter: &str) -> State {
        // Without a global level, `EnvFilter` enables nothing outside the named targets: root is OFF.
        let mut root = "OFF";
        let mut loggers = BTreeMap::new();
        let mut other_directives = Vec::new();
        for directive in initial_filter
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            if let Some(level) = from_tracing_level(directive) {
                root = level;
                continue;
            }
            let simple = directive.split_once('=').and_then(|(target, level)| {
                let level = from_tracing_level(level)?;
                (directive_target(target).as_deref() == Some(target)).then_some((target, level))
            });
            match simple {
                Some((target, level)) => {
                    loggers.insert(
                        target.to_owned(),
                        Entry {
                            level,
                            last_modified: None,
                        },
                    );
                }
                None => other_directives.push(directive.to_owned()),
            }
        }
        State {
            root: Entry {
                level: root,
                last_modified: None,
            },
            loggers,
            other_directives,
        }
    }

    /// The level a logger that does not exist yet inherits: its nearest configured ancestor's (by `.` or
    /// `::` boundaries), else root's.
    fn effective_level(&self, name: &str) -> &'static str {
        self.loggers
            .iter()
            .filter(|(ancestor, _)| {
                name.strip_prefix(ancestor.as_str())
                    .is_some_and(|rest| rest.starts_with('.') || rest.starts_with("::"))
            })
            .max_by_key(|(ancestor, _)| ancestor.len())
            .map_or(self.root.level, |(_, e)| e.level)
    }

    fn directives(&self) -> String {
        std::iter::once(tracing_level(self.root.level).to_owned())
            .chain(self.other_directives.iter().cloned())
            .chain(self.loggers.iter().filter_map(|(name, e)| {
                directive_target(name).map(|t| format!("{t}={}", tracing_level(e.level)))
            }))
            .collect::<Vec<_>>()
            .join(",")
    }
}

type ApplyFn = dyn Fn(&str) -> Result<(), String> + Send + Sync;

/// The worker's logger levels: what `/admin/loggers` reads and changes (Apache's `Loggers`).
///
/// Cheap to clone; clones share the levels.
#[derive(Clone)]
pub struct LoggerLevels {
    state: Arc<Mutex<State>>,
    apply: Arc<ApplyFn>,
}

impl std::fmt::Debug for LoggerLevels {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoggerLevels")
            .field("directives", &self.directives())
            .finish_non_exhaustive()
    }
}

impl LoggerLevels {
    /// Starts from the `tracing` filter the worker was started with (`RUST_LOG`, e.g.
    /// `info,causeway_runtime=debug`): its global level becomes `root` and each `target=level` directive a
    /// known logger. `apply` installs a new filter directive string; it is called after every change (not
    /// at construction).
    pub fn new(
        initial_filter: &str,
        apply: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        LoggerLevels {
            state: Arc::new(Mutex::new(State::parse(initial_filter))),
            apply: Arc::new(apply),
        }
    }

    /// Like [`LoggerLevels::new`], applying changes by reloading a subscriber's `EnvFilter` layer.
    pub fn from_reload_handle<S: 'static>(
        initial_filter: &str,
        handle: reload::Handle<EnvFilter, S>,
    ) -> Self {
        Self::new(initial_filter, move |directives| {
            let filter = EnvFilter::try_new(directives).map_err(|e| e.to_string())?;
            handle.reload(filter).map_err(|e| e.to_string())
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is replaced wholesale on every change, so a poisoned lock still holds a valid state.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The filter directive string for the current levels.
    pub fn directives(&self) -> String {
        self.lock().directives()
    }

    /// Every known logger plus `root`, sorted by name; loggers whose level is OFF are left out, as Apache
    /// does.
    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        let state = self.lock();
        let mut out: BTreeMap<String, LoggerLevel> = state
            .loggers
            .iter()
            .filter(|(_, e)| e.level != "OFF")
            .map(|(name, e)| (name.clone(), e.view()))
            .collect();
        if state.root.level != "OFF" {
            out.insert(ROOT.to_owned(), state.root.view());
        }
        out
    }

    /// One logger; `root` (any case) is the root logger. `None` for a logger never configured.
    pub fn get(&self, name: &str) -> Option<LoggerLevel> {
        let state = self.lock();
        if name.eq_ignore_ascii_case(ROOT) {
            return Some(state.root.view());
        }
        state.loggers.get(name).map(Entry::view)
    }

    /// Sets `namespace` and every known logger whose name starts with it (plain prefix, as Apache) to
    /// `level`, creating `namespace` if needed; `root` (any case) sets root and every logger. Returns the
    /// affected logger names, sorted. `last_modified` changes only for loggers whose level changed.
    ///
    /// # Errors
    /// [`LevelError::InvalidLevel`] for a level that is not a log4j level name;
    /// [`LevelError::Apply`] when the new filter cannot be installed (then nothing changes).
    pub fn set(&self, namespace: &str, level: &str) -> Result<Vec<String>, LevelError> {
        let new_level =
            canonical_level(level).ok_or_else(|| LevelError::InvalidLevel(level.to_owned()))?;
        let now = now_ms();
        let mut state = self.lock();
        let before = state.clone();
        let touch = |e: &mut Entry| {
            if e.level != new_level {
                e.level = new_level;
                e.last_modified = Some(now);
            }
        };
        let mut affected = Vec::new();
        if namespace.eq_ignore_ascii_case(ROOT) {
            for (name, e) in state.loggers.iter_mut() {
                touch(e);
                affected.push(name.clone());
            }
            touch(&mut state.root);
            affected.push(ROOT.to_owned());
        } else {
            if !state.loggers.contains_key(namespace) {
                let inherited = state.effective_level(namespace);
                state.loggers.insert(
                    namespace.to_owned(),
                    Entry {
                        level: inherited,
                        last_modified: None,
                    },
                );
            }
            for (name, e) in state
                .loggers
                .iter_mut()
                .filter(|(name, _)| name.starts_with(namespace))
            {
                touch(e);
                affected.push(name.clone());
            }
        }
        affected.sort();
        if let Err(e) = (self.apply)(&state.directives()) {
            *state = before;
            return Err(LevelError::Apply(e));
        }
        tracing::info!(
            target: "causeway_rest",
            namespace,
            level = new_level,
            "Set the level of a logger namespace and its children."
        );
        Ok(affected)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn recording(initial: &str) -> (LoggerLevels, Arc<Mutex<Vec<String>>>) {
        let applied = Arc::new(Mutex::new(Vec::new()));
        let sink = applied.clone();
        let levels = LoggerLevels::new(initial, move |d| {
            sink.lock().unwrap().push(d.to_owned());
            Ok(())
        });
        (levels, applied)
    }

    #[test]
    fn initial_filter_becomes_root_and_loggers() {
        let (levels, applied) = recording("warn,causeway_runtime=debug,[span]=trace");
        let all = levels.all();
        assert_eq!(all.keys().collect::<Vec<_>>(), ["causeway_runtime", "root"]);
        assert_eq!(all["root"].level, "WARN");
        assert_eq!(all["causeway_runtime"].level, "DEBUG");
        assert_eq!(all["root"].last_modified, None);
        assert_eq!(
            levels.directives(),
            "warn,[span]=trace,causeway_runtime=debug"
        );
        assert!(applied.lock().unwrap().is_empty());
    }

    #[test]
    fn without_a_global_level_root_is_off_and_hidden() {
        let (levels, _) = recording("causeway_log=info");
        assert_eq!(levels.get("ROOT").unwrap().level, "OFF");
        assert!(!levels.all().contains_key("root"));
    }

    #[test]
    fn set_applies_prefix_matches_and_creates_the_namespace() {
        let (levels, applied) =
            recording("info,causeway_runtime::worker=warn,causeway_runtimex=error");
        let affected = levels.set("causeway_runtime", "debug").unwrap();
        assert_eq!(
            affected,
            [
                "causeway_runtime",
                "causeway_runtime::worker",
                "causeway_runtimex"
            ]
        );
        assert_eq!(levels.get("causeway_runtime").unwrap().level, "DEBUG");
        assert_eq!(
            applied.lock().unwrap().last().unwrap(),
            "info,causeway_runtime=debug,causeway_runtime::worker=debug,causeway_runtimex=debug"
        );
    }

    #[test]
    fn dotted_names_filter_module_paths_and_fatal_all_map() {
        let (levels, applied) = recording("info");
        levels.set("causeway_runtime.worker", "FATAL").unwrap();
        levels.set("causeway_log", "all").unwrap();
        assert_eq!(
            levels.get("causeway_runtime.worker").unwrap().level,
            "FATAL"
        );
        assert_eq!(levels.get("causeway_log").unwrap().level, "ALL");
        assert_eq!(
            applied.lock().unwrap().last().unwrap(),
            "info,causeway_log=trace,causeway_runtime::worker=error"
        );
    }

    #[test]
    fn root_sets_everything() {
        let (levels, _) = recording("info,a=debug,b=warn");
        assert_eq!(levels.set("Root", "ERROR").unwrap(), ["a", "b", "root"]);
        assert!(levels.all().values().all(|l| l.level == "ERROR"));
    }

    #[test]
    fn last_modified_changes_only_with_the_level() {
        let (levels, _) = recording("info,a=debug");
        levels.set("a", "DEBUG").unwrap();
        assert_eq!(levels.get("a").unwrap().last_modified, None);
        // A new logger inheriting the same level is created without a change time.
        levels.set("a.b", "DEBUG").unwrap();
        assert_eq!(levels.get("a.b").unwrap().last_modified, None);
        let before = now_ms();
        levels.set("a", "TRACE").unwrap();
        let changed = levels.get("a").unwrap().last_modified.unwrap();
        assert!(changed >= before);
        levels.set("a", "trace").unwrap();
        assert_eq!(levels.get("a").unwrap().last_modified, Some(changed));
    }

    #[test]
    fn invalid_levels_and_failed_applies_change_nothing() {
        let levels = LoggerLevels::new("info", |_| Err("boom".to_owned()));
        assert_eq!(
            levels.set("a", "LOUD").unwrap_err(),
            LevelError::InvalidLevel("LOUD".into())
        );
        assert_eq!(
            levels.set("a", "DEBUG").unwrap_err(),
            LevelError::Apply("boom".into())
        );
        assert_eq!(levels.get("a"), None);
        assert_eq!(levels.directives(), "info");
    }

    #[test]
    fn names_that_are_not_targets_are_kept_but_not_filtered() {
        let (levels, applied) = recording("info");
        levels.set("weird name", "DEBUG").unwrap();
        assert_eq!(levels.get("weird name").unwrap().level, "DEBUG");
        assert_eq!(applied.lock().unwrap().last().unwrap(), "info");
    }
}
