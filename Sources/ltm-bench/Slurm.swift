import ArgumentParser
import Foundation
import LTMHarness

/// `ltm-bench slurm`: the array job and merge job of a sharded zero-shot run, printed as a script or submitted.
struct Slurm: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Print (or --submit) the Slurm array job and merge job of a sharded zero-shot run.",
    discussion: """
      Element i of the array runs `ltm-bench zero-shot --shard auto --output-dir BASE/shard-{shard} --threads \
      T` plus the options after --; a job that waits for all of them (afterok) merges BASE/shard-* into \
      BASE/merged. Elements are requeue-safe (a killed or preempted one resumes from its block cache). Data, \
      checkpoints, BASE and this binary must be on a file system every node sees. Example:
        ltm-bench slurm --shards 8 --threads 16 --output-dir runs/wt103 -- \\
          --model ckpt.pt --tasks wikitext103 --data-dir ~/data
      """)

  @Option(help: "Shards, one array element each.")
  var shards: Int

  @Option(help: "Threads per shard (each element asks Slurm for this many CPUs: --cpus-per-task).")
  var threads: Int

  @Option(help: "Base folder: shard i writes BASE/shard-i, the merge BASE/merged, Slurm's logs BASE/logs.")
  var outputDir: String

  @Option(help: "Slurm partition (default: the cluster's default).")
  var partition: String?

  @Option(help: "Time limit per job, in sbatch's format (e.g. 12:00:00).")
  var time: String?

  @Option(help: "Memory per job, in sbatch's format (e.g. 32G).")
  var mem: String?

  @Option(name: .customLong("sbatch-option"), parsing: .unconditionalSingleValue, help: "Another sbatch option for both jobs, e.g. --sbatch-option=--account=lab (repeatable).")
  var sbatchOptions: [String] = []

  @Option(help: "Folder of zero-shot-array.sbatch and merge.sbatch; default: the repository's cluster/slurm.")
  var scriptsDir: String?

  @Flag(help: "Submit both jobs with sbatch and print their IDs, instead of printing the script.")
  var submit = false

  @Argument(parsing: .postTerminator, help: "After --: the zero-shot options every shard runs with (--model, --tasks, --data-dir, …).")
  var zeroShotArguments: [String] = []

  func validate() throws {
    try CLIErrors.oneLine {
      let owned = ["--shard", "--output-dir", "--threads"]
      if let taken = zeroShotArguments.first(where: { arg in owned.contains { arg == $0 || arg.hasPrefix($0 + "=") } }) {
        throw ValidationError("\(taken) after -- is set by ltm-bench slurm itself (--shard auto, --output-dir BASE/shard-{shard}, --threads)")
      }
      guard !zeroShotArguments.isEmpty else { throw ValidationError("give the zero-shot options after --, e.g. -- --model M --tasks ptb") }
      // Parse them now, as each element will: a typo should fail here, not in every array element.
      do {
        _ = try ZeroShot.parse(zeroShotArguments + ["--shard", "0/\(max(shards, 1))", "--output-dir", outputDir, "--threads", String(max(threads, 1))])
      } catch {
        throw ValidationError("the zero-shot options after -- do not parse: \(ZeroShot.message(for: error))")
      }
    }
  }

  func run() throws {
    let plan = try CLIErrors.oneLine {
      try SlurmPlan(
        shards: shards, baseDirectory: outputDir, threads: threads, partition: partition, time: time, memory: mem,
        sbatchOptions: sbatchOptions, zeroShotArguments: zeroShotArguments,
        scriptsDirectory: try scriptsDir.map { URL(fileURLWithPath: $0) } ?? DefaultPaths.repositoryFolder("cluster/slurm"),
        executable: URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path)
    }
    guard submit else {
      print(plan.shellScript, terminator: "")
      return
    }
    let jobs = try CLIErrors.oneLine { try plan.submit() }
    print("array job \(jobs.arrayJob) (\(shards) shards), merge job \(jobs.mergeJob)")
    print("follow it with: ltm-bench status \(outputDir)")
  }
}
