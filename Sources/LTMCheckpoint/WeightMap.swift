import LTMProcessLimits

/// The explicit key-mapping step between a checkpoint and a model: the model `take`s every tensor it needs, names
/// the tensors it ignores on purpose, and `finish()` fails naming every missing key and every key left unused.
public struct WeightMap {
  public let model: String
  private var remaining: [String: RawTensor]
  private var missing: [String] = []

  /// Refuses an archive whose tensors as fp32 would not fit in the memory this process may use (`UsableMemory`),
  /// before a single one is converted: a checkpoint too big for the machine is one line, not a killed process.
  public init(model: String, archive: TensorArchive, memoryLimit: UsableMemory.Limit? = nil) throws {
    self.model = model
    self.remaining = archive.tensors
    let limit = try memoryLimit ?? UsableMemory.limit()
    let bytes = Self.estimatedBytes(archive)
    guard bytes <= limit.bytes else {
      throw CheckpointError.exceedsMemory(
        model: model, what: "its weights (fp32, plus the raw bytes held in memory)", estimatedBytes: bytes, limit: limit)
    }
  }

  /// The peak while mapping: 4 bytes per element of every tensor (the fp32 weights), plus the raw bytes of tensors
  /// held in ordinary memory (a torch archive's storages; mapped safetensors pages are handed back as each tensor
  /// is converted). Saturating, so an absurd archive cannot wrap around.
  static func estimatedBytes(_ archive: TensorArchive) -> UInt64 {
    archive.tensors.values.reduce(UInt64(0)) { total, t in
      let (fp32, wide) = UInt64(RawTensor.checkedElementCount(t.shape) ?? Int.max).multipliedReportingOverflow(by: 4)
      let raw = t.isMapped ? 0 : UInt64(t.bytes.count)
      let (sum, overflow) = total.addingReportingOverflow(fp32 &+ raw)
      return wide || overflow || fp32 &+ raw < fp32 ? .max : sum
    }
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
      throw CheckpointError.nonFiniteWeight(path: t.file, tensor: key, value: values[bad], index: bad)
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
