//! A small feed-forward network (one hidden layer of rectified units, one linear output)
//! trained by plain stochastic gradient descent: the fusion inside the learned health
//! indicator (`predict::degradation`). Deterministic: the same examples and seed give the same
//! weights on every machine, so a model file can be rebuilt and checked.

use serde::{Deserialize, Serialize};

use crate::rng::Rng;

/// How a network is trained.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Training {
    pub hidden: usize,
    pub epochs: usize,
    /// Step size at the start; it falls linearly to a twentieth by the last epoch.
    pub learning_rate: f64,
    pub seed: u64,
}

/// One hidden layer, one output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Net {
    /// Per hidden unit: its input weights, then its bias last.
    hidden: Vec<Vec<f64>>,
    /// Per hidden unit's output, then the output bias last.
    output: Vec<f64>,
}

impl Net {
    /// Inputs the network reads.
    pub fn inputs(&self) -> usize {
        self.hidden.first().map_or(0, |unit| unit.len() - 1)
    }

    /// The output for `x` (`x.len()` must be [`Net::inputs`]; extra inputs are ignored, missing
    /// ones read as 0).
    pub fn run(&self, x: &[f64]) -> f64 {
        let mut out = self.output.last().copied().unwrap_or(0.0);
        for (unit, w) in self.hidden.iter().zip(&self.output) {
            let (bias, weights) = unit.split_last().unwrap_or((&0.0, &[]));
            let a = bias + weights.iter().zip(x).map(|(w, x)| w * x).sum::<f64>();
            out += w * a.max(0.0);
        }
        out
    }

    /// Trains one network on `(inputs, target)` examples, `rng` drawing the initial weights
    /// and the order of each epoch. Targets are expected in about [0, 1]: each example's error
    /// is clipped to ±1, so a few extreme inputs cannot blow the weights up.
    fn train(examples: &[(Vec<f64>, f64)], training: &Training, rng: &mut Rng) -> Net {
        let inputs = examples.first().map_or(0, |e| e.0.len());
        let hidden_scale = (2.0 / inputs.max(1) as f64).sqrt();
        let output_scale = (1.0 / training.hidden.max(1) as f64).sqrt();
        let mut net = Net {
            hidden: (0..training.hidden)
                .map(|_| {
                    let mut unit: Vec<f64> =
                        (0..inputs).map(|_| rng.normal() * hidden_scale).collect();
                    unit.push(0.0);
                    unit
                })
                .collect(),
            output: (0..training.hidden)
                .map(|_| rng.normal() * output_scale)
                .chain(std::iter::once(0.5))
                .collect(),
        };
        let mut order: Vec<usize> = (0..examples.len()).collect();
        let mut activations = vec![0.0; training.hidden];
        for epoch in 0..training.epochs {
            let rate =
                training.learning_rate * (1.0 - epoch as f64 / training.epochs as f64).max(0.05);
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for &i in &order {
                let (x, target) = &examples[i];
                let mut out = net.output[training.hidden];
                for ((unit, w), a) in net.hidden.iter().zip(&net.output).zip(&mut activations) {
                    let (bias, weights) = unit.split_last().unwrap_or((&0.0, &[]));
                    *a = (bias + weights.iter().zip(x).map(|(w, x)| w * x).sum::<f64>()).max(0.0);
                    out += w * *a;
                }
                let error = (out - target).clamp(-1.0, 1.0);
                for ((unit, w), a) in net.hidden.iter_mut().zip(&mut net.output).zip(&activations) {
                    if *a > 0.0 {
                        let back = error * *w;
                        if let Some((bias, weights)) = unit.split_last_mut() {
                            for (w, x) in weights.iter_mut().zip(x) {
                                *w -= rate * back * x;
                            }
                            *bias -= rate * back;
                        }
                    }
                    *w -= rate * error * a;
                }
                net.output[training.hidden] -= rate * error;
            }
        }
        net
    }
}

/// Networks trained alike from one seed, their outputs averaged: one small network's result
/// depends on its initial weights by more than a model should (on C-MAPSS FD001 single
/// networks differed by 1.3 cycles RMSE between seeds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ensemble {
    nets: Vec<Net>,
}

impl Ensemble {
    pub fn train(examples: &[(Vec<f64>, f64)], training: &Training, members: usize) -> Ensemble {
        let mut rng = Rng(training.seed);
        Ensemble {
            nets: (0..members)
                .map(|_| Net::train(examples, training, &mut rng))
                .collect(),
        }
    }

    pub fn run(&self, x: &[f64]) -> f64 {
        self.nets.iter().map(|net| net.run(x)).sum::<f64>() / self.nets.len().max(1) as f64
    }

    /// Inputs every member reads; None for an empty or inconsistent ensemble.
    pub fn inputs(&self) -> Option<usize> {
        let first = self.nets.first()?.inputs();
        self.nets
            .iter()
            .all(|net| net.inputs() == first && net.output.len() == net.hidden.len() + 1)
            .then_some(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRAINING: Training = Training {
        hidden: 16,
        epochs: 40,
        learning_rate: 0.01,
        seed: 3,
    };

    #[test]
    fn learns_a_bend_a_straight_line_cannot() {
        // |x| on [-1, 1]: a line's best fit is flat at 0.5, off by 0.5 at the ends.
        let examples: Vec<(Vec<f64>, f64)> = (0..200)
            .map(|i| {
                let x = f64::from(i) / 100.0 - 1.0;
                (vec![x], x.abs())
            })
            .collect();
        let ensemble = Ensemble::train(&examples, &TRAINING, 3);
        for x in [-0.9, -0.5, 0.0, 0.4, 0.8] {
            let y = ensemble.run(&[x]);
            assert!((y - f64::abs(x)).abs() < 0.08, "|{x}| read {y}");
        }
        assert_eq!(ensemble.inputs(), Some(1));
    }

    #[test]
    fn the_same_seed_gives_the_same_weights_and_wild_inputs_do_not_diverge() {
        let examples: Vec<(Vec<f64>, f64)> = (0..100)
            .map(|i| {
                let x = f64::from(i);
                (vec![x, -x], if i > 50 { 1.0 } else { 0.0 })
            })
            .collect();
        let a = Ensemble::train(&examples, &TRAINING, 2);
        let b = Ensemble::train(&examples, &TRAINING, 2);
        assert_eq!(a, b);
        assert!(examples.iter().all(|(x, _)| a.run(x).is_finite()));
    }
}
