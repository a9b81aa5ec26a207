import Foundation

/// The folder a command writes into (`--output-dir`, `--output`'s folder): made when missing, refused in one line when
/// it cannot be one, and cleared of the temporary files an earlier run left when it was killed mid-write.
enum OutputFolder {
  /// Foundation's atomic writes go through `.dat.nosync*` files beside the target, renamed into place when complete.
  static let atomicWritePrefix = ".dat.nosync"
  /// A temporary file older than this is a killed run's leftover, not a write in progress (concurrent runs may share
  /// a folder; their writes take seconds).
  static let staleAfter: TimeInterval = 3600

  static func prepare(_ url: URL, option: String = "--output-dir") throws {
    let fm = FileManager.default
    // The nearest part of the path that exists must be a folder (`out/results.json/x` names a folder in a file).
    var existing = url.standardizedFileURL
    while !fm.fileExists(atPath: existing.path), existing.path != "/" { existing.deleteLastPathComponent() }
    var isDirectory: ObjCBool = false
    if fm.fileExists(atPath: existing.path, isDirectory: &isDirectory), !isDirectory.boolValue {
      throw HarnessError.invalidArgument(
        "\(option) \(url.path): \(existing.path == url.standardizedFileURL.path ? "it" : existing.path) is a file, not a folder")
    }
    do {
      try fm.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw HarnessError.invalidArgument("cannot create \(option) \(url.path): \(Self.reason(error))")
    }
    removeStaleTemporaryFiles(in: url)
  }

  static func removeStaleTemporaryFiles(in url: URL, now: Date = Date()) {
    let fm = FileManager.default
    guard let names = try? fm.contentsOfDirectory(atPath: url.path) else { return }
    for name in names where name.hasPrefix(atomicWritePrefix) {
      let file = url.appendingPathComponent(name)
      guard let modified = (try? fm.attributesOfItem(atPath: file.path))?[.modificationDate] as? Date,
        now.timeIntervalSince(modified) > staleAfter
      else { continue }
      try? fm.removeItem(at: file)
    }
  }

  /// The POSIX reason behind a Foundation file error ("Permission denied"), not its domain and code.
  static func reason(_ error: Error) -> String {
    let ns = error as NSError
    if let underlying = ns.userInfo[NSUnderlyingErrorKey] as? NSError, underlying.domain == NSPOSIXErrorDomain {
      return String(cString: strerror(Int32(underlying.code)))
    }
    return ns.domain == NSPOSIXErrorDomain ? String(cString: strerror(Int32(ns.code))) : ns.localizedDescription
  }
}
