/// The explicit key-mapping step between a checkpoint and a model: the model `take`s every tensor it needs, names
/// the tensors it ignores on purpose, and `finish()` fails naming every missing key and every key left unused.
public struct WeightMap {
  public let model: String
  private var remaining: [String: RawTensor]
  private var missing: [String] = []

  public init(model: String, archive: TensorArchive) {
    self.model = model
    self.remaining = archive.tensors
  }

  /// Removes and returns tensor `key` as fp32, checking its shape. A missing key is recorded (reported by
  /// `finish`), and zeros of `shape` stand in so mapping can continue and report every problem at once.
  public mutating func take(_ key: String, shape: [Int]) throws -> [Float] {
    guard var t = remaining.removeValue(forKey: key) else {
      missing.append(key)
      return [Float](repeating: 0, count: shape.reduce(1, *))
    }
    guard t.shape == shape else { throw CheckpointError.shapeMismatch(model: model, key: key, expected: shape, found: t.shape) }
    // Hand-built archives may not name their tensors; conversion errors should still say which one failed.
    if t.name.isEmpty { t.name = key }
    if t.file.isEmpty { t.file = "\(model) checkpoint" }
    defer { t.releaseMappedPages() }
    return try t.floats()
  }

  /// Whether `key` is still present (for optional tensors such as an untied `lm_head.weight`).
  public func contains(_ key: String) -> Bool { remaining[key] != nil }

  /// Drops every remaining key for which `isIgnored` is true (buffers such as `attn.bias`, named on purpose).
  public mutating func ignore(where isIgnored: (String) -> Bool) {
    for key in remaining.keys where isIgnored(key) { remaining.removeValue(forKey: key) }
  }

  /// Throws if any needed tensor was missing or any checkpoint tensor was neither taken nor ignored.
  public func finish() throws {
    if !missing.isEmpty { throw CheckpointError.missingTensors(model: model, keys: missing.sorted()) }
    if !remaining.isEmpty { throw CheckpointError.unusedTensors(model: model, keys: remaining.keys.sorted()) }
  }
}
