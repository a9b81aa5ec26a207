import Foundation
import LTMCheckpoint
import LTMTensor

/// Which weights a SEDD checkpoint provided (recorded with the results).
public enum SEDDCheckpointWeights: Sendable, Equatable, CustomStringConvertible {
  /// `SEDD.save_pretrained`'s weights file.
  case huggingFace
  /// A training run's `ema.shadow_params` (what `load_model_local` evaluates with), `count` tensors.
  case ema(count: Int)
  /// A training run's `model` entry, because the checkpoint has no EMA.
  case model

  public var description: String {
    switch self {
    case .huggingFace: return "save_pretrained weights"
    case .ema(let n): return "EMA shadow params (\(n) tensors)"
    case .model: return "model state dict (no EMA in the checkpoint)"
    }
  }
}

/// SEDD, score entropy discrete diffusion (Lou et al. 2024, `louaaron/Score-Entropy-Discrete-Diffusion`): the DDiT
/// score network on the absorbing graph with a log-linear or geometric noise schedule.
///
/// The network is MDLM's DiT (MDLM's code descends from SEDD's: the same adaLN blocks on c = SiLU(σ-embedding),
/// rotate-half rotary, bidirectional attention, untied head), always conditioned on the total noise σ̄(t); SEDD reads
/// its output as a log score (`SEDD.forward`): log s = logits − log(e^σ − 1) − log(V − 1) under `scale_by_sigma`,
/// with log s = 0 at the current token. It scores an upper bound (the DWDSE, `SEDD+Bound.swift`).
public final class SEDDModel: BlockScoringModel {
  public let config: SEDDConfig
  public let noise: SEDDNoise
  public let descriptor: ModelDescriptor
  public let checkpointWeights: SEDDCheckpointWeights
  /// The DDiT.
  let network: MDLMModel

  /// Maps the authors' state dict (`vocab_embed.embedding`, `sigma_map.mlp.*`, `blocks.N.*`, `output_layer.*`; the
  /// `rotary_emb.inv_freq` buffer checked, not loaded) strictly onto the DDiT.
  public init(config: SEDDConfig, weights archive: TensorArchive, source: String, checkpointWeights: SEDDCheckpointWeights) throws {
    try config.validate(source: source)
    self.config = config
    noise = try SEDDNoise(config.noise, source: source)
    network = try MDLMModel(config: config.networkConfig, weights: archive, source: source, family: "sedd")
    self.checkpointWeights = checkpointWeights
    descriptor = ModelDescriptor(
      family: "sedd", parameterCount: network.descriptor.parameterCount, vocabSize: config.vocabSize,
      contextLength: config.model.length, bound: .upper)
  }

  /// A `SEDD.save_pretrained` folder: `config.json` (the run config, `configData`) and its weights file.
  public static func load(directory: URL, configData: Data) throws -> (SEDDModel, [URL]) {
    let configURL = directory.appendingPathComponent("config.json")
    let config = try ModelRegistry.decodeConfig(SEDDConfig.self, from: configData, path: configURL.path)
    let (archive, files) = try WeightFiles.load(directory: directory)
    return (try SEDDModel(config: config, weights: archive, source: directory.path, checkpointWeights: .huggingFace), [configURL] + files)
  }

  /// A training run as `run_train.py` leaves it (`load_model_local`): `.hydra/config.yaml` and
  /// `checkpoints-meta/checkpoint.pth` (`model`, `ema`, `optimizer`, `step`), read with the safe unpickler; the EMA
  /// shadow parameters are the weights used, as the authors evaluate and sample.
  public static func load(run directory: URL) throws -> (SEDDModel, [URL]) {
    let configURL = directory.appendingPathComponent(".hydra/config.yaml")
    let checkpointURL = directory.appendingPathComponent("checkpoints-meta/checkpoint.pth")
    guard let data = FileManager.default.contents(atPath: configURL.path) else { throw CheckpointError.unreadable(path: configURL.path, reason: "no such file") }
    let config = try SEDDConfig.decodeYAML(String(decoding: data, as: UTF8.self), path: configURL.path)
    let root = try TorchCheckpoint.load(checkpointURL, verifyChecksums: true)
    let (archive, emaCount) = try EMAWeights.archive(root, stateDictKey: "model", file: checkpointURL)
    let model = try SEDDModel(
      config: config, weights: archive, source: checkpointURL.path, checkpointWeights: emaCount.map { .ema(count: $0) } ?? .model)
    return (model, [configURL, checkpointURL])
  }

  /// log(e^σ − 1) + log(V − 1): what `scale_by_sigma` subtracts from every logit at noise level σ (0 without it).
  func scoreShift(sigma: Double) -> Double {
    config.model.scaleBySigma ? log(SEDDNoise.expm1Sigma(sigma)) + log(Double(config.vocabSize - 1)) : 0
  }

  /// log s_θ(x_t, σ) [T, V] of one sequence, exactly what `SEDD.forward(indices, sigma)` returns.
  public func logScore(xt: [Int32], sigma: Double) throws -> [Float] {
    var out = try network.logits(tokens: xt, sigma: sigma)
    let v = config.vocabSize, shift = scoreShift(sigma: sigma)
    for (p, token) in xt.enumerated() {
      for y in 0..<v { out[p * v + y] = Float(Double(out[p * v + y]) - shift) }
      out[p * v + Int(token)] = 0
    }
    return out
  }

  /// The head on the positions `rows` of `hidden` ([blocks·length, d], the DDiT's final states), through the DDiT's
  /// own tiling (`MDLMModel.forEachHeadRow`): the bias on the first `columns` logits, `body(i, logits)` per row.
  func forEachHeadRow(
    hidden: FloatBuffer, length t: Int, rows: [(block: Int, position: Int)], columns: Int,
    _ body: (_ index: Int, _ logits: UnsafeMutablePointer<Float>) -> Void
  ) {
    let d = config.model.hiddenSize
    network.forEachHeadRow(
      count: rows.count, columns: columns, minimumChunk: 4, hiddenRow: { hidden.pointer + (rows[$0].block * t + rows[$0].position) * d }, body)
  }
}
