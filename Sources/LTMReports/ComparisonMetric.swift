import Foundation

/// Which way a metric improves. A property of the metric, not of the comparison: perplexities (and their bounds)
/// improve downwards, MAUVE and accuracies upwards, so a delta is judged the same way everywhere it is shown.
public enum MetricDirection: String, Sendable, Codable {
  case lowerIsBetter = "lower is better"
  case higherIsBetter = "higher is better"

  /// How much worse `current` is than `baseline`, relative to the baseline: > 0 worse, < 0 better.
  public func relativeWorsening(current: Double, baseline: Double) -> Double {
    let relative = relativeChange(current: current, baseline: baseline)
    return self == .lowerIsBetter ? relative : -relative
  }
}

/// (current − baseline) / |baseline|; ±∞ when a zero baseline changed, NaN when either value is not finite.
public func relativeChange(current: Double, baseline: Double) -> Double {
  guard current.isFinite, baseline.isFinite else { return .nan }
  if baseline == 0 { return current == 0 ? 0 : (current > 0 ? .infinity : -.infinity) }
  return (current - baseline) / abs(baseline)
}

/// A number `ltm-bench compare` can compare between two results, with the direction that counts as better.
public struct ComparisonMetric: Sendable {
  public var name: String
  public var direction: MetricDirection
  /// A perplexity inherits its result's bound type: printed with "≤" when the result is an upper bound.
  public var isPerplexity: Bool
  public var value: @Sendable (ResultEntry) -> Double?

  public init(name: String, direction: MetricDirection, isPerplexity: Bool, value: @escaping @Sendable (ResultEntry) -> Double?) {
    self.name = name
    self.direction = direction
    self.isPerplexity = isPerplexity
    self.value = value
  }

  public static let ppl = ComparisonMetric(name: "ppl", direction: .lowerIsBetter, isPerplexity: true) { $0.ppl }
  public static let pplTokenWeighted = ComparisonMetric(name: "ppl_token_weighted", direction: .lowerIsBetter, isPerplexity: true) { $0.pplTokenWeighted }
  public static let pplBlockMean = ComparisonMetric(name: "ppl_block_mean", direction: .lowerIsBetter, isPerplexity: true) { $0.pplBlockMean }
  /// The LTM bound re-estimated with fresh noise (absent for GPT-2).
  public static let freshPPL = ComparisonMetric(name: "fresh_ppl", direction: .lowerIsBetter, isPerplexity: true) { $0.freshBound?.ppl }

  /// Every metric results.json carries today. MAUVE and accuracies join with `.higherIsBetter` when their
  /// commands write them.
  public static let catalog: [ComparisonMetric] = [ppl, pplTokenWeighted, pplBlockMean, freshPPL]

  /// Resolves `--metric` values: names from the catalog, comma-separated, or `all`.
  public static func named(_ names: [String]) throws -> [ComparisonMetric] {
    let wanted = names.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
    if wanted == ["all"] { return catalog }
    var out: [ComparisonMetric] = []
    for name in wanted {
      guard let metric = catalog.first(where: { $0.name == name }) else {
        throw ReportError.invalid("unknown metric '\(name)' (known: \(catalog.map(\.name).joined(separator: ", ")), all)")
      }
      if !out.contains(where: { $0.name == name }) { out.append(metric) }
    }
    guard !out.isEmpty else { throw ReportError.invalid("no metric given: pass --metric ppl (or all)") }
    return out
  }
}

/// Where a result's tolerance came from. The precedence, most specific first: the baseline result's own
/// `tolerance`, the baseline file's `default_tolerance`, `--tolerance`, then `builtIn`.
public enum ToleranceSource: String, Sendable {
  case baselineEntry = "baseline entry"
  case baselineDefault = "baseline default"
  case commandLine = "--tolerance"
  case builtIn = "built-in"

  /// 1e-4 relative: tight enough to catch a real change, loose enough for thread-count rounding.
  public static let builtInTolerance = 1e-4

  /// The relative tolerance for one baseline result, and where it came from.
  public static func resolve(entry: ResultEntry, baseline: ResultsDocument, commandLine: Double?) -> (Double, ToleranceSource) {
    if let t = entry.tolerance { return (t, .baselineEntry) }
    if let t = baseline.defaultTolerance { return (t, .baselineDefault) }
    if let t = commandLine { return (t, .commandLine) }
    return (builtInTolerance, .builtIn)
  }
}
