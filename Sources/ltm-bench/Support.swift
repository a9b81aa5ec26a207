import ArgumentParser
import Foundation
import LTMHarness

enum LTMBenchVersionString {
  static let value = LTMBenchVersion.current
}

/// `--threads`, declared once for every command that computes.
struct ThreadsOption: ParsableArguments {
  @Option(help: "Threads for OpenBLAS and the row kernels (default: every CPU this process may use, affinity and cgroup quota counted; at most 4× that).")
  var threads: Int?

  /// Checked before any other work (a model or data path is not even looked at): one `error:` line, exit 1.
  func validate() throws {
    try CLIErrors.oneLine { _ = try ThreadCount.resolve(threads) }
  }

  /// The thread count to use: `--threads` (validated above) or every usable CPU.
  var count: Int { threads ?? ThreadCount.usable }
}

/// The one warning line for OpenBLAS kernels older than the CPU allows, printed by the commands that compute.
enum BLASKernelWarning {
  nonisolated(unsafe) static var pending: String?

  static func printIfAny() {
    guard let line = pending else { return }
    pending = nil
    FileHandle.standardError.write(Data((line + "\n").utf8))
  }
}

/// Every failure ends as one line on stderr and exit code 1 (ArgumentParser's own usage errors exit 64).
enum CLIErrors {
  static func oneLine<T>(_ body: () throws -> T) throws -> T {
    do {
      return try body()
    } catch let error as ExitCode {
      throw error
    } catch {
      let message = String(describing: error).split(separator: "\n").joined(separator: " ")
      FileHandle.standardError.write(Data("error: \(message)\n".utf8))
      throw ExitCode.failure
    }
  }
}

/// Finds the repository's folders (`tasks/`, `cluster/slurm/`): beside the current directory, or above the
/// executable (`<repo>/.build/<config>/ltm-bench`).
enum DefaultPaths {
  static func tasksDirectory() throws -> URL {
    try repositoryFolder("tasks", marker: "ptb.yaml", option: "--tasks-dir")
  }

  /// `relative` in the first candidate root that has it (and, when given, the file `marker` inside it).
  static func repositoryFolder(_ relative: String, marker: String? = nil, option: String = "--scripts-dir") throws -> URL {
    if let folder = findRepositoryFolder(relative, marker: marker) { return folder }
    FileHandle.standardError.write(Data("error: cannot find the \(relative)/ folder (looked in the current directory and above the executable); pass \(option) DIR\n".utf8))
    throw ExitCode.failure
  }

  /// As `repositoryFolder`, nil when there is none (for what only adds to an output, as published numbers do).
  static func findRepositoryFolder(_ relative: String, marker: String? = nil) -> URL? {
    let fm = FileManager.default
    var candidates = [URL(fileURLWithPath: fm.currentDirectoryPath)]
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    for _ in 0..<6 {
      candidates.append(dir)
      dir = dir.deletingLastPathComponent()
    }
    for c in candidates {
      let folder = c.appendingPathComponent(relative)
      if fm.fileExists(atPath: marker.map { folder.appendingPathComponent($0).path } ?? folder.path) { return folder }
    }
    return nil
  }
}

/// Progress on stderr: a single rewritten line on a terminal, plain lines otherwise (CI logs, pipes).
final class StderrProgress: ProgressReporter {
  let live: Bool
  /// When `report(_: DownloadEvent)` last redrew its bar.
  var lastDownloadUpdate = Date.distantPast
  private var lastLineLength = 0
  private var lastPlain = Date.distantPast

  init() {
    let term = ProcessInfo.processInfo.environment["TERM"] ?? ""
    live = isatty(STDERR_FILENO) == 1 && term != "dumb"
  }

  func report(_ event: ProgressEvent) {
    switch event {
    case .stage(let text):
      line(text, transient: true)
    case .taskPrepared(let task, let split, let examples, let tokens, let scored, let available):
      line("\(task)/\(split): \(examples) examples, \(tokens) tokens, \(available) blocks (\(scored) to score)", transient: false)
    case .resumed(let model, let task, let blocks):
      line("\(model) on \(task): \(blocks) blocks taken from the journal", transient: false)
    case .scoring(let model, let task, let done, let total, let tps):
      let width = 24
      let filled = total == 0 ? width : done * width / total
      let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
      let text = String(format: "%@ on %@ [%@] %d/%d blocks, %.0f tokens/s", model, task, bar, done, total, tps)
      if live {
        line(text, transient: true)
      } else if done == total || Date().timeIntervalSince(lastPlain) > 10 {
        lastPlain = Date()
        line(text, transient: false)
      }
    case .finished(let model, let task, let summary):
      line("\(model) on \(task): \(summary)", transient: false)
    case .fewShot(let model, let task, let shots, let done, let total, let elapsed):
      let eta = done > 0 ? elapsed / Double(done) * Double(total - done) : 0
      let text = String(format: "%@ on %@ (%d-shot) %d/%d documents, %.1f s, ETA %.0f s", model, task, shots, done, total, elapsed, eta)
      if live {
        line(text, transient: true)
      } else if done == total || Date().timeIntervalSince(lastPlain) > 10 {
        lastPlain = Date()
        line(text, transient: false)
      }
    }
  }

  func finish() {
    if live && lastLineLength > 0 { write("\r" + String(repeating: " ", count: lastLineLength) + "\r") }
    lastLineLength = 0
  }

  func line(_ text: String, transient: Bool) {
    if live {
      let pad = max(0, lastLineLength - text.count)
      write("\r" + text + String(repeating: " ", count: pad) + (transient ? "" : "\n"))
      lastLineLength = transient ? text.count : 0
    } else {
      write(text + "\n")
    }
  }

  private func write(_ s: String) { FileHandle.standardError.write(Data(s.utf8)) }
}
