import XCTest
@testable import LTMHarness
@testable import LTMMauve

/// At the size `bench --mauve` times (5000 + 5000 features, 258 kept dimensions, k = 500, 5 restarts), the k-means
/// with Elkan's bounds and the reuse of unchanged clusters gives the plain run's labels, centroids, objectives and
/// iterations bit for bit, and sends only a small share of the rows through the distance GEMM.
final class MauveBenchmarkKMeansTests: XCTestCase {
  func testPrunedKMeansEqualsTheFullScanAtBenchmarkSize() throws {
    let p = Benchmarks.mauveFeatures(rows: 5000, dims: 1280, seed: 1, shift: 0)
    let q = Benchmarks.mauveFeatures(rows: 5000, dims: 1280, seed: 2, shift: 0.05)
    let projection = try Mauve.prepare(p: p, q: q).projection
    func fit(pruned: Bool) throws -> FaissKMeans.Result {
      try FaissKMeans.fit(
        projection.features, rows: projection.rows, dims: projection.dims,
        settings: .init(clusters: 500, seed: 27, pruneWithBounds: pruned, reuseUnchanged: pruned))
    }
    let pruned = try fit(pruned: true), full = try fit(pruned: false)
    XCTAssertTrue(pruned.labels == full.labels, "labels differ")
    XCTAssertTrue(pruned.centroids.map(\.bitPattern) == full.centroids.map(\.bitPattern), "centroids differ")
    XCTAssertEqual(pruned.objectives.map(\.bitPattern), full.objectives.map(\.bitPattern))
    XCTAssertEqual(pruned.iterationsRun, full.iterationsRun)
    XCTAssertLessThan(Double(pruned.distanceRowsComputed), 0.2 * Double(pruned.distanceRowsVisited))
  }
}
