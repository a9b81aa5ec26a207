import Dispatch
import Foundation

/// Element-type conversions for checkpoint tensors.
///
/// Checkpoints of hundreds of millions of parameters are converted once at load, so the kernels run on unsafe
/// buffers with branch-free bodies the optimiser can vectorise, and split large inputs across cores. They read
/// unaligned little-endian input because safetensors offsets need not be aligned to the element size.
public enum DTypeConversion {
  /// Inputs at least this long are split across cores.
  static let parallelThreshold = 1 << 20
  static let chunk = 1 << 18

  /// IEEE 754 binary16 bits → binary32, exact for every input: normals are rebiased, subnormals scaled (exactly,
  /// since m·2⁻²⁴ is representable), ±0 kept, ±inf kept, NaN payloads shifted into the float's mantissa.
  @inline(__always)
  public static func float16BitsToFloat(_ h: UInt16) -> Float {
    let x = UInt32(h)
    let sign = (x & 0x8000) << 16
    let magnitude = x & 0x7FFF
    let shifted = magnitude << 13
    // exponent 1...30: add (127 − 15) << 23 to the exponent field.
    let normal = shifted &+ 0x3800_0000
    // exponent 31 (inf/NaN): all-ones float exponent, same mantissa bits.
    let special = shifted | 0x7F80_0000
    // exponent 0 (zero/subnormal): the mantissa is an integer count of 2⁻²⁴ units.
    let subnormal = (Float(Int32(bitPattern: magnitude)) * 0x1p-24).bitPattern
    let bits = magnitude < 0x0400 ? subnormal : (magnitude >= 0x7C00 ? special : normal)
    return Float(bitPattern: bits | sign)
  }

  /// bfloat16 bits → binary32: bfloat16 is the high half of a float, so this is exact for every input.
  @inline(__always)
  public static func bfloat16BitsToFloat(_ h: UInt16) -> Float {
    Float(bitPattern: UInt32(h) << 16)
  }

  /// Converts `count` elements of `dtype` starting at `source` (little-endian, any alignment) to fp32.
  /// Integer and bool dtypes are not accepted here (see `RawTensor.floats()`); returns false for them.
  static func convertToFloat(_ dtype: DType, _ source: UnsafeRawPointer, _ dest: UnsafeMutablePointer<Float>, _ count: Int) -> Bool {
    switch dtype {
    case .f32:
      UnsafeMutableRawPointer(dest).copyMemory(from: source, byteCount: count * 4)
    case .f16:
      forEachChunk(count) { lo, hi in
        for i in lo..<hi {
          dest[i] = float16BitsToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
      }
    case .bf16:
      forEachChunk(count) { lo, hi in
        for i in lo..<hi {
          dest[i] = bfloat16BitsToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self)))
        }
      }
    case .f64:
      forEachChunk(count) { lo, hi in
        for i in lo..<hi {
          dest[i] = Float(Double(bitPattern: UInt64(littleEndian: source.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
        }
      }
    case .i64, .i32, .i16, .i8, .u8, .bool:
      return false
    }
    return true
  }

  /// Converts to fp64; floating dtypes only (returns false otherwise).
  static func convertToDouble(_ dtype: DType, _ source: UnsafeRawPointer, _ dest: UnsafeMutablePointer<Double>, _ count: Int) -> Bool {
    switch dtype {
    case .f64:
      UnsafeMutableRawPointer(dest).copyMemory(from: source, byteCount: count * 8)
    case .f32:
      forEachChunk(count) { lo, hi in
        for i in lo..<hi {
          dest[i] = Double(Float(bitPattern: UInt32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
        }
      }
    case .f16:
      forEachChunk(count) { lo, hi in
        for i in lo..<hi {
          dest[i] = Double(float16BitsToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
        }
      }
    case .bf16:
      forEachChunk(count) { lo, hi in
        for i in lo..<hi {
          dest[i] = Double(bfloat16BitsToFloat(UInt16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
        }
      }
    case .i64, .i32, .i16, .i8, .u8, .bool:
      return false
    }
    return true
  }

  /// Sign- or zero-extends integer and bool elements to Int64; returns false for floating dtypes.
  static func convertToInt64(_ dtype: DType, _ source: UnsafeRawPointer, _ dest: UnsafeMutablePointer<Int64>, _ count: Int) -> Bool {
    switch dtype {
    case .i64:
      UnsafeMutableRawPointer(dest).copyMemory(from: source, byteCount: count * 8)
    case .i32:
      for i in 0..<count { dest[i] = Int64(Int32(littleEndian: source.loadUnaligned(fromByteOffset: 4 * i, as: Int32.self))) }
    case .i16:
      for i in 0..<count { dest[i] = Int64(Int16(littleEndian: source.loadUnaligned(fromByteOffset: 2 * i, as: Int16.self))) }
    case .i8:
      for i in 0..<count { dest[i] = Int64(source.load(fromByteOffset: i, as: Int8.self)) }
    case .u8:
      for i in 0..<count { dest[i] = Int64(source.load(fromByteOffset: i, as: UInt8.self)) }
    case .bool:
      // torch and safetensors store bools as one byte, 0 or 1; anything non-zero reads as true.
      for i in 0..<count { dest[i] = source.load(fromByteOffset: i, as: UInt8.self) == 0 ? 0 : 1 }
    case .f64, .f32, .f16, .bf16:
      return false
    }
    return true
  }

  /// Runs `body(lo, hi)` over `0..<count`, in parallel chunks when `count` is large. The chunks are disjoint, so
  /// bodies that write only `dest[lo..<hi]` need no synchronisation.
  static func forEachChunk(_ count: Int, _ body: (Int, Int) -> Void) {
    guard count >= parallelThreshold else {
      body(0, count)
      return
    }
    let chunks = (count + chunk - 1) / chunk
    withoutActuallyEscaping(body) { body in
      DispatchQueue.concurrentPerform(iterations: chunks) { c in
        body(c * chunk, min(count, (c + 1) * chunk))
      }
    }
  }
}
