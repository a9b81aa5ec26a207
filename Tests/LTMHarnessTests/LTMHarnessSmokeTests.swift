import XCTest
@testable import LTMHarness

final class LTMHarnessSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
