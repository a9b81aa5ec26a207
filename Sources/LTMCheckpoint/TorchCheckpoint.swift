import Foundation

/// A value decoded from a `torch.save` pickle: tensors and plain containers only.
public indirect enum PickleValue: Sendable {
  case none
  case bool(Bool)
  case int(Int)
  case float(Double)
  case string(String)
  case bytes([UInt8])
  case list([PickleValue])
  case tuple([PickleValue])
  /// Keys in insertion order (dicts and `OrderedDict`s).
  case dict([(key: PickleValue, value: PickleValue)])
  case tensor(RawTensor)
}

/// `torch.save` zip checkpoints (`.pt`, `pytorch_model.bin`). (Stub.)
public enum TorchCheckpoint {
  /// Decodes the pickle of a torch.save archive, refusing every global that is not a tensor rebuild or a plain container.
  public static func load(_ url: URL) throws -> PickleValue {
    throw CheckpointError.unreadable(path: url.path, reason: "torch checkpoints are not supported yet")
  }
}
