import Foundation

/// How files are fetched.
public struct DownloadOptions: Sendable {
  /// A base URL that serves the data-dir layout (file `path` at `mirror/path`) instead of the canonical hosts.
  public var mirror: URL?
  /// Never touch the network: report what is missing instead.
  public var offline = false
  /// Accept a file that no known checksum covers on its route (it is labelled `unverified`).
  public var allowUnverified = false
  /// Attempts per transfer; a dropped connection is resumed with a Range request.
  public var maxAttempts = 3

  public init(mirror: URL? = nil, offline: Bool = false, allowUnverified: Bool = false, maxAttempts: Int = 3) {
    self.mirror = mirror
    self.offline = offline
    self.allowUnverified = allowUnverified
    self.maxAttempts = maxAttempts
  }
}

/// What happened, for a progress display. Sent on the calling thread or URLSession's delegate queue.
public enum DownloadEvent: Sendable {
  case fetching(url: String)
  case bytes(url: String, received: Int64, total: Int64?)
  case extracting(url: String, member: String)
  /// A file moved into the cache; `verification` says which check covered it (e.g. `sha256`, `md5`,
  /// `sha256 of wikitext-2-raw-v1.zip`, `unverified`).
  case installed(path: String, verification: String)
  case present(path: String)
}

public typealias DownloadProgress = @Sendable (DownloadEvent) -> Void

public struct DownloadSummary: Sendable {
  public var installed: [(path: String, verification: String)] = []
  public var present: [String] = []
  /// Transfers made (0 when everything was already in the cache).
  public var transfers = 0
}

/// Fills a `DataCache` with manifest files: downloads what is missing, verifies, extracts, installs.
public struct DatasetDownloader: Sendable {
  public var cache: DataCache
  public var options: DownloadOptions

  public init(cache: DataCache, options: DownloadOptions = DownloadOptions()) {
    self.cache = cache
    self.options = options
  }

  /// Where `file` is fetched from under these options.
  public func sourceURL(_ file: ManifestFile) -> String {
    guard let mirror = options.mirror else { return file.url }
    var base = mirror.absoluteString
    if !base.hasSuffix("/") { base += "/" }
    return base + (file.path.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? file.path)
  }

  /// The files not yet in the cache.
  public func missing(_ files: [ManifestFile]) -> [ManifestFile] {
    files.filter { !cache.contains($0.path) }
  }

  /// Makes every file present in the cache. Offline, a missing file is an error listing all missing files.
  @discardableResult
  public func ensure(_ files: [ManifestFile], progress: DownloadProgress = { _ in }) throws -> DownloadSummary {
    // The cache is the run's data directory even when nothing is needed from it (a user's task whose data lies
    // beside its file): it must exist.
    try? FileManager.default.createDirectory(at: cache.root, withIntermediateDirectories: true)
    var summary = DownloadSummary()
    // One entry per cache path (wikitext2 and wikitext103 list the same files).
    var seen = Set<String>()
    let files = files.filter { seen.insert($0.path).inserted }
    let missing = self.missing(files)
    for file in files where !missing.contains(file) {
      summary.present.append(file.path)
      progress(.present(path: file.path))
    }
    if missing.isEmpty { return summary }
    if options.offline {
      throw DownloadError.offlineMissing(cache: cache.root.path, missing: missing.map { "\($0.path) (\(sourceURL($0)))" })
    }
    // Refuse unverifiable files before fetching anything (the LM1B tarball alone is 1.7 GB).
    if !options.allowUnverified, let file = missing.first(where: { verification(of: $0) == nil }) {
      throw DownloadError.unverified(url: sourceURL(file), path: file.path)
    }
    // One transfer per source URL: on the canonical route an archive serves all of its members at once; a
    // mirror serves every file at its own URL. Each transfer holds the URL's lock, and what another process
    // installed meanwhile is not fetched again.
    var order: [String] = []
    var byURL: [String: [ManifestFile]] = [:]
    for file in missing {
      let url = sourceURL(file)
      if byURL[url] == nil { order.append(url) }
      byURL[url, default: []].append(file)
    }
    for url in order {
      try cache.withLock(url) {
        let group = byURL[url]!.filter { !cache.contains($0.path) }
        for file in byURL[url]! where cache.contains(file.path) {
          summary.present.append(file.path)
          progress(.present(path: file.path))
        }
        if group.isEmpty { return }
        if options.mirror == nil, let archive = group[0].archive {
          try fetchArchive(url: url, format: archive.format, members: group, progress: progress, summary: &summary)
        } else {
          try fetchPlain(group[0], progress: progress, summary: &summary)
        }
      }
    }
    return summary
  }

  /// The check that covers `file` on the current route, or nil when none does.
  func verification(of file: ManifestFile) -> String? {
    if !file.digests.isEmpty { return file.digests.map(\.algorithm).joined(separator: " + ") }
    if options.mirror == nil, let archive = file.archive, archive.sha256 != nil {
      let name = URL(string: file.url)?.lastPathComponent ?? "the archive"
      return "sha256 of \(name)"
    }
    return nil
  }

  private func transfer(_ url: String, progress: DownloadProgress, summary: inout DownloadSummary) throws -> URL {
    summary.transfers += 1
    return try HTTPFetcher(options: options).fetchIntoCache(url, cache: cache, progress: progress)
  }

  /// A file fetched as itself (canonical plain file, or any file from a mirror).
  private func fetchPlain(_ file: ManifestFile, progress: DownloadProgress, summary: inout DownloadSummary) throws {
    let url = sourceURL(file)
    let partial = try transfer(url, progress: progress, summary: &summary)
    try check(partial, file, url: url)
    try cache.install(partial, at: cache.url(for: file.path))
    let label = verification(of: file) ?? "unverified"
    summary.installed.append((file.path, label))
    progress(.installed(path: file.path, verification: label))
  }

  private func fetchArchive(
    url: String, format: ArchiveSource.Format, members: [ManifestFile], progress: DownloadProgress,
    summary: inout DownloadSummary
  ) throws {
    let partial = try transfer(url, progress: progress, summary: &summary)
    // A complete archive is deleted once its members are installed; a bad one is discarded, never resumed.
    defer { try? FileManager.default.removeItem(at: partial) }
    if let sha = members[0].archive?.sha256 {
      if let expected = members[0].archive?.size, HTTPFetcher.size(of: partial) != expected {
        throw DownloadError.sizeMismatch(url: url, expected: expected, actual: HTTPFetcher.size(of: partial))
      }
      try FileHashing.verify(partial, .sha256(sha), url: url)
    }
    var scratch: [String: URL] = [:]
    defer { for file in scratch.values { try? FileManager.default.removeItem(at: file) } }
    for file in members { scratch[file.archive!.member] = try cache.scratchFile() }
    for file in members { progress(.extracting(url: url, member: file.archive!.member)) }
    try ArchiveExtraction.extract(format, archive: partial, members: scratch, url: url)
    for file in members {
      let extracted = scratch[file.archive!.member]!
      try check(extracted, file, url: "\(url) member \(file.archive!.member)", discard: false)
    }
    for file in members {
      try cache.install(scratch[file.archive!.member]!, at: cache.url(for: file.path))
      scratch[file.archive!.member] = nil
      let label = verification(of: file) ?? "unverified"
      summary.installed.append((file.path, label))
      progress(.installed(path: file.path, verification: label))
    }
  }

  /// Size and every known digest of `file`; a file that fails is deleted (it must not be resumed).
  private func check(_ candidate: URL, _ file: ManifestFile, url: String, discard: Bool = true) throws {
    do {
      if let size = file.size, HTTPFetcher.size(of: candidate) != size {
        throw DownloadError.sizeMismatch(url: url, expected: size, actual: HTTPFetcher.size(of: candidate))
      }
      for digest in file.digests { try FileHashing.verify(candidate, digest, url: url) }
    } catch {
      if discard { try? FileManager.default.removeItem(at: candidate) }
      throw error
    }
  }
}
