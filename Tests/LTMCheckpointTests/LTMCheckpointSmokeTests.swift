import XCTest
@testable import LTMCheckpoint

final class LTMCheckpointSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
