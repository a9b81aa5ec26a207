/// The tool version written into every report.
public enum LTMBenchVersion {
  public static let current = "0.1.0"
}

import LTMTensor

/// Process-wide settings the CLI applies before any work.
public enum HarnessSettings {
  /// OpenBLAS threads (also used by `ZeroShotRunner` from its configuration).
  public static func setThreads(_ n: Int) { BLAS.threads = n }
}
