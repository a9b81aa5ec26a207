import Foundation
import LTMTestSupport
import XCTest
@testable import LTMMauve

/// `.npy` and safetensors feature files: what is read, and every refusal as one line naming the file.
final class FeatureFileTests: XCTestCase {
  private func temp(_ name: String) -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-mauve-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.appendingPathComponent(name)
  }

  /// An .npy file as np.save writes it (header padded so the data starts at a multiple of 64).
  static func npy(descr: String, shape: [Int], payload: Data, version: UInt8 = 1, fortran: Bool = false) -> Data {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var dict = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }"
    let prefix = version == 1 ? 10 : 12
    while (prefix + dict.utf8.count + 1) % 64 != 0 { dict += " " }
    dict += "\n"
    var d = Data([0x93] + Array("NUMPY".utf8) + [version, 0])
    let n = dict.utf8.count
    d += version == 1 ? Data([UInt8(n & 0xFF), UInt8(n >> 8)]) : Data([UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF), 0, 0])
    d += Data(dict.utf8)
    d += payload
    return d
  }

  static func doubles(_ v: [Double]) -> Data { v.withUnsafeBytes { Data($0) } }
  static func floats(_ v: [Float]) -> Data { v.withUnsafeBytes { Data($0) } }

  func testReadsNpyVersionsAndDtypes() throws {
    let vals = (0..<6).map { Double($0) + 0.25 }
    for (version, descr, payload) in [(UInt8(1), "<f8", Self.doubles(vals)), (2, "<f4", Self.floats(vals.map(Float.init)))] {
      let url = temp("x.npy")
      try Self.npy(descr: descr, shape: [3, 2], payload: payload, version: version).write(to: url)
      let loaded = try FeatureFile.load(url.path)
      XCTAssertEqual(loaded.matrix.rows, 3)
      XCTAssertEqual(loaded.matrix.cols, 2)
      XCTAssertEqual(loaded.matrix.values, vals)
      XCTAssertEqual(loaded.dtype, descr == "<f8" ? "F64" : "F32")
    }
  }

  func testRefusals() throws {
    func expect(_ data: Data, _ needle: String, file: StaticString = #filePath, line: UInt = #line) throws {
      let url = temp("bad.npy")
      try data.write(to: url)
      XCTAssertThrowsError(try FeatureFile.load(url.path), file: file, line: line) { error in
        let text = "\(error)"
        XCTAssertTrue(text.contains(needle) && text.contains("bad.npy") && !text.contains("\n"), text, file: file, line: line)
      }
    }
    try expect(Self.npy(descr: "<f8", shape: [6], payload: Self.doubles([1, 2, 3, 4, 5, 6])), "2-D")
    try expect(Self.npy(descr: "<f8", shape: [2, 2, 1], payload: Self.doubles([1, 2, 3, 4])), "2-D")
    try expect(Self.npy(descr: ">f8", shape: [2, 2], payload: Self.doubles([1, 2, 3, 4])), "dtype >f8")
    try expect(Self.npy(descr: "<i8", shape: [2, 2], payload: Self.doubles([1, 2, 3, 4])), "dtype <i8")
    try expect(Self.npy(descr: "<f8", shape: [2, 2], payload: Self.doubles([1, 2, 3, 4]), fortran: true), "Fortran")
    try expect(Self.npy(descr: "<f8", shape: [2, 3], payload: Self.doubles([1, 2, 3, 4])), "needs 48")
    try expect(Data("hello".utf8), "magic")
    // Sizes from a header are overflow-checked (#13): (2³¹, 2³¹) of 8-byte floats is 2⁶⁵ bytes, and 2⁶³ elements overflow.
    try expect(Self.npy(descr: "<f8", shape: [1 << 31, 1 << 31], payload: Data()), "overflows")
    try expect(Self.npy(descr: "<f8", shape: [1 << 62, 4], payload: Data()), "overflows")
    XCTAssertThrowsError(try FeatureFile.load("/nonexistent/f.npy")) { XCTAssertTrue("\($0)".contains("no such file")) }
  }

  func testSafetensorsTensorSelection() throws {
    let path = try SharedData.file("fixtures/mauve-synthetic/features.safetensors").path
    let q = try FeatureFile.load(path + ":q_features")
    XCTAssertEqual(q.matrix.rows, 800)
    XCTAssertEqual(q.matrix.cols, 64)
    XCTAssertEqual(q.tensor, "q_features")
    XCTAssertThrowsError(try FeatureFile.load(path)) { XCTAssertTrue("\($0)".contains("name one as FILE:TENSOR"), "\($0)") }
    XCTAssertThrowsError(try FeatureFile.load(path + ":r_features")) { XCTAssertTrue("\($0)".contains("no tensor 'r_features'")) }
  }

  func testNpyMatchesSafetensorsThroughMauve() throws {
    // The same features through both readers give the same MAUVE.
    let path = try SharedData.file("fixtures/mauve-synthetic/features.safetensors").path
    let p = try FeatureFile.load(path + ":p_features"), q = try FeatureFile.load(path + ":q_features")
    let url = temp("p.npy")
    try Self.npy(descr: "<f8", shape: [1000, 64], payload: Self.doubles(p.matrix.values)).write(to: url)
    let viaNpy = try FeatureFile.load(url.path)
    XCTAssertEqual(viaNpy.matrix, p.matrix)
    var s = MauveSettings()
    s.numBuckets = 25
    s.seed = 1
    XCTAssertEqual(try Mauve.compute(p: viaNpy.matrix, q: q.matrix, settings: s).mauve, 0.9594478389434877, accuracy: 1e-12)
  }
}
