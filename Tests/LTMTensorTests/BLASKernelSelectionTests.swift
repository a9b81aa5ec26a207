import LTMProcessLimits
import XCTest
@testable import LTMTensor

/// The kernel-selection decision, for every case a user can be in (the re-exec itself is exercised end to end by
/// `KernelSelectionCommandLineTests`).
final class BLASKernelSelectionTests: XCTestCase {
  private let build = "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH NO_AFFINITY Prescott MAX_THREADS=64"
  private let emeraldRapids = CPUFeatures(
    vendor: "Intel", family: 6, model: 207, avx: true, avx2: true, fma: true, avx512f: true, avx512bw: true, avx512vl: true,
    avx512dq: true)
  private let zen3 = CPUFeatures(vendor: "AMD", family: 25, model: 1, avx: true, avx2: true, fma: true)

  func testFallbackOnAVX512IsCorrectedToSkylakeX() {
    let d = BLASKernelSelection.decide(environment: [:], coreInUse: "Prescott", buildConfiguration: build, cpu: emeraldRapids)
    XCTAssertEqual(d, .reexecute(environment: reexec(["OPENBLAS_CORETYPE": "SkylakeX", "LTM_BENCH_BLAS_CORRECTED_FROM": "Prescott"])))
  }

  /// The variables every re-exec sets besides the named ones: the thread timeout and the loop guard.
  private func reexec(_ extra: [String: String]) -> [String: String] {
    extra.merging(["OPENBLAS_THREAD_TIMEOUT": "12", "LTM_BENCH_REEXECUTED": "1"]) { a, _ in a }
  }

  /// What a re-executed process sees: the guard set, so it keeps whatever it has.
  private let done = ["LTM_BENCH_REEXECUTED": "1", "OPENBLAS_THREAD_TIMEOUT": "12"]

  func testTheThreadTimeoutIsSetOnceAndTheUsersValueWins() {
    let d = BLASKernelSelection.decide(environment: [:], coreInUse: "SkylakeX", buildConfiguration: build, cpu: emeraldRapids)
    XCTAssertEqual(d, .reexecute(environment: reexec([:])))
    for env in [["OPENBLAS_THREAD_TIMEOUT": "28"], ["GOTO_THREAD_TIMEOUT": "20"], done] {
      guard case .keep(let s) = BLASKernelSelection.decide(environment: env, coreInUse: "SkylakeX", buildConfiguration: build, cpu: emeraldRapids) else {
        return XCTFail("re-executed although \(env) was set")
      }
      XCTAssertEqual(s.selectedBy, "detected")
    }
  }

  func testFallbackOnZenIsCorrectedToZen() {
    let d = BLASKernelSelection.decide(environment: [:], coreInUse: "Sandybridge", buildConfiguration: build, cpu: zen3)
    XCTAssertEqual(d, .reexecute(environment: reexec(["OPENBLAS_CORETYPE": "Zen", "LTM_BENCH_BLAS_CORRECTED_FROM": "Sandybridge"])))
  }

  func testRightOrNewerOrUnknownCoresAreKept() {
    for core in ["SkylakeX", "Cooperlake", "SapphireRapids", "Zen5Future"] {
      guard case .keep(let s) = BLASKernelSelection.decide(environment: done, coreInUse: core, buildConfiguration: build, cpu: emeraldRapids) else {
        return XCTFail("\(core) should be kept")
      }
      XCTAssertEqual(s.selectedBy, "detected")
      XCTAssertNil(s.warning)
    }
    guard case .keep(let zen) = BLASKernelSelection.decide(environment: done, coreInUse: "Haswell", buildConfiguration: build, cpu: zen3) else {
      return XCTFail("Haswell kernels on Zen 3 are the AVX2 tier")
    }
    XCTAssertEqual(zen.selectedBy, "detected")
  }

  func testTheUsersCoreTypeAlwaysWins() {
    let d = BLASKernelSelection.decide(
      environment: ["OPENBLAS_CORETYPE": "Prescott", "OPENBLAS_THREAD_TIMEOUT": "28"], coreInUse: "Prescott", buildConfiguration: build,
      cpu: emeraldRapids)
    guard case .keep(let s) = d else { return XCTFail("the user's OPENBLAS_CORETYPE was overridden: \(d)") }
    XCTAssertEqual(s.selectedBy, "user")
    XCTAssertNil(s.warning)
  }

  func testAfterTheReexecTheCorrectionIsRecordedAndNeverRepeated() {
    let env = done.merging(["OPENBLAS_CORETYPE": "SkylakeX", "LTM_BENCH_BLAS_CORRECTED_FROM": "Prescott"]) { a, _ in a }
    guard case .keep(let ok) = BLASKernelSelection.decide(environment: env, coreInUse: "SkylakeX", buildConfiguration: build, cpu: emeraldRapids) else {
      return XCTFail("re-executed twice")
    }
    XCTAssertEqual(ok.selectedBy, "corrected")
    XCTAssertEqual(ok.detectedCore, "Prescott")
    // The variable did not take effect: one warning, no second re-exec (no loop).
    guard case .keep(let stuck) = BLASKernelSelection.decide(environment: env, coreInUse: "Prescott", buildConfiguration: build, cpu: emeraldRapids) else {
      return XCTFail("re-exec loop")
    }
    XCTAssertEqual(stuck.selectedBy, "fallback")
    XCTAssertTrue(stuck.warning?.hasPrefix("warning: OpenBLAS runs Prescott kernels") ?? false, stuck.warning ?? "no warning")
    XCTAssertEqual(stuck.warning?.contains("\n"), false)
  }

  func testAStaticBuildThatFellBackWarnsOnce() {
    let d = BLASKernelSelection.decide(
      environment: ["OPENBLAS_THREAD_TIMEOUT": "28"], coreInUse: "Prescott", buildConfiguration: "OpenBLAS 0.3.21 NO_AFFINITY Prescott MAX_THREADS=64",
      cpu: emeraldRapids)
    guard case .keep(let s) = d else { return XCTFail("a static build cannot be re-selected: \(d)") }
    XCTAssertEqual(s.selectedBy, "fallback")
    XCTAssertTrue(s.warning?.contains("no DYNAMIC_ARCH") ?? false, s.warning ?? "no warning")
  }

  func testTheTestHookTreatsTheVariableAsDetected() {
    let d = BLASKernelSelection.decide(
      environment: ["OPENBLAS_CORETYPE": "Prescott", "LTM_BENCH_TEST_CORETYPE_IS_DETECTED": "1"], coreInUse: "Prescott",
      buildConfiguration: build, cpu: emeraldRapids)
    XCTAssertEqual(d, .reexecute(environment: reexec(["OPENBLAS_CORETYPE": "SkylakeX", "LTM_BENCH_BLAS_CORRECTED_FROM": "Prescott"])))
  }

  func testTiersAndBestKernels() {
    XCTAssertEqual(KernelTier.of(core: "Prescott"), .sse3)
    XCTAssertEqual(KernelTier.of(core: "SANDYBRIDGE"), .avx)
    XCTAssertEqual(KernelTier.of(core: "Zen"), .avx2)
    XCTAssertEqual(KernelTier.of(core: "Cooperlake"), .avx512)
    XCTAssertNil(KernelTier.of(core: "Zen5Future"))
    XCTAssertEqual(emeraldRapids.bestKernels.core, "SkylakeX")
    XCTAssertEqual(zen3.bestKernels.core, "Zen")
    var noDQ = emeraldRapids
    noDQ.avx512dq = false
    XCTAssertEqual(noDQ.bestKernels.core, "Haswell", "SkylakeX kernels need AVX-512DQ too")
  }

  func testUsableCPUsIsWithinTheMachine() {
    XCTAssertGreaterThanOrEqual(UsableCPUs.count, 1)
    XCTAssertLessThanOrEqual(UsableCPUs.count, ProcessInfo.processInfo.activeProcessorCount)
  }
}
