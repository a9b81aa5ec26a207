import Foundation

/// Convenience accessors, so that callers read `ckpt["model_args"]?["dim"]?.intValue` instead of pattern matching
/// at every level. They return nil for a value of another kind; none of them converts lossily.
extension PickleValue {
  /// The value for string key `key` in a dict (the last one, if a hostile pickle repeated it), else nil.
  public subscript(key: String) -> PickleValue? {
    guard case .dict(let entries) = self else { return nil }
    return entries.last { if case .string(key) = $0.key { return true } else { return false } }?.value
  }

  /// The value for integer key `key` in a dict (optimizer state is keyed by parameter index), else nil.
  public subscript(intKey key: Int) -> PickleValue? {
    guard case .dict(let entries) = self else { return nil }
    return entries.last { if case .int(key) = $0.key { return true } else { return false } }?.value
  }

  /// Element `index` of a list or tuple, else nil.
  public subscript(index index: Int) -> PickleValue? {
    guard let items = arrayValue, items.indices.contains(index) else { return nil }
    return items[index]
  }

  /// An int (not a bool, not a float).
  public var intValue: Int? {
    if case .int(let i) = self { return i }
    return nil
  }

  /// A float, or an int widened to Double (Python code writes `lr = 1` as readily as `1.0`).
  public var doubleValue: Double? {
    switch self {
    case .float(let d): return d
    case .int(let i): return Double(i)
    default: return nil
    }
  }

  public var boolValue: Bool? {
    if case .bool(let b) = self { return b }
    return nil
  }

  public var stringValue: String? {
    if case .string(let s) = self { return s }
    return nil
  }

  public var bytesValue: [UInt8]? {
    if case .bytes(let b) = self { return b }
    return nil
  }

  public var tensorValue: RawTensor? {
    if case .tensor(let t) = self { return t }
    return nil
  }

  public var isNone: Bool {
    if case .none = self { return true }
    return false
  }

  /// The items of a list or a tuple.
  public var arrayValue: [PickleValue]? {
    switch self {
    case .list(let items), .tuple(let items): return items
    default: return nil
    }
  }

  /// The entries of a dict, in insertion order.
  public var dictEntries: [(key: PickleValue, value: PickleValue)]? {
    if case .dict(let entries) = self { return entries }
    return nil
  }

  /// The string keys of a dict, in insertion order (nil unless every key is a string).
  public var stringKeys: [String]? {
    guard let entries = dictEntries else { return nil }
    var keys: [String] = []
    for entry in entries {
      guard case .string(let k) = entry.key else { return nil }
      keys.append(k)
    }
    return keys
  }

  /// Whether this is a non-empty dict whose keys are strings and whose values are all tensors (a state dict).
  public var isTensorDict: Bool {
    guard let entries = dictEntries, !entries.isEmpty else { return false }
    return entries.allSatisfy {
      if case .string = $0.key, case .tensor = $0.value { return true }
      return false
    }
  }

  /// A state dict (string keys → tensors) as a `TensorArchive` whose tensors carry their key as `name` and whose
  /// `files` is `[file]` when given. Any other key or value is an error naming it, because a state dict that
  /// silently dropped entries would hide a mismatch between checkpoint and model.
  public func tensorArchive(file: URL? = nil) throws -> TensorArchive {
    let path = file?.path ?? ""
    guard let entries = dictEntries else {
      throw CheckpointError.badTensor(path: path, tensor: "", reason: "expected a dict of tensors, found \(kindName)")
    }
    var tensors: [String: RawTensor] = [:]
    tensors.reserveCapacity(entries.count)
    for entry in entries {
      guard case .string(let key) = entry.key else {
        throw CheckpointError.badTensor(path: path, tensor: "", reason: "state dict key \(entry.key.kindName) is not a string")
      }
      guard case .tensor(var tensor) = entry.value else {
        throw CheckpointError.badTensor(path: path, tensor: key, reason: "is \(entry.value.kindName), not a tensor")
      }
      tensor.name = key
      tensor.file = path
      tensors[key] = tensor
    }
    return TensorArchive(tensors: tensors, files: file.map { [$0] } ?? [])
  }

  /// What kind of value this is, for error messages.
  public var kindName: String {
    switch self {
    case .none: return "None"
    case .bool: return "a bool"
    case .int: return "an int"
    case .float: return "a float"
    case .string: return "a string"
    case .bytes: return "bytes"
    case .list: return "a list"
    case .tuple: return "a tuple"
    case .dict: return "a dict"
    case .tensor: return "a tensor"
    case .object(let type, _): return "a \(type) object"
    }
  }
}
