import Foundation
import LTMDownload
import LTMTestSupport
import XCTest

final class ManifestTests: XCTestCase {
  /// Every manifest entry whose file the shared data holds matches it byte for byte (size, sha256, md5),
  /// checked with coreutils: the hashes the downloader trusts are the verified ones.
  func testCommittedManifestMatchesSharedData() throws {
    let manifest = try committedManifest()
    XCTAssertEqual(manifest.names, ["ag_news", "arxiv", "gpt2", "gpt3_arithmetic", "gsm8k", "lambada", "lm1b", "ptb", "pubmed", "wikitext103", "wikitext2"])
    var checked = 0
    for file in manifest.files {
      let local = SharedData.data.appendingPathComponent(file.path)
      guard FileManager.default.fileExists(atPath: local.path) else { continue }
      if let size = file.size {
        let actual = try FileManager.default.attributesOfItem(atPath: local.path)[.size] as? NSNumber
        XCTAssertEqual(actual?.int64Value, size, file.path)
      }
      for digest in file.digests {
        switch digest {
        case .sha256(let hex): XCTAssertEqual(try Oracle.sha256(local), hex, file.path)
        case .md5(let hex): XCTAssertEqual(try Oracle.md5(local), hex, file.path)
        }
        checked += 1
      }
    }
    // ptb 2, wiki.test.raw in 2 datasets, lm1b 4 × (sha256 + md5), lambada 1, gsm8k 2, ag_news 2 + 1 md5, gpt2 2,
    // gpt3_arithmetic 10.
    XCTAssertEqual(checked, 30)
  }

  /// Every file has a checksum on its canonical route except scientific_papers', whose authors published none: those
  /// are exactly the unverifiable ones (fetched only with --allow-unverified, and labelled so).
  func testEveryFileIsCoveredByAChecksumOnTheCanonicalRoute() throws {
    let manifest = try committedManifest()
    let unverifiable = manifest.files.filter { $0.digests.isEmpty && $0.archive?.sha256 == nil }.map(\.path)
    XCTAssertEqual(unverifiable.sorted(), ["arxiv-dataset/test.txt", "arxiv-dataset/val.txt", "pubmed-dataset/test.txt", "pubmed-dataset/val.txt"])
    XCTAssertEqual(manifest.files.filter { $0.dataset == "lm1b" }.count, 50)
    XCTAssertTrue(manifest.files.filter { $0.dataset == "lm1b" }.allSatisfy { $0.digests.contains { $0.algorithm == "md5" } })
    let valid = try XCTUnwrap(manifest.files.first { $0.path == "wikitext/wiki.valid.raw" })
    XCTAssertTrue(valid.digests.isEmpty)
    XCTAssertEqual(valid.archive?.member, "wikitext-2-raw/wiki.valid.raw")
    XCTAssertEqual(try manifest.files(datasets: ["wikitext2", "wikitext103"]).count, 2, "shared paths are listed once")
    XCTAssertEqual(try manifest.files(datasets: ["gsm8k"], split: "test").map(\.path), ["gsm8k/test.jsonl"])
  }

  func testInvalidManifestsAreOneLineErrors() {
    let good = """
      version: 1
      datasets:
        x:
          description: d
          license: l
          files:
            - {path: x/a.txt, split: test, url: "http://h/a.txt", sha256: SHA}
      """
    XCTAssertNoThrow(try DatasetManifest.parse(good.replacingOccurrences(of: "SHA", with: "unknown"), file: "m.yaml"))
    var cases: [(String, String)] = [
      (good.replacingOccurrences(of: ", sha256: SHA", with: ""), "sha256 is required"),
      (good.replacingOccurrences(of: "SHA", with: "abc"), "expected 64 hex digits"),
      (good.replacingOccurrences(of: "SHA", with: "unknown").replacingOccurrences(of: "x/a.txt", with: "../a.txt"), "is not a plain relative path ("),
      (good.replacingOccurrences(of: "SHA", with: "unknown").replacingOccurrences(of: "http://h", with: "ftp://h"), "url must be http"),
      (good.replacingOccurrences(of: "version: 1", with: "version: 2").replacingOccurrences(of: "SHA", with: "unknown"), "unsupported version"),
    ]
    let twoPlainFiles = good.replacingOccurrences(of: "SHA", with: "unknown") + "\n      - {path: x/b.txt, split: test, url: \"http://h/a.txt\", sha256: unknown}\n"
    cases.append((twoPlainFiles, "only members of one archive"))
    for (text, expected) in cases {
      XCTAssertThrowsError(try DatasetManifest.parse(text, file: "m.yaml")) { error in
        let message = String(describing: error)
        XCTAssertTrue(message.contains(expected) && message.hasPrefix("m.yaml"), message)
        XCTAssertFalse(message.contains("\n"), message)
      }
    }
    let manifest = try? DatasetManifest.parse(good.replacingOccurrences(of: "SHA", with: "unknown"), file: "m.yaml")
    XCTAssertThrowsError(try manifest?.files(datasets: ["nope"])) { error in
      XCTAssertEqual(String(describing: error), "no download source for 'nope' (known: x)")
    }
    XCTAssertThrowsError(try manifest?.files(datasets: ["x"], split: "validation"))
  }

  func testCacheRootFollowsLTMBenchHome() {
    XCTAssertEqual(DataCache.defaultRoot(environment: ["LTM_BENCH_HOME": "/srv/ltm", "HOME": "/home/u"]).path, "/srv/ltm")
    XCTAssertEqual(DataCache.defaultRoot(environment: ["HOME": "/home/u"]).path, "/home/u/.cache/ltm-bench")
  }
}
