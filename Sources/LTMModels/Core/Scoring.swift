/// Whether a reported negative log-likelihood is the model's exact NLL (autoregressive models) or an upper
/// bound on it (a NELBO: LTM with its inferred posterior, discrete diffusion models).
public enum BoundKind: String, Sendable, Codable {
  case exact
  case upper
}

/// The negative log-likelihood (or its bound) of one token block.
public struct BlockScore: Sendable, Equatable {
  /// NLL in nats of each scored position, in order. For an autoregressive model these are the targets
  /// tokens[1...] (the first token is context only), so a 1024-token block yields 1023 entries.
  public var tokenNLL: [Float]
  /// Nats charged to the block as a whole rather than to a token (the KL term of a latent-variable bound).
  public var extraNats: Double

  public init(tokenNLL: [Float], extraNats: Double = 0) {
    self.tokenNLL = tokenNLL
    self.extraNats = extraNats
  }

  public var scoredTokens: Int { tokenNLL.count }
  /// Σ token NLL + extra nats, accumulated in Double.
  public var nllSum: Double { tokenNLL.reduce(0.0) { $0 + Double($1) } + extraNats }
}

/// What the harness needs to know about a loaded model to label its numbers.
public struct ModelDescriptor: Sendable, Codable, Equatable {
  /// Registry family key: "gpt2", later "ltm", "mdlm", "sedd".
  public var family: String
  public var parameterCount: Int
  public var vocabSize: Int
  /// Longest block the model accepts (GPT-2: n_positions).
  public var contextLength: Int
  public var bound: BoundKind

  public init(family: String, parameterCount: Int, vocabSize: Int, contextLength: Int, bound: BoundKind) {
    self.family = family
    self.parameterCount = parameterCount
    self.vocabSize = vocabSize
    self.contextLength = contextLength
    self.bound = bound
  }
}

/// The family-neutral scoring interface: given token blocks, return per-token NLL (or an NLL bound).
/// Each family decides which positions it scores (autoregressive: all but the first; diffusion: all),
/// and says through `descriptor.bound` whether the result is exact or an upper bound.
public protocol BlockScoringModel: AnyObject {
  var descriptor: ModelDescriptor { get }
  /// Scores blocks independently (no context carried between blocks). Blocks in one call may be batched.
  func score(blocks: [[Int32]]) throws -> [BlockScore]
}
