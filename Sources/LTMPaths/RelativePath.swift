import Foundation

/// A path that came from outside (a hub listing, a shard index's `weight_map`, a task or manifest file) and is about
/// to name a file under a folder the user chose: the cache, `--data-dir`, a checkpoint's folder. It is accepted only
/// as a plain relative path, so nothing outside that folder is ever read, written, renamed or deleted because of it:
/// not empty, not absolute, no `..` or `.` component, no empty component (`a//b`, a trailing `/`), no backslash
/// (a separator elsewhere) and no NUL or other control character. Glob characters are allowed (task files use them).
/// Every such name goes through this one check before anything touches the file system.
public struct RelativePath: Sendable, Hashable, CustomStringConvertible {
  /// The path as given, `/`-separated.
  public let string: String
  /// Its components, none empty, `.` or `..`.
  public let components: [String]

  public init(validating path: String) throws(RelativePathError) {
    func refuse(_ reason: String) -> RelativePathError { RelativePathError(path: path, reason: reason) }
    guard !path.isEmpty else { throw refuse("it is empty") }
    guard !path.hasPrefix("/") else { throw refuse("it is absolute") }
    guard !path.contains("\\") else { throw refuse("it contains a backslash") }
    guard !path.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
      throw refuse("it contains a control character")
    }
    let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
    guard !parts.contains("") else { throw refuse("it has an empty component") }
    guard !parts.contains(".."), !parts.contains(".") else { throw refuse("it has a '..' or '.' component") }
    string = path
    components = parts
  }

  /// The file this path names under `root`.
  public func resolved(under root: URL) -> URL {
    components.reduce(root) { $0.appendingPathComponent($1) }
  }

  public var description: String { string }
}

/// A name from outside that is not a plain relative path: the caller adds where the name came from.
public struct RelativePathError: Error, Sendable, CustomStringConvertible {
  public let path: String
  public let reason: String
  public var description: String { "'\(path.debugDescription.dropFirst().dropLast())' is not a plain relative path (\(reason))" }
}
