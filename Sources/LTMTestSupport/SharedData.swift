import Foundation

/// Locates the project's `../shared` folder (data, fixtures, docs) relative to the package root, not the
/// working directory, so tests run the same from any folder. CI always has it; a missing folder is a
/// test failure, never a skip.
public enum SharedData {
  /// The package root: this file is `<root>/Sources/LTMTestSupport/SharedData.swift`.
  public static let packageRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

  /// `<root>/../shared`, or the path in `LTM_BENCH_SHARED` when set.
  public static let root: URL = {
    if let env = ProcessInfo.processInfo.environment["LTM_BENCH_SHARED"], !env.isEmpty {
      return URL(fileURLWithPath: env)
    }
    return packageRoot.deletingLastPathComponent().appendingPathComponent("shared")
  }()

  public static var data: URL { root.appendingPathComponent("data") }
  public static var fixtures: URL { root.appendingPathComponent("fixtures") }

  public struct Missing: Error, CustomStringConvertible {
    public let path: String
    public var description: String { "shared test data not found at \(path) (expected ../shared beside the package root)" }
  }

  /// Returns the URL of a file under `../shared`, throwing (so the test fails) when it is absent.
  public static func file(_ relativePath: String) throws -> URL {
    let url = root.appendingPathComponent(relativePath)
    guard FileManager.default.fileExists(atPath: url.path) else { throw Missing(path: url.path) }
    return url
  }

  /// Reads a JSON Lines file into dictionaries.
  public static func jsonLines(_ relativePath: String) throws -> [[String: Any]] {
    let text = try String(contentsOf: file(relativePath), encoding: .utf8)
    return try text.split(separator: "\n", omittingEmptySubsequences: true).map { line in
      guard let obj = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw Missing(path: "\(relativePath): a line is not a JSON object")
      }
      return obj
    }
  }

  /// Reads a JSON file into a dictionary.
  public static func json(_ relativePath: String) throws -> [String: Any] {
    let data = try Data(contentsOf: file(relativePath))
    guard let obj = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw Missing(path: "\(relativePath): not a JSON object")
    }
    return obj
  }
}

/// Relative-error comparison for parity tests: |a−b| ≤ rtol·max(|a|,|b|) + atol.
public func isClose(_ a: Double, _ b: Double, rtol: Double = 1e-4, atol: Double = 0) -> Bool {
  abs(a - b) <= rtol * max(abs(a), abs(b)) + atol
}
