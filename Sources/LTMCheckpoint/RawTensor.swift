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

/// A tensor as stored in a checkpoint: dtype, shape and its little-endian bytes (usually a slice of a
/// memory-mapped file, so nothing is copied until `floats()`/`int64s()` converts it).
public struct RawTensor: Sendable {
  public let dtype: DType
  public let shape: [Int]
  /// Exactly `elementCount * dtype.byteSize` bytes, row-major, little-endian.
  public let bytes: Data

  public init(dtype: DType, shape: [Int], bytes: Data) {
    self.dtype = dtype
    self.shape = shape
    self.bytes = bytes
  }

  public var elementCount: Int { shape.reduce(1, *) }
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
  /// The elements as fp32 (F16/BF16/F64 converted). (Stub: F32 only.)
  public func floats() throws -> [Float] {
    guard dtype == .f32 else { throw CheckpointError.unsupportedDType(path: "?", tensor: "?", dtype: dtype.rawValue) }
    return bytes.withUnsafeBytes { raw in Array(raw.bindMemory(to: Float.self)) }
  }
}
