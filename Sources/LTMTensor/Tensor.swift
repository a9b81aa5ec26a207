/// A dense, row-major fp32 tensor. Storage is a plain `[Float]`; hot loops borrow it through
/// `withUnsafe(Mutable)BufferPointer` so the bounds checks vanish in release builds.
public struct Tensor: Sendable, Equatable {
  public var shape: [Int]
  public var data: [Float]

  public init(shape: [Int], data: [Float]) {
    precondition(shape.reduce(1, *) == data.count, "Tensor: shape \(shape) does not match \(data.count) elements")
    self.shape = shape
    self.data = data
  }

  public init(zeros shape: [Int]) {
    self.shape = shape
    self.data = [Float](repeating: 0, count: shape.reduce(1, *))
  }

  public var count: Int { data.count }
  /// Number of rows when viewed as a matrix [rows, lastDim].
  public var rows: Int { shape.count <= 1 ? 1 : count / (shape.last ?? 1) }
  /// Size of the last (fastest-varying) dimension.
  public var columns: Int { shape.last ?? 1 }
}
