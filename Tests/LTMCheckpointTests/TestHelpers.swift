import Foundation
import XCTest

@testable import LTMCheckpoint

/// Files committed beside the tests (`Fixtures/`), found relative to this source file so that no SwiftPM resource
/// bundle is needed. A missing file fails the test.
enum TestFixtures {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

  static func url(_ name: String) throws -> URL {
    let url = directory.appendingPathComponent(name)
    guard FileManager.default.fileExists(atPath: url.path) else {
      throw CheckpointError.unreadable(path: url.path, reason: "test fixture missing")
    }
    return url
  }

  static func json(_ name: String) throws -> [String: Any] {
    let data = try Data(contentsOf: try url(name))
    guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw CheckpointError.unreadable(path: name, reason: "not a JSON object")
    }
    return object
  }
}

/// A fresh temporary directory, removed when the test ends.
func makeTemporaryDirectory(_ test: XCTestCase) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-ckpt-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// FNV-1a (64-bit), the same digest `tools/dump_*.py` writes: pins every byte of a tensor.
func fnv1a64<C: Collection>(_ bytes: C) -> UInt64 where C.Element == UInt8 {
  var h: UInt64 = 0xCBF2_9CE4_8422_2325
  for b in bytes {
    h ^= UInt64(b)
    h = h &* 0x100_0000_01B3
  }
  return h
}

func fnvHex(_ data: Data) -> String {
  let h = data.withUnsafeBytes { fnv1a64($0) }
  let s = String(h, radix: 16)
  return String(repeating: "0", count: 16 - s.count) + s
}

/// Asserts that `body` throws a `CheckpointError` whose one-line description contains every fragment.
func assertCheckpointError<T>(
  _ body: @autoclosure () throws -> T, contains fragments: [String], file: StaticString = #filePath, line: UInt = #line
) {
  do {
    _ = try body()
    XCTFail("expected a CheckpointError containing \(fragments)", file: file, line: line)
  } catch let error as CheckpointError {
    let text = error.description
    XCTAssertFalse(text.contains("\n"), "error text spans lines: \(text)", file: file, line: line)
    for fragment in fragments {
      XCTAssertTrue(text.contains(fragment), "\"\(text)\" lacks \"\(fragment)\"", file: file, line: line)
    }
  } catch {
    XCTFail("expected a CheckpointError, got \(error)", file: file, line: line)
  }
}

/// Writes pickle opcodes by hand, for hostile and edge-case inputs the Python tools would never produce.
struct PickleBuilder {
  var bytes: [UInt8] = []

  init(proto: UInt8 = 2) { bytes = [0x80, proto] }

  mutating func op(_ b: UInt8...) { bytes += b }
  mutating func mark() { op(0x28) }
  mutating func stop() { op(0x2E) }
  mutating func emptyDict() { op(0x7D) }
  mutating func emptyList() { op(0x5D) }
  mutating func emptyTuple() { op(0x29) }
  mutating func tuple() { op(0x74) }
  mutating func tuple1() { op(0x85) }
  mutating func tuple2() { op(0x86) }
  mutating func setItem() { op(0x73) }
  mutating func setItems() { op(0x75) }
  mutating func append() { op(0x61) }
  mutating func reduce() { op(0x52) }
  mutating func build() { op(0x62) }
  mutating func persid() { op(0x51) }
  mutating func none() { op(0x4E) }
  mutating func bool(_ b: Bool) { op(b ? 0x88 : 0x89) }
  mutating func put(_ i: UInt8) { op(0x71, i) }
  mutating func get(_ i: UInt8) { op(0x68, i) }
  mutating func memoize() { op(0x94) }

  mutating func int(_ v: Int) {
    if (0..<256).contains(v) {
      op(0x4B, UInt8(v))
    } else if (0..<65536).contains(v) {
      op(0x4D, UInt8(v & 0xFF), UInt8(v >> 8))
    } else if Int(Int32.min)...Int(Int32.max) ~= v {
      let u = UInt32(bitPattern: Int32(v))
      op(0x4A, UInt8(u & 0xFF), UInt8((u >> 8) & 0xFF), UInt8((u >> 16) & 0xFF), UInt8(u >> 24))
    } else {
      let u = UInt64(bitPattern: Int64(v))
      op(0x8A, 8)
      for i in 0..<8 { bytes.append(UInt8((u >> (8 * UInt64(i))) & 0xFF)) }
    }
  }

  mutating func float(_ d: Double) {
    op(0x47)
    let u = d.bitPattern
    for i in (0..<8).reversed() { bytes.append(UInt8((u >> (8 * UInt64(i))) & 0xFF)) }
  }

  mutating func string(_ s: String) {
    let utf8 = Array(s.utf8)
    if utf8.count < 256 {
      op(0x8C, UInt8(utf8.count))
    } else {
      let n = UInt32(utf8.count)
      op(0x58, UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), UInt8((n >> 16) & 0xFF), UInt8(n >> 24))
    }
    bytes += utf8
  }

  mutating func global(_ module: String, _ name: String) {
    op(0x63)
    bytes += Array("\(module)\n\(name)\n".utf8)
  }

  mutating func stackGlobal(_ module: String, _ name: String) {
    string(module)
    string(name)
    op(0x93)
  }

  /// `_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())`, torch.save style.
  mutating func tensor(storageClass: String = "FloatStorage", key: String, numel: Int, offset: Int = 0, size: [Int], stride: [Int]) {
    global("torch._utils", "_rebuild_tensor_v2")
    mark()
    mark()
    string("storage")
    global("torch", storageClass)
    string(key)
    string("cpu")
    int(numel)
    tuple()
    persid()
    int(offset)
    mark()
    for s in size { int(s) }
    tuple()
    mark()
    for s in stride { int(s) }
    tuple()
    bool(false)
    global("collections", "OrderedDict")
    emptyTuple()
    reduce()
    tuple()
    reduce()
  }
}

/// A minimal writer of stored (uncompressed) zip archives, independent of ZIPFoundation, for building torch.save
/// containers with chosen defects.
struct ZipWriter {
  private var body: [UInt8] = []
  private var central: [UInt8] = []
  private var count = 0

  mutating func add(_ name: String, _ data: [UInt8], corruptCRC: Bool = false) {
    let nameBytes = Array(name.utf8)
    let crc = Self.crc32(data) ^ (corruptCRC ? 1 : 0)
    let offset = UInt32(body.count)
    body += le32(0x0403_4B50) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21)
    body += le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(UInt16(nameBytes.count)) + le16(0)
    body += nameBytes + data
    central += le32(0x0201_4B50) + le16(0x031E) + le16(20) + le16(0) + le16(0) + le16(0) + le16(0x21)
    central += le32(crc) + le32(UInt32(data.count)) + le32(UInt32(data.count)) + le16(UInt16(nameBytes.count))
    central += le16(0) + le16(0) + le16(0) + le16(0) + le32(0o100644 << 16) + le32(offset) + nameBytes
    count += 1
  }

  func data() -> Data {
    var out = body + central
    out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(UInt16(count)) + le16(UInt16(count))
    out += le32(UInt32(central.count)) + le32(UInt32(body.count)) + le16(0)
    return Data(out)
  }

  private func le16(_ v: UInt16) -> [UInt8] { [UInt8(v & 0xFF), UInt8(v >> 8)] }
  private func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }

  static func crc32(_ data: [UInt8]) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    for b in data {
      crc ^= UInt32(b)
      for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
    }
    return ~crc
  }
}

/// Little-endian bytes of fp32 values.
func floatBytes(_ values: [Float]) -> [UInt8] {
  values.flatMap { v -> [UInt8] in
    let u = v.bitPattern
    return (0..<4).map { UInt8((u >> (8 * UInt32($0))) & 0xFF) }
  }
}

/// A torch.save-style archive around `pickle`, with storages under `data/<key>`.
func torchArchive(
  _ pickle: [UInt8], storages: [String: [UInt8]] = [:], name: String = "archive", byteorder: String? = "little",
  version: String? = "3\n", corruptStorage: String? = nil
) -> Data {
  var zip = ZipWriter()
  zip.add("\(name)/data.pkl", pickle)
  if let byteorder { zip.add("\(name)/byteorder", Array(byteorder.utf8)) }
  for key in storages.keys.sorted() { zip.add("\(name)/data/\(key)", storages[key]!, corruptCRC: key == corruptStorage) }
  if let version { zip.add("\(name)/version", Array(version.utf8)) }
  return zip.data()
}
