import Crypto
import Foundation

/// Streaming checksums of files on disk (1 MiB reads, so a multi-gigabyte archive never sits in memory).
enum FileHashing {
  static func hex<D: Sequence>(_ digest: D) -> String where D.Element == UInt8 {
    digest.map { String(format: "%02x", $0) }.joined()
  }

  static func forEachChunk(of file: URL, _ body: (Data) -> Void) throws {
    guard let handle = try? FileHandle(forReadingFrom: file) else {
      throw DownloadError.io(path: file.path, reason: "cannot read")
    }
    defer { try? handle.close() }
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty { body(chunk) }
  }

  static func sha256(of file: URL) throws -> String {
    var h = SHA256()
    try forEachChunk(of: file) { h.update(data: $0) }
    return hex(h.finalize())
  }

  static func md5(of file: URL) throws -> String {
    var h = Insecure.MD5()
    try forEachChunk(of: file) { h.update(data: $0) }
    return hex(h.finalize())
  }

  /// Git's blob id, sha1("blob <size>\0" + content): what the hub reports for files not stored in LFS.
  static func gitBlobSHA1(of file: URL) throws -> String {
    var h = Insecure.SHA1()
    h.update(data: Data("blob \(HTTPFetcher.size(of: file))\0".utf8))
    try forEachChunk(of: file) { h.update(data: $0) }
    return hex(h.finalize())
  }

  static func value(of file: URL, _ digest: FileDigest) throws -> String {
    switch digest {
    case .sha256: return try sha256(of: file)
    case .md5: return try md5(of: file)
    }
  }

  /// Throws `checksumMismatch` naming `url` when `file` does not match `digest`.
  static func verify(_ file: URL, _ digest: FileDigest, url: String) throws {
    let actual = try value(of: file, digest)
    guard actual == digest.hex else {
      throw DownloadError.checksumMismatch(url: url, algorithm: digest.algorithm, expected: digest.hex, actual: actual)
    }
  }
}
