import Foundation
import LTMCheckpoint
import LTMTensor
import LTMTestSupport
import XCTest
@testable import LTMMauve

/// MAUVE from features against mauve-text 0.4.0 (faiss-cpu 1.15.1, scikit-learn 1.9.1) on the shared synthetic
/// fixture: float64 p_features 1000×64 and q_features 800×64, three settings. Histograms must be identical and every
/// score within 1e-6.
final class MauveParityTests: XCTestCase {
  private static var loaded: (p: FeatureMatrix, q: FeatureMatrix, expected: [String: Any])?

  private func fixture() throws -> (p: FeatureMatrix, q: FeatureMatrix, expected: [String: Any]) {
    if let l = Self.loaded { return l }
    BLAS.threads = 1
    let archive = try Safetensors.load(try SharedData.file("fixtures/mauve-synthetic/features.safetensors"))
    func matrix(_ name: String) throws -> FeatureMatrix {
      let t = try XCTUnwrap(archive.tensors[name], name)
      XCTAssertEqual(t.dtype, .f64)
      return FeatureMatrix(values: try t.doubles(), rows: t.shape[0], cols: t.shape[1])
    }
    let l = (try matrix("p_features"), try matrix("q_features"), try SharedData.json("fixtures/mauve-synthetic/expected.json"))
    Self.loaded = l
    return l
  }

  private func check(run name: String) throws {
    let (p, q, expected) = try fixture()
    let runs = try XCTUnwrap(expected["runs"] as? [String: [String: Any]])
    let run = try XCTUnwrap(runs[name], name)
    let kwargs = try XCTUnwrap(run["kwargs"] as? [String: Any])
    var settings = MauveSettings()
    if let k = kwargs["num_buckets"] as? Int { settings.numBuckets = k }
    if let s = kwargs["seed"] as? Int { settings.seed = s }
    let result = try Mauve.compute(p: p, q: q, settings: settings)
    XCTAssertEqual(result.numBuckets, run["num_buckets"] as? Int, "\(name) num_buckets")
    XCTAssertEqual(result.pHist, try XCTUnwrap(run["p_hist"] as? [Double]), "\(name) p_hist")
    XCTAssertEqual(result.qHist, try XCTUnwrap(run["q_hist"] as? [Double]), "\(name) q_hist")
    for (key, value) in [("mauve", result.mauve), ("mauve_star", result.mauveStar),
                         ("frontier_integral", result.frontierIntegral),
                         ("frontier_integral_star", result.frontierIntegralStar)] {
      let want = try XCTUnwrap(run[key] as? Double, key)
      XCTAssertEqual(value, want, accuracy: 1e-6, "\(name) \(key)")
      XCTAssertEqual(value, want, accuracy: 1e-12, "\(name) \(key) (given equal histograms the math is exact)")
    }
    let curve = try XCTUnwrap(run["divergence_curve"] as? [[Double]])
    XCTAssertEqual(result.divergenceCurve.count, curve.count)
    for (a, b) in zip(result.divergenceCurve, curve) {
      XCTAssertEqual(a[0], b[0], accuracy: 1e-12, "\(name) curve x")
      XCTAssertEqual(a[1], b[1], accuracy: 1e-12, "\(name) curve y")
    }
  }

  func testDefaultSettings() throws { try check(run: "defaults") }
  func testTwentyFiveBucketsSeedOne() throws { try check(run: "k25_seed1") }
  func testSeedSeven() throws { try check(run: "seed7") }

  /// The fixed-point stop (faiss ≥ 1.14) changes nothing: running all 500 iterations of every restart gives the same
  /// histograms, and the restarts did stop early.
  func testFixedPointStopEqualsAllIterations() throws {
    let (p, q, _) = try fixture()
    var settings = MauveSettings()
    let early = try Mauve.compute(p: p, q: q, settings: settings)
    settings.stopAtFixedPoint = false
    let all = try Mauve.compute(p: p, q: q, settings: settings)
    XCTAssertEqual(early.pHist, all.pHist)
    XCTAssertEqual(early.qHist, all.qHist)
    XCTAssertEqual(early.kmeansObjectives, all.kmeansObjectives)
    XCTAssertEqual(all.kmeansIterations, [500, 500, 500, 500, 500])
    XCTAssertTrue(early.kmeansIterations.allSatisfy { $0 < 100 }, "\(early.kmeansIterations)")
  }
}
