import Foundation
import XCTest

@testable import LTMCheckpoint

final class DTypeConversionTests: XCTestCase {
  private func tensor(_ dtype: DType, _ bits: [UInt16]) -> RawTensor {
    RawTensor(dtype: dtype, shape: [bits.count], bytes: Data(bits.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
  }

  func testFloat16KnownBitPatterns() throws {
    let cases: [(UInt16, Float)] = [
      (0x3C00, 1), (0xC000, -2), (0x3555, 0.333251953125), (0x7BFF, 65504),
      (0x0001, 0x1p-24),  // smallest subnormal
      (0x03FF, 1023 * 0x1p-24),  // largest subnormal
      (0x0400, 0x1p-14),  // smallest normal
      (0x8001, -0x1p-24),
      (0x7C00, .infinity), (0xFC00, -.infinity),
    ]
    let out = try tensor(.f16, cases.map(\.0)).floats()
    for ((bits, expected), got) in zip(cases, out) {
      XCTAssertEqual(got.bitPattern, expected.bitPattern, "F16 0x\(String(bits, radix: 16))")
    }
    // Signed zeros keep their sign.
    let zeros = try tensor(.f16, [0x0000, 0x8000]).floats()
    XCTAssertEqual(zeros.map(\.bitPattern), [0x0000_0000, 0x8000_0000])
    // NaNs stay NaN with their sign and payload shifted into the float mantissa.
    let nans = try tensor(.f16, [0x7E00, 0xFE00, 0x7C01, 0x7D55]).floats()
    XCTAssertTrue(nans.allSatisfy(\.isNaN))
    XCTAssertEqual(nans.map(\.bitPattern), [0x7FC0_0000, 0xFFC0_0000, 0x7F80_2000, 0x7FAA_A000])
  }

  /// All 65,536 half-precision patterns against Swift's own Float16 → Float conversion (an independent reference).
  func testFloat16ExhaustiveAgainstSwiftFloat16() throws {
    let all = (0...0xFFFF).map { UInt16($0) }
    let out = try tensor(.f16, all).floats()
    for (bits, got) in zip(all, out) {
      let reference = Float(Float16(bitPattern: bits))
      if reference.isNaN {
        XCTAssertTrue(got.isNaN, "0x\(String(bits, radix: 16))")
        XCTAssertEqual(got.sign, reference.sign, "0x\(String(bits, radix: 16))")
        XCTAssertEqual(got.bitPattern & 0x003F_FFFF, reference.bitPattern & 0x003F_FFFF, "payload of 0x\(String(bits, radix: 16))")
      } else if got.bitPattern != reference.bitPattern {
        XCTFail("F16 0x\(String(bits, radix: 16)): got \(got), expected \(reference)")
        return
      }
    }
  }

  func testBFloat16() throws {
    let cases: [(UInt16, Float)] = [
      (0x3F80, 1), (0xBF80, -1), (0x4049, 3.140625), (0x7F80, .infinity), (0xFF80, -.infinity),
      (0x0001, Float(bitPattern: 0x0001_0000)), (0x8000, -0.0),
    ]
    let out = try tensor(.bf16, cases.map(\.0)).floats()
    for ((bits, expected), got) in zip(cases, out) {
      XCTAssertEqual(got.bitPattern, expected.bitPattern, "BF16 0x\(String(bits, radix: 16))")
    }
    XCTAssertTrue(try tensor(.bf16, [0x7FC0]).floats()[0].isNaN)
  }

  /// The parallel path (inputs above the threshold) must agree with the scalar kernel element for element.
  func testLargeConversionsMatchScalarKernel() throws {
    let n = DTypeConversion.parallelThreshold + 12_345
    var state: UInt32 = 12345
    let bits = (0..<n).map { _ -> UInt16 in
      state = state &* 1_664_525 &+ 1_013_904_223
      return UInt16(truncatingIfNeeded: state >> 13)
    }
    let halves = try tensor(.f16, bits).floats()
    let brains = try tensor(.bf16, bits).floats()
    XCTAssertEqual(halves.count, n)
    for i in stride(from: 0, to: n, by: 997) {
      let h = DTypeConversion.float16BitsToFloat(bits[i])
      XCTAssertTrue(halves[i].bitPattern == h.bitPattern || (halves[i].isNaN && h.isNaN), "index \(i)")
      XCTAssertEqual(brains[i].bitPattern, UInt32(bits[i]) << 16, "index \(i)")
    }
    XCTAssertEqual(halves[n - 1].bitPattern, DTypeConversion.float16BitsToFloat(bits[n - 1]).bitPattern)
    let doubles = try tensor(.f16, bits).doubles()
    XCTAssertEqual(doubles[n - 1].bitPattern, Double(halves[n - 1]).bitPattern)
  }

  /// Conversions read unaligned input: a safetensors tensor may start at any byte offset.
  func testUnalignedSource() throws {
    var bytes = Data([0xAA])
    bytes.append(contentsOf: floatBytes([1.5, -2.25, 3]))
    let sliced = bytes.subdata(in: 1..<bytes.count)  // fresh Data; now force misalignment through a slice
    XCTAssertEqual(try RawTensor(dtype: .f32, shape: [3], bytes: sliced).floats(), [1.5, -2.25, 3])
    let misaligned = bytes[1...]  // a slice starting at index 1 of the original buffer
    XCTAssertEqual(try RawTensor(dtype: .f32, shape: [3], bytes: misaligned).floats(), [1.5, -2.25, 3])
    var f64 = Data([0])
    for d in [1.0 / 3.0, -1e300] { withUnsafeBytes(of: d.bitPattern.littleEndian) { f64.append(contentsOf: $0) } }
    let t = RawTensor(dtype: .f64, shape: [2], bytes: f64[1...])
    XCTAssertEqual(try t.doubles(), [1.0 / 3.0, -1e300])
    XCTAssertEqual(try t.floats(), [Float(1.0 / 3.0), -.infinity])
  }

  func testIntegersAndBool() throws {
    func le<T: FixedWidthInteger>(_ values: [T]) -> Data {
      Data(values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } })
    }
    XCTAssertEqual(try RawTensor(dtype: .i64, shape: [2], bytes: le([Int64.min, Int64.max])).int64s(), [Int64.min, Int64.max])
    XCTAssertEqual(try RawTensor(dtype: .i32, shape: [2], bytes: le([Int32.min, -1])).int64s(), [Int64(Int32.min), -1])
    XCTAssertEqual(try RawTensor(dtype: .i16, shape: [2], bytes: le([Int16.min, 7])).int64s(), [-32768, 7])
    XCTAssertEqual(try RawTensor(dtype: .i8, shape: [2], bytes: Data([0x80, 0x7F])).int64s(), [-128, 127])
    XCTAssertEqual(try RawTensor(dtype: .u8, shape: [2], bytes: Data([0xFF, 1])).int64s(), [255, 1])
    XCTAssertEqual(try RawTensor(dtype: .bool, shape: [3], bytes: Data([1, 0, 2])).int64s(), [1, 0, 1])
  }

  func testWrongKindAndWrongSizeAreErrors() {
    let ids = RawTensor(dtype: .i64, shape: [1], bytes: Data(count: 8), name: "tokens", file: "x.safetensors")
    assertCheckpointError(try ids.floats(), contains: ["x.safetensors", "tokens", "I64", "int64s()"])
    let weights = RawTensor(dtype: .f16, shape: [1], bytes: Data(count: 2), name: "w", file: "y.safetensors")
    assertCheckpointError(try weights.int64s(), contains: ["y.safetensors", "w", "F16", "floats()"])
    let short = RawTensor(dtype: .f32, shape: [2, 2], bytes: Data(count: 15), name: "short", file: "")
    assertCheckpointError(try short.floats(), contains: ["short", "15 bytes", "[2, 2]"])
    XCTAssertEqual(try RawTensor(dtype: .f32, shape: [0, 5], bytes: Data()).floats(), [])
    XCTAssertEqual(try RawTensor(dtype: .f32, shape: [], bytes: Data(floatBytes([4]))).floats(), [4])
  }
}
