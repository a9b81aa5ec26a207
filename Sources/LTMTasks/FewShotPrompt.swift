import Foundation

/// Where demonstrations are drawn from (`--shot-pool`).
public enum ShotPool: String, Sendable, Codable, CaseIterable {
  /// The task's `fewshot_split`; a task without one draws from its evaluation split minus the document itself.
  case fewshot
  /// The evaluation split itself, the document included: the LTM paper's GSM8K script samples its
  /// demonstrations from the test file it evaluates (`random.sample` over all test pairs), so a demonstration
  /// can be the query. Only for reproducing the paper.
  case test
}

/// Picks a document's demonstrations. The caller seeds `rng` from (run seed, task name, document id) alone, so a
/// document gets the same shots whatever the order, `--limit` or `--shard` (lm-eval instead consumes one RNG per
/// task in document order, which makes a document's shots depend on every document before it).
public enum ShotSampler {
  /// `k` distinct pool indices in draw order; `exclude` (the document's own id when the pool is its split) is never
  /// drawn. Sparse Fisher–Yates over the pool minus `exclude`: O(k) time and memory whatever the pool size.
  public static func sample<G: RandomNumberGenerator>(k: Int, poolSize: Int, exclude: Int?, using rng: inout G) throws -> [Int] {
    let excluded = exclude.map { (0..<poolSize).contains($0) } ?? false
    let available = poolSize - (excluded ? 1 : 0)
    guard k >= 0, k <= available else {
      throw TaskError.notEnoughShots(requested: k, available: available)
    }
    var swapped: [Int: Int] = [:]
    var out: [Int] = []
    out.reserveCapacity(k)
    for i in 0..<k {
      let j = Int.random(in: i..<available, using: &rng)
      let picked = swapped[j] ?? j
      swapped[j] = swapped[i] ?? i
      // Positions at or after the excluded id stand for the id one higher.
      if excluded, let exclude, picked >= exclude { out.append(picked + 1) } else { out.append(picked) }
    }
    return out
  }
}

/// The text side of one document's requests, before tokenization.
public struct FewShotPromptText: Sendable, Equatable {
  /// description + demonstrations + the document's query (lm-eval's `fewshot_context`).
  public var context: String
  /// Loglikelihood / multiple choice: one continuation per request (the target, or delimiter + choice).
  public var continuations: [String]
  /// Multiple choice: the choice strings without the delimiter (acc_norm_chars divides by their length).
  public var choices: [String]
  /// Multiple choice: the gold choice; loglikelihood: 0.
  public var goldIndex: Int
  /// Generation: context + answer prefix (what decoding starts from).
  public var generationPrompt: String
  /// Generation: the gold answer.
  public var gold: String
}

extension FewShotTask {
  /// Builds a document's prompt for a model family from its demonstrations (lm-eval A2):
  /// `description + Σ_shots[shot_prefix + text + target_delimiter + target + shot_suffix + fewshot_delimiter]
  /// + shot_prefix + text(doc)`. The document gets no trailing delimiter; for multiple choice the continuation
  /// is `target_delimiter + choice`, for loglikelihood `doc_to_target` verbatim (the task puts any space in it),
  /// and a generation prompt appends `answer_prefix`.
  public func promptText(for doc: FewShotDocument, shots: [FewShotDocument], family: String) throws -> FewShotPromptText {
    let f = format(forFamily: family)
    let text = try FewShotTemplate(f.docToText)
    var context = try FewShotTemplate(f.description).render(doc)
    for shot in shots {
      context += f.shotPrefix + (try text.render(shot)) + f.targetDelimiter + (try shotTarget(shot, format: f)) + f.shotSuffix
      context += f.fewshotDelimiter
    }
    context += f.shotPrefix + (try text.render(doc))
    switch outputType {
    case .loglikelihood:
      let target = try FewShotTemplate(f.docToTarget).render(doc)
      return FewShotPromptText(context: context, continuations: [target], choices: [], goldIndex: 0, generationPrompt: "", gold: target)
    case .loglikelihoodRolling:
      // The whole document is the continuation (no context, no shots); `gold` keeps the text before detokenizing,
      // on which lm-eval counts words and bytes.
      let target = try FewShotTemplate(f.docToTarget).render(doc)
      return FewShotPromptText(
        context: "", continuations: [(detokenizer ?? .none).apply(target)], choices: [], goldIndex: 0, generationPrompt: "", gold: target)
    case .multipleChoice:
      let choices = try self.choices(doc)
      let gold = try goldIndex(doc, choices: choices, format: f)
      return FewShotPromptText(
        context: context, continuations: choices.map { f.targetDelimiter + $0 }, choices: choices, goldIndex: gold,
        generationPrompt: "", gold: choices[gold])
    case .generate:
      let gold = try FewShotTemplate(self.gold ?? "").render(doc)
      return FewShotPromptText(
        context: context, continuations: [], choices: [], goldIndex: 0, generationPrompt: context + f.answerPrefix, gold: gold)
    }
  }

  /// A demonstration's answer: `doc_to_target`, or for multiple choice the text of its gold choice.
  func shotTarget(_ shot: FewShotDocument, format f: PromptFormat) throws -> String {
    guard outputType == .multipleChoice else { return try FewShotTemplate(f.docToTarget).render(shot) }
    let choices = try self.choices(shot)
    return choices[try goldIndex(shot, choices: choices, format: f)]
  }

  public func choices(_ doc: FewShotDocument) throws -> [String] {
    try docToChoice.map { try FewShotTemplate($0).render(doc) }
  }

  /// The gold choice: `doc_to_target` renders one of `choice_ids`, or else a 0-based index or the choice text.
  func goldIndex(_ doc: FewShotDocument, choices: [String], format f: PromptFormat) throws -> Int {
    let rendered = try FewShotTemplate(f.docToTarget).render(doc)
    if let ids = choiceIDs {
      if let i = ids.firstIndex(of: rendered) { return i }
    } else if let i = Int(rendered), choices.indices.contains(i) {
      return i
    } else if let i = choices.firstIndex(of: rendered) {
      return i
    }
    throw TaskError.invalidRecord(
      file: doc.source, line: doc.line,
      reason: "doc_to_target gave '\(rendered)', which is not \(choiceIDs == nil ? "a choice index or choice" : "one of choice_ids \(choiceIDs!)")")
  }
}

extension FewShotTask {
  /// Words of a loglikelihood_rolling document as lm-eval counts them: `len(re.split(r"\s+", text))`.
  public static func wordCount(_ text: String) -> Int { PythonText.whitespaceSplitCount(text) }
}
