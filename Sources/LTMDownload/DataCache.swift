import Crypto
import Foundation

/// The download cache: `$LTM_BENCH_HOME` (default `~/.cache/ltm-bench`), laid out exactly like a `--data-dir`
/// (`ptb/ptb.valid.txt`, `wikitext/wiki.test.raw`, …), so it can be passed as one. Hub models live under
/// `models/{owner}/{name}/{revision}/`; transfers in progress live in `.tmp/` (hidden, so no task glob sees
/// them) as `.partial` files that a later call resumes. A file appears at its final path only by an atomic
/// rename after it verified, so the cache never holds a half-written file.
public struct DataCache: Sendable {
  public var root: URL

  public init(root: URL) {
    self.root = root.standardizedFileURL
  }

  /// `$LTM_BENCH_HOME`, or `~/.cache/ltm-bench`.
  public static func defaultRoot(environment: [String: String] = ProcessInfo.processInfo.environment) -> URL {
    if let home = environment["LTM_BENCH_HOME"], !home.isEmpty {
      return URL(fileURLWithPath: (home as NSString).expandingTildeInPath)
    }
    let userHome = environment["HOME"].map { URL(fileURLWithPath: $0) } ?? FileManager.default.homeDirectoryForCurrentUser
    return userHome.appendingPathComponent(".cache").appendingPathComponent("ltm-bench")
  }

  public var temporaryDirectory: URL { root.appendingPathComponent(".tmp") }

  public func url(for path: String) -> URL { root.appendingPathComponent(path) }

  public func contains(_ path: String) -> Bool {
    var isDirectory: ObjCBool = false
    return FileManager.default.fileExists(atPath: url(for: path).path, isDirectory: &isDirectory) && !isDirectory.boolValue
  }

  /// The temp-area file a transfer of `url` writes to; the same URL always maps to the same file, so an
  /// interrupted transfer is resumed by the next call.
  func partialFile(for url: String) throws -> URL {
    try makeDirectory(temporaryDirectory)
    let key = Self.shortHash(url)
    let name = URL(string: url)?.lastPathComponent ?? "download"
    return temporaryDirectory.appendingPathComponent("\(key)-\(name.isEmpty ? "download" : name).partial")
  }

  /// 16 hex digits of sha256(`text`): stable temp-area names for URLs and lock keys.
  static func shortHash(_ text: String) -> String {
    SHA256.hash(data: Data(text.utf8)).prefix(8).map { String(format: "%02x", $0) }.joined()
  }

  /// A fresh temp-area file for an extracted archive member.
  func scratchFile() throws -> URL {
    try makeDirectory(temporaryDirectory)
    return temporaryDirectory.appendingPathComponent("\(UUID().uuidString).extracting")
  }

  /// Runs `body` holding an exclusive advisory lock (flock) named by `key`, so that processes sharing the cache
  /// (sharded runs started together) fetch each file once: the second waits, then finds the file in place.
  /// Lock files live in `.tmp/locks/` and are never deleted (deleting a lock file races with its next user).
  func withLock<T>(_ key: String, _ body: () throws -> T) throws -> T {
    let directory = temporaryDirectory.appendingPathComponent("locks")
    try makeDirectory(directory)
    let path = directory.appendingPathComponent("\(Self.shortHash(key)).lock").path
    let fd = open(path, O_CREAT | O_RDWR, 0o644)
    guard fd >= 0 else { throw DownloadError.io(path: path, reason: "cannot open the download lock") }
    defer { close(fd) }
    guard flock(fd, LOCK_EX) == 0 else { throw DownloadError.io(path: path, reason: "cannot take the download lock") }
    defer { flock(fd, LOCK_UN) }
    return try body()
  }

  /// Moves a verified file into place with rename(2): atomic on the cache's file system.
  func install(_ file: URL, at destination: URL) throws {
    try makeDirectory(destination.deletingLastPathComponent())
    guard rename(file.path, destination.path) == 0 else {
      throw DownloadError.io(path: destination.path, reason: "cannot move the verified download into place (\(String(cString: strerror(errno))))")
    }
  }

  func makeDirectory(_ directory: URL) throws {
    do {
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    } catch {
      throw DownloadError.io(path: directory.path, reason: "cannot create the cache directory")
    }
  }
}
