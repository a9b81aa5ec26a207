import CBLAS
import Foundation

/// Eigen-decomposition of a symmetric matrix by the divide-and-conquer stages LAPACK's `dsyevd` runs, called one by
/// one: A = Q·T·Qᵀ (`dsytrd`, Householder reflectors), T = S·Λ·Sᵀ (`dstedc`), eigenvectors V = Q·S (`dormtr`). The
/// eigenvalues come first, and the last stage runs on the eigenvectors the caller keeps only, which is most of the
/// cost `dsyevd` spends beyond them (MAUVE keeps about 1/5 of 1280). Like `dsyevd`, a matrix whose largest entry
/// lies outside [2⁻⁴⁸⁵, 2⁴⁸⁵] (√(safe minimum / ε) and its inverse) is scaled into that range first and its
/// eigenvalues scaled back. The eigenvalues equal `dsyevd`'s bit for bit; the eigenvectors agree to about 1e-15
/// (its workspace layout differs), well below the fp32 rounding of the projected features.
struct SymmetricEigen {
  let n: Int
  /// Ascending.
  private(set) var eigenvalues: [Double]
  /// `dsytrd`'s output: the reflectors in the lower triangle (column-major), and their scalars.
  private var reflectors: [Double]
  private var tau: [Double]
  /// S, column-major: column i (row i of a row-major view) is T's eigenvector for eigenvalues[i].
  private var tridiagonalVectors: [Double]

  /// `a`: [n, n], symmetric (both triangles filled; the lower one in column-major terms is read).
  init(symmetric a: [Double], n: Int) throws {
    precondition(n >= 1 && a.count == n * n, "SymmetricEigen: \(a.count) values for \(n)×\(n)")
    self.n = n
    reflectors = a
    let largest = a.reduce(0.0) { Swift.max($0, abs($1)) }
    let rmin = 0x1p-485, rmax = 0x1p485
    let scale = largest > 0 && largest < rmin ? rmin / largest : largest > rmax ? rmax / largest : 1
    if scale != 1 { for i in reflectors.indices { reflectors[i] *= scale } }
    var diagonal = [Double](repeating: 0, count: n)
    var offDiagonal = [Double](repeating: 0, count: Swift.max(1, n - 1))
    tau = [Double](repeating: 0, count: Swift.max(1, n - 1))
    tridiagonalVectors = [Double](repeating: 0, count: n * n)
    try Self.tridiagonalize(&reflectors, n: n, diagonal: &diagonal, offDiagonal: &offDiagonal, tau: &tau)
    try Self.divideAndConquer(n: n, diagonal: &diagonal, offDiagonal: &offDiagonal, vectors: &tridiagonalVectors)
    eigenvalues = scale == 1 ? diagonal : diagonal.map { $0 / scale }
  }

  /// The eigenvectors of the `count` largest eigenvalues, [count, n] row-major, in ascending eigenvalue order
  /// (row r belongs to eigenvalues[n − count + r]).
  func leadingVectors(_ count: Int) throws -> [Double] {
    precondition((1...n).contains(count), "SymmetricEigen: \(count) of \(n) eigenvectors")
    var vectors = Array(tridiagonalVectors[((n - count) * n)...])
    var side: CChar = 76, uplo: CChar = 76, trans: CChar = 78  // "L", "L", "N"
    var rows = Int32(n), columns = Int32(count), info: Int32 = 0, lwork: Int32 = -1
    var query = 0.0
    dormtr_(&side, &uplo, &trans, &rows, &columns, reflectors, &rows, tau, &vectors, &rows, &query, &lwork, &info,
            1, 1, 1)
    guard info == 0 else { throw MauveError.numerical("dormtr workspace query failed (info \(info))") }
    lwork = Int32(Swift.max(1, query.rounded(.up)))
    var work = [Double](repeating: 0, count: Int(lwork))
    dormtr_(&side, &uplo, &trans, &rows, &columns, reflectors, &rows, tau, &vectors, &rows, &work, &lwork, &info,
            1, 1, 1)
    guard info == 0 else { throw MauveError.numerical("dormtr failed (info \(info))") }
    return vectors
  }

  private static func tridiagonalize(
    _ a: inout [Double], n: Int, diagonal: inout [Double], offDiagonal: inout [Double], tau: inout [Double]
  ) throws {
    var uplo: CChar = 76  // "L"
    var nn = Int32(n), info: Int32 = 0, lwork: Int32 = -1
    var query = 0.0
    dsytrd_(&uplo, &nn, &a, &nn, &diagonal, &offDiagonal, &tau, &query, &lwork, &info, 1)
    guard info == 0 else { throw MauveError.numerical("dsytrd workspace query failed (info \(info))") }
    lwork = Int32(Swift.max(1, query.rounded(.up)))
    var work = [Double](repeating: 0, count: Int(lwork))
    dsytrd_(&uplo, &nn, &a, &nn, &diagonal, &offDiagonal, &tau, &work, &lwork, &info, 1)
    guard info == 0 else { throw MauveError.numerical("dsytrd failed (info \(info))") }
  }

  private static func divideAndConquer(
    n: Int, diagonal: inout [Double], offDiagonal: inout [Double], vectors: inout [Double]
  ) throws {
    var compz: CChar = 73  // "I": eigenvectors of the tridiagonal matrix itself
    var nn = Int32(n), info: Int32 = 0, lwork: Int32 = -1, liwork: Int32 = -1
    var query = 0.0
    var iquery: Int32 = 0
    dstedc_(&compz, &nn, &diagonal, &offDiagonal, &vectors, &nn, &query, &lwork, &iquery, &liwork, &info, 1)
    guard info == 0 else { throw MauveError.numerical("dstedc workspace query failed (info \(info))") }
    lwork = Int32(Swift.max(1, query.rounded(.up)))
    liwork = Swift.max(1, iquery)
    var work = [Double](repeating: 0, count: Int(lwork))
    var iwork = [Int32](repeating: 0, count: Int(liwork))
    dstedc_(&compz, &nn, &diagonal, &offDiagonal, &vectors, &nn, &work, &lwork, &iwork, &liwork, &info, 1)
    guard info == 0 else {
      throw MauveError.numerical("dstedc failed to converge (info \(info)) on the \(n)×\(n) covariance")
    }
  }
}
