//! `/admin/loggers`: logger levels that really change what is logged, by rebuilding the `tracing` filter.
use std::collections::BTreeMap;
use std::sync::Arc;

use parking_lot::Mutex;

/// The level names Connect accepts (log4j's).
const LEVELS: &[&str] = &[
    "TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL", "OFF", "ALL",
];

fn filter_level(level: &str) -> &'static str {
    match level {
        "TRACE" | "ALL" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" | "FATAL" => "error",
        _ => "off",
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

#[derive(Debug, Clone)]
struct Logger {
    level: String,
    last_modified: Option<i64>,
}

struct State {
    root: Logger,
    loggers: BTreeMap<String, Logger>,
}

/// Logger levels: a root level plus per-target levels, applied as a filter directive string.
#[derive(Clone)]
pub struct LoggerLevels {
    state: Arc<Mutex<State>>,
    apply: Arc<dyn Fn(&str) -> Result<(), String> + Send + Sync>,
}

/// A logger as `GET /admin/loggers` shows it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LoggerLevel {
    /// Level name (`INFO` …).
    pub level: String,
    /// Epoch ms of the last change through the API, or null.
    pub last_modified: Option<i64>,
}

/// Why a level change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LevelError {
    /// Not one of the level names.
    InvalidLevel(String),
    /// The filter could not be installed.
    Apply(String),
}

impl LoggerLevels {
    /// Starts from a `tracing` filter string (`info`, `warn,causeway_runtime=debug`); `apply` installs a new one.
    pub fn new(
        initial_filter: &str,
        apply: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> Self {
        let mut root = "INFO".to_owned();
        let mut loggers = BTreeMap::new();
        for d in initial_filter
            .split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
        {
            match d.split_once('=') {
                Some((target, level)) => {
                    loggers.insert(
                        target.to_owned(),
                        Logger {
                            level: level.to_ascii_uppercase(),
                            last_modified: None,
                        },
                    );
                }
                None => root = d.to_ascii_uppercase(),
            }
        }
        LoggerLevels {
            state: Arc::new(Mutex::new(State {
                root: Logger {
                    level: root,
                    last_modified: None,
                },
                loggers,
            })),
            apply: Arc::new(apply),
        }
    }

    /// Every known logger plus `root`, sorted; loggers set to OFF are omitted as Apache does.
    pub fn all(&self) -> BTreeMap<String, LoggerLevel> {
        let s = self.state.lock();
        let mut out: BTreeMap<String, LoggerLevel> = s
            .loggers
            .iter()
            .filter(|(_, l)| l.level != "OFF")
            .map(|(n, l)| {
                (
                    n.clone(),
                    LoggerLevel {
                        level: l.level.clone(),
                        last_modified: l.last_modified,
                    },
                )
            })
            .collect();
        out.insert(
            "root".into(),
            LoggerLevel {
                level: s.root.level.clone(),
                last_modified: s.root.last_modified,
            },
        );
        out
    }

    /// One logger (`root` case-insensitively addresses the root).
    pub fn get(&self, name: &str) -> Option<LoggerLevel> {
        let s = self.state.lock();
        let l = if name.eq_ignore_ascii_case("root") {
            Some(&s.root)
        } else {
            s.loggers.get(name)
        };
        l.map(|l| LoggerLevel {
            level: l.level.clone(),
            last_modified: l.last_modified,
        })
    }

    /// Sets `name` and every known logger whose name starts with it; returns the affected names, sorted.
    ///
    /// # Errors
    /// An unknown level, or a filter that cannot be installed.
    pub fn set(&self, name: &str, level: &str) -> Result<Vec<String>, LevelError> {
        let level = level.trim().to_ascii_uppercase();
        if !LEVELS.contains(&level.as_str()) {
            return Err(LevelError::InvalidLevel(level));
        }
        let now = now_ms();
        let mut s = self.state.lock();
        let touch = |l: &mut Logger| {
            if l.level != level {
                l.level = level.clone();
                l.last_modified = Some(now);
            }
        };
        let mut affected = Vec::new();
        if name.eq_ignore_ascii_case("root") {
            for (n, l) in s.loggers.iter_mut() {
                touch(l);
                affected.push(n.clone());
            }
            touch(&mut s.root);
            affected.push("root".into());
        } else {
            s.loggers.entry(name.to_owned()).or_insert_with(|| Logger {
                level: String::new(),
                last_modified: None,
            });
            for (n, l) in s.loggers.iter_mut().filter(|(n, _)| n.starts_with(name)) {
                touch(l);
                affected.push(n.clone());
            }
        }
        affected.sort();
        let directives = std::iter::once(filter_level(&s.root.level).to_owned())
            .chain(
                s.loggers
                    .iter()
                    .map(|(n, l)| format!("{n}={}", filter_level(&l.level))),
            )
            .collect::<Vec<_>>()
            .join(",");
        drop(s);
        (self.apply)(&directives).map_err(LevelError::Apply)?;
        Ok(affected)
    }
}
