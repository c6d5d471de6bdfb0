//! Tariffs from a RON file: time-of-use periods with a price per kWh, a demand charge on the
//! highest demand interval, the contracted demand limit, and the grid's carbon intensity. Every
//! hour of every weekday must be covered by exactly one period; overlaps and gaps are named
//! with file:line:column.

use std::path::Path;

use serde::Deserialize;

use crate::files::{FileError, FileIssue};
use crate::layout::SourceMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Weekday {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

const WEEK: [Weekday; 7] = [
    Weekday::Mon,
    Weekday::Tue,
    Weekday::Wed,
    Weekday::Thu,
    Weekday::Fri,
    Weekday::Sat,
    Weekday::Sun,
];

/// One time-of-use period: on these days, from `start_hour` to `end_hour` (local, whole hours,
/// end exclusive, 24 = midnight).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TariffPeriod {
    pub name: String,
    pub days: Vec<Weekday>,
    pub start_hour: u8,
    pub end_hour: u8,
    pub price_per_kwh: f64,
    /// Grid carbon intensity in this period, kg CO2 per kWh, where it differs from the
    /// tariff's average (night hours with more wind, evenings with more gas).
    #[serde(default)]
    pub co2_kg_per_kwh: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tariff {
    /// Shown with every cost, e.g. "EUR".
    pub currency: String,
    pub periods: Vec<TariffPeriod>,
    /// Charged on the billing period's highest demand-interval average, per kW.
    #[serde(default)]
    pub demand_charge_per_kw: f64,
    /// The contracted demand limit, kW: the forecast warns before an interval passes it.
    #[serde(default)]
    pub demand_limit_kw: Option<f64>,
    /// Grid carbon intensity, kg CO2 per kWh.
    #[serde(default)]
    pub co2_kg_per_kwh: f64,
    /// Local time = UTC + this many hours (periods are in local time).
    #[serde(default)]
    pub utc_offset_hours: i8,
}

/// The price and period of every local (weekday, hour).
#[derive(Debug, Clone)]
pub struct PriceTable {
    /// `[weekday * 24 + hour]` -> period index.
    period_of: [usize; 7 * 24],
}

impl Tariff {
    /// Checks the periods cover each hour of the week once; the table for price lookups.
    fn table(&self, map: &SourceMap) -> Result<PriceTable, Vec<FileIssue>> {
        let mut owner: [Option<usize>; 7 * 24] = [None; 7 * 24];
        let mut issues = Vec::new();
        let mut push = |path: &str, message: String| {
            issues.push(FileIssue {
                position: Some(map.locate(path)),
                message,
            })
        };
        for (k, period) in self.periods.iter().enumerate() {
            let at = format!("periods[{k}]");
            if period.start_hour >= period.end_hour || period.end_hour > 24 {
                push(
                    &format!("{at}.end_hour"),
                    format!(
                        "period \"{}\": hours must run from 0 to 24 with start < end, got {}-{}",
                        period.name, period.start_hour, period.end_hour
                    ),
                );
                continue;
            }
            if !period.price_per_kwh.is_finite() {
                push(
                    &format!("{at}.price_per_kwh"),
                    format!("period \"{}\": the price is not a number", period.name),
                );
            }
            for day in &period.days {
                let d = WEEK.iter().position(|w| w == day).unwrap_or(0);
                for hour in period.start_hour..period.end_hour {
                    let slot = &mut owner[d * 24 + hour as usize];
                    match slot {
                        Some(other) => push(
                            &at,
                            format!(
                                "period \"{}\" overlaps \"{}\" on {day:?} {hour:02}:00-{:02}:00",
                                period.name,
                                self.periods[*other].name,
                                hour + 1
                            ),
                        ),
                        None => *slot = Some(k),
                    }
                }
            }
        }
        // Gaps, one message per uncovered run of hours on a day.
        for (d, day) in WEEK.iter().enumerate() {
            let mut hour = 0;
            while hour < 24 {
                if owner[d * 24 + hour].is_some() {
                    hour += 1;
                    continue;
                }
                let start = hour;
                while hour < 24 && owner[d * 24 + hour].is_none() {
                    hour += 1;
                }
                push(
                    "periods",
                    format!("no period covers {day:?} {start:02}:00-{hour:02}:00"),
                );
            }
        }
        for (value, field) in [
            (self.demand_charge_per_kw, "demand_charge_per_kw"),
            (self.co2_kg_per_kwh, "co2_kg_per_kwh"),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                push(field, format!("{field} must be a number >= 0, got {value}"));
            }
        }
        if issues.is_empty() {
            Ok(PriceTable {
                period_of: owner.map(|o| o.unwrap_or(0)),
            })
        } else {
            Err(issues)
        }
    }
}

/// A checked tariff with its price table.
#[derive(Debug, Clone)]
pub struct LoadedTariff {
    pub tariff: Tariff,
    table: PriceTable,
}

impl LoadedTariff {
    /// The period in force at `time_ms` (UTC ms since the epoch).
    pub fn period_at(&self, time_ms: i64) -> &TariffPeriod {
        let local_ms = time_ms + self.tariff.utc_offset_hours as i64 * 3_600_000;
        let day = local_ms.div_euclid(86_400_000);
        // 1970-01-01 was a Thursday (Mon = 0).
        let weekday = (day + 3).rem_euclid(7) as usize;
        let hour = (local_ms.rem_euclid(86_400_000) / 3_600_000) as usize;
        &self.tariff.periods[self.table.period_of[weekday * 24 + hour]]
    }

    /// Cost per kWh of hourly energy on average (0 without energy): what an asset's share of
    /// the plant's energy costs when only the plant is kept hour by hour.
    pub fn average_price(&self, hourly: &[(i64, f64)]) -> f64 {
        let kwh: f64 = hourly.iter().map(|(_, k)| k).sum();
        if kwh > 0.0 {
            self.energy_cost(hourly) / kwh
        } else {
            0.0
        }
    }

    /// Energy cost of hourly energy `(hour start ms, kWh)`.
    pub fn energy_cost(&self, hourly: &[(i64, f64)]) -> f64 {
        hourly
            .iter()
            .map(|(hour, kwh)| kwh * self.period_at(*hour).price_per_kwh)
            .sum()
    }
}

/// Parses and checks tariff text; `file` names it in errors.
pub fn parse_tariff(text: &str, file: &Path) -> Result<LoadedTariff, FileError> {
    let tariff: Tariff = ron::from_str(text).map_err(|error| FileError::ron(file, &error))?;
    let map = SourceMap::build(text);
    match tariff.table(&map) {
        Ok(table) => Ok(LoadedTariff { tariff, table }),
        Err(issues) => Err(FileError {
            file: file.to_path_buf(),
            issues,
        }),
    }
}

pub fn load_tariff(path: &Path) -> Result<LoadedTariff, FileError> {
    let text =
        std::fs::read_to_string(path).map_err(|error| FileError::unreadable(path, &error))?;
    parse_tariff(&text, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOU: &str = r#"Tariff(
    currency: "EUR",
    periods: [
        (name: "day", days: [Mon, Tue, Wed, Thu, Fri], start_hour: 7, end_hour: 20, price_per_kwh: 0.30),
        (name: "night", days: [Mon, Tue, Wed, Thu, Fri], start_hour: 0, end_hour: 7, price_per_kwh: 0.12),
        (name: "evening", days: [Mon, Tue, Wed, Thu, Fri], start_hour: 20, end_hour: 24, price_per_kwh: 0.18),
        (name: "weekend", days: [Sat, Sun], start_hour: 0, end_hour: 24, price_per_kwh: 0.10),
    ],
    demand_charge_per_kw: 9.5,
    demand_limit_kw: Some(400.0),
    co2_kg_per_kwh: 0.38,
    utc_offset_hours: 1,
)"#;

    #[test]
    fn prices_change_at_the_period_boundary_in_local_time() {
        let tariff = parse_tariff(TOU, Path::new("tou.ron")).unwrap();
        // 2024-01-01 was a Monday. 05:00 UTC = 06:00 local: night; 06:00 UTC = 07:00: day.
        let monday_ms = 1_704_067_200_000;
        assert_eq!(tariff.period_at(monday_ms + 5 * 3_600_000).name, "night");
        assert_eq!(tariff.period_at(monday_ms + 6 * 3_600_000).name, "day");
        assert_eq!(tariff.period_at(monday_ms + 19 * 3_600_000).name, "evening");
        // Saturday 2024-01-06, noon.
        assert_eq!(
            tariff
                .period_at(monday_ms + 5 * 86_400_000 + 12 * 3_600_000)
                .name,
            "weekend"
        );
        let cost = tariff.energy_cost(&[
            (monday_ms + 5 * 3_600_000, 100.0),
            (monday_ms + 6 * 3_600_000, 100.0),
        ]);
        assert!((cost - 42.0).abs() < 1e-9, "{cost}");
    }

    #[test]
    fn overlaps_and_gaps_are_named_with_their_place() {
        let bad = TOU
            .replace(
                "start_hour: 20, end_hour: 24",
                "start_hour: 19, end_hour: 23",
            )
            .replace("days: [Sat, Sun]", "days: [Sat]");
        let error = parse_tariff(&bad, Path::new("bad.ron"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("bad.ron:6:9: period \"evening\" overlaps \"day\" on Mon 19:00-20:00"),
            "{error}"
        );
        assert!(
            error.contains("no period covers Mon 23:00-24:00"),
            "{error}"
        );
        assert!(
            error.contains("no period covers Sun 00:00-24:00"),
            "{error}"
        );
        assert!(error.contains("bad.ron:3:5: "), "{error}");
        let error = parse_tariff("Tariff(currency: 1)", Path::new("x.ron"))
            .unwrap_err()
            .to_string();
        assert!(error.starts_with("x.ron:1:"), "{error}");
    }
}
