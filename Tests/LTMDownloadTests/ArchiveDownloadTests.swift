import Foundation
import LTMDownload
import LTMTestSupport
import XCTest
import ZIPFoundation

/// The canonical route: archives fetched once, verified, and their members extracted, checked and installed.
/// The archives are built here from the shared data and served on loopback.
final class ArchiveDownloadTests: XCTestCase {
  private let lm1bDir = "1-billion-word-language-modeling-benchmark-r13output/heldout-monolingual.tokenized.shuffled"
  private let shard10 = "news.en.heldout-00010-of-00050"
  private let shard11 = "news.en.heldout-00011-of-00050"

  /// A staging tree holding `files` (archive member path → shared data path).
  private func stage(_ files: [String: String]) throws -> URL {
    let root = try temporaryDirectory(self)
    for (member, source) in files {
      let target = root.appendingPathComponent(member)
      try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
      try FileManager.default.copyItem(at: SharedData.data.appendingPathComponent(source), to: target)
    }
    return root
  }

  /// `format` is a GNU tar --format; with `namedGzip` the tar file is compressed by `gzip` itself, which
  /// records the file name in the gzip header (FNAME), unlike tar's piped gzip.
  private func makeTarGz(format: String, namedGzip: Bool = false) throws -> URL {
    let staging = try stage(["\(lm1bDir)/\(shard10)": "lm1b/\(shard10)", "\(lm1bDir)/\(shard11)": "lm1b/\(shard11)"])
    let directory = try temporaryDirectory(self)
    let top = lm1bDir.split(separator: "/")[0].description
    if namedGzip {
      let tar = directory.appendingPathComponent("lm1b.tar")
      try Oracle.run("/usr/bin/env", ["tar", "--format=\(format)", "-cf", tar.path, "-C", staging.path, top])
      try Oracle.run("/usr/bin/env", ["gzip", tar.path])
    } else {
      try Oracle.run("/usr/bin/env", ["tar", "--format=\(format)", "-czf", directory.appendingPathComponent("lm1b.tar.gz").path, "-C", staging.path, top])
    }
    return directory.appendingPathComponent("lm1b.tar.gz")
  }

  private func makeZip() throws -> URL {
    let staging = try stage(["wikitext-2-raw/wiki.test.raw": "wikitext/wiki.test.raw", "wikitext-2-raw/wiki.valid.raw": "ptb/ptb.valid.txt"])
    let out = try temporaryDirectory(self).appendingPathComponent("wikitext-2-raw-v1.zip")
    let archive = try Archive(url: out, accessMode: .create)
    for member in ["wikitext-2-raw/wiki.test.raw", "wikitext-2-raw/wiki.valid.raw"] {
      try archive.addEntry(with: member, relativeTo: staging, compressionMethod: .deflate)
    }
    return out
  }

  private func serve(_ archives: [String: URL]) throws -> LoopbackHTTPServer {
    let bodies = try archives.mapValues { try Data(contentsOf: $0) }
    return try LoopbackHTTPServer { request in
      guard let body = bodies[String(request.path.dropFirst())] else { return .notFound }
      return .content(body, for: request)
    }
  }

  private func lm1bManifest(_ server: LoopbackHTTPServer, md5Of11: String? = nil) throws -> DatasetManifest {
    let url = server.baseURL.absoluteString + "lm1b.tar.gz"
    let md5 = [shard10: "36b9b690341bfb89239d9c656cce8c5a", shard11: md5Of11 ?? "13b0479e328f0d4ea7274845eff37e2c"]
    let entries = [shard10, shard11].map { name in
      "    - {path: lm1b/\(name), split: test, url: \"\(url)\", sha256: unknown, md5: \(md5[name]!), archive: {format: tar.gz, member: \(lm1bDir)/\(name), sha256: unknown}}"
    }
    return try DatasetManifest.parse(
      "version: 1\ndatasets:\n  lm1b:\n    description: d\n    license: l\n    files:\n" + entries.joined(separator: "\n") + "\n", file: "test.yaml")
  }

  /// GNU long names (`L` entries), ustar prefix fields and pax `path=` records all name the 123-character
  /// LM1B member path; each shard is checked against its official MD5.
  func testTarGzMembersInEveryHeaderFormat() throws {
    for format in ["gnu", "ustar", "posix", "gnu+fname"] {
      let archive = try makeTarGz(format: String(format.prefix { $0 != "+" }), namedGzip: format.hasSuffix("+fname"))
      let head = [UInt8](try Data(contentsOf: archive).prefix(4))
      XCTAssertEqual(head[3] & 0x08 != 0, format.hasSuffix("+fname"), "gzip FNAME flag for \(format)")
      let server = try serve(["lm1b.tar.gz": archive])
      defer { server.stop() }
      let cache = try temporaryDirectory(self)
      let manifest = try lm1bManifest(server)
      let summary = try DatasetDownloader(cache: DataCache(root: cache)).ensure(manifest.files)
      XCTAssertEqual(summary.transfers, 1, format)
      XCTAssertEqual(summary.installed.map(\.verification), ["md5", "md5"], format)
      for name in [shard10, shard11] {
        XCTAssertEqual(
          try Data(contentsOf: cache.appendingPathComponent("lm1b/\(name)")),
          try Data(contentsOf: SharedData.data.appendingPathComponent("lm1b/\(name)")), "\(format) \(name)")
      }
      XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [], "the archive is removed once its members are in place")
    }
  }

  /// An archive cut short (its own hash unknown, so the transfer itself cannot tell) fails at extraction.
  func testTruncatedTarGzIsAnExtractionError() throws {
    let full = try Data(contentsOf: try makeTarGz(format: "gnu"))
    let cut = try temporaryDirectory(self).appendingPathComponent("lm1b.tar.gz")
    try full.prefix(full.count / 4).write(to: cut)
    let server = try serve(["lm1b.tar.gz": cut])
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    XCTAssertThrowsError(try DatasetDownloader(cache: DataCache(root: cache)).ensure(try lm1bManifest(server).files)) { error in
      // Where the cut lands decides which check trips (inflate, a tar header, a missing member); each is an
      // extraction error naming the archive's URL.
      guard case .extraction(let url, _, _) = error as? DownloadError else { return XCTFail("\(error)") }
      XCTAssertEqual(url, server.baseURL.absoluteString + "lm1b.tar.gz")
    }
    XCTAssertEqual(cachedFiles(cache), [])
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])
  }

  func testMemberChecksumMismatchInstallsNothing() throws {
    let server = try serve(["lm1b.tar.gz": try makeTarGz(format: "gnu")])
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let manifest = try lm1bManifest(server, md5Of11: String(repeating: "0", count: 32))
    XCTAssertThrowsError(try DatasetDownloader(cache: DataCache(root: cache)).ensure(manifest.files)) { error in
      XCTAssertEqual(
        String(describing: error),
        "\(server.baseURL.absoluteString)lm1b.tar.gz member \(lm1bDir)/\(shard11): md5 mismatch (expected \(String(repeating: "0", count: 32)), got 13b0479e328f0d4ea7274845eff37e2c); the download was discarded")
    }
    XCTAssertEqual(cachedFiles(cache), [], "no member is installed when any fails")
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])
  }

  private func wikitextManifest(_ server: LoopbackHTTPServer, zipSHA: String, extraMember: String? = nil) throws -> DatasetManifest {
    let url = server.baseURL.absoluteString + "wikitext-2-raw-v1.zip"
    let testSHA = "173c87a53759e0201f33e0ccf978e510c2042d7f2cb78229d9a50d79b9e7dd08"
    var text = """
      version: 1
      datasets:
        wikitext2:
          description: d
          license: l
          files:
            - {path: wikitext/wiki.valid.raw, split: validation, url: "\(url)", sha256: unknown, archive: {format: zip, member: wikitext-2-raw/wiki.valid.raw, sha256: \(zipSHA)}}
            - {path: wikitext/wiki.test.raw, split: test, url: "\(url)", sha256: \(testSHA), archive: {format: zip, member: wikitext-2-raw/wiki.test.raw, sha256: \(zipSHA)}}

      """
    if let extraMember {
      text += "      - {path: wikitext/extra, split: test, url: \"\(url)\", sha256: unknown, archive: {format: zip, member: \(extraMember), sha256: \(zipSHA)}}\n"
    }
    return try DatasetManifest.parse(text, file: "test.yaml")
  }

  /// One transfer serves both members; the member without its own hash is covered by the zip's sha256.
  func testZipMembersVerifiedThroughTheArchive() throws {
    let zip = try makeZip()
    let server = try serve(["wikitext-2-raw-v1.zip": zip])
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let manifest = try wikitextManifest(server, zipSHA: try Oracle.sha256(zip))
    let summary = try DatasetDownloader(cache: DataCache(root: cache)).ensure(manifest.files)
    XCTAssertEqual(summary.transfers, 1)
    XCTAssertEqual(Dictionary(uniqueKeysWithValues: summary.installed.map { ($0.path, $0.verification) }), [
      "wikitext/wiki.valid.raw": "sha256 of wikitext-2-raw-v1.zip", "wikitext/wiki.test.raw": "sha256",
    ])
    XCTAssertEqual(
      try Data(contentsOf: cache.appendingPathComponent("wikitext/wiki.valid.raw")),
      try Data(contentsOf: SharedData.data.appendingPathComponent("ptb/ptb.valid.txt")))
    XCTAssertEqual(server.requests.count, 1)
    XCTAssertEqual(try DatasetDownloader(cache: DataCache(root: cache)).ensure(manifest.files).transfers, 0)
    XCTAssertEqual(server.requests.count, 1)
  }

  func testArchiveChecksumMismatchAndMissingMember() throws {
    let zip = try makeZip()
    let server = try serve(["wikitext-2-raw-v1.zip": zip])
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let wrong = String(repeating: "a", count: 64)
    XCTAssertThrowsError(try DatasetDownloader(cache: DataCache(root: cache)).ensure(try wikitextManifest(server, zipSHA: wrong).files)) { error in
      guard case .checksumMismatch(let url, _, _, let actual) = error as? DownloadError else { return XCTFail("\(error)") }
      XCTAssertEqual(url, server.baseURL.absoluteString + "wikitext-2-raw-v1.zip")
      XCTAssertEqual(actual, try? Oracle.sha256(zip))
    }
    XCTAssertEqual(cachedFiles(cache), [])
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])

    let missing = try wikitextManifest(server, zipSHA: try Oracle.sha256(zip), extraMember: "wikitext-2-raw/wiki.train.raw")
    XCTAssertThrowsError(try DatasetDownloader(cache: DataCache(root: cache)).ensure(missing.files)) { error in
      XCTAssertTrue(String(describing: error).contains("cannot extract wikitext-2-raw/wiki.train.raw: no such file in the zip archive"), "\(error)")
    }
    XCTAssertEqual(cachedFiles(cache), [])
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])
  }
}
