import XCTest
@testable import LTMModels

final class LTMModelsSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
