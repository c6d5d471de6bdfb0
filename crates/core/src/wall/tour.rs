//! The wall display's camera tour, without Bevy: cycle through stops (lines, zones) with a
//! dwell time; when an asset enters alarm, jump to it for a while, then resume where the tour
//! was. Times are seconds of any monotonic clock.

/// Where the camera should look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TourTarget {
    /// A tour stop, by index.
    Stop(usize),
    /// An asset that entered alarm, by layout position.
    Asset(u32),
}

#[derive(Debug, Clone)]
pub struct Tour {
    stops: usize,
    dwell_s: f64,
    alarm_dwell_s: f64,
    index: usize,
    /// When the current stop or jump began; None before the first update.
    since_s: Option<f64>,
    /// An alarm jump in progress: (asset, until).
    jump: Option<(u32, f64)>,
    current: Option<TourTarget>,
}

impl Tour {
    pub fn new(stops: usize, dwell_s: f64, alarm_dwell_s: f64) -> Tour {
        Tour {
            stops,
            dwell_s: dwell_s.max(1.0),
            alarm_dwell_s: alarm_dwell_s.max(1.0),
            index: 0,
            since_s: None,
            jump: None,
            current: None,
        }
    }

    /// An asset entered alarm: look at it from now for the alarm dwell (the newest alarm wins).
    pub fn alarm(&mut self, now_s: f64, asset: u32) {
        self.jump = Some((asset, now_s + self.alarm_dwell_s));
    }

    /// What to look at now; Some only when it changed since the last call.
    pub fn update(&mut self, now_s: f64) -> Option<TourTarget> {
        let target = match self.jump {
            Some((asset, until)) if now_s < until => TourTarget::Asset(asset),
            Some(_) => {
                // Back to the tour, at the stop it left, for a full dwell.
                self.jump = None;
                self.since_s = Some(now_s);
                if self.stops == 0 {
                    return self.set(None);
                }
                TourTarget::Stop(self.index)
            }
            None => {
                if self.stops == 0 {
                    return self.set(None);
                }
                let since = *self.since_s.get_or_insert(now_s);
                if now_s - since >= self.dwell_s && self.current.is_some() {
                    self.index = (self.index + 1) % self.stops;
                    self.since_s = Some(now_s);
                }
                TourTarget::Stop(self.index)
            }
        };
        self.set(Some(target))
    }

    fn set(&mut self, target: Option<TourTarget>) -> Option<TourTarget> {
        if target == self.current {
            return None;
        }
        self.current = target;
        target
    }

    /// The target being shown.
    pub fn current(&self) -> Option<TourTarget> {
        self.current
    }

    /// Seconds until the tour moves on (or the jump ends).
    pub fn remaining_s(&self, now_s: f64) -> f64 {
        match self.jump {
            Some((_, until)) => (until - now_s).max(0.0),
            None => self.since_s.map_or(self.dwell_s, |since| {
                (since + self.dwell_s - now_s).max(0.0)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every change over `seconds`, sampled each second.
    fn changes(tour: &mut Tour, from: u32, to: u32) -> Vec<(u32, TourTarget)> {
        (from..to)
            .filter_map(|t| tour.update(t as f64).map(|target| (t, target)))
            .collect()
    }

    #[test]
    fn the_tour_cycles_through_its_stops_with_the_dwell() {
        let mut tour = Tour::new(3, 10.0, 30.0);
        assert_eq!(
            changes(&mut tour, 0, 35),
            vec![
                (0, TourTarget::Stop(0)),
                (10, TourTarget::Stop(1)),
                (20, TourTarget::Stop(2)),
                (30, TourTarget::Stop(0)),
            ]
        );
    }

    #[test]
    fn an_alarm_jumps_to_the_asset_then_the_tour_resumes() {
        let mut tour = Tour::new(3, 10.0, 30.0);
        changes(&mut tour, 0, 15); // at stop 1 since 10
        tour.alarm(15.0, 42);
        assert_eq!(
            changes(&mut tour, 15, 60),
            vec![
                (15, TourTarget::Asset(42)),
                (45, TourTarget::Stop(1)),
                (55, TourTarget::Stop(2))
            ]
        );
    }

    #[test]
    fn a_newer_alarm_takes_over_the_jump() {
        let mut tour = Tour::new(2, 10.0, 30.0);
        tour.update(0.0);
        tour.alarm(1.0, 7);
        assert_eq!(tour.update(1.0), Some(TourTarget::Asset(7)));
        tour.alarm(20.0, 9);
        assert_eq!(tour.update(20.0), Some(TourTarget::Asset(9)));
        assert_eq!(tour.update(49.0), None);
        assert_eq!(tour.update(50.0), Some(TourTarget::Stop(0)));
    }

    #[test]
    fn without_stops_only_alarms_move_the_camera() {
        let mut tour = Tour::new(0, 10.0, 5.0);
        assert_eq!(tour.update(0.0), None);
        tour.alarm(1.0, 3);
        assert_eq!(tour.update(1.0), Some(TourTarget::Asset(3)));
        assert_eq!(tour.update(7.0), None);
        assert_eq!(tour.current(), None);
    }
}
