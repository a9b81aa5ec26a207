import CBLAS
import LTMTensor

/// The preprocessing of mauve-text's `cluster_feats`, in float64 like scikit-learn's on float64 input:
/// row-wise L2 normalisation, then `PCA(n_components=None)` fitted on all rows and truncated to the leading
/// components that explain `explainedVariance` of the variance, then one cast to fp32 for k-means.
///
/// The PCA is the `covariance_eigh` solver (scikit-learn's choice when d ≤ 1000 and n ≥ 10·d, and what
/// mauve.md §4.2 found bit-compatible with the reference's full-SVD path too):
///   μ = (1/n)·Σᵢ xᵢ,   C = (XᵀX − n·μμᵀ) / (n − 1),   C = V Λ Vᵀ (LAPACK dsyevd),
/// eigenvalues sorted descending and clipped at 0, ratioᵢ = λᵢ / Σλ, keep m = 1 + argmax(cumsum(ratio) ≥ τ)
/// components (argmax of an all-false mask is 0, so at least one), and project as scikit-learn's `transform`
/// does: Z = X·Vₘ − μ·Vₘ (the centring applied after the product).
public enum MauvePCA {
  public struct Projection: Sendable {
    /// [rows, dims] fp32, row-major: the k-means input.
    public var features: [Float]
    public var rows: Int
    /// Components kept.
    public var dims: Int
    /// Input dimension.
    public var inputDims: Int
    /// Explained-variance ratio of every component, descending.
    public var explainedVarianceRatio: [Double]
  }

  /// x ← x / ‖x‖₂ per row (`sklearn.preprocessing.normalize`); all-zero rows stay zero (their norm counts as 1).
  public static func normalizeRows(_ x: UnsafeMutablePointer<Double>, rows: Int, cols: Int) {
    Parallel.forChunks(of: rows, minimumChunk: 256) { range in
      for r in range {
        let row = x + r * cols
        var sq = 0.0
        for c in 0..<cols { sq += row[c] * row[c] }
        let norm = sq == 0 ? 1 : sq.squareRoot()
        for c in 0..<cols { row[c] /= norm }
      }
    }
  }

  /// Normalises `x` [rows, cols] in place and projects it; see the type's documentation for the equations.
  public static func project(_ x: inout [Double], rows n: Int, cols d: Int, explainedVariance tau: Double) throws
    -> Projection
  {
    guard n >= 2, d >= 1 else { throw MauveError.invalidInput("PCA needs at least 2 rows and 1 column, got \(n)×\(d)") }
    var components = [Double](repeating: 0, count: d * d)
    var eigenvalues = [Double](repeating: 0, count: d)
    var mean = [Double](repeating: 0, count: d)
    try x.withUnsafeMutableBufferPointer { xb in
      let xp = xb.baseAddress!
      normalizeRows(xp, rows: n, cols: d)
      // μ: a sequential sum down each column (numpy's axis-0 reduction order), then / n.
      mean.withUnsafeMutableBufferPointer { m in
        for r in 0..<n {
          let row = xp + r * d
          for c in 0..<d { m[c] += row[c] }
        }
        for c in 0..<d { m[c] /= Double(n) }
      }
      try components.withUnsafeMutableBufferPointer { cb in
        let cov = cb.baseAddress!
        // Lower triangle of XᵀX, then C = (XᵀX − (n·μ)μᵀ)/(n − 1), mirrored to a full symmetric matrix.
        BLAS.dsyrkTransposed(n: d, k: n, a: xp, lda: d, c: cov, ldc: d)
        for i in 0..<d {
          let scaled = Double(n) * mean[i]
          for j in 0...i {
            let v = (cov[i * d + j] - scaled * mean[j]) / Double(n - 1)
            cov[i * d + j] = v
            cov[j * d + i] = v
          }
        }
        try symmetricEigen(cov, n: d, eigenvalues: &eigenvalues)
      }
    }
    // dsyevd returns ascending eigenvalues with eigenvector i in row i of the row-major buffer (column i of the
    // column-major matrix). Reverse both to descending order, clip λ < 0, and fix each component's sign as
    // scikit-learn's svd_flip(u_based_decision=False) does (largest-|v| entry positive). The sign does not change
    // the clustering (k-means is exactly invariant to flipping a coordinate), only what the projection looks like.
    var sorted = [Double](repeating: 0, count: d * d)
    var lambda = [Double](repeating: 0, count: d)
    for c in 0..<d {
      let src = d - 1 - c
      lambda[c] = max(0, eigenvalues[src])
      var maxAbs = -1.0, sign = 1.0
      for j in 0..<d where abs(components[src * d + j]) > maxAbs {
        maxAbs = abs(components[src * d + j])
        sign = components[src * d + j] < 0 ? -1 : 1
      }
      for j in 0..<d { sorted[c * d + j] = sign * components[src * d + j] }
    }
    let total = NumpySum.pairwise(lambda)
    let ratio = lambda.map { $0 / total }
    var cumulative = 0.0
    var keep = 1
    for (i, r) in ratio.enumerated() {
      cumulative += r
      if cumulative >= tau {
        keep = i + 1
        break
      }
    }
    // Z = X·Vₘᵀ − μ·Vₘᵀ with Vₘ the first m component rows [m, d].
    var z = [Double](repeating: 0, count: n * keep)
    var shift = [Double](repeating: 0, count: keep)
    x.withUnsafeBufferPointer { xb in
      sorted.withUnsafeBufferPointer { vb in
        z.withUnsafeMutableBufferPointer { zb in
          BLAS.dgemm(transB: true, m: n, n: keep, k: d, a: xb.baseAddress!, lda: d, b: vb.baseAddress!, ldb: d,
                     c: zb.baseAddress!, ldc: keep)
        }
        mean.withUnsafeBufferPointer { mb in
          shift.withUnsafeMutableBufferPointer { sb in
            BLAS.dgemm(transB: true, m: 1, n: keep, k: d, a: mb.baseAddress!, lda: d, b: vb.baseAddress!, ldb: d,
                       c: sb.baseAddress!, ldc: keep)
          }
        }
      }
    }
    var features = [Float](repeating: 0, count: n * keep)
    features.withUnsafeMutableBufferPointer { fb in
      z.withUnsafeBufferPointer { zb in
        Parallel.forChunks(of: n, minimumChunk: 512) { range in
          for r in range {
            for c in 0..<keep { fb[r * keep + c] = Float(zb[r * keep + c] - shift[c]) }
          }
        }
      }
    }
    return Projection(features: features, rows: n, dims: keep, inputDims: d, explainedVarianceRatio: ratio)
  }

  /// Eigen-decomposition of the symmetric `a` [n, n] in place (LAPACK dsyevd, lower triangle in column-major terms,
  /// numpy.linalg.eigh's driver): ascending eigenvalues; on return row i of `a` holds eigenvector i.
  static func symmetricEigen(_ a: UnsafeMutablePointer<Double>, n: Int, eigenvalues: inout [Double]) throws {
    var jobz: CChar = 86  // "V"
    var uplo: CChar = 76  // "L"
    var nn = Int32(n), lda = Int32(n), info: Int32 = 0
    var lwork: Int32 = -1, liwork: Int32 = -1
    var workQuery = 0.0
    var iworkQuery: Int32 = 0
    eigenvalues.withUnsafeMutableBufferPointer { w in
      dsyevd_(&jobz, &uplo, &nn, a, &lda, w.baseAddress!, &workQuery, &lwork, &iworkQuery, &liwork, &info, 1, 1)
    }
    guard info == 0 else { throw MauveError.numerical("dsyevd workspace query failed (info \(info))") }
    lwork = Int32(workQuery.rounded(.up))
    liwork = iworkQuery
    var work = [Double](repeating: 0, count: Int(max(1, lwork)))
    var iwork = [Int32](repeating: 0, count: Int(max(1, liwork)))
    eigenvalues.withUnsafeMutableBufferPointer { w in
      work.withUnsafeMutableBufferPointer { wk in
        iwork.withUnsafeMutableBufferPointer { iw in
          dsyevd_(&jobz, &uplo, &nn, a, &lda, w.baseAddress!, wk.baseAddress!, &lwork, iw.baseAddress!, &liwork, &info, 1, 1)
        }
      }
    }
    guard info == 0 else { throw MauveError.numerical("dsyevd failed to converge (info \(info)) on the \(n)×\(n) covariance") }
  }
}
