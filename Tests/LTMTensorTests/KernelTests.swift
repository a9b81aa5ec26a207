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

  func testTanhAndGELU() {
    var xs = (0..<1000).map { Float($0 - 500) / 50 }
    for x in xs {
      XCTAssertEqual(Double(VectorMath.tanh(VectorMath.V(repeating: x))[0]), Foundation.tanh(Double(x)), accuracy: 3e-7)
    }
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
