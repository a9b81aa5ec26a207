import Foundation

/// Aggregations of few-shot per-document scores, each with its standard error where one exists.
public enum FewShotStatistics {
  /// Mean and its closed-form standard error s/√n with the sample standard deviation (ddof 1), as lm-eval's
  /// `mean_stderr`; nil stderr for fewer than two values.
  public static func mean(_ values: [Double]) -> (value: Double, stderr: Double?) {
    let n = Double(values.count)
    guard !values.isEmpty else { return (.nan, nil) }
    let mean = values.reduce(0, +) / n
    guard values.count >= 2 else { return (mean, nil) }
    let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
    return (mean, (variance / n).squareRoot())
  }

  /// The unbiased pass@k estimator of Chen et al. (2021) for one problem with n candidates of which c are correct:
  /// pass@k = 1 − C(n−c, k) / C(n, k), computed as 1 − Π_{i=n−c+1..n} (1 − k/i) to avoid large binomials.
  public static func passAtK(n: Int, correct c: Int, k: Int) -> Double {
    precondition(k >= 1 && k <= n && c >= 0 && c <= n)
    if c == 0 { return 0 }
    if n - c < k { return 1 }
    var product = 1.0
    for i in (n - c + 1)...n { product *= 1 - Double(k) / Double(i) }
    return 1 - product
  }

  /// lm-eval's `perplexity` aggregation: exp(−mean log-likelihood) over documents.
  public static func perplexity(logLikelihoods: [Double]) -> Double {
    exp(-logLikelihoods.reduce(0, +) / Double(logLikelihoods.count))
  }

  /// Bootstrap standard error of `statistic` over `values`: the sample standard deviation (ddof 1) of the
  /// statistic on `iterations` resamples with replacement drawn from `rng` (lm-eval's `bootstrap_stderr`; a seeded
  /// generator makes a report reproducible). nil for fewer than two values.
  public static func bootstrapStderr<G: RandomNumberGenerator>(
    _ values: [Double], iterations: Int = 1000, using rng: inout G, statistic: ([Double]) -> Double
  ) -> Double? {
    guard values.count >= 2, iterations >= 2 else { return nil }
    var sample = [Double](repeating: 0, count: values.count)
    var stats: [Double] = []
    stats.reserveCapacity(iterations)
    for _ in 0..<iterations {
      for i in sample.indices { sample[i] = values[Int.random(in: 0..<values.count, using: &rng)] }
      stats.append(statistic(sample))
    }
    return mean(stats).stderr.map { $0 * Double(iterations).squareRoot() }
  }

  /// Index of the largest value (the first on ties, as numpy's argmax).
  public static func argmax(_ values: [Double]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
  }
}
