import Foundation
import LTMTestSupport
import XCTest

@testable import LTMCheckpoint
import LTMProcessLimits

final class WeightMapTests: XCTestCase {
  private func archive() -> TensorArchive {
    TensorArchive(tensors: [
      "a": RawTensor(dtype: .f32, shape: [2], bytes: Data(floatBytes([1, 2]))),
      "b": RawTensor(dtype: .f16, shape: [1], bytes: Data([0x00, 0x3C])),
      "ids": RawTensor(dtype: .i64, shape: [1], bytes: Data(count: 8)),
      "attn.bias": RawTensor(dtype: .f32, shape: [1], bytes: Data(count: 4)),
    ])
  }

  func testTakeIgnoreFinish() throws {
    var map = try WeightMap(model: "toy", archive: archive())
    XCTAssertEqual(try map.take("a", shape: [2]), [1, 2])
    XCTAssertEqual(try map.take("b", shape: [1]), [1])
    XCTAssertFalse(map.contains("a"))
    XCTAssertTrue(map.contains("ids"))
    map.ignore { $0.hasSuffix(".bias") || $0 == "ids" }
    XCTAssertNoThrow(try map.finish())
  }

  func testErrorsNameModelAndKey() throws {
    var map = try WeightMap(model: "toy", archive: archive())
    assertCheckpointError(try map.take("a", shape: [3]), contains: ["toy", "a", "[2]", "[3]"])
    assertCheckpointError(try map.take("ids", shape: [1]), contains: ["toy checkpoint", "tensor ids", "I64"])
    XCTAssertEqual(try map.take("missing", shape: [2, 2]), [0, 0, 0, 0])
    assertCheckpointError(try map.finish(), contains: ["toy checkpoint lacks 1", "missing"])
    var unused = try WeightMap(model: "toy", archive: archive())
    assertCheckpointError(try unused.finish(), contains: ["toy checkpoint has 4 tensor(s) that nothing uses", "a, attn.bias, b, ids"])
    _ = try? unused.take("a", shape: [2])
  }

  /// A NaN or Inf weight is refused when it is taken (#13), naming the tensor, before anything is computed with it;
  /// this catches a NaN in a tied embedding too, which would otherwise read as "the copies differ".
  func testNonFiniteWeightsAreRefusedWhenTaken() throws {
    for bad in [Float.nan, .infinity, -.infinity] {
      var values = [Float](repeating: 0.5, count: 1000)
      values[777] = bad
      var map = try WeightMap(model: "toy", archive: TensorArchive(tensors: ["tok_embeddings.weight": RawTensor(dtype: .f32, shape: [1000], bytes: Data(floatBytes(values)))]))
      assertCheckpointError(try map.take("tok_embeddings.weight", shape: [1000]), contains: ["tok_embeddings.weight", "non-finite", "index 777"])
    }
    XCTAssertNil(WeightMap.firstNonFinite([0, -0, .greatestFiniteMagnitude, -.leastNonzeroMagnitude]))
    XCTAssertEqual(WeightMap.firstNonFinite([1, .nan, .infinity]), 1)
  }

  /// An archive whose fp32 weights exceed the memory limit is refused before any tensor is converted (#13), with
  /// the estimate in bytes: 4 per element, plus the raw bytes of tensors held in ordinary memory (here all of them:
  /// 8 + 2 + 8 + 4 raw, 5 elements × 4 fp32 = 42).
  func testAnArchiveBeyondTheMemoryLimitIsRefusedWithTheEstimate() throws {
    XCTAssertEqual(WeightMap.estimatedBytes(archive()), 42)
    let tight = UsableMemory.Limit(bytes: 41, source: "LTM_BENCH_MEMORY_LIMIT")
    assertCheckpointError(
      try WeightMap(model: "toy", archive: archive(), memoryLimit: tight),
      contains: ["toy needs an estimated", "(42 bytes)", "LTM_BENCH_MEMORY_LIMIT", "nothing was loaded"])
    XCTAssertNoThrow(try WeightMap(model: "toy", archive: archive(), memoryLimit: UsableMemory.Limit(bytes: 42, source: "test")))
    // A shape whose byte count overflows saturates instead of wrapping around to a small number.
    let absurd = TensorArchive(tensors: ["x": RawTensor(dtype: .f32, shape: [1 << 62, 4], bytes: Data())])
    XCTAssertEqual(WeightMap.estimatedBytes(absurd), .max)
  }

  /// End to end on a real checkpoint: every tensor of the LTM micro state dict can be taken by key and shape.
  func testTakesEveryTensorOfARealCheckpoint() throws {
    let url = try SharedData.file("fixtures/ltm-micro/ckpt.pt")
    let archive = try TorchCheckpoint.loadStateDict(url, key: "model")
    var map = try WeightMap(model: "ltm-micro", archive: archive)
    var total = 0
    for (key, tensor) in archive.tensors.sorted(by: { $0.key < $1.key }) {
      total += try map.take(key, shape: tensor.shape).count
    }
    XCTAssertNoThrow(try map.finish())
    XCTAssertEqual(total, archive.tensors.values.reduce(0) { $0 + $1.elementCount })
  }
}
