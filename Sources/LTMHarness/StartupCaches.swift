import Crypto
import Foundation
import LTMDownload

/// Work a second run need not repeat, kept under the cache directory (`$LTM_BENCH_HOME`, default
/// `~/.cache/ltm-bench`): file digests (`digests/`) and tokenized splits (`tokens/`). Every entry is written
/// atomically (temp file + rename) and verified when read; a damaged or stale entry is recomputed, never trusted.
/// A cache that cannot be written only costs speed: the run goes on with the values it computed.
enum StartupCaches {
  /// Off when `LTM_BENCH_NO_STARTUP_CACHE=1` (benchmarks of a cold start).
  static var enabled: Bool { ProcessInfo.processInfo.environment["LTM_BENCH_NO_STARTUP_CACHE"] != "1" }

  static var root: URL { DataCache.defaultRoot() }

  /// Writes `data` to `url` atomically, creating the folder; failures are ignored (a cache is an optimisation).
  static func store(_ data: Data, at url: URL) {
    try? FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    try? data.write(to: url, options: .atomic)
  }
}

/// SHA-256 of a file, reused while the file is provably unchanged: same path, device, inode, size, modification
/// and status-change times (nanoseconds). `ctime` cannot be set back by a user, so a rewrite that restores the
/// old mtime still invalidates the entry.
enum DigestCache {
  struct Entry: Codable, Equatable {
    var path: String
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mtimeNanoseconds: Int64
    var ctimeNanoseconds: Int64
    var sha256: String?
  }

  /// The identity of the file as it is now, or nil when it cannot be stat'ed.
  static func identity(of url: URL) -> Entry? {
    var s = stat()
    let path = url.standardizedFileURL.path
    guard stat(path, &s) == 0 else { return nil }
    return Entry(
      path: path, device: UInt64(s.st_dev), inode: UInt64(s.st_ino), size: Int64(s.st_size),
      mtimeNanoseconds: Int64(s.st_mtim.tv_sec) * 1_000_000_000 + Int64(s.st_mtim.tv_nsec),
      ctimeNanoseconds: Int64(s.st_ctim.tv_sec) * 1_000_000_000 + Int64(s.st_ctim.tv_nsec), sha256: nil)
  }

  /// The digest from the cache when the entry matches the file's identity, else computed by `compute` and stored.
  static func sha256(of url: URL, compute: () throws -> (hex: String, bytes: Int)) throws -> (hex: String, bytes: Int) {
    guard StartupCaches.enabled, let now = identity(of: url) else { return try compute() }
    let entryURL = StartupCaches.root.appendingPathComponent("digests")
      .appendingPathComponent(Digests.sha256(string: now.path) + ".json")
    if let data = try? Data(contentsOf: entryURL), let cached = try? JSONDecoder().decode(Entry.self, from: data),
       let hex = cached.sha256, hex.count == 64, hex.allSatisfy(\.isHexDigit)
    {
      var unhashed = cached
      unhashed.sha256 = nil
      if unhashed == now { return (hex, Int(now.size)) }
    }
    let computed = try compute()
    // Store only if the file did not change while it was read.
    if var after = identity(of: url), after == now, computed.bytes == Int(now.size) {
      after.sha256 = computed.hex
      if let data = try? JSONEncoder().encode(after) { StartupCaches.store(data, at: entryURL) }
    }
    return computed
  }
}

/// A tokenized split, keyed by everything its token ids depend on: the task's reading rules, the data files'
/// digests, the tokenizer files' digests and the tool version. Stored as little-endian binary with a trailing
/// SHA-256 of the payload, checked on every read.
enum TokenCache {
  private static let magic = Data("LTMTOK01".utf8)

  static func url(key: String) -> URL {
    StartupCaches.root.appendingPathComponent("tokens").appendingPathComponent(key + ".bin")
  }

  /// Per-example token ids, or nil when there is no valid entry.
  static func load(key: String) -> [[Int32]]? {
    guard StartupCaches.enabled, let data = try? Data(contentsOf: url(key: key), options: .mappedIfSafe) else { return nil }
    return decode(data)
  }

  static func store(_ ids: [[Int32]], key: String) {
    guard StartupCaches.enabled else { return }
    StartupCaches.store(encode(ids), at: url(key: key))
  }

  static func encode(_ ids: [[Int32]]) -> Data {
    var out = magic
    func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
    append(UInt64(ids.count))
    for e in ids { append(UInt32(e.count)) }
    for e in ids { for t in e { append(t) } }
    out.append(contentsOf: SHA256.hash(data: out))
    return out
  }

  /// Checks the magic, the sizes and the checksum before trusting a byte.
  static func decode(_ data: Data) -> [[Int32]]? {
    let digestSize = 32
    guard data.count >= magic.count + 8 + digestSize, data.prefix(magic.count) == magic else { return nil }
    let payload = data.prefix(data.count - digestSize)
    guard Data(SHA256.hash(data: payload)) == data.suffix(digestSize) else { return nil }
    return payload.withUnsafeBytes { raw -> [[Int32]]? in
      var offset = magic.count
      func read<T: FixedWidthInteger>(_: T.Type) -> T? {
        guard offset + MemoryLayout<T>.size <= raw.count else { return nil }
        defer { offset += MemoryLayout<T>.size }
        return T(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: T.self))
      }
      guard let count = read(UInt64.self), count <= UInt64(raw.count / 4) else { return nil }
      var lengths: [Int] = []
      lengths.reserveCapacity(Int(count))
      for _ in 0..<count {
        guard let n = read(UInt32.self) else { return nil }
        lengths.append(Int(n))
      }
      let total = lengths.reduce(0, +)
      guard offset + total * 4 == raw.count else { return nil }
      return lengths.map { n in
        (0..<n).map { _ in read(Int32.self)! }
      }
    }
  }
}
