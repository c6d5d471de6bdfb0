//! Tariffs from a RON file: time-of-use periods with a price per kWh, a demand charge on the
//! highest demand interval, the contracted demand limit, and the grid's carbon intensity. Every
//! hour of every weekday must be covered by exactly one period; overlaps and gaps are named
//! with file:line:column.

use std::path::Path;

use serde::Deserialize;

use crate::files::{FileError, FileIssue};
use crate::layout::SourceMap;
use crate::telemetry::market::{MarketFeed, MarketKind, MarketValue};

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
    /// The plant's work shifts by local start hour, each running until the next one starts
    /// (`[(name: "early", start_hour: 6), (name: "late", start_hour: 14), ...]`): the energy
    /// window shows the current shift's energy beside today's. None: today only.
    #[serde(default)]
    pub shifts: Vec<Shift>,
    /// A live energy price published by another system (a spot price in EUR/MWh): an hour
    /// with live values is priced at their mean, an hour without at its period's price.
    #[serde(default)]
    pub live_price: Option<LiveFeed>,
    /// A live grid carbon intensity (g/kWh), used per hour like the live price.
    #[serde(default)]
    pub live_co2: Option<LiveFeed>,
}

/// An MQTT topic carrying one number (bare, or `{"value": .., "ts": ..}`) and its unit.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LiveFeed {
    /// An exact topic, no wildcards.
    pub topic: String,
    /// A price: the tariff's currency per kWh or per MWh ("EUR/MWh"); a carbon intensity:
    /// "g/kWh", "kg/kWh", "kg/MWh" or "t/MWh".
    pub unit: String,
}

/// What a live feed's unit must be and its factor to per kWh.
fn per_kwh_factor(kind: MarketKind, unit: &str, currency: &str) -> Result<f64, String> {
    let factor = match kind {
        MarketKind::Price => match unit.split_once('/') {
            Some((c, "kWh")) if c == currency => Some(1.0),
            Some((c, "MWh")) if c == currency => Some(1e-3),
            _ => None,
        },
        MarketKind::Co2 => match unit {
            "kg/kWh" | "t/MWh" => Some(1.0),
            "g/kWh" | "kg/MWh" => Some(1e-3),
            _ => None,
        },
    };
    factor.ok_or_else(|| match kind {
        MarketKind::Price => {
            format!("a live price's unit must be {currency}/kWh or {currency}/MWh, got \"{unit}\"")
        }
        MarketKind::Co2 => format!(
            "a live carbon intensity's unit must be g/kWh, kg/kWh, kg/MWh or t/MWh, got \"{unit}\""
        ),
    })
}

/// A work shift: from its local start hour to the next shift's.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Shift {
    pub name: String,
    pub start_hour: u8,
}

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// The start (UTC ms) of the local day holding `time_ms`, local time being UTC plus
/// `utc_offset_hours`.
pub fn day_start_ms(time_ms: i64, utc_offset_hours: i8) -> i64 {
    let offset_ms = utc_offset_hours as i64 * HOUR_MS;
    (time_ms + offset_ms).div_euclid(DAY_MS) * DAY_MS - offset_ms
}

/// Energy booked in hours starting at or after `start_ms` (hour buckets as the account keeps
/// them; a day or shift starts on a whole hour, so nothing is split).
pub fn kwh_since(hourly: &[(i64, f64)], start_ms: i64) -> f64 {
    hourly
        .iter()
        .filter(|(hour, _)| *hour >= start_ms)
        .map(|(_, kwh)| kwh)
        .sum::<f64>()
        // An empty float sum is -0.0, which a display shows as "-0 kWh".
        + 0.0
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
        for (k, shift) in self.shifts.iter().enumerate() {
            if shift.start_hour >= 24 {
                push(
                    &format!("shifts[{k}].start_hour"),
                    format!(
                        "shift \"{}\": start_hour must be 0-23, got {}",
                        shift.name, shift.start_hour
                    ),
                );
            } else if let Some(other) = self.shifts[..k]
                .iter()
                .find(|o| o.start_hour == shift.start_hour)
            {
                push(
                    &format!("shifts[{k}].start_hour"),
                    format!(
                        "shift \"{}\" starts at {:02}:00 like \"{}\"",
                        shift.name, shift.start_hour, other.name
                    ),
                );
            }
        }
        for (feed, kind, field) in [
            (&self.live_price, MarketKind::Price, "live_price"),
            (&self.live_co2, MarketKind::Co2, "live_co2"),
        ] {
            let Some(feed) = feed else { continue };
            if feed.topic.trim().is_empty() || feed.topic.contains(['+', '#']) {
                push(
                    &format!("{field}.topic"),
                    format!(
                        "{field}: the topic must be one exact topic, got \"{}\"",
                        feed.topic
                    ),
                );
            }
            if let Err(message) = per_kwh_factor(kind, &feed.unit, &self.currency) {
                push(&format!("{field}.unit"), format!("{field}: {message}"));
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
    /// The start (UTC ms) of the local day holding `time_ms`.
    pub fn day_start_ms(&self, time_ms: i64) -> i64 {
        day_start_ms(time_ms, self.tariff.utc_offset_hours)
    }

    /// The shift in force at `time_ms` and when it started (UTC ms); None without shifts.
    pub fn shift_at(&self, time_ms: i64) -> Option<(&Shift, i64)> {
        let day = self.day_start_ms(time_ms);
        // Today's starts and, for the hours before today's first one, yesterday's last shift.
        self.tariff
            .shifts
            .iter()
            .flat_map(|shift| {
                let start = shift.start_hour as i64 * HOUR_MS;
                [(shift, day + start), (shift, day - DAY_MS + start)]
            })
            .filter(|(_, start)| *start <= time_ms)
            .max_by_key(|(_, start)| *start)
    }

    /// The period in force at `time_ms` (UTC ms since the epoch).
    pub fn period_at(&self, time_ms: i64) -> &TariffPeriod {
        let local_ms = time_ms + self.tariff.utc_offset_hours as i64 * 3_600_000;
        let day = local_ms.div_euclid(86_400_000);
        // 1970-01-01 was a Thursday (Mon = 0).
        let weekday = (day + 3).rem_euclid(7) as usize;
        let hour = (local_ms.rem_euclid(86_400_000) / 3_600_000) as usize;
        &self.tariff.periods[self.table.period_of[weekday * 24 + hour]]
    }

    /// The feeds to subscribe to for live prices and carbon intensities (none by default).
    pub fn market_feeds(&self) -> Vec<MarketFeed> {
        [
            (&self.tariff.live_price, MarketKind::Price),
            (&self.tariff.live_co2, MarketKind::Co2),
        ]
        .into_iter()
        .filter_map(|(feed, kind)| {
            let feed = feed.as_ref()?;
            Some(MarketFeed {
                topic: feed.topic.clone(),
                kind,
                // Checked when the file was loaded.
                to_per_kwh: per_kwh_factor(kind, &feed.unit, &self.tariff.currency).ok()?,
            })
        })
        .collect()
    }

    /// Price per kWh of the hour starting at `hour_ms`: the mean of the live prices received
    /// in it, else its period's price.
    pub fn price_at(&self, hour_ms: i64, live: Option<&LiveMarket>) -> f64 {
        live.and_then(|l| l.hour_mean(MarketKind::Price, hour_ms))
            .unwrap_or_else(|| self.period_at(hour_ms).price_per_kwh)
    }

    /// Carbon intensity (kg CO2 per kWh) of the hour starting at `hour_ms`: live, else its
    /// period's, else the tariff's.
    pub fn co2_at(&self, hour_ms: i64, live: Option<&LiveMarket>) -> f64 {
        live.and_then(|l| l.hour_mean(MarketKind::Co2, hour_ms))
            .unwrap_or_else(|| {
                self.period_at(hour_ms)
                    .co2_kg_per_kwh
                    .unwrap_or(self.tariff.co2_kg_per_kwh)
            })
    }

    /// Cost per kWh of hourly energy on average (0 without energy): what an asset's share of
    /// the plant's energy costs when only the plant is kept hour by hour.
    pub fn average_price(&self, hourly: &[(i64, f64)], live: Option<&LiveMarket>) -> f64 {
        let kwh: f64 = hourly.iter().map(|(_, k)| k).sum();
        if kwh > 0.0 {
            self.energy_cost(hourly, live) / kwh
        } else {
            0.0
        }
    }

    /// kg CO2 per kWh of hourly energy on average (the tariff's figure without energy).
    pub fn average_co2(&self, hourly: &[(i64, f64)], live: Option<&LiveMarket>) -> f64 {
        let kwh: f64 = hourly.iter().map(|(_, k)| k).sum();
        if kwh > 0.0 {
            self.co2_kg(hourly, live) / kwh
        } else {
            self.tariff.co2_kg_per_kwh
        }
    }

    /// Energy cost of hourly energy `(hour start ms, kWh)`.
    pub fn energy_cost(&self, hourly: &[(i64, f64)], live: Option<&LiveMarket>) -> f64 {
        hourly
            .iter()
            .map(|(hour, kwh)| kwh * self.price_at(*hour, live))
            .sum()
    }

    /// kg CO2 of hourly energy.
    pub fn co2_kg(&self, hourly: &[(i64, f64)], live: Option<&LiveMarket>) -> f64 {
        hourly
            .iter()
            .map(|(hour, kwh)| kwh * self.co2_at(*hour, live))
            .sum()
    }
}

/// Prices and carbon intensities received live (`telemetry::market`), kept as hourly means:
/// the account's energy is hourly too, and an hour without a live value falls back to the
/// tariff. The mean is of the values received, not weighted by consumption: spot prices hold
/// for a whole hour or quarter.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LiveMarket {
    /// Per kind: (hour start ms, sum, count), in time order.
    hours: [Vec<(i64, f64, u32)>; 2],
    /// Per kind: the newest value by source time, (time ms, per kWh).
    latest: [Option<(i64, f64)>; 2],
}

impl LiveMarket {
    pub fn add(&mut self, value: &MarketValue) {
        if !value.per_kwh.is_finite() {
            return;
        }
        let k = value.kind.index();
        let hour = value.time_ms.div_euclid(HOUR_MS) * HOUR_MS;
        let hours = &mut self.hours[k];
        // Values arrive in time order but for a few late ones: search from the end.
        match hours.iter().rposition(|(h, _, _)| *h <= hour) {
            Some(i) if hours[i].0 == hour => {
                hours[i].1 += value.per_kwh;
                hours[i].2 += 1;
            }
            Some(i) => hours.insert(i + 1, (hour, value.per_kwh, 1)),
            None => hours.insert(0, (hour, value.per_kwh, 1)),
        }
        if self.latest[k].is_none_or(|(t, _)| value.time_ms >= t) {
            self.latest[k] = Some((value.time_ms, value.per_kwh));
        }
    }

    /// The mean of the values received in the hour starting at `hour_ms`.
    pub fn hour_mean(&self, kind: MarketKind, hour_ms: i64) -> Option<f64> {
        let hours = &self.hours[kind.index()];
        let i = hours.binary_search_by_key(&hour_ms, |(h, _, _)| *h).ok()?;
        let (_, sum, n) = hours[i];
        Some(sum / n as f64)
    }

    /// The newest value received, (time ms, per kWh).
    pub fn latest(&self, kind: MarketKind) -> Option<(i64, f64)> {
        self.latest[kind.index()]
    }

    /// Hours priced (or weighed for carbon) by live values.
    pub fn hours(&self, kind: MarketKind) -> usize {
        self.hours[kind.index()].len()
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
    fn days_and_shifts_start_in_local_time() {
        let text = TOU.replace(
            "utc_offset_hours: 1,",
            "utc_offset_hours: 1,\n    shifts: [(name: \"early\", start_hour: 6), (name: \"late\", start_hour: 14), (name: \"night\", start_hour: 22)],",
        );
        let tariff = parse_tariff(&text, Path::new("tou.ron")).unwrap();
        let monday_ms = 1_704_067_200_000; // 2024-01-01 00:00 UTC = 01:00 local
        let h = 3_600_000;
        // Local midnight is 23:00 UTC the day before.
        assert_eq!(tariff.day_start_ms(monday_ms), monday_ms - h);
        assert_eq!(
            tariff.day_start_ms(monday_ms + 22 * h + 59 * 60_000),
            monday_ms - h
        );
        assert_eq!(tariff.day_start_ms(monday_ms + 23 * h), monday_ms + 23 * h);
        // 05:30 UTC = 06:30 local: early, from 06:00 local = 05:00 UTC.
        let (shift, start) = tariff.shift_at(monday_ms + 5 * h + 30 * 60_000).unwrap();
        assert_eq!((shift.name.as_str(), start), ("early", monday_ms + 5 * h));
        // 02:00 local, before today's first start: last night's shift, from 22:00 local
        // the day before (21:00 UTC on Sunday).
        let (shift, start) = tariff.shift_at(monday_ms + h).unwrap();
        assert_eq!((shift.name.as_str(), start), ("night", monday_ms - 3 * h));
        // Energy since a start: whole hour buckets from it on.
        let hourly = [
            (monday_ms + 3 * h, 5.0),
            (monday_ms + 4 * h, 7.0),
            (monday_ms + 5 * h, 11.0),
            (monday_ms + 6 * h, 13.0),
        ];
        assert_eq!(kwh_since(&hourly, monday_ms + 5 * h), 24.0);
        assert_eq!(kwh_since(&hourly, monday_ms - h), 36.0);
        // Without an offset, a plain UTC day; negative times round down.
        assert_eq!(day_start_ms(monday_ms + 5 * h, 0), monday_ms);
        assert_eq!(day_start_ms(-h, 0), -24 * h);
        // No shifts: none in force.
        assert!(
            parse_tariff(TOU, Path::new("tou.ron"))
                .unwrap()
                .shift_at(monday_ms)
                .is_none()
        );
    }

    #[test]
    fn shifts_out_of_the_day_or_starting_together_are_named() {
        let text = TOU.replace(
            "utc_offset_hours: 1,",
            "utc_offset_hours: 1,\n    shifts: [(name: \"a\", start_hour: 6), (name: \"b\", start_hour: 6), (name: \"c\", start_hour: 24)],",
        );
        let error = parse_tariff(&text, Path::new("tou.ron"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("shift \"b\" starts at 06:00 like \"a\""),
            "{error}"
        );
        assert!(
            error.contains("shift \"c\": start_hour must be 0-23"),
            "{error}"
        );
        assert!(error.contains("tou.ron:"), "file:line:col: {error}");
    }

    #[test]
    fn prices_change_at_the_period_boundary_in_local_time() {
        let tariff = parse_tariff(TOU, Path::new("tou.ron")).unwrap();
        // No energy yet is 0 kWh, not "-0 kWh".
        assert!(kwh_since(&[], 0).is_sign_positive());
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
        let cost = tariff.energy_cost(
            &[
                (monday_ms + 5 * 3_600_000, 100.0),
                (monday_ms + 6 * 3_600_000, 100.0),
            ],
            None,
        );
        assert!((cost - 42.0).abs() < 1e-9, "{cost}");
    }

    const LIVE: &str = "utc_offset_hours: 1,\n    live_price: Some((topic: \"site/spot\", unit: \"EUR/MWh\")),\n    live_co2: Some((topic: \"site/co2\", unit: \"g/kWh\")),";

    #[test]
    fn an_hour_with_live_prices_is_priced_at_their_mean_and_the_others_at_the_tariff() {
        let tariff = parse_tariff(
            &TOU.replace("utc_offset_hours: 1,", LIVE),
            Path::new("t.ron"),
        )
        .expect("a tariff with live feeds");
        let feeds = tariff.market_feeds();
        assert_eq!(feeds.len(), 2);
        assert_eq!(
            (feeds[0].topic.as_str(), feeds[0].kind, feeds[0].to_per_kwh),
            ("site/spot", MarketKind::Price, 1e-3)
        );
        let monday_ms = 1_704_067_200_000;
        let (night, day) = (monday_ms + 5 * HOUR_MS, monday_ms + 6 * HOUR_MS);
        let mut live = LiveMarket::default();
        let price = |time_ms, per_kwh| MarketValue {
            kind: MarketKind::Price,
            time_ms,
            per_kwh,
        };
        // Two quarter-hour prices in the day hour, one late value arriving out of order into
        // the night hour; none in the next hour.
        live.add(&price(day + 60_000, 0.20));
        live.add(&price(day + 16 * 60_000, 0.40));
        live.add(&price(night + 30 * 60_000, -0.05));
        live.add(&MarketValue {
            kind: MarketKind::Co2,
            time_ms: day,
            per_kwh: 0.25,
        });
        assert_eq!(live.hours(MarketKind::Price), 2);
        assert_eq!(
            live.latest(MarketKind::Price),
            Some((day + 16 * 60_000, 0.40))
        );
        let hourly = [(night, 100.0), (day, 100.0), (day + HOUR_MS, 100.0)];
        let cost = tariff.energy_cost(&hourly, Some(&live));
        // -0.05 live at night (a negative spot price), 0.30 mean by day, 0.30 tariff after.
        assert!((cost - (-5.0 + 30.0 + 30.0)).abs() < 1e-9, "{cost}");
        let co2 = tariff.co2_kg(&hourly, Some(&live));
        assert!((co2 - (38.0 + 25.0 + 38.0)).abs() < 1e-9, "{co2}");
        assert!((tariff.average_price(&hourly, Some(&live)) - 55.0 / 300.0).abs() < 1e-12);
    }

    #[test]
    fn live_feeds_with_a_wrong_unit_or_a_wildcard_are_named() {
        let text = TOU.replace(
            "utc_offset_hours: 1,",
            "utc_offset_hours: 1,\n    live_price: Some((topic: \"site/+/spot\", unit: \"USD/MWh\")),\n    live_co2: Some((topic: \"site/co2\", unit: \"ppm\")),",
        );
        let error = parse_tariff(&text, Path::new("t.ron"))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("live_price: the topic must be one exact topic"),
            "{error}"
        );
        assert!(
            error.contains("a live price's unit must be EUR/kWh or EUR/MWh, got \"USD/MWh\""),
            "{error}"
        );
        assert!(
            error.contains("t.ron:14:") && error.contains("got \"ppm\""),
            "file:line:col: {error}"
        );
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
