import Crypto
import Foundation
import LTMReports

/// SHA-256 provenance for checkpoints, data files and token streams.
enum Digests {
  /// The file's SHA-256: from the digest cache while the file is provably unchanged (`DigestCache`), else hashed.
  static func sha256(file url: URL) throws -> (hex: String, bytes: Int) {
    try DigestCache.sha256(of: url) { try hashFile(url) }
  }

  /// Streams the file in 8 MiB chunks, so multi-GB checkpoints are hashed without being loaded.
  static func hashFile(_ url: URL) throws -> (hex: String, bytes: Int) {
    guard let handle = FileHandle(forReadingAtPath: url.path) else { throw HarnessError.unreadable(url.path) }
    defer { try? handle.close() }
    var hasher = SHA256()
    var total = 0
    while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty {
      hasher.update(data: chunk)
      total += chunk.count
    }
    return (hex(hasher.finalize()), total)
  }

  /// The digest of a file, with its path relative to `base` when it lies below it.
  static func fileDigest(_ url: URL, relativeTo base: URL?) throws -> FileDigest {
    let (sha, bytes) = try sha256(file: url)
    var path = url.standardizedFileURL.path
    if let base {
      let prefix = base.standardizedFileURL.path.hasSuffix("/") ? base.standardizedFileURL.path : base.standardizedFileURL.path + "/"
      if path.hasPrefix(prefix) { path.removeFirst(prefix.count) }
    }
    return FileDigest(path: path, bytes: bytes, sha256: sha)
  }

  /// SHA-256 of int32 tokens as little-endian bytes (the layout of the fixtures' `sha256_int32le_blocks`).
  static func sha256(int32LE tokens: ArraySlice<Int32>) -> String {
    var hasher = SHA256()
    tokens.withUnsafeBufferPointer { buf in
      if Int32(littleEndian: 1) == 1 {
        hasher.update(bufferPointer: UnsafeRawBufferPointer(buf))
      } else {
        let swapped = buf.map { $0.littleEndian }
        swapped.withUnsafeBytes { hasher.update(bufferPointer: $0) }
      }
    }
    return hex(hasher.finalize())
  }

  static func sha256(string: String) -> String { hex(SHA256.hash(data: Data(string.utf8))) }

  static func sha256(data: Data) -> String { hex(SHA256.hash(data: data)) }

  /// A 64-bit seed from text: the first 8 bytes of its SHA-256, little-endian.
  static func seed(_ text: String) -> UInt64 {
    SHA256.hash(data: Data(text.utf8)).prefix(8).enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
  }

  private static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
  }
}
