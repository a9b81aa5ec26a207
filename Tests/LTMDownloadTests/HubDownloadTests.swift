import Foundation
import LTMDownload
import LTMModels
import LTMTestSupport
import XCTest

/// A fake Hugging Face hub on loopback serving `../shared/fixtures/gpt2-tiny` as `openai-community/gpt2`:
/// the revision listing (`/api/models/{repo}/revision/{rev}?blobs=true`, with LFS sha256 for the weights and
/// git blob ids for the rest, computed by `sha256sum` and `git hash-object`) and `/{repo}/resolve/{commit}/{file}`.
struct FakeHub {
  static let commit = "6c0e6080953db56375760c0471a8c5f2929baf11"
  let server: LoopbackHTTPServer

  /// `corrupt`: a file served with one flipped byte (its listing entry stays right). `extra`: more files, listed
  /// under names a folder cannot hold (a hostile mirror's `../` names), with a blob id that matches no content.
  init(
    repo: String = "openai-community/gpt2", revision: String = "main", corrupt: String? = nil, root: URL? = nil,
    extra: [String: Data] = [:]
  ) throws {
    let root = try root ?? SharedData.file("fixtures/gpt2-tiny")
    let names = try FileManager.default.contentsOfDirectory(atPath: root.path).sorted()
    var siblings: [[String: Any]] = extra.keys.sorted().map { ["rfilename": $0, "size": extra[$0]!.count, "blobId": String(repeating: "0", count: 40)] }
    var bodies: [String: Data] = Dictionary(uniqueKeysWithValues: extra.map { ("/\(repo)/resolve/\(Self.commit)/\($0.key)", $0.value) })
    for name in names {
      let file = root.appendingPathComponent(name)
      let data = try Data(contentsOf: file)
      var entry: [String: Any] = ["rfilename": name, "size": data.count]
      if name.hasSuffix(".safetensors") {
        entry["blobId"] = try Oracle.gitBlob(file)
        entry["lfs"] = ["sha256": try Oracle.sha256(file), "size": data.count, "pointerSize": 134]
      } else {
        entry["blobId"] = try Oracle.gitBlob(file)
      }
      siblings.append(entry)
      var body = data
      if name == corrupt { body[body.count / 2] ^= 0x01 }
      bodies["/\(repo)/resolve/\(Self.commit)/\(name)"] = body
    }
    let listing = try JSONSerialization.data(withJSONObject: ["id": repo, "sha": Self.commit, "siblings": siblings])
    let listingPath = "/api/models/\(repo)/revision/\(revision)?blobs=true"
    let files = bodies
    server = try LoopbackHTTPServer { request in
      if request.path == listingPath { return .content(listing, for: request) }
      if let body = files[request.path] { return .content(body, for: request) }
      return .notFound
    }
  }

  var environment: [String: String] { ["HF_ENDPOINT": server.baseURL.absoluteString, "HF_TOKEN": "hf_test_token"] }
}

final class HubDownloadTests: XCTestCase {
  func testModelNames() {
    XCTAssertEqual(HubModelReference("gpt2"), HubModelReference("openai-community/gpt2@main"))
    let pinned = HubModelReference("kuleshov-group/mdlm-owt@v1.0")
    XCTAssertEqual(pinned?.repo, "kuleshov-group/mdlm-owt")
    XCTAssertEqual(pinned?.revision, "v1.0")
    XCTAssertEqual(HubModelReference("gpt2@refs/pr/1")?.revision, "refs/pr/1")
    for bad in ["gpt3", "a/b/c", "-a/b", "a/b@", "a/b@../x", "a b/c", "owner/", "/abs/path", "a/b@x y"] {
      XCTAssertNil(HubModelReference(bad), bad)
    }
  }

  func testDownloadVerifiesEveryFileAndASecondCallMakesNoRequest() throws {
    let hub = try FakeHub()
    defer { hub.server.stop() }
    let cache = try temporaryDirectory(self)
    let client = HubClient(cache: DataCache(root: cache), environment: hub.environment)
    let events = EventLog()
    let directory = try client.resolveModel("gpt2") { events.append($0) }
    XCTAssertEqual(directory.path, cache.appendingPathComponent("models/openai-community/gpt2/main").path)
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
      [".ltm-bench-complete.json", "config.json", "merges.txt", "model.safetensors", "vocab.json"])
    for name in ["config.json", "merges.txt", "model.safetensors", "vocab.json"] {
      XCTAssertEqual(
        try Data(contentsOf: directory.appendingPathComponent(name)),
        try Data(contentsOf: try SharedData.file("fixtures/gpt2-tiny/\(name)")), name)
    }
    XCTAssertEqual(events.installed["models/openai-community/gpt2/main/model.safetensors"], "sha256 (hub LFS)")
    XCTAssertEqual(events.installed["models/openai-community/gpt2/main/config.json"], "git blob sha1")
    let paths = hub.server.requests.map(\.path)
    XCTAssertEqual(paths.first, "/api/models/openai-community/gpt2/revision/main?blobs=true")
    XCTAssertTrue(paths.dropFirst().allSatisfy { $0.hasPrefix("/openai-community/gpt2/resolve/\(FakeHub.commit)/") }, "\(paths)")
    XCTAssertTrue(hub.server.requests.allSatisfy { $0.headers["authorization"] == "Bearer hf_test_token" })
    // What arrived is a model the registry loads.
    XCTAssertEqual(try ModelRegistry.load(path: directory).family, "gpt2")

    let count = hub.server.requests.count
    XCTAssertEqual(try client.resolveModel("openai-community/gpt2@main").path, directory.path)
    XCTAssertEqual(hub.server.requests.count, count, "a complete model directory is used without the network")

    // An interrupted earlier call (no marker): files matching the listing are kept, a stale one is replaced.
    try FileManager.default.removeItem(at: directory.appendingPathComponent(HubClient.completeMarker))
    try Data("{}".utf8).write(to: directory.appendingPathComponent("config.json"))
    _ = try client.resolveModel("gpt2")
    let refetched = hub.server.requests.dropFirst(count).map(\.path)
    XCTAssertEqual(refetched, ["/api/models/openai-community/gpt2/revision/main?blobs=true", "/openai-community/gpt2/resolve/\(FakeHub.commit)/config.json"])
    XCTAssertEqual(
      try Data(contentsOf: directory.appendingPathComponent("config.json")),
      try Data(contentsOf: try SharedData.file("fixtures/gpt2-tiny/config.json")))
  }

  /// A sharded repository: the index is fetched first, then exactly the shards its weight_map names.
  func testShardedWeightsFollowTheIndex() throws {
    let repo = try temporaryDirectory(self)
    try FileManager.default.copyItem(
      at: try SharedData.file("fixtures/gpt2-tiny/config.json"), to: repo.appendingPathComponent("config.json"))
    let shards = ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]
    for (i, shard) in shards.enumerated() { try Data(repeating: UInt8(i + 1), count: 5000 + i).write(to: repo.appendingPathComponent(shard)) }
    try Data("unused".utf8).write(to: repo.appendingPathComponent("model-extra.safetensors"))
    let index = ["metadata": ["total_size": 10001], "weight_map": ["a": shards[0], "b": shards[1], "c": shards[0]]]
    try JSONSerialization.data(withJSONObject: index).write(to: repo.appendingPathComponent("model.safetensors.index.json"))
    let hub = try FakeHub(repo: "someone/sharded", revision: "v1", root: repo)
    defer { hub.server.stop() }
    let cache = try temporaryDirectory(self)
    let directory = try HubClient(cache: DataCache(root: cache), environment: hub.environment).resolveModel("someone/sharded@v1")
    XCTAssertEqual(
      try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted(),
      [".ltm-bench-complete.json", "config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors",
       "model.safetensors.index.json"])
    XCTAssertEqual(try Data(contentsOf: directory.appendingPathComponent(shards[1])), try Data(contentsOf: repo.appendingPathComponent(shards[1])))
    XCTAssertEqual(HubClient.downloadedReference(in: directory), HubModelReference("someone/sharded@v1"))
    XCTAssertFalse(hub.server.requests.contains { $0.path.hasSuffix("model-extra.safetensors") })
  }

  /// A hostile listing (#13): the index's weight_map names a shard `../../../../../outside.safetensors`, which the
  /// listing also has. It must be refused before anything is read, written or deleted under that name: the file
  /// already there outside the cache (whose checksum the listing's would fail) stays untouched, nothing new appears.
  func testShardNamesThatClimbOutOfTheCacheAreRefused() throws {
    let repo = try temporaryDirectory(self)
    try FileManager.default.copyItem(
      at: try SharedData.file("fixtures/gpt2-tiny/config.json"), to: repo.appendingPathComponent("config.json"))
    let hostile = "../../../../../outside.safetensors"
    let index = ["metadata": ["total_size": 4], "weight_map": ["a": hostile]]
    try JSONSerialization.data(withJSONObject: index).write(to: repo.appendingPathComponent("model.safetensors.index.json"))
    let hub = try FakeHub(repo: "someone/evil", revision: "v1", root: repo, extra: [hostile: Data("evil".utf8)])
    defer { hub.server.stop() }
    let sandbox = try temporaryDirectory(self)
    let cache = sandbox.appendingPathComponent("cache")
    let outside = sandbox.appendingPathComponent("outside.safetensors")  // where cache/models/someone/evil/v1/<hostile> lands
    try Data("precious".utf8).write(to: outside)
    XCTAssertThrowsError(try HubClient(cache: DataCache(root: cache), environment: hub.environment).resolveModel("someone/evil@v1")) {
      let message = String(describing: $0)
      XCTAssertTrue(message.contains("not a plain relative path") && message.contains("'..'"), message)
      XCTAssertFalse(message.contains("\n"), message)
    }
    XCTAssertEqual(try Data(contentsOf: outside), Data("precious".utf8), "the file outside the cache is untouched")
    XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: sandbox.path).sorted(), ["cache", "outside.safetensors"])
    XCTAssertFalse(hub.server.requests.contains { $0.path.contains("outside") }, "the hostile name is never fetched")
  }

  func testCorruptWeightsAreRefusedAndNothingIsMarkedComplete() throws {
    let hub = try FakeHub(corrupt: "model.safetensors")
    defer { hub.server.stop() }
    let cache = try temporaryDirectory(self)
    let client = HubClient(cache: DataCache(root: cache), environment: hub.environment)
    XCTAssertThrowsError(try client.resolveModel("gpt2")) { error in
      guard case .checksumMismatch(let url, let algorithm, _, _) = error as? DownloadError else { return XCTFail("\(error)") }
      XCTAssertEqual(url, hub.server.baseURL.absoluteString + "openai-community/gpt2/resolve/\(FakeHub.commit)/model.safetensors")
      XCTAssertEqual(algorithm, "sha256")
    }
    let directory = cache.appendingPathComponent("models/openai-community/gpt2/main")
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path))
    XCTAssertFalse(FileManager.default.fileExists(atPath: directory.appendingPathComponent(HubClient.completeMarker).path))
    XCTAssertEqual(temporaryFiles(DataCache(root: cache)), [])
  }

  func testUnknownRepositoryOfflineAndInvalidNames() throws {
    let hub = try FakeHub()
    defer { hub.server.stop() }
    let cache = try temporaryDirectory(self)
    let client = HubClient(cache: DataCache(root: cache), environment: hub.environment)
    XCTAssertThrowsError(try client.resolveModel("someone/missing@v2")) { error in
      XCTAssertEqual(
        String(describing: error),
        "\(hub.server.baseURL.absoluteString)api/models/someone/missing/revision/v2?blobs=true: HTTP 404 (not found)")
    }
    let before = hub.server.requests.count
    let offline = HubClient(cache: DataCache(root: cache), options: DownloadOptions(offline: true), environment: hub.environment)
    XCTAssertThrowsError(try offline.resolveModel("gpt2")) { error in
      XCTAssertTrue(String(describing: error).hasPrefix("offline: 1 file(s) missing from \(DataCache(root: cache).root.path): models/openai-community/gpt2/main"), "\(error)")
    }
    XCTAssertEqual(hub.server.requests.count, before, "offline makes no request")
    XCTAssertThrowsError(try client.resolveModel("./no/such/dir")) { error in
      XCTAssertEqual(error as? DownloadError, .invalidModelName(name: "./no/such/dir"))
    }
    XCTAssertThrowsError(try client.resolveModel("not a model"))
    // An existing path wins over the hub, as before.
    let local = try SharedData.file("fixtures/gpt2-tiny")
    XCTAssertEqual(try client.resolveModel(local.path).path, local.path)
    XCTAssertEqual(hub.server.requests.count, before)
  }
}

/// Collects download events from any thread.
final class EventLog: @unchecked Sendable {
  private let lock = NSLock()
  private var events: [DownloadEvent] = []
  func append(_ e: DownloadEvent) { lock.withLock { events.append(e) } }
  var installed: [String: String] {
    lock.withLock {
      var d: [String: String] = [:]
      for case .installed(let path, let verification) in events { d[path] = verification }
      return d
    }
  }
}
