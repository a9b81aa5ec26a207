import Foundation
import LTMReports

/// Which shard this process scores: `--shard i/n` as given, or `--shard auto[/n]` read from the scheduler's array
/// variables, so that one command line serves every element of a Slurm array or a Kubernetes Indexed Job.
///
/// Sources of `auto` (every one that is set must agree, or the run stops):
/// - Slurm array jobs: index `SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN`, count `SLURM_ARRAY_TASK_COUNT`; the array
///   must be contiguous with step 1 (`--array=0-3` or `1-4`, not `0-6:2`), or indices would not cover 0…n−1.
/// - Kubernetes Indexed Jobs: index `JOB_COMPLETION_INDEX`; Kubernetes does not pass the Job's `completions`, so the
///   count comes from `LTM_BENCH_SHARD_COUNT` or from `auto/n`.
/// - Anything else (a CI matrix, a shell loop): `LTM_BENCH_SHARD_INDEX` and `LTM_BENCH_SHARD_COUNT`.
public enum ShardAssignment {
  /// The placeholder in `--output-dir` that becomes the shard index (`runs/wt103/shard-{shard}`).
  public static let outputPlaceholder = "{shard}"

  /// Parses `--shard`: `i/n`, `auto` or `auto/n`.
  public static func resolve(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ShardInfo {
    guard text == "auto" || text.hasPrefix("auto/") else { return try ShardInfo(parsing: text) }
    var expectedCount: Int?
    if text != "auto" {
      let n = String(text.dropFirst("auto/".count))
      guard let count = Int(n), count >= 1 else {
        throw HarnessError.invalidArgument("--shard auto/N expects a shard count N ≥ 1, got '\(text)'")
      }
      expectedCount = count
    }
    let found = try candidates(environment, count: expectedCount)
    guard let first = found.first else {
      throw HarnessError.invalidArgument(
        "--shard auto: no array index in the environment (SLURM_ARRAY_TASK_ID of a Slurm array job, JOB_COMPLETION_INDEX of a Kubernetes Indexed Job, or LTM_BENCH_SHARD_INDEX); outside an array pass --shard i/n")
    }
    for other in found.dropFirst() where other.shard != first.shard {
      throw HarnessError.invalidArgument(
        "--shard auto: \(first.source) says shard \(first.shard.index)/\(first.shard.count) but \(other.source) says \(other.shard.index)/\(other.shard.count)")
    }
    if let n = expectedCount, n != first.shard.count {
      throw HarnessError.invalidArgument("--shard \(text): \(first.source) has \(first.shard.count) shards, not \(n)")
    }
    return first.shard
  }

  /// `--shard` (absent, `i/n`, `auto`, `auto/n`) and `--output-dir` (which may name `{shard}`) of one command line.
  public static func resolve(
    shard text: String?, outputDirectory template: String,
    environment: [String: String] = ProcessInfo.processInfo.environment
  ) throws -> (shard: ShardInfo?, outputDirectory: URL) {
    let shard = try text.map { try resolve($0, environment: environment) }
    return (shard, URL(fileURLWithPath: try outputDirectory(template, shard: shard)))
  }

  /// `--output-dir` with `{shard}` replaced by the shard index; `{shard}` without a shard is an error.
  public static func outputDirectory(_ template: String, shard: ShardInfo?) throws -> String {
    guard template.contains(outputPlaceholder) else { return template }
    guard let shard else {
      throw HarnessError.invalidArgument("--output-dir \(template) contains \(outputPlaceholder), which needs --shard")
    }
    return template.replacingOccurrences(of: outputPlaceholder, with: String(shard.index))
  }

  private typealias Candidate = (source: String, shard: ShardInfo)

  private static func candidates(_ env: [String: String], count: Int?) throws -> [Candidate] {
    var found: [Candidate] = []
    if env["SLURM_ARRAY_TASK_ID"] != nil { found.append(try slurm(env)) }
    if let index = env["JOB_COMPLETION_INDEX"] {
      let i = try integer(index, "JOB_COMPLETION_INDEX")
      guard let n = try env["LTM_BENCH_SHARD_COUNT"].map({ try integer($0, "LTM_BENCH_SHARD_COUNT") }) ?? count else {
        throw HarnessError.invalidArgument(
          "--shard auto: JOB_COMPLETION_INDEX is set but the shard count is not: set LTM_BENCH_SHARD_COUNT to the Job's completions, or pass --shard auto/N")
      }
      found.append(("JOB_COMPLETION_INDEX=\(i) (Kubernetes Indexed Job, count \(n))", try checked(i, n, "JOB_COMPLETION_INDEX")))
    }
    if let index = env["LTM_BENCH_SHARD_INDEX"] {
      let i = try integer(index, "LTM_BENCH_SHARD_INDEX")
      guard let n = try env["LTM_BENCH_SHARD_COUNT"].map({ try integer($0, "LTM_BENCH_SHARD_COUNT") }) ?? count else {
        throw HarnessError.invalidArgument("--shard auto: LTM_BENCH_SHARD_INDEX is set but LTM_BENCH_SHARD_COUNT is not")
      }
      found.append(("LTM_BENCH_SHARD_INDEX=\(i)", try checked(i, n, "LTM_BENCH_SHARD_INDEX")))
    }
    return found
  }

  private static func slurm(_ env: [String: String]) throws -> Candidate {
    let id = try integer(env["SLURM_ARRAY_TASK_ID"]!, "SLURM_ARRAY_TASK_ID")
    let names = ["SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT"]
    let values = try names.map { name -> Int in
      guard let text = env[name] else {
        throw HarnessError.invalidArgument("--shard auto: SLURM_ARRAY_TASK_ID is set but \(name) is not (Slurm sets both in an array job)")
      }
      return try integer(text, name)
    }
    let (low, high, count) = (values[0], values[1], values[2])
    let step = try env["SLURM_ARRAY_TASK_STEP"].map { try integer($0, "SLURM_ARRAY_TASK_STEP") } ?? 1
    guard step == 1, high - low + 1 == count else {
      throw HarnessError.invalidArgument(
        "--shard auto: the Slurm array \(low)-\(high) has \(count) elements\(step == 1 ? "" : " and step \(step)"); shards need a contiguous array such as --array=0-\(max(count - 1, 0))")
    }
    return ("SLURM_ARRAY_TASK_ID=\(id) (Slurm array \(low)-\(high))", try checked(id - low, count, "SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN"))
  }

  private static func checked(_ index: Int, _ count: Int, _ name: String) throws -> ShardInfo {
    guard count >= 1, (0..<count).contains(index) else {
      throw HarnessError.invalidArgument("--shard auto: \(name) = \(index) is not in 0...\(max(count - 1, 0)) for \(count) shards")
    }
    return ShardInfo(index: index, count: count)
  }

  private static func integer(_ text: String, _ name: String) throws -> Int {
    guard let value = Int(text.trimmingCharacters(in: .whitespaces)) else {
      throw HarnessError.invalidArgument("--shard auto: \(name)='\(text)' is not an integer")
    }
    return value
  }
}
