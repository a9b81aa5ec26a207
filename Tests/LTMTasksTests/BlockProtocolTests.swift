import Foundation
import LTMTestSupport
import XCTest
@testable import LTMTasks

/// Block layouts against `fixtures/zero-shot-pipeline/summary.json`: the block count, the first block and
/// the sha256 of all blocks (little-endian int32) for both presets on all four fixture files. The fixtures'
/// `ids` are used directly, so these tests do not depend on the tokenizer.
final class BlockProtocolTests: XCTestCase {
  func testPresetsReproduceTheFixtureBlocks() throws {
    let summary = try PipelineFixtures.summary()
    for fixture in PipelineFixtures.files {
      let ids = try PipelineFixtures.rows(fixture.name).map(\.ids)
      let entry = try XCTUnwrap(summary[fixture.name] as? [String: Any], fixture.name)
      XCTAssertEqual(ids.reduce(0) { $0 + $1.count }, entry["tokens_without_eos"] as? Int, fixture.name)
      for name in ["ltm", "mdlm"] {
        let expected = try XCTUnwrap(entry[name] as? [String: Any], "\(fixture.name) \(name)")
        let blocks = try BlockProtocol.named(name).makeBlocks(examples: ids, limit: nil, source: fixture.name)
        let label = "\(fixture.name) \(name)"
        XCTAssertEqual(blocks.blockLength, expected["block_len"] as? Int, label)
        XCTAssertEqual(blocks.count, expected["blocks"] as? Int, label)
        XCTAssertEqual(blocks.tokens.count, blocks.count * blocks.blockLength, label)
        let firstBlock = try XCTUnwrap(expected["first_block"] as? [Int], label).map(Int32.init)
        XCTAssertEqual(Array(blocks.block(0)), firstBlock, label)
        XCTAssertEqual(SHA256Digest.hex(int32LE: blocks.tokens), expected["sha256_int32le_blocks"] as? String, label)
      }
    }
  }

  func testSHA256HelperIsRight() {
    XCTAssertEqual(SHA256Digest.hex([]), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    XCTAssertEqual(SHA256Digest.hex(Array("abc".utf8)), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    XCTAssertEqual(
      SHA256Digest.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8)),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
  }

  func testPresetFields() throws {
    let ltm = try BlockProtocol.named("ltm")
    XCTAssertEqual(ltm.blockLength, 1024)
    XCTAssertEqual(ltm.contentLength, 1024)
    XCTAssertEqual(ltm.headline, "block_mean")
    XCTAssertTrue(ltm.insertDocumentEOS)
    XCTAssertFalse(ltm.frameBlocks)
    XCTAssertEqual(ltm.batchSize, 1000)
    let mdlm = try BlockProtocol.named("mdlm")
    XCTAssertEqual(mdlm.blockLength, 1024)
    XCTAssertEqual(mdlm.contentLength, 1022)
    XCTAssertEqual(mdlm.headline, "token_weighted")
    XCTAssertTrue(mdlm.frameBlocks)
    XCTAssertEqual([mdlm.bos, mdlm.eos], [50256, 50256])
    XCTAssertEqual(BlockProtocol.names, ["ltm", "mdlm", "bd3lm", "sedd"])
    XCTAssertFalse(mdlm.ignoreBOS)
    XCTAssertNil(mdlm.split)
    for preset in BlockProtocol.presets { XCTAssertFalse(preset.summary.contains("\n"), preset.name) }
  }

  /// Remainders are dropped per batch of examples, not once at the end, and the EOS follows every example.
  func testRemainderIsDroppedPerBatch() throws {
    let layout = BlockProtocol(
      name: "toy", summary: "toy", blockLength: 4, insertDocumentEOS: true, frameBlocks: false, eos: -1, batchSize: 2,
      headline: BlockProtocol.tokenWeighted)
    // Batch 1: [1 2 -1 3 4 5 -1] -> one block, [4 5 -1] dropped. Batch 2: [6 -1 7 8 9 -1] -> one block.
    let blocks = try layout.makeBlocks(examples: [[1, 2], [3, 4, 5], [6], [7, 8, 9]], limit: nil, source: "toy")
    XCTAssertEqual(blocks.tokens, [1, 2, -1, 3, 6, -1, 7, 8])
    var whole = layout
    whole.batchSize = nil
    let once = try whole.makeBlocks(examples: [[1, 2], [3, 4, 5], [6], [7, 8, 9]], limit: nil, source: "toy")
    XCTAssertEqual(once.tokens, [1, 2, -1, 3, 4, 5, -1, 6, -1, 7, 8, 9])
  }

  func testFramedBlocksWrapEachCut() throws {
    let layout = BlockProtocol(
      name: "toy", summary: "toy", blockLength: 4, insertDocumentEOS: false, frameBlocks: true, bos: -2, eos: -1,
      batchSize: 1000, headline: BlockProtocol.tokenWeighted)
    let blocks = try layout.makeBlocks(examples: [[1, 2, 3], [4, 5]], limit: nil, source: "toy")
    XCTAssertEqual(blocks.tokens, [-2, 1, 2, -1, -2, 3, 4, -1])
    XCTAssertEqual(blocks.count, 2)
    XCTAssertEqual(Array(blocks.block(1)), [-2, 3, 4, -1])
  }

  func testLimitKeepsTheFirstBlocks() throws {
    let ids = try PipelineFixtures.rows("ptb-valid").map(\.ids)
    for name in BlockProtocol.names {
      let layout = try BlockProtocol.named(name)
      let all = try layout.makeBlocks(examples: ids, limit: nil, source: "ptb")
      let four = try layout.makeBlocks(examples: ids, limit: 4, source: "ptb")
      XCTAssertEqual(four.count, 4, name)
      XCTAssertEqual(four.tokens, Array(all.tokens.prefix(4 * 1024)), name)
      XCTAssertEqual(try layout.makeBlocks(examples: ids, limit: 10_000, source: "ptb"), all, name)
      XCTAssertThrowsError(try layout.makeBlocks(examples: ids, limit: 0, source: "ptb")) { error in
        XCTAssertEqual(error as? TaskError, .invalidLimit(0))
      }
    }
  }

  func testZeroBlocksIsAnErrorNamingTheTokenCount() {
    for name in BlockProtocol.names {
      let message = errorMessage {
        _ = try BlockProtocol.named(name).makeBlocks(examples: [[1, 2, 3], [4, 5]], limit: nil, source: "tiny/test")
      }
      XCTAssertNotNil(message, name)
      XCTAssertTrue(message?.contains("0 blocks") ?? false, message ?? "")
      // 5 example tokens, plus one EOS per example where the preset inserts it.
      let tokens = try? BlockProtocol.named(name).insertDocumentEOS ? 7 : 5
      XCTAssertTrue(message?.contains("from \(tokens ?? 0) tokens") ?? false, message ?? "")
      XCTAssertTrue(message?.contains("tiny/test") ?? false, message ?? "")
      XCTAssertFalse(message?.contains("\n") ?? true)
    }
    XCTAssertThrowsError(try BlockProtocol.ltm.makeBlocks(examples: [], limit: nil, source: "empty")) { error in
      XCTAssertEqual(error as? TaskError, .noBlocks(source: "empty", protocolName: "ltm", tokens: 0, blockLength: 1024))
    }
  }

  /// bd3lm: the mdlm frame without document EOS, BOS ignored by diffusion scorers. sedd: no BOS, plain blocks, test
  /// split. Checked on PTB valid against the fixture's ids: bd3lm's first block is mdlm's stream without the EOS
  /// after each example, sedd's is ltm's (same stream, same plain cut).
  func testDiffusionPresets() throws {
    let bd3lm = try BlockProtocol.named("bd3lm"), sedd = try BlockProtocol.named("sedd")
    XCTAssertTrue(bd3lm.ignoreBOS)
    XCTAssertFalse(bd3lm.insertDocumentEOS)
    XCTAssertTrue(bd3lm.frameBlocks)
    XCTAssertEqual(bd3lm.contentLength, 1022)
    XCTAssertEqual(bd3lm.headline, "token_weighted")
    XCTAssertNil(bd3lm.split)
    XCTAssertFalse(sedd.ignoreBOS)
    XCTAssertFalse(sedd.frameBlocks)
    XCTAssertTrue(sedd.insertDocumentEOS)
    XCTAssertEqual(sedd.split, "test")
    XCTAssertEqual(sedd.headline, "token_weighted")
    let ids = try PipelineFixtures.rows("ptb-valid").map(\.ids)
    let stream = Array(ids.prefix(1000).joined())
    let b = try bd3lm.makeBlocks(examples: ids, limit: 2, source: "ptb-valid")
    XCTAssertEqual(Array(b.block(0)), [50256] + stream[0..<1022] + [50256])
    XCTAssertEqual(Array(b.block(1)), [50256] + stream[1022..<2044] + [50256])
    XCTAssertFalse(b.block(0).dropFirst().dropLast().contains(50256), "no EOS between PTB sentences")
    let s = try sedd.makeBlocks(examples: ids, limit: nil, source: "ptb-valid")
    let l = try BlockProtocol.ltm.makeBlocks(examples: ids, limit: nil, source: "ptb-valid")
    XCTAssertEqual(s.tokens, l.tokens)
    XCTAssertNotEqual(s.block(0).first, 50256, "no BOS")
  }

  func testUnknownProtocolIsNamed() {
    XCTAssertThrowsError(try BlockProtocol.named("radd")) { error in
      XCTAssertEqual(error as? TaskError, .unknownProtocol(name: "radd", known: ["ltm", "mdlm", "bd3lm", "sedd"]))
      XCTAssertTrue(String(describing: error).contains("'radd'"))
      XCTAssertTrue(String(describing: error).contains("ltm, mdlm, bd3lm, sedd"))
    }
  }
}
