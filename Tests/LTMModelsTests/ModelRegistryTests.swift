import Foundation
import LTMCheckpoint
import LTMTestSupport
import XCTest
@testable import LTMModels

/// The registry and the explicit key mapping: every missing or unused tensor is an error that names it.
final class ModelRegistryTests: XCTestCase {
  private func tinyArchive() throws -> (GPT2Config, TensorArchive) {
    let dir = try SharedData.file("fixtures/gpt2-tiny")
    let config = try JSONDecoder().decode(GPT2Config.self, from: Data(contentsOf: dir.appendingPathComponent("config.json")))
    return (config, try Safetensors.load(dir.appendingPathComponent("model.safetensors")))
  }

  private func message(_ body: () throws -> Void) -> String {
    do { try body(); return "" } catch { return String(describing: error) }
  }

  func testMissingTensorIsNamed() throws {
    var (config, archive) = try tinyArchive()
    archive.tensors.removeValue(forKey: "transformer.h.1.mlp.c_fc.bias")
    let m = message { _ = try GPT2Model(config: config, weights: archive, source: "tiny") }
    XCTAssertTrue(m.contains("lacks 1 tensor") && m.contains("transformer.h.1.mlp.c_fc.bias"), m)
  }

  func testUnusedTensorIsNamed() throws {
    var (config, archive) = try tinyArchive()
    archive.tensors["transformer.h.0.attn.extra_gate"] = archive.tensors["transformer.ln_f.bias"]
    let m = message { _ = try GPT2Model(config: config, weights: archive, source: "tiny") }
    XCTAssertTrue(m.contains("nothing uses") && m.contains("transformer.h.0.attn.extra_gate"), m)
  }

  func testMaskBuffersAndTiedHeadAreAcceptedButAnUntiedHeadIsNot() throws {
    var (config, archive) = try tinyArchive()
    // Bare keys (the hub layout), the old causal-mask buffers, and a tied lm_head copy all load.
    var bare: [String: RawTensor] = [:]
    for (k, v) in archive.tensors { bare[String(k.dropFirst("transformer.".count))] = v }
    bare["h.0.attn.bias"] = RawTensor(dtype: .f32, shape: [1], bytes: Data(count: 4))
    bare["h.1.attn.masked_bias"] = RawTensor(dtype: .f32, shape: [1], bytes: Data(count: 4))
    bare["lm_head.weight"] = bare["wte.weight"]
    archive.tensors = bare
    XCTAssertNoThrow(try GPT2Model(config: config, weights: archive, source: "tiny"))
    let wpe = try XCTUnwrap(archive.tensors["wpe.weight"])
    archive.tensors["lm_head.weight"] = RawTensor(dtype: .f32, shape: [50257, 64], bytes: Data(count: 50257 * 64 * 4))
    XCTAssertTrue(message { _ = try GPT2Model(config: config, weights: archive, source: "tiny") }.contains("lm_head.weight"))
    archive.tensors["lm_head.weight"] = nil
    archive.tensors["wpe.weight"] = RawTensor(dtype: .f32, shape: [512, 64], bytes: wpe.bytes.prefix(512 * 64 * 4))
    let shape = message { _ = try GPT2Model(config: config, weights: archive, source: "tiny") }
    XCTAssertTrue(shape.contains("wpe.weight") && shape.contains("[512, 64]"), shape)
    config.activationFunction = "relu"
    XCTAssertTrue(message { _ = try GPT2Model(config: config, weights: archive, source: "tiny") }.contains("relu"))
  }

  func testUnknownFamilyAndMissingConfigAreErrors() throws {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-registry-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    XCTAssertTrue(message { _ = try ModelRegistry.load(path: dir) }.contains("no config.json"))
    try Data(#"{"model_type": "llama"}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
    let m = message { _ = try ModelRegistry.load(path: dir) }
    XCTAssertTrue(m.contains("'llama'") && m.contains("gpt2"), m)
    try Data(#"{"model_type": "gpt2", "n_embd": 64}"#.utf8).write(to: dir.appendingPathComponent("config.json"))
    XCTAssertTrue(message { _ = try ModelRegistry.load(path: dir) }.contains("missing key"))
    XCTAssertTrue(message { _ = try ModelRegistry.load(path: dir.appendingPathComponent("nope")) }.contains("no such file"))
  }

  func testLoadingByWeightsFilePathFindsTheDirectory() throws {
    let file = try SharedData.file("fixtures/gpt2-tiny/model.safetensors")
    let loaded = try ModelRegistry.load(path: file)
    XCTAssertEqual(loaded.family, "gpt2")
    XCTAssertEqual(loaded.checkpointFiles.map(\.lastPathComponent).sorted(), ["config.json", "model.safetensors"])
    XCTAssertEqual(loaded.tokenizerDirectory.standardizedFileURL, file.deletingLastPathComponent().standardizedFileURL)
  }
}
