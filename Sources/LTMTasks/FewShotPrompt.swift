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

/// Picks a document's demonstrations. The draw is seeded by (run seed, task name, document id) alone, so a
/// document gets the same shots whatever the order, `--limit` or `--shard` (lm-eval instead consumes one RNG
/// per task in document order, which makes a document's shots depend on every document before it).
public enum ShotSampler {
  /// `k` distinct pool indices in draw order. `exclude` (the document's own id when the pool is its split) is
  /// never drawn. Sparse Fisher–Yates over the pool minus `exclude`, driven by SplitMix64.
  public static func sample(k: Int, poolSize: Int, exclude: Int?, seed: UInt64, task: String, document: Int) throws -> [Int] {
    let available = poolSize - (exclude.map { (0..<poolSize).contains($0) ? 1 : 0 } ?? 0)
    guard k <= available else {
      throw TaskError.invalidDefinition(file: task, reason: "\(k) shots requested but the shot pool holds only \(available) documents")
    }
    var state = mixSeed(seed: seed, task: task, document: document)
    var swapped: [Int: Int] = [:]
    var out: [Int] = []
    out.reserveCapacity(k)
    for i in 0..<k {
      let j = i + Int(uniform(&state, below: UInt64(available - i)))
      let picked = swapped[j] ?? j
      swapped[j] = swapped[i] ?? i
      // Skip over the excluded id: positions at or after it shift up by one.
      if let exclude, picked >= exclude { out.append(picked + 1) } else { out.append(picked) }
    }
    return out
  }

  /// The per-document seed: FNV-1a over the task name, then SplitMix64 mixing with the run seed and document id.
  static func mixSeed(seed: UInt64, task: String, document: Int) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in task.utf8 {
      h ^= UInt64(b)
      h = h &* 0x0000_0100_0000_01b3
    }
    var s = seed ^ h
    _ = next(&s)
    s ^= UInt64(truncatingIfNeeded: document) &* 0x9E37_79B9_7F4A_7C15
    return next(&s)
  }

  static func next(_ state: inout UInt64) -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in 0..<n without modulo bias (rejection).
  static func uniform(_ state: inout UInt64, below n: UInt64) -> UInt64 {
    let limit = UInt64.max - UInt64.max % n
    while true {
      let r = next(&state)
      if r < limit { return r % n }
    }
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
