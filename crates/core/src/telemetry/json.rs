//! JSON payloads: a bare number, an object with a value (and optional timestamp and quality),
//! or an object carrying several signals of one asset.

use serde_json::Value;

use super::bindings::{Field, ObjectFields, Route, TopicResolver};
use super::{ProblemKind, Quality, Sample, SignalRef};

/// Field names read when a binding does not point elsewhere.
const VALUE_KEYS: [&str; 2] = ["value", "v"];
const TIME_KEYS: [&str; 3] = ["ts", "timestamp", "t"];
const QUALITY_KEYS: [&str; 2] = ["q", "quality"];

/// A problem found in one payload; the rest of the payload may still have been used.
pub type PayloadProblem = (ProblemKind, String);

/// Decodes `payload` for a resolved `route`, appending samples to `out` and returning the
/// problems found. Never panics, whatever the bytes.
pub fn decode_json(
    payload: &[u8],
    route: &Route,
    resolver: &TopicResolver,
    received_ms: i64,
    out: &mut Vec<Sample>,
    problems: &mut Vec<PayloadProblem>,
) {
    match route {
        Route::Value {
            signal,
            field,
            timestamp,
            quality,
        } => {
            // Fast path for the commonest UNS payload, a bare number.
            if field.pointer.is_empty()
                && timestamp.is_none()
                && quality.is_none()
                && let Some(raw) = bare_number(payload)
            {
                push(
                    out,
                    problems,
                    *signal,
                    field,
                    raw,
                    Quality::Good,
                    received_ms,
                );
                return;
            }
            let document = match parse(payload) {
                Ok(document) => document,
                Err(problem) => return problems.push(problem),
            };
            let value = if field.pointer.is_empty() {
                match &document {
                    Value::Object(map) => VALUE_KEYS.iter().find_map(|key| map.get(*key)),
                    other => Some(other),
                }
            } else {
                document.pointer(&field.pointer)
            };
            let Some(value) = value else {
                return problems.push((
                    ProblemKind::WrongType,
                    format!("no value at \"{}\"", display_pointer(&field.pointer)),
                ));
            };
            match number(value) {
                Ok(raw) => {
                    let time = time_of(&document, *timestamp).unwrap_or(received_ms);
                    let quality = quality_of(&document, *quality);
                    push(out, problems, *signal, field, raw, quality, time);
                }
                Err(problem) => problems.push(problem),
            }
        }
        Route::Object {
            asset,
            fields,
            timestamp,
            quality,
        } => {
            let document = match parse(payload) {
                Ok(document) => document,
                Err(problem) => return problems.push(problem),
            };
            let Value::Object(map) = &document else {
                return problems.push((
                    ProblemKind::WrongType,
                    "expected a JSON object of signals".into(),
                ));
            };
            let time = time_of(&document, *timestamp).unwrap_or(received_ms);
            let quality = quality_of(&document, *quality);
            match fields {
                ObjectFields::ByName => {
                    let before = out.len() + problems.len();
                    let mut unknown: Vec<&str> = vec![];
                    for (name, value) in map {
                        let is_meta = TIME_KEYS.contains(&name.as_str())
                            || QUALITY_KEYS.contains(&name.as_str());
                        if is_meta {
                            continue;
                        }
                        let Some(signal) = resolver.signal_index(*asset, name) else {
                            unknown.push(name);
                            continue;
                        };
                        let signal = SignalRef {
                            asset: *asset,
                            signal,
                        };
                        match number(value) {
                            Ok(raw) => {
                                push(out, problems, signal, &Field::default(), raw, quality, time)
                            }
                            Err((kind, detail)) => {
                                problems.push((kind, format!("{name}: {detail}")))
                            }
                        }
                    }
                    if !unknown.is_empty() {
                        problems.push((
                            ProblemKind::UnknownSignal,
                            format!("no such signals: {}", unknown.join(", ")),
                        ));
                    } else if out.len() + problems.len() == before {
                        problems
                            .push((ProblemKind::WrongType, "the object holds no signals".into()));
                    }
                }
                ObjectFields::Listed(listed) => {
                    for (name, field) in listed.iter() {
                        let Some(signal) = resolver.signal_index(*asset, name) else {
                            problems
                                .push((ProblemKind::UnknownSignal, format!("no signal {name}")));
                            continue;
                        };
                        let Some(value) = document.pointer(&field.pointer) else {
                            // A missing member means that signal has no news in this message.
                            continue;
                        };
                        let signal = SignalRef {
                            asset: *asset,
                            signal,
                        };
                        match number(value) {
                            Ok(raw) => push(out, problems, signal, field, raw, quality, time),
                            Err((kind, detail)) => {
                                problems.push((kind, format!("{name}: {detail}")))
                            }
                        }
                    }
                }
            }
        }
        Route::UnknownSignal { .. } | Route::Unmapped => {}
    }
}

/// One number from a payload that is not an asset's: a bare number, or an object with a value
/// (`value`/`v`) and an optional time (`ts`/`timestamp`/`t`, s or ms since the epoch), at
/// `received_ms` when it has none. A price or carbon feed's payload (`telemetry::market`).
pub(super) fn lone_value(payload: &[u8], received_ms: i64) -> Result<(f64, i64), PayloadProblem> {
    if let Some(raw) = bare_number(payload) {
        return Ok((raw, received_ms));
    }
    let document = parse(payload)?;
    let value = match &document {
        Value::Object(map) => VALUE_KEYS.iter().find_map(|key| map.get(*key)),
        other => Some(other),
    }
    .ok_or_else(|| {
        (
            ProblemKind::WrongType,
            "no \"value\" in the object".to_string(),
        )
    })?;
    let raw = number(value)?;
    if !raw.is_finite() {
        return Err((ProblemKind::NotFinite, format!("value {raw}")));
    }
    Ok((raw, time_of(&document, None).unwrap_or(received_ms)))
}

fn push(
    out: &mut Vec<Sample>,
    problems: &mut Vec<PayloadProblem>,
    signal: SignalRef,
    field: &Field,
    raw: f64,
    quality: Quality,
    time_ms: i64,
) {
    let value = field.convert(raw);
    if value.is_finite() {
        out.push(Sample {
            signal,
            value,
            quality,
            time_ms,
        });
    } else {
        problems.push((ProblemKind::NotFinite, format!("value {value}")));
    }
}

fn bare_number(payload: &[u8]) -> Option<f64> {
    let text = std::str::from_utf8(payload).ok()?.trim();
    // Only JSON-shaped numbers: Rust also parses "NaN" and "inf", which JSON does not allow.
    let first = *text.as_bytes().first()?;
    if !(first == b'-' || first.is_ascii_digit()) {
        return None;
    }
    text.parse::<f64>().ok()
}

fn parse(payload: &[u8]) -> Result<Value, PayloadProblem> {
    serde_json::from_slice(payload).map_err(|error| (ProblemKind::Malformed, error.to_string()))
}

fn number(value: &Value) -> Result<f64, PayloadProblem> {
    match value {
        Value::Number(number) => number
            .as_f64()
            .ok_or_else(|| (ProblemKind::WrongType, format!("{number} is not a float"))),
        // Digital signals (running, door open...) arrive as booleans.
        Value::Bool(flag) => Ok(if *flag { 1.0 } else { 0.0 }),
        Value::String(text) if matches!(text.as_str(), "NaN" | "Infinity" | "-Infinity") => {
            Err((ProblemKind::NotFinite, format!("\"{text}\"")))
        }
        other => Err((
            ProblemKind::WrongType,
            format!("expected a number, got {}", kind_name(other)),
        )),
    }
}

fn kind_name(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn display_pointer(pointer: &str) -> &str {
    if pointer.is_empty() { "value" } else { pointer }
}

fn lookup<'v>(document: &'v Value, pointer: Option<&str>, defaults: &[&str]) -> Option<&'v Value> {
    match pointer {
        Some(pointer) => document.pointer(pointer),
        None => {
            let map = document.as_object()?;
            defaults.iter().find_map(|key| map.get(*key))
        }
    }
}

/// A source timestamp in ms since the epoch; numbers below 1e11 are taken as seconds.
fn time_of(document: &Value, pointer: Option<&str>) -> Option<i64> {
    let raw = lookup(document, pointer, &TIME_KEYS)?.as_f64()?;
    if !raw.is_finite() || raw <= 0.0 {
        return None;
    }
    Some(if raw < 1e11 { raw * 1000.0 } else { raw } as i64)
}

fn quality_of(document: &Value, pointer: Option<&str>) -> Quality {
    match lookup(document, pointer, &QUALITY_KEYS) {
        None => Quality::Good,
        Some(Value::Bool(true)) => Quality::Good,
        Some(Value::Bool(false)) => Quality::Bad,
        Some(Value::String(text)) => match text.to_ascii_lowercase().as_str() {
            "good" | "ok" => Quality::Good,
            "uncertain" => Quality::Uncertain,
            _ => Quality::Bad,
        },
        Some(Value::Number(number)) => match number.as_u64() {
            // OPC DA quality byte.
            Some(code) if code < 256 => match code {
                192.. => Quality::Good,
                64.. => Quality::Uncertain,
                _ => Quality::Bad,
            },
            // OPC UA StatusCode: the top two bits give the severity.
            Some(code) => match (code >> 30) & 0b11 {
                0 => Quality::Good,
                1 => Quality::Uncertain,
                _ => Quality::Bad,
            },
            None => Quality::Bad,
        },
        Some(_) => Quality::Bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::{DEMO_LAYOUT_PATH, DEMO_LAYOUT_TEXT, parse_layout};

    fn resolver() -> TopicResolver {
        let layout = parse_layout(DEMO_LAYOUT_TEXT, std::path::Path::new(DEMO_LAYOUT_PATH))
            .expect("demo layout");
        TopicResolver::from_layout(&layout)
    }

    fn decode(topic: &str, payload: &[u8]) -> (Vec<Sample>, Vec<PayloadProblem>) {
        let resolver = resolver();
        let route = resolver.resolve(topic);
        let (mut out, mut problems) = (vec![], vec![]);
        decode_json(payload, &route, &resolver, 1_000, &mut out, &mut problems);
        (out, problems)
    }

    const OIL: &str = "acme/plant1/line2/press-202/oil_temp";

    #[test]
    fn values_in_their_usual_shapes() {
        let (out, problems) = decode(OIL, b" 41.5 ");
        assert!(problems.is_empty());
        assert_eq!(
            (out[0].value, out[0].time_ms, out[0].quality),
            (41.5, 1_000, Quality::Good)
        );

        let (out, _) = decode(
            OIL,
            br#"{"value": 42, "ts": 1732200000123, "q": "uncertain"}"#,
        );
        assert_eq!(
            (out[0].value, out[0].time_ms, out[0].quality),
            (42.0, 1_732_200_000_123, Quality::Uncertain)
        );
        // Seconds are recognised and turned into milliseconds.
        let (out, _) = decode(OIL, br#"{"v": 1, "timestamp": 1732200000.5, "quality": 0}"#);
        assert_eq!(out[0].time_ms, 1_732_200_000_500);
        let (out, _) = decode(OIL, br#"{"v": 1, "quality": 2150891520}"#);
        assert_eq!(out[0].quality, Quality::Bad);
    }

    #[test]
    fn an_object_per_asset_feeds_each_signal() {
        let (out, problems) = decode(
            "acme/plant1/line2/press-202",
            br#"{"oil_temp": 44.0, "hydraulic_pressure": 180, "ts": 1732200000000, "bogus": 1}"#,
        );
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|s| s.time_ms == 1_732_200_000_000));
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, ProblemKind::UnknownSignal);
    }

    #[test]
    fn garbage_is_classified_not_fatal() {
        for (payload, kind) in [
            (&b"{not json"[..], ProblemKind::Malformed),
            (b"\xff\xfe\x00", ProblemKind::Malformed),
            (br#""hot""#, ProblemKind::WrongType),
            (br#"{"value": null}"#, ProblemKind::WrongType),
            (br#"{"value": "NaN"}"#, ProblemKind::NotFinite),
            (br#"{"value": 1e999}"#, ProblemKind::Malformed),
            (br#"{"temperature": 3}"#, ProblemKind::WrongType),
            (b"", ProblemKind::Malformed),
        ] {
            let (out, problems) = decode(OIL, payload);
            assert!(out.is_empty(), "{payload:?}");
            assert_eq!(
                problems.first().map(|p| p.0),
                Some(kind),
                "{payload:?}: {problems:?}"
            );
        }
    }
}
