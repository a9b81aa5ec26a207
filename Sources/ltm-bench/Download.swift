import ArgumentParser
import Foundation
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

  var settings: DownloadSettings {
    DownloadSettings(cacheDirectory: cacheDir, mirror: mirror, offline: offline, allowUnverified: allowUnverified)
  }

  /// Hub models and, without `--data-dir`, the data files the command will read (`Provisioning.provision`).
  func provision(
    models: [String], dataDir: String?, progress: StderrProgress, dataFiles: () throws -> [ManifestFile]
  ) throws -> (models: [URL], dataDirectory: URL) {
    try Provisioning.provision(
      models: models, dataDirectory: dataDir, settings: settings, report: { progress.report($0) }, dataFiles: dataFiles)
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
    let reporter = StderrProgress()
    if datasets.isEmpty && models.isEmpty {
      for line in try CLIErrors.oneLine({ try Provisioning.datasetListing(tasksDirectory: tasksDirectory) }) { print(line) }
      return
    }
    let settings = download.settings
    let (summary, modelDirectories) = try CLIErrors.oneLine {
      try reporter.clearingOnError {
        try Provisioning.download(
          datasets: datasets, split: split, models: models, tasksDirectory: tasksDirectory, settings: settings,
          report: { reporter.report($0) })
      }
    }
    reporter.finish()
    for (path, verification) in summary.installed {
      print("downloaded \(path) (\(verification == "unverified" ? "UNVERIFIED: no checksum on this route, accepted by --allow-unverified" : "verified: \(verification)"))")
    }
    print("\(summary.installed.count) file(s) downloaded, \(summary.present.count) already in the cache")
    for directory in modelDirectories { print("model: \(directory.path)") }
    print("cache: \(settings.cache.root.path) (zero-shot reads it when --data-dir is not given)")
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
