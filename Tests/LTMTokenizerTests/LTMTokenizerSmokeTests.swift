import XCTest
@testable import LTMTokenizer

final class LTMTokenizerSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
