import Foundation
import LTMTestSupport
import XCTest

@testable import LTMCheckpoint

final class SafetensorsTests: XCTestCase {
  /// Compares an archive with the reference that `tools/dump_safetensors.py` (Python stdlib) wrote.
  private func assertMatchesReference(_ archive: TensorArchive, label: String, file: StaticString = #filePath, line: UInt = #line) throws {
    let reference = try TestFixtures.json("safetensors-reference.json")
    guard let entry = reference[label] as? [String: Any], let tensors = entry["tensors"] as? [String: [String: Any]] else {
      return XCTFail("no reference for \(label)", file: file, line: line)
    }
    XCTAssertEqual(archive.metadata, (entry["metadata"] as? [String: String]) ?? [:], file: file, line: line)
    XCTAssertEqual(Set(archive.tensors.keys), Set(tensors.keys), file: file, line: line)
    for (name, expected) in tensors {
      guard let t = archive.tensors[name] else { continue }
      XCTAssertEqual(t.dtype.rawValue, expected["dtype"] as? String, name, file: file, line: line)
      XCTAssertEqual(t.shape, expected["shape"] as? [Int], name, file: file, line: line)
      XCTAssertEqual(fnvHex(t.bytes), expected["fnv1a64"] as? String, "bytes of \(name)", file: file, line: line)
      XCTAssertEqual(t.name, name, file: file, line: line)
      try assertValues(t, expected, file: file, line: line)
    }
  }

  func testGPT2TinyMatchesPythonReference() throws {
    let url = try SharedData.file("fixtures/gpt2-tiny/model.safetensors")
    let archive = try Safetensors.load(url)
    XCTAssertEqual(archive.files, [url])
    XCTAssertEqual(archive.metadata, ["format": "pt"])
    XCTAssertEqual(archive.tensors.count, 28)
    XCTAssertEqual(archive.tensors["transformer.h.0.attn.c_attn.weight"]?.shape, [64, 192])
    XCTAssertEqual(archive.tensors["transformer.wte.weight"]?.shape, [50257, 64])
    try assertMatchesReference(archive, label: "gpt2-tiny/model.safetensors")
  }

  func testMDLMMicroMatchesPythonReference() throws {
    let url = try SharedData.file("fixtures/mdlm-micro/model.safetensors")
    let archive = try Safetensors.load(url)
    XCTAssertEqual(archive.metadata, [:])
    XCTAssertEqual(archive.tensors.count, 31)
    try assertMatchesReference(archive, label: "mdlm-micro/model.safetensors")
  }

  /// One tensor per dtype, including F16 subnormal/inf/NaN and BF16, in a space-padded header.
  func testEveryDTypeMatchesPythonReference() throws {
    let archive = try Safetensors.load(try TestFixtures.url("dtypes.safetensors"))
    XCTAssertEqual(archive.metadata, ["format": "pt", "note": "ltm-bench test fixture"])
    try assertMatchesReference(archive, label: "dtypes.safetensors")
    let f16 = try archive.tensors["f16"]!.floats()
    XCTAssertEqual(f16[0], 1)
    XCTAssertEqual(f16[1], 0x1p-24)
    XCTAssertEqual(f16[5], .infinity)
    XCTAssertEqual(f16[6], -.infinity)
    XCTAssertTrue(f16[7].isNaN)
    XCTAssertEqual(f16[8].bitPattern, (-Float(0)).bitPattern)
    XCTAssertEqual(try archive.tensors["bf16"]!.floats()[0], 1)
    XCTAssertEqual(try archive.tensors["i64"]!.int64s(), [Int64.min, 0, Int64.max])
    XCTAssertEqual(try archive.tensors["f64"]!.doubles(), [1.0 / 3.0, -1e300, .leastNonzeroMagnitude])
    XCTAssertEqual(try archive.tensors["bool"]!.int64s(), [1, 0])
    XCTAssertEqual(archive.tensors["empty"]?.shape, [0, 4])
    XCTAssertEqual(try archive.tensors["empty"]!.floats(), [])
  }

  func testHeaderOnlyReadAndSharedFixtureValues() throws {
    let url = try SharedData.file("fixtures/ltm-micro/expected.safetensors")
    let (entries, metadata) = try Safetensors.header(url)
    XCTAssertEqual(metadata, [:])
    XCTAssertEqual(entries.first?.name, "tokens")
    XCTAssertEqual(entries.first?.dtype, .i64)
    XCTAssertEqual(entries.first?.shape, [2, 65])
    XCTAssertEqual(entries.first?.dataOffsets, 0..<1040)
    let tokens = try Safetensors.load(url).tensors["tokens"]!.int64s()
    XCTAssertEqual(tokens.count, 130)
    XCTAssertTrue(tokens.allSatisfy { (0..<512).contains($0) })
  }

  // MARK: - Malformed files

  /// A file with `header` as its JSON header and `dataCount` zero bytes of data.
  private func file(_ header: String, dataCount: Int = 0, declaredLength: UInt64? = nil, pad: Int = 0) -> Data {
    let json = Array(header.utf8) + [UInt8](repeating: 0x20, count: pad)
    let n = declaredLength ?? UInt64(json.count)
    var out = Data((0..<8).map { UInt8((n >> (8 * UInt64($0))) & 0xFF) })
    out.append(contentsOf: json)
    out.append(Data(count: dataCount))
    return out
  }

  private func entry(_ name: String, _ dtype: String = "F32", _ shape: [Int], _ begin: Int, _ end: Int) -> String {
    "\"\(name)\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
  }

  func testMalformedHeadersAreOneLineErrorsNamingFileAndTensor() throws {
    let dir = try makeTemporaryDirectory(self)
    func check(_ bytes: Data, _ fragments: [String], line: UInt = #line) throws {
      let url = dir.appendingPathComponent("bad-\(line).safetensors")
      try bytes.write(to: url)
      assertCheckpointError(try Safetensors.load(url), contains: [url.path] + fragments, line: line)
    }
    try check(Data([1, 2, 3]), ["3 bytes", "too short"])
    try check(file("{}", declaredLength: 1 << 40), ["header length 1099511627776", "limit"])
    try check(file("{}", declaredLength: 4000), ["header length 4000", "past the end of the file"])
    try check(file("[1,2]"), ["does not start with a JSON object"])
    try check(file("{not json"), ["not valid JSON"])
    try check(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", dataCount: 4), ["missing \"data_offsets\"", "\"a\""])
    try check(file("{\"a\":{\"dtype\":\"F32\",\"shape\":\"x\",\"data_offsets\":[0,4]}}", dataCount: 4), ["\"shape\""])
    try check(file("{\"__metadata__\":{\"k\":1}}"), ["__metadata__"])
    try check(file("{" + entry("w", "F8_E4M3", [2], 0, 2) + "}", dataCount: 2), ["tensor w", "unsupported dtype F8_E4M3"])
    try check(file("{" + entry("w", "F32", [-1], 0, 0) + "}"), ["tensor w", "invalid shape"])
    try check(file("{" + entry("w", "F32", [3], 0, 8) + "}", dataCount: 8), ["tensor w", "span 8 bytes", "needs 12"])
    try check(file("{" + entry("w", "F32", [2], 0, 8) + "," + entry("v", "F32", [2], 4, 12) + "}", dataCount: 12),
              ["tensor v", "overlapping w"])
    try check(file("{" + entry("w", "F32", [1], 0, 4) + "," + entry("v", "F32", [1], 8, 12) + "}", dataCount: 12),
              ["tensor v", "gap of 4 bytes"])
    try check(file("{" + entry("w", "F32", [1], 4, 8) + "}", dataCount: 8), ["tensor w", "gap of 4 bytes", "start of the data area"])
    try check(file("{" + entry("w", "F32", [2], 0, 8) + "}", dataCount: 4), ["tensor w", "run past the data area"])
    try check(file("{" + entry("w", "F32", [1], 4, 0) + "}", dataCount: 4), ["tensor w", "not an ascending range"])
    try check(file("{" + entry("w", "F32", [1], 0, 4) + "}", dataCount: 10), ["6 bytes are unaccounted for"])
    try check(file("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0]}}", dataCount: 4), ["tensor w", "[begin, end]"])
    try check(file("{" + entry("w", "F32", [Int.max, 4], 0, 4) + "}", dataCount: 4), ["tensor w", "invalid shape"])
  }

  func testValidEdgeCases() throws {
    // Empty header, space padding, zero-size tensors anywhere, unaligned data start.
    XCTAssertEqual(try Safetensors.parse(file("{}"), path: "empty").tensors.count, 0)
    let padded = file("{" + entry("w", "F32", [1], 0, 4) + "," + entry("z", "F32", [0], 4, 4) + "}", dataCount: 4, pad: 3)
    let archive = try Safetensors.parse(padded, path: "padded")
    XCTAssertEqual(archive.tensors["w"]?.shape, [1])
    XCTAssertEqual(archive.tensors["z"]?.bytes.count, 0)
    XCTAssertEqual(archive.metadata, [:])
    let nullMetadata = file("{\"__metadata__\":null}")
    XCTAssertEqual(try Safetensors.parse(nullMetadata, path: "m").metadata, [:])
    // A missing file is `unreadable`, naming it.
    assertCheckpointError(try Safetensors.load(URL(fileURLWithPath: "/nonexistent/x.safetensors")), contains: ["/nonexistent/x.safetensors"])
  }

  /// Seeded random corruption of a valid file: the reader may accept or refuse, but must never crash, and a
  /// refusal must be a one-line CheckpointError.
  func testRandomCorruptionNeverCrashes() throws {
    let original = try Data(contentsOf: try TestFixtures.url("dtypes.safetensors"))
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(truncatingIfNeeded: state >> 33)
    }
    var refused = 0
    for round in 0..<3000 {
      var bytes = [UInt8](original)
      switch round % 3 {
      case 0:  // flip bytes in the header
        for _ in 0..<(1 + next() % 3) { bytes[next() % min(bytes.count, 8 + 712)] ^= UInt8(truncatingIfNeeded: 1 + next() % 255) }
      case 1:  // truncate
        bytes.removeLast(1 + next() % bytes.count)
      default:  // replace a digit in the header with another digit
        let digits = bytes.indices.filter { $0 >= 8 && $0 < 720 && (0x30...0x39).contains(bytes[$0]) }
        bytes[digits[next() % digits.count]] = UInt8(0x30 + next() % 10)
      }
      do {
        let archive = try Safetensors.parse(Data(bytes), path: "fuzz")
        for t in archive.tensors.values { try t.validateByteCount() }
      } catch let error as CheckpointError {
        refused += 1
        XCTAssertFalse(error.description.contains("\n"))
      }
    }
    XCTAssertGreaterThan(refused, 1000)
  }
}

/// Checks `first`, `sum` and `abs_sum` of a reference entry (exact decimal strings) against a tensor's values.
func assertValues(_ t: RawTensor, _ expected: [String: Any], file: StaticString = #filePath, line: UInt = #line) throws {
  let values: [Double]
  switch t.dtype {
  case .f32, .f16, .bf16, .f64: values = try t.doubles()
  default: values = try t.int64s().map(Double.init)
  }
  let first = (expected["first"] as? [String]) ?? []
  XCTAssertEqual(values.count, t.elementCount, file: file, line: line)
  XCTAssertEqual(first.count, min(6, values.count), "reference values of \(t.name)", file: file, line: line)
  for (i, text) in first.enumerated() where i < values.count {
    guard let e = Double(text) else { return XCTFail("bad reference value \(text)", file: file, line: line) }
    if e.isNaN {
      XCTAssertTrue(values[i].isNaN, "\(t.name)[\(i)]", file: file, line: line)
    } else {
      XCTAssertEqual(values[i], e, "\(t.name)[\(i)]", file: file, line: line)
    }
  }
  let finite = values.filter(\.isFinite)
  let sum = finite.reduce(0, +), absSum = finite.reduce(0) { $0 + abs($1) }
  // Same elements, same order, same float64 additions as the Python reference: equal up to last-bit noise.
  guard let s = (expected["sum"] as? String).flatMap(Double.init), let a = (expected["abs_sum"] as? String).flatMap(Double.init) else {
    return XCTFail("reference sums missing for \(t.name)", file: file, line: line)
  }
  XCTAssertTrue(isClose(sum, s, rtol: 1e-12, atol: 1e-12), "sum of \(t.name): \(sum) vs \(s)", file: file, line: line)
  XCTAssertTrue(isClose(absSum, a, rtol: 1e-12, atol: 1e-12), "abs sum of \(t.name): \(absSum) vs \(a)", file: file, line: line)
}
