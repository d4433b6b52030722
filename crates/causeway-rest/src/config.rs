//! REST settings from the worker configuration: CORS and `response.http.headers.config` rules.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// REST settings taken from the worker configuration.
#[derive(Debug, Clone, Default)]
pub struct RestConfig {
    /// `access.control.allow.origin`: comma-separated allowed origins (`*` = any; `*` inside an origin is a
    /// wildcard). Blank disables CORS.
    pub access_control_allow_origin: String,
    /// `access.control.allow.methods`: comma-separated methods; blank means `GET, POST, HEAD`.
    pub access_control_allow_methods: String,
    /// `response.http.headers.config`, parsed with [`parse_response_headers`]; applied to every response.
    pub response_headers: Vec<HeaderRule>,
    /// False when `admin.listeners` is the empty string: `/admin/loggers` then answers 404.
    pub admin_enabled: bool,
}

/// What a [`HeaderRule`] does to a response (Jetty's `HeaderFilter` actions).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderAction {
    /// Replace the header.
    Set,
    /// Append a value.
    Add,
    /// Replace the header with an HTTP date: now plus the rule's value in milliseconds.
    SetDate,
    /// Append an HTTP date: now plus the rule's value in milliseconds.
    AddDate,
}

impl HeaderAction {
    fn parse(s: &str) -> Option<HeaderAction> {
        // Apache validates the action case-insensitively.
        match s.to_ascii_lowercase().as_str() {
            "set" => Some(HeaderAction::Set),
            "add" => Some(HeaderAction::Add),
            "setdate" => Some(HeaderAction::SetDate),
            "adddate" => Some(HeaderAction::AddDate),
            _ => None,
        }
    }
}

/// One `response.http.headers.config` rule: `<action> <Header-Name>: <value>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeaderRule {
    action: HeaderAction,
    name: HeaderName,
    value: String,
}

impl HeaderRule {
    /// The action.
    pub fn action(&self) -> HeaderAction {
        self.action
    }

    /// The header name.
    pub fn name(&self) -> &HeaderName {
        &self.name
    }

    /// The value as configured (milliseconds from now for the date actions).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Applies the rule to response headers.
    pub(crate) fn apply(&self, headers: &mut HeaderMap, now: SystemTime) {
        let value = match self.action {
            HeaderAction::Set | HeaderAction::Add => HeaderValue::from_str(&self.value).ok(),
            HeaderAction::SetDate | HeaderAction::AddDate => {
                let offset = self.value.trim().parse::<i64>().unwrap_or(0);
                let at = if offset >= 0 {
                    now + Duration::from_millis(offset.unsigned_abs())
                } else {
                    now - Duration::from_millis(offset.unsigned_abs())
                };
                HeaderValue::from_str(&http_date(at)).ok()
            }
        };
        let Some(value) = value else { return };
        match self.action {
            HeaderAction::Set | HeaderAction::SetDate => {
                headers.insert(self.name.clone(), value);
            }
            HeaderAction::Add | HeaderAction::AddDate => {
                headers.append(self.name.clone(), value);
            }
        }
    }
}

/// Parses `response.http.headers.config` as Apache validates it and Jetty's `HeaderFilter` reads it: a comma
/// list of rules (a rule may be double-quoted when its value contains commas), each
/// `<action> <Header-Name>: <value>` with action `set`, `add`, `setDate` or `addDate`. A blank string means
/// no rules.
///
/// # Errors
/// Apache's message for the first invalid rule (the caller names the configuration key), e.g.
/// `Invalid header config action: 'put'. Expected one of [set, add, setDate, addDate]`.
pub fn parse_response_headers(config: &str) -> Result<Vec<HeaderRule>, String> {
    if config.trim().is_empty() {
        return Ok(Vec::new());
    }
    csv_split(config)?
        .iter()
        .filter(|rule| !rule.trim().is_empty())
        .map(|rule| parse_rule(rule))
        .collect()
}

fn parse_rule(config: &str) -> Result<HeaderRule, String> {
    let format_error = || {
        format!(
            "Invalid format of header config '{config}'. Expected: '[action] [header name]:[header value]'"
        )
    };
    let trimmed = config.trim();
    let (action, header) = trimmed
        .split_once(char::is_whitespace)
        .ok_or_else(format_error)?;
    let header = header.trim_start();
    let action = HeaderAction::parse(action.trim()).ok_or_else(|| {
        format!(
            "Invalid header config action: '{}'. Expected one of [set, add, setDate, addDate]",
            action.trim()
        )
    })?;
    // Java's `split(":")`: trailing empty pieces are dropped, so "X:" and "X:a:b" are both invalid.
    let mut pieces: Vec<&str> = header.trim().split(':').collect();
    while pieces.last() == Some(&"") {
        pieces.pop();
    }
    let [name, value] = pieces[..] else {
        return Err(format!(
            "Invalid format of header name and header value pair '{header}'. Expected: '[header name]:[header value]'"
        ));
    };
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return Err(format!(
            "Invalid header name '{name}'. The '[header name]' cannot contain whitespace"
        ));
    }
    let header_name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("Invalid header name '{name}'."))?;
    let value = value.trim().to_owned();
    match action {
        HeaderAction::Set | HeaderAction::Add => {
            HeaderValue::from_str(&value)
                .map_err(|_| format!("Invalid header value '{value}' for header '{name}'."))?;
        }
        HeaderAction::SetDate | HeaderAction::AddDate => {
            value.parse::<i64>().map_err(|_| {
                format!(
                    "Invalid header value '{value}' for header '{name}': the date actions take a number of milliseconds from now."
                )
            })?;
        }
    }
    Ok(HeaderRule {
        action,
        name: header_name,
        value,
    })
}

/// Jetty's `StringUtil.csvSplit`: comma-separated items, whitespace around items trimmed, double-quoted
/// items may contain commas and `\`-escapes.
fn csv_split(s: &str) -> Result<Vec<String>, String> {
    let mut items = Vec::new();
    let mut current = String::new();
    let mut chars = s.chars().peekable();
    loop {
        // Skip leading whitespace of an item.
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek() == Some(&'"') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => {
                        if let Some(escaped) = chars.next() {
                            current.push(escaped);
                        }
                    }
                    '"' => {
                        closed = true;
                        break;
                    }
                    c => current.push(c),
                }
            }
            if !closed {
                return Err(format!("Unterminated quoted header rule in '{s}'"));
            }
            // Anything up to the next comma after a closing quote is ignored, as Jetty does.
            for c in chars.by_ref() {
                if c == ',' {
                    break;
                }
            }
            items.push(std::mem::take(&mut current));
            if chars.peek().is_none() {
                break;
            }
            continue;
        }
        let mut ended_with_comma = false;
        for c in chars.by_ref() {
            if c == ',' {
                ended_with_comma = true;
                break;
            }
            current.push(c);
        }
        items.push(std::mem::take(&mut current).trim_end().to_owned());
        if !ended_with_comma {
            break;
        }
    }
    Ok(items)
}

/// An RFC 9110 HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`).
pub(crate) fn http_date(t: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[days.rem_euclid(7) as usize],
        d,
        MONTHS[(m - 1) as usize],
        y,
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard Hinnant's
/// `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(s: &str) -> HeaderRule {
        parse_response_headers(s).unwrap().remove(0)
    }

    #[test]
    fn blank_config_has_no_rules() {
        assert!(parse_response_headers("").unwrap().is_empty());
        assert!(parse_response_headers("   ").unwrap().is_empty());
    }

    #[test]
    fn parses_actions_names_and_values() {
        let rules = parse_response_headers(
            "set X-Frame-Options: DENY, add Cache-Control: no-store ,setDate Expires: 3600000",
        )
        .unwrap();
        assert_eq!(rules.len(), 3);
        assert_eq!(rules[0].action(), HeaderAction::Set);
        assert_eq!(rules[0].name().as_str(), "x-frame-options");
        assert_eq!(rules[0].value(), "DENY");
        assert_eq!(rules[1].action(), HeaderAction::Add);
        assert_eq!(rules[1].value(), "no-store");
        assert_eq!(rules[2].action(), HeaderAction::SetDate);
    }

    #[test]
    fn quoted_rules_may_contain_commas() {
        let rules = parse_response_headers(
            "\"add Cache-Control: no-cache, no-store, must-revalidate\",set X-Frame-Options: DENY",
        )
        .unwrap();
        assert_eq!(rules.len(), 2);
        assert_eq!(rules[0].value(), "no-cache, no-store, must-revalidate");
        assert_eq!(rules[1].value(), "DENY");
    }

    #[test]
    fn actions_are_case_insensitive() {
        assert_eq!(rule("SET X-A: b").action(), HeaderAction::Set);
        assert_eq!(rule("adddate X-A: 0").action(), HeaderAction::AddDate);
    }

    #[test]
    fn rejects_invalid_rules_with_apaches_messages() {
        assert_eq!(
            parse_response_headers("put X-A: b").unwrap_err(),
            "Invalid header config action: 'put'. Expected one of [set, add, setDate, addDate]"
        );
        assert_eq!(
            parse_response_headers("set").unwrap_err(),
            "Invalid format of header config 'set'. Expected: '[action] [header name]:[header value]'"
        );
        assert_eq!(
            parse_response_headers("set X-A: http://x").unwrap_err(),
            "Invalid format of header name and header value pair 'X-A: http://x'. Expected: '[header name]:[header value]'"
        );
        assert!(parse_response_headers("set X-A:").is_err());
        assert_eq!(
            parse_response_headers("set X A: b").unwrap_err(),
            "Invalid header name 'X A'. The '[header name]' cannot contain whitespace"
        );
        assert_eq!(
            parse_response_headers("set :b").unwrap_err(),
            "Invalid header name ''. The '[header name]' cannot contain whitespace"
        );
        assert!(parse_response_headers("setDate Expires: tomorrow").is_err());
        assert!(parse_response_headers("\"set X-A: b").is_err());
    }

    #[test]
    fn rules_set_and_add_headers() {
        let mut headers = HeaderMap::new();
        headers.insert("x-a", HeaderValue::from_static("old"));
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777);
        rule("set X-A: new").apply(&mut headers, now);
        rule("add X-B: 1").apply(&mut headers, now);
        rule("add X-B: 2").apply(&mut headers, now);
        rule("setDate Expires: 1000").apply(&mut headers, now);
        assert_eq!(headers["x-a"], "new");
        assert_eq!(headers.get_all("x-b").iter().count(), 2);
        assert_eq!(headers["expires"], "Sun, 06 Nov 1994 08:49:38 GMT");
    }

    #[test]
    fn http_dates_are_rfc_9110() {
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        assert_eq!(
            http_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
    }
}
