import ArgumentParser
import Foundation
import LTMHarness

/// The `ltm-bench` command: argument parsing and printing only; all work happens in the LTMHarness library.
struct LTMBench: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ltm-bench",
    abstract: "Score LTM, GPT-2 and discrete-diffusion checkpoints under named, reproducible protocols.",
    version: LTMBenchVersionString.value,
    subcommands: [ZeroShot.self, FewShot.self, MauveCommand.self, Compare.self, Merge.self, Status.self, Slurm.self, Baseline.self, Report.self, Bench.self, Download.self])
}

// Before anything else: OpenBLAS picked its kernels when it was loaded; this may re-execute the process once.
BLASKernelWarning.pending = HarnessSettings.correctBLASKernels()
// A bad command line is one `error:` line and exit 1, as every other failure; help and version print as usual.
do {
  var command = try LTMBench.parseAsRoot()
  try command.run()
} catch {
  // Only usage errors (ArgumentParser's exit 64) are reworded; help, version and failures already printed pass on.
  guard LTMBench.exitCode(for: error) == .validationFailure else { LTMBench.exit(withError: error) }
  let message = LTMBench.message(for: error).split(separator: "\n").joined(separator: " ")
  FileHandle.standardError.write(Data("error: \(message)\n".utf8))
  LTMBench.exit(withError: ExitCode.failure)
}
