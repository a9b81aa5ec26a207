import Foundation

/// The two `sbatch` submissions of a sharded zero-shot run on Slurm: an array job (one element per shard, running
/// `cluster/slurm/zero-shot-array.sbatch`) and a merge job (`merge.sbatch`) that waits for every element
/// (`afterok`). `ltm-bench slurm` prints them as a shell script or submits them.
public struct SlurmPlan: Sendable {
  public var shards: Int
  /// BASE: shard i writes BASE/shard-i, the merge BASE/merged, Slurm's logs BASE/logs.
  public var baseDirectory: String
  /// Threads per shard, asked of Slurm as --cpus-per-task.
  public var threads: Int
  public var partition: String?
  public var time: String?
  public var memory: String?
  /// More sbatch options for both jobs (an account, a QOS, a constraint), passed through as given.
  public var sbatchOptions: [String]
  /// The zero-shot options every shard runs with (models, tasks, data, protocol…).
  public var zeroShotArguments: [String]
  /// The folder holding zero-shot-array.sbatch and merge.sbatch.
  public var scriptsDirectory: URL
  /// The ltm-bench binary the jobs run (LTM_BENCH in the scripts); an absolute path on the shared file system.
  public var executable: String

  public init(
    shards: Int, baseDirectory: String, threads: Int, partition: String? = nil, time: String? = nil, memory: String? = nil,
    sbatchOptions: [String] = [], zeroShotArguments: [String], scriptsDirectory: URL, executable: String
  ) throws {
    guard shards >= 1 else { throw HarnessError.invalidArgument("--shards must be at least 1, got \(shards)") }
    guard threads >= 1 else { throw HarnessError.invalidArgument("--threads must be at least 1, got \(threads)") }
    guard !baseDirectory.isEmpty, !baseDirectory.contains(ShardAssignment.outputPlaceholder) else {
      throw HarnessError.invalidArgument("--output-dir is the base folder (shard i goes to BASE/shard-i), without \(ShardAssignment.outputPlaceholder)")
    }
    // sbatch's --export splits at commas.
    guard !executable.contains(",") else {
      throw HarnessError.invalidArgument("the ltm-bench binary's path \(executable) contains a comma, which sbatch --export cannot pass")
    }
    for script in [Self.arrayScript, Self.mergeScript] {
      let url = scriptsDirectory.appendingPathComponent(script)
      guard FileManager.default.isReadableFile(atPath: url.path) else {
        throw HarnessError.invalidArgument("cannot read the batch script \(url.path)")
      }
    }
    (self.shards, self.baseDirectory, self.threads) = (shards, baseDirectory, threads)
    (self.partition, self.time, self.memory, self.sbatchOptions) = (partition, time, memory, sbatchOptions)
    (self.zeroShotArguments, self.scriptsDirectory, self.executable) = (zeroShotArguments, scriptsDirectory, executable)
  }

  public static let arrayScript = "zero-shot-array.sbatch"
  public static let mergeScript = "merge.sbatch"

  public var logsDirectory: String { baseDirectory + "/logs" }

  /// `sbatch` and its arguments for the array job.
  public var arrayCommand: [String] {
    ["sbatch", "--parsable", "--array=0-\(shards - 1)", "--cpus-per-task=\(threads)", "--requeue", "--open-mode=append",
     "--output=\(logsDirectory)/%x-%A_%a.out"]
      + commonOptions + [scriptsDirectory.appendingPathComponent(Self.arrayScript).path, baseDirectory] + zeroShotArguments
  }

  /// `sbatch` and its arguments for the merge job, which starts when every element of `arrayJob` succeeded and is
  /// cancelled (not left pending forever) when one failed for good.
  public func mergeCommand(after arrayJob: String) -> [String] {
    ["sbatch", "--parsable", "--dependency=afterok:\(arrayJob)", "--kill-on-invalid-dep=yes", "--cpus-per-task=1",
     "--output=\(logsDirectory)/%x-%j.out"]
      + commonOptions + [scriptsDirectory.appendingPathComponent(Self.mergeScript).path, baseDirectory]
  }

  private var commonOptions: [String] {
    var options: [String] = []
    if let partition { options.append("--partition=\(partition)") }
    if let time { options.append("--time=\(time)") }
    if let memory { options.append("--mem=\(memory)") }
    return options + ["--export=ALL,LTM_BENCH=\(executable)"] + sbatchOptions
  }

  /// The submission as a shell script a user can read, keep and run.
  public var shellScript: String {
    """
    #!/usr/bin/env bash
    # ltm-bench zero-shot over \(shards) Slurm array elements, then the merge (written by ltm-bench slurm).
    set -euo pipefail
    mkdir -p \(Self.quoted(logsDirectory))
    array=$(\(arrayCommand.map(Self.quoted).joined(separator: " ")))
    merge=$(\(mergeCommand(after: "$array").map(Self.quoted).joined(separator: " ").replacingOccurrences(of: "'--dependency=afterok:$array'", with: "\"--dependency=afterok:$array\"")))
    echo "array job $array (\(shards) shards), merge job $merge: ltm-bench status \(Self.quoted(baseDirectory))"

    """
  }

  /// The submitted jobs' IDs.
  public struct Submitted: Sendable, Equatable {
    public var arrayJob: String
    public var mergeJob: String
  }

  /// Creates the logs folder and runs both `sbatch` commands (sbatch from PATH).
  public func submit() throws -> Submitted {
    try FileManager.default.createDirectory(atPath: logsDirectory, withIntermediateDirectories: true)
    let array = try Self.sbatch(arrayCommand)
    let merge = try Self.sbatch(mergeCommand(after: array))
    return Submitted(arrayJob: array, mergeJob: merge)
  }

  /// Runs one sbatch --parsable; its output is "JOBID" or "JOBID;CLUSTER".
  private static func sbatch(_ command: [String]) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = command
    let out = Pipe(), err = Pipe()
    (process.standardOutput, process.standardError) = (out, err)
    do { try process.run() } catch {
      throw HarnessError.invalidArgument("cannot run sbatch: \(error.localizedDescription)")
    }
    let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    let id = stdout.split(separator: "\n").last.map { String($0.split(separator: ";")[0]) } ?? ""
    guard process.terminationStatus == 0, !id.isEmpty, id.allSatisfy(\.isNumber) else {
      let reason = stderr.split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
      throw HarnessError.invalidArgument("sbatch failed: \(reason)")
    }
    return id
  }

  /// Single-quoted for a POSIX shell unless it is plainly safe.
  static func quoted(_ word: String) -> String {
    let safe = CharacterSet(charactersIn: "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,%@+")
    if !word.isEmpty, word.unicodeScalars.allSatisfy(safe.contains) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}
