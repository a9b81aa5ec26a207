import CBLAS

/// The one place the project calls into OpenBLAS. Every matmul in the project goes through `gemm`.
public enum BLAS {
  /// Threads OpenBLAS (and the `Parallel` row kernels) may use. Set once at start-up from `--threads`; results are reproducible for a
  /// fixed thread count (BLAS reductions may differ across counts in the last bits).
  public static var threads: Int {
    get { Int(openblas_get_num_threads()) }
    set {
      openblas_set_num_threads(Int32(max(1, newValue)))
      Parallel.threads = max(1, newValue)
    }
  }

  /// Runs `body` with OpenBLAS limited to one thread, for code that calls many small GEMMs from several threads
  /// at once (OpenBLAS's own threading would then contend for one shared thread pool). Restores the setting after.
  public static func withSingleThreadedCalls<T>(_ body: () throws -> T) rethrows -> T {
    let saved = Int(openblas_get_num_threads())
    if saved == 1 { return try body() }
    openblas_set_num_threads(1)
    defer { openblas_set_num_threads(Int32(saved)) }
    return try body()
  }

  /// C[m×n] = alpha · op(A)[m×k] · op(B)[k×n] + beta · C, all row-major.
  /// `lda`, `ldb`, `ldc` are the row strides of A, B, C as stored (before the transpose).
  @inlinable
  public static func gemm(
    transA: Bool = false, transB: Bool = false,
    m: Int, n: Int, k: Int,
    alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }
}
