import Foundation
import LTMDownload

/// Where downloads go and how (`--cache-dir`, `--mirror`, `--offline`, `--allow-unverified`), shared by `download`
/// and every command that reads models or data.
public struct DownloadSettings: Sendable {
  /// nil: `$LTM_BENCH_HOME`, else `~/.cache/ltm-bench`.
  public var cacheDirectory: String?
  /// A base URL that serves the data-dir layout instead of the canonical hosts.
  public var mirror: String?
  public var offline: Bool
  public var allowUnverified: Bool

  public init(cacheDirectory: String? = nil, mirror: String? = nil, offline: Bool = false, allowUnverified: Bool = false) {
    self.cacheDirectory = cacheDirectory
    self.mirror = mirror
    self.offline = offline
    self.allowUnverified = allowUnverified
  }

  public var cache: DataCache {
    DataCache(root: cacheDirectory.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? DataCache.defaultRoot())
  }

  func options() throws -> DownloadOptions {
    var mirrorURL: URL?
    if let mirror {
      guard let url = URL(string: mirror), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
        throw HarnessError.invalidArgument("--mirror expects an http(s) base URL such as http://127.0.0.1:8000/, got '\(mirror)'")
      }
      mirrorURL = url
    }
    return DownloadOptions(mirror: mirrorURL, offline: offline, allowUnverified: allowUnverified)
  }
}

/// Fetching what a run needs before it runs: hub models and data files, into the verified cache.
public enum Provisioning {
  /// What a scoring command does first: resolves hub model names into the cache and, without `dataDirectory`,
  /// fetches the data files it will read (`dataFiles`), so that the cache serves as the data directory. Offline, one
  /// error lists every missing model and data file together. Returns the model paths and the data directory.
  public static func provision(
    models: [String], dataDirectory: String?, settings: DownloadSettings, report: @escaping @Sendable (DownloadEvent) -> Void,
    dataFiles: () throws -> [ManifestFile]
  ) throws -> (models: [URL], dataDirectory: URL) {
    let cache = settings.cache
    let options = try settings.options()
    var missing: [String] = []
    func collectingMissing<T>(_ body: () throws -> T) throws -> T? {
      do { return try body() } catch DownloadError.offlineMissing(_, let paths) {
        missing += paths
        return nil
      }
    }
    let modelPaths = try models.compactMap { model in
      try collectingMissing { try HubClient(cache: cache, options: options).resolveModel(model, progress: report) }
    }
    var directory = cache.root
    if let dataDirectory {
      directory = URL(fileURLWithPath: dataDirectory)
    } else {
      let files = try dataFiles()
      _ = try collectingMissing { try DatasetDownloader(cache: cache, options: options).ensure(files, progress: report) }
    }
    // A name given twice (mauve's --model gpt2 --featurizer gpt2) is missing once.
    var seen = Set<String>()
    missing = missing.filter { seen.insert($0).inserted }
    if !missing.isEmpty { throw DownloadError.offlineMissing(cache: cache.root.path, missing: missing) }
    return (modelPaths, directory)
  }

  /// One line per dataset of the manifest: its files, splits and license (`ltm-bench download` with no names).
  public static func datasetListing(tasksDirectory: URL) throws -> [String] {
    let manifest = try DatasetManifest.load(file: DatasetManifest.location(tasksDirectory: tasksDirectory))
    return manifest.names.map { name in
      let files = manifest.files.filter { $0.dataset == name }
      let splits = Array(Set(files.map(\.split))).sorted().joined(separator: ", ")
      return "\(name): \(files.count) file(s), splits \(splits); license: \(files[0].license)"
    }
  }

  /// `ltm-bench download`: the named datasets (one split, or all) and hub models, into the cache.
  public static func download(
    datasets: [String], split: String?, models: [String], tasksDirectory: URL, settings: DownloadSettings,
    report: @escaping @Sendable (DownloadEvent) -> Void
  ) throws -> (summary: DownloadSummary, modelDirectories: [URL]) {
    let manifest = try DatasetManifest.load(file: DatasetManifest.location(tasksDirectory: tasksDirectory))
    let options = try settings.options()
    let files = try manifest.files(datasets: datasets, split: split)
    let summary = try DatasetDownloader(cache: settings.cache, options: options).ensure(files, progress: report)
    let directories = try models.map { try HubClient(cache: settings.cache, options: options).resolveModel($0, progress: report) }
    return (summary, directories)
  }
}
