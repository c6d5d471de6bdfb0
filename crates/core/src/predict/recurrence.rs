//! What is usual at this time of day and week. Plants and the systems around them run on
//! calendars: a nightly clean-in-place, a backup at 02:00, a shift change, a weekly
//! changeover. Such an event deviates from the running normal every time, and an alarm on each
//! of them is a nuisance alarm (ISA-18.2 would rationalise it away). So where the score at
//! about the same time yesterday or a week ago (within half an hour) was high enough to alarm
//! itself, a deviation raises an alarm only by what it exceeds that one; a deviation already
//! raised is held on its own score, so a standing fault never clears by lasting a day. Lower
//! scores then (a part's everyday noise) take nothing off: sensitivity stays as it was.
//!
//! The memory is the largest score of each quarter hour over the last week: 675 bytes for a
//! part once it scored high enough to alarm (a quarter hour not written since is taken as
//! quiet, so the scores below that level need not be written at all). The periods are the
//! calendar's, not fitted to any data.

/// A calendar day, seconds.
pub const DAY_S: f64 = 86_400.0;
/// A calendar week, seconds.
pub const WEEK_S: f64 = 7.0 * DAY_S;
/// Width of one remembered slot, seconds.
const SLOT_S: f64 = 900.0;
/// How many slots either side of the same time count as "the same time": 2 of 15 minutes, so
/// an event that drifts by up to half an hour from day to day still matches.
const TOLERANCE_SLOTS: i64 = 2;
/// Slots kept: a week and the tolerance either side of it.
const SLOTS: usize = (WEEK_S / SLOT_S) as usize + 2 * TOLERANCE_SLOTS as usize + 1;

/// The largest score of each quarter hour of the last week, quantised to 1/255.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recurrence {
    /// Empty until the first score; then [`SLOTS`] entries, slot `n` at index `n % SLOTS`.
    slots: Vec<u8>,
    /// The newest slot written (its number since the epoch).
    newest: Option<i64>,
}

fn slot_of(time_s: f64) -> i64 {
    (time_s / SLOT_S).floor() as i64
}

impl Recurrence {
    /// Remembers `score` (0..1) at `time_s`. Time running backwards (a replay seek) starts the
    /// memory afresh: what was remembered is of another time line.
    pub fn observe(&mut self, time_s: f64, score: f64) {
        if !time_s.is_finite() {
            return;
        }
        let slot = slot_of(time_s);
        if self.slots.is_empty() {
            self.slots = vec![0; SLOTS];
        }
        match self.newest {
            Some(newest) if slot < newest => {
                self.slots.fill(0);
                self.newest = Some(slot);
            }
            Some(newest) => {
                // Slots passed over since the newest are a new day's: they start empty.
                for passed in (newest + 1)..=slot.min(newest + SLOTS as i64) {
                    self.slots[passed.rem_euclid(SLOTS as i64) as usize] = 0;
                }
                self.newest = Some(slot);
            }
            None => self.newest = Some(slot),
        }
        let quantised = (score.clamp(0.0, 1.0) * 255.0).round() as u8;
        let kept = &mut self.slots[slot.rem_euclid(SLOTS as i64) as usize];
        *kept = (*kept).max(quantised);
    }

    /// The largest score seen at about this time (within the tolerance) a day and a week
    /// before `time_s`, and how long ago that was (seconds); None when nothing of it is
    /// remembered.
    pub fn usual_at(&self, time_s: f64) -> Option<(f64, f64)> {
        let newest = self.newest?;
        let oldest = newest - SLOTS as i64 + 1;
        let mut best: Option<(f64, f64)> = None;
        for period_s in [DAY_S, WEEK_S] {
            let centre = slot_of(time_s - period_s);
            for slot in (centre - TOLERANCE_SLOTS)..=(centre + TOLERANCE_SLOTS) {
                if slot < oldest || slot > newest {
                    continue;
                }
                let score = f64::from(self.slots[slot.rem_euclid(SLOTS as i64) as usize]) / 255.0;
                if best.is_none_or(|(b, _)| score > b) {
                    best = Some((score, period_s));
                }
            }
        }
        best.filter(|(score, _)| *score > 0.0)
    }

    /// `score` at `time_s`, less the usual one then where that reached `at_least` itself (it
    /// would have raised or held an alarm then too): the score that may raise an alarm.
    pub fn beyond_usual(&self, time_s: f64, score: f64, at_least: f64) -> f64 {
        match self.usual_at(time_s) {
            Some((usual, _)) if usual >= at_least => (score - usual).max(0.0),
            _ => score,
        }
    }

    /// Bytes this memory holds.
    pub fn bytes(&self) -> usize {
        self.slots.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A day of scores every 5 minutes: 0.1, and `events` (minute of the day, score).
    fn day(recurrence: &mut Recurrence, day: f64, events: &[(u32, f64)]) {
        for minute in (0..1440).step_by(5) {
            let t = day * DAY_S + f64::from(minute) * 60.0;
            let score = events
                .iter()
                .find(|(m, _)| *m == minute)
                .map_or(0.1, |(_, s)| *s);
            recurrence.observe(t, score);
        }
    }

    /// A quiet signal with a spike of `height` at 02:00.
    fn day_with_spike(recurrence: &mut Recurrence, d: f64, height: f64) {
        day(recurrence, d, &[(120, height)]);
    }

    #[test]
    fn a_spike_at_the_same_time_every_day_is_usual_from_the_second_day() {
        let mut recurrence = Recurrence::default();
        let two_am = 2.0 * 3600.0;
        assert_eq!(
            recurrence.beyond_usual(two_am, 0.9, 0.0),
            0.9,
            "nothing remembered"
        );
        day_with_spike(&mut recurrence, 0.0, 0.9);
        // The next day at 02:00, and 20 minutes late: usual. At noon: not.
        assert!(recurrence.beyond_usual(DAY_S + two_am, 0.9, 0.0) < 0.01);
        assert!(recurrence.beyond_usual(DAY_S + two_am + 1200.0, 0.9, 0.0) < 0.01);
        // Only a usual score that would have alarmed itself is taken off: everyday noise is not.
        assert_eq!(
            recurrence.beyond_usual(DAY_S + 12.0 * 3600.0, 0.9, 0.45),
            0.9
        );
        assert_eq!(recurrence.beyond_usual(DAY_S + two_am, 0.9, 0.45), 0.0);
        let noon = recurrence.beyond_usual(DAY_S + 12.0 * 3600.0, 0.9, 0.0);
        assert!((noon - 0.8).abs() < 0.01, "{noon}");
        // A bigger deviation at the usual time raises by what it exceeds.
        let bigger = recurrence.beyond_usual(DAY_S + two_am, 1.0, 0.0);
        assert!((bigger - 0.1).abs() < 0.01, "{bigger}");
        assert_eq!(
            recurrence.usual_at(DAY_S + two_am).map(|(_, ago)| ago),
            Some(DAY_S)
        );
    }

    #[test]
    fn a_weekly_event_is_remembered_for_a_week_and_old_days_are_forgotten() {
        let mut recurrence = Recurrence::default();
        let monday_six = 6.0 * 3600.0;
        day(&mut recurrence, 0.0, &[(360, 0.8)]);
        // Six quiet days later: yesterday was quiet, last week's 06:00 is remembered.
        for d in 1..7 {
            day(&mut recurrence, f64::from(d), &[]);
        }
        let next_monday = WEEK_S + monday_six;
        assert_eq!(
            recurrence
                .usual_at(next_monday)
                .map(|(s, ago)| ((s * 100.0).round(), ago)),
            Some((80.0, WEEK_S))
        );
        // Two quiet weeks on, the event is forgotten.
        for d in 7..15 {
            day(&mut recurrence, f64::from(d), &[]);
        }
        let later = 2.0 * WEEK_S + monday_six;
        assert!(recurrence.beyond_usual(later, 0.8, 0.0) > 0.65);
    }

    #[test]
    fn a_gap_in_the_data_clears_what_it_passed_over_and_a_seek_back_starts_afresh() {
        let mut recurrence = Recurrence::default();
        recurrence.observe(3600.0, 0.9);
        // Ten days without data: nothing from before the gap is "yesterday".
        recurrence.observe(10.0 * DAY_S, 0.1);
        assert!(recurrence.beyond_usual(11.0 * DAY_S + 3600.0, 0.9, 0.0) > 0.85);
        assert_eq!(recurrence.usual_at(DAY_S + 3600.0), None);
        // A replay seeks back: the memory starts again from there.
        recurrence.observe(3600.0, 0.2);
        assert_eq!(
            recurrence.usual_at(DAY_S + 3600.0).map(|(_, a)| a),
            Some(DAY_S)
        );
        assert!(recurrence.beyond_usual(10.0 * DAY_S + DAY_S, 0.5, 0.0) > 0.49);
        assert_eq!(recurrence.bytes(), SLOTS);
    }
}
