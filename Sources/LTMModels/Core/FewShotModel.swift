import Foundation

/// The family-neutral interface few-shot evaluation talks to (`ltm-bench fewshot`): loglikelihoods of
/// continuations and generated candidates, on token ids the harness has already assembled.
///
/// The harness owns the prompt: it builds the text (task template, shots, the family's format), tokenizes it, splits
/// context from continuation (lm-eval's `_encode_pair`) and truncates to the model's context. An adapter adds no
/// tokens of its own (no BOS, no separators): what it is given is exactly what the model sees.

/// One loglikelihood request: log p(continuation | context).
public struct LoglikelihoodRequest: Sendable, Equatable {
  /// The conditioning tokens (non-empty; the harness supplies a prefix token when a task's context is empty).
  public var context: [Int32]
  /// The scored tokens (non-empty).
  public var continuation: [Int32]

  public init(context: [Int32], continuation: [Int32]) {
    self.context = context
    self.continuation = continuation
  }
}

/// The answer to a `LoglikelihoodRequest`.
public struct ContinuationScore: Sendable, Equatable, Codable {
  /// Σ log p(continuation_i | context, continuation_<i) in nats; for families with `bound == .upper` it is minus a
  /// NELBO-based estimate, named by `estimator`.
  public var logprob: Double
  /// Whether greedy decoding from the context reproduces the continuation token for token (lm-eval's `is_greedy`);
  /// nil for families without a greedy decoder (diffusion models), whose accuracy metrics are then not reported.
  public var isGreedy: Bool?
  /// Number of continuation tokens.
  public var tokenCount: Int
  /// How `logprob` was obtained, e.g. "exact", "ltm-window-elbo", "mdlm-nelbo-difference".
  public var estimator: String
  /// True when `logprob` is a lower bound on the log-likelihood (an ELBO), so a perplexity from it is an upper bound.
  public var isLowerBound: Bool?

  public init(logprob: Double, isGreedy: Bool?, tokenCount: Int, estimator: String, isLowerBound: Bool? = nil) {
    self.logprob = logprob
    self.isGreedy = isGreedy
    self.tokenCount = tokenCount
    self.estimator = estimator
    self.isLowerBound = isLowerBound
  }
}

/// One generation request.
public struct GenerationRequest: Sendable, Equatable {
  /// The tokens decoding starts from (the full prompt).
  public var prompt: [Int32]
  /// For latent-variable models: the tokens the posterior over z is fitted on (the LTM GSM8K protocol fits on the
  /// context + question, without the "Answer: " the prompt ends with). nil = fit on `prompt`. Ignored by others.
  public var fitContext: [Int32]?

  public init(prompt: [Int32], fitContext: [Int32]? = nil) {
    self.prompt = prompt
    self.fitContext = fitContext
  }
}

/// How candidates are decoded.
public struct FewShotGenerationSettings: Sendable, Equatable, Codable {
  public enum Strategy: String, Sendable, Codable {
    /// Argmax at every step.
    case greedy
    /// Beam search (Hugging Face semantics: length_penalty 1, early_stopping false); `candidates` ≤ `beams`.
    case beam
    /// Multinomial draws (MDLM ancestral sampling).
    case sample
  }
  public var strategy: Strategy
  /// New tokens per candidate at most.
  public var maxNewTokens: Int
  /// Beam width for `.beam`.
  public var beams: Int
  /// Candidates returned per request: beams returned (GPT-2), independent posterior fits each decoded greedily
  /// (LTM, the paper's pass@5), or independent samples (MDLM).
  public var candidates: Int
  /// Token ids that end a candidate (kept in the output). Stop *strings* are applied by the harness on the text.
  public var stopTokens: [Int32]

  enum CodingKeys: String, CodingKey {
    case strategy, maxNewTokens = "max_new_tokens", beams, candidates, stopTokens = "stop_tokens"
  }

  /// A sampled continuation as a candidate: its tokens up to and including the first stop token (the positions after
  /// it were sampled jointly by a diffusion model but are not part of the answer).
  public func candidate(_ generated: ArraySlice<Int32>) -> [Int32] {
    guard let stop = generated.firstIndex(where: stopTokens.contains) else { return Array(generated) }
    return Array(generated[...stop])
  }

  public init(strategy: Strategy, maxNewTokens: Int, beams: Int = 1, candidates: Int = 1, stopTokens: [Int32] = []) {
    self.strategy = strategy
    self.maxNewTokens = maxNewTokens
    self.beams = beams
    self.candidates = candidates
    self.stopTokens = stopTokens
  }
}

/// A model as few-shot evaluation sees it. One call covers one document, so an adapter can share work across the
/// document's requests (LTM fits z once per distinct context). `seed` and `document` key every random draw, so a
/// document's result does not depend on order, `--limit` or sharding.
public protocol FewShotLanguageModel: AnyObject {
  var descriptor: ModelDescriptor { get }
  /// A short description of the family-specific settings that change results (recorded in the report).
  var settingsSummary: [String: String] { get }
  func loglikelihoods(_ requests: [LoglikelihoodRequest], seed: UInt64, document: Int) throws -> [ContinuationScore]
  /// `settings.candidates` continuations (generated tokens only, prompt excluded), best first where the strategy
  /// ranks them (beam search).
  func generate(
    _ request: GenerationRequest, settings: FewShotGenerationSettings, seed: UInt64, document: Int
  ) throws -> [[Int32]]
  /// The token an empty context becomes (lm-eval's `prefix_token_id`); nil: the vocabulary's `<|beginoftext|>` when
  /// it has one (LTM checkpoints), else `<|endoftext|>`. A family whose id 50257 means something else says so.
  var emptyContextToken: Int32? { get }
  /// The most tokens one request may span, context and continuation together: an autoregressive model reads all
  /// but the last (`contextLength + 1`, lm-eval's truncation); a diffusion model reads them all (`contextLength`).
  var requestTokenLimit: Int { get }
  /// Rolling windows condition on this many tokens before each predicted block when the family needs it (LTM: one,
  /// so that every window is scored whole by its ELBO); nil: lm-eval's windows (the last gets a full context).
  var rollingContextTokens: Int? { get }
}

extension FewShotLanguageModel {
  public var emptyContextToken: Int32? { nil }
  public var requestTokenLimit: Int { descriptor.contextLength + 1 }
  public var rollingContextTokens: Int? { nil }
}
