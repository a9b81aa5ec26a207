import Foundation
import LTMPaths
import Yams

/// A checksum a file must match: its sha256, or an official MD5 where no sha256 is published.
public enum FileDigest: Equatable, Sendable {
  case sha256(String)
  case md5(String)

  public var algorithm: String {
    switch self {
    case .sha256: return "sha256"
    case .md5: return "md5"
    }
  }

  public var hex: String {
    switch self {
    case .sha256(let h), .md5(let h): return h
    }
  }
}

/// The archive a file is a member of (`url` then names the archive, not the file).
public struct ArchiveSource: Equatable, Sendable {
  public enum Format: String, Sendable { case zip, tarGz = "tar.gz" }
  public var format: Format
  public var member: String
  public var size: Int64?
  /// The archive's sha256; nil when the manifest says `unknown`.
  public var sha256: String?
}

/// One file of one dataset: where it lives in the cache (= its `--data-dir` path) and where it comes from.
public struct ManifestFile: Equatable, Sendable {
  public var dataset: String
  public var path: String
  public var split: String
  public var url: String
  public var size: Int64?
  /// Checksums of the file at `path` itself (sha256 first); empty when the manifest says `unknown`.
  public var digests: [FileDigest]
  public var archive: ArchiveSource?
  public var license: String
}

/// `tasks/download/datasets.yaml`: per dataset and split, the canonical source of every file.
public struct DatasetManifest: Sendable {
  public var files: [ManifestFile]
  public var names: [String]

  /// The manifest beside the task definitions.
  public static func location(tasksDirectory: URL) -> URL {
    tasksDirectory.appendingPathComponent("download").appendingPathComponent("datasets.yaml")
  }

  public static func load(file: URL) throws -> DatasetManifest {
    guard let text = try? String(contentsOf: file, encoding: .utf8) else {
      throw DownloadError.invalidManifest(file: file.path, reason: "not readable")
    }
    return try parse(text, file: file.path)
  }

  private struct RawArchive: Decodable {
    var format: String
    var member: String
    var size: Int64?
    var sha256: String
  }
  private struct RawFile: Decodable {
    var path: String
    var split: String
    var url: String
    var size: Int64?
    var sha256: String?
    var md5: String?
    var archive: RawArchive?
  }
  private struct RawDataset: Decodable {
    var description: String
    var license: String
    var files: [RawFile]
  }
  private struct Raw: Decodable {
    var version: Int
    var datasets: [String: RawDataset]
  }

  public static func parse(_ text: String, file: String) throws -> DatasetManifest {
    let raw: Raw
    do {
      raw = try YAMLDecoder().decode(Raw.self, from: text)
    } catch {
      throw DownloadError.invalidManifest(file: file, reason: String(describing: error).split(separator: "\n").joined(separator: " "))
    }
    guard raw.version == 1 else { throw DownloadError.invalidManifest(file: file, reason: "unsupported version \(raw.version)") }
    var files: [ManifestFile] = []
    for name in raw.datasets.keys.sorted() {
      let dataset = raw.datasets[name]!
      for f in dataset.files {
        let context = "\(name) \(f.path)"
        let path: RelativePath
        do { path = try RelativePath(validating: f.path) } catch {
          throw DownloadError.invalidManifest(file: file, reason: "\(context): \(error)")
        }
        guard !path.components.contains(where: { $0.hasPrefix(".") }) else {  // the cache's own .tmp folder
          throw DownloadError.invalidManifest(file: file, reason: "\(context): a path component starts with '.'")
        }
        guard let sha = f.sha256 else {
          throw DownloadError.invalidManifest(file: file, reason: "\(context): sha256 is required (write `unknown` when it is not known)")
        }
        var digests: [FileDigest] = []
        if let h = try checkedHex(sha, length: 64, context: "\(context) sha256", file: file) { digests.append(.sha256(h)) }
        if let m = f.md5, let h = try checkedHex(m, length: 32, context: "\(context) md5", file: file) { digests.append(.md5(h)) }
        var archive: ArchiveSource?
        if let a = f.archive {
          guard let format = ArchiveSource.Format(rawValue: a.format) else {
            throw DownloadError.invalidManifest(file: file, reason: "\(context): archive format '\(a.format)' (supported: zip, tar.gz)")
          }
          archive = ArchiveSource(
            format: format, member: a.member, size: a.size,
            sha256: try checkedHex(a.sha256, length: 64, context: "\(context) archive sha256", file: file))
        }
        guard URL(string: f.url)?.scheme.map({ ["http", "https"].contains($0) }) == true else {
          throw DownloadError.invalidManifest(file: file, reason: "\(context): url must be http(s): \(f.url)")
        }
        files.append(ManifestFile(
          dataset: name, path: f.path, split: f.split, url: f.url, size: f.size, digests: digests,
          archive: archive, license: dataset.license))
      }
    }
    // A URL is fetched once per call: several paths may share it only as members of one archive.
    for (url, sharing) in Dictionary(grouping: files, by: \.url) {
      let paths = Set(sharing.map(\.path))
      guard paths.count > 1 else { continue }
      let archives = Set(sharing.map { "\($0.archive?.format.rawValue ?? "none") \($0.archive?.sha256 ?? "unknown")" })
      guard sharing.allSatisfy({ $0.archive != nil }), archives.count == 1 else {
        throw DownloadError.invalidManifest(
          file: file, reason: "\(url) serves \(paths.sorted().joined(separator: ", ")): only members of one archive (same format and sha256) may share a URL")
      }
    }
    return DatasetManifest(files: files, names: raw.datasets.keys.sorted())
  }

  /// `unknown` → nil; otherwise the lower-cased hex, which must have `length` digits.
  private static func checkedHex(_ value: String, length: Int, context: String, file: String) throws -> String? {
    if value == "unknown" { return nil }
    let hex = value.lowercased()
    guard hex.count == length, hex.allSatisfy({ $0.isHexDigit }) else {
      throw DownloadError.invalidManifest(file: file, reason: "\(context): expected \(length) hex digits or `unknown`, got '\(value)'")
    }
    return hex
  }

  /// The files of `datasets` (every split, or only `split`), each cache path once, in manifest order.
  public func files(datasets: [String], split: String? = nil) throws -> [ManifestFile] {
    var chosen: [ManifestFile] = []
    var seen = Set<String>()
    for name in datasets {
      guard names.contains(name) else { throw DownloadError.unknownDataset(name: name, known: names) }
      let matching = files.filter { $0.dataset == name && (split == nil || $0.split == split) }
      if matching.isEmpty, let split { throw DownloadError.noFiles(dataset: name, split: split) }
      for f in matching where seen.insert(f.path).inserted { chosen.append(f) }
    }
    return chosen
  }
}
