import Dispatch

/// Splits row-wise work (layer norms, activations, softmax rows, output log-sum-exps) across the threads the run
/// was given. BLAS calls thread themselves; this covers everything between them.
public enum Parallel {
  /// Threads for non-BLAS work; set together with `BLAS.threads`.
  nonisolated(unsafe) public static var threads: Int = 1

  /// Calls `body(range)` on disjoint, contiguous chunks covering 0..<count, concurrently when worthwhile.
  /// `minimumChunk` keeps tiny jobs on one thread (a dispatch costs a few microseconds).
  @inlinable
  public static func forChunks(of count: Int, minimumChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let workers = Swift.max(1, Swift.min(threads, count / Swift.max(1, minimumChunk)))
    if workers <= 1 {
      if count > 0 { body(0..<count) }
      return
    }
    let chunk = (count + workers - 1) / workers
    DispatchQueue.concurrentPerform(iterations: workers) { w in
      let lo = w * chunk
      let hi = Swift.min(count, lo + chunk)
      if lo < hi { body(lo..<hi) }
    }
  }
}
