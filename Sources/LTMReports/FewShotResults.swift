import Foundation

/// The few-shot part of `results.json` (`ltm-bench fewshot`): one result per model × task × shot count, every
/// metric named, with its standard error and whether it is exact or a bound. The per-document record of what was
/// asked and answered is in the sample log beside it (`samples_file`).
public struct FewShotSection: Codable, Sendable, Equatable {
  /// The per-sample log, relative to results.json's folder.
  public var samplesFile: String
  /// `fewshot` (each task's few-shot split) or `test` (the LTM paper's draw from the evaluated split).
  public var shotPool: String
  /// `--limit`: the first N documents of each task's evaluation split.
  public var limit: Int?
  public var tasks: [FewShotTaskRecord]
  public var results: [FewShotResult]

  public init(samplesFile: String, shotPool: String, limit: Int?, tasks: [FewShotTaskRecord], results: [FewShotResult]) {
    self.samplesFile = samplesFile
    self.shotPool = shotPool
    self.limit = limit
    self.tasks = tasks
    self.results = results
  }

  enum CodingKeys: String, CodingKey {
    case samplesFile = "samples_file", shotPool = "shot_pool", limit, tasks, results
  }
}

/// One task as it was run: its version and prompt hash, and the data it read.
public struct FewShotTaskRecord: Codable, Sendable, Equatable {
  public var name: String
  public var version: Int
  /// SHA-256 of the task definition (canonical JSON): changes with any prompt, filter or metric edit.
  public var promptSHA256: String
  public var outputType: String
  public var evalSplit: String
  /// The split demonstrations came from ("test (--shot-pool test, the document included)" when so).
  public var shotSource: String
  public var documentsAvailable: Int
  public var files: [FileDigest]

  public init(
    name: String, version: Int, promptSHA256: String, outputType: String, evalSplit: String, shotSource: String,
    documentsAvailable: Int, files: [FileDigest]
  ) {
    self.name = name
    self.version = version
    self.promptSHA256 = promptSHA256
    self.outputType = outputType
    self.evalSplit = evalSplit
    self.shotSource = shotSource
    self.documentsAvailable = documentsAvailable
    self.files = files
  }

  enum CodingKeys: String, CodingKey {
    case name, version, promptSHA256 = "prompt_sha256", outputType = "output_type", evalSplit = "eval_split"
    case shotSource = "shot_source", documentsAvailable = "documents_available", files
  }
}

/// One model on one task at one shot count.
public struct FewShotResult: Codable, Sendable, Equatable {
  public var model: String
  public var task: String
  public var taskVersion: Int
  public var promptSHA256: String
  public var shots: Int
  /// Documents scored (after --limit and --shard).
  public var documents: Int
  /// SHA-256 over the documents' prompt hashes in document order (lm-eval's `task_hashes`): equal iff the same
  /// prompts were asked.
  public var requestsSHA256: String
  public var metrics: [FewShotMetric]
  /// Metrics the task asks for that this model cannot give, with the reason (e.g. accuracy for a diffusion model
  /// without a greedy decoder).
  public var absentMetrics: [AbsentMetric]
  /// How the log-likelihoods were obtained ("exact", "mdlm-nelbo-difference", …); nil for generation.
  public var estimator: String?
  /// The model's settings that change results (fits, beams, inference steps, …).
  public var settings: [String: String]
  public var complete: Bool
  public var partialReasons: [String]
  public var resumedDocuments: Int
  public var wallSeconds: Double

  public init(
    model: String, task: String, taskVersion: Int, promptSHA256: String, shots: Int, documents: Int, requestsSHA256: String,
    metrics: [FewShotMetric], absentMetrics: [AbsentMetric], estimator: String?, settings: [String: String],
    partialReasons: [String], resumedDocuments: Int, wallSeconds: Double
  ) {
    self.model = model
    self.task = task
    self.taskVersion = taskVersion
    self.promptSHA256 = promptSHA256
    self.shots = shots
    self.documents = documents
    self.requestsSHA256 = requestsSHA256
    self.metrics = metrics
    self.absentMetrics = absentMetrics
    self.estimator = estimator
    self.settings = settings
    self.complete = partialReasons.isEmpty
    self.partialReasons = partialReasons
    self.resumedDocuments = resumedDocuments
    self.wallSeconds = wallSeconds
  }

  enum CodingKeys: String, CodingKey {
    case model, task, taskVersion = "task_version", promptSHA256 = "prompt_sha256", shots, documents
    case requestsSHA256 = "requests_sha256", metrics, absentMetrics = "absent_metrics", estimator, settings, complete
    case partialReasons = "partial_reasons", resumedDocuments = "resumed_documents", wallSeconds = "wall_seconds"
  }

  /// The metric the report's table and plot show: the first the task lists that this result has.
  public var headline: FewShotMetric? { metrics.first }
}

/// One labelled number.
public struct FewShotMetric: Codable, Sendable, Equatable {
  /// e.g. "pass@5", "pass@1 (unbiased)", "exact_match,strict-match", "acc", "acc_norm_chars", "perplexity".
  public var name: String
  public var value: Double
  public var stderr: Double?
  /// "closed form (s/√n)", "bootstrap (1000 resamples, seed 0)", or why there is none.
  public var stderrMethod: String
  /// What a perplexity rests on: "exact" log-likelihoods; "upper" when every log-likelihood is a lower bound
  /// (the perplexity is then an upper bound); "estimate" when they are estimates that bound nothing (LTM's
  /// conditional at a z fitted on the context, MDLM's NELBO difference; the estimator is named beside the result).
  public var bound: String
  public var higherIsBetter: Bool

  public init(name: String, value: Double, stderr: Double?, stderrMethod: String, bound: String = "exact", higherIsBetter: Bool) {
    self.name = name
    self.value = value
    self.stderr = stderr
    self.stderrMethod = stderrMethod
    self.bound = bound
    self.higherIsBetter = higherIsBetter
  }

  enum CodingKeys: String, CodingKey {
    case name, value, stderr, stderrMethod = "stderr_method", bound, higherIsBetter = "higher_is_better"
  }

  /// "0.4000 ± 0.1633", "≤ 37.21 ± 2.1", "≈ 40.3 ± 2.5": never a bound or an estimate without its sign.
  public var label: String {
    let sign = bound == "upper" ? "≤ " : bound == "estimate" ? "≈ " : ""
    let isRate = !name.hasPrefix("perplexity")
    let v = isRate ? String(format: "%.4f", value) : formatPPL(value)
    let e = stderr.map { isRate ? String(format: " ± %.4f", $0) : " ± " + formatPPL($0) } ?? ""
    return sign + v + e
  }
}

public struct AbsentMetric: Codable, Sendable, Equatable {
  public var name: String
  public var reason: String
  public init(name: String, reason: String) {
    self.name = name
    self.reason = reason
  }
}

extension FewShotSection {
  /// The stdout table: one row per model × task × shots × metric, each number with its stderr and bound sign.
  public func textTable() -> String {
    var rows = [["model", "task", "v", "shots", "docs", "metric", "value ± s.e.", "bound", "s.e. method"]]
    for r in results {
      for m in r.metrics {
        rows.append([r.model, r.task, String(r.taskVersion), String(r.shots), String(r.documents) + (r.complete ? "" : "*"), m.name, m.label, m.bound, m.stderrMethod])
      }
      for a in r.absentMetrics {
        rows.append([r.model, r.task, String(r.taskVersion), String(r.shots), String(r.documents) + (r.complete ? "" : "*"), a.name, "absent", "–", a.reason])
      }
    }
    var lines = TextTable.aligned(rows, rightAligned: [2, 3, 4, 6])
    for r in results where !r.complete {
      lines.append("* \(r.model) on \(r.task) (\(r.shots)-shot): partial (\(r.partialReasons.joined(separator: "; ")))")
    }
    return lines.joined(separator: "\n")
  }
}
