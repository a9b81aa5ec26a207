import Foundation
import LTMCheckpoint

/// The decoder architecture: the authors' `LTMConfig` dataclass (`model.py`, commit 498e39e), as saved in a
/// checkpoint's `model_args`. Keys are the authors' snake_case names.
///
/// Required: dim, n_layers, n_heads, vocab_size, max_seq_len, window_size, max_z_len, and multiple_of unless
/// hidden_dim is given. Optional, with the dataclass defaults: n_kv_heads (= n_heads), hidden_dim (from
/// multiple_of), norm_eps (1e-5), dropout (0; inference runs in eval mode, so it never matters), use_liger (true;
/// it only changes the state-dict key names), use_z_pos_emb (true), and the unused n_prior_layers, n_cls_tokens,
/// padding. Any other key is an error: the authors' `LTMConfig(**model_args)` would refuse it too, and a field
/// this code does not know could change the math.
public struct LTMModelArgs: Codable, Sendable, Equatable {
  public var dim: Int
  public var nLayers: Int
  public var nHeads: Int
  public var nKVHeads: Int?
  public var vocabSize: Int
  public var hiddenDim: Int?
  public var multipleOf: Int?
  public var normEps: Double
  public var maxSeqLen: Int
  public var dropout: Double
  public var nPriorLayers: Int?
  public var nClsTokens: Int?
  public var windowSize: Int
  public var useLiger: Bool
  /// Total number of latent vectors over all layers (N_z); each layer gets N_z / n_layers of them.
  public var maxZLen: Int
  public var useZPosEmb: Bool
  public var padding: Bool?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case dim, nLayers = "n_layers", nHeads = "n_heads", nKVHeads = "n_kv_heads", vocabSize = "vocab_size"
    case hiddenDim = "hidden_dim", multipleOf = "multiple_of", normEps = "norm_eps", maxSeqLen = "max_seq_len"
    case dropout, nPriorLayers = "n_prior_layers", nClsTokens = "n_cls_tokens", windowSize = "window_size"
    case useLiger = "use_liger", maxZLen = "max_z_len", useZPosEmb = "use_z_pos_emb", padding
  }

  public init(
    dim: Int, nLayers: Int, nHeads: Int, vocabSize: Int = 50258, multipleOf: Int = 32, maxSeqLen: Int = 1024,
    windowSize: Int = 256, maxZLen: Int, nKVHeads: Int? = nil, hiddenDim: Int? = nil, normEps: Double = 1e-5,
    useZPosEmb: Bool = true
  ) {
    self.dim = dim
    self.nLayers = nLayers
    self.nHeads = nHeads
    self.nKVHeads = nKVHeads
    self.vocabSize = vocabSize
    self.hiddenDim = hiddenDim
    self.multipleOf = multipleOf
    self.normEps = normEps
    self.maxSeqLen = maxSeqLen
    self.dropout = 0
    self.windowSize = windowSize
    self.useLiger = true
    self.maxZLen = maxZLen
    self.useZPosEmb = useZPosEmb
  }

  public init(from decoder: Decoder) throws {
    // Unknown keys are refused (see the type's documentation).
    let any = try decoder.container(keyedBy: AnyKey.self)
    let known = Set(CodingKeys.allCases.map(\.rawValue))
    if let unknown = any.allKeys.map(\.stringValue).filter({ !known.contains($0) }).sorted().first {
      throw DecodingError.dataCorrupted(.init(
        codingPath: [AnyKey(stringValue: unknown)!], debugDescription: "unknown model_args key \(unknown)"))
    }
    let c = try decoder.container(keyedBy: CodingKeys.self)
    dim = try c.decode(Int.self, forKey: .dim)
    nLayers = try c.decode(Int.self, forKey: .nLayers)
    nHeads = try c.decode(Int.self, forKey: .nHeads)
    nKVHeads = try c.decodeIfPresent(Int.self, forKey: .nKVHeads)
    vocabSize = try c.decode(Int.self, forKey: .vocabSize)
    hiddenDim = try c.decodeIfPresent(Int.self, forKey: .hiddenDim)
    multipleOf = try c.decodeIfPresent(Int.self, forKey: .multipleOf)
    if hiddenDim == nil && multipleOf == nil {
      throw DecodingError.keyNotFound(CodingKeys.multipleOf, .init(codingPath: [], debugDescription: "multiple_of or hidden_dim is required"))
    }
    normEps = try c.decodeIfPresent(Double.self, forKey: .normEps) ?? 1e-5
    maxSeqLen = try c.decode(Int.self, forKey: .maxSeqLen)
    dropout = try c.decodeIfPresent(Double.self, forKey: .dropout) ?? 0
    nPriorLayers = try c.decodeIfPresent(Int.self, forKey: .nPriorLayers)
    nClsTokens = try c.decodeIfPresent(Int.self, forKey: .nClsTokens)
    windowSize = try c.decode(Int.self, forKey: .windowSize)
    useLiger = try c.decodeIfPresent(Bool.self, forKey: .useLiger) ?? true
    maxZLen = try c.decode(Int.self, forKey: .maxZLen)
    useZPosEmb = try c.decodeIfPresent(Bool.self, forKey: .useZPosEmb) ?? true
    padding = try c.decodeIfPresent(Bool.self, forKey: .padding)
  }

  // MARK: Derived sizes

  public var headDim: Int { dim / nHeads }
  /// Latents per layer: layer i cross-attends to latents i·m ..< (i+1)·m of the block's [N_z, dim] z.
  public var latentsPerLayer: Int { maxZLen / nLayers }
  /// SwiGLU width: hidden_dim, else multiple_of · ceil(int(2 · 4·dim / 3) / multiple_of) (llama2.c).
  public var ffnHiddenDim: Int {
    if let h = hiddenDim { return h }
    let m = multipleOf ?? 1
    let h = Int(2.0 * Double(4 * dim) / 3.0)
    return m * ((h + m - 1) / m)
  }
  /// RoPE position of latent j of any layer is j · interval, interval = max_seq_len // max_z_len (total N_z).
  public var latentPositionInterval: Int { maxSeqLen / maxZLen }

  /// Refuses settings this implementation does not compute, rather than silently scoring a different model.
  /// The longest context a checkpoint may declare (the papers' LTMs use 1024).
  public static let maxPlausibleSequence = 1 << 20

  public func validate(source: String) throws {
    func bad(_ reason: String) -> ModelError { .unsupportedConfig(path: source, reason: reason) }
    for (name, value) in [("dim", dim), ("n_layers", nLayers), ("n_heads", nHeads), ("vocab_size", vocabSize),
                          ("max_seq_len", maxSeqLen), ("window_size", windowSize), ("max_z_len", maxZLen)] where value <= 0 {
      throw bad("\(name) must be positive, got \(value)")
    }
    guard dim % nHeads == 0 else { throw bad("dim \(dim) is not divisible by n_heads \(nHeads)") }
    guard headDim % 2 == 0 else { throw bad("head dimension \(headDim) is odd (RoPE rotates pairs)") }
    if let kv = nKVHeads, kv != nHeads {
      throw bad("n_kv_heads \(kv) ≠ n_heads \(nHeads): grouped-query attention is not implemented")
    }
    guard maxZLen % nLayers == 0 else {
      throw bad("max_z_len \(maxZLen) is not divisible by n_layers \(nLayers) (z is split evenly across layers)")
    }
    guard maxZLen <= maxSeqLen else { throw bad("max_z_len \(maxZLen) exceeds max_seq_len \(maxSeqLen) (latent RoPE interval would be 0)") }
    // The RoPE table is sized from max_seq_len before any weight is read: a corrupt 2⁵⁰ must not reach the allocator.
    guard maxSeqLen <= Self.maxPlausibleSequence else {
      throw bad("max_seq_len \(maxSeqLen) is implausible (at most \(Self.maxPlausibleSequence) positions): the config is corrupt")
    }
    if let h = hiddenDim, h <= 0 { throw bad("hidden_dim must be positive, got \(h)") }
    if hiddenDim == nil, let m = multipleOf, m <= 0 { throw bad("multiple_of must be positive, got \(m)") }
    guard normEps > 0, normEps.isFinite else { throw bad("norm_eps must be positive, got \(normEps)") }
    guard dropout >= 0, dropout < 1 else { throw bad("dropout \(dropout) is not a probability") }
  }

  public var parameterCount: Int {
    let d = dim, f = ffnHiddenDim
    let perLayer = 8 * d * d + 3 * d * f + 3 * d
    return vocabSize * d + nLayers * perLayer + d
  }
}

/// The fast-loop hyperparameters of the checkpoint's training `config` dict (a flat dict of every training
/// hyperparameter; only these are read). The eval scripts use `num_steps` and `fast_lr` from it.
public struct LTMPosteriorConfig: Codable, Sendable, Equatable {
  public var numSteps: Int?
  public var fastLR: Double?
  public var maxZLen: Int?
  public var zDim: Int?
  public var inferenceMethod: String?

  enum CodingKeys: String, CodingKey {
    case numSteps = "num_steps", fastLR = "fast_lr", maxZLen = "max_z_len", zDim = "z_dim", inferenceMethod = "inference_method"
  }

  /// The most fast-loop steps a checkpoint's config may set as the default (`validate`).
  public static let maxPlausibleSteps = 4096

  public init(numSteps: Int? = nil, fastLR: Double? = nil) {
    self.numSteps = numSteps
    self.fastLR = fastLR
  }

  public func validate(against args: LTMModelArgs, source: String) throws {
    func bad(_ reason: String) -> ModelError { .unsupportedConfig(path: source, reason: reason) }
    if let n = numSteps, n < 0 { throw bad("config num_steps \(n) is negative") }
    // A default read from a file gets a plausibility bound (the papers use at most 64 steps): a corrupt 10⁹ would run
    // for years without a word. --inference-steps may ask for more; the step count is shown with every result.
    if let n = numSteps, n > Self.maxPlausibleSteps {
      throw bad("config num_steps \(n) is implausible (a checkpoint's default is at most \(Self.maxPlausibleSteps) fast-loop steps per block): the config is corrupt")
    }
    if let lr = fastLR, !(lr > 0 && lr.isFinite) { throw bad("config fast_lr \(lr) is not a positive number") }
    if let z = maxZLen, z != args.maxZLen { throw bad("config max_z_len \(z) differs from model_args max_z_len \(args.maxZLen)") }
    if let z = zDim, z != args.dim { throw bad("config z_dim \(z) differs from dim \(args.dim) (z feeds wk/wv directly)") }
    if let m = inferenceMethod, m != "adamVI" { throw bad("config inference_method '\(m)' (only adamVI is implemented)") }
  }
}

/// Everything an LTM checkpoint says about how to run it: `{"model_args": {…}, "config": {…}}`, which is both the
/// relevant part of the authors' torch.save dict and the JSON written beside a safetensors conversion (`config.json`,
/// with `"model_type": "ltm"`).
public struct LTMConfig: Codable, Sendable, Equatable {
  public var modelArgs: LTMModelArgs
  public var config: LTMPosteriorConfig

  enum CodingKeys: String, CodingKey { case modelArgs = "model_args", config }

  public init(modelArgs: LTMModelArgs, config: LTMPosteriorConfig = LTMPosteriorConfig()) {
    self.modelArgs = modelArgs
    self.config = config
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    modelArgs = try c.decode(LTMModelArgs.self, forKey: .modelArgs)
    config = try c.decodeIfPresent(LTMPosteriorConfig.self, forKey: .config) ?? LTMPosteriorConfig()
  }

  public func validate(source: String) throws {
    try modelArgs.validate(source: source)
    try config.validate(against: modelArgs, source: source)
  }

  /// Reads `model_args` and `config` from a decoded torch.save dict (the authors' checkpoint).
  public static func fromCheckpoint(_ root: PickleValue, source: String) throws -> LTMConfig {
    guard let args = root["model_args"] else {
      throw ModelError.unsupportedConfig(path: source, reason: "the checkpoint has no model_args entry")
    }
    var json: [String: Any] = ["model_args": try jsonValue(args, strict: true, path: "model_args", source: source)]
    if let cfg = root["config"] {
      // A flat dict of every training hyperparameter: keep the JSON-representable values, only a few are read.
      json["config"] = try jsonValue(cfg, strict: false, path: "config", source: source)
    }
    return try decode(JSONSerialization.data(withJSONObject: json), path: source)
  }

  /// Decodes `{"model_args": …, "config": …}` JSON (extra top-level keys such as `model_type` are ignored),
  /// turning `DecodingError` into one line that names the file and the key path.
  public static func decode(_ data: Data, path: String) throws -> LTMConfig {
    try ModelRegistry.decodeConfig(LTMConfig.self, from: data, path: path)
  }

  /// A pickle value as a JSONSerialization object. `strict`: values JSON cannot hold are errors; otherwise such
  /// dict entries are dropped.
  static func jsonValue(_ value: PickleValue, strict: Bool, path: String, source: String) throws -> Any {
    func fail() -> ModelError {
      .unsupportedConfig(path: source, reason: "\(path) is \(value.kindName), which a config cannot hold")
    }
    switch value {
    case .none: return NSNull()
    case .bool(let b): return b
    case .int(let i): return i
    case .float(let d):
      guard d.isFinite else { throw fail() }
      return d
    case .string(let s): return s
    case .list(let items), .tuple(let items):
      return try items.enumerated().map { try jsonValue($1, strict: strict, path: "\(path)[\($0)]", source: source) }
    case .dict(let entries):
      var out: [String: Any] = [:]
      for entry in entries {
        guard case .string(let key) = entry.key else {
          if strict { throw ModelError.unsupportedConfig(path: source, reason: "\(path) has a non-string key") }
          continue
        }
        do {
          out[key] = try jsonValue(entry.value, strict: strict, path: "\(path).\(key)", source: source)
        } catch where !strict {
          continue
        }
      }
      return out
    case .bytes, .tensor, .object:
      throw fail()
    }
  }
}

private struct AnyKey: CodingKey {
  var stringValue: String
  var intValue: Int? { nil }
  init?(stringValue: String) { self.stringValue = stringValue }
  init?(intValue: Int) { nil }
}
