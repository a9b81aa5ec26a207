import ArgumentParser
import Foundation
import LTMDownload
import LTMHarness

/// Cache, mirror and verification options shared by `download` and `zero-shot`.
struct DownloadArguments: ParsableArguments {
  @Option(help: "Download cache, laid out like a --data-dir (default: $LTM_BENCH_HOME, else ~/.cache/ltm-bench).")
  var cacheDir: String?

  @Option(help: "Base URL of a mirror that serves the data-dir layout (file PATH at URL/PATH) instead of the canonical hosts.")
  var mirror: String?

  @Flag(help: "Never touch the network: use the cache, and list what is missing (exit 1) when it is incomplete.")
  var offline = false

  @Flag(help: "Accept a file that no known checksum covers on its route (labelled unverified).")
  var allowUnverified = false

  func cache() -> DataCache {
    DataCache(root: cacheDir.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) } ?? DataCache.defaultRoot())
  }

  func options() throws -> DownloadOptions {
    var mirrorURL: URL?
    if let mirror {
      guard let url = URL(string: mirror), let scheme = url.scheme, ["http", "https"].contains(scheme), url.host != nil else {
        throw ValidationError("--mirror expects an http(s) base URL such as http://127.0.0.1:8000/, got '\(mirror)'")
      }
      mirrorURL = url
    }
    return DownloadOptions(mirror: mirrorURL, offline: offline, allowUnverified: allowUnverified)
  }

  /// What a scoring command does before it runs: resolves hub model names into the cache and, without
  /// `--data-dir`, fetches the data files it will read (`dataFiles`), so that the cache serves as the data directory.
  /// Offline, one error lists every missing model and data file together. Returns the model paths and the data
  /// directory.
  func provision(
    models: [String], dataDir: String?, progress: StderrProgress, dataFiles: () throws -> [ManifestFile]
  ) throws -> (models: [URL], dataDirectory: URL) {
    let cache = cache()
    let options = try options()
    var missing: [String] = []
    func collectingMissing<T>(_ body: () throws -> T) throws -> T? {
      do { return try body() } catch DownloadError.offlineMissing(_, let paths) {
        missing += paths
        return nil
      }
    }
    let modelPaths = try models.compactMap { model in
      try collectingMissing { try HubClient(cache: cache, options: options).resolveModel(model) { progress.report($0) } }
    }
    var dataDirectory = cache.root
    if let dataDir {
      dataDirectory = URL(fileURLWithPath: dataDir)
    } else {
      let files = try dataFiles()
      _ = try collectingMissing { try DatasetDownloader(cache: cache, options: options).ensure(files) { progress.report($0) } }
    }
    // A name given twice (mauve's --model gpt2 --featurizer gpt2) is missing once.
    var seen = Set<String>()
    missing = missing.filter { seen.insert($0).inserted }
    if !missing.isEmpty { throw DownloadError.offlineMissing(cache: cache.root.path, missing: missing) }
    return (modelPaths, dataDirectory)
  }
}

/// `ltm-bench download`: fill the verified cache with datasets from the manifest (and hub models).
struct Download: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "download",
    abstract: "Download datasets (tasks/download/datasets.yaml) and hub models into the verified cache.",
    discussion: """
      Each file is fetched from its canonical source (or --mirror), resumed with Range requests after a dropped \
      connection, checked against its sha256/md5 (or its archive's sha256) and only then moved into the cache. \
      A second call downloads nothing. With no names, lists the datasets. The cache is a --data-dir.
      """)

  @Argument(help: "Dataset names (ptb, wikitext2, wikitext103, lm1b, lambada, gsm8k, ag_news, gpt2).")
  var datasets: [String] = []

  @Option(help: "Only this split (validation, test or train).")
  var split: String?

  @Option(name: .customLong("model"), help: "Also download a hub model: gpt2 or owner/name[@revision] (repeatable).")
  var models: [String] = []

  @Option(help: "Directory of task YAML files (the manifest is its download/datasets.yaml); default: the repository's tasks/.")
  var tasksDir: String?

  @OptionGroup(title: "Cache and network") var download: DownloadArguments

  func run() throws {
    let tasksDirectory = try tasksDir.map { URL(fileURLWithPath: $0) } ?? DefaultPaths.tasksDirectory()
    let cache = download.cache()
    let options = try download.options()
    let reporter = StderrProgress()
    let manifest = try CLIErrors.oneLine { try DatasetManifest.load(file: DatasetManifest.location(tasksDirectory: tasksDirectory)) }
    if datasets.isEmpty && models.isEmpty {
      for name in manifest.names {
        let files = manifest.files.filter { $0.dataset == name }
        let splits = Array(Set(files.map(\.split))).sorted().joined(separator: ", ")
        print("\(name): \(files.count) file(s), splits \(splits); license: \(files[0].license)")
      }
      return
    }
    let summary = try CLIErrors.oneLine {
      try reporter.clearingOnError { () -> DownloadSummary in
        let files = try manifest.files(datasets: datasets, split: split)
        return try DatasetDownloader(cache: cache, options: options).ensure(files) { reporter.report($0) }
      }
    }
    let modelDirectories = try CLIErrors.oneLine {
      try reporter.clearingOnError {
        try models.map { try HubClient(cache: cache, options: options).resolveModel($0) { reporter.report($0) } }
      }
    }
    reporter.finish()
    for (path, verification) in summary.installed {
      print("downloaded \(path) (\(verification == "unverified" ? "UNVERIFIED: no checksum on this route, accepted by --allow-unverified" : "verified: \(verification)"))")
    }
    print("\(summary.installed.count) file(s) downloaded, \(summary.present.count) already in the cache")
    for directory in modelDirectories { print("model: \(directory.path)") }
    print("cache: \(cache.root.path) (zero-shot reads it when --data-dir is not given)")
  }
}

extension StderrProgress {
  /// Runs `body`, clearing a half-drawn progress line before an error is printed.
  func clearingOnError<T>(_ body: () throws -> T) rethrows -> T {
    do { return try body() } catch {
      finish()
      throw error
    }
  }

  /// Download progress: a bar per transfer (rewritten in place on a terminal, every 10 s in logs).
  func report(_ event: DownloadEvent) {
    switch event {
    case .fetching(let url):
      line("fetching \(url)", transient: true)
    case .bytes(let url, let received, let total):
      let now = Date()
      let finished = total == received
      guard finished || now.timeIntervalSince(lastDownloadUpdate) > (live ? 0.1 : 10) else { return }
      lastDownloadUpdate = now
      let width = 24
      let filled = total.map { $0 > 0 ? Int(received * Int64(width) / $0) : width } ?? 0
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let amount = total.map { String(format: "%.1f/%.1f MB", Double(received) / 1e6, Double($0) / 1e6) }
        ?? String(format: "%.1f MB", Double(received) / 1e6)
      line("\(url) [\(bar)] \(amount)", transient: !finished || live)
    case .extracting(let url, let member):
      line("extracting \(member) from \(url)", transient: true)
    case .installed(let path, let verification):
      line("installed \(path) (\(verification))", transient: false)
    case .present:
      break
    }
  }
}
