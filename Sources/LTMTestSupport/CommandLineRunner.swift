import Foundation

/// Runs the built `ltm-bench` binary from a test, for end-to-end checks of exit codes and the one-line errors.
public enum CommandLineRunner {
  public struct Outcome {
    public var status: Int32
    public var stdout: String
    public var stderr: String
    /// The stderr lines that start with `error:`.
    public var errorLines: [Substring] { stderr.split(separator: "\n").filter { $0.hasPrefix("error:") } }
  }

  /// The executable beside the test bundle (`<build>/ltm-benchPackageTests.xctest` sits next to `<build>/ltm-bench`).
  public static func binary(besideBundleOf type: AnyClass) -> URL {
    var dir = Bundle(for: type).bundleURL
    while !FileManager.default.fileExists(atPath: dir.appendingPathComponent("ltm-bench").path) && dir.path != "/" {
      dir = dir.deletingLastPathComponent()
    }
    return dir.appendingPathComponent("ltm-bench")
  }

  /// `environment` adds to (or overrides) the test process's environment.
  public static func run(
    _ args: [String], besideBundleOf type: AnyClass, in directory: URL = SharedData.packageRoot,
    environment: [String: String] = [:]
  ) throws -> Outcome {
    let p = Process()
    p.executableURL = binary(besideBundleOf: type)
    p.arguments = args
    if !environment.isEmpty {
      p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
    }
    p.currentDirectoryURL = directory
    let out = Pipe(), err = Pipe()
    p.standardOutput = out
    p.standardError = err
    try p.run()
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return Outcome(status: p.terminationStatus, stdout: String(decoding: o, as: UTF8.self), stderr: String(decoding: e, as: UTF8.self))
  }
}
