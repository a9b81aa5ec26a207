import Foundation
import XCTest
@testable import LTMHarness

/// The digest and token caches: a digest is reused only while the file is provably unchanged, and a token entry
/// only when its checksum and sizes hold.
final class StartupCacheTests: XCTestCase {
  private var home: URL!

  override func setUpWithError() throws {
    home = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-startup-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
    setenv("LTM_BENCH_HOME", home.path, 1)
  }

  override func tearDownWithError() throws {
    unsetenv("LTM_BENCH_HOME")
    try? FileManager.default.removeItem(at: home)
  }

  func testADigestIsReusedOnlyWhileTheFileIsUnchanged() throws {
    let file = home.appendingPathComponent("weights.bin")
    try Data("first contents".utf8).write(to: file)
    var computed = 0
    func digest() throws -> String {
      try DigestCache.sha256(of: file) {
        computed += 1
        return try Digests.hashFile(file)
      }.hex
    }
    let a = try digest(), b = try digest()
    XCTAssertEqual(a, b)
    XCTAssertEqual(computed, 1, "the second call hashed again")
    // Same size, contents changed, modification time put back: ctime still moves, so the digest is recomputed.
    var before = stat()
    stat(file.path, &before)
    try Data("other contents".utf8).write(to: file)
    var times = [before.st_atim, before.st_mtim]
    utimensat(AT_FDCWD, file.path, &times, 0)
    let c = try digest()
    XCTAssertEqual(computed, 2)
    XCTAssertNotEqual(c, a)
    XCTAssertEqual(c, try Digests.hashFile(file).hex)
  }

  func testTokenEntriesRoundTripAndDamageIsRejected() throws {
    let ids: [[Int32]] = [[1, 2, 3], [], [50256, -1, Int32.max]]
    let data = TokenCache.encode(ids)
    XCTAssertEqual(TokenCache.decode(data), ids)
    for position in [0, 9, data.count / 2, data.count - 1] {
      var damaged = data
      damaged[position] ^= 0x40
      XCTAssertNil(TokenCache.decode(damaged), "byte \(position) flipped and still trusted")
    }
    XCTAssertNil(TokenCache.decode(data.prefix(data.count - 5)))
    XCTAssertNil(TokenCache.decode(Data()))
  }
}
