//! Maven version ranges, as Connect parses `?version=` (`PluginUtils.connectorVersionRequirement` over
//! Maven's `VersionRange.createFromVersionSpec` and `ComparableVersion`).
use std::cmp::Ordering;
use std::fmt;

/// A parsed requirement: one or more restrictions, any of which may match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct VersionRange {
    restrictions: Vec<Restriction>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Restriction {
    lower: Option<String>,
    lower_inclusive: bool,
    upper: Option<String>,
    upper_inclusive: bool,
}

impl Restriction {
    fn contains(&self, version: &str) -> bool {
        if let Some(lower) = &self.lower {
            match compare(version, lower) {
                Ordering::Less => return false,
                Ordering::Equal if !self.lower_inclusive => return false,
                _ => {}
            }
        }
        if let Some(upper) = &self.upper {
            match compare(version, upper) {
                Ordering::Greater => return false,
                Ordering::Equal if !self.upper_inclusive => return false,
                _ => {}
            }
        }
        true
    }
}

impl fmt::Display for Restriction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.lower_inclusive { "[" } else { "(" })?;
        if let Some(lower) = &self.lower {
            f.write_str(lower)?;
        }
        if self.lower != self.upper || self.lower.is_none() {
            f.write_str(",")?;
            if let Some(upper) = &self.upper {
                f.write_str(upper)?;
            }
        }
        f.write_str(if self.upper_inclusive { "]" } else { ")" })
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.restrictions.iter().map(|r| r.to_string()).collect();
        f.write_str(&parts.join(","))
    }
}

impl VersionRange {
    /// Connect's reading of `?version=`: `None` for `latest` (or absent/empty); a bare version `1.2.0`
    /// means exactly that version (`[1.2.0]`); otherwise a Maven range such as `[1.0,2.0)`.
    ///
    /// # Errors
    /// Maven's reason when the specification cannot be parsed.
    pub(crate) fn requirement(spec: Option<&str>) -> Result<Option<VersionRange>, String> {
        let spec = match spec {
            None => return Ok(None),
            Some(s) if s == "latest" || s.trim().is_empty() => return Ok(None),
            Some(s) => s.trim(),
        };
        match parse(spec)? {
            Spec::Range(r) => Ok(Some(r)),
            Spec::Version(_) => match parse(&format!("[{spec}]"))? {
                Spec::Range(r) => Ok(Some(r)),
                Spec::Version(_) => Err(format!("Invalid version specification: {spec}")),
            },
        }
    }

    /// True when `version` satisfies some restriction.
    pub(crate) fn contains(&self, version: &str) -> bool {
        self.restrictions.iter().any(|r| r.contains(version))
    }
}

enum Spec {
    Range(VersionRange),
    Version(#[allow(dead_code)] String),
}

/// `VersionRange.createFromVersionSpec`.
fn parse(spec: &str) -> Result<Spec, String> {
    let mut restrictions: Vec<Restriction> = Vec::new();
    let mut process = spec;
    let mut upper_bound: Option<Option<String>> = None;
    while process.starts_with('[') || process.starts_with('(') {
        let close_paren = process.find(')');
        let close_bracket = process.find(']');
        let index = match (close_paren, close_bracket) {
            (Some(p), Some(b)) => p.min(b),
            (Some(i), None) | (None, Some(i)) => i,
            (None, None) => return Err(format!("Unbounded range: {spec}")),
        };
        let restriction = parse_restriction(&process[..=index])?;
        if let Some(previous_upper) = &upper_bound {
            let overlaps = match (&restriction.lower, previous_upper) {
                (None, _) | (_, None) => true,
                (Some(lower), Some(upper)) => compare(lower, upper) == Ordering::Less,
            };
            if overlaps {
                return Err(format!("Ranges overlap: {spec}"));
            }
        }
        upper_bound = Some(restriction.upper.clone());
        restrictions.push(restriction);
        process = process[index + 1..].trim();
        if let Some(rest) = process.strip_prefix(',') {
            process = rest.trim();
        }
    }
    if !process.is_empty() {
        if !restrictions.is_empty() {
            return Err(format!(
                "Only fully-qualified sets allowed in multiple set scenario: {spec}"
            ));
        }
        return Ok(Spec::Version(process.to_owned()));
    }
    if restrictions.is_empty() {
        return Ok(Spec::Version(String::new()));
    }
    Ok(Spec::Range(VersionRange { restrictions }))
}

fn parse_restriction(spec: &str) -> Result<Restriction, String> {
    let lower_inclusive = spec.starts_with('[');
    let upper_inclusive = spec.ends_with(']');
    let process = spec[1..spec.len() - 1].trim();
    match process.find(',') {
        None => {
            if !lower_inclusive || !upper_inclusive {
                return Err(format!("Single version must be surrounded by []: {spec}"));
            }
            Ok(Restriction {
                lower: Some(process.to_owned()),
                lower_inclusive,
                upper: Some(process.to_owned()),
                upper_inclusive,
            })
        }
        Some(i) => {
            let lower = process[..i].trim();
            let upper = process[i + 1..].trim();
            if upper.contains(',') {
                return Err(format!("Invalid version specification: {spec}"));
            }
            let lower = (!lower.is_empty()).then(|| lower.to_owned());
            let upper = (!upper.is_empty()).then(|| upper.to_owned());
            if let (Some(l), Some(u)) = (&lower, &upper)
                && compare(u, l) == Ordering::Less
            {
                return Err(format!("Range defies version ordering: {spec}"));
            }
            Ok(Restriction {
                lower,
                lower_inclusive,
                upper,
                upper_inclusive,
            })
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Number(String),
    Qualifier(String),
}

/// Maven's qualifier order; unknown qualifiers sort after all known ones, alphabetically.
fn qualifier_rank(q: &str) -> (usize, &str) {
    const ORDER: &[&[&str]] = &[
        &["alpha", "a"],
        &["beta", "b"],
        &["milestone", "m"],
        &["rc", "cr"],
        &["snapshot"],
        &["", "ga", "final", "release"],
        &["sp"],
    ];
    ORDER
        .iter()
        .position(|names| names.contains(&q))
        .map_or((ORDER.len(), q), |i| (i, ""))
}

const RELEASE_RANK: usize = 5;

fn items(version: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut digits = false;
    let flush = |current: &mut String, digits: bool, items: &mut Vec<Item>| {
        if current.is_empty() {
            return;
        }
        let token = std::mem::take(current);
        items.push(if digits {
            let trimmed = token.trim_start_matches('0');
            Item::Number(if trimmed.is_empty() {
                "0".into()
            } else {
                trimmed.into()
            })
        } else {
            Item::Qualifier(token.to_ascii_lowercase())
        });
    };
    for c in version.trim().chars() {
        if c == '.' || c == '-' || c == '_' {
            flush(&mut current, digits, &mut items);
            continue;
        }
        let is_digit = c.is_ascii_digit();
        if !current.is_empty() && is_digit != digits {
            flush(&mut current, digits, &mut items);
        }
        digits = is_digit;
        current.push(c);
    }
    flush(&mut current, digits, &mut items);
    // Trailing zeros and release qualifiers do not count: 1.0 == 1 == 1.0.0-ga.
    while matches!(items.last(), Some(Item::Number(n)) if n == "0")
        || matches!(items.last(), Some(Item::Qualifier(q)) if qualifier_rank(q).0 == RELEASE_RANK)
    {
        items.pop();
    }
    items
}

fn compare_item(a: Option<&Item>, b: Option<&Item>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (Some(Item::Number(n)), None) => {
            if n == "0" {
                Ordering::Equal
            } else {
                Ordering::Greater
            }
        }
        (Some(Item::Qualifier(q)), None) => qualifier_rank(q).0.cmp(&RELEASE_RANK),
        (None, Some(_)) => compare_item(b, a).reverse(),
        (Some(Item::Number(x)), Some(Item::Number(y))) => {
            x.len().cmp(&y.len()).then_with(|| x.cmp(y))
        }
        (Some(Item::Number(_)), Some(Item::Qualifier(_))) => Ordering::Greater,
        (Some(Item::Qualifier(_)), Some(Item::Number(_))) => Ordering::Less,
        (Some(Item::Qualifier(x)), Some(Item::Qualifier(y))) => {
            qualifier_rank(x).cmp(&qualifier_rank(y))
        }
    }
}

/// Compares two versions the way Maven's `ComparableVersion` does (simplified: no list nesting).
pub(crate) fn compare(a: &str, b: &str) -> Ordering {
    let (a, b) = (items(a), items(b));
    for i in 0..a.len().max(b.len()) {
        match compare_item(a.get(i), b.get(i)) {
            Ordering::Equal => {}
            other => return other,
        }
    }
    Ordering::Equal
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(s: &str) -> Result<Option<VersionRange>, String> {
        VersionRange::requirement(Some(s))
    }

    #[test]
    fn latest_and_absent_mean_no_requirement() {
        assert_eq!(VersionRange::requirement(None), Ok(None));
        assert_eq!(req("latest"), Ok(None));
        assert_eq!(req(""), Ok(None));
    }

    #[test]
    fn bare_versions_are_exact() {
        let r = req("1.2.0").unwrap().unwrap();
        assert_eq!(r.to_string(), "[1.2.0]");
        assert!(r.contains("1.2.0"));
        assert!(r.contains("1.2"));
        assert!(!r.contains("1.2.1"));
    }

    #[test]
    fn ranges() {
        let r = req("[1.0,2.0)").unwrap().unwrap();
        assert!(r.contains("1.0"));
        assert!(r.contains("1.9.9"));
        assert!(!r.contains("2.0"));
        assert!(!r.contains("0.9"));
        let r = req("(,1.0],[1.2,)").unwrap().unwrap();
        assert!(r.contains("0.1"));
        assert!(!r.contains("1.1"));
        assert!(r.contains("4.1.0"));
        assert_eq!(r.to_string(), "(,1.0],[1.2,)");
    }

    #[test]
    fn malformed_specs_are_rejected() {
        for bad in [
            "[bad",
            "(1.0)",
            "[2.0,1.0]",
            "[1.0,2.0],3.0",
            "[1.0,3.0],[2.0,4.0]",
            "[1,2,3]",
        ] {
            assert!(req(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn maven_ordering() {
        use Ordering::*;
        assert_eq!(compare("1.0", "1"), Equal);
        assert_eq!(compare("1.0.0-ga", "1"), Equal);
        assert_eq!(compare("1.10", "1.9"), Greater);
        assert_eq!(compare("1.0-SNAPSHOT", "1.0"), Less);
        assert_eq!(compare("1.0-alpha", "1.0-beta"), Less);
        assert_eq!(compare("1.0-rc1", "1.0"), Less);
        assert_eq!(compare("1.0-sp", "1.0"), Greater);
        assert_eq!(compare("1.0.1", "1.0-alpha"), Greater);
    }
}
