import Foundation

/// What makes a compare run fail besides problems (missing entries, different protocols): a regression only, or
/// any change beyond tolerance (harness drift checks, where an unexplained improvement is as wrong as a regression).
public enum CompareFailureMode: String, Sendable, CaseIterable {
  case regression
  case change
}

public struct ComparisonOptions: Sendable {
  public var metrics: [ComparisonMetric]
  /// `--tolerance`: used for baseline results that carry no tolerance of their own (see `ToleranceSource`).
  public var tolerance: Double?
  public var failOn: CompareFailureMode
  /// Current model id → baseline model id, to compare a checkpoint against a baseline recorded under another name.
  public var modelMap: [String: String]

  public init(
    metrics: [ComparisonMetric] = [.ppl], tolerance: Double? = nil, failOn: CompareFailureMode = .regression,
    modelMap: [String: String] = [:]
  ) {
    self.metrics = metrics
    self.tolerance = tolerance
    self.failOn = failOn
    self.modelMap = modelMap
  }
}

/// A current results file checked against a baseline: one row per (baseline result, metric), plus every
/// reason the two are not the same comparison. Pure data; `ComparisonFormatter` prints it.
public struct Comparison: Sendable {
  public enum Verdict: String, Sendable {
    /// Within tolerance.
    case within
    case improved
    case regressed
  }

  public struct Row: Sendable {
    public var model: String
    public var task: String
    public var split: String
    public var protocolName: String
    /// Posterior-inference steps (LTM); the scorer settings are equal, or the row would not exist.
    public var inferenceSteps: Int?
    public var bound: String
    public var metric: String
    public var direction: MetricDirection
    public var isPerplexity: Bool
    public var baseline: Double
    public var current: Double
    public var tolerance: Double
    public var toleranceSource: ToleranceSource
    public var verdict: Verdict
    /// Index of the compared entry in the current document's `results`.
    public var currentIndex: Int

    public var delta: Double { current - baseline }
    public var relative: Double { relativeChange(current: current, baseline: baseline) }
  }

  /// Why a baseline result could not be compared.
  public struct Problem: Sendable, Equatable {
    public enum Kind: String, Sendable {
      /// The baseline has it, the current results do not.
      case missing
      /// Protocol, split, blocks, tokens or scorer settings differ: not the same comparison.
      case notComparable
    }
    public var kind: Kind
    public var message: String
  }

  public var rows: [Row] = []
  public var problems: [Problem] = []
  /// Current results with no baseline (new models or tasks): shown, never a failure.
  public var unmatched: [String] = []
  public var failOn: CompareFailureMode

  public func fails(_ row: Row) -> Bool {
    switch row.verdict {
    case .within: return false
    case .regressed: return true
    case .improved: return failOn == .change
    }
  }

  public var failedRows: [Row] { rows.filter(fails) }
  public var passed: Bool { failedRows.isEmpty && problems.isEmpty }

  /// "6 compared: 1 regressed, 0 improved beyond tolerance; 1 missing, 0 not comparable".
  public var summary: String {
    let regressed = rows.filter { $0.verdict == .regressed }.count
    let improved = rows.filter { $0.verdict == .improved }.count
    let missing = problems.filter { $0.kind == .missing }.count
    let other = problems.count - missing
    return "\(rows.count) compared: \(regressed) regressed, \(improved) improved beyond tolerance; \(missing) missing, \(other) not comparable"
  }

  /// The row of the current document's result `index` for `metric`, if it was compared.
  public func row(currentIndex index: Int, metric: String) -> Row? {
    rows.first { $0.currentIndex == index && $0.metric == metric }
  }
}

extension Comparison {
  /// Compares `current` against `baseline`. Results are matched by (model, task); a match must then agree on
  /// protocol, split, inference steps, scorer settings, blocks, scored tokens and the scored tokens' hash,
  /// or it is reported as not comparable.
  public static func compare(current: ResultsDocument, baseline: ResultsDocument, options: ComparisonOptions = ComparisonOptions()) -> Comparison {
    var out = Comparison(failOn: options.failOn)
    if let documentProblem = documentMismatch(current: current, baseline: baseline) {
      out.problems.append(Problem(kind: .notComparable, message: documentProblem))
      return out
    }
    var used = Set<Int>()
    for b in baseline.results {
      let subject = b.subject
      let candidates = current.results.indices.filter {
        let c = current.results[$0]
        return (options.modelMap[c.model] ?? c.model) == b.model && c.task == b.task
      }
      if candidates.isEmpty {
        out.problems.append(Problem(kind: .missing, message: "\(subject): in the baseline but not in the current results"))
        continue
      }
      guard let index = candidates.first(where: { settingsDifferences(current.results[$0], b).isEmpty }) else {
        let closest = candidates.min { settingsDifferences(current.results[$0], b).count < settingsDifferences(current.results[$1], b).count }!
        let diffs = settingsDifferences(current.results[closest], b)
        out.problems.append(Problem(kind: .notComparable, message: "\(subject): \(diffs.joined(separator: "; ")): not the same comparison"))
        continue
      }
      used.insert(index)
      let c = current.results[index]
      let coverage = coverageDifferences(c, b, current: current, baseline: baseline)
      if !coverage.isEmpty {
        out.problems.append(Problem(kind: .notComparable, message: "\(subject): \(coverage.joined(separator: "; ")): not the same comparison"))
        continue
      }
      let (tolerance, source) = ToleranceSource.resolve(entry: b, baseline: baseline, commandLine: options.tolerance)
      for metric in options.metrics {
        switch (metric.value(c), metric.value(b)) {
        case (nil, nil):
          continue
        case (nil, _?):
          out.problems.append(Problem(kind: .missing, message: "\(subject): \(metric.name) is in the baseline but not in the current results"))
        case (_?, nil):
          out.problems.append(Problem(kind: .notComparable, message: "\(subject): \(metric.name) is in the current results but not in the baseline"))
        case (let cv?, let bv?):
          let worse = metric.direction.relativeWorsening(current: cv, baseline: bv)
          let verdict: Verdict = worse.isNaN || worse > tolerance ? .regressed : (-worse > tolerance ? .improved : .within)
          out.rows.append(Row(
            model: c.model, task: c.task, split: c.split, protocolName: c.protocolName, inferenceSteps: c.inferenceSteps,
            bound: c.bound, metric: metric.name, direction: metric.direction, isPerplexity: metric.isPerplexity,
            baseline: bv, current: cv, tolerance: tolerance, toleranceSource: source, verdict: verdict, currentIndex: index))
        }
      }
    }
    out.unmatched = current.results.indices.filter { !used.contains($0) }.map { current.results[$0].subject }
    return out
  }

  /// A shard, or a run under another protocol, is not comparable as a whole: one problem says so.
  private static func documentMismatch(current: ResultsDocument, baseline: ResultsDocument) -> String? {
    if let shard = current.run.shard {
      return "the current results are shard \(shard.index)/\(shard.count) of a run: merge the shards first (ltm-bench merge)"
    }
    if let shard = baseline.run.shard {
      return "the baseline is shard \(shard.index)/\(shard.count) of a run: merge the shards first (ltm-bench merge)"
    }
    if current.run.protocolName != baseline.run.protocolName {
      return "protocol differs: current \(current.run.protocolName), baseline \(baseline.run.protocolName): numbers under different protocols are not a comparison"
    }
    return nil
  }

  /// What tells the two results apart as measurements: each difference is one phrase.
  static func settingsDifferences(_ c: ResultEntry, _ b: ResultEntry) -> [String] {
    var out: [String] = []
    if c.protocolName != b.protocolName { out.append("protocol differs: current \(c.protocolName), baseline \(b.protocolName)") }
    if c.split != b.split { out.append("split differs: current \(c.split), baseline \(b.split)") }
    if c.inferenceSteps != b.inferenceSteps {
      out.append("inference_steps differ: current \(c.inferenceSteps.map(String.init) ?? "none"), baseline \(b.inferenceSteps.map(String.init) ?? "none")")
    }
    for key in Set(c.scorerSettings.keys).union(b.scorerSettings.keys).sorted() where c.scorerSettings[key] != b.scorerSettings[key] {
      out.append("scorer setting \(key) differs: current \(c.scorerSettings[key] ?? "unset"), baseline \(b.scorerSettings[key] ?? "unset")")
    }
    return out
  }

  /// Whether the two results cover the same blocks of the same tokens.
  private static func coverageDifferences(_ c: ResultEntry, _ b: ResultEntry, current: ResultsDocument, baseline: ResultsDocument) -> [String] {
    var out: [String] = []
    if c.blocks != b.blocks { out.append("blocks differ: current \(c.blocks), baseline \(b.blocks)") }
    if c.scoredTokens != b.scoredTokens { out.append("scored tokens differ: current \(c.scoredTokens), baseline \(b.scoredTokens)") }
    let cHashes = Set(current.tasks.filter { $0.name == c.task && $0.split == c.split }.map(\.blocksSHA256))
    let bHashes = Set(baseline.tasks.filter { $0.name == b.task && $0.split == b.split }.map(\.blocksSHA256))
    if out.isEmpty, cHashes.count == 1, bHashes.count == 1, cHashes != bHashes {
      out.append("the scored tokens differ (blocks_sha256 \(cHashes.first!.prefix(12))… vs \(bHashes.first!.prefix(12))…: data, tokenizer or detokenizer changed)")
    }
    return out
  }
}
