import Foundation
import LTMTestSupport
import XCTest
import Yams

/// The committed cluster recipes: the Slurm batch scripts, the Kubernetes manifests (same command lines, valid
/// against the Kubernetes schema), the Containerfile, and `ltm-bench slurm`'s output and refusals.
final class ClusterRecipeTests: XCTestCase {
  private let root = SharedData.packageRoot

  private func text(_ relative: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
  }

  private func manifest(_ name: String) throws -> [String: Any] {
    try XCTUnwrap(try Yams.load(yaml: try text("cluster/kubernetes/\(name)")) as? [String: Any], name)
  }

  /// The container of a Job manifest.
  private func container(_ job: [String: Any]) throws -> [String: Any] {
    let spec = try XCTUnwrap(job["spec"] as? [String: Any])
    let template = try XCTUnwrap((spec["template"] as? [String: Any])?["spec"] as? [String: Any])
    return try XCTUnwrap((template["containers"] as? [[String: Any]])?.first)
  }

  /// The words after `"${LTM_BENCH:-ltm-bench}"` on a batch script's exec line (continuation lines joined).
  private func execWords(_ script: String) throws -> [String] {
    let joined = try text("cluster/slurm/\(script)").replacingOccurrences(of: "\\\n", with: " ")
    let line = try XCTUnwrap(joined.split(separator: "\n").first { $0.hasPrefix("exec ") }, script)
    return line.split(separator: " ").dropFirst(2).map { $0.replacingOccurrences(of: "\"", with: "") }
  }

  func testKubernetesCommandLinesAreTheSlurmOnes() throws {
    let job = try manifest("zero-shot-indexed-job.yaml")
    let spec = try XCTUnwrap(job["spec"] as? [String: Any])
    XCTAssertEqual(spec["completionMode"] as? String, "Indexed")
    let completions = try XCTUnwrap(spec["completions"] as? Int)
    XCTAssertLessThanOrEqual(try XCTUnwrap(spec["parallelism"] as? Int), completions)
    let shard = try container(job)
    let command = try XCTUnwrap(shard["command"] as? [String])
    let env = Dictionary(uniqueKeysWithValues: try XCTUnwrap(shard["env"] as? [[String: Any]]).map { ($0["name"] as! String, "\($0["value"]!)") })
    XCTAssertEqual(env["LTM_BENCH_SHARD_COUNT"], String(completions), "Kubernetes does not pass completions: the count must match it")

    // Slurm: zero-shot --shard auto --output-dir $base/shard-{shard} --threads ${SLURM_CPUS_PER_TASK:-1} $@
    let slurm = try execWords("zero-shot-array.sbatch")
    XCTAssertEqual(slurm, ["zero-shot", "--shard", "auto", "--output-dir", "$base/shard-{shard}", "--threads", "${SLURM_CPUS_PER_TASK:-1}", "$@"])
    XCTAssertEqual(command.first, "ltm-bench")
    let outputDir = command[5]
    XCTAssertTrue(outputDir.hasSuffix("/shard-{shard}"), outputDir)
    let base = String(outputDir.dropLast("/shard-{shard}".count))
    let threads = command[7]
    let expected = slurm.prefix(7).map {
      $0.replacingOccurrences(of: "$base", with: base).replacingOccurrences(of: "${SLURM_CPUS_PER_TASK:-1}", with: threads)
    }
    XCTAssertEqual(Array(command[1...7]), expected)
    let limits = try XCTUnwrap((shard["resources"] as? [String: Any])?["limits"] as? [String: Any])
    XCTAssertEqual("\(limits["cpu"]!)", threads, "the CPUs a pod may use are its threads, as --cpus-per-task on Slurm")

    let merge = try XCTUnwrap(try container(try manifest("merge-job.yaml"))["command"] as? [String])
    XCTAssertEqual(try execWords("merge.sbatch"), ["merge", "$base", "--output-dir", "$base/merged"])
    XCTAssertEqual(merge, ["ltm-bench", "merge", base, "--output-dir", base + "/merged"])
  }

  /// kubernetes-validate (PyPI) in a throwaway venv, strict: the committed manifests pass, a broken copy fails.
  func testManifestsValidateAgainstTheKubernetesSchema() throws {
    let broken = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-broken-\(UUID().uuidString).yaml")
    addTeardownBlock { try? FileManager.default.removeItem(at: broken) }
    try text("cluster/kubernetes/zero-shot-indexed-job.yaml").replacingOccurrences(of: "parallelism: 4", with: "parallelism: four")
      .replacingOccurrences(of: "      restartPolicy: Never", with: "      restartPolicy: Never\n      restartPolicyy: Never")
      .write(to: broken, atomically: true, encoding: .utf8)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = ["tools/validate-kubernetes.sh", "cluster/kubernetes/zero-shot-indexed-job.yaml", "cluster/kubernetes/merge-job.yaml", broken.path]
    process.currentDirectoryURL = root
    let pipe = Pipe()
    (process.standardOutput, process.standardError) = (pipe, pipe)
    try process.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    XCTAssertTrue(output.contains("zero-shot-indexed-job.yaml passed for resource job/ltm-bench-zero-shot"), output)
    XCTAssertTrue(output.contains("merge-job.yaml passed for resource job/ltm-bench-merge"), output)
    XCTAssertTrue(output.contains("\(broken.lastPathComponent) did not validate"), output)
    XCTAssertEqual(process.terminationStatus, 1, "the broken copy must fail: \(output)")
  }

  /// Every COPY source exists (the image cannot be built here: no container engine), and the final image has the
  /// folders ltm-bench looks for above its binary.
  func testContainerfileCopiesFilesThatExist() throws {
    let copies = try text("Containerfile").split(separator: "\n").filter { $0.hasPrefix("COPY ") && !$0.contains("--from=") }
    XCTAssertGreaterThanOrEqual(copies.count, 5)
    var sources: [String] = []
    for line in copies {
      let words = line.split(separator: " ").dropFirst().map(String.init)
      sources += words.dropLast()
    }
    for source in sources {
      XCTAssertTrue(FileManager.default.fileExists(atPath: root.appendingPathComponent(source).path), "COPY \(source): not in the repository")
    }
    XCTAssertEqual(Set(sources), ["Package.swift", "Sources", "Tests", "tasks", "cluster"])
    XCTAssertTrue(try text("Containerfile").contains("swift build -c release --product ltm-bench"))
  }

  private func cli(_ args: [String], env: [String: String] = [:]) throws -> CommandLineRunner.Outcome {
    try CommandLineRunner.run(args, besideBundleOf: Self.self, environment: env)
  }

  func testSlurmCommandPrintsTheArrayAndTheMergeJob() throws {
    let model = try SharedData.file("fixtures/gpt2-tiny").path
    let r = try cli(["slurm", "--shards", "4", "--threads", "2", "--output-dir", "/scratch/runs/wt", "--partition", "cpu",
                     "--time", "2:00:00", "--mem", "8G", "--sbatch-option=--account=lab", "--", "--model", model, "--tasks", "ptb"])
    XCTAssertEqual(r.status, 0, r.stderr)
    let script = r.stdout
    for needle in ["mkdir -p /scratch/runs/wt/logs", "--array=0-3", "--cpus-per-task=2", "--requeue", "--partition=cpu",
                   "--time=2:00:00", "--mem=8G", "--account=lab", "cluster/slurm/zero-shot-array.sbatch /scratch/runs/wt --model \(model) --tasks ptb)",
                   "\"--dependency=afterok:$array\" --kill-on-invalid-dep=yes", "cluster/slurm/merge.sbatch /scratch/runs/wt)"] {
      XCTAssertTrue(script.contains(needle), "\(needle) not in:\n\(script)")
    }
    XCTAssertTrue(script.contains("--export=ALL,LTM_BENCH=/"), "the jobs run this binary, by absolute path: \(script)")
  }

  func testBadClusterInputIsOneLineAndExitOne() throws {
    let model = try SharedData.file("fixtures/gpt2-tiny").path
    let data = try SharedData.file("data").path
    let out = FileManager.default.temporaryDirectory.appendingPathComponent("ltm-cluster-\(UUID().uuidString)").path
    addTeardownBlock { try? FileManager.default.removeItem(atPath: out) }
    let zeroShot = ["zero-shot", "--model", model, "--tasks", "ptb", "--split", "test", "--data-dir", data, "--limit-blocks", "2"]
    let cases: [([String], [String: String], String)] = [
      (zeroShot + ["--shard", "auto", "--output-dir", out], [:], "no array index in the environment"),
      (zeroShot + ["--shard", "auto", "--output-dir", out], ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3", "SLURM_ARRAY_TASK_COUNT": "4"], "is not in 0...3"),
      (zeroShot + ["--shard", "4/4", "--output-dir", out], [:], "must be in 0...3"),
      (zeroShot + ["--output-dir", out + "/shard-{shard}"], [:], "which needs --shard"),
      (["fewshot", "--model", model, "--tasks", "lambada", "--shard", "auto", "--output-dir", out], [:], "no array index"),
      (["slurm", "--shards", "4", "--threads", "1", "--output-dir", out, "--", "--model", model, "--tasks", "ptb", "--shard", "0/4"], [:], "--shard after -- is set by ltm-bench slurm itself"),
      (["slurm", "--shards", "4", "--threads", "1", "--output-dir", out, "--", "--model", model, "--taks", "ptb"], [:], "do not parse"),
      (["slurm", "--shards", "4", "--threads", "1", "--output-dir", out], [:], "give the zero-shot options after --"),
      (["slurm", "--shards", "0", "--threads", "1", "--output-dir", out, "--", "--model", model, "--tasks", "ptb"], [:], "--shards must be at least 1"),
      (["slurm", "--shards", "2", "--threads", "1", "--output-dir", out + "/{shard}", "--", "--model", model, "--tasks", "ptb"], [:], "without {shard}"),
      (["status", out + "/nonexistent"], [:], "is not a folder"),
    ]
    for (args, env, needle) in cases {
      let r = try cli(args, env: env)
      XCTAssertEqual(r.status, 1, "\(args): exit \(r.status), stderr: \(r.stderr)")
      XCTAssertEqual(r.errorLines.count, 1, "\(args): \(r.stderr)")
      XCTAssertTrue(r.errorLines.first?.contains(needle) ?? false, "\(args): expected '\(needle)' in \(r.stderr)")
    }
    XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a refused command writes nothing")
  }
}
