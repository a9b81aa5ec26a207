import XCTest
@testable import LTMTensor

final class LTMTensorSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
