import LTMProcessLimits

/// Errors reading checkpoints or mapping their tensors: one line each, naming the file or key.
///
/// `path` is the file the problem was found in, `tensor` the tensor's key (or a description such as
/// "storage 7" when the pickle has not named it yet). Either may be empty when unknown; the description then
/// leaves it out rather than printing a placeholder.
public enum CheckpointError: Error, CustomStringConvertible, Equatable {
  case unreadable(path: String, reason: String)
  case malformedHeader(path: String, reason: String)
  case unsupportedDType(path: String, tensor: String, dtype: String)
  case badTensor(path: String, tensor: String, reason: String)
  /// A NaN or ±Inf weight: the checkpoint's content is broken (a run leaves that model out and goes on with the others).
  case nonFiniteWeight(path: String, tensor: String, value: Float, index: Int)
  /// The weights as fp32 would not fit in the memory this process may use.
  case exceedsMemory(model: String, what: String, estimatedBytes: UInt64, limit: UsableMemory.Limit)
  /// The unpickler met a global it does not allow (it never executes anything).
  case forbiddenGlobal(path: String, name: String)
  case malformedPickle(path: String, reason: String)
  case missingTensors(model: String, keys: [String])
  case unusedTensors(model: String, keys: [String])
  case shapeMismatch(model: String, key: String, expected: [Int], found: [Int])

  public var description: String {
    let text: String
    switch self {
    case .unreadable(let p, let r): text = "cannot read checkpoint \(p.isEmpty ? "(unnamed)" : p): \(r)"
    case .malformedHeader(let p, let r): text = Self.prefix(p) + "malformed safetensors header: \(r)"
    case .unsupportedDType(let p, let t, let d): text = Self.prefix(p) + Self.tensor(t) + "has unsupported dtype \(d)"
    case .badTensor(let p, let t, let r): text = Self.prefix(p) + (t.isEmpty ? "" : "tensor \(t): ") + r
    case .nonFiniteWeight(let p, let t, let v, let i):
      text = Self.prefix(p) + Self.tensor(t) + "holds a non-finite value (\(v) at flat index \(i)): the checkpoint is corrupt"
    case .exceedsMemory(let m, let w, let e, let l): text = l.refusal(m, needs: e, for: w) + "; nothing was loaded"
    case .forbiddenGlobal(let p, let n):
      text = Self.prefix(p)
        + "the pickle references \(n), which ltm-bench refuses to load (only tensors and plain containers are allowed)"
    case .malformedPickle(let p, let r): text = Self.prefix(p) + "malformed pickle: \(r)"
    case .missingTensors(let m, let k): text = "\(m) checkpoint lacks \(k.count) tensor(s): \(Self.list(k))"
    case .unusedTensors(let m, let k): text = "\(m) checkpoint has \(k.count) tensor(s) that nothing uses: \(Self.list(k))"
    case .shapeMismatch(let m, let k, let e, let f): text = "\(m) checkpoint: \(k) has shape \(f), expected \(e)"
    }
    // One line, whatever a file name or a decoder message contained.
    return text.split(whereSeparator: \.isNewline).joined(separator: " ")
  }

  private static func prefix(_ path: String) -> String { path.isEmpty ? "" : "\(path): " }
  private static func tensor(_ name: String) -> String { name.isEmpty ? "tensor " : "tensor \(name) " }

  private static func list(_ keys: [String]) -> String {
    keys.count <= 8 ? keys.joined(separator: ", ") : keys.prefix(8).joined(separator: ", ") + ", … (\(keys.count - 8) more)"
  }
}
