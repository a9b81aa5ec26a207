import CBLAS
import CLTMPlatform
import Foundation

/// The instruction-set generations OpenBLAS writes kernels for. A core whose tier is below what the CPU can run is a
/// fallback: OpenBLAS 0.3.21 reports `Prescott` (SSE3) on CPUs newer than its build and runs 4–6× slower sgemm.
public enum KernelTier: Int, Comparable, Sendable, Codable {
  case sse3 = 0, avx, avx2, avx512

  public static func < (a: KernelTier, b: KernelTier) -> Bool { a.rawValue < b.rawValue }

  /// The tier of an OpenBLAS core name (`openblas_get_corename()`), nil for a name this table does not know: a
  /// newer OpenBLAS may name newer cores, and those are never second-guessed.
  public static func of(core name: String) -> KernelTier? {
    switch name.lowercased() {
    case "skylakex", "cooperlake", "sapphirerapids": return .avx512
    case "haswell", "zen": return .avx2
    case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return .avx
    case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "opteron", "opteron_sse3", "barcelona",
      "bobcat", "nano", "katmai", "coppermine", "northwood", "banias", "athlon", "generic":
      return .sse3
    default: return nil
    }
  }
}

/// What the CPU can run, from CPUID (vector extensions count only when the OS saves their registers).
public struct CPUFeatures: Sendable, Equatable {
  public var vendor: String
  public var family: Int, model: Int
  public var avx: Bool, avx2: Bool, fma: Bool
  public var avx512f: Bool, avx512bw: Bool, avx512vl: Bool, avx512dq: Bool

  public init(vendor: String, family: Int, model: Int, avx: Bool, avx2: Bool, fma: Bool,
              avx512f: Bool = false, avx512bw: Bool = false, avx512vl: Bool = false, avx512dq: Bool = false) {
    (self.vendor, self.family, self.model, self.avx, self.avx2, self.fma) = (vendor, family, model, avx, avx2, fma)
    (self.avx512f, self.avx512bw, self.avx512vl, self.avx512dq) = (avx512f, avx512bw, avx512vl, avx512dq)
  }

  public static let current: CPUFeatures = {
    let f = ltm_cpu_detect()
    return CPUFeatures(
      vendor: f.is_amd != 0 ? "AMD" : f.is_intel != 0 ? "Intel" : "other", family: Int(f.family), model: Int(f.model),
      avx: f.avx != 0, avx2: f.avx2 != 0, fma: f.fma != 0, avx512f: f.avx512f != 0, avx512bw: f.avx512bw != 0,
      avx512vl: f.avx512vl != 0, avx512dq: f.avx512dq != 0)
  }()

  /// The newest OpenBLAS kernel family this CPU runs, with the core name that selects it:
  /// AVX-512F+BW+VL+DQ → SkylakeX; AVX2+FMA → Zen on AMD, Haswell elsewhere; AVX → Sandybridge.
  public var bestKernels: (tier: KernelTier, core: String) {
    if avx512f && avx512bw && avx512vl && avx512dq { return (.avx512, "SkylakeX") }
    if avx2 && fma { return (.avx2, vendor == "AMD" ? "Zen" : "Haswell") }
    if avx { return (.avx, "Sandybridge") }
    return (.sse3, "Prescott")
  }

  /// "AMD family 25 model 17 (AVX-512)" for reports.
  public var summary: String {
    let best: String
    switch bestKernels.tier {
    case .avx512: best = "AVX-512"
    case .avx2: best = "AVX2+FMA"
    case .avx: best = "AVX"
    case .sse3: best = "SSE3"
    }
    return "\(vendor) family \(family) model \(model) (\(best))"
  }
}

/// How OpenBLAS's kernels were chosen for this process, recorded in every report's provenance.
public struct BLASKernelStatus: Codable, Sendable, Equatable {
  /// The core whose kernels run (`openblas_get_corename()`).
  public var core: String
  /// `detected` (OpenBLAS's own CPUID choice), `corrected` (ltm-bench replaced a fallback core),
  /// `user` (OPENBLAS_CORETYPE set by the user), `fallback` (an old core that could not be corrected).
  public var selectedBy: String
  /// The core OpenBLAS detected before ltm-bench corrected it.
  public var detectedCore: String?
  /// The CPU, as CPUID describes it.
  public var cpu: String
  /// One line for stderr when the kernels are older than the CPU allows and nothing could change that.
  public var warning: String?

  enum CodingKeys: String, CodingKey {
    case core, selectedBy = "selected_by", detectedCore = "detected_core", cpu, warning
  }
}

/// Makes OpenBLAS use the newest kernels the CPU can run, and park its idle threads quickly, without ever
/// overriding the user.
///
/// OpenBLAS (DYNAMIC_ARCH builds) picks its kernel table once, in the shared library's constructor, from CPUID or
/// from `OPENBLAS_CORETYPE`, and starts its thread pool there with `OPENBLAS_THREAD_TIMEOUT`; there is no API to
/// change either afterwards. So the process re-executes itself once, first thing in `main`, with the variables set
/// and a marker that stops a second re-exec and tells the new process what was corrected. The alternatives were
/// worse: `dlopen`-ing OpenBLAS after setting the variables would replace the SwiftPM system-library link for every
/// module, and a wrapper script would not cover `swift run` or a copied binary. The cost is one `execv` (a few
/// milliseconds) at start-up, never on the hot path.
///
/// Why the thread timeout: OpenBLAS's idle workers spin (`sched_yield`) for 2^28 cycles, about 0.1 s, after every
/// GEMM. Between GEMMs the row kernels (layer norms, softmax, the output log-sum-exp) run on every core, so the
/// spinning workers steal their cycles: on 2 cores GPT-2-small scoring was 10–14% slower. 2^12 cycles is enough to
/// catch back-to-back GEMMs.
public enum BLASKernelSelection {
  /// Set by ltm-bench on its re-executed self: the core OpenBLAS had detected, when it was corrected.
  public static let correctedFromVariable = "LTM_BENCH_BLAS_CORRECTED_FROM"
  /// Set on the re-executed process: never re-execute again.
  public static let reexecutedVariable = "LTM_BENCH_REEXECUTED"
  /// Test hook: treat OPENBLAS_CORETYPE as what OpenBLAS detected, so the correction runs on any machine.
  public static let pretendDetectedVariable = "LTM_BENCH_TEST_CORETYPE_IS_DETECTED"
  /// log2 of the cycles an idle OpenBLAS worker spins before it sleeps (OpenBLAS's default is 28).
  public static let threadTimeout = "12"

  public enum Decision: Equatable, Sendable {
    /// Keep the process as it is.
    case keep(BLASKernelStatus)
    /// Re-execute with these variables added.
    case reexecute(environment: [String: String])
  }

  /// The pure decision, from the environment, the core in use, OpenBLAS's build string and the CPU.
  public static func decide(environment env: [String: String], coreInUse: String, buildConfiguration: String, cpu: CPUFeatures) -> Decision {
    let (status, correction) = coreStatus(environment: env, coreInUse: coreInUse, buildConfiguration: buildConfiguration, cpu: cpu)
    guard env[reexecutedVariable] != "1" else { return .keep(status) }
    var additions: [String: String] = [:]
    if let correction {
      additions["OPENBLAS_CORETYPE"] = correction
      additions[correctedFromVariable] = coreInUse
    }
    if env["OPENBLAS_THREAD_TIMEOUT"] == nil && env["GOTO_THREAD_TIMEOUT"] == nil {
      additions["OPENBLAS_THREAD_TIMEOUT"] = threadTimeout
    }
    guard !additions.isEmpty else { return .keep(status) }
    additions[reexecutedVariable] = "1"
    return .reexecute(environment: additions)
  }

  /// How the kernels in use were chosen, and the core to switch to when they are a fallback that can be corrected.
  static func coreStatus(environment env: [String: String], coreInUse: String, buildConfiguration: String, cpu: CPUFeatures)
    -> (BLASKernelStatus, correction: String?)
  {
    let best = cpu.bestKernels
    let isFallback = KernelTier.of(core: coreInUse).map { $0 < best.tier } ?? false
    func status(_ selectedBy: String, detected: String? = nil, warning: String? = nil) -> BLASKernelStatus {
      BLASKernelStatus(core: coreInUse, selectedBy: selectedBy, detectedCore: detected, cpu: cpu.summary, warning: warning)
    }
    func unfixable(_ why: String) -> String {
      "warning: OpenBLAS runs \(coreInUse) kernels on a CPU that can run \(best.core) (\(cpu.summary)); \(why): matmuls may be several times slower"
    }
    if let from = env[correctedFromVariable], !from.isEmpty {
      let s = isFallback
        ? status("fallback", detected: from, warning: unfixable("setting OPENBLAS_CORETYPE=\(best.core) did not take effect"))
        : status("corrected", detected: from)
      return (s, nil)
    }
    let userCore = env["OPENBLAS_CORETYPE"].flatMap { $0.isEmpty ? nil : $0 }
    if userCore != nil && env[pretendDetectedVariable] != "1" { return (status("user"), nil) }
    guard isFallback else { return (status("detected"), nil) }
    guard buildConfiguration.contains("DYNAMIC_ARCH") else {
      return (status("fallback", warning: unfixable("this OpenBLAS build has one kernel set (no DYNAMIC_ARCH)")), nil)
    }
    if env[reexecutedVariable] == "1" {
      return (status("fallback", warning: unfixable("ltm-bench could not re-execute itself with OPENBLAS_CORETYPE=\(best.core)")), nil)
    }
    let pending = status(
      "fallback", warning: "warning: OpenBLAS runs \(coreInUse) kernels on a CPU that can run \(best.core); set OPENBLAS_CORETYPE=\(best.core) for full speed")
    return (pending, best.core)
  }

  /// The core OpenBLAS loaded for this process.
  public static var coreInUse: String {
    guard let name = openblas_get_corename() else { return "unknown" }
    return String(cString: name).trimmingCharacters(in: .whitespaces)
  }

  /// This process's status (after any correction): for reports and `bench`. In a process that never called
  /// `correctAtStartup` (tests, library users), a fallback is reported as such, with the variable that fixes it.
  public static var current: BLASKernelStatus {
    coreStatus(environment: ProcessInfo.processInfo.environment, coreInUse: coreInUse, buildConfiguration: BLAS.configuration, cpu: .current).0
  }

  /// Called first thing in `main`: re-executes the process once with OpenBLAS's load-time variables set (see above).
  /// Returns only when no re-exec is needed or it failed; the returned status carries any warning.
  public static func correctAtStartup() -> BLASKernelStatus {
    let env = ProcessInfo.processInfo.environment
    switch decide(environment: env, coreInUse: coreInUse, buildConfiguration: BLAS.configuration, cpu: .current) {
    case .keep(let status):
      return status
    case .reexecute(let additions):
      for (name, value) in additions { setenv(name, value, 1) }
      execv("/proc/self/exe", CommandLine.unsafeArgv)
      // execv returned: it failed. Put the environment back so the status below reports any fallback honestly.
      let failure = errno
      for name in additions.keys where env[name] == nil { unsetenv(name) }
      var status = current
      status.warning = status.warning.map { $0 + " (re-executing failed: errno \(failure))" }
      return status
    }
  }
}
