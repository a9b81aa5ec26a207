import Foundation
import Yams

/// The sections of a SEDD configuration the model reads: `config.json` as `SEDD.save_pretrained` writes it (the whole
/// run config, flattened) or a training run's `.hydra/config.yaml` (`configs/config.yaml` + `configs/model/*.yaml`).
/// Other sections (training, data, optim, …) are ignored.
public struct SEDDConfig: Codable, Sendable, Equatable {
  public struct Model: Codable, Sendable, Equatable {
    public var hiddenSize: Int
    public var condDim: Int
    public var length: Int
    public var nBlocks: Int
    public var nHeads: Int
    /// `SEDD.forward`: log s = logits − log(e^σ − 1) − log(V − 1).
    public var scaleBySigma: Bool
    /// `ddit` (the only architecture of the authors' code).
    public var type: String?

    enum CodingKeys: String, CodingKey {
      case hiddenSize = "hidden_size", condDim = "cond_dim", length, nBlocks = "n_blocks", nHeads = "n_heads"
      case scaleBySigma = "scale_by_sigma", type
    }
  }

  public struct Graph: Codable, Sendable, Equatable {
    /// `absorb` (implemented) or `uniform`.
    public var type: String
  }

  public struct Noise: Codable, Sendable, Equatable {
    /// `loglinear` or `geometric`.
    public var type: String
    public var sigmaMin: Double?
    public var sigmaMax: Double?

    enum CodingKeys: String, CodingKey { case type, sigmaMin = "sigma_min", sigmaMax = "sigma_max" }

    public init(type: String, sigmaMin: Double? = nil, sigmaMax: Double? = nil) {
      self.type = type
      self.sigmaMin = sigmaMin
      self.sigmaMax = sigmaMax
    }

    /// YAML 1.1 reads `1e-4` (no dot) as a string: such values are accepted when they parse as numbers.
    public init(from decoder: Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      type = try c.decode(String.self, forKey: .type)
      func number(_ key: CodingKeys) throws -> Double? {
        if let v = try? c.decodeIfPresent(Double.self, forKey: key) { return v }
        guard let text = try c.decodeIfPresent(String.self, forKey: key) else { return nil }
        guard let v = Double(text) else {
          throw DecodingError.dataCorruptedError(forKey: key, in: c, debugDescription: "'\(text)' is not a number")
        }
        return v
      }
      sigmaMin = try number(.sigmaMin)
      sigmaMax = try number(.sigmaMax)
    }
  }

  /// Sampling defaults of the run (`sampling.predictor`, `steps`, `noise_removal`), when the config has them.
  public struct Sampling: Codable, Sendable, Equatable {
    public var predictor: String?
    public var steps: Int?
    public var noiseRemoval: Bool?

    enum CodingKeys: String, CodingKey { case predictor, steps, noiseRemoval = "noise_removal" }
  }

  /// The data vocabulary (GPT-2: 50257); the absorbing graph adds the mask, id `tokens`.
  public var tokens: Int
  public var model: Model
  public var graph: Graph
  public var noise: Noise
  public var sampling: Sampling?

  /// The network's vocabulary: `tokens` + the absorbing state.
  public var vocabSize: Int { tokens + 1 }
  /// The absorbing state ("MASK"), the last id.
  public var maskIndex: Int32 { Int32(tokens) }

  public func validate(source: String) throws {
    func bad(_ reason: String) -> ModelError { .unsupportedConfig(path: source, reason: reason) }
    guard graph.type == "absorb" else {
      throw bad("graph.type '\(graph.type)': only the absorbing graph is implemented (the authors' released models use it)")
    }
    if let type = model.type, type != "ddit" { throw bad("model.type '\(type)': only the DDiT is implemented") }
    guard tokens >= 2 else { throw bad("tokens must be at least 2, got \(tokens)") }
    _ = try SEDDNoise(noise, source: source)
    try networkConfig.validate(source: source)
  }

  /// The DDiT of the config: MDLM's DiT (MDLM's code descends from SEDD's), always conditioned on σ.
  var networkConfig: MDLMConfig {
    MDLMConfig(
      hiddenDim: model.hiddenSize, condDim: model.condDim, nBlocks: model.nBlocks, nHeads: model.nHeads,
      vocabSize: vocabSize, modelLength: model.length, timeConditioning: true)
  }

  /// A `.hydra/config.yaml`, with the key-path errors of a JSON config (`ModelRegistry.configErrorReason`).
  static func decodeYAML(_ text: String, path: String) throws -> SEDDConfig {
    do {
      return try YAMLDecoder().decode(SEDDConfig.self, from: text)
    } catch let error as DecodingError {
      if let reason = ModelRegistry.configErrorReason(error) { throw ModelError.unsupportedConfig(path: path, reason: reason) }
      guard case .dataCorrupted(let context) = error else { throw ModelError.unsupportedConfig(path: path, reason: "not valid YAML") }
      throw ModelError.unsupportedConfig(path: path, reason: "not valid YAML: \(context.underlyingError.map { "\($0)" } ?? context.debugDescription)")
    } catch {
      throw ModelError.unsupportedConfig(path: path, reason: "not valid YAML: \(error)")
    }
  }
}

/// The noise schedule σ(t), t ∈ [0, 1] (`noise_lib.py`): the total noise σ̄(t) and its rate dσ̄/dt.
public enum SEDDNoise: Sendable, Equatable {
  /// `LogLinearNoise(eps=1e-3)`: σ̄(t) = −log(1 − (1 − ε)t), so 1 − e^{−σ̄} = (1 − ε)t.
  case logLinear(eps: Double)
  /// `GeometricNoise(σ_min, σ_max)`: σ̄(t) = σ_min^{1−t}·σ_max^t.
  case geometric(sigmaMin: Double, sigmaMax: Double)

  init(_ noise: SEDDConfig.Noise, source: String) throws {
    switch noise.type {
    case "loglinear":
      self = .logLinear(eps: 1e-3)  // noise_lib.get_noise builds LogLinearNoise() with its default ε
    case "geometric":
      guard let lo = noise.sigmaMin, let hi = noise.sigmaMax, lo > 0, hi > lo, hi.isFinite else {
        throw ModelError.unsupportedConfig(path: source, reason: "geometric noise needs 0 < sigma_min < sigma_max")
      }
      self = .geometric(sigmaMin: lo, sigmaMax: hi)
    default:
      throw ModelError.unsupportedConfig(path: source, reason: "noise.type '\(noise.type)' (loglinear or geometric)")
    }
  }

  /// σ̄(t) (`total_noise`), in fp32 as the authors' torch code computes it on an fp32 t: near t = 1 the log-linear
  /// 1 − (1 − ε)t cancels, and the fp32 rounding there (1e-5 relative) is part of the numbers they report.
  public func total(_ t: Double) -> Double {
    let t = Float(t)
    switch self {
    case .logLinear(let eps): return Double(-log1p(-(Float(1 - eps) * t)))
    case .geometric(let lo, let hi): return Double(pow(Float(lo), 1 - t) * pow(Float(hi), t))
    }
  }

  /// dσ̄/dt (`rate_noise`), in fp32 as `total`.
  public func rate(_ t: Double) -> Double {
    let t = Float(t)
    switch self {
    case .logLinear(let eps): return Double(Float(1 - eps) / (1 - Float(1 - eps) * t))
    case .geometric(let lo, let hi): return Double(pow(Float(lo), 1 - t) * pow(Float(hi), t) * (log(Float(hi)) - log(Float(lo))))
    }
  }

  public var name: String {
    switch self {
    case .logLinear: return "loglinear"
    case .geometric: return "geometric"
    }
  }

  /// e^σ − 1 as the authors compute it: `expm1(σ)` below 0.5, `exp(σ) − 1` above.
  public static func expm1Sigma(_ sigma: Double) -> Double { sigma < 0.5 ? expm1(sigma) : exp(sigma) - 1 }
}
