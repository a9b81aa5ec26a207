import Foundation

/// safetensors reader (single files; see `ShardedSafetensors.swift` for index files and directories).
///
/// Layout: an 8-byte little-endian u64 `N`, an `N`-byte UTF-8 JSON header (possibly space-padded), then the data
/// area. The header maps tensor names to `{"dtype", "shape", "data_offsets": [begin, end]}` with offsets relative to
/// the data area, plus an optional `"__metadata__"` object of strings. The file is memory-mapped and every tensor is
/// a zero-copy slice of the mapping, so loading costs the header parse only.
///
/// Everything in the header is distrusted: the length must fit in the file, every entry must be well formed, and
/// the tensors must tile the data area exactly (sorted by offset: contiguous, no gaps, no overlaps, nothing left
/// over), as the reference implementation requires. Each violation is a one-line `CheckpointError` naming the file
/// and, where there is one, the tensor.
public enum Safetensors {
  /// The largest header accepted (the reference implementation's limit): a corrupt length must not make the
  /// reader parse gigabytes of JSON.
  public static let maxHeaderLength = 100_000_000

  /// Loads one `.safetensors` file. `files` is `[url]`; `metadata` is the header's `__metadata__`.
  public static func load(_ url: URL) throws -> TensorArchive {
    let mapped = try MappedFile(url)
    let archive = try parse(mapped.bytes, path: url.path) { mapped.slice($0) }
    return TensorArchive(tensors: archive.tensors.mapValues { var t = $0; t.mapping = mapped; return t }, metadata: archive.metadata, files: [url])
  }

  /// Parses safetensors bytes already in memory (tests, and callers that fetched a file another way).
  /// Tensor bytes are copied out of `data`.
  public static func parse(_ data: Data, path: String) throws -> TensorArchive {
    try data.withUnsafeBytes { raw in
      try parse(raw, path: path) { range in Data(UnsafeRawBufferPointer(rebasing: raw[range])) }
    }
  }

  /// The header as written, validated: the entry names, dtypes, shapes and absolute byte ranges in the file.
  public struct Entry: Sendable, Equatable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    /// Offsets relative to the data area, as in the header.
    public var dataOffsets: Range<Int>
  }

  /// Validates the header of `bytes` and returns its entries (sorted by offset), the metadata, and where the data
  /// area starts.
  static func readHeader(_ bytes: UnsafeRawBufferPointer, path: String) throws -> (entries: [Entry], metadata: [String: String], dataStart: Int) {
    let size = bytes.count
    guard size >= 8 else {
      throw CheckpointError.malformedHeader(path: path, reason: "the file is \(size) bytes, too short for the 8-byte header length")
    }
    let declared = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
    guard declared <= UInt64(maxHeaderLength) else {
      throw CheckpointError.malformedHeader(path: path, reason: "header length \(declared) exceeds the \(maxHeaderLength)-byte limit")
    }
    guard declared <= UInt64(size - 8) else {
      throw CheckpointError.malformedHeader(
        path: path, reason: "header length \(declared) runs past the end of the file (\(size - 8) bytes follow the length)")
    }
    let headerLength = Int(declared)
    guard headerLength >= 2, bytes[8] == UInt8(ascii: "{") else {
      throw CheckpointError.malformedHeader(path: path, reason: "the header does not start with a JSON object")
    }
    let header: RawHeader
    do {
      header = try JSONDecoder().decode(RawHeader.self, from: Data(UnsafeRawBufferPointer(rebasing: bytes[8..<(8 + headerLength)])))
    } catch let error as DecodingError {
      throw CheckpointError.malformedHeader(path: path, reason: describe(error))
    } catch {
      throw CheckpointError.malformedHeader(path: path, reason: "\(error)")
    }

    let dataStart = 8 + headerLength
    let dataSize = size - dataStart
    var entries: [Entry] = []
    entries.reserveCapacity(header.entries.count)
    for (name, raw) in header.entries {
      guard let dtype = DType(rawValue: raw.dtype) else {
        throw CheckpointError.unsupportedDType(path: path, tensor: name, dtype: raw.dtype)
      }
      var count = 1
      for d in raw.shape {
        let (p, overflow) = count.multipliedReportingOverflow(by: d)
        guard d >= 0, !overflow else { throw CheckpointError.badTensor(path: path, tensor: name, reason: "invalid shape \(raw.shape)") }
        count = p
      }
      guard raw.offsets.count == 2 else {
        throw CheckpointError.badTensor(path: path, tensor: name, reason: "data_offsets must be [begin, end], got \(raw.offsets)")
      }
      let begin = raw.offsets[0], end = raw.offsets[1]
      guard begin >= 0, begin <= end else {
        throw CheckpointError.badTensor(path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] are not an ascending range")
      }
      guard end <= dataSize else {
        throw CheckpointError.badTensor(
          path: path, tensor: name, reason: "data_offsets [\(begin), \(end)] run past the data area (\(dataSize) bytes)")
      }
      let (byteCount, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
      guard !overflow, byteCount == end - begin else {
        throw CheckpointError.badTensor(
          path: path, tensor: name,
          reason: "data_offsets span \(end - begin) bytes but shape \(raw.shape) of \(dtype.rawValue) needs "
            + (overflow ? "too many" : String(byteCount)))
      }
      entries.append(Entry(name: name, dtype: dtype, shape: raw.shape, dataOffsets: begin..<end))
    }

    // The tensors must tile the data area: sorted by offset, each starts where the previous ended.
    entries.sort {
      ($0.dataOffsets.lowerBound, $0.dataOffsets.upperBound, $0.name) < ($1.dataOffsets.lowerBound, $1.dataOffsets.upperBound, $1.name)
    }
    var expected = 0
    var previous: String?
    for entry in entries {
      let begin = entry.dataOffsets.lowerBound
      if begin < expected {
        throw CheckpointError.badTensor(
          path: path, tensor: entry.name,
          reason: "data_offsets start at \(begin), overlapping \(previous ?? "the previous tensor"), which ends at \(expected)")
      }
      if begin > expected {
        throw CheckpointError.badTensor(
          path: path, tensor: entry.name,
          reason: "data_offsets start at \(begin), leaving a gap of \(begin - expected) bytes after "
            + (previous.map { "\($0), which ends" } ?? "the start of the data area") + " at \(expected)")
      }
      expected = entry.dataOffsets.upperBound
      previous = entry.name
    }
    guard expected == dataSize else {
      throw CheckpointError.malformedHeader(
        path: path,
        reason: "the tensors cover \(expected) bytes of the \(dataSize)-byte data area; \(dataSize - expected) bytes are unaccounted for")
    }
    return (entries, header.metadata, dataStart)
  }

  static func parse(_ bytes: UnsafeRawBufferPointer, path: String, slice: (Range<Int>) -> Data) throws -> TensorArchive {
    let (entries, metadata, dataStart) = try readHeader(bytes, path: path)
    var tensors: [String: RawTensor] = [:]
    tensors.reserveCapacity(entries.count)
    for e in entries {
      let range = (dataStart + e.dataOffsets.lowerBound)..<(dataStart + e.dataOffsets.upperBound)
      tensors[e.name] = RawTensor(dtype: e.dtype, shape: e.shape, bytes: slice(range), name: e.name, file: path)
    }
    return TensorArchive(tensors: tensors, metadata: metadata)
  }

  /// Reads only the header of `url` (validated as in `load`), for inspection without touching tensor data.
  public static func header(_ url: URL) throws -> (entries: [Entry], metadata: [String: String]) {
    let mapped = try MappedFile(url)
    let (entries, metadata, _) = try readHeader(mapped.bytes, path: url.path)
    return (entries, metadata)
  }

  /// One line from a decoding error: where in the header, and what was wrong.
  private static func describe(_ error: DecodingError) -> String {
    func at(_ path: [CodingKey]) -> String {
      path.isEmpty ? "" : " at " + path.map { $0.intValue.map { "[\($0)]" } ?? "\"\($0.stringValue)\"" }.joined(separator: ".")
    }
    switch error {
    case .keyNotFound(let key, let context): return "missing \"\(key.stringValue)\"\(at(context.codingPath))"
    case .typeMismatch(let type, let context): return "expected \(type)\(at(context.codingPath))"
    case .valueNotFound(let type, let context): return "expected \(type), found null\(at(context.codingPath))"
    case .dataCorrupted(let context):
      return context.codingPath.isEmpty ? "the header is not valid JSON" : "invalid value\(at(context.codingPath))"
    @unknown default: return "the header is not valid JSON"
    }
  }
}

/// The header as JSON: tensor entries plus the optional `__metadata__`.
private struct RawHeader: Decodable {
  struct Entry: Decodable {
    let dtype: String
    let shape: [Int]
    let offsets: [Int]
    enum CodingKeys: String, CodingKey {
      case dtype, shape
      case offsets = "data_offsets"
    }
  }

  struct Key: CodingKey {
    let stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
  }

  var entries: [(String, Entry)] = []
  var metadata: [String: String] = [:]

  init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: Key.self)
    for key in container.allKeys {
      if key.stringValue == "__metadata__" {
        if try !container.decodeNil(forKey: key) {
          metadata = try container.decode([String: String].self, forKey: key)
        }
      } else {
        entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
      }
    }
  }
}
