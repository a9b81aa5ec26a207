import XCTest
@testable import LTMMauve

/// The bounds that let rows skip the distance GEMM (`KMeansBounds`) and the reuse of unchanged clusters and objective
/// terms (`LloydLoop`) must not change a single value: every fit is run with both, with each alone and with neither,
/// and compared bit for bit (labels, centroids, objectives, iterations).
final class KMeansPruningTests: XCTestCase {
  /// `rows` points around `centres` cluster centres with a decaying spectrum (like `bench --mauve`'s features),
  /// each distinct point repeated `repeats` times.
  private func features(rows: Int, dims: Int, centres: Int, repeats: Int = 1, seed: UInt64) -> [Float] {
    var state = seed
    func gaussian() -> Float {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      let u1 = Double((state >> 11) | 1) / Double(1 << 53)
      state = state &* 6364136223846793005 &+ 1442695040888963407
      let u2 = Double(state >> 11) / Double(1 << 53)
      return Float((-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2))
    }
    let scale = (0..<dims).map { Float(Foundation.pow(1 + Double($0), -0.6)) }
    let centre = (0..<(centres * dims)).map { 0.4 * gaussian() * scale[$0 % dims] }
    var out: [Float] = []
    for r in 0..<(rows / repeats) {
      let c = r % centres
      let point = (0..<dims).map { centre[c * dims + $0] + gaussian() * scale[$0] }
      for _ in 0..<repeats { out += point }
    }
    return out
  }

  private func assertSameFit(
    _ x: [Float], dims: Int, settings: FaissKMeans.Settings, file: StaticString = #filePath, line: UInt = #line
  ) throws -> FaissKMeans.Result {
    var plain = settings
    plain.pruneWithBounds = false
    plain.reuseUnchanged = false
    var boundsOnly = settings, reuseOnly = settings
    boundsOnly.reuseUnchanged = false
    reuseOnly.pruneWithBounds = false
    let rows = x.count / dims
    let full = try FaissKMeans.fit(x, rows: rows, dims: dims, settings: plain)
    XCTAssertEqual(full.distanceRowsComputed, full.distanceRowsVisited, "without bounds every row is computed",
                   file: file, line: line)
    var pruned: FaissKMeans.Result?
    for (name, variant) in [("bounds and reuse", settings), ("bounds only", boundsOnly), ("reuse only", reuseOnly)] {
      let fit = try FaissKMeans.fit(x, rows: rows, dims: dims, settings: variant)
      let labelsDiffer = zip(fit.labels, full.labels).filter { $0 != $1 }.count
      let centroidsDiffer = zip(fit.centroids, full.centroids).filter { $0.bitPattern != $1.bitPattern }.count
      XCTAssertEqual(labelsDiffer, 0, "\(name): labels that differ", file: file, line: line)
      XCTAssertEqual(centroidsDiffer, 0, "\(name): centroid values that differ", file: file, line: line)
      XCTAssertEqual(fit.objectives.map(\.bitPattern), full.objectives.map(\.bitPattern), "\(name): objectives",
                     file: file, line: line)
      XCTAssertEqual(fit.iterationsRun, full.iterationsRun, "\(name): iterations", file: file, line: line)
      XCTAssertEqual(fit.bestRestart, full.bestRestart, "\(name)", file: file, line: line)
      pruned = pruned ?? fit
    }
    return pruned!
  }

  func testBoundsSkipRowsAndChangeNoLabel() throws {
    let x = features(rows: 3000, dims: 64, centres: 20, seed: 1)
    let pruned = try assertSameFit(x, dims: 64, settings: .init(clusters: 150, restarts: 3, seed: 4))
    XCTAssertLessThan(Double(pruned.distanceRowsComputed), 0.7 * Double(pruned.distanceRowsVisited),
                      "the bounds should spare a good part of the GEMM rows")
  }

  func testSubsampledTrainingSet() throws {
    let x = features(rows: 2000, dims: 24, centres: 8, seed: 2)
    _ = try assertSameFit(x, dims: 24, settings: .init(clusters: 40, restarts: 2, seed: 9, maxPointsPerCentroid: 20))
  }

  /// Repeated points start several centroids on the same spot: clusters empty out and are split, which moves the
  /// donor centroids too.
  func testEmptyClusterSplits() throws {
    let x = features(rows: 1200, dims: 16, centres: 5, repeats: 6, seed: 3)
    _ = try assertSameFit(x, dims: 16, settings: .init(clusters: 60, restarts: 3, seed: 5))
  }

  /// More clusters than distinct points: some clusters are empty at every iteration and are split off a donor whose
  /// members may not change, so the donor's nudged centroid must be recomputed (not kept) at the next update.
  func testClustersEmptyAtEveryIteration() throws {
    let x = features(rows: 240, dims: 8, centres: 3, repeats: 24, seed: 7)
    for seed: Int64 in [1, 2, 3] {
      _ = try assertSameFit(x, dims: 8, settings: .init(clusters: 14, iterations: 40, restarts: 2, seed: seed))
    }
  }

  /// Without the fixed-point stop the later iterations change nothing, and nearly every row is proven.
  func testAllIterationsAreNearlyFree() throws {
    let x = features(rows: 1500, dims: 32, centres: 10, seed: 4)
    let pruned = try assertSameFit(
      x, dims: 32, settings: .init(clusters: 50, iterations: 120, restarts: 1, seed: 6, stopAtFixedPoint: false))
    XCTAssertLessThan(Double(pruned.distanceRowsComputed), 0.3 * Double(pruned.distanceRowsVisited))
  }
}
