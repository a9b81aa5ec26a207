import Foundation
import LTMDownload
import LTMTestSupport
import XCTest

/// A fresh empty directory under the system temp folder, removed when the test ends.
func temporaryDirectory(_ test: XCTestCase) throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-download-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  test.addTeardownBlock { try? FileManager.default.removeItem(at: url) }
  return url
}

/// The committed manifest (tasks/download/datasets.yaml).
func committedManifest() throws -> DatasetManifest {
  try DatasetManifest.load(file: DatasetManifest.location(tasksDirectory: SharedData.packageRoot.appendingPathComponent("tasks")))
}

/// Files left in the cache's temp area (`.partial` transfers, `.extracting` members); the `locks` folder,
/// which is meant to stay, aside.
func temporaryFiles(_ cache: DataCache) -> [String] {
  ((try? FileManager.default.contentsOfDirectory(atPath: cache.temporaryDirectory.path)) ?? []).filter { $0 != "locks" }.sorted()
}

/// Every regular file under `root` (relative paths), hidden temp area excluded.
func cachedFiles(_ root: URL) -> [String] {
  guard let e = FileManager.default.enumerator(atPath: root.path) else { return [] }
  var found: [String] = []
  while let p = e.nextObject() as? String {
    if p.hasPrefix(".tmp") { continue }
    var isDirectory: ObjCBool = false
    if FileManager.default.fileExists(atPath: root.appendingPathComponent(p).path, isDirectory: &isDirectory), !isDirectory.boolValue {
      found.append(p)
    }
  }
  return found.sorted()
}

/// Independent oracles for the checksums the library computes: coreutils `sha256sum`, `md5sum` and
/// `git hash-object` (git's blob id, the sha1 the hub reports for files not in LFS).
enum Oracle {
  static func sha256(_ file: URL) throws -> String { String(try run("/usr/bin/sha256sum", [file.path]).prefix(64)) }
  static func md5(_ file: URL) throws -> String { String(try run("/usr/bin/md5sum", [file.path]).prefix(32)) }
  static func gitBlob(_ file: URL) throws -> String {
    try run("/usr/bin/env", ["git", "hash-object", "--no-filters", file.path]).trimmingCharacters(in: .whitespacesAndNewlines)
  }
  static func sha256(_ data: Data) throws -> String {
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("oracle-\(UUID().uuidString)")
    try data.write(to: file)
    defer { try? FileManager.default.removeItem(at: file) }
    return try sha256(file)
  }

  @discardableResult
  static func run(_ executable: String, _ arguments: [String], in directory: URL? = nil) throws -> String {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = arguments
    if let directory { p.currentDirectoryURL = directory }
    let out = Pipe()
    p.standardOutput = out
    try p.run()
    let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { throw LoopbackHTTPServer.ServerError("\(executable) \(arguments) exited \(p.terminationStatus)") }
    return text
  }
}
