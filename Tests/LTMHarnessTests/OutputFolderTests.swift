import Foundation
import XCTest
@testable import LTMHarness

/// The output folder is cleared of the temporary files a killed run left mid-write (#13), and only of those: a
/// young temporary file may be another run's write in progress.
final class OutputFolderTests: XCTestCase {
  func testStaleAtomicWriteLeftoversAreRemovedOnTheNextRun() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-out-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let stale = dir.appendingPathComponent(".dat.nosync1A2B.x9Yz01"), fresh = dir.appendingPathComponent(".dat.nosync3C4D.q1W2e3")
    let results = dir.appendingPathComponent("results.json")
    for file in [stale, fresh, results] { try Data("x".utf8).write(to: file) }
    let twoHoursAgo = Date().addingTimeInterval(-2 * 3600)
    for file in [stale, results] {
      try FileManager.default.setAttributes([.modificationDate: twoHoursAgo], ofItemAtPath: file.path)
    }
    try OutputFolder.prepare(dir)
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted(), [fresh.lastPathComponent, "results.json"])
  }
}
