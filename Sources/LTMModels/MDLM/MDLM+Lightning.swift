import Foundation
import LTMCheckpoint

/// Which weights a Lightning `.ckpt` provided.
public enum MDLMCheckpointWeights: Sendable, Equatable, CustomStringConvertible {
  /// `ema.shadow_params` (what the authors evaluate: `on_validation_epoch_start` copies the EMA in), `count` tensors.
  case ema(count: Int)
  /// `state_dict`, because the checkpoint has no EMA.
  case stateDict
  /// A Hugging Face directory's safetensors.
  case huggingFace

  public var description: String {
    switch self {
    case .ema(let n): return "EMA shadow params (\(n) tensors)"
    case .stateDict: return "state_dict (no EMA in the checkpoint)"
    case .huggingFace: return "model.safetensors"
    }
  }
}

extension MDLMModel {
  /// Loads the MDLM authors' Lightning checkpoint (`mdlm.ckpt`): a torch.save dict with `state_dict` (`backbone.*`,
  /// possibly `noise.*`), `ema` = {decay, num_updates, shadow_params, collected_params}, `hyper_parameters`
  /// (OmegaConf objects, read as opaque records, never executed), `loops`, `optimizer_states`, ….
  ///
  /// EMA weights are preferred (`EMAWeights`): `shadow_params` is a list in `itertools.chain(backbone.parameters(),
  /// noise.parameters())` order, which is the state-dict order without buffers (`rotary_emb.inv_freq`).
  ///
  /// The config: `config.json` beside the file if present, else `hyper_parameters.config` (`model.hidden_size`,
  /// `cond_dim`, `n_blocks`, `n_heads`, `length`; top-level `time_conditioning`; the vocabulary from the embedding).
  public static func load(lightningCheckpoint url: URL) throws -> (MDLMModel, MDLMCheckpointWeights) {
    let root = try TorchCheckpoint.load(url, verifyChecksums: true, opaqueGlobals: true)
    let (archive, weights) = try lightningWeights(root, file: url)
    let beside = url.deletingLastPathComponent().appendingPathComponent("config.json")
    let config: MDLMConfig
    if let data = FileManager.default.contents(atPath: beside.path) {
      config = try ModelRegistry.decodeConfig(MDLMConfig.self, from: data, path: beside.path)
    } else {
      config = try lightningConfig(root, archive: archive, path: url.path)
    }
    let model = try MDLMModel(config: config, weights: archive, source: url.path)
    model.checkpointWeights = weights
    return (model, weights)
  }

  /// The weights to load from a decoded Lightning checkpoint: EMA shadow params mapped onto the state dict's
  /// parameter names (buffers kept from the state dict), or the state dict itself when there is no EMA.
  static func lightningWeights(_ root: PickleValue, file: URL) throws -> (TensorArchive, MDLMCheckpointWeights) {
    let (archive, emaCount) = try EMAWeights.archive(root, stateDictKey: "state_dict", file: file)
    return (archive, emaCount.map { .ema(count: $0) } ?? .stateDict)
  }

  /// The model config from `hyper_parameters.config` (an OmegaConf DictConfig pickled as opaque records).
  static func lightningConfig(_ root: PickleValue, archive: TensorArchive, path: String) throws -> MDLMConfig {
    let missing = ModelError.unsupportedConfig(
      path: path,
      reason: "no config.json beside the checkpoint and no readable hyper_parameters.config.model; put the Hugging Face "
        + "MDLM config.json (hidden_dim, cond_dim, n_blocks, n_heads, vocab_size, model_length, time_conditioning) beside it")
    guard let hyper = root["hyper_parameters"], let config = omegaConf(hyper)?["config"], let model = config["model"] else { throw missing }
    func int(_ key: String) throws -> Int {
      guard let v = model[key]?.intValue else { throw missing }
      return v
    }
    let embedding = archive.tensors.first { $0.key.hasSuffix("vocab_embed.embedding") }?.value
    guard let vocab = embedding?.shape.first else { throw missing }
    let timeConditioning = config["time_conditioning"]?.boolValue ?? false
    return MDLMConfig(
      hiddenDim: try int("hidden_size"), condDim: try int("cond_dim"), nBlocks: try int("n_blocks"), nHeads: try int("n_heads"),
      vocabSize: vocab, modelLength: try int("length"), timeConditioning: timeConditioning)
  }

  /// Plain values out of OmegaConf's pickled state: a DictConfig/ListConfig is its `_content`, a value node
  /// (AnyNode, IntegerNode, …) its `_val`; plain dicts and lists are unwrapped recursively.
  static func omegaConf(_ value: PickleValue) -> PickleValue? {
    switch value {
    case .object(let type, let state):
      guard type.hasPrefix("omegaconf."), let state else { return nil }
      if let content = state["_content"] { return omegaConf(content) }
      if let v = state["_val"] { return omegaConf(v) }
      return nil
    case .dict(let entries):
      return .dict(entries.map { (key: $0.key, value: omegaConf($0.value) ?? .none) })
    case .list(let items):
      return .list(items.map { omegaConf($0) ?? .none })
    default:
      return value
    }
  }
}
