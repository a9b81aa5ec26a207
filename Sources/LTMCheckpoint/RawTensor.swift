import Foundation

/// Element types found in safetensors headers and torch storages.
public enum DType: String, Sendable, Codable, CaseIterable {
  case f64 = "F64", f32 = "F32", f16 = "F16", bf16 = "BF16"
  case i64 = "I64", i32 = "I32", i16 = "I16", i8 = "I8", u8 = "U8", bool = "BOOL"

  public var byteSize: Int {
    switch self {
    case .f64, .i64: return 8
    case .f32, .i32: return 4
    case .f16, .bf16, .i16: return 2
    case .i8, .u8, .bool: return 1
    }
  }
}

/// A tensor as stored in a checkpoint: dtype, shape and its little-endian bytes (usually a zero-copy slice of a
/// memory-mapped file, so nothing is copied until `floats()`/`int64s()` converts it).
public struct RawTensor: Sendable {
  public let dtype: DType
  public let shape: [Int]
  /// Exactly `elementCount * dtype.byteSize` bytes, row-major, little-endian.
  public let bytes: Data
  /// The tensor's key in its checkpoint, set by the loaders so conversion errors can name it ("" if unknown).
  public var name: String = ""
  /// The file it was read from, for the same reason ("" if unknown).
  public var file: String = ""
  /// Set when `bytes` lie in a read-only file mapping, so their pages may be handed back once converted.
  var mapping: MappedFile?

  public init(dtype: DType, shape: [Int], bytes: Data) {
    self.dtype = dtype
    self.shape = shape
    self.bytes = bytes
  }

  public init(dtype: DType, shape: [Int], bytes: Data, name: String, file: String) {
    self.init(dtype: dtype, shape: shape, bytes: bytes)
    self.name = name
    self.file = file
  }

  public var elementCount: Int { shape.reduce(1, *) }

  /// Whether `bytes` lie in a file mapping (their pages cost memory only while touched).
  public var isMapped: Bool { mapping != nil }

  /// Drops the resident pages of a memory-mapped tensor's bytes (they are re-read from the file if touched again),
  /// so a model's peak memory is its fp32 weights, not the weights plus the mapped checkpoint. No-op for tensors
  /// held in ordinary memory, whose contents `MADV_DONTNEED` would destroy.
  public func releaseMappedPages() {
    guard let mapping, !bytes.isEmpty else { return }
    bytes.withUnsafeBytes { raw in mapping.releasePages(raw) }
  }
}

/// A set of named tensors read from one or more checkpoint files.
public struct TensorArchive: Sendable {
  public var tensors: [String: RawTensor]
  /// safetensors `__metadata__` (string → string), empty for other formats.
  public var metadata: [String: String]
  /// The files the tensors came from (for provenance hashes).
  public var files: [URL]

  public init(tensors: [String: RawTensor], metadata: [String: String] = [:], files: [URL] = []) {
    self.tensors = tensors
    self.metadata = metadata
    self.files = files
  }
}

extension RawTensor {
  /// The elements as fp32: F32 copied, F16/BF16 widened exactly, F64 rounded to nearest. Integer and bool
  /// tensors are refused rather than silently rounded (token ids above 2²⁴ would change): use `int64s()`.
  public func floats() throws -> [Float] {
    try convert(to: Float.self, wanted: "floats()", hint: "int64s()") { DTypeConversion.convertToFloat(dtype, $0, $1, $2) }
  }

  /// The elements as fp64 (floating dtypes only), for data that needs the precision, such as F64 features.
  public func doubles() throws -> [Double] {
    try convert(to: Double.self, wanted: "doubles()", hint: "int64s()") { DTypeConversion.convertToDouble(dtype, $0, $1, $2) }
  }

  /// The elements of an integer or bool tensor, sign- or zero-extended to Int64 (bool as 0/1).
  public func int64s() throws -> [Int64] {
    try convert(to: Int64.self, wanted: "int64s()", hint: "floats()") { DTypeConversion.convertToInt64(dtype, $0, $1, $2) }
  }

  /// Throws unless `bytes` holds exactly `elementCount × dtype.byteSize` bytes (the loaders guarantee it; this
  /// guards tensors built by hand before any raw-pointer read).
  public func validateByteCount() throws {
    guard let n = Self.checkedElementCount(shape) else {
      throw CheckpointError.badTensor(path: file, tensor: name, reason: "invalid shape \(shape)")
    }
    let (size, overflow) = n.multipliedReportingOverflow(by: dtype.byteSize)
    guard !overflow, size == bytes.count else {
      throw CheckpointError.badTensor(
        path: file, tensor: name,
        reason: "\(bytes.count) bytes do not hold shape \(shape) of \(dtype.rawValue) (\(dtype.byteSize) bytes each)")
    }
  }

  /// The product of `shape`, or nil when a dimension is negative or the product overflows (shapes come from files).
  static func checkedElementCount(_ shape: [Int]) -> Int? {
    var n = 1
    for d in shape {
      guard d >= 0 else { return nil }
      let (p, overflow) = n.multipliedReportingOverflow(by: d)
      if overflow { return nil }
      n = p
    }
    return n
  }

  private func convert<T>(
    to: T.Type, wanted: String, hint: String,
    _ kernel: (UnsafeRawPointer, UnsafeMutablePointer<T>, Int) -> Bool
  ) throws -> [T] {
    try validateByteCount()
    let n = elementCount
    var supported = true
    let out = [T](unsafeUninitializedCapacity: n) { buffer, initialized in
      if n > 0 {
        bytes.withUnsafeBytes { raw in supported = kernel(raw.baseAddress!, buffer.baseAddress!, n) }
      }
      // The element types are trivial; on refusal the contents are discarded below.
      initialized = supported ? n : 0
    }
    guard supported else {
      throw CheckpointError.unsupportedDType(path: file, tensor: name, dtype: "\(dtype.rawValue) for \(wanted) (use \(hint))")
    }
    return out
  }
}
