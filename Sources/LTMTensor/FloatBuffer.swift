/// An owned, fixed-size fp32 allocation with a stable base pointer. Model weights and scratch activations live in
/// these so hot code can pass raw pointers to BLAS and kernels without `withUnsafe…` nesting or copy-on-write
/// checks. Freed when the last reference goes.
public final class FloatBuffer: @unchecked Sendable {
  public let count: Int
  public let pointer: UnsafeMutablePointer<Float>

  /// Zero-filled.
  public init(count: Int) {
    self.count = count
    pointer = .allocate(capacity: Swift.max(count, 1))
    pointer.initialize(repeating: 0, count: Swift.max(count, 1))
  }

  public convenience init(_ values: [Float]) {
    self.init(count: values.count)
    values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: values.count) }
  }

  deinit { pointer.deallocate() }

  public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}
