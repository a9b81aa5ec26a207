import Foundation
import LTMMetrics
import LTMModels
import LTMReports
import LTMTasks
import LTMTensor

/// One line of `samples.jsonl`: one model × document × candidate (generation) or × document (likelihood tasks).
public struct FewShotSample: Codable, Equatable {
  public var model: String
  public var task: String
  public var taskVersion: Int
  public var shots: Int
  public var documentID: Int
  public var shotIDs: [Int]
  /// Generation: the candidate (beam, LTM fit or sample) this line is about; nil for likelihood tasks.
  public var candidate: Int?
  /// The full prompt text (generation: context + answer prefix; likelihood: the context).
  public var prompt: String
  public var promptSHA256: String
  /// Context tokens cut from the left to fit the model.
  public var truncatedTokens: Int
  public var gold: String
  /// Generation: the decoded candidate, cut at the stop strings.
  public var output: String?
  /// Generation: filter name → extracted answer.
  public var extracted: [String: String]?
  /// Generation: the gold answer is a substring of this candidate (the LTM paper's rule); likelihood: the target
  /// is the greedy continuation (nil when the model has no greedy decoder); multiple choice: argmax is gold.
  public var correct: Bool?
  /// Likelihood tasks: each continuation and its log-likelihood.
  public var continuations: [String]?
  public var logprobs: [Double]?
  public var prediction: Int?
  /// loglikelihood_rolling: the document's words and UTF-8 bytes as lm-eval counts them (on the text before
  /// detokenizing; words = pieces of `re.split(r"\s+", text)`), its tokens, and its rolling windows.
  public var words: Int?
  public var bytes: Int?
  public var tokens: Int?
  public var windows: Int?
  // lm-eval's per-sample fields, under its names, so tools that read lm-eval's samples read these.
  /// lm-eval's `target`: the rendered doc_to_target (multiple choice: the gold choice's index; rolling: the
  /// detokenized document).
  public var target: String?
  /// Likelihood tasks: per continuation, lm-eval's `is_greedy` (nil where the model has no greedy decoder).
  public var isGreedy: [Bool?]?
  /// Likelihood tasks: per continuation, its token count.
  public var continuationTokens: [Int]?

  enum CodingKeys: String, CodingKey {
    case model, task, taskVersion = "task_version", shots, documentID = "doc_id", shotIDs = "shot_ids", candidate, prompt
    case promptSHA256 = "prompt_sha256", truncatedTokens = "truncated_tokens", gold, output, extracted, correct
    case continuations, logprobs, prediction, words, bytes, tokens, windows, target
    case isGreedy = "is_greedy", continuationTokens = "continuation_tokens"
  }

  /// Writes the lines atomically (sorted keys, one object per line).
  static func write(_ samples: [FewShotSample], to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    var data = Data()
    for s in samples {
      data.append(try encoder.encode(s))
      data.append(UInt8(ascii: "\n"))
    }
    try data.write(to: url, options: .atomic)
  }
}

/// Collects one model × task × shot count's documents and turns them into labelled metrics.
struct FewShotScorer {
  let task: FewShotTask
  let model: String
  let family: String
  let shots: Int
  let encoder: FewShotEncoder
  private(set) var samples: [FewShotSample] = []
  private(set) var estimator: String?

  // Per-document values.
  private var candidateCounts: [Int] = []
  private var correctCounts: [Int] = []
  private var filterCorrect: [String: [Double]] = [:]
  private var logLikelihoods: [Double] = []
  private var greedy: [Bool?] = []
  private var choiceCorrect: [Double] = []
  private var choiceNormCorrect: [Double] = []
  /// Whether every rolling log-likelihood was a lower bound (an ELBO): the perplexities are then upper bounds.
  private var allLowerBounds = true
  private var rollingWindows = 0
  /// loglikelihood_rolling: per document, log p and its words, bytes and tokens.
  private var rolling: [(logLikelihood: Double, words: Int, bytes: Int, tokens: Int)] = []

  init(task: FewShotTask, model: String, family: String, shots: Int, encoder: FewShotEncoder) {
    self.task = task
    self.model = model
    self.family = family
    self.shots = shots
    self.encoder = encoder
  }

  mutating func add(
    document doc: FewShotDocument, shotIDs: [Int], text: FewShotPromptText, prompt: String, promptSHA256: String,
    truncated: Int, outcome: FewShotOutcome, generation: FewShotGenerationSettings
  ) throws {
    var base = FewShotSample(
      model: model, task: task.name, taskVersion: task.version, shots: shots, documentID: doc.id, shotIDs: shotIDs,
      candidate: nil, prompt: prompt, promptSHA256: promptSHA256, truncatedTokens: truncated, gold: text.gold)
    switch task.outputType {
    case .multipleChoice: base.target = String(text.goldIndex)
    case .loglikelihoodRolling: base.target = text.continuations.first
    default: base.target = text.gold
    }
    switch task.outputType {
    case .generate:
      guard let candidates = outcome.candidates, !candidates.isEmpty else {
        throw HarnessError.invalidArgument("model \(model) returned no candidates for \(task.name) document \(doc.id)")
      }
      let until = task.format(forFamily: family).generation.until
      var correct = 0
      for (i, ids) in candidates.enumerated() {
        // A stop token ends the candidate and is not part of its text.
        let end = ids.firstIndex { generation.stopTokens.contains($0) } ?? ids.count
        let output = FewShotTask.cut(encoder.decode(Array(ids[..<end])), at: until)
        let hit = output.contains(text.gold)
        if hit { correct += 1 }
        var line = base
        line.candidate = i
        line.output = output
        line.extracted = Dictionary(uniqueKeysWithValues: task.filters.map { ($0.name, FewShotTask.extract(output, filter: $0)) })
        line.correct = hit
        samples.append(line)
        // Exact match scores the first candidate (lm-eval's take_first).
        if i == 0 {
          for f in task.filters {
            filterCorrect[f.name, default: []].append(task.isExactMatch(line.extracted![f.name]!, text.gold) ? 1 : 0)
          }
        }
      }
      candidateCounts.append(candidates.count)
      correctCounts.append(correct)
    case .loglikelihoodRolling:
      guard let scores = outcome.scores else {
        throw HarnessError.invalidArgument("model \(model) returned no scores for \(task.name) document \(doc.id)")
      }
      estimator = scores.first?.estimator ?? estimator
      allLowerBounds = allLowerBounds && scores.allSatisfy { $0.isLowerBound == true }
      rollingWindows += scores.count
      // Windows are summed in order, as lm-eval sums them (its per-document float).
      let ll = scores.reduce(0) { $0 + $1.logprob }
      let counts = (words: FewShotTask.wordCount(text.gold), bytes: text.gold.utf8.count, tokens: scores.reduce(0) { $0 + $1.tokenCount })
      rolling.append((ll, counts.words, counts.bytes, counts.tokens))
      base.continuations = text.continuations
      base.logprobs = [ll]
      (base.words, base.bytes, base.tokens, base.windows) = (counts.words, counts.bytes, counts.tokens, scores.count)
      samples.append(base)
    case .loglikelihood, .multipleChoice:
      guard let scores = outcome.scores, scores.count == text.continuations.count else {
        throw HarnessError.invalidArgument("model \(model) returned no scores for \(task.name) document \(doc.id)")
      }
      estimator = scores.first?.estimator
      let ll = scores.map(\.logprob)
      base.continuations = text.continuations
      base.logprobs = ll
      base.isGreedy = scores.map(\.isGreedy)
      base.continuationTokens = scores.map(\.tokenCount)
      if task.outputType == .loglikelihood {
        logLikelihoods.append(ll[0])
        greedy.append(scores[0].isGreedy)
        base.correct = scores[0].isGreedy
        base.prediction = nil
      } else {
        let pred = FewShotStatistics.argmax(ll)
        let normalized = zip(ll, text.choices).map { $0 / Double(max($1.unicodeScalars.count, 1)) }
        let predNorm = FewShotStatistics.argmax(normalized)
        choiceCorrect.append(pred == text.goldIndex ? 1 : 0)
        choiceNormCorrect.append(predNorm == text.goldIndex ? 1 : 0)
        base.prediction = pred
        base.correct = pred == text.goldIndex
      }
      samples.append(base)
    }
  }

  /// lm-eval's aggregations of the rolling log-likelihoods: `weighted_perplexity` exp(−Σ ll / Σ weight) with words,
  /// bytes (or tokens) as weights, and `bits_per_byte` −Σ ll / Σ bytes / ln 2. lm-eval gives them no standard error.
  func rollingMetric(_ name: String, bound: BoundKind) -> FewShotMetric {
    let ll = rolling.reduce(0) { $0 + $1.logLikelihood }
    let weight: Int
    switch name {
    case "word_perplexity": weight = rolling.reduce(0) { $0 + $1.words }
    case "token_perplexity": weight = rolling.reduce(0) { $0 + $1.tokens }
    default: weight = rolling.reduce(0) { $0 + $1.bytes }
    }
    let mean = ll / Double(max(weight, 1))
    let value = name == "bits_per_byte" ? -mean / log(2) : exp(-mean)
    let kind = rollingWindows > 0 && allLowerBounds ? "upper" : Self.perplexityKind(estimator: estimator, bound: bound)
    return FewShotMetric(
      name: name, value: value, stderr: nil, stderrMethod: "none (lm-eval reports none for this aggregate)",
      bound: kind, higherIsBetter: false)
  }

  /// What a perplexity from these log-likelihoods is: "exact" for exact ones; "upper" if the model's scores were
  /// bounds (none of the shipped estimators is: a NELBO difference and a conditional at a fitted z bound nothing);
  /// otherwise "estimate".
  static func perplexityKind(estimator: String?, bound: BoundKind) -> String {
    if bound == .exact || estimator == "exact" { return "exact" }
    return "estimate"
  }

  /// The task's metrics, in the order it lists them; those this model cannot give are returned with the reason.
  func metrics(bound: BoundKind, seed: UInt64, bootstrapIterations: Int) -> ([FewShotMetric], [AbsentMetric]) {
    var out: [FewShotMetric] = []
    var absent: [AbsentMetric] = []
    let closed = "closed form (sample s.d. / √n)"
    func rate(_ name: String, _ values: [Double]) {
      let (v, se) = FewShotStatistics.mean(values)
      out.append(FewShotMetric(name: name, value: v, stderr: se, stderrMethod: se == nil ? "none (fewer than 2 documents)" : closed, higherIsBetter: true))
    }
    for metric in task.metrics {
      switch metric {
      case "pass_at_k":
        let n = candidateCounts.min() ?? 0
        // The paper's rule: a document passes when any of its n candidates contains the gold answer.
        rate("pass@\(n)", correctCounts.map { $0 > 0 ? 1 : 0 })
        for k in task.passAtK where k < n {
          rate("pass@\(k) (unbiased)", zip(candidateCounts, correctCounts).map { FewShotStatistics.passAtK(n: $0, correct: $1, k: k) })
        }
      case "exact_match":
        for f in task.filters { rate("exact_match,\(f.name)", filterCorrect[f.name] ?? []) }
      case "acc" where task.outputType == .loglikelihood:
        if greedy.contains(where: { $0 == nil }) {
          absent.append(AbsentMetric(name: "acc", reason: "the model has no greedy decoder (is_greedy is unavailable for \(estimator ?? "its estimator"))"))
        } else {
          rate("acc", greedy.map { $0! ? 1 : 0 })
        }
      case "acc":
        rate("acc", choiceCorrect)
      case "acc_norm_chars":
        rate("acc_norm_chars", choiceNormCorrect)
      case "perplexity":
        let ppl = FewShotStatistics.perplexity(logLikelihoods: logLikelihoods)
        var rng = SplitMix64(seed: seed)
        let se = FewShotStatistics.bootstrapStderr(logLikelihoods, iterations: bootstrapIterations, using: &rng) {
          FewShotStatistics.perplexity(logLikelihoods: $0)
        }
        out.append(FewShotMetric(
          name: "perplexity", value: ppl, stderr: se,
          stderrMethod: se == nil ? "none (fewer than 2 documents)" : "bootstrap (\(bootstrapIterations) resamples, seed \(seed))",
          bound: Self.perplexityKind(estimator: estimator, bound: bound), higherIsBetter: false))
      case "word_perplexity", "byte_perplexity", "bits_per_byte", "token_perplexity":
        out.append(rollingMetric(metric, bound: bound))
      default:
        absent.append(AbsentMetric(name: metric, reason: "not a \(task.outputType.rawValue) metric"))
      }
    }
    return (out, absent)
  }
}
