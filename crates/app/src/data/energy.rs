//! The plant's energy account in the world: every frame's samples go through core's
//! `EnergyAccount` (the same code as `plant-twin energy report`), with the tariff given by
//! `--tariff`; the demand forecast is refreshed each frame. Runs windowed and headless.

use bevy::prelude::*;

use crate::data::telemetry::{FrameMarket, FrameSamples, MarketFeeds};
use crate::frame::DataSystems;
use crate::plant::PlantDocument;
use plant_twin_core::energy::tariff::LoadedTariff;
use plant_twin_core::energy::{AccountConfig, EnergyAccount};

pub struct EnergyPlugin {
    pub tariff: Option<LoadedTariff>,
}

impl Plugin for EnergyPlugin {
    fn build(&self, app: &mut App) {
        app.insert_resource(PlantEnergy {
            account: None,
            tariff: self.tariff.clone(),
            restarted_ms: None,
        })
        // Every decoder (live, simulated, replayed) listens to the tariff's price and carbon
        // topics.
        .insert_resource(MarketFeeds(
            self.tariff
                .as_ref()
                .map(LoadedTariff::market_feeds)
                .unwrap_or_default(),
        ))
        .add_systems(
            Update,
            (
                restart_for_layout.run_if(resource_changed::<PlantDocument>),
                account_samples,
            )
                .chain()
                .in_set(DataSystems::Predict),
        );
    }
}

/// The energy account of the plant on screen, and the tariff that prices it.
#[derive(Resource)]
pub struct PlantEnergy {
    /// None until a layout with energy signals is loaded.
    pub account: Option<EnergyAccount>,
    pub tariff: Option<LoadedTariff>,
    /// When the account last started over after a seek back in a replay, source ms.
    pub restarted_ms: Option<i64>,
}

impl PlantEnergy {
    /// The start (UTC ms) of "today": the local day (the tariff's; UTC without one) of the
    /// newest energy sample, so a replay's today is its position's. None before any sample.
    pub fn day_start_ms(&self) -> Option<i64> {
        let latest = self.account.as_ref()?.latest_ms()?;
        Some(match &self.tariff {
            Some(tariff) => tariff.day_start_ms(latest),
            None => plant_twin_core::energy::tariff::day_start_ms(latest, 0),
        })
    }

    /// Today's hours of plant energy (start ms, kWh); empty before any sample.
    pub fn today_hours(&self) -> Vec<(i64, f64)> {
        let (Some(account), Some(day)) = (&self.account, self.day_start_ms()) else {
            return Vec::new();
        };
        account
            .hourly
            .iter()
            .copied()
            .filter(|(hour, _)| *hour >= day)
            .collect()
    }

    /// Prices and carbon intensities received live (the tariff's feeds), if any account runs.
    pub fn live(&self) -> Option<&plant_twin_core::energy::tariff::LiveMarket> {
        self.account.as_ref().map(|a| &a.market)
    }

    /// The shift in force at the newest energy sample and when it started; None without
    /// shifts in the tariff.
    pub fn shift(&self) -> Option<(&plant_twin_core::energy::tariff::Shift, i64)> {
        let latest = self.account.as_ref()?.latest_ms()?;
        self.tariff.as_ref()?.shift_at(latest)
    }
}

fn restart_for_layout(mut energy: ResMut<PlantEnergy>, document: Res<PlantDocument>) {
    let account = EnergyAccount::new(&document.layout, AccountConfig::default());
    energy.account = account.has_energy_signals().then_some(account);
    energy.restarted_ms = None;
}

fn account_samples(
    mut energy: ResMut<PlantEnergy>,
    samples: Option<Res<FrameSamples>>,
    market: Option<Res<FrameMarket>>,
    document: Res<PlantDocument>,
) {
    let energy = &mut *energy;
    let Some(account) = energy.account.as_mut() else {
        return;
    };
    let samples = samples.as_ref().map_or(&[][..], |s| s.0.as_slice());
    // A replay that jumps back in time replays what it already showed: the account starts
    // over from there rather than refusing every sample as out of order.
    let first = samples.iter().map(|s| s.time_ms).min().unwrap_or(i64::MAX);
    let limit_ms = (AccountConfig::default().max_gap_s * 1000.0) as i64;
    if account
        .latest_ms()
        .is_some_and(|latest| first < latest - limit_ms)
    {
        *account = EnergyAccount::new(&document.layout, AccountConfig::default());
        energy.restarted_ms = Some(first);
    }
    // Prices are not samples: they go to the account's hourly prices, after a restart.
    for value in market.iter().flat_map(|m| m.0.iter()) {
        account.add_market(value);
    }
    if samples.is_empty() {
        return;
    }
    let mut latest = i64::MIN;
    for sample in samples {
        account.add(sample);
        latest = latest.max(sample.time_ms);
    }
    account.forecast_demand(latest);
}
