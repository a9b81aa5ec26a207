/// Errors reading checkpoints or mapping their tensors: one line each, naming the file or key.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  case unreadable(path: String, reason: String)
  case malformedHeader(path: String, reason: String)
  case unsupportedDType(path: String, tensor: String, dtype: String)
  case badTensor(path: String, tensor: String, reason: String)
  /// The unpickler met a global it does not allow (it never executes anything).
  case forbiddenGlobal(path: String, name: String)
  case malformedPickle(path: String, reason: String)
  case missingTensors(model: String, keys: [String])
  case unusedTensors(model: String, keys: [String])
  case shapeMismatch(model: String, key: String, expected: [Int], found: [Int])

  public var description: String {
    switch self {
    case .unreadable(let p, let r): return "cannot read checkpoint \(p): \(r)"
    case .malformedHeader(let p, let r): return "\(p): malformed safetensors header: \(r)"
    case .unsupportedDType(let p, let t, let d): return "\(p): tensor \(t) has unsupported dtype \(d)"
    case .badTensor(let p, let t, let r): return "\(p): tensor \(t): \(r)"
    case .forbiddenGlobal(let p, let n):
      return "\(p): the pickle references \(n), which ltm-bench refuses to load (only tensors and plain containers are allowed)"
    case .malformedPickle(let p, let r): return "\(p): malformed pickle: \(r)"
    case .missingTensors(let m, let k): return "\(m) checkpoint lacks \(k.count) tensor(s): \(Self.list(k))"
    case .unusedTensors(let m, let k): return "\(m) checkpoint has \(k.count) tensor(s) that nothing uses: \(Self.list(k))"
    case .shapeMismatch(let m, let k, let e, let f): return "\(m) checkpoint: \(k) has shape \(f), expected \(e)"
    }
  }

  private static func list(_ keys: [String]) -> String {
    keys.count <= 8 ? keys.joined(separator: ", ") : keys.prefix(8).joined(separator: ", ") + ", … (\(keys.count - 8) more)"
  }
}
