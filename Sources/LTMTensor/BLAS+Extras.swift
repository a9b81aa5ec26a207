import CBLAS

/// BLAS beyond `gemm`: float64 products for the few computations that must match a float64 reference closely (the
/// MAUVE PCA: covariance and projection run in double like scikit-learn's, before one cast to fp32), and the
/// matrix–vector product for one-row decoding steps.
extension BLAS {
  /// y = op(A)·x for a row-major A[rows×cols]: y[rows] = A·x, or with `transposed` y[cols] = Aᵀ·x (`sgemv`).
  /// A single decoded token's projections are these: gemv streams the weights once, where a 1-row gemm would
  /// first pack them.
  @inlinable
  public static func gemv(
    transposed: Bool, rows: Int, cols: Int, a: UnsafePointer<Float>, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>
  ) {
    cblas_sgemv(CblasRowMajor, transposed ? CblasTrans : CblasNoTrans, Int32(rows), Int32(cols), 1, a, Int32(cols), x, 1, 0, y, 1)
  }

  /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, row-major double (`dgemm`).
  @inlinable
  public static func dgemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Double = 1,
    a: UnsafePointer<Double>, lda: Int,
    b: UnsafePointer<Double>, ldb: Int,
    beta: Double = 0,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// The lower triangle of C[n×n] = alpha · Aᵀ·A + beta · C for a row-major A[k×n] (`dsyrk`): the Gram matrix at
  /// half a GEMM's cost. The strict upper triangle of C is left untouched.
  @inlinable
  public static func dsyrkTransposed(
    n: Int, k: Int, alpha: Double = 1, a: UnsafePointer<Double>, lda: Int, beta: Double = 0,
    c: UnsafeMutablePointer<Double>, ldc: Int
  ) {
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasTrans, Int32(n), Int32(k), alpha, a, Int32(lda), beta, c, Int32(ldc))
  }
}
