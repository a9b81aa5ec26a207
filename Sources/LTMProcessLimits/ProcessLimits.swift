import CLTMPlatform
import Foundation

/// CPUs this process may use: its affinity mask, capped by a cgroup CPU quota (containers, Slurm, Kubernetes
/// limits), not the host's count.
public enum UsableCPUs {
  public static let count: Int = {
    let affinity = Int(ltm_affinity_cpu_count())
    let base = affinity > 0 ? affinity : ProcessInfo.processInfo.activeProcessorCount
    guard let quota = cgroupQuota() else { return max(1, base) }
    return max(1, min(base, quota))
  }()

  /// ⌈quota / period⌉ of the tightest limit on this process's cgroup path (v2 `cpu.max`, v1 `cpu.cfs_quota_us`).
  static func cgroupQuota() -> Int? {
    let limits = CgroupFiles.limits(v2: { dir in
      let parts = (CgroupFiles.read(dir + "/cpu.max") ?? "").split(separator: " ")
      guard parts.count == 2, let q = Double(parts[0]), let p = Double(parts[1]), q > 0, p > 0 else { return nil }
      return (q / p).rounded(.up)
    }, v1Controller: "cpu", v1Roots: ["/sys/fs/cgroup/cpu,cpuacct", "/sys/fs/cgroup/cpu"]) { dir in
      guard let q = CgroupFiles.read(dir + "/cpu.cfs_quota_us").flatMap(Double.init), q > 0,
        let p = CgroupFiles.read(dir + "/cpu.cfs_period_us").flatMap(Double.init), p > 0
      else { return nil }
      return (q / p).rounded(.up)
    }
    return limits.min().map { Int($0) }
  }
}

/// Memory this process may use, the bound every size read from a file is checked against before it is allocated:
/// physical memory, capped by the tightest cgroup memory limit on the process's path (v2 `memory.max`, v1
/// `memory.limit_in_bytes`: containers, Slurm's `--mem`, Kubernetes limits) and by `LTM_BENCH_MEMORY_LIMIT`
/// (bytes, or with a K, M, G or T suffix in powers of 1024: for sharing a node with other jobs).
public enum UsableMemory {
  public struct Limit: Sendable, Equatable {
    public var bytes: UInt64
    /// Where the limit comes from, for messages: "physical memory", "cgroup memory limit", "LTM_BENCH_MEMORY_LIMIT".
    public var source: String

    public init(bytes: UInt64, source: String) {
      self.bytes = bytes
      self.source = source
    }

    /// The one wording of every refusal against this limit: "`subject` needs an estimated 1.5 GiB (… bytes) for
    /// `what`, more than the 1.0 GiB this process may use (`source`)".
    public func refusal(_ subject: String, needs bytes: UInt64, for what: String) -> String {
      "\(subject) needs an estimated \(UsableMemory.describe(bytes: bytes)) (\(bytes) bytes) for \(what), more than the "
        + "\(UsableMemory.describe(bytes: self.bytes)) this process may use (\(source))"
    }
  }

  /// The tightest limit. Throws only when `LTM_BENCH_MEMORY_LIMIT` is set to something that is not a size.
  public static func limit(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> Limit {
    var best = Limit(bytes: ProcessInfo.processInfo.physicalMemory, source: "physical memory")
    if let cgroup = cgroupLimit(), cgroup < best.bytes { best = Limit(bytes: cgroup, source: "cgroup memory limit") }
    if let text = environment["LTM_BENCH_MEMORY_LIMIT"] {
      guard let bytes = parseSize(text) else {
        throw MemoryLimitError(message: "LTM_BENCH_MEMORY_LIMIT '\(text)' is not a size (bytes, or a number with K, M, G or T)")
      }
      if bytes < best.bytes { best = Limit(bytes: bytes, source: "LTM_BENCH_MEMORY_LIMIT") }
    }
    return best
  }

  /// `1234`, `512M`, `1.5G` (powers of 1024); nil for anything else, zero or negative.
  static func parseSize(_ text: String) -> UInt64? {
    let trimmed = text.trimmingCharacters(in: .whitespaces).uppercased()
    let units: [Character: Double] = ["K": 1024, "M": 1024 * 1024, "G": 1024 * 1024 * 1024, "T": 1024 * 1024 * 1024 * 1024]
    var number = Substring(trimmed), scale = 1.0
    if let last = trimmed.last, let unit = units[last] { (number, scale) = (trimmed.dropLast(), unit) }
    if number.hasSuffix("I") || number.hasSuffix("B") { return nil }
    guard let value = Double(number), value.isFinite, value > 0, value * scale < 1.8e19 else { return nil }
    return UInt64(value * scale)
  }

  /// The smallest cgroup memory limit on the process's path; nil when none is set ("max", or v1's huge default).
  static func cgroupLimit() -> UInt64? {
    func bytes(_ file: String) -> Double? {
      guard let text = CgroupFiles.read(file), let value = Double(text), value > 0, value < 1e18 else { return nil }
      return value
    }
    let limits = CgroupFiles.limits(
      v2: { bytes($0 + "/memory.max") }, v1Controller: "memory", v1Roots: ["/sys/fs/cgroup/memory"],
      v1: { bytes($0 + "/memory.limit_in_bytes") })
    return limits.min().map { UInt64($0) }
  }

  /// "12.3 GiB" for messages.
  public static func describe(bytes: UInt64) -> String {
    let gib = Double(bytes) / Double(1 << 30)
    return gib >= 1 ? String(format: "%.1f GiB", gib) : String(format: "%.1f MiB", Double(bytes) / Double(1 << 20))
  }
}

public struct MemoryLimitError: Error, CustomStringConvertible {
  public var message: String
  public var description: String { message }
}

/// Reads limits from the cgroup folders of this process (`/proc/self/cgroup`), every level from its own folder up
/// to the root, since a parent's limit binds too.
enum CgroupFiles {
  static func read(_ path: String) -> String? {
    (try? String(contentsOfFile: path, encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines)
  }

  /// Every limit `v2` (unified hierarchy) or `v1` (the named controller's hierarchy under `v1Roots`) finds.
  static func limits(
    v2: (String) -> Double?, v1Controller: String, v1Roots: [String], v1: (String) -> Double?
  ) -> [Double] {
    guard let membership = read("/proc/self/cgroup") else { return [] }
    var found: [Double] = []
    for line in membership.split(separator: "\n") {
      let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
      guard fields.count == 3 else { continue }
      let controllers = fields[1], path = String(fields[2])
      if controllers.isEmpty {
        found += along(path, root: "/sys/fs/cgroup", read: v2)
      } else if controllers.split(separator: ",").contains(Substring(v1Controller)) {
        for root in v1Roots { found += along(path, root: root, read: v1) }
      }
    }
    return found
  }

  private static func along(_ path: String, root: String, read: (String) -> Double?) -> [Double] {
    var found: [Double] = []
    var components = path.split(separator: "/").map(String.init)
    while true {
      if let value = read(([root] + components).joined(separator: "/")) { found.append(value) }
      if components.isEmpty { break }
      components.removeLast()
    }
    return found
  }
}
