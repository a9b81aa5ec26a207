import Foundation

/// Turns a torch view (storage, element offset, size, stride) into a contiguous row-major `RawTensor`.
///
/// `RawTensor` promises row-major bytes, but torch saves views as they are: a transposed weight, a slice with an
/// offset, an expanded (stride-0) tensor. Contiguous views (the usual case) become a slice of the storage; others
/// are gathered element by element. Every index is checked against the storage before any byte is read.
enum TensorMaterializer {
  static func view(
    storage: PyObject.Storage, offset: Int, size: [Int], stride: [Int], path: String, name: String,
    budget: inout Int
  ) throws -> RawTensor {
    func bad(_ reason: String) -> CheckpointError { .badTensor(path: path, tensor: name, reason: reason) }
    guard size.count == stride.count else { throw bad("size \(size) and stride \(stride) differ in rank") }
    guard offset >= 0 else { throw bad("negative storage offset \(offset)") }
    guard size.allSatisfy({ $0 >= 0 }) else { throw bad("negative size \(size)") }
    guard stride.allSatisfy({ $0 >= 0 }) else { throw bad("negative stride \(stride) is not supported") }

    let dtype = storage.dtype
    let es = dtype.byteSize
    var count = 1
    for d in size {
      let (p, overflow) = count.multipliedReportingOverflow(by: d)
      guard !overflow else { throw bad("size \(size) overflows") }
      count = p
    }
    if count == 0 {
      return RawTensor(dtype: dtype, shape: size, bytes: Data(), name: name, file: path)
    }
    // The furthest element the view touches must lie inside the storage.
    var last = offset
    for (d, s) in zip(size, stride) {
      let (step, o1) = (d - 1).multipliedReportingOverflow(by: s)
      let (sum, o2) = last.addingReportingOverflow(step)
      guard !o1, !o2 else { throw bad("size \(size) with stride \(stride) overflows") }
      last = sum
    }
    guard last < storage.numel else {
      throw bad(
        "size \(size), stride \(stride) and offset \(offset) reach element \(last), "
          + "but storage \(storage.key) has \(storage.numel) elements")
    }

    if isContiguous(size: size, stride: stride) {
      let bytes: Data
      if offset == 0 && count == storage.numel {
        bytes = storage.bytes
      } else {
        let lo = storage.bytes.startIndex + offset * es
        bytes = Data(storage.bytes[lo..<(lo + count * es)])
      }
      return RawTensor(dtype: dtype, shape: size, bytes: bytes, name: name, file: path)
    }

    let (byteCount, overflow) = count.multipliedReportingOverflow(by: es)
    guard !overflow, byteCount <= budget else {
      throw bad("copying this non-contiguous view (\(count) elements of \(es) bytes) would exceed the loader's limit for view copies")
    }
    budget -= byteCount
    var out = Data(count: byteCount)
    storage.bytes.withUnsafeBytes { src in
      out.withUnsafeMutableBytes { dst in
        gather(src.baseAddress!, dst.baseAddress!, elementSize: es, offset: offset, size: size, stride: stride)
      }
    }
    return RawTensor(dtype: dtype, shape: size, bytes: out, name: name, file: path)
  }

  /// Row-major contiguity; dimensions of extent 1 may carry any stride.
  static func isContiguous(size: [Int], stride: [Int]) -> Bool {
    var expected = 1
    for (d, s) in zip(size, stride).reversed() where d != 1 {
      if s != expected { return false }
      expected *= d
    }
    return true
  }

  /// Copies the strided view into `dst` in row-major order: an odometer over all but the last dimension, and a
  /// typed inner loop over the last one.
  private static func gather(
    _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, elementSize es: Int, offset: Int, size: [Int], stride: [Int]
  ) {
    let rank = size.count
    let inner = rank == 0 ? 1 : size[rank - 1]
    let innerStride = rank == 0 ? 0 : stride[rank - 1]
    var index = [Int](repeating: 0, count: max(rank - 1, 0))
    var base = offset
    var out = 0
    let rows = rank <= 1 ? 1 : size[..<(rank - 1)].reduce(1, *)
    for _ in 0..<rows {
      switch es {
      case 1: copyRow(UInt8.self, src, dst, base, innerStride, inner, out)
      case 2: copyRow(UInt16.self, src, dst, base, innerStride, inner, out)
      case 4: copyRow(UInt32.self, src, dst, base, innerStride, inner, out)
      default: copyRow(UInt64.self, src, dst, base, innerStride, inner, out)
      }
      out += inner
      // Advance the odometer over the outer dimensions.
      var d = rank - 2
      while d >= 0 {
        index[d] += 1
        base += stride[d]
        if index[d] < size[d] { break }
        base -= stride[d] * size[d]
        index[d] = 0
        d -= 1
      }
    }
  }

  @inline(__always)
  private static func copyRow<T>(
    _: T.Type, _ src: UnsafeRawPointer, _ dst: UnsafeMutableRawPointer, _ base: Int, _ step: Int, _ n: Int, _ out: Int
  ) {
    let es = MemoryLayout<T>.size
    for j in 0..<n {
      let v = src.loadUnaligned(fromByteOffset: (base + j * step) * es, as: T.self)
      dst.storeBytes(of: v, toByteOffset: (out + j) * es, as: T.self)
    }
  }
}
