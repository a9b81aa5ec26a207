import CLTMPlatform
import Foundation
import XCTest
@testable import LTMTensor

final class KernelTests: XCTestCase {
  func testVectorExpMatchesFoundationToFloatPrecision() {
    var worst: Double = 0
    var x: Float = -87
    while x < 88 {
      let v = VectorMath.exp(VectorMath.V(repeating: x))
      let ref = Foundation.exp(Double(x))
      worst = max(worst, abs(Double(v[0]) - ref) / ref)
      x += 0.0137
    }
    XCTAssertLessThan(worst, 3e-7)
    XCTAssertLessThan(VectorMath.exp(VectorMath.V(repeating: -.infinity))[0], 1.3e-38)
  }

  func testGELU() {
    var xs = (0..<1000).map { Float($0 - 500) / 50 }
    let n = xs.count
    let ref = xs.map { v in 0.5 * Double(v) * (1 + Foundation.tanh(0.7978845608028654 * (Double(v) + 0.044715 * Double(v * v * v)))) }
    xs.withUnsafeMutableBufferPointer { Kernels.geluTanh($0.baseAddress!, count: n) }
    for i in 0..<n { XCTAssertEqual(Double(xs[i]), ref[i], accuracy: 1e-6 * max(1, abs(ref[i]))) }
  }

  func testLayerNormAndSoftmax() {
    var x: [Float] = [1, 2, 3, 4, -1, 0, 1, 10]
    let gamma: [Float] = [1, 2, 1, 1], beta: [Float] = [0, 0, 1, 0]
    var out = [Float](repeating: 0, count: 8)
    Kernels.layerNorm(x, rows: 2, cols: 4, gamma: gamma, beta: beta, eps: 1e-5, out: &out)
    let mean: Float = 2.5, inv = 1 / (1.25 + 1e-5 as Float).squareRoot()
    XCTAssertEqual(out[1], (2 - mean) * inv * 2, accuracy: 1e-6)
    XCTAssertEqual(out[2], (3 - mean) * inv + 1, accuracy: 1e-6)
    Kernels.softmaxRows(&x, rows: 2, cols: 4, stride: 4) { $0 + 2 }
    XCTAssertEqual(x[0] + x[1], 1, accuracy: 1e-6)
    XCTAssertEqual(x[2], 0)
    XCTAssertEqual(x[1] / x[0], Float(M_E), accuracy: 1e-5)
    XCTAssertEqual(x[4] + x[5] + x[6], 1, accuracy: 1e-6)
  }

  func testGemmRowMajorWithTransposes() {
    let a: [Float] = [1, 2, 3, 4, 5, 6]  // 2×3
    let b: [Float] = [1, 0, 0, 1, 1, 1]  // 3×2
    var c = [Float](repeating: 0, count: 4)
    BLAS.gemm(m: 2, n: 2, k: 3, a: a, lda: 3, b: b, ldb: 2, c: &c, ldc: 2)
    XCTAssertEqual(c, [4, 5, 10, 11])
    BLAS.gemm(transB: true, m: 2, n: 2, k: 3, a: a, lda: 3, b: a, ldb: 3, c: &c, ldc: 2)
    XCTAssertEqual(c, [14, 32, 32, 77])
  }
}


/// The C row kernels' AVX2 and baseline variants run the same lane operations, so they must agree bit for bit.
final class VectorKernelVariantTests: XCTestCase {
  override func tearDown() { _ = ltm_vector_select_avx2(1) }

  func testAVX2AndBaselineVariantsAgreeBitForBit() throws {
    var rng = SplitMix64(seed: 11)
    let n = 50_257  // a vocabulary row: a tail that is not a multiple of 8 or 16
    let x = (0..<n).map { _ in (rng.nextFloat() - 0.5) * 40 }
    func run() -> (Float, Double, Double, [Float], [Float]) {
      var out = [Float](repeating: 0, count: n), gelu = x
      let m = ltm_vmax(x, n)
      let s1 = ltm_vexp_shifted(x, m, n, &out)
      let s2 = ltm_vsum_exp_shifted(x, m, n)
      ltm_vgelu_tanh(&gelu, n)
      return (m, s1, s2, out, gelu)
    }
    guard ltm_vector_select_avx2(1) == 1 else { throw XCTSkip("this CPU has no AVX2: only the baseline variant exists") }
    let wide = run()
    XCTAssertEqual(ltm_vector_select_avx2(0), 0)
    let base = run()
    XCTAssertEqual(wide.0.bitPattern, base.0.bitPattern)
    XCTAssertEqual(wide.1.bitPattern, base.1.bitPattern)
    XCTAssertEqual(wide.2.bitPattern, base.2.bitPattern)
    XCTAssertEqual(wide.3.map(\.bitPattern), base.3.map(\.bitPattern))
    XCTAssertEqual(wide.4.map(\.bitPattern), base.4.map(\.bitPattern))
    // And both are the functions they claim to be.
    XCTAssertEqual(Double(base.0), Double(x.max()!))
    let reference = x.reduce(0.0) { $0 + Foundation.exp(Double($1 - base.0)) }
    // Each lane accumulates ~6k terms in Float (as the Swift kernels did): ~1e-6 relative.
    XCTAssertEqual(base.2, reference, accuracy: 1e-5 * reference)
    XCTAssertEqual(base.1, base.2, accuracy: 1e-5 * reference)
  }

  /// The k-means bound kernels: squared distance, minimum difference and the open indices, in both variants.
  func testBoundKernelsInBothVariants() throws {
    var rng = SplitMix64(seed: 12)
    let n = 258  // MAUVE's kept dimensions: a tail of 2
    let a = (0..<n).map { _ in rng.nextFloat() * 4 }, b = (0..<n).map { _ in rng.nextFloat() * 4 }
    func run() -> (Float, Float, [Int], Int) {
      var open = [Int](repeating: -7, count: 8)
      let count = ltm_vopen_indices(a, b, n, -3.5, &open, 8)
      var none = [Int](repeating: 0, count: 1)
      let overflow = ltm_vopen_indices(a, b, n, 10, &none, 1)  // every index is open: more than the limit
      return (ltm_vsquared_distance(a, b, n), ltm_vmin_difference(a, b, n), Array(open.prefix(max(0, count))), overflow)
    }
    let expectedOpen = (0..<n).filter { !(a[$0] - b[$0] > -3.5) }
    XCTAssertFalse(expectedOpen.isEmpty)
    XCTAssertLessThanOrEqual(expectedOpen.count, 8, "the test wants a list that fits")
    var results: [(Float, Float, [Int], Int)] = [run()]
    if ltm_vector_select_avx2(1) == 1 {
      results.append(run())
      XCTAssertEqual(ltm_vector_select_avx2(0), 0)
      results.append(run())
    }
    for r in results {
      XCTAssertEqual(r.0.bitPattern, results[0].0.bitPattern)
      XCTAssertEqual(Double(r.0), zip(a, b).reduce(0.0) { $0 + Double($1.0 - $1.1) * Double($1.0 - $1.1) }, accuracy: 1e-4)
      XCTAssertEqual(r.1, zip(a, b).map { $0 - $1 }.min()!)
      XCTAssertEqual(r.2, expectedOpen)
      XCTAssertEqual(r.3, -1)
    }
  }
}
