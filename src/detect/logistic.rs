//! L2-regularised logistic regression over sparse features, fitted by L-BFGS, and Platt
//! calibration of its scores.
//!
//! The decision layer has a few thousand candidates and tens of thousands of sparse,
//! mostly binary features. The Rust crates that fit logistic regressions (linfa-logistic,
//! smartcore) take dense matrices, which at this size would cost hundreds of megabytes
//! for a fit that needs a few; so the optimiser is written here: a deterministic L-BFGS
//! (two-loop recursion, ten corrections, backtracking Armijo line search) on the mean
//! log-loss plus `l2/2 · |w|²` (the bias is not penalised).
//!
//! Everything is deterministic: the same examples in the same order give the same weights.

/// One training example: sparse features `(index, value)`, a label, and a weight.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub features: Vec<(u32, f64)>,
    pub label: bool,
    pub weight: f64,
}

/// How to fit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FitSettings {
    /// L2 penalty per unit of total example weight.
    pub l2: f64,
    /// Most L-BFGS iterations.
    pub max_iterations: usize,
    /// Stop when the gradient's largest component is below this.
    pub tolerance: f64,
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            l2: 0.05,
            max_iterations: 300,
            tolerance: 1e-6,
        }
    }
}

/// A fitted model: `p = σ(bias + Σ wᵢ·xᵢ)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    pub bias: f64,
    pub weights: Vec<f64>,
}

/// The logistic function, safe for any input.
pub fn sigmoid(z: f64) -> f64 {
    if z >= 0.0 {
        1.0 / (1.0 + (-z).exp())
    } else {
        let e = z.exp();
        e / (1.0 + e)
    }
}

/// `ln(1 + eᶻ)` without overflow.
fn softplus(z: f64) -> f64 {
    if z > 30.0 {
        z
    } else if z < -30.0 {
        z.exp()
    } else {
        z.exp().ln_1p()
    }
}

impl Logistic {
    /// The score (log-odds) of sparse features.
    pub fn logit(&self, features: &[(u32, f64)]) -> f64 {
        self.bias
            + features
                .iter()
                .filter_map(|&(i, x)| self.weights.get(i as usize).map(|w| w * x))
                .sum::<f64>()
    }

    /// The probability of sparse features.
    pub fn probability(&self, features: &[(u32, f64)]) -> f64 {
        sigmoid(self.logit(features))
    }
}

/// The objective and its gradient at `theta` = [bias, w₀, w₁, …].
fn objective(examples: &[Example], l2: f64, theta: &[f64], grad: &mut [f64]) -> f64 {
    grad.iter_mut().for_each(|g| *g = 0.0);
    let total: f64 = examples
        .iter()
        .map(|e| e.weight)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let mut loss = 0.0;
    for e in examples {
        let z = theta[0]
            + e.features
                .iter()
                .map(|&(i, x)| theta[i as usize + 1] * x)
                .sum::<f64>();
        // log-loss of σ(z) against the label: softplus(z) − y·z
        let y = if e.label { 1.0 } else { 0.0 };
        loss += e.weight * (softplus(z) - y * z);
        let r = e.weight * (sigmoid(z) - y);
        grad[0] += r;
        for &(i, x) in &e.features {
            grad[i as usize + 1] += r * x;
        }
    }
    loss /= total;
    grad.iter_mut().for_each(|g| *g /= total);
    let mut penalty = 0.0;
    for (g, w) in grad.iter_mut().zip(theta).skip(1) {
        penalty += w * w;
        *g += l2 * w;
    }
    loss + 0.5 * l2 * penalty
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Fits a model over features `0..n_features`. Feature indices at or above `n_features`
/// are ignored.
pub fn fit(examples: &[Example], n_features: usize, settings: FitSettings) -> Logistic {
    let examples: Vec<Example> = examples
        .iter()
        .map(|e| Example {
            features: e
                .features
                .iter()
                .copied()
                .filter(|&(i, _)| (i as usize) < n_features)
                .collect(),
            label: e.label,
            weight: e.weight,
        })
        .collect();
    let n = n_features + 1;
    let mut theta = vec![0.0; n];
    let mut grad = vec![0.0; n];
    let mut f = objective(&examples, settings.l2, &theta, &mut grad);
    const MEMORY: usize = 10;
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut new_grad = vec![0.0; n];
    for _ in 0..settings.max_iterations {
        if grad.iter().fold(0.0f64, |m, g| m.max(g.abs())) < settings.tolerance {
            break;
        }
        // Two-loop recursion: direction = −H·grad.
        let mut q = grad.clone();
        let mut alphas = Vec::with_capacity(s_hist.len());
        for (s, y) in s_hist.iter().zip(&y_hist).rev() {
            let rho = 1.0 / dot(y, s);
            let a = rho * dot(s, &q);
            q.iter_mut().zip(y).for_each(|(qi, yi)| *qi -= a * yi);
            alphas.push((a, rho));
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|qi| *qi *= gamma);
        }
        for ((s, y), (a, rho)) in s_hist.iter().zip(&y_hist).zip(alphas.into_iter().rev()) {
            let b = rho * dot(y, &q);
            q.iter_mut().zip(s).for_each(|(qi, si)| *qi += (a - b) * si);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&direction, &grad);
        if slope >= 0.0 {
            // Not a descent direction (numerical trouble): fall back to steepest descent.
            direction = grad.iter().map(|g| -g).collect();
            slope = dot(&direction, &grad);
            s_hist.clear();
            y_hist.clear();
        }
        // Backtracking line search (Armijo).
        let mut step = if s_hist.is_empty() {
            1.0 / grad.iter().map(|g| g * g).sum::<f64>().sqrt().max(1.0)
        } else {
            1.0
        };
        let mut candidate = vec![0.0; n];
        let mut accepted = false;
        for _ in 0..40 {
            for ((c, t), d) in candidate.iter_mut().zip(&theta).zip(&direction) {
                *c = t + step * d;
            }
            let f_new = objective(&examples, settings.l2, &candidate, &mut new_grad);
            if f_new <= f + 1e-4 * step * slope {
                let s: Vec<f64> = candidate.iter().zip(&theta).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = new_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
                if dot(&s, &y) > 1e-12 {
                    s_hist.push(s);
                    y_hist.push(y);
                    if s_hist.len() > MEMORY {
                        s_hist.remove(0);
                        y_hist.remove(0);
                    }
                }
                std::mem::swap(&mut theta, &mut candidate);
                std::mem::swap(&mut grad, &mut new_grad);
                let improvement = f - f_new;
                f = f_new;
                accepted = true;
                if improvement.abs() < 1e-12 {
                    return Logistic {
                        bias: theta[0],
                        weights: theta[1..].to_vec(),
                    };
                }
                break;
            }
            step *= 0.5;
        }
        if !accepted {
            break;
        }
    }
    Logistic {
        bias: theta[0],
        weights: theta[1..].to_vec(),
    }
}

/// Platt scaling: `p = σ(a·score + b)`, fitted on held-out scores so that a stated
/// probability matches the share of candidates that turn out right.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Platt {
    pub a: f64,
    pub b: f64,
}

impl Platt {
    /// The identity on probabilities: `σ(score)`.
    pub const IDENTITY: Platt = Platt { a: 1.0, b: 0.0 };

    /// Fits `a` and `b` on (score, correct) pairs, with Platt's smoothed targets (which
    /// keep a perfectly separated set from giving infinite slopes).
    pub fn fit(scored: &[(f64, bool)]) -> Platt {
        let positives = scored.iter().filter(|(_, y)| *y).count() as f64;
        let negatives = scored.len() as f64 - positives;
        if positives == 0.0 || negatives == 0.0 {
            return Platt::IDENTITY;
        }
        let hi = (positives + 1.0) / (positives + 2.0);
        let lo = 1.0 / (negatives + 2.0);
        // Each pair becomes two weighted examples, one of each label, so the targets
        // can be fractional.
        let mut examples = Vec::with_capacity(scored.len() * 2);
        for &(score, y) in scored {
            let t = if y { hi } else { lo };
            examples.push(Example {
                features: vec![(0, score)],
                label: true,
                weight: t,
            });
            examples.push(Example {
                features: vec![(0, score)],
                label: false,
                weight: 1.0 - t,
            });
        }
        let m = fit(
            &examples,
            1,
            FitSettings {
                l2: 0.0,
                max_iterations: 200,
                tolerance: 1e-9,
            },
        );
        if m.weights[0] > 0.0 {
            return Platt {
                a: m.weights[0],
                b: m.bias,
            };
        }
        // Scores that rank the held-out candidates no better than chance (or upside
        // down) say nothing: every candidate gets the smoothed share that was right.
        let share = scored
            .iter()
            .map(|&(_, y)| if y { hi } else { lo })
            .sum::<f64>()
            / scored.len() as f64;
        Platt {
            a: 0.0,
            b: (share / (1.0 - share)).ln(),
        }
    }

    /// The calibrated probability of a score (log-odds).
    pub fn probability(&self, score: f64) -> f64 {
        sigmoid(self.a * score + self.b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ex(features: &[(u32, f64)], label: bool) -> Example {
        Example {
            features: features.to_vec(),
            label,
            weight: 1.0,
        }
    }

    #[test]
    fn the_gradient_matches_finite_differences() {
        let examples = vec![
            ex(&[(0, 1.0), (2, 0.5)], true),
            ex(&[(1, 1.0)], false),
            ex(&[(0, 1.0), (1, 2.0)], true),
            ex(&[(2, 1.0)], false),
        ];
        let theta = [0.1, -0.3, 0.7, 0.2];
        let mut grad = [0.0; 4];
        objective(&examples, 0.1, &theta, &mut grad);
        for i in 0..4 {
            let h = 1e-6;
            let mut up = theta;
            up[i] += h;
            let mut down = theta;
            down[i] -= h;
            let mut scratch = [0.0; 4];
            let numeric = (objective(&examples, 0.1, &up, &mut scratch)
                - objective(&examples, 0.1, &down, &mut scratch))
                / (2.0 * h);
            assert!(
                (numeric - grad[i]).abs() < 1e-6,
                "{i}: {numeric} vs {}",
                grad[i]
            );
        }
    }

    #[test]
    fn a_bias_alone_learns_the_base_rate() {
        // With no features the optimum is the log-odds of the positive share: 3 in 4.
        let examples = vec![ex(&[], true), ex(&[], true), ex(&[], true), ex(&[], false)];
        let m = fit(&examples, 0, FitSettings::default());
        assert!((m.bias - 3f64.ln()).abs() < 1e-4, "{}", m.bias);
    }

    #[test]
    fn informative_features_get_the_right_signs_and_the_penalty_shrinks_them() {
        // Feature 0 marks positives, feature 1 negatives, feature 2 is noise.
        let mut examples = Vec::new();
        for i in 0..40 {
            let noise = if i % 2 == 0 { vec![(2, 1.0)] } else { vec![] };
            let mut pos = vec![(0, 1.0)];
            pos.extend(noise.iter().copied());
            examples.push(ex(&pos, i % 10 != 0));
            let mut neg = vec![(1, 1.0)];
            neg.extend(noise);
            examples.push(ex(&neg, i % 10 == 0));
        }
        let weak = fit(&examples, 3, FitSettings::default());
        assert!(weak.weights[0] > 0.5 && weak.weights[1] < -0.5, "{weak:?}");
        assert!(weak.weights[2].abs() < 0.1, "{weak:?}");
        let strong = fit(
            &examples,
            3,
            FitSettings {
                l2: 1.0,
                ..FitSettings::default()
            },
        );
        assert!(strong.weights[0].abs() < weak.weights[0].abs());
        // Probabilities follow: a positive-marked example is likely, a negative one not.
        assert!(weak.probability(&[(0, 1.0)]) > 0.7);
        assert!(weak.probability(&[(1, 1.0)]) < 0.3);
        // The same data gives the same model.
        assert_eq!(weak, fit(&examples, 3, FitSettings::default()));
    }

    #[test]
    fn separable_data_stays_finite_under_the_penalty() {
        let examples = vec![ex(&[(0, 1.0)], true), ex(&[(1, 1.0)], false)];
        let m = fit(&examples, 2, FitSettings::default());
        assert!(m.weights.iter().all(|w| w.is_finite()) && m.bias.is_finite());
        assert!(m.probability(&[(0, 1.0)]) > 0.5);
    }

    #[test]
    fn platt_scaling_corrects_overconfident_scores() {
        // Scores of 4 (σ = 0.98) that are right only 60% of the time, and scores of −4
        // that are right 10% of the time.
        let mut scored = Vec::new();
        for i in 0..100 {
            scored.push((4.0, i % 10 < 6));
            scored.push((-4.0, i % 10 == 0));
        }
        let p = Platt::fit(&scored);
        assert!((p.probability(4.0) - 0.6).abs() < 0.02, "{p:?}");
        assert!((p.probability(-4.0) - 0.1).abs() < 0.02, "{p:?}");
        assert_eq!(Platt::fit(&[(1.0, true)]), Platt::IDENTITY);
    }

    #[test]
    fn scores_ranked_upside_down_give_every_candidate_the_share_that_was_right() {
        // Higher scores are wrong more often: the fit would turn them upside down.
        let mut scored = Vec::new();
        for i in 0..100 {
            scored.push((1.0, i % 10 < 7));
            scored.push((-1.0, i % 10 < 9));
        }
        let p = Platt::fit(&scored);
        assert_eq!(p.a, 0.0, "{p:?}");
        assert!((p.probability(1.0) - 0.8).abs() < 0.01, "{p:?}");
        assert_eq!(p.probability(1.0), p.probability(-1.0));
    }

    #[test]
    fn sigmoid_is_safe_at_the_extremes() {
        assert_eq!(sigmoid(1000.0), 1.0);
        assert_eq!(sigmoid(-1000.0), 0.0);
        assert!((sigmoid(0.0) - 0.5).abs() < 1e-12);
        assert!((softplus(1000.0) - 1000.0).abs() < 1e-9);
    }
}
