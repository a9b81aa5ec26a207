import Foundation
import LTMProcessLimits
import LTMTensor

/// Process-wide settings the CLI applies before any work: OpenBLAS's kernels and the thread count.
public enum HarnessSettings {
  /// Re-executes the process when OpenBLAS fell back to kernels older than the CPU can run (see
  /// `BLASKernelSelection`); call first thing in `main`. Returns the one warning line for a fallback that could not
  /// be corrected, nil otherwise.
  public static func correctBLASKernels() -> String? { BLASKernelSelection.correctAtStartup().warning }

  /// The BLAS kernels in use, for reports and `bench`.
  public static var blasKernels: BLASKernelStatus { BLASKernelSelection.current }

  /// "threads=2 blas=SkylakeX": what a block's last bits depend on besides its inputs, stored with each block.
  public static var computeSignature: String { "threads=\(BLAS.threads) blas=\(BLASKernelSelection.coreInUse)" }

  /// The one route by which a thread count reaches OpenBLAS and the row kernels.
  public static func setThreads(_ n: Int) { BLAS.threads = n }
}

/// `--threads`: every command that computes defaults to the CPUs this process may use.
public enum ThreadCount {
  /// CPUs in the affinity mask, capped by the cgroup CPU quota.
  public static var usable: Int { UsableCPUs.count }

  /// `--threads` as given, or every usable CPU when omitted.
  public static func resolve(_ requested: Int?) throws -> Int {
    guard let n = requested else { return usable }
    try validate(n)
    return n
  }

  /// At least 1; at most 4× the usable CPUs (more only adds contention and memory for per-thread scratch).
  public static func validate(_ n: Int) throws {
    guard n >= 1 else { throw HarnessError.invalidArgument("--threads must be at least 1, got \(n)") }
    let limit = 4 * usable
    guard n <= limit else {
      throw HarnessError.invalidArgument(
        "--threads \(n) is more than 4× the \(usable) CPUs this process may use (affinity mask and cgroup quota); use at most \(limit)")
    }
  }
}
