import Foundation
import XCTest

@testable import LTMProcessLimits

/// The memory bound sizes from files are checked against (#13).
final class ProcessLimitsTests: XCTestCase {
  func testSizesParseInPowersOf1024AndRefuseAnythingElse() {
    XCTAssertEqual(UsableMemory.parseSize("1234"), 1234)
    XCTAssertEqual(UsableMemory.parseSize("64K"), 65536)
    XCTAssertEqual(UsableMemory.parseSize("1.5g"), 1_610_612_736)
    XCTAssertEqual(UsableMemory.parseSize(" 2T "), 2 << 40)
    for bad in ["", "12X", "0", "-5G", "nan", "GiB", "1GiB", "1e30"] {
      XCTAssertNil(UsableMemory.parseSize(bad), bad)
    }
  }

  func testTheLimitIsTheTightestOfMachineCgroupAndEnvironment() throws {
    let machine = try UsableMemory.limit(environment: [:])
    XCTAssertLessThanOrEqual(machine.bytes, ProcessInfo.processInfo.physicalMemory)
    XCTAssertGreaterThan(machine.bytes, 1 << 26, "this process runs, so it may use more than 64 MiB")
    if let cgroup = UsableMemory.cgroupLimit() { XCTAssertLessThanOrEqual(machine.bytes, cgroup) }
    XCTAssertEqual(try UsableMemory.limit(environment: ["LTM_BENCH_MEMORY_LIMIT": "1M"]), .init(bytes: 1 << 20, source: "LTM_BENCH_MEMORY_LIMIT"))
    XCTAssertEqual(try UsableMemory.limit(environment: ["LTM_BENCH_MEMORY_LIMIT": "1000T"]), machine, "a looser setting changes nothing")
    XCTAssertThrowsError(try UsableMemory.limit(environment: ["LTM_BENCH_MEMORY_LIMIT": "lots"])) { error in
      XCTAssertEqual(String(describing: error), "LTM_BENCH_MEMORY_LIMIT 'lots' is not a size (bytes, or a number with K, M, G or T)")
    }
    XCTAssertEqual(UsableMemory.describe(bytes: 3 << 29), "1.5 GiB")
    XCTAssertEqual(UsableMemory.describe(bytes: 3 << 19), "1.5 MiB")
  }
}
