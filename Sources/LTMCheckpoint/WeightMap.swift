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
      // Shapes come from a config, which a corrupt or hostile file can set to anything (n_layer 10¹², n_embd 2⁴⁰):
      // stop before a config that disagrees with the checkpoint sizes an allocation or an endless loop.
      guard missing.count < Self.maxMissing, let count = RawTensor.checkedElementCount(shape), count <= Self.maxStandInElements else {
        throw CheckpointError.missingTensors(model: model, keys: missing)
      }
      return [Float](repeating: 0, count: count)
    }
    guard t.shape == shape else { throw CheckpointError.shapeMismatch(model: model, key: key, expected: shape, found: t.shape) }
    // Hand-built archives may not name their tensors; conversion errors should still say which one failed.
    if t.name.isEmpty { t.name = key }
    if t.file.isEmpty { t.file = "\(model) checkpoint" }
    defer { t.releaseMappedPages() }
    let values = try t.floats()
    // A NaN or Inf weight would surface only as a NaN score after all the compute: refuse it here, naming it.
    if let bad = Self.firstNonFinite(values) {
      throw CheckpointError.badTensor(
        path: t.file, tensor: key, reason: "holds a non-finite value (\(values[bad]) at flat index \(bad)): the checkpoint is corrupt")
    }
    return values
  }

  /// The index of the first NaN or ±Inf, or nil. The scan ORs a flag per element (all-ones exponent bits), a loop
  /// the compiler vectorises, so a 124M-parameter checkpoint costs a few tens of milliseconds.
  static func firstNonFinite(_ values: [Float]) -> Int? {
    let any = values.withUnsafeBufferPointer { buffer -> Bool in
      var flag: UInt32 = 0
      for v in buffer { flag |= (v.bitPattern & 0x7F80_0000) == 0x7F80_0000 ? 1 : 0 }
      return flag != 0
    }
    return any ? values.firstIndex { !$0.isFinite } : nil
  }

  /// Past this many missing tensors the config and the checkpoint disagree beyond listing every key.
  static let maxMissing = 256
  /// The largest zero stand-in for a missing tensor (1 GiB of fp32); a bigger one comes from a config, not weights.
  static let maxStandInElements = 1 << 28

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
