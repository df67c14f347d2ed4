//! Rate limits in the contract's format: `{"app_ratelimit": {"__default": [{"tokens": N,
//! "minute": 1}], "<app_code>": [...]}}` with periods `second|minute|hour|day`. An app's own
//! list replaces `__default`; every rule of the list applies.
//!
//! [`RateLimiter`] is the seam (in process now; Redis when replicas share limits);
//! [`LocalLimiter`] keeps one token bucket per (component, app, rule) in sharded maps.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bk_core::clock::{Clock, Millis};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One rule: `tokens` calls per `period_secs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// Calls allowed per window.
    pub tokens: u64,
    /// Window length in seconds.
    pub period_secs: u64,
}

impl Rule {
    /// `100/minute`, `5/10 seconds`.
    pub fn describe(&self) -> String {
        let (n, unit) = match self.period_secs {
            s if s % 86_400 == 0 => (s / 86_400, "day"),
            s if s % 3_600 == 0 => (s / 3_600, "hour"),
            s if s % 60 == 0 => (s / 60, "minute"),
            s => (s, "second"),
        };
        if n == 1 {
            format!("{} requests per {unit}", self.tokens)
        } else {
            format!("{} requests per {n} {unit}s", self.tokens)
        }
    }
}

/// The rules of one component, by app (`__default` for the others).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RateLimitConf {
    /// Rules per app code; key `__default` applies to apps without their own list.
    pub app_ratelimit: BTreeMap<String, Vec<Rule>>,
}

/// The key of the rules of apps without their own list.
pub const DEFAULT_KEY: &str = "__default";

impl RateLimitConf {
    /// The rules that apply to `app`.
    pub fn rules_for(&self, app: &str) -> &[Rule] {
        self.app_ratelimit
            .get(app)
            .or_else(|| self.app_ratelimit.get(DEFAULT_KEY))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }

    /// Parse the contract's JSON; errors name the offending key.
    pub fn from_json(v: &serde_json::Value) -> Result<Self, String> {
        let top = v.as_object().ok_or("rate limit: expected a JSON object")?;
        let mut out = RateLimitConf::default();
        if let Some(k) = top.keys().find(|k| k.as_str() != "app_ratelimit") {
            return Err(format!(
                "rate limit: unknown key {k:?} (expected app_ratelimit)"
            ));
        }
        let Some(apps) = top.get("app_ratelimit") else {
            return Err("rate limit: missing app_ratelimit".into());
        };
        let apps = apps
            .as_object()
            .ok_or("rate limit: app_ratelimit must be an object")?;
        for (app, rules) in apps {
            let list = rules
                .as_array()
                .ok_or_else(|| format!("rate limit: app_ratelimit.{app} must be a list"))?;
            let mut parsed = Vec::with_capacity(list.len());
            for (i, r) in list.iter().enumerate() {
                parsed.push(
                    parse_rule(r)
                        .map_err(|e| format!("rate limit: app_ratelimit.{app}[{i}]: {e}"))?,
                );
            }
            out.app_ratelimit.insert(app.clone(), parsed);
        }
        Ok(out)
    }

    /// The contract's JSON.
    pub fn to_json(&self) -> serde_json::Value {
        let apps: serde_json::Map<String, serde_json::Value> = self
            .app_ratelimit
            .iter()
            .map(|(app, rules)| {
                let rules = rules.iter().map(rule_json).collect();
                (app.clone(), serde_json::Value::Array(rules))
            })
            .collect();
        serde_json::json!({ "app_ratelimit": apps })
    }
}

const PERIODS: [(&str, u64); 4] = [
    ("second", 1),
    ("minute", 60),
    ("hour", 3_600),
    ("day", 86_400),
];

fn parse_rule(v: &serde_json::Value) -> Result<Rule, String> {
    let o = v
        .as_object()
        .ok_or("expected an object like {\"tokens\": 100, \"minute\": 1}")?;
    let mut tokens = None;
    let mut period = None;
    for (k, v) in o {
        let n = v
            .as_u64()
            .filter(|n| *n > 0)
            .ok_or_else(|| format!("{k} must be a positive integer"))?;
        if k == "tokens" {
            tokens = Some(n);
        } else if let Some((_, secs)) = PERIODS.iter().find(|(p, _)| p == k) {
            if period.is_some() {
                return Err("give exactly one period (second, minute, hour or day)".into());
            }
            period = Some(secs.saturating_mul(n));
        } else {
            return Err(format!(
                "unknown key {k:?} (expected tokens and one of second, minute, hour, day)"
            ));
        }
    }
    match (tokens, period) {
        (Some(tokens), Some(period_secs)) => Ok(Rule {
            tokens,
            period_secs,
        }),
        (None, _) => Err("missing tokens".into()),
        (_, None) => Err("missing the period (second, minute, hour or day)".into()),
    }
}

fn rule_json(r: &Rule) -> serde_json::Value {
    let (unit, secs) = PERIODS
        .iter()
        .rev()
        .find(|(_, s)| r.period_secs.is_multiple_of(*s))
        .copied()
        .unwrap_or(("second", 1));
    let mut m = serde_json::Map::new();
    m.insert("tokens".into(), r.tokens.into());
    m.insert(unit.into(), (r.period_secs / secs).into());
    serde_json::Value::Object(m)
}

impl Serialize for RateLimitConf {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(s)
    }
}

impl<'de> Deserialize<'de> for RateLimitConf {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        RateLimitConf::from_json(&v).map_err(serde::de::Error::custom)
    }
}

/// Counts calls against rules. Object-safe; shared as `Arc<dyn RateLimiter>`.
#[async_trait]
pub trait RateLimiter: Send + Sync {
    /// Take one call of `app` on `component` from every rule; `Err(rule)` names the first
    /// rule that refused, and then no rule is charged.
    async fn acquire(&self, component: &str, app: &str, rules: &[Rule]) -> Result<(), Rule>;
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Millis,
}

const SHARDS: usize = 16;

/// Buckets by component, then app, then rule index: looked up by `&str`, no allocation
/// once an (component, app) pair has been seen.
type Buckets = HashMap<String, HashMap<String, Vec<Bucket>>>;

/// Token buckets in this process: capacity `tokens`, refilled continuously over the period.
pub struct LocalLimiter {
    clock: Arc<dyn Clock>,
    shards: [Mutex<Buckets>; SHARDS],
}

impl std::fmt::Debug for LocalLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalLimiter").finish_non_exhaustive()
    }
}

impl LocalLimiter {
    /// Buckets over `clock`.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            shards: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    fn shard(component: &str, app: &str) -> usize {
        let h = component
            .bytes()
            .chain(app.bytes())
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
            });
        (h as usize) % SHARDS
    }
}

#[async_trait]
impl RateLimiter for LocalLimiter {
    async fn acquire(&self, component: &str, app: &str, rules: &[Rule]) -> Result<(), Rule> {
        if rules.is_empty() {
            return Ok(());
        }
        let now = self.clock.now_ms();
        let Ok(mut map) = self.shards[Self::shard(component, app)].lock() else {
            // A poisoned shard means a panic mid-update; fail open rather than refuse all.
            return Ok(());
        };
        if !map.contains_key(component) {
            map.insert(component.to_owned(), HashMap::new());
        }
        let Some(apps) = map.get_mut(component) else {
            return Ok(());
        };
        if !apps.contains_key(app) {
            apps.insert(app.to_owned(), Vec::new());
        }
        let Some(buckets) = apps.get_mut(app) else {
            return Ok(());
        };
        if buckets.len() != rules.len() {
            // New or changed rules start full.
            *buckets = rules
                .iter()
                .map(|r| Bucket {
                    tokens: r.tokens as f64,
                    at: now,
                })
                .collect();
        }
        // Check every rule first, then charge them all: a refused call costs nothing.
        let level = |rule: &Rule, b: &Bucket| {
            let cap = rule.tokens as f64;
            let rate = cap / (rule.period_secs as f64 * 1000.0);
            (b.tokens + (now - b.at).max(0) as f64 * rate).min(cap)
        };
        if let Some((rule, _)) = rules
            .iter()
            .zip(buckets.iter())
            .find(|(r, b)| level(r, b) < 1.0)
        {
            return Err(*rule);
        }
        for (rule, b) in rules.iter().zip(buckets.iter_mut()) {
            *b = Bucket {
                tokens: level(rule, b) - 1.0,
                at: now,
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bk_core::clock::ManualClock;
    use serde_json::json;

    use super::*;

    #[test]
    fn parses_the_contract_format_and_round_trips() {
        let v = json!({"app_ratelimit": {"__default": [{"tokens": 100, "minute": 1}], "demo": [{"tokens": 5, "second": 1}, {"tokens": 1000, "day": 1}]}});
        let c = RateLimitConf::from_json(&v).unwrap();
        assert_eq!(
            c.rules_for("other"),
            &[Rule {
                tokens: 100,
                period_secs: 60
            }]
        );
        assert_eq!(c.rules_for("demo").len(), 2);
        assert_eq!(c.to_json(), v);
        for bad in [
            json!({"app_ratelimit": {"x": [{"tokens": 0, "minute": 1}]}}),
            json!({"app_ratelimit": {"x": [{"tokens": 1, "week": 1}]}}),
            json!({"app_ratelimit": {"x": [{"tokens": 1}]}}),
            json!({"app_ratelimit": {"x": {"tokens": 1}}}),
            json!({"limits": {}}),
        ] {
            assert!(RateLimitConf::from_json(&bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn every_rule_applies_and_tokens_come_back() {
        let clock = ManualClock::new(1_000_000);
        let l = LocalLimiter::new(clock.clone());
        let rules = [
            Rule {
                tokens: 3,
                period_secs: 1,
            },
            Rule {
                tokens: 4,
                period_secs: 60,
            },
        ];
        for _ in 0..3 {
            l.acquire("S.c", "app", &rules).await.unwrap();
        }
        assert_eq!(l.acquire("S.c", "app", &rules).await, Err(rules[0]));
        // Another app has its own buckets.
        l.acquire("S.c", "other", &rules).await.unwrap();
        clock.advance_secs(1);
        l.acquire("S.c", "app", &rules).await.unwrap();
        // The minute rule is now exhausted although the second rule refilled.
        assert_eq!(l.acquire("S.c", "app", &rules).await, Err(rules[1]));
        assert_eq!(rules[1].describe(), "4 requests per minute");
    }
}
