import Foundation
import LTMTasks
import LTMTestSupport
import LTMTokenizer
import XCTest

@testable import LTMHarness

/// The four zero-shot columns beyond PTB/WikiText/LM1B (#15), through the shipped task files, against
/// `tools/make_zero_shot_dataset_goldens.py`: the reference loaders' examples, the MDLM authors' detokenizers, the GPT-2
/// fast tokenizer, and the authors' own block grouping (MDLM `_group_texts`, the LTM zero-shot `group_texts`) through
/// `datasets.map`. Texts and ids are compared per chunk of 64 examples (the first differing chunk is named), blocks by
/// count, SHA-256 and the head of block 0.
final class ZeroShotDatasetPipelineTests: XCTestCase {
  private static let fixtures = SharedData.packageRoot.appendingPathComponent("Tests/LTMTasksTests/Fixtures")

  func testEveryNewColumnMatchesTheReferencePipeline() throws {
    let golden = try XCTUnwrap(
      JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixtures.appendingPathComponent("zero-shot-datasets.json"))) as? [String: Any])
    let chunk = try XCTUnwrap(golden["chunk"] as? Int)
    let datasets = try XCTUnwrap(golden["datasets"] as? [String: [String: Any]])
    XCTAssertEqual(Set(datasets.keys), ["lambada", "ag_news", "pubmed", "arxiv"])
    let catalog = try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks"))
    let tokenizer = try GPT2Tokenizer.load(directory: SharedData.file("data/gpt2"))
    for (name, expected) in datasets.sorted(by: { $0.key < $1.key }) {
      let spec = try catalog.task(named: name)
      let dataDirectory = expected["data_dir"] as? String == "shared"
        ? try SharedData.file("data") : Self.fixtures.appendingPathComponent("scientific-papers")
      let split = spec.defaultSplit
      XCTAssertEqual(try spec.files(split: split, dataDirectory: dataDirectory).map { $0.path.hasSuffix(expected["file"] as? String ?? "?") }, [true], name)
      let raw = try spec.rawExamples(split: split, dataDirectory: dataDirectory)
      let detok = try spec.examples(split: split, dataDirectory: dataDirectory)
      let ids = detok.map(tokenizer.encode)
      XCTAssertEqual(raw.count, expected["examples"] as? Int, name)
      XCTAssertEqual(ids.reduce(0) { $0 + $1.count }, expected["tokens_without_eos"] as? Int, name)
      assertChunks(raw, expected["raw_chunks"], chunk: chunk, "\(name) raw", encode: Self.textBytes)
      assertChunks(detok, expected["detok_chunks"], chunk: chunk, "\(name) detokenized", encode: Self.textBytes)
      assertChunks(ids, expected["ids_chunks"], chunk: chunk, "\(name) ids", encode: Self.idBytes)

      let layouts = try XCTUnwrap(expected["layouts"] as? [String: [String: Any]], name)
      for (layout, summary) in layouts {
        let blocks = try BlockProtocol.named(layout).makeBlocks(examples: ids, limit: nil, source: name)
        XCTAssertEqual(blocks.count, summary["blocks"] as? Int, "\(name) \(layout)")
        XCTAssertEqual(Digests.sha256(int32LE: blocks.tokens[...]), summary["sha256_int32le_blocks"] as? String, "\(name) \(layout)")
        XCTAssertEqual(Array(blocks.block(0).prefix(64)).map(Int.init), summary["first_block_head"] as? [Int], "\(name) \(layout)")
      }
    }
  }

  /// The shipped scientific_papers tasks read what the loader yields for an article with no text: "" (it still
  /// becomes one example, so its EOS joins the stream as in the reference).
  func testAnEmptyArticleIsAnEmptyExample() throws {
    let catalog = try TaskCatalog.load(directory: SharedData.packageRoot.appendingPathComponent("tasks"))
    let raw = try catalog.task(named: "pubmed").rawExamples(split: "validation", dataDirectory: Self.fixtures.appendingPathComponent("scientific-papers"))
    XCTAssertEqual(raw.count, 9)
    XCTAssertEqual(raw[4], "")
    XCTAssertTrue(raw[0].contains("\n"), "paragraphs are joined with a newline")
  }

  /// `--tasks paper` (#15): the seven columns for GPT-2, LTM and MDLM under the `mdlm` protocol, one block each, in
  /// the papers' column order, with `=` for GPT-2 and `≤` for the bounds, and the MDLM paper's published rows
  /// beside them in report.html. The data folder is the shared data plus the scientific_papers fixtures; the
  /// shared data has no WikiText validation file, so its test file stands in (this test checks the table, not the
  /// WikiText number).
  func testThePaperPresetScoresSevenColumnsForEveryFamily() throws {
    let data = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-paper-data-\(UUID().uuidString)")
    let output = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-paper-out-\(UUID().uuidString)")
    addTeardownBlock {
      try? FileManager.default.removeItem(at: data)
      try? FileManager.default.removeItem(at: output)
    }
    let fm = FileManager.default
    try fm.createDirectory(at: data.appendingPathComponent("wikitext"), withIntermediateDirectories: true)
    let shared = try SharedData.file("data")
    for name in try fm.contentsOfDirectory(atPath: shared.path) where name != "wikitext" {
      try fm.createSymbolicLink(at: data.appendingPathComponent(name), withDestinationURL: shared.appendingPathComponent(name))
    }
    try fm.createSymbolicLink(at: data.appendingPathComponent("wikitext/wiki.valid.raw"), withDestinationURL: shared.appendingPathComponent("wikitext/wiki.test.raw"))
    for name in ["pubmed-dataset", "arxiv-dataset"] {
      try fm.createSymbolicLink(at: data.appendingPathComponent(name), withDestinationURL: Self.fixtures.appendingPathComponent("scientific-papers/\(name)"))
    }
    let config = ZeroShotConfiguration(
      modelPaths: [try SharedData.file("fixtures/gpt2-tiny"), try SharedData.file("fixtures/ltm-gpt2vocab/ckpt.pt"), try SharedData.file("fixtures/mdlm-gpt2vocab")],
      taskNames: ["paper"], dataDirectory: data, protocolName: "mdlm", limitBlocks: 1, threads: 2, outputDirectory: output,
      tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks"),
      modelOptions: ModelRunOptions(latent: LatentInferenceOptions(steps: [2])))
    let out = try ZeroShotRunner(configuration: config).run()
    let columns = ["ptb", "wikitext2", "lm1b", "lambada", "ag_news", "pubmed", "arxiv"]
    XCTAssertEqual(out.document.tasks.map(\.name), columns)
    XCTAssertEqual(out.document.results.count, 21)
    for family in ["gpt2", "ltm", "mdlm"] {
      let rows = out.document.results.filter { r in out.document.models.first { $0.id == r.model }?.family == family }
      XCTAssertEqual(rows.map(\.task), columns, family)
      XCTAssertTrue(rows.allSatisfy { $0.bound == (family == "gpt2" ? "exact" : "upper") && $0.ppl.isFinite && $0.blocks == 1 }, family)
    }
    let html = try String(contentsOf: out.reportHTML, encoding: .utf8)
    XCTAssertTrue(html.contains("published · mdlm-table"))
  }

  private func assertChunks<T>(_ items: [T], _ expected: Any?, chunk: Int, _ label: String, encode: (T, inout Data) -> Void) {
    guard let expected = expected as? [String] else { return XCTFail("\(label): no chunk hashes in the golden") }
    var hashes: [String] = []
    for start in stride(from: 0, to: items.count, by: chunk) {
      var data = Data()
      for item in items[start..<min(start + chunk, items.count)] { encode(item, &data) }
      hashes.append(Digests.sha256(data: data))
    }
    XCTAssertEqual(hashes.count, expected.count, label)
    if let first = zip(hashes, expected).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
      XCTFail("\(label): examples \(first.offset * chunk)..<\((first.offset + 1) * chunk) differ from the reference")
    }
  }

  private static func textBytes(_ text: String, _ data: inout Data) {
    data.append(contentsOf: Array(text.utf8) + [0xFF])
  }

  private static func idBytes(_ ids: [Int32], _ data: inout Data) {
    for id in ids + [-1] { withUnsafeBytes(of: id.littleEndian) { data.append(contentsOf: $0) } }
  }
}
