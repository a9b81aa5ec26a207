import Foundation
import LTMPaths

/// A Hugging Face hub model named `owner/name[@revision]` (revision default `main`).
public struct HubModelReference: Equatable, Sendable {
  public var owner: String
  public var name: String
  public var revision: String
  public var repo: String { "\(owner)/\(name)" }

  /// Short names users type, as the hub itself redirects them.
  public static let aliases: [String: String] = [
    "gpt2": "openai-community/gpt2",
    "gpt2-medium": "openai-community/gpt2-medium",
    "gpt2-large": "openai-community/gpt2-large",
    "gpt2-xl": "openai-community/gpt2-xl",
  ]

  /// Parses an alias (`gpt2`, optionally `@REV`) or `owner/name[@revision]`; nil when `text` is neither.
  public init?(_ text: String) {
    let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
    var repo = parts[0]
    let revision = parts.count == 2 ? parts[1] : "main"
    if let full = Self.aliases[repo] { repo = full }
    let pieces = repo.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard pieces.count == 2, pieces.allSatisfy(Self.isNamePart), Self.isRevision(revision) else { return nil }
    owner = pieces[0]
    name = pieces[1]
    self.revision = revision
  }

  /// The hub's repo-name rule: letters, digits, `-`, `_`, `.`; not starting with `-` or `.`; no `--`/`..`.
  static func isNamePart(_ s: String) -> Bool {
    guard (1...96).contains(s.count), let first = s.unicodeScalars.first,
      CharacterSet.alphanumerics.contains(first), !s.contains("--"), !s.contains("..")
    else { return false }
    return s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_.".unicodeScalars.contains($0)) }
  }

  static func isRevision(_ s: String) -> Bool {
    !s.isEmpty && s.count <= 200 && !s.contains("..") && !s.hasPrefix("/")
      && s.unicodeScalars.allSatisfy { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || "-_./".unicodeScalars.contains($0)) }
  }
}

/// Downloads hub model repositories into `DataCache` (`models/{owner}/{name}/{revision}/`).
///
/// The file list, the commit a revision resolves to and every file's checksum come from one request,
/// `GET {HF_ENDPOINT}/api/models/{repo}/revision/{revision}?blobs=true`: LFS files carry `lfs.sha256`
/// (checked with sha256), the others a git `blobId` (checked as sha1("blob <size>\0" + content)). Files are
/// fetched from `{HF_ENDPOINT}/{repo}/resolve/{commit}/{file}`, so a moving branch cannot mix two commits.
/// `HF_TOKEN` is sent as a bearer token. A finished download writes `.ltm-bench-complete.json` (repo, revision,
/// commit, files); with it present the directory is used without touching the network (delete the directory
/// to refresh a branch revision).
public struct HubClient: Sendable {
  public var endpoint: URL
  public var token: String?
  public var cache: DataCache
  public var options: DownloadOptions

  public static let defaultEndpoint = URL(string: "https://huggingface.co")!
  public static let completeMarker = ".ltm-bench-complete.json"

  public init(cache: DataCache, options: DownloadOptions = DownloadOptions(), environment: [String: String] = ProcessInfo.processInfo.environment) {
    self.cache = cache
    self.options = options
    if let e = environment["HF_ENDPOINT"], !e.isEmpty, let url = URL(string: e) { endpoint = url } else { endpoint = Self.defaultEndpoint }
    token = environment["HF_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
  }

  /// `--model SPEC`: an existing file or directory wins (used as before); otherwise a hub id is downloaded
  /// (or found complete in the cache); anything else is an error.
  public func resolveModel(_ spec: String, progress: DownloadProgress = { _ in }) throws -> URL {
    let expanded = (spec as NSString).expandingTildeInPath
    if FileManager.default.fileExists(atPath: expanded) { return URL(fileURLWithPath: expanded) }
    guard !spec.hasPrefix("/"), !spec.hasPrefix("."), !spec.hasPrefix("~"), let reference = HubModelReference(spec) else {
      throw DownloadError.invalidModelName(name: spec)
    }
    return try download(reference, progress: progress)
  }

  /// The repository and revision a complete hub download in `directory` came from (its marker file).
  public static func downloadedReference(in directory: URL) -> HubModelReference? {
    guard let data = FileManager.default.contents(atPath: directory.appendingPathComponent(completeMarker).path),
      let marker = try? JSONDecoder().decode(Marker.self, from: data)
    else { return nil }
    return HubModelReference("\(marker.repo)@\(marker.revision)")
  }

  public func directory(for reference: HubModelReference) -> URL {
    cache.root.appendingPathComponent("models").appendingPathComponent(reference.owner)
      .appendingPathComponent(reference.name).appendingPathComponent(reference.revision.replacingOccurrences(of: "/", with: "--"))
  }

  func listingURL(_ reference: HubModelReference) -> String {
    "\(base)/api/models/\(reference.repo)/revision/\(Self.escape(reference.revision))?blobs=true"
  }

  private var base: String {
    var s = endpoint.absoluteString
    while s.hasSuffix("/") { s.removeLast() }
    return s
  }

  static func escape(_ s: String) -> String {
    s.addingPercentEncoding(withAllowedCharacters: CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")) ?? s
  }

  private struct Listing: Decodable {
    struct LFS: Decodable { var sha256: String; var size: Int64? }
    struct Sibling: Decodable { var rfilename: String; var size: Int64?; var blobId: String?; var lfs: LFS? }
    var sha: String?
    var siblings: [Sibling]
  }

  private struct Marker: Codable { var repo: String; var revision: String; var commit: String; var files: [String] }

  public func download(_ reference: HubModelReference, progress: DownloadProgress = { _ in }) throws -> URL {
    let directory = directory(for: reference)
    let marker = directory.appendingPathComponent(Self.completeMarker)
    if FileManager.default.fileExists(atPath: marker.path) { return directory }
    let listingURL = listingURL(reference)
    if options.offline {
      throw DownloadError.offlineMissing(cache: cache.root.path, missing: ["models/\(reference.repo)/\(reference.revision) (\(listingURL))"])
    }
    // One process at a time per model directory; a waiting one finds the marker and fetches nothing.
    return try cache.withLock(directory.path) {
      if FileManager.default.fileExists(atPath: marker.path) { return directory }
      try fetchRepository(reference, into: directory, listingURL: listingURL, progress: progress)
      return directory
    }
  }

  private func fetchRepository(
    _ reference: HubModelReference, into directory: URL, listingURL: String, progress: DownloadProgress
  ) throws {
    let marker = directory.appendingPathComponent(Self.completeMarker)
    let listing: Listing
    let listingData = try fetchSmall(listingURL, progress: progress)
    do {
      listing = try JSONDecoder().decode(Listing.self, from: listingData)
    } catch {
      throw DownloadError.hub(url: listingURL, reason: "not a model listing (expected JSON with siblings)")
    }
    let commit = listing.sha ?? reference.revision
    let byName = Dictionary(listing.siblings.map { ($0.rfilename, $0) }, uniquingKeysWith: { a, _ in a })
    guard byName["config.json"] != nil else {
      throw DownloadError.hub(url: listingURL, reason: "the repository has no config.json")
    }
    var wanted = ["config.json"]
    for name in ["vocab.json", "merges.txt", "tokenizer.json"] where byName[name] != nil { wanted.append(name) }
    let weightChoices = ["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]
    guard let weights = weightChoices.first(where: { byName[$0] != nil }) else {
      throw DownloadError.hub(url: listingURL, reason: "no model.safetensors, model.safetensors.index.json or pytorch_model.bin in the repository")
    }
    wanted.append(weights)
    try cache.makeDirectory(directory)
    for name in wanted {
      try fetchFile(name, sibling: byName[name]!, reference: reference, commit: commit, into: directory, progress: progress)
    }
    if weights.hasSuffix(".index.json") {
      for shard in try shardNames(index: directory.appendingPathComponent(weights)) {
        guard let sibling = byName[shard] else {
          throw DownloadError.hub(url: listingURL, reason: "\(weights) names \(shard), which the repository does not have")
        }
        try fetchFile(shard, sibling: sibling, reference: reference, commit: commit, into: directory, progress: progress)
        wanted.append(shard)
      }
    }
    let record = Marker(repo: reference.repo, revision: reference.revision, commit: commit, files: wanted)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let temp = try cache.scratchFile()
    try encoder.encode(record).write(to: temp)
    try cache.install(temp, at: marker)
  }

  /// Size, then the LFS sha256 or the git blob id the listing gives (nothing to check when it gives neither).
  private static func verify(_ file: URL, _ sibling: Listing.Sibling, url: String) throws {
    if let expected = sibling.lfs?.size ?? sibling.size, HTTPFetcher.size(of: file) != expected {
      throw DownloadError.sizeMismatch(url: url, expected: expected, actual: HTTPFetcher.size(of: file))
    }
    if let lfs = sibling.lfs {
      try FileHashing.verify(file, .sha256(lfs.sha256.lowercased()), url: url)
    } else if let blob = sibling.blobId {
      let actual = try FileHashing.gitBlobSHA1(of: file)
      guard actual == blob.lowercased() else {
        throw DownloadError.checksumMismatch(url: url, algorithm: "git blob sha1", expected: blob, actual: actual)
      }
    }
  }

  private func shardNames(index: URL) throws -> [String] {
    struct Index: Decodable { var weight_map: [String: String] }
    guard let data = FileManager.default.contents(atPath: index.path),
      let parsed = try? JSONDecoder().decode(Index.self, from: data)
    else { throw DownloadError.hub(url: index.path, reason: "not a shard index (no weight_map)") }
    return Array(Set(parsed.weight_map.values)).sorted()
  }

  private var fetcher: HTTPFetcher {
    HTTPFetcher(options: options, headers: token.map { ["Authorization": "Bearer \($0)"] } ?? [:])
  }

  private func fetchSmall(_ url: String, progress: DownloadProgress) throws -> Data {
    guard let remote = URL(string: url) else { throw DownloadError.network(url: url, reason: "not a valid URL") }
    let partial = try cache.scratchFile()
    defer { try? FileManager.default.removeItem(at: partial) }
    progress(.fetching(url: url))
    try fetcher.fetch(remote, into: partial) { _, _ in }
    guard let data = FileManager.default.contents(atPath: partial.path) else {
      throw DownloadError.io(path: partial.path, reason: "cannot read")
    }
    return data
  }

  private func fetchFile(
    _ name: String, sibling: Listing.Sibling, reference: HubModelReference, commit: String, into directory: URL,
    progress: DownloadProgress
  ) throws {
    // The name comes from the server (a listing, an index's weight_map): checked before anything is read, written or
    // deleted under it, so a hostile mirror cannot reach outside the model's folder.
    let destination: URL
    do { destination = try RelativePath(validating: name).resolved(under: directory) } catch {
      throw DownloadError.hub(url: "\(base)/\(reference.repo)", reason: "the repository names a file \(error)")
    }
    let displayPath = "models/\(reference.repo)/\(reference.revision)/\(name)"
    let pathPart = name.split(separator: "/").map { Self.escape(String($0)) }.joined(separator: "/")
    let url = "\(base)/\(reference.repo)/resolve/\(Self.escape(commit))/\(pathPart)"
    // A file left by an interrupted earlier call counts only if it matches this listing (a branch may have
    // moved since): otherwise it is fetched again, so a directory never mixes two commits.
    if FileManager.default.fileExists(atPath: destination.path) {
      if (try? Self.verify(destination, sibling, url: url)) != nil {
        progress(.present(path: displayPath))
        return
      }
      try? FileManager.default.removeItem(at: destination)
    }
    let digestLabel: String
    if sibling.lfs != nil { digestLabel = "sha256 (hub LFS)" } else if sibling.blobId != nil { digestLabel = "git blob sha1" } else {
      guard options.allowUnverified else { throw DownloadError.unverified(url: url, path: displayPath) }
      digestLabel = "unverified"
    }
    let partial = try fetcher.fetchIntoCache(url, cache: cache, progress: progress)
    do {
      try Self.verify(partial, sibling, url: url)
    } catch {
      try? FileManager.default.removeItem(at: partial)
      throw error
    }
    try cache.install(partial, at: destination)
    progress(.installed(path: displayPath, verification: digestLabel))
  }
}
