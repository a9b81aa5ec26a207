import Foundation
import LTMTestSupport
import XCTest
@testable import LTMMauve

/// The pieces under MAUVE: faiss's RNG, numpy's summation and rounding conventions, the curve and FI formulas.
final class MauveComponentTests: XCTestCase {
  func testMT19937MatchesTheStandard() {
    // C++ [rand.predef]: the 10000th output of a default-constructed std::mt19937 (seed 5489) is 4123659995.
    var g = MT19937(seed: 5489)
    var v: UInt32 = 0
    for _ in 0..<10_000 { v = g.next() }
    XCTAssertEqual(v, 4_123_659_995)
    // faiss seeds with (unsigned int) seed: only the low 32 bits count.
    var a = MT19937(seed: 28), b = MT19937(seed: 28 + (1 << 32))
    XCTAssertEqual(a.next(), b.next())
  }

  func testPermutationIsForwardFisherYates() {
    let perm = MT19937.permutation(1000, seed: 27)
    XCTAssertEqual(perm.sorted(), Array(0..<1000))
    // Recompute the first swaps by hand: j = i + mt() % (n − i).
    var g = MT19937(seed: 27)
    var ref = Array(0..<1000)
    for i in 0..<999 { ref.swapAt(i, i + Int(g.next() % UInt32(1000 - i))) }
    XCTAssertEqual(perm, ref)
    XCTAssertEqual(MT19937.permutation(1, seed: 3), [0])
  }

  func testRandFloatIsOutputOverTwoToThe32() {
    var g = MT19937(seed: 1234), h = MT19937(seed: 1234)
    for _ in 0..<100 { XCTAssertEqual(g.randFloat(), Float(h.next()) / 4_294_967_296) }
  }

  func testAutoBucketsRoundHalfToEven() {
    XCTAssertEqual(MauveSettings.autoBuckets(pRows: 25, qRows: 100), 2)
    XCTAssertEqual(MauveSettings.autoBuckets(pRows: 350, qRows: 35), 4)
    XCTAssertEqual(MauveSettings.autoBuckets(pRows: 45, qRows: 45), 4)
    XCTAssertEqual(MauveSettings.autoBuckets(pRows: 5, qRows: 5), 2)
    XCTAssertEqual(MauveSettings.autoBuckets(pRows: 1000, qRows: 800), 80)
    XCTAssertEqual(MauveSettings.autoBuckets(pRows: 5000, qRows: 5000), 500)
  }

  func testPairwiseSumFollowsNumpyBlocking() {
    // 1e16 + 1 + … : the order of additions decides the result, so these pin the blocking.
    XCTAssertEqual(NumpySum.pairwise([1e16, 1, 1, 1]), 1e16)  // sequential: each +1 is lost
    var eight = [Double](repeating: 1, count: 16)
    eight[0] = 1e16
    // Eight lanes: r0 = 1e16 + 1 (lost), r1..r7 = 2 each; ((r0+r1)+(r2+r3))+((r4+r5)+(r6+r7)) = 1e16 + 2 + 4 + 8.
    XCTAssertEqual(NumpySum.pairwise(eight), 1e16 + 14)
    let many = (0..<1000).map { Double($0) * 0.1 }
    XCTAssertEqual(NumpySum.pairwise(many), many.reduce(0, +), accuracy: 1e-9)
  }

  func testLinspaceLikeNumpy() {
    let l = MauveCurve.linspace(1e-6, 1 - 1e-6, count: 25)
    XCTAssertEqual(l.count, 25)
    XCTAssertEqual(l[0], 1e-6)
    XCTAssertEqual(l[24], 1 - 1e-6)
    XCTAssertEqual(l[1], 1 * ((1 - 1e-6 - 1e-6) / 24) + 1e-6)
  }

  func testIdenticalHistogramsAndDisjointOnes() {
    var s = MauveSettings()
    s.curvePoints = 25
    // Disjoint supports: every interior point is (exp(−c·ln 1/(1−λ)), …) and the area is small but positive.
    let disjoint = Mauve.scores(pCounts: [10, 0], qCounts: [0, 10], settings: s, seed: 0)
    XCTAssertLessThan(disjoint.mauve, 0.05)
    XCTAssertEqual(disjoint.frontierIntegral, 1, accuracy: 1e-12)  // 2·(½/4·… ) = p/4 + q/4 summed, ×2
    // Count histograms that are equal but not dyadic: the curve is (1,1) at every λ up to rounding → MAUVE ≈ 1.
    let same = Mauve.scores(pCounts: [3, 7, 11], qCounts: [3, 7, 11], settings: s, seed: 0)
    XCTAssertEqual(same.mauve, 1, accuracy: 1e-9)
    XCTAssertEqual(same.frontierIntegral, 0)
    XCTAssertEqual(same.divergenceCurve.count, 27)
    XCTAssertEqual(same.divergenceCurve.first, [1, 0])
    XCTAssertEqual(same.divergenceCurve.last, [0, 1])
  }

  func testKrichevskyTrofimov() {
    XCTAssertEqual(MauveCurve.krichevskyTrofimov([0, 1, 3]), [0.5 / 5.5, 1.5 / 5.5, 3.5 / 5.5])
  }

  func testFrontierIntegralHandCase() {
    let p = [0.5, 0.5, 0], q = [0.25, 0.5, 0.25]
    let t0 = 0.25 * 0.75 - 0.5 * 0.5 * 0.25 * (log(0.5) - log(0.25)) / 0.25
    XCTAssertEqual(MauveCurve.frontierIntegral(p: p, q: q), 2 * (t0 + 0 + 0.25 / 4), accuracy: 1e-15)
  }

  func testSettingsAndInputsAreValidated() throws {
    let ok = FeatureMatrix(values: (0..<20).map(Double.init), rows: 5, cols: 4)
    var s = MauveSettings()
    s.explainedVariance = 1
    XCTAssertThrowsError(try Mauve.compute(p: ok, q: ok, settings: s))
    s = MauveSettings()
    s.numBuckets = 11
    XCTAssertThrowsError(try Mauve.compute(p: ok, q: ok, settings: s)) { XCTAssertTrue("\($0)".contains("num_buckets 11")) }
    let one = FeatureMatrix(values: [1, 2, 3, 4], rows: 1, cols: 4)
    XCTAssertThrowsError(try Mauve.compute(p: one, q: ok)) { XCTAssertTrue("\($0)".contains("at least 2")) }
    var nan = ok
    nan.values[6] = .nan
    XCTAssertThrowsError(try Mauve.compute(p: ok, q: nan)) { XCTAssertTrue("\($0)".contains("row 1, column 2"), "\($0)") }
    let narrow = FeatureMatrix(values: (0..<15).map(Double.init), rows: 5, cols: 3)
    XCTAssertThrowsError(try Mauve.compute(p: ok, q: narrow)) { XCTAssertTrue("\($0)".contains("columns")) }
  }

  func testSeedSummaryIsSampleStd() {
    func r(_ m: Double, _ seed: Int) -> MauveResult {
      MauveResult(mauve: m, mauveStar: m, frontierIntegral: 0, frontierIntegralStar: 0, numBuckets: 2, seed: seed,
                  pHist: [], qHist: [], divergenceCurve: [], pcaDims: 0, kmeansObjectives: [], kmeansIterations: [],
                  kmeansBestRestart: 0)
    }
    let s = MauveSeedSummary([r(0.9, 1), r(0.92, 2), r(0.94, 3)])
    XCTAssertEqual(s.mauve.mean, 0.92, accuracy: 1e-15)
    XCTAssertEqual(s.mauve.std, 0.02, accuracy: 1e-15)
    XCTAssertEqual(s.seeds, [1, 2, 3])
  }
}
