import Foundation
import LTMTestSupport
import XCTest

@testable import LTMCheckpoint

final class ShardedSafetensorsTests: XCTestCase {
  func testShardedIndexMergesShards() throws {
    let index = try TestFixtures.url("sharded/model.safetensors.index.json")
    let archive = try Safetensors.loadSharded(index: index)
    XCTAssertEqual(Set(archive.tensors.keys), ["a.weight", "b.weight", "c.bias"])
    XCTAssertEqual(archive.files.map(\.lastPathComponent), ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"])
    XCTAssertEqual(archive.metadata["total_size"], "44")
    XCTAssertEqual(archive.metadata["format"], "pt")
    XCTAssertEqual(try archive.tensors["a.weight"]!.floats(), [0, 0.25, 0.5, 0.75, 1, 1.25])
    XCTAssertEqual(try archive.tensors["b.weight"]!.floats(), [1, -1, 0.5, 65504])
    XCTAssertEqual(try archive.tensors["c.bias"]!.floats(), [9, 8, 7])
    XCTAssertEqual(archive.tensors["c.bias"]?.file, archive.files[1].path)
    // The same bytes as the Python reference for each shard.
    let reference = try TestFixtures.json("safetensors-reference.json")
    for (label, names) in [("sharded/model-00001-of-00002.safetensors", ["a.weight", "b.weight"]), ("sharded/model-00002-of-00002.safetensors", ["c.bias"])] {
      let tensors = (reference[label] as? [String: Any])?["tensors"] as? [String: [String: Any]]
      for name in names {
        XCTAssertEqual(fnvHex(archive.tensors[name]!.bytes), tensors?[name]?["fnv1a64"] as? String, name)
      }
    }
  }

  func testDirectoryConvenience() throws {
    let sharded = try Safetensors.loadDirectory(TestFixtures.directory.appendingPathComponent("sharded"))
    XCTAssertEqual(sharded.tensors.count, 3)
    let single = try Safetensors.loadDirectory(try SharedData.file("fixtures/gpt2-tiny"))
    XCTAssertEqual(single.files.map(\.lastPathComponent), ["model.safetensors"])
    XCTAssertEqual(single.tensors.count, 28)
    let empty = try makeTemporaryDirectory(self)
    assertCheckpointError(try Safetensors.loadDirectory(empty), contains: [empty.path, "model.safetensors", "model.safetensors.index.json"])
  }

  /// A shard with the given F32 tensors (name → element count), written by hand.
  private func writeShard(_ url: URL, _ tensors: [(String, Int)]) throws {
    var offset = 0
    var entries: [String] = []
    for (name, count) in tensors {
      entries.append("\"\(name)\":{\"dtype\":\"F32\",\"shape\":[\(count)],\"data_offsets\":[\(offset),\(offset + 4 * count)]}")
      offset += 4 * count
    }
    let header = Array("{\(entries.joined(separator: ","))}".utf8)
    var bytes = Data((0..<8).map { UInt8((UInt64(header.count) >> (8 * UInt64($0))) & 0xFF) })
    bytes.append(contentsOf: header)
    bytes.append(Data(count: offset))
    try bytes.write(to: url)
  }

  private func writeIndex(_ dir: URL, _ weightMap: [String: String]) throws -> URL {
    let url = dir.appendingPathComponent("model.safetensors.index.json")
    try JSONSerialization.data(withJSONObject: ["metadata": ["total_size": 0], "weight_map": weightMap]).write(to: url)
    return url
  }

  func testInconsistentIndexesAreErrors() throws {
    let dir = try makeTemporaryDirectory(self)
    try writeShard(dir.appendingPathComponent("s1.safetensors"), [("x", 1), ("y", 2)])
    try writeShard(dir.appendingPathComponent("s2.safetensors"), [("y", 2), ("z", 1)])
    try writeShard(dir.appendingPathComponent("s3.safetensors"), [("z", 1)])

    // A tensor present in two shards.
    var index = try writeIndex(dir, ["x": "s1.safetensors", "y": "s1.safetensors", "z": "s2.safetensors"])
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: ["tensor y", "appears in two shards", "s1.safetensors", "s2.safetensors"])
    // A tensor listed for a shard that lacks it.
    index = try writeIndex(dir, ["x": "s1.safetensors", "w": "s3.safetensors", "z": "s3.safetensors"])
    try writeShard(dir.appendingPathComponent("s1.safetensors"), [("x", 1)])
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: [index.path, "tensor w", "missing from its shard s3.safetensors"])
    // A missing shard file.
    index = try writeIndex(dir, ["x": "s1.safetensors", "q": "absent.safetensors"])
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: ["absent.safetensors", "does not exist"])
    // A shard tensor the index does not list.
    index = try writeIndex(dir, ["z": "s2.safetensors"])
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: ["s2.safetensors", "tensor y", "not listed in the weight_map"])
    // Paths outside the checkpoint directory.
    index = try writeIndex(dir, ["x": "../s1.safetensors"])
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: ["tensor x", "unsafe shard path"])
    // Not an index at all.
    try Data("[]".utf8).write(to: index)
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: [index.path, "not a JSON object"])
    try Data("{\"metadata\":{}}".utf8).write(to: index)
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: ["weight_map"])
    // A malformed shard is reported with the shard's own path.
    try Data([1, 2]).write(to: dir.appendingPathComponent("s3.safetensors"))
    index = try writeIndex(dir, ["z": "s3.safetensors"])
    assertCheckpointError(try Safetensors.loadSharded(index: index), contains: [dir.appendingPathComponent("s3.safetensors").path, "too short"])
  }
}

final class CheckpointLoaderTests: XCTestCase {
  func testResolvesFilesAndDirectories() throws {
    let gpt2 = try SharedData.file("fixtures/gpt2-tiny")
    XCTAssertEqual(try CheckpointLoader.load(gpt2).files.map(\.lastPathComponent), ["model.safetensors"])
    XCTAssertEqual(try CheckpointLoader.load(gpt2.appendingPathComponent("model.safetensors")).tensors.count, 28)
    let sharded = TestFixtures.directory.appendingPathComponent("sharded")
    XCTAssertEqual(try CheckpointLoader.load(sharded).tensors.count, 3)
    XCTAssertEqual(try CheckpointLoader.load(sharded.appendingPathComponent("model.safetensors.index.json")).files.count, 2)
    // A training checkpoint: its "model" entry.
    let ltm = try SharedData.file("fixtures/ltm-micro/ckpt.pt")
    let archive = try CheckpointLoader.load(ltm)
    XCTAssertEqual(archive.files, [ltm])
    XCTAssertEqual(archive.tensors["norm.weight"]?.shape, [32])
    assertCheckpointError(try CheckpointLoader.load(ltm, stateDictKey: "optimizer"), contains: ["\"optimizer\""])
    let nowhere = URL(fileURLWithPath: "/nonexistent/ckpt")
    assertCheckpointError(try CheckpointLoader.load(nowhere), contains: ["/nonexistent/ckpt", "no such file"])
    let empty = try makeTemporaryDirectory(self)
    assertCheckpointError(try CheckpointLoader.load(empty), contains: [empty.path, "pytorch_model.bin"])
  }

  /// `pytorch_model.bin` (a bare state dict) and its sharded form, as written by `save_pretrained(safe_serialization=False)`.
  func testTorchDirectories() throws {
    func stateDict(_ tensors: [(String, [Float])]) -> (pickle: [UInt8], storages: [String: [UInt8]]) {
      var p = PickleBuilder()
      p.global("collections", "OrderedDict")
      p.emptyTuple()
      p.reduce()
      p.mark()
      var storages: [String: [UInt8]] = [:]
      for (i, (name, values)) in tensors.enumerated() {
        p.string(name)
        p.tensor(key: String(i), numel: values.count, size: [values.count], stride: [1])
        storages[String(i)] = floatBytes(values)
      }
      p.setItems()
      p.stop()
      return (p.bytes, storages)
    }
    let single = try makeTemporaryDirectory(self)
    let (pickle, storages) = stateDict([("wte.weight", [1, 2, 3]), ("ln_f.bias", [0.5])])
    try torchArchive(pickle, storages: storages, name: "pytorch_model").write(to: single.appendingPathComponent("pytorch_model.bin"))
    let archive = try CheckpointLoader.load(single)
    XCTAssertEqual(try archive.tensors["wte.weight"]?.floats(), [1, 2, 3])
    XCTAssertEqual(archive.files.map(\.lastPathComponent), ["pytorch_model.bin"])

    let sharded = try makeTemporaryDirectory(self)
    let one = stateDict([("a", [1])]), two = stateDict([("b", [2, 3])])
    try torchArchive(one.pickle, storages: one.storages).write(to: sharded.appendingPathComponent("pytorch_model-00001-of-00002.bin"))
    try torchArchive(two.pickle, storages: two.storages).write(to: sharded.appendingPathComponent("pytorch_model-00002-of-00002.bin"))
    let index = ["weight_map": ["a": "pytorch_model-00001-of-00002.bin", "b": "pytorch_model-00002-of-00002.bin"]]
    try JSONSerialization.data(withJSONObject: index).write(to: sharded.appendingPathComponent("pytorch_model.bin.index.json"))
    let merged = try CheckpointLoader.load(sharded)
    XCTAssertEqual(try merged.tensors["b"]?.floats(), [2, 3])
    XCTAssertEqual(merged.files.count, 2)
  }
}
