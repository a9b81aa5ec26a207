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
  /// EMA weights are preferred: `shadow_params` is a list in `itertools.chain(backbone.parameters(),
  /// noise.parameters())` order, which is the state-dict order without buffers (`rotary_emb.inv_freq`). Each
  /// shadow tensor must match its parameter's shape and the counts must agree, else the load fails.
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
    let path = file.path
    func fail(_ reason: String) -> ModelError { .unsupportedConfig(path: path, reason: reason) }
    guard let entries = root["state_dict"]?.dictEntries else { throw fail("a Lightning checkpoint needs a state_dict entry") }
    var names: [String] = [], tensors: [String: RawTensor] = [:]
    for entry in entries {
      guard let key = entry.key.stringValue, var tensor = entry.value.tensorValue else {
        throw fail("state_dict entry \(entry.key.stringValue ?? entry.key.kindName) is \(entry.value.kindName), not a tensor")
      }
      tensor.name = key
      tensor.file = path
      names.append(key)
      tensors[key] = tensor
    }
    guard let ema = root["ema"], !ema.isNone, let shadowValue = ema["shadow_params"] else {
      return (TensorArchive(tensors: tensors, files: [file]), .stateDict)
    }
    guard let shadow = shadowValue.arrayValue else { throw fail("ema.shadow_params is \(shadowValue.kindName), not a list") }
    // Persistent buffers are in the state dict but not in parameters(): the DiT's only one is rotary_emb.inv_freq.
    let parameters = names.filter { !$0.hasSuffix("rotary_emb.inv_freq") }
    guard shadow.count == parameters.count else {
      throw fail("ema.shadow_params holds \(shadow.count) tensors but the state_dict has \(parameters.count) parameters "
        + "(\(names.count) entries less the rotary_emb.inv_freq buffers); refusing to guess which EMA tensor is which")
    }
    for (name, value) in zip(parameters, shadow) {
      guard var tensor = value.tensorValue else { throw fail("ema.shadow_params entry for \(name) is \(value.kindName), not a tensor") }
      guard tensor.shape == tensors[name]!.shape else {
        throw fail("ema.shadow_params entry for \(name) has shape \(tensor.shape), the state_dict's has \(tensors[name]!.shape)")
      }
      tensor.name = name + " (EMA)"
      tensor.file = path
      tensors[name] = tensor
    }
    return (TensorArchive(tensors: tensors, files: [file]), .ema(count: shadow.count))
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
