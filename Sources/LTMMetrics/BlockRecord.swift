import Foundation

/// One scored block: what the block cache stores and what a shard result lists in `per_block`. Every number of a
/// `ResultEntry` is a function of its blocks' records taken in block order, so a result rebuilt from cached or
/// sharded records equals the one computed in a single run, bit for bit.
public struct BlockRecord: Codable, Sendable, Equatable {
  /// The block's position in the run's block list (0-based, before sharding).
  public var index: Int
  /// Σ NLL of the block in nats; for a bound, the whole NELBO (KL included).
  public var nll: Double
  public var tokens: Int
  /// The KL part of `nll` (latent-variable bounds); nil for exact models.
  public var kl: Double?
  /// The block's bound re-estimated with fresh noise (LTM), when the scorer computes it.
  public var fresh: FreshBlockEstimate?
  /// What computed the block ("threads=2 blas=SkylakeX"): GEMM reductions depend on the thread count and the
  /// BLAS kernels in the last bits, so a result lists every combination its blocks came from (`computed_with`).
  public var computedWith: String?

  enum CodingKeys: String, CodingKey { case index, nll, tokens, kl, fresh, computedWith = "computed_with" }

  public init(index: Int, nll: Double, tokens: Int, kl: Double? = nil, fresh: FreshBlockEstimate? = nil, computedWith: String? = nil) {
    self.computedWith = computedWith
    self.index = index
    self.nll = nll
    self.tokens = tokens
    self.kl = kl
    self.fresh = fresh
  }
}

/// One block's NELBO under `samples` fresh noise draws: the mean reconstruction NLL, the KL, and the variance of
/// that mean (sample variance / samples, nats²), so that standard errors add over blocks.
public struct FreshBlockEstimate: Codable, Sendable, Equatable {
  public var nll: Double
  public var kl: Double
  public var samples: Int
  public var variance: Double

  public init(nll: Double, kl: Double, samples: Int, variance: Double) {
    self.nll = nll
    self.kl = kl
    self.samples = samples
    self.variance = variance
  }
}
