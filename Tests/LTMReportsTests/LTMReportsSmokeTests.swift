import XCTest
@testable import LTMReports

final class LTMReportsSmokeTests: XCTestCase {
  func testModuleLinks() {}
}
