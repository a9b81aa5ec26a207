import Foundation
import XCTest
@testable import LTMReports

/// Renders the fixture report in headless Chromium and checks the screenshot is a page, not a blank: many
/// colours, ink on a good share of the pixels, and the bar charts' colours present (the inline SVG rendered).
///
/// Chromium comes from Debian's `chromium` package, which `.ci/setup` tries to install. Where that package is
/// installable (`apt-cache policy chromium` shows a candidate) but Chromium is missing, the test fails and says
/// to run `.ci/setup`; on a machine without the package at all it is skipped.
final class ChromiumRenderTests: XCTestCase {
  func testReportRendersToANonBlankPNG() throws {
    let chromium = try Self.chromium()
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-chromium-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    let page = dir.appendingPathComponent("report.html")
    let png = dir.appendingPathComponent("report.png")
    try HTMLReportFixtureTests.renderFixture().write(to: page, atomically: true, encoding: .utf8)

    let (status, output) = try Self.run(chromium, [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
      "--user-data-dir=\(dir.appendingPathComponent("profile").path)", "--window-size=1280,2400",
      "--screenshot=\(png.path)", page.absoluteString,
    ], timeout: 120)
    XCTAssertEqual(status, 0, output)
    let image = try PNGImage(data: Data(contentsOf: png))
    XCTAssertEqual(image.width, 1280)
    XCTAssertEqual(image.height, 2400)

    var colours = Set<UInt32>()
    var ink = 0, blue = 0, orange = 0
    for y in Swift.stride(from: 0, to: image.height, by: 2) {
      for x in Swift.stride(from: 0, to: image.width, by: 2) {
        let (r, g, b) = image.rgb(x, y)
        colours.insert(UInt32(r) << 16 | UInt32(g) << 8 | UInt32(b))
        if Int(r) + Int(g) + Int(b) < 600 { ink += 1 }
        if close((r, g, b), (0x2f, 0x5d, 0x9a)) { blue += 1 }
        if close((r, g, b), (0xd9, 0x82, 0x2b)) { orange += 1 }
      }
    }
    let sampled = (image.width / 2) * (image.height / 2)
    XCTAssertGreaterThan(colours.count, 50, "a blank or flat page")
    XCTAssertGreaterThan(Double(ink) / Double(sampled), 0.02, "almost no ink on the page")
    XCTAssertGreaterThan(blue, 100, "no GPT-2 bars (the SVG chart did not render)")
    XCTAssertGreaterThan(orange, 100, "no LTM bars (the SVG chart did not render)")
  }

  private func close(_ a: (UInt8, UInt8, UInt8), _ b: (Int, Int, Int)) -> Bool {
    abs(Int(a.0) - b.0) + abs(Int(a.1) - b.1) + abs(Int(a.2) - b.2) < 24
  }

  struct Missing: Error, CustomStringConvertible {
    var description: String
  }

  /// The Chromium binary on PATH; a failure when Debian could install it but it is missing; a skip otherwise.
  static func chromium() throws -> URL {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
    for dir in path.split(separator: ":") {
      for name in ["chromium", "chromium-browser"] {
        let candidate = URL(fileURLWithPath: String(dir)).appendingPathComponent(name)
        if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      }
    }
    if let policy = try? run(URL(fileURLWithPath: "/usr/bin/apt-cache"), ["policy", "chromium"], timeout: 60).output,
       let candidate = policy.split(separator: "\n").first(where: { $0.contains("Candidate:") }),
       !candidate.contains("(none)") {
      throw Missing(description: "chromium is installable from Debian packages (apt-cache policy chromium: \(candidate.trimmingCharacters(in: .whitespaces))) but not installed: run `bash .ci/setup` (or apt-get install chromium)")
    }
    throw XCTSkip("chromium is neither installed nor installable from Debian packages here")
  }

  /// Runs a process to completion (killed after `timeout` seconds), returning its status and merged output.
  /// Output goes to a file, not a pipe: Chromium's helper processes may keep a pipe open after it exits.
  static func run(_ executable: URL, _ arguments: [String], timeout: TimeInterval) throws -> (status: Int32, output: String) {
    let log = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-process-\(UUID().uuidString).log")
    FileManager.default.createFile(atPath: log.path, contents: nil)
    defer { try? FileManager.default.removeItem(at: log) }
    let handle = try FileHandle(forWritingTo: log)
    let p = Process()
    p.executableURL = executable
    p.arguments = arguments
    p.standardOutput = handle
    p.standardError = handle
    try p.run()
    let deadline = Date().addingTimeInterval(timeout)
    while p.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
    if p.isRunning { p.terminate() }
    p.waitUntilExit()
    try handle.close()
    return (p.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
  }
}
