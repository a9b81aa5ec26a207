import ArgumentParser
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
LTMBench.main()
