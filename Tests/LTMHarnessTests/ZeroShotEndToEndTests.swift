import Foundation
import LTMTestSupport
import XCTest
@testable import LTMHarness

/// The whole pipeline — reader, detokenizer, BPE, block protocol, GPT-2 forward, aggregation — against the
/// transformers golden of `fixtures/gpt2-tiny/expected.json` (first 4 PTB-validation blocks, both protocols), at the
/// 1e-5 relative the model alone holds: the pipeline adds no error of its own.
final class ZeroShotEndToEndTests: XCTestCase {
  private func outputDirectory() -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-e2e-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: dir) }
    return dir
  }

  private func configuration(protocolName: String, limit: Int?, output: URL, tasks: [String] = ["ptb"], split: String? = "validation") throws -> ZeroShotConfiguration {
    ZeroShotConfiguration(
      modelPaths: [try SharedData.file("fixtures/gpt2-tiny")], taskNames: tasks, dataDirectory: try SharedData.file("data"),
      split: split, protocolName: protocolName, limitBlocks: limit, threads: 1, batchBlocks: 2,
      outputDirectory: output, tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks"))
  }

  func testPTBValidationMatchesTransformersGoldenUnderBothProtocols() throws {
    let expected = try SharedData.json("fixtures/gpt2-tiny/expected.json")
    let golden = try XCTUnwrap(expected["zero_shot_first_blocks"] as? [String: [String: Any]])
    for proto in ["ltm", "mdlm"] {
      let g = try XCTUnwrap(golden[proto])
      let sums = try XCTUnwrap(g["nll_sum_per_block"] as? [Double])
      let out = try ZeroShotRunner(configuration: configuration(protocolName: proto, limit: 4, output: outputDirectory())).run()
      let r = try XCTUnwrap(out.document.results.first)
      XCTAssertEqual(r.blocks, 4)
      XCTAssertEqual(r.scoredTokens, try XCTUnwrap(g["scored_tokens"] as? Int))
      XCTAssertTrue(isClose(r.nllSum, sums.reduce(0, +), rtol: 1e-5), "\(proto): nll \(r.nllSum) vs \(sums.reduce(0, +))")
      XCTAssertTrue(isClose(r.pplTokenWeighted, try XCTUnwrap(g["ppl_token_weighted"] as? Double), rtol: 1e-5), proto)
      XCTAssertTrue(isClose(r.pplBlockMean, try XCTUnwrap(g["ppl_block_mean"] as? Double), rtol: 1e-5), proto)
      XCTAssertEqual(r.bound, "exact")
      XCTAssertEqual(r.protocolName, proto)
      XCTAssertEqual(r.headline, proto == "ltm" ? "block_mean" : "token_weighted")
      XCTAssertFalse(r.complete, "4 of 77 blocks is a partial split")
      XCTAssertEqual(out.document.tasks.first?.blocksAvailable, 77, "PTB validation makes 77 blocks (summary.json)")
      XCTAssertTrue(FileManager.default.fileExists(atPath: out.reportHTML.path))
    }
  }

  /// A model whose output overflows (finite weights: gpt2-tiny with ln_f scaled to 3e38) scores NaN (#13): its row
  /// is left out with one failure line naming it, and the healthy model beside it keeps its results, in the
  /// reports too; nothing non-finite reaches the block cache.
  func testANonFiniteScoreLeavesOutOnlyThatResult() throws {
    let tiny = try SharedData.file("fixtures/gpt2-tiny")
    let broken = try tinyCopy(name: "gpt2-overflow", filling: "transformer.ln_f.weight", with: 3e38)
    var config = try configuration(protocolName: "ltm", limit: 1, output: outputDirectory())
    config.modelPaths = [broken, tiny]
    let out = try ZeroShotRunner(configuration: config).run()
    XCTAssertEqual(out.failures.count, 1, "\(out.failures)")
    XCTAssertTrue(out.failures[0].contains(broken.lastPathComponent) && out.failures[0].contains("block 0"), out.failures[0])
    XCTAssertEqual(out.document.results.map(\.model), ["gpt2-tiny"])
    XCTAssertTrue(FileManager.default.fileExists(atPath: out.reportHTML.path))
    let cache = try String(contentsOf: config.outputDirectory.appendingPathComponent(BlockCache.fileName), encoding: .utf8)
    XCTAssertEqual(cache.split(separator: "\n").count, 1, "only the healthy model's block is cached")
  }

  /// A checkpoint whose weights hold NaN is left out when it is loaded (#13), with one failure line naming the
  /// tensor, before any compute; the healthy model beside it keeps its results. Alone, it is the run's error.
  func testAModelWithNonFiniteWeightsIsLeftOutAtLoad() throws {
    let tiny = try SharedData.file("fixtures/gpt2-tiny")
    let broken = try tinyCopy(name: "gpt2-nan", filling: "transformer.h.0.mlp.c_fc.weight", with: .nan)
    var config = try configuration(protocolName: "ltm", limit: 1, output: outputDirectory())
    config.modelPaths = [broken, tiny]
    let out = try ZeroShotRunner(configuration: config).run()
    XCTAssertEqual(out.failures.count, 1, "\(out.failures)")
    for needle in ["model \(broken.path) left out", "transformer.h.0.mlp.c_fc.weight", "non-finite value (nan at flat index 0)"] {
      XCTAssertTrue(out.failures[0].contains(needle), "\(needle): \(out.failures[0])")
    }
    XCTAssertEqual(out.document.results.map(\.model), ["gpt2-tiny"])
    XCTAssertEqual(out.document.models.map(\.id), ["gpt2-tiny"])
    config.modelPaths = [broken]
    config.outputDirectory = outputDirectory()
    XCTAssertThrowsError(try ZeroShotRunner(configuration: config).run()) { error in
      XCTAssertTrue(String(describing: error).contains("transformer.h.0.mlp.c_fc.weight"), "\(error)")
    }
  }

  /// A copy of gpt2-tiny (its other files linked) with every element of one tensor set to `value`.
  private func tinyCopy(name: String, filling tensor: String, with value: Float) throws -> URL {
    let tiny = try SharedData.file("fixtures/gpt2-tiny")
    let copy = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
    addTeardownBlock { try? FileManager.default.removeItem(at: copy) }
    try FileManager.default.createDirectory(at: copy, withIntermediateDirectories: true)
    for file in try FileManager.default.contentsOfDirectory(atPath: tiny.path) where file != "model.safetensors" {
      try FileManager.default.createSymbolicLink(at: copy.appendingPathComponent(file), withDestinationURL: tiny.appendingPathComponent(file))
    }
    var weights = try Data(contentsOf: tiny.appendingPathComponent("model.safetensors"))
    let headerLength = Int(weights.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) })
    let header = try XCTUnwrap(JSONSerialization.jsonObject(with: weights.subdata(in: 8..<(8 + headerLength))) as? [String: Any])
    let offsets = try XCTUnwrap((header[tensor] as? [String: Any])?["data_offsets"] as? [Int], tensor)
    for at in stride(from: 8 + headerLength + offsets[0], to: 8 + headerLength + offsets[1], by: 4) {
      withUnsafeBytes(of: value.bitPattern.littleEndian) { weights.replaceSubrange(at..<(at + 4), with: $0) }
    }
    try weights.write(to: copy.appendingPathComponent("model.safetensors"))
    return copy
  }

  /// An extended run (`--limit-blocks` raised) takes every block it already has from the cache and gives
  /// bit-identical numbers; another protocol shares nothing with it.
  func testExtendedRunReusesCachedBlocks() throws {
    let output = outputDirectory()
    let first = try ZeroShotRunner(configuration: configuration(protocolName: "ltm", limit: 2, output: output)).run()
    XCTAssertEqual(first.document.run.resumedBlocks, 0)
    let second = try ZeroShotRunner(configuration: configuration(protocolName: "ltm", limit: 3, output: output)).run()
    XCTAssertEqual(second.document.run.resumedBlocks, 2)
    var fresh = try configuration(protocolName: "ltm", limit: 3, output: outputDirectory())
    fresh.useCache = false
    let third = try ZeroShotRunner(configuration: fresh).run()
    var a = second.document.results[0], b = third.document.results[0]
    (a.wallSeconds, b.wallSeconds) = (0, 0)
    XCTAssertEqual(a, b)
    let again = try ZeroShotRunner(configuration: configuration(protocolName: "ltm", limit: 3, output: output)).run()
    XCTAssertEqual(again.document.run.resumedBlocks, 3, "nothing left to score")
    var reseeded = try configuration(protocolName: "ltm", limit: 3, output: output)
    reseeded.seed = 7
    XCTAssertEqual(try ZeroShotRunner(configuration: reseeded).run().document.run.resumedBlocks, 3, "GPT-2 draws nothing from the seed")
    let otherProtocol = try ZeroShotRunner(configuration: configuration(protocolName: "mdlm", limit: 1, output: output)).run()
    XCTAssertEqual(otherProtocol.document.run.resumedBlocks, 0, "the mdlm layout must not reuse ltm blocks")
    XCTAssertEqual(again.document.results[0].scorerSettings, [:], "GPT-2 has no scorer settings")
    XCTAssertNil(again.document.results[0].inferenceSteps)
    XCTAssertNil(again.document.results[0].perBlock, "per-block scores are kept only in shard results")
  }

  func testBadInputsFailWithOneLineMessages() throws {
    func message(_ body: () throws -> Void) -> String {
      do { try body(); return "" } catch { return String(describing: error) }
    }
    let out = outputDirectory()
    let unknownTask = message { _ = try ZeroShotRunner(configuration: self.configuration(protocolName: "ltm", limit: 1, output: out, tasks: ["nope"])).run() }
    XCTAssertTrue(unknownTask.contains("nope"), unknownTask)
    let badProtocol = message { _ = try ZeroShotRunner(configuration: self.configuration(protocolName: "gpt3", limit: 1, output: out)).run() }
    XCTAssertTrue(badProtocol.contains("gpt3"), badProtocol)
    // The shared data has no wiki.valid.raw: the error names the missing file.
    let missingSplit = message { _ = try ZeroShotRunner(configuration: self.configuration(protocolName: "ltm", limit: 1, output: out, tasks: ["wikitext2"], split: "validation")).run() }
    XCTAssertTrue(missingSplit.contains("wiki.valid.raw"), missingSplit)
    let badSplit = message { _ = try ZeroShotRunner(configuration: self.configuration(protocolName: "ltm", limit: 1, output: out, split: "train")).run() }
    XCTAssertTrue(badSplit.contains("train"), badSplit)
    var zeroLimit = try configuration(protocolName: "ltm", limit: 0, output: out)
    zeroLimit.limitBlocks = 0
    XCTAssertTrue(message { _ = try ZeroShotRunner(configuration: zeroLimit).run() }.contains("--limit-blocks"))
    for m in [unknownTask, badProtocol, missingSplit, badSplit] { XCTAssertFalse(m.contains("\n"), "multi-line error: \(m)") }
  }

  /// A dataset too small for one block is an error naming the token count, never a perplexity over nothing.
  func testZeroBlocksIsAnError() throws {
    let dir = outputDirectory()
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("data"), withIntermediateDirectories: true)
    try "a few words\nand a few more\n".write(to: dir.appendingPathComponent("data/tiny.txt"), atomically: true, encoding: .utf8)
    let yaml = """
      name: tiny
      description: three words
      reader: plain_text
      detokenizer: none
      default_split: test
      splits:
        test: [tiny.txt]
      """
    let taskFile = dir.appendingPathComponent("tiny.yaml")
    try yaml.write(to: taskFile, atomically: true, encoding: .utf8)
    var config = try configuration(protocolName: "ltm", limit: nil, output: dir.appendingPathComponent("out"), tasks: [taskFile.path], split: nil)
    config.dataDirectory = dir.appendingPathComponent("data")
    XCTAssertThrowsError(try ZeroShotRunner(configuration: config).run()) { error in
      XCTAssertTrue(String(describing: error).contains("0 blocks"), "\(error)")
    }
  }
}
