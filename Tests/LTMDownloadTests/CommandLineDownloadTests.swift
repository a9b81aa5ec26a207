import Foundation
import LTMDownload
import LTMTestSupport
import XCTest

/// `ltm-bench download` and zero-shot's download on first use, run as the built executable against servers
/// on loopback: a mirror serving `../shared/data` (the data-dir layout) and the fake hub.
final class CommandLineDownloadTests: XCTestCase {
  private func run(_ args: [String], environment: [String: String] = [:]) throws -> CommandLineRunner.Outcome {
    try CommandLineRunner.run(args, besideBundleOf: Self.self, environment: environment)
  }

  /// The shared data plus a stand-in `wikitext/wiki.valid.raw`, which ../shared/data does not hold.
  private func mirror() throws -> LoopbackHTTPServer {
    let shared = LoopbackHTTPServer.files(under: SharedData.data)
    return try LoopbackHTTPServer { request in
      if request.path == "/wikitext/wiki.valid.raw" { return .content(Data(" \n = Stand-in = \n".utf8), for: request) }
      return shared(request)
    }
  }

  func testDownloadFillsTheCacheAndASecondCallDownloadsNothing() throws {
    let server = try mirror()
    defer { server.stop() }
    let cache = try temporaryDirectory(self).path
    let base = ["download", "ptb", "wikitext2", "lambada", "gsm8k", "--mirror", server.baseURL.absoluteString, "--cache-dir", cache]

    // wiki.valid.raw has no checksum of its own (only its zip's): from a mirror it needs consent, and the
    // refusal comes before any transfer.
    let refused = try run(base)
    XCTAssertEqual(refused.status, 1)
    XCTAssertEqual(refused.errorLines, [
      "error: \(server.baseURL.absoluteString)wikitext/wiki.valid.raw: no known checksum for wikitext/wiki.valid.raw on this route; refusing an unverified file (pass --allow-unverified to accept it)"
    ])
    XCTAssertEqual(server.requests.count, 0)

    let first = try run(base + ["--allow-unverified"])
    XCTAssertEqual(first.status, 0, first.stderr)
    let expected = [
      "ptb/ptb.valid.txt", "ptb/ptb.test.txt", "wikitext/wiki.valid.raw", "wikitext/wiki.test.raw",
      "lambada/lambada_test.jsonl", "gsm8k/train.jsonl", "gsm8k/test.jsonl",
    ]
    XCTAssertEqual(cachedFiles(URL(fileURLWithPath: cache)), expected.sorted())
    XCTAssertTrue(first.stdout.contains("downloaded lambada/lambada_test.jsonl (verified: sha256)"), first.stdout)
    XCTAssertTrue(first.stdout.contains("downloaded wikitext/wiki.valid.raw (UNVERIFIED: no checksum on this route, accepted by --allow-unverified)"), first.stdout)
    XCTAssertTrue(first.stdout.contains("7 file(s) downloaded, 0 already in the cache"), first.stdout)
    XCTAssertEqual(server.requests.count, 7)
    for path in expected where path != "wikitext/wiki.valid.raw" {
      XCTAssertEqual(
        try Data(contentsOf: URL(fileURLWithPath: cache).appendingPathComponent(path)),
        try Data(contentsOf: SharedData.data.appendingPathComponent(path)), path)
    }

    let second = try run(base)
    XCTAssertEqual(second.status, 0, second.stderr)
    XCTAssertTrue(second.stdout.contains("0 file(s) downloaded, 7 already in the cache"), second.stdout)
    XCTAssertEqual(server.requests.count, 7, "the second call made no request")

    let unknown = try run(["download", "nosuch", "--cache-dir", cache])
    XCTAssertEqual(unknown.status, 1)
    XCTAssertEqual(unknown.errorLines.count, 1)
    XCTAssertTrue(unknown.errorLines[0].contains("no download source for 'nosuch'"), unknown.stderr)
  }

  /// `zero-shot --model gpt2` without --data-dir: the model comes from the (fake) hub, the data from the
  /// mirror; a second, --offline run with the servers gone reads only the cache; an empty cache offline
  /// lists every missing file, model and data, and exits 1.
  func testZeroShotDownloadsOnFirstUseAndRunsOffline() throws {
    let hub = try FakeHub()
    let server = try mirror()
    let cache = try temporaryDirectory(self).path
    let args = [
      "zero-shot", "--model", "gpt2", "--tasks", "ptb", "--split", "test", "--limit-blocks", "1", "--cache-dir", cache,
    ]
    let online = try run(
      args + ["--mirror", server.baseURL.absoluteString, "--output-dir", try temporaryDirectory(self).path],
      environment: hub.environment)
    XCTAssertEqual(online.status, 0, online.stderr)
    XCTAssertEqual(cachedFiles(URL(fileURLWithPath: cache)).filter { $0.hasPrefix("ptb/") }, ["ptb/ptb.test.txt"])
    XCTAssertTrue(online.stdout.contains("\ngpt2 "), "the hub model is labelled by its name: \(online.stdout)")
    hub.server.stop()
    server.stop()

    let offline = try run(args + ["--offline", "--output-dir", try temporaryDirectory(self).path], environment: hub.environment)
    XCTAssertEqual(offline.status, 0, offline.stderr)
    XCTAssertEqual(offline.stdout.components(separatedBy: "\n").first { $0.contains("ptb") }, online.stdout.components(separatedBy: "\n").first { $0.contains("ptb") })

    let empty = try temporaryDirectory(self).path
    let missing = try run(
      ["zero-shot", "--model", "gpt2", "--tasks", "ptb,wikitext2", "--cache-dir", empty, "--offline", "--output-dir", try temporaryDirectory(self).path],
      environment: hub.environment)
    XCTAssertEqual(missing.status, 1)
    XCTAssertEqual(missing.errorLines.count, 1, missing.stderr)
    let line = String(missing.errorLines.first ?? "")
    XCTAssertTrue(line.hasPrefix("error: offline: 3 file(s) missing from "), line)
    XCTAssertTrue(line.contains("models/openai-community/gpt2/main ("), line)
    XCTAssertTrue(line.contains("ptb/ptb.valid.txt (https://raw.githubusercontent.com/"), line)
    XCTAssertTrue(line.contains("wikitext/wiki.valid.raw (https://huggingface.co/datasets/ggml-org/ci/"), line)
  }

  /// `mauve` generation mode takes hub names for --model/--featurizer/--scorer and downloads a task's
  /// prompts on first use, like zero-shot.
  func testMauveResolvesHubNamesAndDownloadsPrompts() throws {
    let hub = try FakeHub()
    let server = try mirror()
    defer {
      hub.server.stop()
      server.stop()
    }
    let cache = try temporaryDirectory(self).path
    let out = try temporaryDirectory(self)
    let r = try run(
      ["mauve", "--model", "gpt2", "--featurizer", "gpt2", "--scorer", "gpt2", "--prompts", "wikitext2", "--split", "test",
       "--num-prompts", "4", "--samples-per-prompt", "1", "--prefix-tokens", "8", "--new-tokens", "8",
       "--cache-dir", cache, "--mirror", server.baseURL.absoluteString, "--output-dir", out.path],
      environment: hub.environment)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertTrue(r.stdout.contains("4 prompts from wikitext2"), r.stdout)
    XCTAssertEqual(cachedFiles(URL(fileURLWithPath: cache)).filter { !$0.hasPrefix("models/") }, ["wikitext/wiki.test.raw"])
    XCTAssertEqual(server.requests.map(\.path), ["/wikitext/wiki.test.raw"])
  }

  /// `fewshot` without --data-dir fetches every file its tasks read (evaluated split and shot pool) into the cache,
  /// verified, then runs on it; offline with an empty cache it names what is missing.
  func testFewShotDownloadsTaskFilesOnFirstUse() throws {
    let hub = try FakeHub()
    let server = try mirror()
    defer {
      hub.server.stop()
      server.stop()
    }
    let cache = try temporaryDirectory(self).path
    let r = try run(
      ["fewshot", "--model", "gpt2", "--tasks", "arithmetic_2da,gsm8k", "--shots", "1", "--limit", "1",
       "--cache-dir", cache, "--mirror", server.baseURL.absoluteString, "--output-dir", try temporaryDirectory(self).path],
      environment: hub.environment)
    XCTAssertEqual(r.status, 0, r.stderr)
    XCTAssertEqual(
      cachedFiles(URL(fileURLWithPath: cache)).filter { !$0.hasPrefix("models/") },
      ["gpt3_arithmetic/two_digit_addition.jsonl", "gsm8k/test.jsonl", "gsm8k/train.jsonl"])

    let empty = try temporaryDirectory(self).path
    let missing = try run(
      ["fewshot", "--model", "gpt2", "--tasks", "lambada_openai", "--cache-dir", empty, "--offline",
       "--output-dir", try temporaryDirectory(self).path],
      environment: hub.environment)
    XCTAssertEqual(missing.status, 1)
    XCTAssertEqual(missing.errorLines.count, 1, missing.stderr)
    let line = String(missing.errorLines.first ?? "")
    XCTAssertTrue(line.contains("lambada/lambada_test.jsonl (https://openaipublic.blob.core.windows.net/"), line)
  }
}
