import Foundation
import XCTest

@testable import LTMMetrics

/// Few-shot aggregations against values computed by hand.
final class FewShotMetricsTests: XCTestCase {
  func testPassAtKUnbiasedEstimator() {
    // 1 − C(n−c, k)/C(n, k).
    XCTAssertEqual(FewShotStatistics.passAtK(n: 5, correct: 1, k: 1), 0.2, accuracy: 1e-15)
    XCTAssertEqual(FewShotStatistics.passAtK(n: 5, correct: 2, k: 2), 1 - 3.0 / 10.0, accuracy: 1e-15)
    XCTAssertEqual(FewShotStatistics.passAtK(n: 10, correct: 3, k: 5), 1 - 21.0 / 252.0, accuracy: 1e-15)
    XCTAssertEqual(FewShotStatistics.passAtK(n: 5, correct: 0, k: 1), 0)
    XCTAssertEqual(FewShotStatistics.passAtK(n: 5, correct: 4, k: 2), 1)
    XCTAssertEqual(FewShotStatistics.passAtK(n: 5, correct: 5, k: 5), 1)
  }

  func testMeanAndClosedFormStandardError() {
    let (m, se) = FewShotStatistics.mean([1, 0, 1, 0])
    XCTAssertEqual(m, 0.5)
    // s = sqrt(1/3) (ddof 1), s.e. = s / 2.
    XCTAssertEqual(se!, (1.0 / 3.0).squareRoot() / 2, accuracy: 1e-15)
    XCTAssertNil(FewShotStatistics.mean([1]).stderr)
  }

  func testPerplexityAndSeededBootstrap() {
    let ll = [-2.0, -3.0, -4.0, -1.5, -2.5, -6.0, -0.5, -3.5]
    XCTAssertEqual(FewShotStatistics.perplexity(logLikelihoods: ll), exp(23.0 / 8), accuracy: 1e-12)
    func bootstrap(_ seed: UInt64) -> Double {
      var rng = LCG(state: seed)
      return FewShotStatistics.bootstrapStderr(ll, iterations: 2000, using: &rng) { FewShotStatistics.perplexity(logLikelihoods: $0) }!
    }
    let a = bootstrap(7)
    let b = bootstrap(7)
    XCTAssertEqual(a, b, "same seed, same standard error")
    // Reference: Python, statistics.stdev of exp(−mean(random.choices(ll, k=8))) over 200,000 resamples = 13.1595.
    // 2,000 resamples carry a few per cent of Monte Carlo error.
    XCTAssertEqual(a, 13.1595, accuracy: 0.08 * 13.1595)
    XCTAssertNotEqual(a, bootstrap(8))
    var rng = LCG(state: 0)
    XCTAssertNil(FewShotStatistics.bootstrapStderr([1], using: &rng) { $0[0] })
  }

  func testArgmaxTakesTheFirstOfTies() {
    XCTAssertEqual(FewShotStatistics.argmax([-3, -1, -1, -2]), 1)
  }
}

/// Knuth's MMIX linear congruential generator, high bits out: enough for resampling tests.
struct LCG: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return state ^ (state >> 29)
  }
}
