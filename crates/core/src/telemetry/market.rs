//! Values other systems publish about the grid rather than about an asset: a spot price, the
//! grid's carbon intensity. The tariff file names their topics (`energy::tariff::LiveFeed`);
//! the decoder matches those topics before the layout's bindings, so a price is never scored
//! for anomalies, drawn on an asset or counted as an unmapped topic.

use super::ProblemKind;
use super::json::{PayloadProblem, lone_value};

/// What a feed says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MarketKind {
    /// Price of energy, the tariff's currency per kWh.
    Price,
    /// Grid carbon intensity, kg CO2 per kWh.
    Co2,
}

impl MarketKind {
    pub const ALL: [MarketKind; 2] = [MarketKind::Price, MarketKind::Co2];

    pub fn index(self) -> usize {
        self as usize
    }
}

/// A topic the decoder listens to for one kind of value.
#[derive(Debug, Clone, PartialEq)]
pub struct MarketFeed {
    pub topic: String,
    pub kind: MarketKind,
    /// Turns the published number into the per-kWh unit of its kind (EUR/MWh to EUR/kWh:
    /// 0.001; g/kWh to kg/kWh: 0.001).
    pub to_per_kwh: f64,
}

/// One value received, converted to per kWh, at its source time.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MarketValue {
    pub kind: MarketKind,
    pub time_ms: i64,
    pub per_kwh: f64,
}

impl MarketFeed {
    /// Decodes one message of this feed. A negative price is a real market price (a surplus of
    /// wind and sun); a negative carbon intensity is not.
    pub fn decode(&self, payload: &[u8], received_ms: i64) -> Result<MarketValue, PayloadProblem> {
        let (raw, time_ms) = lone_value(payload, received_ms)?;
        let per_kwh = raw * self.to_per_kwh;
        if self.kind == MarketKind::Co2 && per_kwh < 0.0 {
            return Err((
                ProblemKind::WrongType,
                format!("a carbon intensity cannot be negative ({raw})"),
            ));
        }
        Ok(MarketValue {
            kind: self.kind,
            time_ms,
            per_kwh,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spot() -> MarketFeed {
        MarketFeed {
            topic: "site/energy/spot".into(),
            kind: MarketKind::Price,
            to_per_kwh: 0.001,
        }
    }

    #[test]
    fn bare_numbers_and_objects_decode_to_per_kwh() {
        let value = spot().decode(b" 212.5 ", 1_000).expect("a bare number");
        assert_eq!(value.time_ms, 1_000);
        assert!((value.per_kwh - 0.2125).abs() < 1e-12);
        let value = spot()
            .decode(br#"{"value": -15, "ts": 1700000000000}"#, 1_000)
            .expect("an object with a time");
        assert_eq!(value.time_ms, 1_700_000_000_000);
        assert!(
            (value.per_kwh + 0.015).abs() < 1e-12,
            "negative prices exist"
        );
    }

    #[test]
    fn bad_payloads_are_problems_not_values() {
        let kind = |payload: &[u8]| spot().decode(payload, 0).map_err(|(kind, _)| kind);
        assert_eq!(kind(b"cheap"), Err(ProblemKind::Malformed));
        assert_eq!(kind(br#"{"price": 3}"#), Err(ProblemKind::WrongType));
        assert_eq!(kind(br#"{"value": "3"}"#), Err(ProblemKind::WrongType));
        let carbon = MarketFeed {
            kind: MarketKind::Co2,
            ..spot()
        };
        assert!(carbon.decode(b"-3", 0).is_err());
        assert!(carbon.decode(b"380", 0).is_ok());
    }
}
