import XCTest
@testable import LTMTasks

final class LTMTasksSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
