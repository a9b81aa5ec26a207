import Foundation
import LTMTestSupport
import XCTest

/// Runs the built `ltm-bench` binary: bad input → exit 1 and exactly one `error:` line on stderr.
final class CommandLineTests: XCTestCase {
  private var binary: URL {
    // The test bundle sits beside the products: <build>/ltm-benchPackageTests.xctest
    var dir = Bundle(for: Self.self).bundleURL
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ltm-bench").path) && dir.path != "/" {
      dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("ltm-bench")
  }

  private func run(_ args: [String]) throws -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = binary
    p.arguments = args
    p.currentDirectoryURL = SharedData.packageRoot
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
  }

  private func tempDir() -> String {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-cli-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir.path
  }

  func testBadInputsExitNonZeroWithOneLine() throws {
    let data = try SharedData.file("data").path
    let model = try SharedData.file("fixtures/gpt2-tiny").path
    let cases: [([String], String)] = [
      (["zero-shot", "--model", "/nonexistent", "--tasks", "ptb", "--data-dir", data, "--output-dir", tempDir()], "/nonexistent"),
      (["zero-shot", "--model", model, "--tasks", "nosuchtask", "--data-dir", data, "--output-dir", tempDir()], "nosuchtask"),
      (["zero-shot", "--model", model, "--tasks", "ptb", "--data-dir", "/nonexistent-data", "--output-dir", tempDir()], "/nonexistent-data"),
      (["zero-shot", "--model", model, "--tasks", "ptb", "--data-dir", data, "--protocol", "bogus", "--output-dir", tempDir()], "bogus"),
      (["zero-shot", "--model", model, "--tasks", "ptb", "--data-dir", data, "--limit-blocks", "0", "--output-dir", tempDir()], "--limit-blocks"),
      (["zero-shot", "--model", model, "--tasks", "lm1b", "--split", "validation", "--data-dir", data, "--output-dir", tempDir()], "validation"),
    ]
    for (args, needle) in cases {
      let r = try run(args)
      XCTAssertEqual(r.status, 1, "\(args): exit \(r.status), stderr: \(r.stderr)")
      let errorLines = r.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }
      XCTAssertEqual(errorLines.count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(errorLines.first?.contains(needle) ?? false, "\(args): \(r.stderr)")
    }
  }

  func testZeroShotWritesBothReports() throws {
    let out = tempDir()
    let r = try run([
      "zero-shot", "--model", try SharedData.file("fixtures/gpt2-tiny").path, "--tasks", "ptb,lm1b", "--split", "test",
      "--data-dir", try SharedData.file("data").path, "--limit-blocks", "1", "--output-dir", out,
    ])
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/results.json"))
    XCTAssertTrue(FileManager.default.fileExists(atPath: out + "/report.html"))
    XCTAssertTrue(r.stdout.contains("ltm") && r.stdout.contains("exact"), r.stdout)
  }
}
