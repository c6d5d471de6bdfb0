//! Which topic feeds which signal. Every asset's `telemetry.topic` prefix gives the default,
//! Unified Namespace style bindings; a bindings file adds rules for topics shaped otherwise.
//!
//! Default topics for an asset with prefix `P`:
//! - `P/<signal>` and `P/<component>/<signal>`: one value per message;
//! - `P`: one JSON object per message, `{"<signal>": value, ...}`.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::Deserialize;

use super::SignalRef;
use crate::files::{FileError, FileIssue};
use crate::layout::{PlantLayout, SourceMap};

/// A bindings file (RON), e.g. `plant-layouts/demo-plant.bindings.ron` next to its layout.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingsFile {
    pub schema_version: u32,
    /// Keep the default bindings from the layout's topic prefixes (default true).
    #[serde(default = "yes")]
    pub layout_topics: bool,
    #[serde(default)]
    pub rules: Vec<BindingRule>,
}

fn yes() -> bool {
    true
}

/// Topics matching `topic` feed the signals the rule names.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingRule {
    /// Topic template: literal segments, `+`, a final `#`, and named captures `{asset}`,
    /// `{component}`, `{signal}` (any other `{name}` matches one segment and is ignored).
    pub topic: String,
    /// The asset, when the template has no `{asset}`.
    #[serde(default)]
    pub asset: Option<String>,
    pub payload: PayloadRule,
}

/// How to read a message's payload.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub enum PayloadRule {
    /// One value per message.
    Value {
        /// The signal, when the template has no `{signal}`.
        #[serde(default)]
        signal: Option<String>,
        #[serde(default)]
        field: Field,
        /// JSON Pointer to a source timestamp (ms since the epoch, or seconds if small).
        #[serde(default)]
        timestamp: Option<String>,
        /// JSON Pointer to a quality field (`"good"`, `"bad"`, `"uncertain"`, a boolean, or an
        /// OPC UA status code).
        #[serde(default)]
        quality: Option<String>,
    },
    /// One JSON object with several signals of one asset.
    Object {
        fields: Vec<(String, Field)>,
        #[serde(default)]
        timestamp: Option<String>,
        #[serde(default)]
        quality: Option<String>,
    },
}

/// Where a number is in the payload and how to convert it to the layout's unit:
/// `value = raw * scale + offset`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    /// JSON Pointer (RFC 6901); empty means the whole payload, or its `value` field if it is
    /// an object.
    #[serde(default)]
    pub pointer: String,
    #[serde(default = "one")]
    pub scale: f64,
    #[serde(default)]
    pub offset: f64,
    /// The unit the source sends, for documentation and the inspector.
    #[serde(default)]
    pub unit: Option<String>,
}

fn one() -> f64 {
    1.0
}

impl Default for Field {
    fn default() -> Self {
        Field {
            pointer: String::new(),
            scale: 1.0,
            offset: 0.0,
            unit: None,
        }
    }
}

impl Field {
    pub fn convert(&self, raw: f64) -> f64 {
        raw * self.scale + self.offset
    }
}

/// Reads a bindings file; errors name file, line and column like layout errors.
pub fn load_bindings(path: &Path, layout: &PlantLayout) -> Result<BindingsFile, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| FileError::unreadable(path, &error))?;
    parse_bindings(&text, path, layout)
}

/// Parses and checks a bindings file's text (`file` names it in errors).
pub fn parse_bindings(
    text: &str,
    file: &Path,
    layout: &PlantLayout,
) -> Result<BindingsFile, FileError> {
    let fail = |issues: Vec<FileIssue>| FileError {
        file: file.to_path_buf(),
        issues,
    };
    let file: BindingsFile = ron::from_str(text).map_err(|error| FileError::ron(file, &error))?;
    let map = SourceMap::build(text);
    let mut issues = vec![];
    if file.schema_version != 1 {
        issues.push(FileIssue {
            position: Some(map.locate("schema_version")),
            message: format!(
                "schema_version {} is not supported (this build reads version 1)",
                file.schema_version
            ),
        });
    }
    for (i, rule) in file.rules.iter().enumerate() {
        if let Err(error) = CompiledRule::compile(rule, layout) {
            issues.push(FileIssue {
                position: Some(map.locate(&format!("rules[{i}]"))),
                message: error.to_string(),
            });
        }
    }
    if issues.is_empty() {
        Ok(file)
    } else {
        Err(fail(issues))
    }
}

/// The bindings file that belongs to a layout file: `x.ron` → `x.bindings.ron`.
pub fn bindings_path_for(layout_path: &Path) -> std::path::PathBuf {
    crate::files::companion_path(layout_path, "bindings")
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Literal(String),
    Asset,
    Component,
    Signal,
    Any,
    Rest,
}

#[derive(Debug, Clone)]
struct CompiledRule {
    segments: Vec<Segment>,
    asset: Option<u32>,
    payload: PayloadRule,
}

/// A binding rule the resolver cannot use, named by the rule's topic.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BindingError {
    #[error("topic \"{0}\": '#' must be last")]
    HashNotLast(String),
    #[error("topic \"{topic}\": segment \"{segment}\" mixes wildcards and text")]
    MixedSegment { topic: String, segment: String },
    #[error("topic \"{0}\" has {{asset}} and the rule names an asset too")]
    AssetTwice(String),
    #[error("asset \"{0}\" is not in the layout")]
    UnknownAsset(String),
    #[error("topic \"{0}\" needs an {{asset}} capture or an `asset`")]
    NoAsset(String),
    #[error("topic \"{0}\": give the signal either as {{signal}} or as `signal`, once")]
    SignalNotOnce(String),
    #[error("topic \"{0}\": an Object payload needs fields")]
    NoFields(String),
}

impl CompiledRule {
    fn compile(rule: &BindingRule, layout: &PlantLayout) -> Result<CompiledRule, BindingError> {
        let mut segments = vec![];
        let parts: Vec<&str> = rule.topic.split('/').collect();
        for (i, part) in parts.iter().enumerate() {
            segments.push(match *part {
                "+" => Segment::Any,
                "#" if i + 1 == parts.len() => Segment::Rest,
                "#" => return Err(BindingError::HashNotLast(rule.topic.clone())),
                "{asset}" => Segment::Asset,
                "{component}" => Segment::Component,
                "{signal}" => Segment::Signal,
                capture if capture.starts_with('{') && capture.ends_with('}') => Segment::Any,
                literal if literal.contains(['+', '#', '{', '}']) => {
                    return Err(BindingError::MixedSegment {
                        topic: rule.topic.clone(),
                        segment: literal.to_string(),
                    });
                }
                literal => Segment::Literal(literal.to_string()),
            });
        }
        let has = |wanted: &Segment| segments.iter().any(|s| s == wanted);
        let asset = match (&rule.asset, has(&Segment::Asset)) {
            (Some(_), true) => {
                return Err(BindingError::AssetTwice(rule.topic.clone()));
            }
            (Some(id), false) => Some(
                layout
                    .assets
                    .iter()
                    .position(|a| &a.id == id)
                    .ok_or_else(|| BindingError::UnknownAsset(id.clone()))? as u32,
            ),
            (None, true) => None,
            (None, false) => {
                return Err(BindingError::NoAsset(rule.topic.clone()));
            }
        };
        match &rule.payload {
            PayloadRule::Value { signal, .. } => {
                if signal.is_some() == has(&Segment::Signal) {
                    return Err(BindingError::SignalNotOnce(rule.topic.clone()));
                }
            }
            PayloadRule::Object { fields, .. } => {
                if fields.is_empty() {
                    return Err(BindingError::NoFields(rule.topic.clone()));
                }
            }
        }
        Ok(CompiledRule {
            segments,
            asset,
            payload: rule.payload.clone(),
        })
    }

    /// Captured (asset, component, signal) when the topic matches.
    fn matches<'t>(&self, topic: &'t str) -> Option<Captures<'t>> {
        let mut captures = Captures::default();
        let mut parts = topic.split('/');
        for segment in &self.segments {
            if *segment == Segment::Rest {
                return Some(captures);
            }
            let part = parts.next()?;
            match segment {
                Segment::Literal(literal) if literal != part => return None,
                Segment::Asset => captures.asset = Some(part),
                Segment::Component => captures.component = Some(part),
                Segment::Signal => captures.signal = Some(part),
                _ => {}
            }
        }
        parts.next().is_none().then_some(captures)
    }

    fn filter(&self) -> String {
        self.segments
            .iter()
            .map(|segment| match segment {
                Segment::Literal(literal) => literal.as_str(),
                Segment::Rest => "#",
                _ => "+",
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

#[derive(Default)]
struct Captures<'t> {
    asset: Option<&'t str>,
    component: Option<&'t str>,
    signal: Option<&'t str>,
}

/// Where a message goes, once its topic is resolved.
#[derive(Debug, Clone, PartialEq)]
pub enum Route<'r> {
    /// One value for one signal.
    Value {
        signal: SignalRef,
        field: &'r Field,
        timestamp: Option<&'r str>,
        quality: Option<&'r str>,
    },
    /// A JSON object of the asset's signals: either listed fields, or (default bindings) every
    /// member whose name is a signal id.
    Object {
        asset: u32,
        fields: ObjectFields<'r>,
        timestamp: Option<&'r str>,
        quality: Option<&'r str>,
    },
    /// The topic belongs to an asset but names no signal of it.
    UnknownSignal {
        asset: u32,
        name: String,
    },
    Unmapped,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ObjectFields<'r> {
    ByName,
    Listed(&'r [(String, Field)]),
}

struct AssetSignals {
    by_id: HashMap<String, u16>,
    /// Per signal: what any sensor of it can read (see [`plausible_range`]).
    plausible: Vec<(f64, f64)>,
}

/// What a sensor of `signal` can read at all: its failure limits (or its normal range)
/// widened by their whole span on each side. Beyond that a value is not a failing machine but
/// forged or garbled data.
pub fn plausible_range(signal: &crate::layout::Signal) -> (f64, f64) {
    let (low, high) = signal.limits.unwrap_or(signal.normal);
    let span = (high - low).abs().max(1e-9);
    (low - span, high + span)
}

/// Resolves topics to signals for one layout. Built once per layout; `resolve` does no
/// allocation on the hot path.
pub struct TopicResolver {
    assets: Vec<AssetSignals>,
    asset_by_id: HashMap<String, u32>,
    prefixes: HashMap<String, u32>,
    layout_topics: bool,
    rules: Vec<CompiledRule>,
    default_field: Field,
}

impl TopicResolver {
    /// Default bindings from the layout's topic prefixes only.
    pub fn from_layout(layout: &PlantLayout) -> TopicResolver {
        let assets = layout
            .assets
            .iter()
            .map(|asset| AssetSignals {
                by_id: asset
                    .signals
                    .iter()
                    .enumerate()
                    .map(|(i, s)| (s.id.clone(), i as u16))
                    .collect(),
                plausible: asset.signals.iter().map(plausible_range).collect(),
            })
            .collect();
        TopicResolver {
            assets,
            asset_by_id: layout
                .assets
                .iter()
                .enumerate()
                .map(|(i, a)| (a.id.clone(), i as u32))
                .collect(),
            prefixes: layout
                .assets
                .iter()
                .enumerate()
                .filter_map(|(i, a)| a.telemetry.as_ref().map(|t| (t.topic.clone(), i as u32)))
                .collect(),
            layout_topics: true,
            rules: vec![],
            default_field: Field::default(),
        }
    }

    /// Default bindings plus the rules of a bindings file (rules are tried first, in order).
    /// What any sensor of `signal` can read; None for a signal the layout does not have.
    pub fn plausible(&self, signal: crate::telemetry::SignalRef) -> Option<(f64, f64)> {
        self.assets
            .get(signal.asset as usize)?
            .plausible
            .get(usize::from(signal.signal))
            .copied()
    }

    pub fn with_file(
        layout: &PlantLayout,
        file: &BindingsFile,
    ) -> Result<TopicResolver, BindingError> {
        let mut resolver = TopicResolver::from_layout(layout);
        resolver.layout_topics = file.layout_topics;
        resolver.rules = file
            .rules
            .iter()
            .map(|rule| CompiledRule::compile(rule, layout))
            .collect::<Result<_, _>>()?;
        Ok(resolver)
    }

    pub fn asset_index(&self, id: &str) -> Option<u32> {
        self.asset_by_id.get(id).copied()
    }

    pub fn signal_index(&self, asset: u32, id: &str) -> Option<u16> {
        self.assets.get(asset as usize)?.by_id.get(id).copied()
    }

    fn signal(&self, asset: u32, name: &str) -> Route<'_> {
        match self.signal_index(asset, name) {
            Some(signal) => Route::Value {
                signal: SignalRef { asset, signal },
                field: &self.default_field,
                timestamp: None,
                quality: None,
            },
            None => Route::UnknownSignal {
                asset,
                name: name.to_string(),
            },
        }
    }

    pub fn resolve(&self, topic: &str) -> Route<'_> {
        for rule in &self.rules {
            let Some(captures) = rule.matches(topic) else {
                continue;
            };
            let asset = match (rule.asset, captures.asset) {
                (Some(asset), _) => asset,
                (None, Some(id)) => match self.asset_index(id) {
                    Some(asset) => asset,
                    None => continue,
                },
                (None, None) => continue,
            };
            return match &rule.payload {
                PayloadRule::Value {
                    signal,
                    field,
                    timestamp,
                    quality,
                } => {
                    let name = signal.as_deref().or(captures.signal).unwrap_or_default();
                    match self.signal_index(asset, name) {
                        Some(signal) => Route::Value {
                            signal: SignalRef { asset, signal },
                            field,
                            timestamp: timestamp.as_deref(),
                            quality: quality.as_deref(),
                        },
                        None => Route::UnknownSignal {
                            asset,
                            name: name.to_string(),
                        },
                    }
                }
                PayloadRule::Object {
                    fields,
                    timestamp,
                    quality,
                } => Route::Object {
                    asset,
                    fields: ObjectFields::Listed(fields),
                    timestamp: timestamp.as_deref(),
                    quality: quality.as_deref(),
                },
            };
        }
        if !self.layout_topics {
            return Route::Unmapped;
        }
        if let Some(&asset) = self.prefixes.get(topic) {
            return Route::Object {
                asset,
                fields: ObjectFields::ByName,
                timestamp: None,
                quality: None,
            };
        }
        // Longest prefix first: `P/<signal>`, then `P/<component>/<signal>`.
        if let Some((prefix, signal)) = topic.rsplit_once('/') {
            if let Some(&asset) = self.prefixes.get(prefix) {
                return self.signal(asset, signal);
            }
            if let Some((prefix, _component)) = prefix.rsplit_once('/')
                && let Some(&asset) = self.prefixes.get(prefix)
            {
                return self.signal(asset, signal);
            }
        }
        Route::Unmapped
    }

    /// MQTT subscription filters covering every bound topic: one `parent/#` per distinct
    /// parent of the asset prefixes (collapsed to the first level if there are very many), plus
    /// one per rule.
    pub fn subscriptions(&self) -> Vec<String> {
        let mut filters: HashSet<String> = HashSet::new();
        if self.layout_topics {
            let parents: HashSet<&str> = self
                .prefixes
                .keys()
                .map(|prefix| prefix.rsplit_once('/').map_or(prefix.as_str(), |(p, _)| p))
                .collect();
            if parents.len() > 64 {
                for parent in parents {
                    filters.insert(format!("{}/#", parent.split('/').next().unwrap_or(parent)));
                }
            } else {
                for parent in parents {
                    filters.insert(format!("{parent}/#"));
                }
            }
        }
        for rule in &self.rules {
            filters.insert(rule.filter());
        }
        let mut filters: Vec<String> = filters.into_iter().collect();
        filters.sort();
        filters
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout() -> PlantLayout {
        crate::layout::parse_layout(
            crate::layout::DEMO_LAYOUT_TEXT,
            Path::new(crate::layout::DEMO_LAYOUT_PATH),
        )
        .expect("demo layout")
    }

    #[test]
    fn default_topics_resolve_to_signals() {
        let layout = layout();
        let resolver = TopicResolver::from_layout(&layout);
        let press = resolver.asset_index("press-202").expect("exists");
        let oil = resolver.signal_index(press, "oil_temp").expect("exists");
        for topic in [
            "acme/plant1/line2/press-202/oil_temp",
            "acme/plant1/line2/press-202/hydraulics/oil_temp",
        ] {
            match resolver.resolve(topic) {
                Route::Value { signal, .. } => {
                    assert_eq!(
                        signal,
                        SignalRef {
                            asset: press,
                            signal: oil
                        }
                    )
                }
                other => panic!("{topic}: {other:?}"),
            }
        }
        assert!(matches!(
            resolver.resolve("acme/plant1/line2/press-202"),
            Route::Object { asset, .. } if asset == press
        ));
        assert!(matches!(
            resolver.resolve("acme/plant1/line2/press-202/nope"),
            Route::UnknownSignal { .. }
        ));
        assert_eq!(resolver.resolve("elsewhere/x"), Route::Unmapped);
        assert_eq!(
            resolver.resolve("acme/plant1/line2/press-999/oil_temp"),
            Route::Unmapped
        );
    }

    #[test]
    fn subscriptions_cover_every_prefix() {
        let resolver = TopicResolver::from_layout(&layout());
        let filters = resolver.subscriptions();
        assert!(
            filters.contains(&"acme/plant1/line2/#".to_string()),
            "{filters:?}"
        );
        assert_eq!(filters.len(), 5, "{filters:?}");
    }

    #[test]
    fn rules_capture_asset_and_signal() {
        let layout = layout();
        let file: BindingsFile = ron::from_str(
            r#"(schema_version: 1, rules: [
                (topic: "factory/{area}/{asset}/telemetry/{signal}",
                 payload: Value(field: (pointer: "/v", scale: 0.1), timestamp: Some("/t"))),
                (topic: "legacy/pump2/+", asset: Some("pump-02"),
                 payload: Object(fields: [("flow", (pointer: "/F")), ("bearing_temp", (pointer: "/T"))])),
            ])"#,
        )
        .expect("parses");
        let resolver = TopicResolver::with_file(&layout, &file).expect("compiles");
        match resolver.resolve("factory/north/pump-02/telemetry/flow") {
            Route::Value {
                field, timestamp, ..
            } => {
                assert_eq!(field.convert(200.0), 20.0);
                assert_eq!(timestamp, Some("/t"));
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            resolver.resolve("legacy/pump2/state"),
            Route::Object { fields: ObjectFields::Listed(f), .. } if f.len() == 2
        ));
        let filters = resolver.subscriptions();
        assert!(filters.contains(&"factory/+/+/telemetry/+".to_string()));
        assert!(filters.contains(&"legacy/pump2/+".to_string()));
    }

    #[test]
    fn bad_rules_are_refused() {
        let layout = layout();
        for (rule, why) in [
            (r#"(topic: "a/#/b", payload: Value())"#, "'#' must be last"),
            (
                r#"(topic: "a/b", payload: Value(signal: Some("x")))"#,
                "needs an {asset}",
            ),
            (
                r#"(topic: "a/{asset}", payload: Value())"#,
                "either as {signal}",
            ),
            (
                r#"(topic: "a/{signal}", asset: Some("zzz"), payload: Value())"#,
                "not in the layout",
            ),
        ] {
            let rule: BindingRule = ron::from_str(rule).expect("parses");
            let error = CompiledRule::compile(&rule, &layout).expect_err(why);
            assert!(error.to_string().contains(why), "{error}");
        }
    }
}
