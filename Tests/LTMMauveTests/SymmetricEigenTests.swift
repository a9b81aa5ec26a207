import CBLAS
import XCTest
@testable import LTMMauve

/// `SymmetricEigen` runs dsyevd's stages one by one and back-transforms the kept eigenvectors only: its eigenvalues
/// must be dsyevd's, its eigenvectors dsyevd's to rounding, and a matrix far outside the safe range must be scaled.
final class SymmetricEigenTests: XCTestCase {
  /// A random covariance-like symmetric matrix [n, n] with a decaying spectrum.
  private func symmetric(_ n: Int, seed: UInt64) -> [Double] {
    var state = seed
    func uniform() -> Double {
      state = state &* 6364136223846793005 &+ 1442695040888963407
      return Double(state >> 11) / Double(1 << 53) - 0.5
    }
    let rows = 3 * n
    let x = (0..<(rows * n)).map { uniform() * Foundation.pow(1 + Double($0 % n), -0.6) }
    var c = [Double](repeating: 0, count: n * n)
    for i in 0..<n { for j in 0..<n { for r in 0..<rows { c[i * n + j] += x[r * n + i] * x[r * n + j] } } }
    return c.map { $0 / Double(rows) }
  }

  /// dsyevd on `a`: ascending eigenvalues, eigenvector i in row i.
  private func dsyevd(_ a: [Double], n: Int) -> (values: [Double], vectors: [Double]) {
    var a = a, w = [Double](repeating: 0, count: n)
    var jobz: CChar = 86, uplo: CChar = 76
    var nn = Int32(n), info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
    var query = 0.0
    var iquery: Int32 = 0
    dsyevd_(&jobz, &uplo, &nn, &a, &nn, &w, &query, &lwork, &iquery, &liwork, &info, 1, 1)
    lwork = Int32(query)
    liwork = iquery
    var work = [Double](repeating: 0, count: Int(lwork)), iwork = [Int32](repeating: 0, count: Int(liwork))
    dsyevd_(&jobz, &uplo, &nn, &a, &nn, &w, &work, &lwork, &iwork, &liwork, &info, 1, 1)
    XCTAssertEqual(info, 0)
    return (w, a)
  }

  func testEigenvaluesAreDsyevdsAndLeadingVectorsAgreeToRounding() throws {
    let n = 96, kept = 20
    let a = symmetric(n, seed: 3)
    let reference = dsyevd(a, n: n)
    let eigen = try SymmetricEigen(symmetric: a, n: n)
    XCTAssertEqual(eigen.eigenvalues.map(\.bitPattern), reference.values.map(\.bitPattern))
    let leading = try eigen.leadingVectors(kept)
    let expected = Array(reference.vectors[((n - kept) * n)...])
    let worst = zip(leading, expected).map { abs($0 - $1) }.max()!
    XCTAssertLessThan(worst, 1e-12, "the kept eigenvectors are dsyevd's (same signs) to rounding")
  }

  /// Entries near 1e-300 underflow in the reflectors' products unless the matrix is scaled first, as dsyevd does.
  func testTinyMatrixIsScaledIntoRange() throws {
    let n = 24
    let a = symmetric(n, seed: 5)
    let tiny = a.map { $0 * 1e-300 }
    let unscaled = try SymmetricEigen(symmetric: a, n: n)
    let scaled = try SymmetricEigen(symmetric: tiny, n: n)
    for (small, plain) in zip(scaled.eigenvalues, unscaled.eigenvalues) {
      XCTAssertEqual(small / 1e-300, plain, accuracy: 1e-9 * abs(unscaled.eigenvalues.last!))
    }
    let v = try scaled.leadingVectors(3), w = try unscaled.leadingVectors(3)
    XCTAssertLessThan(zip(v, w).map { abs(abs($0) - abs($1)) }.max()!, 1e-9)
  }
}
