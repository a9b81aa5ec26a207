import Foundation
import LTMTestSupport
import XCTest

@testable import LTMCheckpoint

final class TorchCheckpointTests: XCTestCase {
  /// Walks a decoded pickle and the tree `tools/dump_torch_checkpoint.py` wrote side by side: same containers in the
  /// same order, same scalars exactly, and every tensor with the same dtype, shape and bytes (FNV-1a).
  private func assertSameTree(_ value: PickleValue, _ expected: Any, at path: String, tensors: inout Int) {
    if expected is NSNull {
      XCTAssertTrue(value.isNone, "\(path): expected None, got \(value.kindName)")
      return
    }
    guard let object = expected as? [String: Any], object.count == 1, let (kind, payload) = object.first else {
      return XCTFail("\(path): bad reference node")
    }
    switch kind {
    case "bool": XCTAssertEqual(value.boolValue, payload as? Bool, path)
    case "int": XCTAssertEqual(value.intValue, payload as? Int, path)
    case "float":
      guard case .float(let d) = value else { return XCTFail("\(path): expected a float, got \(value.kindName)") }
      // Written as an exact decimal string (JSON readers may round long decimals).
      XCTAssertEqual(d, (payload as? String).flatMap(Double.init), path)
    case "str": XCTAssertEqual(value.stringValue, payload as? String, path)
    case "bytes":
      let hex = value.bytesValue?.map { String(format: "%02x", $0) }.joined()
      XCTAssertEqual(hex, payload as? String, path)
    case "list", "tuple":
      let items = payload as? [Any] ?? []
      switch (kind, value) {
      case ("list", .list(let got)), ("tuple", .tuple(let got)):
        XCTAssertEqual(got.count, items.count, path)
        for (i, (g, e)) in zip(got, items).enumerated() { assertSameTree(g, e, at: "\(path)[\(i)]", tensors: &tensors) }
      default: XCTFail("\(path): expected a \(kind), got \(value.kindName)")
      }
    case "dict":
      let pairs = payload as? [[Any]] ?? []
      guard let entries = value.dictEntries else { return XCTFail("\(path): expected a dict, got \(value.kindName)") }
      XCTAssertEqual(entries.count, pairs.count, path)
      for (entry, pair) in zip(entries, pairs) {
        assertSameTree(entry.key, pair[0], at: "\(path).key", tensors: &tensors)
        let name = entry.key.stringValue ?? entry.key.intValue.map(String.init) ?? "?"
        assertSameTree(entry.value, pair[1], at: "\(path)/\(name)", tensors: &tensors)
      }
    case "tensor":
      guard let t = value.tensorValue, let e = payload as? [String: Any] else { return XCTFail("\(path): expected a tensor, got \(value.kindName)") }
      tensors += 1
      XCTAssertEqual(t.dtype.rawValue, e["dtype"] as? String, path)
      XCTAssertEqual(t.shape, e["shape"] as? [Int], path)
      XCTAssertEqual(t.elementCount, e["numel"] as? Int, path)
      XCTAssertEqual(fnvHex(t.bytes), e["fnv1a64"] as? String, "bytes of \(path)")
      XCTAssertNoThrow(try assertValues(t, e), path)
    default: XCTFail("\(path): unknown reference kind \(kind)")
    }
  }

  private func assertMatchesReference(_ value: PickleValue, _ referenceName: String) throws -> Int {
    let reference = try TestFixtures.json(referenceName)
    var tensors = 0
    assertSameTree(value, reference["value"] as Any, at: "", tensors: &tensors)
    return tensors
  }

  func testLTMMicroCheckpointMatchesPythonReference() throws {
    let url = try SharedData.file("fixtures/ltm-micro/ckpt.pt")
    let root = try TorchCheckpoint.load(url)
    XCTAssertEqual(try assertMatchesReference(root, "ltm-micro-ckpt.json"), 31)
    try checkLTMCheckpoint(root, url: url)
  }

  func testLTMGPT2VocabCheckpointMatchesPythonReference() throws {
    let url = try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt")
    let root = try TorchCheckpoint.load(url)
    XCTAssertEqual(try assertMatchesReference(root, "ltm-gpt2vocab-ckpt.json"), 45)
    try checkLTMCheckpoint(root, url: url)
  }

  /// The authors' layout (§6): `model` state dict with tied embeddings, shapes implied by `model_args`.
  private func checkLTMCheckpoint(_ root: PickleValue, url: URL) throws {
    XCTAssertEqual(root.stringKeys, ["model", "model_args", "config", "iter_num", "best_val_loss"])
    let args = try XCTUnwrap(root["model_args"])
    let dim = try XCTUnwrap(args["dim"]?.intValue)
    let vocab = try XCTUnwrap(args["vocab_size"]?.intValue)
    let layers = try XCTUnwrap(args["n_layers"]?.intValue)
    XCTAssertEqual(args["use_liger"]?.boolValue, true)
    XCTAssertEqual(args["dropout"]?.doubleValue, 0)
    XCTAssertEqual(root["config"]?["inference_method"]?.stringValue, "adamVI")
    XCTAssertNotNil(root["config"]?["fast_lr"]?.doubleValue)
    XCTAssertEqual(root["iter_num"]?.intValue, 0)

    let archive = try TorchCheckpoint.loadStateDict(url)
    XCTAssertEqual(archive.files, [url])
    let embeddings = try XCTUnwrap(archive.tensors["tok_embeddings.weight"])
    let output = try XCTUnwrap(archive.tensors["output.weight"])
    XCTAssertEqual(embeddings.shape, [vocab, dim])
    XCTAssertEqual(output.shape, [vocab, dim])
    XCTAssertEqual(try embeddings.floats(), try output.floats(), "tok_embeddings.weight and output.weight are tied")
    XCTAssertEqual(embeddings.name, "tok_embeddings.weight")
    XCTAssertEqual(embeddings.file, url.path)
    for i in 0..<layers {
      XCTAssertEqual(archive.tensors["layers.\(i).attention._orig_mod.wq.weight"]?.shape, [dim, dim])
      XCTAssertEqual(archive.tensors["layers.\(i).attention_norm.weight"]?.shape, [dim])
    }
    XCTAssertEqual(archive.tensors["norm.weight"]?.shape, [dim])
    XCTAssertEqual(try TorchCheckpoint.loadStateDict(url, key: "model").tensors.count, archive.tensors.count)
  }

  /// Protocol 2 (GLOBAL, BINPUT) and protocol 4 (FRAME, MEMOIZE, STACK_GLOBAL, deflated data.pkl) archives with
  /// optimizer state, rng_state, parameters, every storage type and views, against the Python reference.
  func testSyntheticTrainingCheckpointsMatchPythonReference() throws {
    for name in ["synthetic-p2", "synthetic-p4"] {
      let root = try TorchCheckpoint.load(try TestFixtures.url("\(name).pt"))
      XCTAssertEqual(try assertMatchesReference(root, "\(name).json"), 23, name)
    }
  }

  func testSyntheticCheckpointContents() throws {
    let url = try TestFixtures.url("synthetic-p4.pt")
    let root = try TorchCheckpoint.load(url)
    let model = try XCTUnwrap(root["model"])
    XCTAssertTrue(model.isTensorDict)

    // Views: a transposed copy, an offset window, a broadcast (stride-0) row, all made row-major.
    let w = try XCTUnwrap(model["w"]?.tensorValue).floats()
    XCTAssertEqual(w, (0..<12).map { 0.5 * Float($0) - 3 })
    let wt = try XCTUnwrap(model["w_t"]?.tensorValue)
    XCTAssertEqual(wt.shape, [4, 3])
    XCTAssertEqual(try wt.floats(), (0..<12).map { w[($0 % 3) * 4 + $0 / 3] })
    XCTAssertEqual(try model["w_tail"]?.tensorValue?.floats(), [w[5], w[6], w[9], w[10]])
    XCTAssertEqual(try model["broadcast"]?.tensorValue?.floats(), [7, 8, 7, 8, 7, 8])
    XCTAssertEqual(model["scalar"]?.tensorValue?.shape, [])
    XCTAssertEqual(try model["scalar"]?.tensorValue?.floats(), [42])
    XCTAssertEqual(model["empty"]?.tensorValue?.shape, [0, 3])
    XCTAssertEqual(try model["param"]?.tensorValue?.floats(), [1.5, -1.5])

    let half = try XCTUnwrap(model["half"]?.tensorValue)
    XCTAssertEqual(half.dtype, .f16)
    let h = try half.floats()
    XCTAssertEqual(Array(h[0..<4]), [1, 0x1p-24, .infinity, -.infinity])
    XCTAssertTrue(h[4].isNaN)
    XCTAssertEqual(h[5].bitPattern, (-Float(0)).bitPattern)
    XCTAssertEqual(Array(h[6...]), [65504, -2.5])
    XCTAssertEqual(try model["bf16"]?.tensorValue?.floats(), [1, -2, 3.140625, Float(bitPattern: 0x3A83_0000), 65536, -0.0])
    XCTAssertEqual(try model["long"]?.tensorValue?.int64s(), [-(1 << 62), 0, (1 << 62) + 7])
    XCTAssertEqual(try model["int"]?.tensorValue?.int64s(), [-7, Int64(Int32.max)])
    XCTAssertEqual(try model["mask"]?.tensorValue?.int64s(), [1, 0, 1])
    XCTAssertEqual(try model["double"]?.tensorValue?.doubles(), [1.0 / 3.0, -1e300, 2.5])

    // AdamW state: int keys, tuples, None, 0-d step tensors.
    let optimizer = try XCTUnwrap(root["optimizer"])
    let state0 = try XCTUnwrap(optimizer["state"]?[intKey: 0])
    XCTAssertEqual(try state0["step"]?.tensorValue?.floats(), [8])
    XCTAssertEqual(state0["exp_avg"]?.tensorValue?.shape, [12])
    let group = try XCTUnwrap(optimizer["param_groups"]?[index: 0])
    XCTAssertEqual(group["betas"]?.arrayValue?.compactMap(\.doubleValue), [0.9, 0.95])
    XCTAssertEqual(group["lr"]?.doubleValue, 3e-4)
    XCTAssertEqual(group["foreach"]?.isNone, true)
    XCTAssertEqual(group["params"]?.arrayValue?.compactMap(\.intValue), [0, 1])

    // rng_state is a ByteStorage tensor.
    let rng = try XCTUnwrap(root["rng_state"]?.tensorValue)
    XCTAssertEqual(rng.dtype, .u8)
    XCTAssertEqual(rng.shape, [5056])
    XCTAssertEqual(try rng.int64s().prefix(3), [11, 48, 85])

    XCTAssertEqual(root["iter_num"]?.intValue, (1 << 40) + 3)
    XCTAssertEqual(root["big"]?.intValue, Int.max)
    XCTAssertEqual(root["small"]?.intValue, Int.min)
    XCTAssertEqual(root["neg"]?.intValue, -5)
    XCTAssertEqual(root["name"]?.stringValue, "h\u{e9}llo \u{2713}")
    XCTAssertEqual(root["blob"]?.bytesValue, [0, 1, 255])
    XCTAssertEqual(root["nested"]?[index: 0]?[index: 1]?.doubleValue, 2.5)
    XCTAssertNil(root["nested"]?[index: 9])
    XCTAssertNil(root["missing"])

    // The model entry as a TensorArchive.
    let archive = try TorchCheckpoint.loadStateDict(url)
    XCTAssertEqual(archive.tensors.count, 16)
    XCTAssertEqual(archive.files, [url])
    XCTAssertEqual(archive.tensors["w_t"]?.name, "w_t")
    // Not a dict of tensors: the error names the offending key.
    assertCheckpointError(try root["optimizer"]!.tensorArchive(file: url), contains: [url.path, "tensor state", "a dict, not a tensor"])
    assertCheckpointError(try TorchCheckpoint.loadStateDict(url, key: "nope"), contains: [url.path, "\"nope\""])
  }

  /// Fuzz finding (FuzzTorchZip, #13 campaign): a zip whose entries' declared sizes add up past Int.max trapped on
  /// the overflow while the storage bytes were totalled. The sum now saturates, the total is checked against the
  /// memory this process may use, and the file is one `CheckpointError` line, never a trap.
  func testStorageSizesThatOverflowAreRefused() throws {
    let url = try TestFixtures.url("fuzz/torchzip-storage-size-overflow.pt")
    XCTAssertThrowsError(try TorchCheckpoint.load(url)) { error in
      XCTAssertTrue(error is CheckpointError, "\(error)")
      XCTAssertFalse(String(describing: error).contains("\n"))
    }
  }

  /// `verifyChecksums: false` really skips the CRC-32s: with one storage byte changed behind the zip's back, the
  /// checked load refuses the file and the unchecked one reads it, the changed tensor and only it differing.
  func testVerifyChecksumsCanBeSkipped() throws {
    let original = try SharedData.file("fixtures/ltm-micro/ckpt.pt")
    var bytes = [UInt8](try Data(contentsOf: original))
    let name = Array("ckpt/data/1".utf8)
    let nameStart = try XCTUnwrap(bytes.indices.first { bytes[$0..<min($0 + name.count, bytes.count)].elementsEqual(name) })
    let header = nameStart - 30  // the local file header: signature, …, name length at +26, extra length at +28
    XCTAssertEqual(Array(bytes[header..<(header + 4)]), [0x50, 0x4B, 0x03, 0x04])
    let dataStart = nameStart + name.count + Int(bytes[header + 28]) + Int(bytes[header + 29]) << 8
    bytes[dataStart] ^= 0xFF
    let damaged = FileManager.default.temporaryDirectory.appendingPathComponent("crc-\(UUID().uuidString).pt")
    try Data(bytes).write(to: damaged)
    addTeardownBlock { try? FileManager.default.removeItem(at: damaged) }

    assertCheckpointError(try TorchCheckpoint.load(damaged), contains: ["ckpt/data/1", "CRC-32"])
    func tensors(_ root: PickleValue) throws -> [String: [Float]] {
      let entries = try XCTUnwrap(root["model"]?.dictEntries)
      return try Dictionary(uniqueKeysWithValues: entries.map { (try XCTUnwrap($0.key.stringValue), try XCTUnwrap($0.value.tensorValue).floats()) })
    }
    let unchecked = try tensors(TorchCheckpoint.load(damaged, verifyChecksums: false))
    let reference = try tensors(TorchCheckpoint.load(original))
    XCTAssertEqual(Set(unchecked.keys), Set(reference.keys))
    XCTAssertEqual(reference.keys.filter { unchecked[$0] != reference[$0] }.count, 1, "exactly the damaged storage's tensor differs")
  }
}
