import Foundation
import LTMTestSupport
import XCTest

/// `ltm-bench mauve` end to end through the built binary: the fixture's scores and mauve.json, and bad feature files
/// failing with exit 1 and exactly one `error:` line.
final class MauveCommandLineTests: XCTestCase {
  private func run(_ args: [String]) throws -> CommandLineRunner.Outcome {
    try CommandLineRunner.run(args, besideBundleOf: Self.self)
  }

  private lazy var dir: URL = {
    let d = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-mauve-cli-\(UUID().uuidString)")
    try? FileManager.default.createDirectory(at: d, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: d) }
    return d
  }()

  /// A little-endian float64 .npy (v1 header).
  private func npy(_ name: String, shape: [Int], values: [Double]) throws -> String {
    var dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (" + shape.map(String.init).joined(separator: ", ")
      + (shape.count == 1 ? ",), }" : "), }")
    while (10 + dict.utf8.count + 1) % 64 != 0 { dict += " " }
    dict += "\n"
    var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(dict.utf8.count & 0xFF), UInt8(dict.utf8.count >> 8)])
    d += Data(dict.utf8)
    d += values.withUnsafeBytes { Data($0) }
    let url = dir.appendingPathComponent(name)
    try d.write(to: url)
    return url.path
  }

  func testFixtureRunWritesMauveJSON() throws {
    let f = try SharedData.file("fixtures/mauve-synthetic/features.safetensors").path
    let out = dir.appendingPathComponent("out").path
    let r = try run(["mauve", "--p-features", f + ":p_features", "--q-features", f + ":q_features", "--num-buckets", "25",
                     "--seed", "1", "--seeds", "2", "--output-dir", out])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("0.9594"), r.stdout)
    XCTAssertTrue(r.stdout.contains("mean ± std over 2 seeds"), r.stdout)
    let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/mauve.json"))) as? [String: Any])
    XCTAssertEqual(doc["schema_version"] as? Int, 1)
    let scores = try XCTUnwrap(doc["scores"] as? [String: Double])
    XCTAssertEqual(try XCTUnwrap(scores["mauve"]), 0.9594478389434877, accuracy: 1e-12)
    let inputs = try XCTUnwrap(doc["inputs"] as? [String: [String: Any]])
    XCTAssertEqual((inputs["p"]?["sha256"] as? String)?.count, 64)
    XCTAssertEqual(inputs["q"]?["rows"] as? Int, 800)
    XCTAssertEqual((doc["divergence_curve"] as? [[Double]])?.count, 27)
    XCTAssertEqual((doc["per_seed"] as? [Any])?.count, 2)
    let settings = try XCTUnwrap(doc["settings"] as? [String: Any])
    XCTAssertEqual(settings["seeds"] as? [Int], [1, 2])
  }

  func testBadFeatureFilesFailWithOneLine() throws {
    let f = try SharedData.file("fixtures/mauve-synthetic/features.safetensors").path
    let good = try npy("good.npy", shape: [4, 3], values: (0..<12).map { Double($0 % 5) + 0.5 })
    let rank1 = try npy("rank1.npy", shape: [12], values: (0..<12).map(Double.init))
    let nan = try npy("nan.npy", shape: [4, 3], values: (0..<12).map { $0 == 7 ? .nan : Double($0) })
    let inf = try npy("inf.npy", shape: [4, 3], values: (0..<12).map { $0 == 2 ? -.infinity : Double($0) })
    let wide = try npy("wide.npy", shape: [3, 4], values: (0..<12).map(Double.init))
    let one = try npy("one.npy", shape: [1, 3], values: [1, 2, 3])
    let cases: [([String], String)] = [
      (["--p-features", rank1, "--q-features", good], "2-D"),
      (["--p-features", good, "--q-features", nan], "non-finite"),
      (["--p-features", inf, "--q-features", good], "non-finite"),
      (["--p-features", good, "--q-features", wide], "dimensions differ"),
      (["--p-features", one, "--q-features", good], "at least 2"),
      (["--p-features", f, "--q-features", good], "name one as FILE:TENSOR"),
      (["--p-features", f + ":nope", "--q-features", good], "no tensor 'nope'"),
      (["--p-features", "/nonexistent.npy", "--q-features", good], "no such file"),
      (["--p-features", good, "--q-features", good, "--num-buckets", "many"], "--num-buckets"),
      (["--p-features", good, "--q-features", good, "--explained-variance", "1.5"], "explained variance"),
    ]
    for (args, needle) in cases {
      let r = try run(["mauve"] + args)
      XCTAssertEqual(r.status, 1, "\(args): exit \(r.status), stderr: \(r.stderr)")
      XCTAssertEqual(r.errorLines.count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.errorLines.first?.contains(needle) ?? false, "\(args): \(r.stderr)")
    }
  }
}
