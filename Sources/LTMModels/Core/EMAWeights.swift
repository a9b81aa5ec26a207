import Foundation
import LTMCheckpoint

/// The weights of a training checkpoint that keeps an exponential moving average (`torch_ema`'s
/// `ExponentialMovingAverage`, as the MDLM and SEDD authors save it): `ema.shadow_params` is a list in
/// `model.parameters()` order, which is the state dict's order without its persistent buffers (the DDiT's only one is
/// `rotary_emb.inv_freq`). The authors evaluate with the EMA (`copy_to`), so it is preferred; each shadow tensor must
/// match its parameter's shape and the counts must agree, else the load fails instead of guessing.
enum EMAWeights {
  /// The state dict (`root[stateDictKey]`) with the EMA shadow params put in place of its parameters, or the state
  /// dict itself when `root` has no `ema`; `emaCount` is the number of EMA tensors used (nil: none).
  static func archive(_ root: PickleValue, stateDictKey: String, file: URL) throws -> (archive: TensorArchive, emaCount: Int?) {
    let path = file.path
    func fail(_ reason: String) -> ModelError { .unsupportedConfig(path: path, reason: reason) }
    guard let entries = root[stateDictKey]?.dictEntries else { throw fail("the checkpoint needs a \(stateDictKey) entry") }
    var names: [String] = [], tensors: [String: RawTensor] = [:]
    for entry in entries {
      guard let key = entry.key.stringValue, var tensor = entry.value.tensorValue else {
        throw fail("\(stateDictKey) entry \(entry.key.stringValue ?? entry.key.kindName) is \(entry.value.kindName), not a tensor")
      }
      tensor.name = key
      tensor.file = path
      names.append(key)
      tensors[key] = tensor
    }
    guard let ema = root["ema"], !ema.isNone, let shadowValue = ema["shadow_params"] else {
      return (TensorArchive(tensors: tensors, files: [file]), nil)
    }
    guard let shadow = shadowValue.arrayValue else { throw fail("ema.shadow_params is \(shadowValue.kindName), not a list") }
    let parameters = names.filter { !$0.hasSuffix("rotary_emb.inv_freq") }
    guard shadow.count == parameters.count else {
      throw fail("ema.shadow_params holds \(shadow.count) tensors but the \(stateDictKey) has \(parameters.count) parameters "
        + "(\(names.count) entries less the rotary_emb.inv_freq buffers); refusing to guess which EMA tensor is which")
    }
    for (name, value) in zip(parameters, shadow) {
      guard var tensor = value.tensorValue else { throw fail("ema.shadow_params entry for \(name) is \(value.kindName), not a tensor") }
      guard tensor.shape == tensors[name]!.shape else {
        throw fail("ema.shadow_params entry for \(name) has shape \(tensor.shape), the \(stateDictKey)'s has \(tensors[name]!.shape)")
      }
      tensor.name = name + " (EMA)"
      tensor.file = path
      tensors[name] = tensor
    }
    return (TensorArchive(tensors: tensors, files: [file]), shadow.count)
  }
}
