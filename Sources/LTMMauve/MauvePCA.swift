import CBLAS
import LTMTensor

/// The preprocessing of mauve-text's `cluster_feats`, in float64 like scikit-learn's on float64 input:
/// row-wise L2 normalisation, then `PCA(n_components=None)` fitted on all rows and truncated to the leading
/// components that explain `explainedVariance` of the variance, then one cast to fp32 for k-means.
///
/// The PCA is the `covariance_eigh` solver (scikit-learn's choice when d ≤ 1000 and n ≥ 10·d, and what
/// mauve.md §4.2 found bit-compatible with the reference's full-SVD path too):
///   μ = (1/n)·Σᵢ xᵢ,   C = (XᵀX − n·μμᵀ) / (n − 1),   C = V Λ Vᵀ (dsyevd's stages, `SymmetricEigen`),
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
    var covariance = [Double](repeating: 0, count: d * d)
    var mean = [Double](repeating: 0, count: d)
    x.withUnsafeMutableBufferPointer { xb in
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
      covariance.withUnsafeMutableBufferPointer { cb in
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
      }
    }
    let eigen = try SymmetricEigen(symmetric: consume covariance, n: d)
    // Eigenvalues come ascending: reverse them to descending order and clip λ < 0.
    let lambda = eigen.eigenvalues.reversed().map { max(0, $0) }
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
    // The kept eigenvectors come in ascending eigenvalue order, one per row: reverse them, and fix each
    // component's sign as scikit-learn's svd_flip(u_based_decision=False) does (largest-|v| entry positive). The
    // sign does not change the clustering (k-means is exactly invariant to flipping a coordinate), only what the
    // projection looks like.
    let leading = try eigen.leadingVectors(keep)
    var sorted = [Double](repeating: 0, count: keep * d)
    for c in 0..<keep {
      let src = keep - 1 - c
      var maxAbs = -1.0, sign = 1.0
      for j in 0..<d where abs(leading[src * d + j]) > maxAbs {
        maxAbs = abs(leading[src * d + j])
        sign = leading[src * d + j] < 0 ? -1 : 1
      }
      for j in 0..<d { sorted[c * d + j] = sign * leading[src * d + j] }
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
}
