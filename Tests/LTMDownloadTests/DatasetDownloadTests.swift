import Foundation
@testable import LTMDownload
import LTMTestSupport
import XCTest

/// Downloads from a real HTTP server on loopback that serves `../shared/data` as a mirror (data-dir layout).
final class DatasetDownloadTests: XCTestCase {
  private func ptbFiles() throws -> [ManifestFile] { try committedManifest().files(datasets: ["ptb"]) }

  private func downloader(_ server: LoopbackHTTPServer, cache: URL, maxAttempts: Int = 3, offline: Bool = false) -> DatasetDownloader {
    DatasetDownloader(
      cache: DataCache(root: cache),
      options: DownloadOptions(mirror: server.baseURL, offline: offline, maxAttempts: maxAttempts))
  }

  func testFreshDownloadVerifiesAndASecondCallDownloadsNothing() throws {
    let server = try LoopbackHTTPServer(handler: LoopbackHTTPServer.files(under: SharedData.data))
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let first = try downloader(server, cache: cache).ensure(try ptbFiles())
    XCTAssertEqual(first.transfers, 2)
    XCTAssertEqual(first.installed.map(\.path), ["ptb/ptb.valid.txt", "ptb/ptb.test.txt"])
    XCTAssertEqual(first.installed.map(\.verification), ["sha256", "sha256"])
    XCTAssertEqual(server.requests.map(\.path), ["/ptb/ptb.valid.txt", "/ptb/ptb.test.txt"])
    for name in ["ptb.valid.txt", "ptb.test.txt"] {
      let got = try Data(contentsOf: cache.appendingPathComponent("ptb/\(name)"))
      XCTAssertEqual(got, try Data(contentsOf: SharedData.data.appendingPathComponent("ptb/\(name)")))
    }
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [], "no partial file left behind")

    let second = try downloader(server, cache: cache).ensure(try ptbFiles())
    XCTAssertEqual(second.transfers, 0)
    XCTAssertEqual(second.present, ["ptb/ptb.valid.txt", "ptb/ptb.test.txt"])
    XCTAssertEqual(server.requests.count, 2, "the second call made no request")
  }

  /// Two downloaders on one cache at once (sharded runs started together): each file is fetched once, the
  /// second caller waits on the lock and then finds it in place.
  func testConcurrentCallersFetchEachFileOnce() throws {
    let serve = LoopbackHTTPServer.files(under: SharedData.data)
    let server = try LoopbackHTTPServer { request in
      Thread.sleep(forTimeInterval: 0.2)
      return serve(request)
    }
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try ptbFiles()
    let results = ResultBox()
    DispatchQueue.concurrentPerform(iterations: 2) { _ in
      do {
        let summary = try downloader(server, cache: cache).ensure(files)
        results.add(summary.transfers)
      } catch {
        results.add(-1)
      }
    }
    XCTAssertEqual(results.values.sorted().reduce(0, +), 2, "\(results.values)")
    XCTAssertFalse(results.values.contains(-1))
    XCTAssertEqual(server.requests.map(\.path).sorted(), ["/ptb/ptb.test.txt", "/ptb/ptb.valid.txt"])
    XCTAssertEqual(cachedFiles(cache), ["ptb/ptb.test.txt", "ptb/ptb.valid.txt"])
  }

  /// The first response is cut after 100,000 bytes; the retry asks for the rest with a Range header and the
  /// joined file verifies.
  func testDroppedConnectionIsResumedWithARangeRequest() throws {
    let drops = Counter()
    let serve = LoopbackHTTPServer.files(under: SharedData.data)
    let server = try LoopbackHTTPServer { request in
      var response = serve(request)
      if request.path == "/ptb/ptb.test.txt", drops.next() == 0 { response.dropAfter = 100_000 }
      return response
    }
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try committedManifest().files(datasets: ["ptb"], split: "test")
    let summary = try downloader(server, cache: cache).ensure(files)
    XCTAssertEqual(summary.installed.map(\.verification), ["sha256"])
    let requests = server.requests.filter { $0.path == "/ptb/ptb.test.txt" }
    XCTAssertEqual(requests.count, 2)
    XCTAssertNil(requests[0].headers["range"])
    XCTAssertEqual(requests[1].headers["range"], "bytes=100000-")
    XCTAssertEqual(try Oracle.sha256(cache.appendingPathComponent("ptb/ptb.test.txt")), files[0].digests[0].hex)
  }

  /// With one attempt the dropped transfer fails with a one-line error, keeps only a `.partial` file in the
  /// temp area, and the next call resumes it.
  func testInterruptedTransferKeepsOnlyAPartialFileThatTheNextCallResumes() throws {
    let drops = Counter()
    let serve = LoopbackHTTPServer.files(under: SharedData.data)
    let server = try LoopbackHTTPServer { request in
      var response = serve(request)
      if drops.next() == 0 { response.dropAfter = 250_000 }
      return response
    }
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try committedManifest().files(datasets: ["ptb"], split: "validation")
    let url = server.baseURL.absoluteString + "ptb/ptb.valid.txt"
    XCTAssertThrowsError(try downloader(server, cache: cache, maxAttempts: 1).ensure(files)) { error in
      XCTAssertEqual(error as? DownloadError, .interrupted(url: url, received: 250_000, expected: 399_782))
      XCTAssertTrue(String(describing: error).hasPrefix(url))
    }
    XCTAssertEqual(cachedFiles(cache), [], "nothing half-written outside the temp area")
    let partials = temporaryFiles(DataCache(root: cache))
    XCTAssertEqual(partials.count, 1)
    XCTAssertTrue(partials[0].hasSuffix("ptb.valid.txt.partial"), partials[0])

    try downloader(server, cache: cache, maxAttempts: 1).ensure(files)
    XCTAssertEqual(server.requests.last?.headers["range"], "bytes=250000-")
    XCTAssertEqual(cachedFiles(cache), ["ptb/ptb.valid.txt"])
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])
  }

  /// A `.partial` that already holds the whole file (a call stopped before verifying it): the server answers
  /// the Range request with 416 and the file's length, and the partial is verified and installed as it is.
  func testCompletePartialIsVerifiedWithoutRefetching() throws {
    let server = try LoopbackHTTPServer(handler: LoopbackHTTPServer.files(under: SharedData.data))
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let d = downloader(server, cache: cache, maxAttempts: 1)
    let files = try committedManifest().files(datasets: ["lambada"])
    let partial = try DataCache(root: cache).partialFile(for: d.sourceURL(files[0]))
    try FileManager.default.copyItem(at: SharedData.data.appendingPathComponent("lambada/lambada_test.jsonl"), to: partial)
    let summary = try d.ensure(files)
    XCTAssertEqual(summary.installed.map(\.verification), ["sha256"])
    XCTAssertEqual(server.requests.map { $0.headers["range"] }, ["bytes=1819752-"])
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])
  }

  func testChecksumMismatchIsRefusedAndDiscarded() throws {
    let serve = LoopbackHTTPServer.files(under: SharedData.data)
    let server = try LoopbackHTTPServer { request in
      var response = serve(request)
      if response.status == 200 { response.body[1000] ^= 0x20 }  // same size, one flipped bit
      return response
    }
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try committedManifest().files(datasets: ["ptb"], split: "test")
    let url = server.baseURL.absoluteString + "ptb/ptb.test.txt"
    XCTAssertThrowsError(try downloader(server, cache: cache).ensure(files)) { error in
      guard case .checksumMismatch(let u, let algorithm, let expected, _) = error as? DownloadError else {
        return XCTFail("\(error)")
      }
      XCTAssertEqual(u, url)
      XCTAssertEqual(algorithm, "sha256")
      XCTAssertEqual(expected, files[0].digests[0].hex)
      XCTAssertFalse(String(describing: error).contains("\n"))
    }
    XCTAssertEqual(cachedFiles(cache), [])
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [], "a corrupt download is not kept for resuming")
  }

  func testNotFoundNamesTheURL() throws {
    let server = try LoopbackHTTPServer { _ in .notFound }
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try committedManifest().files(datasets: ["lambada"])
    XCTAssertThrowsError(try downloader(server, cache: cache).ensure(files)) { error in
      let url = server.baseURL.absoluteString + "lambada/lambada_test.jsonl"
      XCTAssertEqual(String(describing: error), "\(url): HTTP 404 (not found)")
    }
    XCTAssertEqual(server.requests.count, 1, "HTTP errors are not retried")
    XCTAssertEqual(cachedFiles(cache), [])
  }

  func testOfflineNeverTouchesTheNetworkAndListsWhatIsMissing() throws {
    let server = try LoopbackHTTPServer(handler: LoopbackHTTPServer.files(under: SharedData.data))
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try committedManifest().files(datasets: ["ptb", "gsm8k"])
    try downloader(server, cache: cache).ensure(try committedManifest().files(datasets: ["ptb"], split: "test"))
    let before = server.requests.count
    XCTAssertThrowsError(try downloader(server, cache: cache, offline: true).ensure(files)) { error in
      guard case .offlineMissing(let root, let missing) = error as? DownloadError else { return XCTFail("\(error)") }
      XCTAssertEqual(root, DataCache(root: cache).root.path)
      XCTAssertEqual(missing.map { String($0.split(separator: " ")[0]) }, ["ptb/ptb.valid.txt", "gsm8k/train.jsonl", "gsm8k/test.jsonl"])
    }
    XCTAssertEqual(server.requests.count, before)
    // Files from one archive name it once.
    XCTAssertEqual(
      String(describing: DownloadError.offlineMissing(cache: "/c", missing: ["a (U)", "b (U)", "c (V)", "d (U)"])),
      "offline: 4 file(s) missing from /c: a, b (U), c (V), d (U)")
    // Offline with everything present is fine.
    let present = try downloader(server, cache: cache, offline: true).ensure(try committedManifest().files(datasets: ["ptb"], split: "test"))
    XCTAssertEqual(present.present, ["ptb/ptb.test.txt"])
  }

  func testNoServerIsAOneLineNetworkError() throws {
    let server = try LoopbackHTTPServer { _ in .notFound }
    let base = server.baseURL
    server.stop()  // nothing listens on that port any more
    let cache = try temporaryDirectory(self)
    let d = DatasetDownloader(cache: DataCache(root: cache), options: DownloadOptions(mirror: base, maxAttempts: 1))
    XCTAssertThrowsError(try d.ensure(try committedManifest().files(datasets: ["lambada"]))) { error in
      let message = String(describing: error)
      XCTAssertTrue(message.hasPrefix(base.absoluteString + "lambada/lambada_test.jsonl: "), message)
      XCTAssertFalse(message.contains("\n"))
    }
    XCTAssertEqual(cachedFiles(cache), [])
  }

  /// A file with no checksum on its route (wiki.valid.raw from a mirror) is refused before any transfer
  /// unless unverified files are allowed, and then labelled so.
  func testUnverifiedFilesNeedExplicitConsent() throws {
    let server = try LoopbackHTTPServer { request in
      request.path == "/wikitext/wiki.valid.raw" ? .content(Data(" = Stand-in = \n".utf8), for: request) : .notFound
    }
    defer { server.stop() }
    let cache = try temporaryDirectory(self)
    let files = try committedManifest().files(datasets: ["wikitext2"], split: "validation")
    XCTAssertThrowsError(try downloader(server, cache: cache).ensure(files)) { error in
      XCTAssertEqual(error as? DownloadError, .unverified(url: server.baseURL.absoluteString + "wikitext/wiki.valid.raw", path: "wikitext/wiki.valid.raw"))
    }
    XCTAssertEqual(server.requests.count, 0)
    let allowed = DatasetDownloader(cache: DataCache(root: cache), options: DownloadOptions(mirror: server.baseURL, allowUnverified: true))
    let summary = try allowed.ensure(files)
    XCTAssertEqual(summary.installed.map(\.verification), ["unverified"])
  }
}

/// A thread-safe counter for handlers that misbehave only on the first request.
final class Counter: @unchecked Sendable {
  private let lock = NSLock()
  private var value = 0
  func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}

final class ResultBox: @unchecked Sendable {
  private let lock = NSLock()
  private var stored: [Int] = []
  func add(_ v: Int) { lock.withLock { stored.append(v) } }
  var values: [Int] { lock.withLock { stored } }
}
